#include "cli/paths.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::cli {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace fs = std::filesystem;

// A tree with models and tests in nested and hidden directories.
std::string MakeTree() {
  const fs::path root =
      ::healthscore::engine::common::testing::ScratchDir("paths_test");
  for (const char* dir : {"b/1", "a", ".git/x", "c"}) {
    fs::create_directories(root / dir);
  }
  for (const char* file : {"b/1/model.yaml", "b/1/tests.yaml", "a/model.yaml",
                           ".git/x/model.yaml", "c/other.yaml"}) {
    std::ofstream(root / file) << "x: 1\n";
  }
  return root.string();
}

TEST(PathsTest, FindsModelsRecursivelySortedSkippingHiddenDirs) {
  std::string root = MakeTree();
  ASSERT_OK_AND_ASSIGN(auto models, FindModelFiles(root));
  EXPECT_THAT(models,
              ElementsAre(root + "/a/model.yaml", root + "/b/1/model.yaml"));
  ASSERT_OK_AND_ASSIGN(auto none, FindModelFiles(root + "/c"));
  EXPECT_THAT(none, IsEmpty());
}

TEST(PathsTest, AcceptsAnyYamlGivenDirectlyButNotTests) {
  std::string root = MakeTree();
  ASSERT_OK_AND_ASSIGN(auto models, FindModelFiles(root + "/c/other.yaml"));
  EXPECT_THAT(models, ElementsAre(root + "/c/other.yaml"));
  EXPECT_THAT(FindModelFiles(root + "/b/1/tests.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is a test file; run `healthscore test")));
  EXPECT_THAT(FindModelFiles(root + "/nope"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no such file or directory")));
}

TEST(PathsTest, FindsTests) {
  std::string root = MakeTree();
  ASSERT_OK_AND_ASSIGN(auto tests, FindTestFiles(root));
  EXPECT_THAT(tests, ElementsAre(root + "/b/1/tests.yaml"));
  ASSERT_OK_AND_ASSIGN(tests, FindTestFiles(root + "/b/1/tests.yaml"));
  EXPECT_THAT(tests, ElementsAre(root + "/b/1/tests.yaml"));
  ASSERT_OK_AND_ASSIGN(tests, FindTestFiles(root + "/b/1/model.yaml"));
  EXPECT_THAT(tests, ElementsAre(root + "/b/1/tests.yaml"));
  EXPECT_THAT(FindTestFiles(root + "/a/model.yaml"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("a/model.yaml has no tests.yaml beside it")));
}

TEST(PathsTest, ResolvesModelDirectories) {
  std::string root = MakeTree();
  EXPECT_EQ(*ResolveModelPath(root + "/a"), root + "/a/model.yaml");
  EXPECT_EQ(*ResolveModelPath(root + "/c/other.yaml"), root + "/c/other.yaml");
  EXPECT_THAT(ResolveModelPath(root + "/c"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("has neither a model.yaml nor numbered "
                                 "version directories")));
}

TEST(PathsTest, ResolvesTheLatestNumberedVersion) {
  std::string root = MakeTree();
  // Versions compare as numbers (10 after 9), and a version directory
  // without a model.yaml does not count.
  for (const char* dir : {"b/9", "b/10", "b/11", "b/latest"}) {
    fs::create_directories(fs::path(root) / dir);
  }
  for (const char* file : {"b/9/model.yaml", "b/10/model.yaml",
                           "b/latest/model.yaml"}) {
    std::ofstream(fs::path(root) / file) << "name: x\n";
  }
  EXPECT_EQ(*ResolveModelPath(root + "/b"), root + "/b/10/model.yaml");
}

}  // namespace
}  // namespace healthscore::cli
