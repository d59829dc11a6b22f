#include "server/serve_main.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/log.h"
#include "server/options.h"
#include "server/runtime.h"
#include "server/server.h"

#ifndef HEALTHSCORE_VERSION
#define HEALTHSCORE_VERSION "dev"
#endif

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
    return 0;
  }
  const ServerOptions& options = parsed->options;

  // Before any thread exists, so that every thread inherits the mask and
  // only sigwait() below receives these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

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
  } else {
    LogInfo(absl::StrCat("no plugin directory (", options.plugins_dir,
                         " does not exist): models with plugins will not "
                         "load"));
  }

  LogInfo(absl::StrFormat(
      "healthscore server %s starting: listen %s, models %s (default %s), "
      "%d scoring threads, max %d accounts per request, max message %d "
      "bytes, max %d requests / %d accounts in progress%s",
      HEALTHSCORE_VERSION, options.listen, options.models_dir,
      options.default_model, ResolveThreads(options.threads),
      options.max_accounts_per_request, options.max_message_bytes,
      options.max_concurrent_requests, options.max_pending_accounts,
      parsed->config_file.empty()
          ? ""
          : absl::StrCat(", config ", parsed->config_file)));

  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  if (!server.ok()) {
    LogError(absl::StrCat("cannot start: ", server.status().message()));
    return 1;
  }
  LogInfo(absl::StrCat("listening on ", (*server)->address(),
                       " (health NOT_SERVING until the models load)"));
  if ((*server)->metrics_port() > 0) {
    LogInfo(absl::StrCat("metrics on http://", (*server)->metrics_address(),
                         "/metrics"));
  }
  absl::Status loaded = (*server)->LoadModels();
  if (!loaded.ok()) {
    (*server)->Shutdown(absl::ZeroDuration(), absl::ZeroDuration());
    return 1;
  }
  const std::pair<const std::string*, int> port_files[] = {
      {&options.port_file, (*server)->port()},
      {&options.metrics_port_file, (*server)->metrics_port()}};
  for (const auto& [file, port] : port_files) {
    if (file->empty()) continue;
    absl::Status written = WritePortFile(*file, port);
    if (!written.ok()) {
      LogError(std::string(written.message()));
      (*server)->Shutdown(absl::ZeroDuration(), absl::ZeroDuration());
      return 1;
    }
  }
  LogInfo(absl::StrCat("serving on ", (*server)->address()));

  // SIGHUP reloads the models on a thread of its own, so that this loop
  // keeps taking signals (a SIGTERM during a long reload still shuts down).
  // Reloads are serialised by the repository; a SIGHUP while one runs
  // starts another once it finishes, which picks up any later change.
  std::vector<std::thread> reloads;
  int sig = 0;
  while (true) {
    if (sigwait(&signals, &sig) != 0) continue;
    LogInfo(absl::StrCat("received ", SignalName(sig)));
    if (sig != SIGHUP) break;
    Server* s = server->get();
    reloads.emplace_back([s] { s->ReloadModels(); });
  }
  (*server)->Shutdown();
  for (std::thread& t : reloads) t.join();
  for (const auto& [file, port] : port_files) {
    if (!file->empty()) std::remove(file->c_str());
  }
  return 0;
}

}  // namespace healthscore::server
