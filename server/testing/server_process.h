// Test support: the healthscore-server binary run as a child process, for
// the tests that exercise the real program (flags, signals, exit codes, log
// lines, port files). Header-only; test code only.

#ifndef HEALTHSCORE_SERVER_TESTING_SERVER_PROCESS_H_
#define HEALTHSCORE_SERVER_TESTING_SERVER_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/testing/test_server.h"

extern char** environ;

namespace healthscore::server::testing {

#ifndef HEALTHSCORE_BINARY_DIR
#error "tests are compiled with HEALTHSCORE_BINARY_DIR"
#endif

// The healthscore-server binary, run as a child process.
// Killed (SIGKILL) on destruction if still running.
class ServerProcess {
 public:
  static std::string Binary() {
    return absl::StrCat(HEALTHSCORE_BINARY_DIR, "/server/healthscore-server");
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `binary` (the build tree's healthscore-server by default; an
  // installed one in tests/install_test.cc) with `args`; stdout and stderr
  // go to files in `dir`.
  bool Spawn(const std::string& dir, const std::vector<std::string>& args,
             const std::string& binary = Binary()) {
    out_ = dir + "/stdout.txt";
    err_ = dir + "/stderr.txt";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, all[0].c_str(), &actions, nullptr, argv.data(),
                         environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0;
  }

  // Waits for the port file the server writes once SERVING; 0 if the
  // process exited first.
  int WaitForPort(const std::string& port_file) {
    int port = 0;
    WaitFor([&] {
      std::string text = ReadFile(port_file);
      if (!text.empty()) port = std::atoi(text.c_str());
      return port > 0 || Exited();
    });
    return port;
  }

  bool Exited() {
    if (exited_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
      pid_ = -1;
    }
    return exited_;
  }

  // Waits for the process to exit; its exit code, or -signal.
  int Wait() {
    if (!exited_) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exited_ = true;
      status_ = status;
      pid_ = -1;
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return -WTERMSIG(status_);
  }

  // No-op once the process was waited for (kill(-1) would signal every
  // process of the user).
  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // The child's process id; -1 once it was waited for.
  pid_t pid() const { return pid_; }
  // Waits up to `limit` for the process to exit; false if it did not (a
  // hang: the caller fails the test, and the destructor kills it).
  bool WaitForExit(absl::Duration limit = absl::Seconds(60)) {
    return WaitFor([this] { return Exited(); }, limit);
  }
  // A field of /proc/PID/status in kB or as a count (VmRSS, VmSize,
  // Threads); -1 when it cannot be read.
  int64_t StatusField(const std::string& name) const {
    std::ifstream in(absl::StrCat("/proc/", pid_, "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name + ":", 0) == 0) {
        return std::atoll(line.c_str() + name.size() + 1);
      }
    }
    return -1;
  }
  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }
  // The lines of err() that the server logged as errors ("...Z E ...").
  std::vector<std::string> ErrorLines() const {
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(err(), '\n')) {
      if (absl::StrContains(line, "Z E ")) lines.emplace_back(line);
    }
    return lines;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string out_, err_;
};

}  // namespace healthscore::server::testing

#endif  // HEALTHSCORE_SERVER_TESTING_SERVER_PROCESS_H_
