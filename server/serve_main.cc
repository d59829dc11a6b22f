#include "server/serve_main.h"

#include <pthread.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "server/build_info.h"
#include "server/log.h"
#include "server/options.h"
#include "server/runtime.h"
#include "server/server.h"

namespace healthscore::server {
namespace {

// Writes the port to a temporary file and renames it into place, so a
// reader never sees a partial file.
absl::Status WritePortFile(const std::string& path, int port) {
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) {
      return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(absl::StrCat("cannot create ", path));
  }
  return absl::OkStatus();
}

const char* SignalName(int sig) {
  return sig == SIGTERM  ? "SIGTERM"
         : sig == SIGINT ? "SIGINT"
         : sig == SIGHUP ? "SIGHUP"
                         : "signal";
}

// What the main loop waits for: signals, and the outcome of the first load,
// in the order they happen.
class Events {
 public:
  struct Event {
    int signal = 0;                      // or
    std::optional<absl::Status> loaded;  // the first load's outcome
  };
  void Push(Event e) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(e));
  }
  Event Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::deque<Event>* q) { return !q->empty(); }, &queue_));
    Event e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }

 private:
  absl::Mutex mu_;
  std::deque<Event> queue_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int ServeMain(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::string program = "healthscore serve";
  if (!args.empty() && args[0] != "serve") {
    program = std::filesystem::path(args[0]).filename().string();
  }
  absl::StatusOr<ServeArgs> parsed = ParseServeArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\nRun '%s --help' for the flags.\n",
                 program.c_str(), std::string(parsed.status().message()).c_str(),
                 program.c_str());
    return 2;
  }
  if (parsed->help) {
    std::fputs(ServeUsage(program).c_str(), stdout);
    std::fputs(absl::StrCat("\nVersion: healthscore ", VersionLine(), "\n")
                   .c_str(),
               stdout);
    return 0;
  }
  if (parsed->version) {
    std::fputs(VersionText().c_str(), stdout);
    return 0;
  }
  const ServerOptions& options = parsed->options;

  // Before any thread exists, so that every thread inherits the mask and
  // only the signal thread's sigwait() below receives these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

#if defined(__GLIBC__)
  // Blocks of 1 MiB or more (a large call's request bytes, the chunks of
  // its serialised response) are mapped and unmapped on their own, so
  // their memory goes back to the system when they are freed, whichever
  // thread frees them. Left to itself glibc raises this threshold after
  // the first large free and serves such blocks from the threads' malloc
  // arenas, whose free top malloc_trim does not hand back: the response of
  // one 20 MB call stayed resident (tests/server_memory_test). Not lower:
  // setting it also fixes glibc's trim threshold at 128 KiB, and at 256 KiB
  // a 1,024-account map-form call's buffers were mapped, faulted in and
  // unmapped on every call (188,000 page faults in 5 s against 105,000).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // ...and raise the trim threshold again, above one batch's working set:
  // at 128 KiB every free that left 128 KiB at the top of a thread's heap
  // handed the pages back (madvise, a TLB shootdown on every core) and the
  // next call faulted them in again, which cost a third of the server's CPU
  // on 1,024-account batches (bench/README.md, "Map form"); 2 MiB already
  // gives all of the gain. Not higher: malloc_trim does not hand back the
  // free top of a thread's arena, only this threshold does, so each arena
  // keeps up to this much for good; at 16 MiB a 20 MB call left 30 MB
  // resident after it (tests/server_memory_test).
  mallopt(M_TRIM_THRESHOLD, 2 << 20);
#endif

  std::error_code ec;
  if (!std::filesystem::is_directory(options.models_dir, ec)) {
    LogError(absl::StrCat("cannot start: model directory ", options.models_dir,
                          " does not exist or is not a directory"));
    return 1;
  }
  if (std::filesystem::is_directory(options.plugins_dir, ec)) {
    LogInfo(absl::StrCat("plugin directory ", options.plugins_dir,
                         ": models load their plugins from it"));
  } else if (options.plugins_dir_explicit) {
    std::fprintf(stderr, "%s: --plugins: %s is not a directory\n",
                 program.c_str(), options.plugins_dir.c_str());
    return 2;
  } else if (options.plugins_dir.empty()) {
    LogInfo("no plugin directory (pass --plugins DIR): models with plugins "
            "will not load");
  } else {
    LogInfo(absl::StrCat("no plugin directory (", options.plugins_dir,
                         " does not exist): models with plugins will not "
                         "load"));
  }

  LogInfo(absl::StrFormat(
      "healthscore server %s starting (commit %s, plugin ABI %s, gRPC %s, "
      "protobuf %s): listen %s, models %s (default %s), "
      "%d scoring threads, max %d accounts per request, max message %d "
      "bytes, max %d requests / %d accounts in progress, max %d "
      "validations at once (%s each, models up to %d bytes)%s",
      GetBuildInfo().version, GetBuildInfo().commit, GetBuildInfo().plugin_abi,
      GetBuildInfo().grpc, GetBuildInfo().protobuf, options.listen,
      options.models_dir,
      options.default_model, ResolveThreads(options.threads),
      options.max_accounts_per_request, options.max_message_bytes,
      options.max_concurrent_requests, options.max_pending_accounts,
      options.max_concurrent_validations,
      absl::FormatDuration(options.validation_timeout), options.max_model_bytes,
      parsed->config_file.empty()
          ? ""
          : absl::StrCat(", config ", parsed->config_file)));

  if (std::string warning = PlaintextListenWarning(options);
      !warning.empty()) {
    LogWarning(warning);
  }
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  if (!server.ok()) {
    LogError(absl::StrCat("cannot start: ", server.status().message()));
    return 1;
  }
  LogInfo(absl::StrCat("listening on ", (*server)->address(),
                       " (health NOT_SERVING until the models load)"));
  if ((*server)->metrics_port() > 0) {
    LogInfo(absl::StrCat("metrics on ",
                         options.metrics_tls ? "https://" : "http://",
                         (*server)->metrics_address(), "/metrics"));
  }
  // From here on a thread of its own takes the signals, and this thread
  // waits for them and for the first load at once: a SIGTERM is honoured at
  // any moment, while the models load too. The signal thread blocks in
  // sigwait until the process exits; it touches nothing but `events`.
  auto events = std::make_shared<Events>();
  std::thread([events, signals] {
    int sig = 0;
    for (;;) {
      if (sigwait(&signals, &sig) == 0) events->Push({sig, std::nullopt});
    }
  }).detach();
  Server* s = server->get();
  // Returns once the load is done, or abandoned by Shutdown.
  std::thread loader([s, events] { events->Push({0, s->LoadModels()}); });

  // The gRPC port file is written last: a supervisor that waits for it
  // finds every other port file already in place.
  const std::pair<const std::string*, int> port_files[] = {
      {&options.metrics_port_file, (*server)->metrics_port()},
      {&options.port_file, (*server)->port()}};
  bool serving = false;
  int exit_code = 0;
  while (exit_code == 0) {
    Events::Event e = events->Next();
    if (e.loaded.has_value()) {
      if (!e.loaded->ok()) {
        exit_code = 1;  // LoadModels logged why
        break;
      }
      for (const auto& [file, port] : port_files) {
        if (file->empty()) continue;
        absl::Status written = WritePortFile(*file, port);
        if (!written.ok()) {
          LogError(std::string(written.message()));
          exit_code = 1;
        }
      }
      if (exit_code != 0) break;
      serving = true;
      LogInfo(absl::StrCat("serving on ", s->address()));
      continue;
    }
    if (e.signal == SIGHUP) {
      // Coalesced on the reload thread: a burst of signals makes at most
      // one reload after the one in progress.
      const bool queued = s->RequestReload();
      LogInfo(absl::StrCat(
          "received SIGHUP: ",
          !queued   ? "a reload is already queued; it will see this change"
          : serving ? "reload queued"
                    : "reload queued after the first load"));
      continue;
    }
    LogInfo(absl::StrCat("received ", SignalName(e.signal),
                         serving ? ""
                                 : " while the models load: the load is "
                                   "abandoned"));
    break;
  }
  if (exit_code != 0) {
    s->Shutdown(absl::ZeroDuration(), absl::ZeroDuration());
  } else {
    s->Shutdown();
  }
  loader.join();
  for (const auto& [file, port] : port_files) {
    if (!file->empty()) std::remove(file->c_str());
  }
  if (s->abandoned_work()) {
    // Threads still run what could not be stopped (server.h); destructors
    // and exit handlers must not run under them.
    LogWarning(
        absl::StrCat("exiting with abandoned work still running "
                     "(exit code ",
                     exit_code, ")"));
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(exit_code);
  }
  return exit_code;
}

}  // namespace healthscore::server
