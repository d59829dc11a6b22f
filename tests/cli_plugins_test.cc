// Where the `healthscore` commands find plugins: --plugins, else
// $HEALTHSCORE_PLUGIN_PATH, else the build tree's (or an installation's)
// plugin directory (cli/plugins.h, engine/common/install_layout.h). The
// README's tour runs `validate rules` and `test rules` with no flag. The
// installed program is tested in install_test.cc.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kEnv[] = "HEALTHSCORE_PLUGIN_PATH";

// Each command that compiles a model, on rules/plugin_example (which loads
// the nps and usage_anomaly plugins).
const std::vector<std::string>& PluginCommands() {
  static const auto* commands = new std::vector<std::string>{
      "validate rules/plugin_example",
      "test rules/plugin_example",
      "lint rules/plugin_example",
      "diff --live rules/plugin_example --candidate rules/plugin_example "
      "--input rules/testdata/sample_accounts.jsonl",
      "score --model rules/plugin_example "
      "--input rules/testdata/sample_accounts.jsonl --output /dev/null",
      "bench --model rules/plugin_example "
      "--input rules/testdata/sample_accounts.jsonl --repetitions 1",
  };
  return *commands;
}

class CliPluginsTest : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv(kEnv); }
  void TearDown() override { ::unsetenv(kEnv); }
};

TEST_F(CliPluginsTest, BuildTreeFindsItsPluginsWithoutFlags) {
  CliResult validate = RunCli("validate rules");
  EXPECT_EQ(validate.exit_code, 0) << validate.out << validate.err;
  EXPECT_THAT(validate.out,
              HasSubstr("ok: rules/plugin_example/1/model.yaml (model "
                        "plugin_example, version 1)\n3 models checked: 3 ok, "
                        "0 failed; 0 errors, 0 warnings\n"));
  CliResult test = RunCli("test rules");
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_THAT(test.out, HasSubstr(" passed, 0 failed\n"));
  for (const std::string& command : PluginCommands()) {
    CliResult r = RunCli(command);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.out << r.err;
  }
}

// Every command reads the variable (lint ignored it once): a directory
// that does not exist is a usage error naming the variable.
TEST_F(CliPluginsTest, EveryCommandHonoursThePluginPathVariable) {
  ::setenv(kEnv, "/nonexistent/hs-plugins", 1);
  for (const std::string& command : PluginCommands()) {
    CliResult r = RunCli(command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.out << r.err;
    EXPECT_THAT(r.err,
                HasSubstr("$HEALTHSCORE_PLUGIN_PATH: plugin directory "
                          "'/nonexistent/hs-plugins' does not exist"))
        << command;
  }
}

// The variable replaces the default directory, it does not add to it.
TEST_F(CliPluginsTest, VariableReplacesTheDefaultDirectory) {
  const std::string empty = engine::common::testing::ScratchDir("no_plugins");
  ::setenv(kEnv, empty.c_str(), 1);
  for (const std::string& command : PluginCommands()) {
    CliResult r = RunCli(command);
    EXPECT_EQ(r.exit_code, 1) << command << "\n" << r.out << r.err;
    EXPECT_THAT(r.out + r.err,
                HasSubstr(absl::StrCat("plugin library 'nps' not found; "
                                       "looked for: ",
                                       empty, "/libhs_nps.so")))
        << command;
  }
}

// --plugins wins over the variable, for lint as for the others.
TEST_F(CliPluginsTest, FlagWinsOverTheVariable) {
  ::setenv(kEnv, "/nonexistent/hs-plugins", 1);
  const std::string flag =
      absl::StrCat(" --plugins '", HEALTHSCORE_BINARY_DIR, "/plugins/lib'");
  for (const std::string& command : PluginCommands()) {
    CliResult r = RunCli(command + flag);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.out << r.err;
  }
}

// An empty variable counts as unset.
TEST_F(CliPluginsTest, EmptyVariableMeansTheDefault) {
  ::setenv(kEnv, "", 1);
  CliResult r = RunCli("lint rules/plugin_example");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CliPluginsTest, VersionIsListedInTheHelp) {
  CliResult help = RunCli("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("`healthscore --version` for the version"));
  CliResult version = RunCli("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("healthscore "));
  EXPECT_THAT(version.out, HasSubstr("\nplugin ABI: "));
}

}  // namespace
}  // namespace healthscore::testing
