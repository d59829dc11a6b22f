// A test program for temp_dir_test.cc (not registered with CTest): writes
// a scratch directory and a scratch file, checks they exist, and fails on
// purpose when HS_SCRATCH_PROBE_FAIL is set, so the test can see what the
// scratch cleanup leaves behind either way.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common::testing {
namespace {

namespace fs = std::filesystem;

TEST(ScratchProbe, WritesScratch) {
  const std::string dir = ScratchDir("probe");
  std::ofstream(fs::path(dir) / "inside.txt") << "kept?";
  const std::string file = ScratchFile("file.txt");
  std::ofstream(file) << "kept?";
  EXPECT_EQ(ReadFile(fs::path(dir) / "inside.txt"), "kept?");
  EXPECT_EQ(ReadFile(file), "kept?");
  EXPECT_EQ(fs::path(file).parent_path(), fs::path(ScratchRoot()));
  EXPECT_EQ(fs::path(dir).parent_path(), fs::path(ScratchRoot()));
  EXPECT_EQ(std::getenv("HS_SCRATCH_PROBE_FAIL"), nullptr)
      << "failing on purpose";
}

}  // namespace
}  // namespace healthscore::engine::common::testing
