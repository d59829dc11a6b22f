#include "engine/common/install_layout.h"

#include <filesystem>
#include <string>

#include "engine/common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;

InstallLayout Layout(const fs::path& build) {
  return InstallLayout{"bin", "lib", "share", build.string(),
                       (build / "plugins/lib").string(),
                       (build / "lib").string()};
}

TEST(InstallLayoutTest, InstalledPrefixGivesItsPluginsAndModels) {
  const fs::path prefix = ScratchDir("layout_installed");
  fs::create_directories(prefix / "bin");
  fs::create_directories(prefix / "share/healthscore/models");
  const DataDirs dirs =
      DataDirsFor(prefix / "bin/healthscore", Layout("/nonexistent/build"));
  EXPECT_TRUE(dirs.installed);
  EXPECT_EQ(dirs.models, (prefix / "share/healthscore/models").string());
  EXPECT_EQ(dirs.plugins, (prefix / "lib/healthscore/plugins").string());
  EXPECT_EQ(dirs.libraries, (prefix / "lib/healthscore").string());
}

TEST(InstallLayoutTest, MultiarchLibdirAndNestedBindir) {
  const fs::path prefix = ScratchDir("layout_multiarch");
  fs::create_directories(prefix / "x/bin");
  fs::create_directories(prefix / "share/healthscore");
  InstallLayout layout = Layout("/nonexistent/build");
  layout.bindir = "x/bin";
  layout.libdir = "lib/x86_64-linux-gnu";
  const DataDirs dirs = DataDirsFor(prefix / "x/bin/healthscore", layout);
  EXPECT_TRUE(dirs.installed);
  EXPECT_EQ(dirs.plugins,
            (prefix / "lib/x86_64-linux-gnu/healthscore/plugins").string());
}

// A bin/ without share/healthscore beside it is not an installation.
TEST(InstallLayoutTest, BinWithoutDataIsNotAnInstallation) {
  const fs::path prefix = ScratchDir("layout_bare_bin");
  fs::create_directories(prefix / "bin");
  const DataDirs dirs =
      DataDirsFor(prefix / "bin/healthscore", Layout("/nonexistent/build"));
  EXPECT_FALSE(dirs.installed);
  EXPECT_EQ(dirs.models, "rules");
  EXPECT_EQ(dirs.plugins, "");
}

TEST(InstallLayoutTest, BuildTreeGivesItsPluginsAndRelativeRules) {
  const fs::path build = ScratchDir("layout_build");
  fs::create_directories(build / "cli");
  fs::create_directories(build / "plugins/lib");
  const DataDirs dirs = DataDirsFor(build / "cli/healthscore", Layout(build));
  EXPECT_FALSE(dirs.installed);
  EXPECT_EQ(dirs.models, "rules");
  EXPECT_EQ(dirs.plugins, (build / "plugins/lib").string());
  EXPECT_EQ(dirs.libraries, (build / "lib").string());
}

TEST(InstallLayoutTest, BuildTreeWithoutBuiltPluginsHasNone) {
  const fs::path build = ScratchDir("layout_build_no_plugins");
  fs::create_directories(build / "cli");
  const DataDirs dirs = DataDirsFor(build / "cli/healthscore", Layout(build));
  EXPECT_EQ(dirs.plugins, "");
}

// A copy of the program outside both trees finds nothing by default.
TEST(InstallLayoutTest, ProgramOutsideBothTreesHasNoPlugins) {
  const fs::path build = ScratchDir("layout_build_other");
  fs::create_directories(build / "plugins/lib");
  const fs::path elsewhere = ScratchDir("layout_elsewhere");
  const DataDirs dirs = DataDirsFor(elsewhere / "healthscore", Layout(build));
  EXPECT_FALSE(dirs.installed);
  EXPECT_EQ(dirs.plugins, "");
  EXPECT_EQ(dirs.libraries, "");
  EXPECT_EQ(dirs.models, "rules");
}

// This test binary is built in the build tree (build/engine/...).
TEST(InstallLayoutTest, RunningTestBinaryIsInTheBuildTree) {
  const DataDirs& dirs = DefaultDataDirs();
  EXPECT_FALSE(dirs.installed);
  EXPECT_EQ(dirs.models, "rules");
  EXPECT_EQ(ConfiguredLayout().build_dir, HEALTHSCORE_BINARY_DIR);
  EXPECT_EQ(ConfiguredLayout().build_plugin_dir,
            std::string(HEALTHSCORE_BINARY_DIR) + "/plugins/lib");
}

}  // namespace
}  // namespace healthscore::engine::common
