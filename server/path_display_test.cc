#include "server/path_display.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

TEST(PathDisplayTest, ModelPathsBecomeRelativeToTheModelDirectory) {
  const std::string cwd = std::filesystem::current_path().string();
  PathDisplay paths("rules", "/opt/hs/plugins/");
  EXPECT_EQ(paths.Apply("rules/default/2/model.yaml:5:1: error: invalid YAML"),
            "default/2/model.yaml:5:1: error: invalid YAML");
  // The absolute form of a relative directory too.
  EXPECT_EQ(paths.Apply(cwd + "/rules/default/2/model.yaml: not found"),
            "default/2/model.yaml: not found");
  EXPECT_EQ(paths.Apply("reload of " + cwd + "/rules failed; '" + cwd +
                        "/rules' is empty"),
            "reload of . failed; '.' is empty");
  EXPECT_EQ(
      paths.Apply("plugin library 'nps': '/opt/hs/plugins/libhs_nps.so': "
                  "dlopen /opt/hs/plugins/libhs_nps.so failed"),
      "plugin library 'nps': 'libhs_nps.so': dlopen libhs_nps.so failed");
}

TEST(PathDisplayTest, OnlyWholePathComponentsMatch) {
  PathDisplay paths("rules", "");
  EXPECT_EQ(paths.Apply("myrules/a.yaml, rules2/b.yaml, x/rules/c.yaml"),
            "myrules/a.yaml, rules2/b.yaml, x/rules/c.yaml");
  // A relative directory alone is left: it may be a word of the message.
  EXPECT_EQ(paths.Apply("the rules of the model"), "the rules of the model");
}

TEST(PathDisplayTest, RootAndEmptyDirectoriesRewriteNothing) {
  PathDisplay none;
  EXPECT_EQ(none.Apply("/etc/passwd"), "/etc/passwd");
  PathDisplay root("/", "");
  EXPECT_EQ(root.Apply("/a/b"), "/a/b");
}

}  // namespace
}  // namespace healthscore::server
