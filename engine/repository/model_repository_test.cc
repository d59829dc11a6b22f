#include "engine/repository/model_repository.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/yaml_bombs.h"
#include "engine/repository/testing/test_repo.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::repository {
namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::healthscore::engine::common::testing::StatusIs;
using ::healthscore::engine::repository::testing::SmallModel;
using ::healthscore::engine::repository::testing::SmallTests;
using ::healthscore::engine::repository::testing::TempRepo;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

std::unique_ptr<ModelRepository> Open(const TempRepo& repo,
                                      RepositoryOptions options = {}) {
  options.root = repo.root();
  auto created = ModelRepository::Create(std::move(options));
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? *std::move(created) : nullptr;
}

std::vector<int64_t> ServedVersions(const ModelSet& set,
                                    const std::string& name) {
  std::vector<int64_t> out;
  for (const ModelRef& ref : set.Served()) {
    if (ref.name == name) out.push_back(ref.version);
  }
  return out;
}

const VersionStatus* Version(const ModelSet& set, const std::string& name,
                             int64_t version) {
  const ModelStatus* st = set.status(name);
  if (st == nullptr) return nullptr;
  for (const VersionStatus& v : st->versions) {
    if (v.version == version) return &v;
  }
  return nullptr;
}

TEST(ModelRepositoryTest, LatestPolicyServesTheHighestVersion) {
  TempRepo repo("latest");
  repo.Write("default/1/model.yaml", SmallModel("default", "one"));
  repo.Write("default/1/tests.yaml", SmallTests());
  repo.Write("default/2/model.yaml", SmallModel("default", "two"));
  repo.Write("default/2/tests.yaml", SmallTests());
  repo.Write("other/3/model.yaml", SmallModel("other"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_EQ(set->generation(), 1u);
  EXPECT_EQ(set->default_model(), "default");
  EXPECT_THAT(set->errors(), IsEmpty());
  ASSERT_THAT(set->models(), SizeIs(2));
  EXPECT_EQ(set->models()[0].name, "default");
  EXPECT_TRUE(set->models()[0].is_default);
  EXPECT_EQ(set->models()[0].version_policy, "latest");
  EXPECT_EQ(set->models()[1].name, "other");

  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find(""));
  EXPECT_EQ(ref.name, "default");
  EXPECT_EQ(ref.version, 2);
  EXPECT_EQ(ref.model->version(), "two");
  EXPECT_EQ(ref.router, nullptr);
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(2));

  const VersionStatus* v1 = Version(*set, "default", 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_FALSE(v1->serving);
  EXPECT_EQ(v1->note, "not served: version_policy latest");
  const VersionStatus* v2 = Version(*set, "default", 2);
  ASSERT_NE(v2, nullptr);
  EXPECT_TRUE(v2->serving);
  EXPECT_EQ(v2->model_version, "two");
  EXPECT_EQ(v2->hash, ref.model->hash());
  EXPECT_EQ(v2->tests_passed, 1);
  EXPECT_EQ(v2->error, "");
  EXPECT_GT(v2->loaded_at, absl::InfinitePast());

  EXPECT_THAT(set->Find("default", 1),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("version 1 of model 'default' is not "
                                       "served (not served: version_policy "
                                       "latest)"),
                             HasSubstr("served versions: 2"))));
  EXPECT_THAT(set->Find("default", 7),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("model 'default' has no version 7; served "
                                 "versions: 2")));
  EXPECT_THAT(set->Find("defualt"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("unknown model 'defualt'"),
                             HasSubstr("did you mean 'default'?"),
                             HasSubstr("models: default, other"))));
  ASSERT_OK_AND_ASSIGN(ModelRef other, set->Find("other"));
  EXPECT_EQ(other.version, 3);
}

TEST(ModelRepositoryTest, VersionPolicies) {
  TempRepo repo("policies");
  for (int v = 1; v <= 3; ++v) {
    repo.Write(absl::StrCat("all/", v, "/model.yaml"), SmallModel("all"));
    repo.Write(absl::StrCat("two/", v, "/model.yaml"), SmallModel("two"));
    repo.Write(absl::StrCat("some/", v, "/model.yaml"), SmallModel("some"));
  }
  repo.Write("all/config.yaml", "version_policy: all\n");
  repo.Write("two/config.yaml", "version_policy: {latest: 2}\n");
  repo.Write("some/config.yaml", "version_policy: {specific: [1, 3]}\n");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(ServedVersions(*set, "all"), ElementsAre(1, 2, 3));
  EXPECT_THAT(ServedVersions(*set, "two"), ElementsAre(2, 3));
  EXPECT_THAT(ServedVersions(*set, "some"), ElementsAre(1, 3));
  EXPECT_EQ(set->status("all")->version_policy, "all");
  EXPECT_EQ(set->status("two")->version_policy, "latest 2");
  EXPECT_EQ(set->status("some")->version_policy, "specific [1, 3]");
  ASSERT_OK_AND_ASSIGN(ModelRef all1, set->Find("all", 1));
  EXPECT_EQ(all1.version, 1);
  ASSERT_OK_AND_ASSIGN(ModelRef some, set->Find("some"));
  EXPECT_EQ(some.version, 3);
  EXPECT_THAT(set->Find("some", 2),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("is not served (not served: version_policy "
                                 "specific [1, 3])")));
}

TEST(ModelRepositoryTest, SpecificVersionMissingOnDiskIsAnError) {
  TempRepo repo("specific_missing");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/config.yaml", "version_policy: {specific: [1, 4]}\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(1));
  EXPECT_THAT(set->status("default")->errors,
              ElementsAre(AllOf(HasSubstr("config.yaml:1:17: version_policy "
                                          "lists version 4 but"),
                                HasSubstr("/default/4/model.yaml does not "
                                          "exist"))));
}

TEST(ModelRepositoryTest, LabelsAndDefaultVersion) {
  TempRepo repo("labels");
  repo.Write("default/1/model.yaml", SmallModel("default", "stable-one"));
  repo.Write("default/2/model.yaml", SmallModel("default", "canary-two"));
  repo.Write("default/config.yaml",
             "version_policy: all\n"
             "labels: {stable: 1, canary: 2, old: 9}\n"
             "default_version: stable\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  ASSERT_OK_AND_ASSIGN(ModelRef def, set->Find("default"));
  EXPECT_EQ(def.version, 1);
  EXPECT_EQ(set->status("default")->default_version, 1);
  ASSERT_OK_AND_ASSIGN(ModelRef canary, set->FindVersion("default", "canary"));
  EXPECT_EQ(canary.version, 2);
  ASSERT_OK_AND_ASSIGN(ModelRef two, set->FindVersion("default", "2"));
  EXPECT_EQ(two.model->version(), "canary-two");
  ASSERT_OK_AND_ASSIGN(ModelRef empty, set->FindVersion("", ""));
  EXPECT_EQ(empty.version, 1);
  EXPECT_THAT(set->FindVersion("default", "stabel"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("no version or label 'stabel'"),
                             HasSubstr("did you mean 'stable'?"),
                             HasSubstr("labels: canary, stable"))));
  EXPECT_THAT(Version(*set, "default", 1)->labels, ElementsAre("stable"));
  EXPECT_THAT(Version(*set, "default", 2)->labels, ElementsAre("canary"));
  EXPECT_THAT(set->status("default")->errors,
              ElementsAre(HasSubstr("config.yaml:2:37: label 'old' names "
                                    "version 9, which is not served")));
}

TEST(ModelRepositoryTest, LayoutMistakesAreSkippedOrReported) {
  TempRepo repo("layout");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/01/model.yaml", SmallModel("default"));
  repo.Write("default/draft/model.yaml", SmallModel("default"));
  repo.Write("default/5/notes.txt", "nothing here");
  repo.Write("testdata/accounts.jsonl", "{}\n");
  repo.Write("Bad Name/1/model.yaml", SmallModel("bad"));
  repo.Write(".hidden/1/model.yaml", SmallModel("hidden"));
  std::vector<std::string> logs;
  RepositoryOptions options;
  options.log = [&logs](RepositoryLogLevel, const std::string& line) {
    logs.push_back(line);
  };
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  ASSERT_THAT(set->models(), SizeIs(1));
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(1));
  EXPECT_THAT(set->errors(),
              ElementsAre(HasSubstr("Bad Name: not a valid model name")));
  EXPECT_THAT(logs, ::testing::Contains(HasSubstr(
                        "/default/01 is not a version directory")));
  EXPECT_THAT(logs, ::testing::Contains(
                        HasSubstr("/default/5 has no model.yaml; ignored")));
}

TEST(ModelRepositoryTest, BrokenNewVersionKeepsTheOldServing) {
  TempRepo repo("broken_new");
  repo.Write("default/1/model.yaml", SmallModel("default", "good"));
  repo.Write("default/1/tests.yaml", SmallTests());
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  const std::string good_hash = r->Snapshot()->Find("")->model->hash();

  // Version 2 reads an input it does not declare.
  std::string broken = SmallModel("default", "broken");
  broken.replace(broken.find("source: x"), 9, "source: y");
  repo.Write("default/2/model.yaml", broken);
  ReloadResult result = r->Reload();
  EXPECT_TRUE(result.status.ok());
  EXPECT_TRUE(result.published);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.failed, 1);
  EXPECT_EQ(result.reused, 1);
  EXPECT_EQ(result.compiled, 0);
  EXPECT_THAT(result.errors,
              ElementsAre(AllOf(HasSubstr("/default/2/model.yaml:14:17: "
                                          "error: signal 's' reads 'y'"))));

  auto set = r->Snapshot();
  EXPECT_EQ(set->generation(), 2u);
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  EXPECT_EQ(ref.version, 1);
  EXPECT_EQ(ref.model->hash(), good_hash);
  const VersionStatus* v2 = Version(*set, "default", 2);
  ASSERT_NE(v2, nullptr);
  EXPECT_FALSE(v2->serving);
  EXPECT_THAT(v2->error, HasSubstr("signal 's' reads 'y'"));
  EXPECT_THAT(set->status("default")->last_error(),
              HasSubstr("signal 's' reads 'y'"));
  EXPECT_GT(set->status("default")->last_failure, absl::InfinitePast());
  EXPECT_EQ(set->failed_count(), 1);
  EXPECT_THAT(set->Find("default", 2),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("version 2 of model 'default' failed to "
                                 "load: ")));

  RepositoryStats stats = r->stats();
  EXPECT_EQ(stats.reloads, 2u);
  EXPECT_EQ(stats.reload_failures, 1u);
  EXPECT_EQ(stats.versions_loaded, 1u);
  EXPECT_EQ(stats.versions_failed, 1u);
  EXPECT_EQ(stats.generation, 2u);

  // Fixed: version 2 takes over.
  repo.Write("default/2/model.yaml", SmallModel("default", "fixed"));
  result = r->Reload();
  EXPECT_TRUE(result.ok()) << result.errors[0];
  ASSERT_OK_AND_ASSIGN(ModelRef fixed, r->Snapshot()->Find("default"));
  EXPECT_EQ(fixed.version, 2);
  EXPECT_EQ(fixed.model->version(), "fixed");
  EXPECT_THAT(r->Snapshot()->status("default")->errors, IsEmpty());
}

TEST(ModelRepositoryTest, BrokenEditOfAServingVersionKeepsItsContent) {
  TempRepo repo("broken_edit");
  repo.Write("default/1/model.yaml", SmallModel("default", "good"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  std::shared_ptr<const model::CompiledModel> before =
      r->Snapshot()->Find("default")->model;

  repo.Write("default/1/model.yaml", "name: default\nversion: 1\ninputs: [");
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("/default/1/model.yaml:3:")));
  auto set = r->Snapshot();
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  EXPECT_EQ(ref.model, before);
  const VersionStatus* v1 = Version(*set, "default", 1);
  EXPECT_TRUE(v1->serving);
  EXPECT_TRUE(v1->stale);
  EXPECT_EQ(v1->hash, before->hash());
  EXPECT_THAT(v1->error, HasSubstr("invalid YAML"));

  repo.Write("default/1/model.yaml", SmallModel("default", "good again"));
  EXPECT_TRUE(r->Reload().ok());
  const VersionStatus* again = Version(*r->Snapshot(), "default", 1);
  EXPECT_FALSE(again->stale);
  EXPECT_EQ(again->error, "");
  EXPECT_EQ(again->model_version, "good again");
}

TEST(ModelRepositoryTest, FailingTestsBlockTheSwap) {
  TempRepo repo("failing_tests");
  repo.Write("default/1/model.yaml", SmallModel("default", "one"));
  repo.Write("default/1/tests.yaml", SmallTests());
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);

  // Version 2 compiles, but halves every score: its own test fails.
  repo.Write("default/2/model.yaml", SmallModel("default", "two", 200));
  repo.Write("default/2/tests.yaml", SmallTests(70));
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.errors,
              ElementsAre(AllOf(HasSubstr("/default/2/tests.yaml: 1 of 1 "
                                          "test cases failed; first: "),
                                HasSubstr("seventy: score: expected 70"),
                                HasSubstr("got 35"))));
  ASSERT_OK_AND_ASSIGN(ModelRef ref, r->Snapshot()->Find("default"));
  EXPECT_EQ(ref.version, 1);
  EXPECT_EQ(ref.model->version(), "one");

  // The same model with the right expectation serves.
  repo.Write("default/2/tests.yaml", SmallTests(35));
  EXPECT_TRUE(r->Reload().ok());
  ASSERT_OK_AND_ASSIGN(ModelRef two, r->Snapshot()->Find("default"));
  EXPECT_EQ(two.version, 2);
  EXPECT_EQ(Version(*r->Snapshot(), "default", 2)->tests_passed, 1);
}

TEST(ModelRepositoryTest, WarmUpOffSkipsTheTests) {
  TempRepo repo("no_warm_up");
  repo.Write("default/1/model.yaml", SmallModel("default", "one", 200));
  repo.Write("default/1/tests.yaml", SmallTests(70));
  RepositoryOptions options;
  options.warm_up = false;
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  ASSERT_OK_AND_ASSIGN(ModelRef ref, r->Snapshot()->Find("default"));
  EXPECT_EQ(ref.version, 1);
  EXPECT_EQ(Version(*r->Snapshot(), "default", 1)->tests_passed, 0);
}

TEST(ModelRepositoryTest, NameMustMatchTheDirectory) {
  TempRepo repo("name");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("enterprise/1/model.yaml", SmallModel("enterprize"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(set->status("enterprise")->errors,
              ElementsAre(HasSubstr("/enterprise/1/model.yaml:1:7: error: "
                                    "the model is named 'enterprize' but its "
                                    "directory is 'enterprise' (hint: set "
                                    "name: enterprise, or rename the "
                                    "directory)"),
                          HasSubstr("no version of model 'enterprise' "
                                    "loads")));
  EXPECT_THAT(set->Find("enterprise"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("model 'enterprise' has no version that "
                                 "loaded: ")));
}

TEST(ModelRepositoryTest, UnchangedVersionsAreReused) {
  TempRepo repo("reuse");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/1/tests.yaml", SmallTests());
  std::atomic<int> compiled{0};
  RepositoryOptions options;
  options.on_compiled = [&compiled](const auto&) { ++compiled; };
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(compiled.load(), 1);
  auto first = r->Snapshot()->Find("default")->model;

  ReloadResult again = r->Reload();
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(again.reused, 1);
  EXPECT_EQ(again.compiled, 0);
  EXPECT_EQ(compiled.load(), 1);
  EXPECT_EQ(r->Snapshot()->Find("default")->model, first);
  EXPECT_EQ(r->Snapshot()->generation(), 2u);

  // A changed test file alone is a new candidate.
  repo.Write("default/1/tests.yaml", SmallTests() + "\n# reviewed\n");
  ReloadResult changed = r->Reload();
  EXPECT_EQ(changed.compiled, 1);
  EXPECT_EQ(compiled.load(), 2);

  ReloadOptions force;
  force.recompile = true;
  ReloadResult forced = r->Reload(force);
  EXPECT_EQ(forced.compiled, 1);
  EXPECT_EQ(forced.reused, 0);
  EXPECT_EQ(compiled.load(), 3);
}

TEST(ModelRepositoryTest, BrokenConfigKeepsThePreviousConfig) {
  TempRepo repo("broken_config");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/2/model.yaml", SmallModel("default"));
  repo.Write("default/config.yaml", "version_policy: all\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(ServedVersions(*r->Snapshot(), "default"), ElementsAre(1, 2));

  repo.Write("default/config.yaml", "version_polcy: latest\n");
  ReloadResult result = r->Reload();
  EXPECT_THAT(
      result.errors,
      ElementsAre(HasSubstr("/default/config.yaml:1:1: error: unknown key "
                            "'version_polcy' in model config (hint: did you "
                            "mean 'version_policy'?)"),
                  HasSubstr("keeping the previous configuration until this "
                            "file is fixed")));
  EXPECT_THAT(ServedVersions(*r->Snapshot(), "default"), ElementsAre(1, 2));
  EXPECT_EQ(r->Snapshot()->status("default")->version_policy, "all");
}

TEST(ModelRepositoryTest, DefaultModelFromConfigAndOptions) {
  TempRepo repo("default_model");
  repo.Write("health/1/model.yaml", SmallModel("health"));
  repo.Write("trends/1/model.yaml", SmallModel("trends"));
  repo.Write("config.yaml", "default_model: trends\n");
  {
    auto r = Open(repo);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->Snapshot()->default_model(), "trends");
    EXPECT_EQ(r->Snapshot()->Find("")->name, "trends");
    EXPECT_TRUE(r->Snapshot()->status("trends")->is_default);
  }
  {
    RepositoryOptions options;
    options.default_model = "health";
    auto r = Open(repo, options);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->Snapshot()->Find("")->name, "health");
  }
  repo.Write("config.yaml", "default_model: missing\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  EXPECT_THAT(r->Snapshot()->errors(),
              ElementsAre("the default model 'missing' is not in the "
                          "repository"));
  EXPECT_THAT(r->Snapshot()->Find(""),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("the default model 'missing' is not in "
                                 "the repository; models: health, trends")));
}

TEST(ModelRepositoryTest, RemovedModelIsUnloadedAndNewModelLoaded) {
  TempRepo repo("remove");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("old/1/model.yaml", SmallModel("old"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  std::shared_ptr<const ModelSet> pinned = r->Snapshot();
  repo.Remove("old");
  repo.Write("new/1/model.yaml", SmallModel("new"));
  EXPECT_TRUE(r->Reload().ok());
  EXPECT_THAT(r->Snapshot()->Find("old"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown model 'old'")));
  EXPECT_TRUE(r->Snapshot()->Find("new").ok());
  // A request that pinned the old snapshot still sees the old model.
  EXPECT_TRUE(pinned->Find("old").ok());
}

TEST(ModelRepositoryTest, ModelWithNoLoadableVersionKeepsServing) {
  TempRepo repo("keep");
  repo.Write("default/1/model.yaml", SmallModel("default", "one"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  repo.Remove("default/1");
  repo.Write("default/2/model.yaml", "name: default\n");
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.errors,
              ::testing::Contains(HasSubstr(
                  "no version of model 'default' loads; still serving "
                  "version(s) 1")));
  auto set = r->Snapshot();
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  EXPECT_EQ(ref.version, 1);
  EXPECT_EQ(ref.model->version(), "one");
  const VersionStatus* v1 = Version(*set, "default", 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_TRUE(v1->serving);
  EXPECT_THAT(v1->note, HasSubstr("kept serving"));
}

TEST(ModelRepositoryTest, MissingRoot) {
  RepositoryOptions options;
  options.root = "/nonexistent/healthscore/rules";
  EXPECT_THAT(ModelRepository::Create(options),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/healthscore/rules is not a "
                                 "directory")));
  TempRepo empty("empty");
  options.root = empty.root();
  EXPECT_THAT(ModelRepository::Create(options),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no model found in repository")));

  TempRepo repo("vanishing");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  std::filesystem::rename(repo.root(), repo.root() + ".moved");
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kNotFound,
                                      HasSubstr("is not a directory")));
  EXPECT_FALSE(result.published);
  EXPECT_EQ(r->Snapshot()->generation(), 1u);
  EXPECT_TRUE(r->Snapshot()->Find("default").ok());
  EXPECT_EQ(r->stats().reload_failures, 1u);
  std::filesystem::rename(repo.root() + ".moved", repo.root());
}

TEST(ModelRepositoryTest, WatcherWaitsUntilTheTreeIsStable) {
  TempRepo repo("watch_stable");
  repo.Write("default/1/model.yaml", SmallModel("default", "one"));
  std::atomic<int> compiled{0};
  RepositoryOptions options;
  options.on_compiled = [&compiled](const auto&) { ++compiled; };
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  using Poll = ModelRepository::PollOutcome;
  EXPECT_EQ(r->PollOnce(), Poll::kUnchanged);

  // An editor writes version 2 in place, in pieces.
  const std::string full = SmallModel("default", "two");
  repo.WriteInPlace("default/2/model.yaml", full.substr(0, full.size() / 2));
  EXPECT_EQ(r->PollOnce(), Poll::kPending);
  repo.WriteInPlace("default/2/model.yaml", full.substr(0, full.size() - 20));
  EXPECT_EQ(r->PollOnce(), Poll::kPending);
  repo.WriteInPlace("default/2/model.yaml", full);
  EXPECT_EQ(r->PollOnce(), Poll::kPending);
  // Nothing was loaded while the file was changing.
  EXPECT_EQ(r->Snapshot()->generation(), 1u);
  EXPECT_EQ(compiled.load(), 1);

  // Stable for one poll: loaded, and only the complete file was compiled.
  EXPECT_EQ(r->PollOnce(), Poll::kReloaded);
  EXPECT_EQ(r->Snapshot()->generation(), 2u);
  EXPECT_EQ(compiled.load(), 2);
  ASSERT_OK_AND_ASSIGN(ModelRef ref, r->Snapshot()->Find("default"));
  EXPECT_EQ(ref.version, 2);
  EXPECT_EQ(ref.model->version(), "two");
  EXPECT_EQ(r->PollOnce(), Poll::kUnchanged);

  // Files that are not part of the layout never trigger anything.
  repo.WriteInPlace("default/2/.model.yaml.swp", "x");
  repo.WriteInPlace("default/2/model.yaml~", "x");
  repo.WriteInPlace("README.md", "x");
  EXPECT_EQ(r->PollOnce(), Poll::kUnchanged);

  // A manual reload counts as the load the watcher compares with.
  repo.Write("default/3/model.yaml", SmallModel("default", "three"));
  EXPECT_TRUE(r->Reload().ok());
  EXPECT_EQ(r->PollOnce(), Poll::kUnchanged);
}

TEST(ModelRepositoryTest, WatcherThreadReloads) {
  TempRepo repo("watch_thread");
  repo.Write("default/1/model.yaml", SmallModel("default", "one"));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->watching());
  ASSERT_OK(r->StartWatching(absl::Milliseconds(5)));
  EXPECT_TRUE(r->watching());
  EXPECT_THAT(r->StartWatching(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already watched")));
  repo.Write("default/2/model.yaml", SmallModel("default", "two"));
  // Wait for the watcher (no timing assertion: only a generous bound so a
  // broken watcher fails instead of hanging).
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (r->Snapshot()->Find("default")->version != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(r->Snapshot()->Find("default")->version, 2);
  r->StopWatching();
  EXPECT_FALSE(r->watching());
  EXPECT_THAT(r->StartWatching(absl::Seconds(-1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must not be negative")));
}

// --- Hostile repositories (issue 9, defects 3 and 17) ------------------------

namespace fs = std::filesystem;

constexpr char kSecret[] = "root:x:0:0:TOPSECRET-do-not-echo:/root:/bin/bash\n";

// Everything a client can see of a set through ListModels, one string.
std::string Visible(const ModelSet& set, const ReloadResult* result = nullptr) {
  std::string out;
  for (const std::string& e : set.errors()) out += e + "\n";
  for (const ModelStatus& m : set.models()) {
    for (const std::string& e : m.errors) out += e + "\n";
    for (const VersionStatus& v : m.versions) {
      out += v.error + "\n" + v.note + "\n";
    }
  }
  if (result != nullptr) {
    for (const std::string& e : result->errors) out += e + "\n";
  }
  return out;
}

// A file outside any repository, for links to point at.
class Outside {
 public:
  Outside() : dir_(fs::path(TempRepo("outside").root()).string() + "_x") {
    fs::create_directories(dir_);
  }
  ~Outside() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Write(const std::string& rel, const std::string& text) const {
    const fs::path path = fs::path(dir_) / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(ModelRepositoryTest, ModelFileLinkedOutsideIsRefusedAndNeverEchoed) {
  TempRepo repo("link_out");
  Outside outside;
  const std::string secret = outside.Write("passwd", kSecret);
  repo.Write("default/1/model.yaml", SmallModel("default"));
  fs::create_directories(repo.Path("default/2"));
  fs::create_symlink(secret, repo.Path("default/2/model.yaml"));
  std::vector<std::string> logs;
  RepositoryOptions options;
  options.log = [&logs](RepositoryLogLevel, const std::string& line) {
    logs.push_back(line);
  };
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(1));
  const VersionStatus* v2 = Version(*set, "default", 2);
  ASSERT_NE(v2, nullptr);
  EXPECT_FALSE(v2->serving);
  EXPECT_EQ(v2->error,
            repo.Path("default/2/model.yaml") +
                ": a symbolic link that leads outside the repository; "
                "refused and not read (copy the file into the repository "
                "instead of linking to it)");
  EXPECT_THAT(Visible(*set), Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(Visible(*set), Not(HasSubstr("root:x")));
  for (const std::string& line : logs) {
    EXPECT_THAT(line, Not(HasSubstr("TOPSECRET"))) << line;
  }
}

TEST(ModelRepositoryTest, TestsConfigAndDirectoriesLinkedOutsideAreRefused) {
  TempRepo repo("links_out");
  Outside outside;
  const std::string secret = outside.Write("secret.yaml", kSecret);
  outside.Write("evil/1/model.yaml", SmallModel("evil"));
  outside.Write("version/model.yaml", SmallModel("default"));
  repo.Write("default/1/model.yaml", SmallModel("default"));
  // The latest policy tries 6, then 5, then 4, which serves.
  repo.Write("default/5/model.yaml", SmallModel("default"));
  fs::create_symlink(secret, repo.Path("default/5/tests.yaml"));
  fs::create_symlink(outside.dir() + "/version", repo.Path("default/6"));
  fs::create_symlink(outside.dir() + "/evil", repo.Path("evil"));
  fs::create_symlink(secret, repo.Path("default/config.yaml"));
  // A link that stays inside the repository is fine.
  fs::create_directories(repo.Path("default/4"));
  fs::create_symlink("../1/model.yaml", repo.Path("default/4/model.yaml"));
  RepositoryOptions options;
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(4));
  ASSERT_NE(Version(*set, "default", 5), nullptr);
  EXPECT_EQ(Version(*set, "default", 5)->error,
            repo.Path("default/5/tests.yaml") +
                ": a symbolic link that leads outside the repository; "
                "refused and not read (copy the file into the repository "
                "instead of linking to it)");
  ASSERT_NE(Version(*set, "default", 6), nullptr);
  EXPECT_EQ(Version(*set, "default", 6)->error,
            repo.Path("default/6") +
                ": a symbolic link that leads outside the repository; "
                "refused and not read (copy the version directory into the "
                "repository instead of linking to it)");
  EXPECT_THAT(set->status("default")->errors,
              ::testing::Contains(repo.Path("default/config.yaml") +
                                  ": a symbolic link that leads outside the "
                                  "repository; refused and not read (copy "
                                  "the file into the repository instead of "
                                  "linking to it)"));
  EXPECT_EQ(set->status("evil"), nullptr);
  EXPECT_THAT(set->errors(),
              ::testing::Contains(repo.Path("evil") +
                                  ": a symbolic link that leads outside the "
                                  "repository; refused and not read (copy "
                                  "the model directory into the repository "
                                  "instead of linking to it)"));
  EXPECT_THAT(Visible(*set), Not(HasSubstr("TOPSECRET")));
}

TEST(ModelRepositoryTest, NonModelFileContentIsNeverEchoed) {
  TempRepo repo("not_a_model");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/2/model.yaml", kSecret);  // a copy, not a link
  repo.Write("default/3/model.yaml", std::string("x: \0TOPSECRET\n", 14));
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  ASSERT_NE(Version(*set, "default", 2), nullptr);
  EXPECT_EQ(Version(*set, "default", 2)->error,
            repo.Path("default/2/model.yaml") +
                ":1:1: error: a model must be a mapping with keys such as "
                "'name' and 'inputs', got a single value");
  EXPECT_THAT(Visible(*set), Not(HasSubstr("TOPSECRET")));
  EXPECT_THAT(Visible(*set), Not(HasSubstr("root:x")));
}

TEST(ModelRepositoryTest, OversizeAndAliasBombModelsFailTheirVersionOnly) {
  TempRepo repo("hostile_yaml");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("default/2/model.yaml",
             SmallModel("default") + std::string(5000, '#'));
  const std::string bomb = SmallModel("default") + AliasBomb();
  repo.Write("default/3/model.yaml", bomb);
  repo.Write("default/4/model.yaml", SmallModel("default") + "x: &c {k: *c}\n");
  RepositoryOptions options;
  options.compile.yaml.max_bytes = 4096;
  options.warm_up = false;
  auto r = Open(repo, options);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(ServedVersions(*set, "default"), ElementsAre(1));
  EXPECT_THAT(
      Version(*set, "default", 2)->error,
      AllOf(HasSubstr(repo.Path("default/2/model.yaml") + ": the YAML is "),
            HasSubstr("over the limit of 4096 bytes"),
            HasSubstr("--max-model-bytes")));
  EXPECT_THAT(Version(*set, "default", 3)->error,
              AllOf(HasSubstr(repo.Path("default/3/model.yaml") + ":"),
                    HasSubstr("error: alias '*a5' expands the YAML to more "
                              "than 1000000 nodes")));
  EXPECT_THAT(Version(*set, "default", 4)->error,
              HasSubstr("error: invalid YAML: alias '*c' is inside the node "
                        "it refers to"));
}

TEST(ModelRepositoryTest, CancelledLoadPublishesNothing) {
  TempRepo repo("cancel");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  std::atomic<bool> cancelled{true};
  RepositoryOptions options;
  options.root = repo.root();
  options.cancelled = &cancelled;
  EXPECT_THAT(ModelRepository::Create(options),
              StatusIs(absl::StatusCode::kCancelled,
                       HasSubstr("was cancelled; nothing was published")));

  cancelled = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelRepository> r,
                       ModelRepository::Create(options));
  EXPECT_EQ(r->Snapshot()->generation(), 1u);
  repo.Write("default/2/model.yaml", SmallModel("default", "two"));
  cancelled = true;
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.status, StatusIs(absl::StatusCode::kCancelled,
                                      HasSubstr("was cancelled")));
  EXPECT_FALSE(result.published);
  EXPECT_EQ(r->Snapshot()->generation(), 1u);
  EXPECT_THAT(ServedVersions(*r->Snapshot(), "default"), ElementsAre(1));
  // Cancelled loads count as failed, and the next poll tries again.
  EXPECT_EQ(r->stats().reload_failures, 1u);
  cancelled = false;
  r->PollOnce();
  EXPECT_EQ(r->PollOnce(), ModelRepository::PollOutcome::kReloaded);
  EXPECT_THAT(ServedVersions(*r->Snapshot(), "default"), ElementsAre(2));
}

TEST(ModelRepositoryTest, VersionOverItsLoadTimeoutFails) {
  TempRepo repo("timeout");
  repo.Write("default/1/model.yaml", SmallModel("default"));
  RepositoryOptions options;
  options.root = repo.root();
  // A zero timeout is a deadline already passed when the load starts.
  options.version_load_timeout = absl::ZeroDuration();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelRepository> r,
                       ModelRepository::Create(options));
  const VersionStatus* v1 = Version(*r->Snapshot(), "default", 1);
  ASSERT_NE(v1, nullptr);
  EXPECT_FALSE(v1->serving);
  EXPECT_EQ(v1->error, repo.Path("default/1/model.yaml") +
                           ": the model load ran past its deadline and was "
                           "abandoned (version load timeout 0)");
}

}  // namespace
}  // namespace healthscore::engine::repository
