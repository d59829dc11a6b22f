// A model repository whose models use plugins: plugins load while the
// repository compiles (never on the request path), the model is warmed up
// on its test accounts before it serves, and it scores through the
// repository like any other model.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/score_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine {

using repository::ModelRepository;

namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(PluginRepositoryTest, PluginModelLoadsWarmsUpAndScores) {
  // A repository with the bundled plugin model only.
  const fs::path root =
      ::healthscore::engine::common::testing::ScratchDir("plugin_repository");
  fs::create_directories(root / "plugin_example");
  fs::copy(fs::path(HEALTHSCORE_SOURCE_DIR) / "rules/plugin_example/1",
           root / "plugin_example/1");

  plugin_host::PluginHostOptions host_options;
  host_options.directories = {HEALTHSCORE_BINARY_DIR "/plugins/lib"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<plugin_host::PluginHost> host,
                       plugin_host::PluginHost::Create(host_options));
  repository::RepositoryOptions options;
  options.root = root.string();
  options.default_model = "plugin_example";
  options.compile.plugins = host.get();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelRepository> repo,
                       ModelRepository::Create(options));
  std::shared_ptr<const repository::ModelSet> set = repo->Snapshot();
  EXPECT_THAT(set->errors(), IsEmpty());
  const repository::ModelStatus* status = set->status("plugin_example");
  ASSERT_NE(status, nullptr);
  EXPECT_THAT(status->errors, IsEmpty());
  ASSERT_EQ(status->versions.size(), 1u);
  EXPECT_TRUE(status->versions[0].serving);
  // Warm-up ran the model's test cases with its plugins loaded, and all
  // eight passed before the version was published.
  EXPECT_EQ(status->versions[0].tests_passed, 8);

  ASSERT_OK_AND_ASSIGN(repository::ModelRef ref, set->Find(""));
  const double answers[] = {10, 9, 9, 7, 3};
  eval::AccountTable table;
  eval::TableBuilder builder(&table);
  for (int r = 0; r < 3; ++r) {
    builder.BeginRow("acct-" + std::to_string(r));
    builder.SetSeries("nps_answers", answers, 5);
    builder.SetMetric("csat", 4.5);
    builder.EndRow();
  }
  ASSERT_OK_AND_ASSIGN(repository::RoutedResult result,
                       repository::ScoreRouted(ref, table));
  for (size_t i = 0; i < result.size(); ++i) {
    EXPECT_TRUE(result.part(i).result.ok(result.row(i)));
    EXPECT_EQ(result.part(i).model.name, "plugin_example");
  }

  // Without a plugin host the model cannot load, and its status says why.
  repository::RepositoryOptions no_plugins = options;
  no_plugins.compile.plugins = nullptr;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelRepository> bare,
                       ModelRepository::Create(no_plugins));
  EXPECT_THAT(bare->Snapshot()->status("plugin_example")->last_error(),
              HasSubstr("no plugin directory is configured"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace healthscore::engine
