#include "engine/model_tests/test_runner.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/common/testing/yaml_bombs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model_tests {
namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSupersetOf;
using ::testing::Not;

namespace fs = std::filesystem;

constexpr char kBasicDir[] = HEALTHSCORE_SOURCE_DIR "/engine/io/testdata/basic";

// A directory holding the basic model and the given tests.yaml.
std::string WriteTests(const std::string& name, const std::string& tests,
                       const std::string& model_text = "") {
  const fs::path dir =
      common::testing::ScratchDir("test_runner_" + name);
  if (model_text.empty()) {
    fs::copy_file(fs::path(kBasicDir) / "model.yaml", dir / "model.yaml");
  } else {
    std::ofstream(dir / "model.yaml") << model_text;
  }
  std::ofstream(dir / "tests.yaml") << tests;
  return (dir / "tests.yaml").string();
}

TEST(TestRunnerTest, BundledCasesPass) {
  ASSERT_OK_AND_ASSIGN(TestFileResult r,
                       RunTestFile(std::string(kBasicDir) + "/tests.yaml"));
  EXPECT_TRUE(r.file_errors.empty()) << r.file_errors.ToString();
  EXPECT_EQ(r.selected, 7);
  EXPECT_EQ(r.passed(), 7);
  EXPECT_EQ(r.failed(), 0);
  for (const TestCaseResult& c : r.cases) {
    EXPECT_TRUE(c.passed) << c.name << ": "
                          << ::testing::PrintToString(c.failures);
  }
  EXPECT_EQ(r.cases[0].name, "healthy enterprise account");
  EXPECT_EQ(r.cases[0].location.line, 4);
  EXPECT_EQ(FormatTestFileResult(r, /*verbose=*/false), "");
  EXPECT_THAT(FormatTestFileResult(r, /*verbose=*/true),
              HasSubstr("--- PASS: " + std::string(kBasicDir) +
                        "/tests.yaml:4:5: healthy enterprise account\n"));
}

constexpr char kFailingTests[] = R"(cases:
  - name: wrong tier and score
    account:
      id: initech
      as_of: 2026-11-01
      metrics: {dau_mau: 0.3, csat: 3.5, open_tickets: 5}
      attributes: {segment: mid_market}
    expect:
      tier: green
      score: 90
      score_between: [80, 100]
      coverage: 1
      groups: {usage: 50, support: 60}
      playbooks: [expansion]
      tier_changed: true
  - name: playbook lists
    account:
      id: globex
      as_of: 2026-11-01
      metrics: {dau_mau: 0.1, csat: 2.5, open_tickets: 12}
      dates: {renewal_date: 2026-12-01}
    expect:
      playbooks: [renewal_prep, rescue]
      playbooks_include: [expansion, rescue]
      playbooks_exclude: [rescue]
  - name: same playbooks in another order
    account: {id: g2, as_of: 2026-11-01, metrics: {dau_mau: 0.1, csat: 2.5, open_tickets: 12}, dates: {renewal_date: 2026-12-01}}
    expect:
      playbooks: [renewal_prep, rescue]
  - name: typos
    account: {id: t, metrics: {csat: 4}}
    expect:
      playbook: [rescue]
      tier: gren
      groups: {usge: 1}
      playbooks: [rescu]
  - name: error expected but the account scored
    account: {id: x, metrics: {csat: 4}}
    expect: {error: no id}
  - name: account fails unexpectedly
    account: {id: y, metrics: {dau_mau: bad}}
    expect: {tier: red}
  - name: passes
    account: {id: z, metrics: {csat: 4.5}}
    expect: {tier: insufficient_data}
)";

TEST(TestRunnerTest, FailuresSayWhatWasExpectedAndWhatCame) {
  std::string path = WriteTests("failing", kFailingTests);
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  EXPECT_TRUE(r.file_errors.empty()) << r.file_errors.ToString();
  ASSERT_EQ(r.cases.size(), 7u);
  EXPECT_EQ(r.passed(), 1);
  EXPECT_EQ(r.failed(), 6);

  EXPECT_FALSE(r.cases[0].passed);
  EXPECT_THAT(
      r.cases[0].failures,
      ElementsAre(
          "tier: expected green, got yellow (score 66.85714285714285, "
          "coverage 0.82)",
          "score: expected 90 (+/- 0.01), got 66.85714285714285",
          "score_between: expected a score in [80, 100], got "
          "66.85714285714285",
          "coverage: expected 1 (+/- 0.01), got 0.82",
          "groups.usage: expected 50 (+/- 0.01), got 71.42857142857142",
          "playbooks: expected [expansion], got []; missing: [expansion]",
          "tier_changed: expected true, got false (tier yellow)"));
  EXPECT_THAT(
      r.cases[1].failures,
      ElementsAre("playbooks: expected [renewal_prep, rescue], got [rescue, "
                  "renewal_prep] (same playbooks, different order)",
                  "playbooks_include: missing [expansion], got [rescue, "
                  "renewal_prep]",
                  "playbooks_exclude: unexpected [rescue], got [rescue, "
                  "renewal_prep]"));
  EXPECT_THAT(r.cases[2].failures,
              ElementsAre("playbooks: expected [renewal_prep, rescue], got "
                          "[rescue, renewal_prep] (same playbooks, different "
                          "order)"));
  EXPECT_THAT(
      r.cases[3].failures,
      ElementsAre("expect: unknown key \"playbook\" (did you mean "
                  "'playbooks'?)",
                  "tier: the model has no tier \"gren\" (did you mean "
                  "'green'?)",
                  "groups: the model has no group \"usge\" (did you mean "
                  "'usage'?)",
                  "playbooks: the model has no playbook \"rescu\" (did you "
                  "mean 'rescue'?)"));
  EXPECT_THAT(r.cases[4].failures,
              ElementsAre("error: expected the account to fail with \"no "
                          "id\", but it scored 80 (insufficient_data)"));
  ASSERT_EQ(r.cases[5].failures.size(), 1u);
  EXPECT_THAT(r.cases[5].failures[0],
              HasSubstr("the account failed: " + path +
                        ":41:41: metrics.dau_mau: expected a number"));
  EXPECT_TRUE(r.cases[6].passed);
  EXPECT_THAT(r.cases[6].failures, IsEmpty());

  std::string report = FormatTestFileResult(r, /*verbose=*/false);
  EXPECT_THAT(report,
              HasSubstr("--- FAIL: " + path +
                        ":2:5: wrong tier and score\n"
                        "    tier: expected green, got yellow (score "
                        "66.85714285714285, coverage 0.82)\n"
                        "    score: expected 90 (+/- 0.01), got "
                        "66.85714285714285\n"));
  EXPECT_THAT(report, Not(HasSubstr("passes")));
}

TEST(TestRunnerTest, FailuresRoundNumbersToTheAskedPrecision) {
  std::string path = WriteTests("precision", kFailingTests);
  TestRunOptions options;
  options.name_filter = "wrong tier";
  options.numbers.precision = 4;
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path, options));
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_THAT(
      r.cases[0].failures,
      IsSupersetOf({"tier: expected green, got yellow (score 66.86, coverage "
                    "0.82)",
                    "score: expected 90 (+/- 0.01), got 66.86",
                    "groups.usage: expected 50 (+/- 0.01), got 71.43"}));
}

TEST(TestRunnerTest, ScoreNullAssertsThatTheAccountHasNoScore) {
  // Issue 10: `score: null` used to fail with "expected a number".
  const std::string path = WriteTests("score_null", R"(cases:
  - name: no signal has data
    account: {id: empty, attributes: {segment: smb}}
    expect: {score: null, tier: insufficient_data, playbooks: []}
  - name: tilde is null too
    account: {id: empty2}
    expect:
      score: ~
  - name: empty value
    account: {id: empty3}
    expect:
      score:
  - name: one signal has data
    account: {id: x, metrics: {csat: 4}}
    expect: {score: null}
  - name: not a number
    account: {id: y}
    expect: {score: high}
)");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  EXPECT_TRUE(r.file_errors.empty()) << r.file_errors.ToString();
  ASSERT_EQ(r.cases.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(r.cases[i].passed)
        << r.cases[i].name << ": "
        << ::testing::PrintToString(r.cases[i].failures);
  }
  // An account with too little coverage for a tier still has a score.
  EXPECT_THAT(r.cases[3].failures,
              ElementsAre("score: expected no score (no signal with data), "
                          "got 80 (insufficient_data)"));
  EXPECT_THAT(r.cases[4].failures,
              ElementsAre("score: expected a number, or null for no score"));
}

TEST(TestRunnerTest, FilterSelectsCasesByName) {
  std::string path = WriteTests("filter", kFailingTests);
  TestRunOptions options;
  options.name_filter = "^pass|order";
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path, options));
  EXPECT_EQ(r.selected, 2);
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_EQ(r.cases[0].name, "same playbooks in another order");
  EXPECT_EQ(r.cases[1].name, "passes");
  EXPECT_EQ(r.passed(), 1);
  EXPECT_EQ(r.failed(), 1);

  options.name_filter = "(";
  EXPECT_THAT(RunTestFile(path, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad test name filter \"(\"")));
}

TEST(TestRunnerTest, ErrorExpectationMatchesTheMessage) {
  std::string path = WriteTests("errors", R"(cases:
  - name: wrong message
    account: {id: a, metrics: {dau_mau: x}}
    expect: {error: "not a date"}
  - name: combined with a score
    account: {id: b, metrics: {dau_mau: x}}
    expect: {error: "expected a number", tier: red}
)");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  ASSERT_EQ(r.cases.size(), 2u);
  ASSERT_EQ(r.cases[0].failures.size(), 1u);
  EXPECT_THAT(r.cases[0].failures[0],
              HasSubstr("error: expected a message containing \"not a "
                        "date\", got \"" +
                        path + ":3:41: metrics.dau_mau: expected a number\""));
  EXPECT_THAT(r.cases[1].failures,
              ElementsAre("expect: \"error\" cannot be combined with other "
                          "expectations (a failed account has no score)"));
}

TEST(TestRunnerTest, CaseShapeMistakes) {
  std::string path = WriteTests("shape", R"(cases:
  - name: no account
    expect: {tier: red}
  - account: {id: a}
  - name: extra key
    acount: {id: b}
    account: {id: b}
)");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  ASSERT_EQ(r.cases.size(), 3u);
  EXPECT_THAT(r.cases[0].failures, ElementsAre("the case has no account"));
  EXPECT_EQ(r.cases[1].name, "case at line 4");
  EXPECT_THAT(r.cases[1].failures, ElementsAre("the case has no name"));
  EXPECT_THAT(r.cases[2].failures,
              ElementsAre("unknown key \"acount\" in the case (did you mean "
                          "'account'?)"));
  EXPECT_EQ(r.failed(), 3);
}

TEST(TestRunnerTest, BrokenFilesAreFileErrors) {
  std::string path = WriteTests("syntax", "cases: [\n  {name: a\n");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  ASSERT_EQ(r.file_errors.items().size(), 1u);
  EXPECT_EQ(r.file_errors.items()[0].location.file, path);
  EXPECT_GT(r.file_errors.items()[0].location.line, 0);
  EXPECT_EQ(r.failed(), 1);
  EXPECT_THAT(FormatTestFileResult(r, false),
              HasSubstr("--- FAIL: " + path + "\n    " + path + ":"));

  path = WriteTests("nocases", "case: []\n");
  ASSERT_OK_AND_ASSIGN(r, RunTestFile(path));
  ASSERT_EQ(r.file_errors.items().size(), 1u);
  EXPECT_EQ(r.file_errors.items()[0].message,
            "expected a mapping with a \"cases\" list");
}

TEST(TestRunnerTest, ModelThatDoesNotCompileFailsEveryCase) {
  std::string path = WriteTests(
      "badmodel",
      "cases:\n  - {name: a, account: {id: a}}\n  - {name: b, account: {id: "
      "b}}\n",
      "name: bad\nversion: 1\ninputs: []\ngroups: []\ntiers: []\n");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  EXPECT_FALSE(r.file_errors.empty());
  EXPECT_EQ(r.selected, 2);
  EXPECT_EQ(r.passed(), 0);
  EXPECT_EQ(r.failed(), 2);
  std::string report = FormatTestFileResult(r, false);
  EXPECT_THAT(report, HasSubstr("--- FAIL: " + path + " (2 cases not run)\n"));
  EXPECT_THAT(report, HasSubstr("model.yaml:"));
  EXPECT_THAT(report, HasSubstr(": error: "));
}

TEST(TestRunnerTest, MissingFileIsNotFound) {
  EXPECT_THAT(RunTestFile("/nonexistent/tests.yaml"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot read /nonexistent/tests.yaml")));
}

// tests.yaml is read through the same bounded reader as model files.
TEST(TestRunnerTest, HostileTestsFilesAreOneLocatedFileError) {
  std::string path = WriteTests(
      "recursive", "cases:\n  - &c {name: a, account: {id: a}, again: *c}\n");
  ASSERT_OK_AND_ASSIGN(TestFileResult r, RunTestFile(path));
  ASSERT_EQ(r.file_errors.items().size(), 1u);
  EXPECT_EQ(r.file_errors.items()[0].ToString(),
            path +
                ":2:43: error: invalid YAML: alias '*c' is inside the "
                "node it refers to ('&c' at line 2, column 5): a recursive "
                "alias (hint: an alias may only repeat a node that ends "
                "before it; write the value out instead)");

  const std::string bomb = AliasBomb();
  path = WriteTests("bomb", bomb + "cases: []\n");
  ASSERT_OK_AND_ASSIGN(r, RunTestFile(path));
  ASSERT_EQ(r.file_errors.items().size(), 1u);
  EXPECT_THAT(r.file_errors.items()[0].ToString(),
              HasSubstr(path + ":7:10: error: alias '*a5' expands the YAML "
                               "to more than 1000000 nodes"));

  path = WriteTests("big", "cases: []\n" + std::string(200, '#'));
  TestRunOptions options;
  options.yaml.max_bytes = 100;
  ASSERT_OK_AND_ASSIGN(r, RunTestFile(path, options));
  ASSERT_EQ(r.file_errors.items().size(), 1u);
  EXPECT_THAT(r.file_errors.items()[0].message,
              HasSubstr("over the limit of 100 bytes"));
}

TEST(TestRunnerTest, CancelledBudgetIsAStatus) {
  std::string path = WriteTests("cancelled", "cases: []\n");
  std::atomic<bool> cancelled{true};
  TestRunOptions options;
  options.budget.cancelled = &cancelled;
  EXPECT_THAT(RunTestFile(path, options),
              StatusIs(absl::StatusCode::kCancelled,
                       HasSubstr("the model load was cancelled")));
}

}  // namespace
}  // namespace healthscore::engine::model_tests
