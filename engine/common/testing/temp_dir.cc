#include "engine/common/testing/temp_dir.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common::testing {

namespace fs = std::filesystem;

std::string ScratchDir(const std::string& name) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "hs_", name, "_", ::getpid());
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) ADD_FAILURE() << "cannot create " << dir << ": " << ec.message();
  return dir;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace healthscore::engine::common::testing
