// The documentation's examples run: every fenced block preceded by
// `<!-- doc-test: PATH -->` in README.md or docs/*.md is written to PATH
// inside a temporary model repository, which must then pass
// `healthscore validate` and `healthscore test` (with at least one case).

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Block {
  std::string doc;
  std::string path;
  std::string text;
};

std::vector<Block> MarkedBlocks() {
  std::vector<fs::path> docs = {fs::path(HEALTHSCORE_SOURCE_DIR) / "README.md"};
  for (const auto& e :
       fs::directory_iterator(fs::path(HEALTHSCORE_SOURCE_DIR) / "docs")) {
    if (e.path().extension() == ".md") docs.push_back(e.path());
  }
  const std::regex marker(R"(^<!-- doc-test: (\S+) -->$)");
  std::vector<Block> blocks;
  for (const auto& doc : docs) {
    std::ifstream in(doc);
    std::string line, pending;
    bool inside = false;
    Block current;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!inside && std::regex_match(line, m, marker)) {
        pending = m[1];
      } else if (!inside && line.rfind("```", 0) == 0 && !pending.empty()) {
        inside = true;
        current = {doc.filename().string(), pending, ""};
        pending.clear();
      } else if (inside && line.rfind("```", 0) == 0) {
        inside = false;
        blocks.push_back(current);
      } else if (inside) {
        current.text += line + "\n";
      }
    }
  }
  return blocks;
}

// Runs a command, returning its exit code and combined output.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  output->clear();
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(DocsExamplesTest, MarkedModelsValidateAndTheirTestsPass) {
  const std::vector<Block> blocks = MarkedBlocks();
  // The model authors' guide carries at least its walk-through model and
  // its test cases.
  ASSERT_GE(blocks.size(), 2u);
  const fs::path root =
      ::healthscore::engine::common::testing::ScratchDir("docs");
  for (const Block& b : blocks) {
    SCOPED_TRACE(b.doc + ": " + b.path);
    ASSERT_EQ(b.path.find(".."), std::string::npos);
    fs::create_directories((root / b.path).parent_path());
    std::ofstream(root / b.path) << b.text;
  }
  const std::string cli = HEALTHSCORE_BINARY_DIR "/cli/healthscore";
  std::string out;
  EXPECT_EQ(RunCommand(cli + " validate " + root.string(), &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(" 0 errors, 0 warnings"));
  EXPECT_EQ(RunCommand(cli + " test --fail-on-empty " + root.string(), &out), 0)
      << out;
  EXPECT_THAT(out, HasSubstr(" passed, 0 failed"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace healthscore
