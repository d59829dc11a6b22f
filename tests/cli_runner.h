// Runs the real `healthscore` binary for integration tests (test-only).

#ifndef HEALTHSCORE_TESTS_CLI_RUNNER_H_
#define HEALTHSCORE_TESTS_CLI_RUNNER_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore::testing {

inline constexpr char kCliBinary[] = HEALTHSCORE_BINARY_DIR "/cli/healthscore";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A path for a scratch file of this test process (removed with the
// process's scratch when every test passed; engine/common/testing/
// temp_dir.h).
inline std::filesystem::path TempPath(const std::string& name) {
  return engine::common::testing::ScratchFile(name);
}

// Runs `healthscore ARGS` from the repository root through the shell (so
// ARGS may hold redirections) and captures its exit code and output.
inline CliResult RunCli(const std::string& args) {
  static int counter = 0;
  ++counter;
  const std::filesystem::path out = TempPath("out" + std::to_string(counter));
  const std::filesystem::path err = TempPath("err" + std::to_string(counter));
  const std::string command = std::string("cd '") + HEALTHSCORE_SOURCE_DIR +
                              "' && '" + kCliBinary + "' " + args + " >'" +
                              out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(command.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = engine::common::testing::ReadFile(out);
  r.err = engine::common::testing::ReadFile(err);
  return r;
}

inline std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

}  // namespace healthscore::testing

#endif  // HEALTHSCORE_TESTS_CLI_RUNNER_H_
