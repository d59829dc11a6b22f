// Plugin signals in models, end to end: a model names plugin libraries,
// compiles against real plugin files from the build tree, and scores
// batches through Scorer, where plugin signals are normalised, weighted and
// read by playbooks like any other signal. Every load-time failure is a
// located compile error naming the plugin's path; every run-time failure
// makes the signal missing for the affected accounts only, and is counted.

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/worker_pool.h"
#include "engine/model/compiler.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/plugin_host/testing/signal_harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine {

using eval::Batch;
using eval::BatchResult;
using eval::Explain;
using eval::MatchedPlaybooks;
using eval::PlaybookReason;
using eval::Scorer;
using model::CompileFile;
using model::CompileResult;
using model::CompileString;
using plugin_host::PluginStats;

namespace {

using ::healthscore::engine::plugin_host::testing::ExamplePluginDir;
using ::healthscore::engine::plugin_host::testing::TestPluginDir;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Sentiment: NPS from raw answers (the nps plugin) and CSAT. Usage: the
// usage_anomaly plugin over weekly usage, and `health_check`, a plugin
// signal from the deliberately faulty plugin (row errors for x < 0).
constexpr char kModel[] =
    "name: plugin_model\n"               // 1
    "version: 1\n"                       // 2
    "plugins:\n"                         // 3
    "  - id: survey\n"                   // 4
    "    library: nps\n"                 // 5
    "  - id: anomaly\n"                  // 6
    "    library: usage_anomaly\n"       // 7
    "    config: {min_history: 4}\n"     // 8
    "  - id: faulty\n"                   // 9
    "    library: faulty\n"              // 10
    "inputs:\n"                          // 11
    "  - {id: answers, type: series}\n"  // 12
    "  - {id: usage, type: series}\n"    // 13
    "  - {id: csat, type: number}\n"     // 14
    "  - {id: x, type: number}\n"        // 15
    "derived:\n"                         // 16
    "  - id: nps\n"                      // 17
    "    plugin: survey\n"               // 18
    "    signal: nps\n"                  // 19
    "    inputs: [answers]\n"            // 20
    "  - id: nps_points\n"               // 21
    "    expr: (nps + 100) / 2\n"        // 22
    "  - id: usage_z\n"                  // 23
    "    plugin: anomaly\n"              // 24
    "    signal: usage_anomaly\n"        // 25
    "    inputs: [usage]\n"              // 26
    "    params: {recent: 1}\n"          // 27
    "  - id: check\n"                    // 28
    "    plugin: faulty\n"               // 29
    "    signal: row_errors\n"           // 30
    "    inputs: [x]\n"                  // 31
    "groups:\n"                          // 32
    "  - id: sentiment\n"                // 33
    "    weight: 0.5\n"                  // 34
    "    signals:\n"                     // 35
    "      - {id: nps, source: nps_points, weight: 0.5, normalize: identity}\n"
    "      - id: csat\n"                                 // 37
    "        source: csat\n"                             // 38
    "        weight: 0.5\n"                              // 39
    "        normalize: {linear: {bad: 1, good: 5}}\n"   // 40
    "  - id: usage\n"                                    // 41
    "    weight: 0.5\n"                                  // 42
    "    signals:\n"                                     // 43
    "      - id: usage_trend\n"                          // 44
    "        source: usage_z\n"                          // 45
    "        weight: 0.5\n"                              // 46
    "        normalize: {linear: {bad: -4, good: 0}}\n"  // 47
    "      - {id: health_check, source: check, weight: 0.5, normalize: "
    "identity}\n"
    "tiers:\n"                           // 49
    "  - {id: green, min: 80}\n"         // 50
    "  - {id: yellow, min: 50}\n"        // 51
    "  - {id: red, min: 0}\n"            // 52
    "playbooks:\n"                       // 53
    "  - id: detractor_outreach\n"       // 54
    "    name: Detractor outreach\n"     // 55
    "    owner: csm\n"                   // 56
    "    priority: 1\n"                  // 57
    "    when: nps < 0\n"                // 58
    "  - id: usage_drop\n"               // 59
    "    name: Usage drop\n"             // 60
    "    owner: csm\n"                   // 61
    "    priority: 2\n"                  // 62
    "    when: raw.usage_trend < -3\n";  // 63

// kModel with `from` replaced by `to` (which must occur exactly once).
std::string Edit(const std::string& from, const std::string& to) {
  std::string text = kModel;
  const size_t pos = text.find(from);
  if (pos == std::string::npos ||
      text.find(from, pos + 1) != std::string::npos) {
    ADD_FAILURE() << "'" << from << "' must occur once in kModel";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

std::vector<std::string> Messages(const model::DiagnosticList& diags) {
  std::vector<std::string> out;
  for (const model::Diagnostic& d : diags.items()) out.push_back(d.ToString());
  return out;
}

std::string Canonical(const std::string& path) {
  return std::filesystem::canonical(path).string();
}
std::string NpsPath() {
  return Canonical(ExamplePluginDir() + "/libhs_nps.so");
}
std::string BrokenPath(const std::string& name) {
  return Canonical(TestPluginDir() + "/libhs_" + name + ".so");
}

struct Account {
  std::string id;
  std::vector<double> answers;  // empty: absent
  std::vector<double> usage;    // empty: absent
  double csat = NAN;            // NaN: absent
  double x = NAN;
};

// 8 weeks of usage around 100 (median 100, MAD 1) and a latest week.
std::vector<double> Usage(double latest) {
  return {98, 99, 100, 101, 102, 99, 100, 101, latest};
}

class PluginModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugin_host::PluginHostOptions options;
    options.directories = {ExamplePluginDir(), TestPluginDir()};
    ASSERT_OK_AND_ASSIGN(host_,
                         plugin_host::PluginHost::Create(std::move(options)));
  }

  CompileResult CompileText(const std::string& text) {
    model::CompileOptions options;
    options.plugins = host_.get();
    return CompileString(text, "m.yaml", options);
  }

  std::shared_ptr<const model::CompiledModel> MustCompile(
      const std::string& text) {
    CompileResult r = CompileText(text);
    EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
    return r.model;
  }

  static std::unique_ptr<Batch> MakeBatch(
      const std::shared_ptr<const model::CompiledModel>& model,
      const std::vector<Account>& accounts) {
    auto batch = std::make_unique<Batch>(model);
    eval::BatchBuilder b(batch.get());
    for (const Account& a : accounts) {
      b.BeginRow(a.id);
      b.SetAsOf("2026-11-01");
      if (!a.answers.empty()) {
        b.SetSeries("answers", a.answers.data(), a.answers.size());
      }
      if (!a.usage.empty())
        b.SetSeries("usage", a.usage.data(), a.usage.size());
      if (!std::isnan(a.csat)) b.SetMetric("csat", a.csat);
      if (!std::isnan(a.x)) b.SetMetric("x", a.x);
      b.EndRow();
    }
    return batch;
  }

  PluginStats StatsOf(const std::string& name) {
    for (const PluginStats& s : host_->Stats()) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no stats for " << name;
    return {};
  }

  std::unique_ptr<plugin_host::PluginHost> host_;
};

TEST_F(PluginModelTest, PluginSignalsScoreLikeAnyOther) {
  auto model = MustCompile(kModel);
  ASSERT_NE(model, nullptr);
  EXPECT_THAT(Messages(model->warnings()), IsEmpty());
  const int nps = model->FindSignal("nps");
  const int trend = model->FindSignal("usage_trend");
  ASSERT_GE(nps, 0);
  ASSERT_GE(trend, 0);
  EXPECT_EQ(model->derived()[0].expr, "plugin survey.nps(answers)");

  auto batch = MakeBatch(
      model, {// 3 promoters, 1 detractor: NPS 50 -> 75 points; steady usage.
              {"happy", {10, 9, 9, 3}, Usage(100), 5, 100},
              // NPS -100 -> 0 points; usage falls 5 MADs below its median.
              {"unhappy", {1, 2}, Usage(100 - 5 * 1.4826), 1, 0}});
  BatchResult result;
  ASSERT_OK(Scorer::Score(*batch, &result));

  EXPECT_DOUBLE_EQ(result.derived(0, 0), 50);
  EXPECT_DOUBLE_EQ(result.signal_raw(0, nps), 75);
  EXPECT_DOUBLE_EQ(result.signal_score(0, nps), 75);
  EXPECT_DOUBLE_EQ(result.signal_raw(0, trend), 0);
  EXPECT_DOUBLE_EQ(result.signal_score(0, trend), 100);
  // sentiment (75 + 100) / 2; usage (100 + 100) / 2.
  EXPECT_DOUBLE_EQ(result.group_score(0, 0), 87.5);
  EXPECT_DOUBLE_EQ(result.score(0), (87.5 + 100) / 2);
  EXPECT_EQ(model->tiers()[result.tier(0)].id, "green");
  EXPECT_EQ(result.matched_count(0), 0);

  EXPECT_DOUBLE_EQ(result.derived(1, 0), -100);
  EXPECT_NEAR(result.signal_raw(1, trend), -5, 1e-9);
  EXPECT_DOUBLE_EQ(result.signal_score(1, trend), 0);
  EXPECT_DOUBLE_EQ(result.score(1), 0);
  EXPECT_THAT(MatchedPlaybooks(result, 1), ElementsAre(0, 1));
  EXPECT_THAT(PlaybookReason(*batch, result, 1, 0), HasSubstr("nps=-100"));
  EXPECT_EQ(StatsOf("nps").calls, 1u);
}

TEST_F(PluginModelTest, PluginRowErrorsMissOnlyThatSignal) {
  auto model = MustCompile(kModel);
  ASSERT_NE(model, nullptr);
  const int check = model->FindSignal("health_check");
  auto batch = MakeBatch(model, {{"ok", {10}, Usage(100), 5, 100},
                                 {"bad", {10}, Usage(100), 5, -1}});
  BatchResult result;
  ASSERT_OK(Scorer::Score(*batch, &result));
  EXPECT_TRUE(result.ok(1));
  EXPECT_TRUE(std::isnan(result.signal_raw(1, check)));
  EXPECT_TRUE(std::isnan(result.derived(1, 3)));
  // The rest of the score computes: usage is usage_trend alone.
  EXPECT_DOUBLE_EQ(result.group_score(1, 1), 100);
  EXPECT_DOUBLE_EQ(result.score(1), 100);
  EXPECT_DOUBLE_EQ(result.coverage(1), 0.75);
  EXPECT_DOUBLE_EQ(result.coverage(0), 1);
  eval::Explanation e = Explain(*batch, result, 1, 3);
  EXPECT_THAT(e.missing_signals, ElementsAre(check));
  const PluginStats stats = StatsOf("faulty");
  EXPECT_EQ(stats.row_errors, 1u);
  EXPECT_EQ(stats.path, BrokenPath("faulty"));
}

TEST_F(PluginModelTest, NonFiniteAndThrowingPluginsAreMissingAndCounted) {
  auto nan_model =
      MustCompile(Edit("signal: row_errors", "signal: nan_output"));
  auto throwing = MustCompile(Edit("signal: row_errors", "signal: throws"));
  ASSERT_NE(nan_model, nullptr);
  ASSERT_NE(throwing, nullptr);
  const int check = nan_model->FindSignal("health_check");
  const std::vector<Account> accounts = {{"a", {10}, Usage(100), 5, 13},
                                         {"b", {10}, Usage(100), 5, 500}};
  auto batch = MakeBatch(nan_model, accounts);
  BatchResult result;
  ASSERT_OK(Scorer::Score(*batch, &result));
  EXPECT_DOUBLE_EQ(result.signal_raw(0, check), 13);
  EXPECT_TRUE(std::isnan(result.signal_raw(1, check)));
  EXPECT_DOUBLE_EQ(result.score(1), 100);

  auto batch2 = MakeBatch(throwing, accounts);
  BatchResult result2;
  ASSERT_OK(Scorer::Score(*batch2, &result2));
  // The exception fails the whole chunk for this signal, and nothing else.
  EXPECT_TRUE(std::isnan(result2.signal_raw(0, check)));
  EXPECT_TRUE(std::isnan(result2.signal_raw(1, check)));
  EXPECT_DOUBLE_EQ(result2.score(0), 100);
  EXPECT_DOUBLE_EQ(result2.coverage(0), 0.75);
  const PluginStats stats = StatsOf("faulty");
  EXPECT_EQ(stats.nonfinite_rows, 1u);
  EXPECT_EQ(stats.failed_calls, 1u);
  EXPECT_EQ(stats.failed_rows, 2u);
  EXPECT_THAT(stats.last_error, HasSubstr("unlucky 13"));
}

TEST_F(PluginModelTest, ParallelScoringMatchesSequential) {
  auto model = MustCompile(kModel);
  ASSERT_NE(model, nullptr);
  std::vector<Account> accounts;
  for (int i = 0; i < 5000; ++i) {
    std::vector<double> answers;
    for (int j = 0; j <= i % 9; ++j) answers.push_back((i + j) % 11);
    accounts.push_back({absl::StrCat("a", i), answers, Usage(100 - (i % 13)),
                        1.0 + (i % 5), (i % 17) - 2.0});
  }
  auto batch = MakeBatch(model, accounts);
  BatchResult sequential;
  ASSERT_OK(Scorer::Score(*batch, &sequential));
  eval::WorkerPool pool(3);
  BatchResult parallel;
  eval::ScoreOptions options;
  options.rows_per_task = 256;
  ASSERT_OK(Scorer::Score(*batch, &parallel, &pool, options));
  for (size_t i = 0; i < accounts.size(); ++i) {
    ASSERT_EQ(sequential.has_score(i), parallel.has_score(i)) << i;
    ASSERT_EQ(sequential.score(i), parallel.score(i)) << i;
    for (size_t s = 0; s < model->signals().size(); ++s) {
      const double a = sequential.signal_raw(i, static_cast<int>(s));
      const double b = parallel.signal_raw(i, static_cast<int>(s));
      ASSERT_TRUE((std::isnan(a) && std::isnan(b)) || a == b)
          << "row " << i << " signal " << s;
    }
  }
}

TEST_F(PluginModelTest, ModelKeepsItsPluginsLoaded) {
  auto model = MustCompile(kModel);
  ASSERT_NE(model, nullptr);
  host_.reset();  // the host may go; the model holds what it uses
  auto batch = MakeBatch(model, {{"a", {10, 10}, Usage(100), 5, 1}});
  BatchResult result;
  ASSERT_OK(Scorer::Score(*batch, &result));
  EXPECT_DOUBLE_EQ(result.derived(0, 0), 100);
}

TEST_F(PluginModelTest, FailedReloadLeavesTheOldModelServing) {
  auto old_model = MustCompile(kModel);
  ASSERT_NE(old_model, nullptr);
  CompileResult reload = CompileText(
      Edit("    library: faulty\n",
           "    library: faulty\n    config: {throw_in_init: true}\n"));
  EXPECT_EQ(reload.model, nullptr);
  EXPECT_TRUE(reload.diagnostics.has_errors());
  auto batch = MakeBatch(old_model, {{"a", {9}, Usage(100), 5, 1}});
  BatchResult result;
  ASSERT_OK(Scorer::Score(*batch, &result));
  EXPECT_DOUBLE_EQ(result.derived(0, 0), 100);
}

TEST_F(PluginModelTest, HashCoversPluginConfigAndParams) {
  auto a = MustCompile(kModel);
  auto b = MustCompile(Edit("{min_history: 4}", "{min_history: 5}"));
  auto c = MustCompile(Edit("{recent: 1}", "{recent: 2}"));
  auto d = MustCompile(kModel);
  ASSERT_TRUE(a && b && c && d);
  EXPECT_NE(a->hash(), b->hash());
  EXPECT_NE(a->hash(), c->hash());
  EXPECT_EQ(a->hash(), d->hash());
}

// --- Compile errors: located, with the plugin's path -----------------------

TEST_F(PluginModelTest, WithoutAPluginHost) {
  CompileResult r = CompileString(kModel, "m.yaml");
  EXPECT_EQ(r.model, nullptr);
  EXPECT_THAT(Messages(r.diagnostics),
              Contains("m.yaml:5:14: error: plugin 'survey' needs library "
                       "'nps', but no plugin directory is configured (hint: "
                       "give the directory holding the plugin: --plugins "
                       "DIR)"));
}

struct ErrorCase {
  std::string name;
  std::string from, to;
  std::vector<std::string> expected;  // substrings of one diagnostic each
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class PluginCompileErrorTest : public PluginModelTest,
                               public ::testing::WithParamInterface<ErrorCase> {
};

TEST_P(PluginCompileErrorTest, IsLocatedAndNamesThePlugin) {
  const ErrorCase& c = GetParam();
  std::vector<std::string> expected;
  for (std::string e : c.expected) {
    // Paths depend on the build tree.
    for (const char* name : {"abi_major", "no_entry", "init_fails", "faulty"}) {
      const std::string key = absl::StrCat("$", name);
      if (e.find(key) != std::string::npos) {
        e.replace(e.find(key), key.size(), BrokenPath(name));
      }
    }
    if (e.find("$nps") != std::string::npos) {
      e.replace(e.find("$nps"), 4, NpsPath());
    }
    const std::string anomaly = "$usage_anomaly";
    if (e.find(anomaly) != std::string::npos) {
      e.replace(e.find(anomaly), anomaly.size(),
                Canonical(ExamplePluginDir() + "/libhs_usage_anomaly.so"));
    }
    if (e.find("$dir") != std::string::npos) {
      e.replace(e.find("$dir"), 4, Canonical(ExamplePluginDir()));
    }
    expected.push_back(e);
  }
  CompileResult r = CompileText(Edit(c.from, c.to));
  EXPECT_EQ(r.model, nullptr);
  std::vector<std::string> errors;
  for (const model::Diagnostic& d : r.diagnostics.items()) {
    if (d.severity == model::Severity::kError) errors.push_back(d.ToString());
  }
  ASSERT_EQ(errors.size(), expected.size()) << r.diagnostics.ToString();
  for (size_t i = 0; i < errors.size(); ++i) {
    EXPECT_THAT(errors[i], HasSubstr(expected[i]));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, PluginCompileErrorTest,
    ::testing::Values(
        ErrorCase{"FileMissing",
                  "library: nps",
                  "library: npz",
                  {"m.yaml:5:14: error: plugin 'survey': plugin library 'npz' "
                   "not found; looked for: $dir/libhs_npz.so"}},
        ErrorCase{"PathEscape",
                  "library: nps",
                  "library: ../lib/libhs_nps.so",
                  {"m.yaml:5:14: error: plugin 'survey': plugin library "
                   "'../lib/libhs_nps.so' must be a file name inside a plugin "
                   "directory, not a path"}},
        ErrorCase{"NotAPlugin",
                  "library: nps",
                  "library: no_entry",
                  {"m.yaml:5:14: error: plugin 'survey': '$no_entry' is not a "
                   "Healthscore plugin: it does not export hs_plugin_get_api"}},
        ErrorCase{"AbiMismatch",
                  "library: nps",
                  "library: abi_major",
                  {"m.yaml:5:14: error: plugin 'survey': plugin '$abi_major' "
                   "was built for plugin ABI 2.0, but this host implements "
                   "plugin ABI 1.0"}},
        ErrorCase{"InitFailure",
                  "library: nps",
                  "library: init_fails\n    config: {endpoint: crm}",
                  {"m.yaml:6:13: error: plugin 'survey': plugin 'init_fails' "
                   "($init_fails) failed to initialise: cannot reach endpoint "
                   "'crm' (1 config keys) (INVALID_ARGUMENT)"}},
        ErrorCase{"InitFailureThroughTheCppHelper",
                  "    library: faulty\n",
                  "    library: faulty\n    config: {throw_in_init: true}\n",
                  {"m.yaml:11:13: error: plugin 'faulty': plugin 'faulty' "
                   "($faulty) failed to initialise: unhandled exception: "
                   "constructor refused"}},
        ErrorCase{"SignalNotProvided",
                  "signal: nps",
                  "signal: npss",
                  {"m.yaml:19:13: error: plugin 'survey' ($nps) does not "
                   "provide signal 'npss' (hint: did you mean 'nps'?)"}},
        ErrorCase{"UnknownPluginId",
                  "plugin: survey",
                  "plugin: surveys",
                  {"m.yaml:18:13: error: derived value 'nps' uses plugin "
                   "'surveys', which is not in the model's plugins list "
                   "(hint: did you mean 'survey'?)"}},
        ErrorCase{"InputOfTheWrongKind",
                  "inputs: [answers]",
                  "inputs: [csat]",
                  {"m.yaml:20:13: error: 'csat' is a number, but input "
                   "'answers' of signal nps(answers: series) takes a series"}},
        ErrorCase{"SeriesWhereANumberIsNeeded",
                  "inputs: [x]",
                  "inputs: [usage]",
                  {"m.yaml:31:13: error: 'usage' is a series, but input 'x' "
                   "of signal row_errors(x: number) takes a number (hint: "
                   "derive a number first, e.g. mean_last(usage, 4))"}},
        ErrorCase{"WrongInputCount",
                  "inputs: [answers]",
                  "inputs: [answers, usage]",
                  {"m.yaml:20:13: error: signal nps(answers: series) of "
                   "plugin 'survey' takes 1 input, but derived value 'nps' "
                   "gives 2"}},
        ErrorCase{"UnknownInput",
                  "inputs: [answers]",
                  "inputs: [answer]",
                  {"m.yaml:20:13: error: derived value 'nps' reads 'answer', "
                   "which is neither an input nor a derived value (hint: did "
                   "you mean 'answers'?)"}},
        ErrorCase{"ParamsRejected",
                  "params: {recent: 1}",
                  "params: {recent: 0}",
                  {"m.yaml:27:13: error: derived value 'usage_z': plugin "
                   "'usage_anomaly' ($usage_anomaly) could not create signal "
                   "'usage_anomaly': 'recent' must be at least 1 "
                   "(INVALID_ARGUMENT)"}},
        ErrorCase{"CycleThroughAPlugin",
                  "inputs: [x]",
                  "inputs: [loop]\n  - {id: loop, expr: check + 1}",
                  {"error: derived values depend on each other in a cycle"}}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) {
      return info.param.name;
    });

TEST_F(PluginModelTest, ManyPluginProblemsAreReportedTogether) {
  std::string text = Edit("library: nps", "library: npz");
  text.replace(text.find("signal: row_errors"), 18, "signal: row_error");
  text.replace(text.find("inputs: [usage]"), 15, "inputs: [csat]");
  CompileResult r = CompileText(text);
  EXPECT_EQ(r.model, nullptr);
  EXPECT_THAT(Messages(r.diagnostics),
              ElementsAre(HasSubstr("m.yaml:5:14: error: plugin 'survey': "
                                    "plugin library 'npz' not found"),
                          HasSubstr("m.yaml:13:10: warning: input 'usage' is "
                                    "declared but nothing reads it"),
                          HasSubstr("m.yaml:26:13: error: 'csat' is a number, "
                                    "but input 'usage' of signal "
                                    "usage_anomaly(usage: series) takes a "
                                    "series"),
                          HasSubstr("m.yaml:30:13: error: plugin 'faulty' (" +
                                    BrokenPath("faulty") +
                                    ") does not provide signal 'row_error' "
                                    "(hint: did you mean 'row_errors'?)")));
}

TEST_F(PluginModelTest, UnusedPluginIsAWarning) {
  auto model = MustCompile(Edit("  - id: faulty\n",
                                "  - id: spare\n    library: weighted_sum\n"
                                "  - id: faulty\n"));
  ASSERT_NE(model, nullptr);
  EXPECT_THAT(Messages(model->warnings()),
              ElementsAre("m.yaml:9:9: warning: plugin 'spare' is declared "
                          "but no derived value uses it (hint: remove it, or "
                          "use it in a derived value: {id: ..., plugin: "
                          "spare, signal: ...})"));
}

// rules/plugin_example: the bundled model that uses the nps and
// usage_anomaly plugins scores every case of its tests.yaml as stated
// there. (The cases are read here directly, because they need the plugin
// directory; `healthscore test --plugins DIR` runs the same file.)
TEST_F(PluginModelTest, BundledPluginExampleMatchesItsTestCases) {
  const std::string dir =
      std::string(HEALTHSCORE_SOURCE_DIR) + "/rules/plugin_example/1";
  model::CompileOptions options;
  options.plugins = host_.get();
  CompileResult compiled = CompileFile(dir + "/model.yaml", options);
  ASSERT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
  EXPECT_THAT(Messages(compiled.diagnostics), IsEmpty());
  const auto& model = compiled.model;

  const YAML::Node cases = YAML::LoadFile(dir + "/tests.yaml")["cases"];
  ASSERT_TRUE(cases.IsSequence());
  Batch batch(model);
  eval::BatchBuilder b(&batch);
  std::vector<std::vector<double>> keep;  // series outlive EndRow
  for (const YAML::Node& c : cases) {
    const YAML::Node a = c["account"];
    b.BeginRow(a["id"].as<std::string>());
    b.SetAsOf(a["as_of"].as<std::string>());
    for (const auto& m : a["metrics"]) {
      b.SetMetric(m.first.as<std::string>(), m.second.as<double>());
    }
    for (const auto& series : a["series"]) {
      keep.push_back(series.second.as<std::vector<double>>());
      b.SetSeries(series.first.as<std::string>(), keep.back().data(),
                  keep.back().size());
    }
    b.EndRow();
  }
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  ASSERT_EQ(result.size(), cases.size());
  for (size_t row = 0; row < cases.size(); ++row) {
    const std::string name = cases[row]["name"].as<std::string>();
    const YAML::Node expect = cases[row]["expect"];
    ASSERT_TRUE(result.ok(row)) << name;
    EXPECT_EQ(model->TierId(result.tier(row)), expect["tier"].as<std::string>())
        << name;
    if (expect["score"]) {
      EXPECT_NEAR(result.score(row), expect["score"].as<double>(), 0.01)
          << name;
    }
    if (expect["coverage"]) {
      EXPECT_NEAR(result.coverage(row), expect["coverage"].as<double>(), 0.01)
          << name;
    }
    for (const auto& g : expect["groups"]) {
      const int group = model->FindGroup(g.first.as<std::string>());
      ASSERT_GE(group, 0) << name;
      EXPECT_NEAR(result.group_score(row, group), g.second.as<double>(), 0.01)
          << name << " group " << g.first.as<std::string>();
    }
    std::vector<std::string> matched;
    for (int p : MatchedPlaybooks(result, row)) {
      matched.push_back(model->playbooks()[p].id);
    }
    EXPECT_EQ(matched, expect["playbooks"].as<std::vector<std::string>>())
        << name;
  }
  // The off-scale answer was a plugin row error, counted for nps.
  EXPECT_EQ(StatsOf("nps").row_errors, 1u);
}

}  // namespace
}  // namespace healthscore::engine
