#include "engine/common/testing/temp_dir.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct ProbeRun {
  int exit_code = -1;
  std::string err;
  std::vector<fs::path> left;  // what the run left in its TEST_TMPDIR
};

// Runs scratch_probe.cc's program with its own TEST_TMPDIR (inside this
// test's scratch) and lists what it left there.
ProbeRun RunProbe(const std::string& name, bool fail) {
  const std::string tmp = ScratchDir(name);
  const std::string err = ScratchFile(name + ".err");
  const std::string command =
      "TEST_TMPDIR='" + tmp + "' " + (fail ? "HS_SCRATCH_PROBE_FAIL=1 " : "") +
      "'" + HEALTHSCORE_SCRATCH_PROBE + "' >/dev/null 2>'" + err + "'";
  const int status = std::system(command.c_str());
  ProbeRun run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err);
  for (const auto& entry : fs::recursive_directory_iterator(tmp)) {
    run.left.push_back(fs::relative(entry.path(), tmp));
  }
  return run;
}

TEST(ScratchTest, APassingProgramLeavesNothing) {
  const ProbeRun run = RunProbe("passing", /*fail=*/false);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.left, ::testing::IsEmpty());
  EXPECT_THAT(run.err, ::testing::Not(HasSubstr("scratch")));
}

TEST(ScratchTest, AFailingProgramKeepsItsScratchAndSaysWhere) {
  const ProbeRun run = RunProbe("failing", /*fail=*/true);
  EXPECT_EQ(run.exit_code, 1);
  // hs_<pid>, its file and its directory with the file inside.
  ASSERT_EQ(run.left.size(), 4u) << run.err;
  std::vector<std::string> names;
  for (const fs::path& p : run.left) names.push_back(p.filename().string());
  EXPECT_THAT(names, ::testing::UnorderedElementsAre(
                         ::testing::StartsWith("hs_"), "file.txt", "probe",
                         "inside.txt"));
  fs::path root;
  for (const fs::path& p : run.left) {
    if (!p.has_parent_path()) root = p;
  }
  EXPECT_THAT(run.err, HasSubstr("test scratch kept for inspection: "));
  EXPECT_THAT(run.err, HasSubstr(root.string()));
}

}  // namespace
}  // namespace healthscore::engine::common::testing
