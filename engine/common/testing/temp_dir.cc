#include "engine/common/testing/temp_dir.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common::testing {

namespace fs = std::filesystem;

namespace {

// Removes the scratch root when the program's tests all passed. Test
// processes ran many times (by hand, in CI, under sanitizers) each left
// their files behind before: hundreds of megabytes per run of the suite.
class ScratchCleanup : public ::testing::EmptyTestEventListener {
 public:
  explicit ScratchCleanup(std::string root) : root_(std::move(root)) {}

  void OnTestProgramEnd(const ::testing::UnitTest& unit_test) override {
    if (!unit_test.Passed()) {
      std::fprintf(stderr, "test scratch kept for inspection: %s\n",
                   root_.c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
    if (ec) {
      std::fprintf(stderr, "cannot remove test scratch %s: %s\n",
                   root_.c_str(), ec.message().c_str());
    }
  }

 private:
  const std::string root_;
};

}  // namespace

std::string ScratchRoot() {
  // Made once per process; the listener is gtest's to delete.
  static const std::string* const root = [] {
    auto* dir = new std::string(
        absl::StrCat(::testing::TempDir(), "hs_", ::getpid()));
    std::error_code ec;
    fs::remove_all(*dir, ec);  // a process of the same pid, long gone
    ::testing::UnitTest::GetInstance()->listeners().Append(
        new ScratchCleanup(*dir));
    return dir;
  }();
  std::error_code ec;
  fs::create_directories(*root, ec);
  if (ec) ADD_FAILURE() << "cannot create " << *root << ": " << ec.message();
  return *root;
}

std::string ScratchDir(const std::string& name) {
  const std::string dir = absl::StrCat(ScratchRoot(), "/", name);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) ADD_FAILURE() << "cannot create " << dir << ": " << ec.message();
  return dir;
}

std::string ScratchFile(const std::string& name) {
  return absl::StrCat(ScratchRoot(), "/", name);
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace healthscore::engine::common::testing
