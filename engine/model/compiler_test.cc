#include "engine/model/compiler.h"

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/testing/stack_use.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/model/model_plan.h"
#include "engine/model/testing/minimal_model.h"
#include "engine/model/yaml_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A small valid model; tests splice mistakes into copies of it.
constexpr char kModel[] = R"yaml(name: tiny
version: 1
segment_by: segment
min_coverage: 0.5
hysteresis: 2
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: csat, type: number}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: renewal_date, type: date}
  - {id: wau, type: series}
derived:
  - id: days_to_renewal
    expr: "days_between(as_of, renewal_date)"
  - id: usage_trend
    expr: "pct_change(wau, 2, 2)"
groups:
  - id: usage
    weight: 0.6
    signals:
      - id: stickiness
        source: dau_mau
        weight: 1
        normalize: {linear: {bad: 0.1, good: 0.5}}
        overrides:
          enterprise: {weight: 1, normalize: {linear: {bad: 0.2, good: 0.6}}}
  - id: sentiment
    weight: 0.4
    signals:
      - id: satisfaction
        source: csat
        weight: 1
        normalize: {steps: [{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}]}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50}
  - {id: red, min: 0}
playbooks:
  - id: rescue
    name: Rescue
    owner: csm
    priority: 1
    when: 'tier == "red" && segment == "enterprise"'
    success: 'score >= 60'
)yaml";

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string Errors(const CompileResult& r) { return r.diagnostics.ToString(); }

TEST(CompilerTest, CompilesAValidModel) {
  CompileResult r = CompileString(kModel, "tiny.yaml");
  ASSERT_NE(r.model, nullptr) << Errors(r);
  const CompiledModel& m = *r.model;
  EXPECT_EQ(m.name(), "tiny");
  EXPECT_EQ(m.version(), "1");
  EXPECT_EQ(m.hash().size(), 64u);
  ASSERT_EQ(m.signals().size(), 2u);
  EXPECT_DOUBLE_EQ(m.signals()[0].share, 0.6);
  EXPECT_DOUBLE_EQ(m.signals()[1].share, 0.4);
  ASSERT_EQ(m.tiers().size(), 3u);
  EXPECT_EQ(m.tiers()[0].id, "green");
  EXPECT_DOUBLE_EQ(m.tiers()[1].max, 80);
  EXPECT_EQ(m.FindTier("red"), 2);
  EXPECT_EQ(m.FindTier("insufficient_data"), kInsufficientDataTier);
  EXPECT_EQ(m.FindTier("purple"), -2);
  EXPECT_EQ(m.segment_input(), m.FindInput("segment"));
  EXPECT_GT(m.plan().program->step_count(), 0u);
}

TEST(CompilerTest, HashIgnoresLayoutAndCommentsButNotSemantics) {
  CompileResult a = CompileString(kModel, "a.yaml");
  CompileResult b = CompileString(
      Replace(std::string("# a comment\n") + kModel, "weight: 0.6",
              "weight:   0.6   # sixty percent"),
      "b.yaml");
  CompileResult c = CompileString(Replace(kModel, "bad: 0.1", "bad: 0.15"),
                                  "c.yaml");
  ASSERT_NE(a.model, nullptr);
  ASSERT_NE(b.model, nullptr);
  ASSERT_NE(c.model, nullptr);
  EXPECT_EQ(a.model->hash(), b.model->hash());
  EXPECT_NE(a.model->hash(), c.model->hash());
}

TEST(CompilerTest, UnknownNameInExpressionPointsAtIt) {
  CompileResult r = CompileString(
      Replace(kModel, "days_between(as_of, renewal_date)",
              "days_between(as_of, renewl_date)"),
      "m.yaml");
  EXPECT_EQ(r.model, nullptr);
  // The expression starts at column 12 of line 14 (after the quote).
  EXPECT_THAT(Errors(r),
              AllOf(HasSubstr("m.yaml:14:32: error: in derived expression: "
                              "unknown name 'renewl_date'"),
                    HasSubstr("did you mean 'renewal_date'?")));
}

// The names a derived value may read come from the one table of
// condition_scope.h: an output of scoring is refused with the reason, as a
// route refuses it, not with a "did you mean".
TEST(CompilerTest, DerivedValueCannotReadAnOutputOfScoring) {
  CompileResult r = CompileString(
      Replace(kModel, "days_between(as_of, renewal_date)", "score + 1"),
      "m.yaml");
  EXPECT_EQ(r.model, nullptr);
  EXPECT_THAT(Errors(r),
              HasSubstr("m.yaml:14:12: error: in derived expression: unknown "
                        "name 'score' (hint: 'score' is an output of scoring; "
                        "a derived value may read inputs, other derived "
                        "values, as_of, previous_score and previous_tier)"));
  // What is given with the snapshot is readable.
  r = CompileString(Replace(kModel, "days_between(as_of, renewal_date)",
                            "coalesce(previous_score, 0) + 1"),
                    "m.yaml");
  EXPECT_NE(r.model, nullptr) << Errors(r);
}

TEST(CompilerTest, ModelDefinedNamesAreReserved) {
  CompileResult r = CompileString(
      Replace(kModel, "{id: csat, type: number}", "{id: raw, type: number}"),
      "m.yaml");
  EXPECT_THAT(Errors(r),
              HasSubstr("'raw' is a reserved name (hint: pick another id; "
                        "reserved: score, tier, coverage, as_of, "
                        "previous_score, previous_tier, score_delta, "
                        "tier_changed, groups, signals, raw)"));
}

TEST(CompilerTest, TypeErrorIsReported) {
  CompileResult r = CompileString(
      Replace(kModel, R"(segment == "enterprise")", "segment > 3"), "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("'>' does not apply to strings"));
}

TEST(CompilerTest, UndeclaredStringValueIsAnError) {
  CompileResult r = CompileString(
      Replace(kModel, R"(segment == "enterprise")",
              R"(segment == "enterprize")"),
      "m.yaml");
  EXPECT_THAT(Errors(r),
              AllOf(HasSubstr("'enterprize' is not a declared value of "
                              "'segment'"),
                    HasSubstr("did you mean 'enterprise'?")));
}

TEST(CompilerTest, UnknownTierInConditionIsAnError) {
  CompileResult r = CompileString(
      Replace(kModel, R"(tier == "red")", R"(tier == "redd")"), "m.yaml");
  EXPECT_THAT(Errors(r), AllOf(HasSubstr("'redd' is not a tier of this model"),
                               HasSubstr("did you mean 'red'?")));
}

TEST(CompilerTest, CycleAmongDerivedIsReportedWithItsPath) {
  std::string text = Replace(kModel, "expr: \"pct_change(wau, 2, 2)\"",
                             "expr: \"days_to_renewal + loop_b\"\n"
                             "  - id: loop_b\n    expr: \"usage_trend * 2\"");
  CompileResult r = CompileString(text, "m.yaml");
  EXPECT_THAT(Errors(r),
              HasSubstr("derived values depend on each other in a cycle: "));
  EXPECT_THAT(Errors(r), HasSubstr("usage_trend -> loop_b -> usage_trend"));
}

// `n` derived values, each reading the one before; the first reads x, or,
// for a cycle, the last.
std::string ChainOfDerived(int n, bool cycle) {
  std::string text = R"(name: chain
version: 1
inputs:
  - {id: x, type: number}
derived:
)";
  for (int i = 0; i < n; ++i) {
    const std::string read = i > 0   ? absl::StrCat("d", i - 1)
                             : cycle ? absl::StrCat("d", n - 1)
                                     : std::string("x");
    absl::StrAppend(&text, "  - {id: d", i, ", expr: \"", read, " + 1\"}\n");
  }
  absl::StrAppend(&text, R"(groups:
  - id: g
    weight: 1
    signals:
      - {id: s, source: d)",
                  n - 1, R"(, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)");
  return text;
}

TEST(CompilerTest, LongChainsOfDerivedValuesNeedNoDeepStack) {
  // The order of derived values used to be found by recursion, one frame
  // per link: 5,000 links overflowed a small stack.
  CompileResult chain, cycle;
  const common::testing::StackUse use =
      common::testing::RunOnStack(common::testing::kSmallStack, [&] {
        chain = CompileString(ChainOfDerived(5000, false), "chain.yaml");
        cycle = CompileString(ChainOfDerived(5000, true), "cycle.yaml");
      });
  ASSERT_TRUE(use.ran);
  EXPECT_LT(use.used, common::testing::kSmallStack / 2);
  EXPECT_NE(chain.model, nullptr) << Errors(chain);
  // A long cycle is named by its ends.
  EXPECT_EQ(Errors(cycle),
            "cycle.yaml:4:10: warning: input 'x' is declared but nothing "
            "reads it (hint: remove it, or use it in a derived value, signal "
            "or playbook)\n"
            "cycle.yaml:6:20: error: derived values depend on each other in "
            "a cycle: d0 -> d4999 -> d4998 -> d4997 -> d4996 -> (4991 more) "
            "-> d4 -> d3 -> d2 -> d1 -> d0 (hint: break the cycle: a derived "
            "value cannot read itself)");
}

TEST(CompilerTest, EveryValueInACycleIsLeftUnchecked) {
  // c is in the cycle a -> c -> b -> a without closing one itself: it is
  // not checked (which would report b as an unknown name) either.
  const std::string text = testing::MinimalModel(
      "m",
      "  - {id: a, expr: \"b + c + x\"}\n"
      "  - {id: b, expr: \"a * 2\"}\n"
      "  - {id: c, expr: \"b - 1\"}\n");
  EXPECT_EQ(Errors(CompileString(text, "m.yaml")),
            "m.yaml:6:19: error: derived values depend on each other in a "
            "cycle: a -> b -> a (hint: break the cycle: a derived value "
            "cannot read itself)");
}

TEST(CompilerTest, DerivedValueComparesAStringInputWithoutDeclaredValues) {
  // The literal must be in the input's dictionary before the derived value
  // is checked; it used to fail with an empty message.
  const std::string text = Replace(
      Replace(kModel, "  - {id: wau, type: series}\n",
              "  - {id: wau, type: series}\n  - {id: plan, type: string}\n"),
      "derived:\n",
      "derived:\n  - id: on_growth\n    expr: 'plan == \"growth\"'\n");
  CompileResult r = CompileString(text, "m.yaml");
  ASSERT_NE(r.model, nullptr) << Errors(r);
  EXPECT_GE(r.model->StringCode(r.model->inputs()[r.model->FindInput("plan")]
                                    .column,
                                "growth"),
            0);
}

TEST(CompilerTest, StringCodesAndTiersAreFoundInDictionariesOfAnySize) {
  // A few names are scanned, more are hashed (compiled_model.cc): either
  // way a name finds its own place, and no near miss finds one.
  for (int n : {1, 2, 7, 8, 9, 20}) {
    SCOPED_TRACE(n);
    std::vector<std::string> values, tiers;
    std::string values_yaml, tiers_yaml;
    for (int i = 0; i < n; ++i) {
      // Two digits each, so that no name is a prefix of another.
      const std::string digits = absl::StrCat(i < 10 ? "0" : "", i);
      values.push_back(absl::StrCat("v", std::string(i % 3, 'x'), digits));
      tiers.push_back(absl::StrCat("t", std::string(i % 4, 'y'), digits));
      absl::StrAppend(&values_yaml, i == 0 ? "" : ", ", values.back());
      absl::StrAppend(&tiers_yaml, "  - {id: ", tiers.back(), ", min: ",
                      i + 1 == n ? 0 : 100 - 4 * (i + 1), "}\n");
    }
    std::string text = Replace(kModel, "values: [smb, enterprise]",
                               absl::StrCat("values: [", values_yaml, "]"));
    text = Replace(text, "          enterprise: {weight",
                   absl::StrCat("          ", values[0], ": {weight"));
    text = Replace(text, "segment == \"enterprise\"",
                   absl::StrCat("segment == \"", values[0], "\""));
    text = Replace(text,
                   "  - {id: green, min: 80}\n  - {id: yellow, min: 50}\n"
                   "  - {id: red, min: 0}\n",
                   tiers_yaml);
    text = Replace(text, "tier == \"red\"",
                   absl::StrCat("tier == \"", tiers.back(), "\""));
    CompileResult r = CompileString(text, "m.yaml");
    ASSERT_NE(r.model, nullptr) << Errors(r);
    const CompiledModel& m = *r.model;
    const int column = m.inputs()[m.FindInput("segment")].column;
    for (int i = 0; i < n; ++i) {
      const std::string& v = values[i];
      EXPECT_EQ(m.StringCode(column, v), i) << v;
      EXPECT_EQ(m.StringValue(column, i), v);
      for (const std::string& miss :
           {v.substr(0, v.size() - 1), v + "x", "w" + v.substr(1),
            v.substr(0, v.size() - 1) + "#"}) {
        EXPECT_EQ(m.StringCode(column, miss), kUnknownString) << miss;
      }
      const std::string& t = tiers[i];
      EXPECT_EQ(m.FindTier(t), i) << t;
      EXPECT_EQ(m.TierId(i), t);
      EXPECT_EQ(m.FindTier(t + "y"), -2) << t;
      EXPECT_EQ(m.FindTier(t.substr(0, t.size() - 1)), -2) << t;
    }
    EXPECT_EQ(m.StringCode(column, ""), kUnknownString);
    EXPECT_EQ(m.FindTier(""), -2);
    EXPECT_EQ(m.FindTier("insufficient_data"), kInsufficientDataTier);
  }
}

TEST(CompilerTest, NonPositiveWeightsAreErrors) {
  CompileResult r =
      CompileString(Replace(Replace(kModel, "weight: 0.6", "weight: 0"),
                            "        weight: 1\n        normalize: {steps",
                            "        weight: -2\n        normalize: {steps"),
                    "m.yaml");
  EXPECT_THAT(Errors(r),
              AllOf(HasSubstr("m.yaml:19:13: error: group 'usage' has weight "
                              "0; weights must be positive"),
                    HasSubstr("signal 'satisfaction' has weight -2")));
}

TEST(CompilerTest, EqualThresholdsAreErrors) {
  CompileResult r = CompileString(
      Replace(kModel, "bad: 0.1, good: 0.5", "bad: 0.5, good: 0.5"), "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("linear thresholds are equal"));
  r = CompileString(Replace(kModel, "{below: 4, score: 50}",
                            "{below: 3, score: 50}"),
                    "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("step thresholds are equal (below 3 "
                                   "twice)"));
}

TEST(CompilerTest, TierOverlapAndGapAreErrors) {
  CompileResult r = CompileString(
      Replace(kModel, "{id: yellow, min: 50}", "{id: yellow, min: 80}"),
      "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("tiers 'green' and 'yellow' both start at "
                                   "80: they overlap"));
  r = CompileString(Replace(kModel, "{id: red, min: 0}", "{id: red, min: 10}"),
                    "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("the lowest tier 'red' starts at 10, so "
                                   "scores below 10 have no tier"));
  r = CompileString(Replace(kModel, "{id: yellow, min: 50}",
                            "{id: yellow, min: 50, max: 79}"),
                    "m.yaml");
  EXPECT_THAT(Errors(r), AllOf(HasSubstr("tier 'yellow' ends at 79 but "
                                         "'green' starts at 80: scores in "
                                         "between have no tier"),
                               HasSubstr("set max: 80")));
}

// Messages quote the model's numbers as written: with 6 significant digits
// a max of 79.9999999 read "ends at 80 but 'green' starts at 80".
TEST(CompilerTest, MessagesQuoteNumbersExactly) {
  CompileResult r = CompileString(Replace(kModel, "{id: yellow, min: 50}",
                                          "{id: yellow, min: 50, "
                                          "max: 79.9999999}"),
                                  "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("tier 'yellow' ends at 79.9999999 but "
                                   "'green' starts at 80: scores in between "
                                   "have no tier"));
  r = CompileString(Replace(kModel, "{below: 4, score: 50}",
                            "{below: 2.9999999, score: 50}"),
                    "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("step thresholds must increase: below "
                                   "2.9999999 comes after below 3"));
  r = CompileString(Replace(kModel, "min_coverage: 0.5",
                            "min_coverage: 1.0000001"),
                    "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("min_coverage 1.0000001 is outside 0..1"));
}

TEST(CompilerTest, ImpossiblePlaybookConditionIsAnError) {
  CompileResult r = CompileString(
      Replace(kModel, R"(tier == "red" && segment == "enterprise")",
              "score > 80 && score < 50"),
      "m.yaml");
  EXPECT_THAT(Errors(r),
              HasSubstr("playbook 'rescue' can never trigger: 'score > 80' "
                        "and 'score < 50' cannot both be true (hint: fix the "
                        "condition, or remove the playbook)"));
  r = CompileString(Replace(kModel, R"(tier == "red" && segment == "enterprise")",
                            "coverage > 1"),
                    "m.yaml");
  EXPECT_THAT(Errors(r),
              HasSubstr("playbook 'rescue' can never trigger: 'coverage > 1' "
                        "can never be true: coverage is between 0 and 1"));
}

// A long never-true condition is not echoed whole: the reason quotes the
// comparisons that conflict, each cut to 200 bytes.
TEST(CompilerTest, ImpossibleLongConditionIsQuotedInPart) {
  std::string when = "score > 80 && score < 50";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&when, " && score > ", i % 50);
  CompileResult r = CompileString(
      Replace(kModel, R"(tier == "red" && segment == "enterprise")", when),
      "m.yaml");
  const std::string errors = Errors(r);
  EXPECT_THAT(errors, HasSubstr("playbook 'rescue' can never trigger: 'score "
                                "> 80' and 'score < 50' cannot both be true"));
  EXPECT_LT(errors.size(), 2000u);

  std::string sum = "score > 101";
  for (int i = 0; i < 60; ++i) sum += " + 0";
  r = CompileString(
      Replace(kModel, R"(tier == "red" && segment == "enterprise")", sum),
      "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr(" ...' can never be true: score is "
                                   "between 0 and 100"));
  EXPECT_LT(Errors(r).size(), 1000u);
}

TEST(CompilerTest, DuplicateIdsAreErrors) {
  CompileResult r = CompileString(
      Replace(kModel, "- id: satisfaction", "- id: stickiness"), "m.yaml");
  EXPECT_THAT(Errors(r), HasSubstr("duplicate signal id 'stickiness'"));
}

TEST(CompilerTest, SignalSourceMustBeANumber) {
  CompileResult r = CompileString(
      Replace(kModel, "source: csat", "source: renewal_date"), "m.yaml");
  EXPECT_THAT(Errors(r),
              AllOf(HasSubstr("signal 'satisfaction' reads 'renewal_date', a "
                              "date; a signal's source must be a number"),
                    HasSubstr("days_since(renewal_date)")));
}

TEST(CompilerTest, WarnsAboutUnusedInputsButNotWeightSums) {
  // Weights are divided by their sum (documented): group weights of 60 and
  // 40 and signal weights of 1 and 1 are the commonest idiom, not a
  // mistake, and used to warn on every run (issue 10).
  std::string text = Replace(Replace(kModel, "weight: 0.6", "weight: 60"),
                             "weight: 0.4", "weight: 40");
  text = Replace(text, "  - {id: csat, type: number}",
                 "  - {id: csat, type: number}\n  - {id: nps, type: number}");
  text = Replace(text, "bad: 0.2, good: 0.6}}}\n",
                 "bad: 0.2, good: 0.6}}}\n"
                 "      - {id: loyalty, source: nps, weight: 1, normalize: "
                 "{linear: {bad: 0, good: 10}}}\n");
  text = Replace(text, "  - {id: csat, type: number}\n",
                 "  - {id: csat, type: number}\n"
                 "  - {id: unread, type: number}\n");
  CompileResult r = CompileString(text, "m.yaml");
  ASSERT_NE(r.model, nullptr) << Errors(r);
  EXPECT_EQ(Errors(r),
            "m.yaml:9:10: warning: input 'unread' is declared but nothing "
            "reads it (hint: remove it, or use it in a derived value, signal "
            "or playbook)");
  EXPECT_EQ(r.model->warnings().warning_count(), 1);
  // Shares are the weights divided by their sums.
  EXPECT_DOUBLE_EQ(r.model->signals()[0].share, 0.6 * 0.5);
  EXPECT_DOUBLE_EQ(r.model->signals()[1].share, 0.6 * 0.5);
  EXPECT_DOUBLE_EQ(r.model->signals()[2].share, 0.4);
}

TEST(CompilerTest, ReportsEveryErrorAtOnce) {
  std::string text = Replace(kModel, "weight: 0.6", "weight: 0");
  text = Replace(text, "{id: red, min: 0}", "{id: red, min: 5}");
  text = Replace(text, R"(tier == "red")", R"(tier == "blue")");
  CompileResult r = CompileString(text, "m.yaml");
  EXPECT_EQ(r.diagnostics.error_count(), 3) << Errors(r);
}

TEST(CompilerTest, UnreadableFileNamesThePath) {
  auto status = LoadModel("/nonexistent/model.yaml");
  EXPECT_THAT(status, ::healthscore::engine::common::testing::StatusIs(
                          absl::StatusCode::kInvalidArgument,
                          HasSubstr("/nonexistent/model.yaml: "
                                    "error: cannot read")));
}

TEST(CompilerTest, BundledModelsCompileWithoutErrorsOrWarnings) {
  for (const char* path :
       {"rules/default/1/model.yaml", "rules/adoption_trends/1/model.yaml"}) {
    CompileResult r = CompileFile(path);
    EXPECT_NE(r.model, nullptr) << path << "\n" << Errors(r);
    EXPECT_FALSE(r.diagnostics.has_errors()) << Errors(r);
    // `healthscore score` notes warnings on every run.
    EXPECT_EQ(r.diagnostics.warning_count(), 0) << Errors(r);
  }
}

// --- Hostile input (issue 9) -------------------------------------------------

std::vector<std::string> Lines(const CompileResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics.items()) out.push_back(d.ToString());
  return out;
}

TEST(CompilerHostileInputTest, SyntaxErrorIsTheOnlyDiagnostic) {
  // Before: "the model has no groups" and "... no tiers", unlocated and
  // counted, came first (3 errors for 1).
  CompileResult r = CompileString("name: tiny\ninputs: [1, 2\n", "m.yaml");
  EXPECT_THAT(Lines(r), ElementsAre("m.yaml:3:1: error: invalid YAML: end of "
                                    "sequence flow not found (hint: a '[' or "
                                    "'{' is not closed)"));
  EXPECT_EQ(r.diagnostics.error_count(), 1);
  EXPECT_EQ(r.model, nullptr);
  EXPECT_TRUE(r.status.ok());

  for (const std::string& text :
       {std::string("- a\n"), std::string(""), std::string("just text\n")}) {
    CompileResult other = CompileString(text, "m.yaml");
    EXPECT_EQ(other.diagnostics.error_count(), 1) << Errors(other);
    for (const Diagnostic& d : other.diagnostics.items()) {
      EXPECT_GT(d.location.line, 0) << d.ToString();
    }
  }
}

TEST(CompilerHostileInputTest, UnreadableSpecCompilesToNothing) {
  DiagnosticList diags;
  ModelSpec spec = LoadModelSpecFromString("a: [\n", "m.yaml", &diags);
  ASSERT_TRUE(spec.unreadable);
  CompileResult r = Compile(spec);  // as `healthscore lint` calls it
  EXPECT_TRUE(r.diagnostics.empty()) << Errors(r);
  EXPECT_EQ(r.model, nullptr);
}

TEST(CompilerHostileInputTest, RecursiveAliasesAreOneErrorNotACrash) {
  const std::string plugin =
      "plugins: [{id: p, library: nps, config: &c {k: *c}}]\n";
  CompileResult r = CompileString(plugin + kModel, "m.yaml");
  EXPECT_THAT(Lines(r),
              ElementsAre(HasSubstr("m.yaml:1:48: error: invalid YAML: alias "
                                    "'*c' is inside the node it refers to")));
  const std::string params = Replace(
      kModel, "derived:\n",
      "derived:\n  - {id: q, plugin: p, signal: s, params: &p {a: [*p]}}\n");
  r = CompileString(params, "m.yaml");
  EXPECT_THAT(Lines(r),
              ElementsAre(HasSubstr("error: invalid YAML: alias '*p' is "
                                    "inside the node it refers to")));
}

TEST(CompilerHostileInputTest, EmptyLibraryIsALocatedError) {
  for (const std::string library : {"''", "\"  \""}) {
    const std::string text = absl::StrCat(
        "plugins:\n  - id: p\n    library: ", library, "\n", kModel);
    CompileResult r = CompileString(text, "m.yaml");
    EXPECT_THAT(Lines(r),
                ::testing::Contains(
                    "m.yaml:3:14: error: 'library' of plugin 'p' is empty "
                    "(hint: name the plugin's library file in a plugin "
                    "directory, e.g. library: nps for libhs_nps.so)"))
        << library;
    EXPECT_EQ(r.diagnostics.error_count(), 1) << Errors(r);
    EXPECT_EQ(r.model, nullptr);
    // Through Compile(spec), as lint does: still exactly once.
    DiagnosticList diags;
    ModelSpec spec = LoadModelSpecFromString(text, "m.yaml", &diags);
    CompileResult c = Compile(spec);
    EXPECT_FALSE(c.diagnostics.has_errors()) << Errors(c);
    EXPECT_EQ(diags.error_count(), 1);
  }
}

TEST(CompilerHostileInputTest, CancelledBudgetStopsTheCompile) {
  std::atomic<bool> cancelled{true};
  CompileOptions options;
  options.budget.cancelled = &cancelled;
  CompileResult r = CompileString(kModel, "tiny.yaml", options);
  EXPECT_THAT(r.status, ::healthscore::engine::common::testing::StatusIs(
                            absl::StatusCode::kCancelled,
                            "the model load was cancelled"));
  EXPECT_EQ(r.model, nullptr);

  // A spec read before the flag was raised stops at the first phase.
  DiagnosticList diags;
  ModelSpec spec = LoadModelSpecFromString(kModel, "tiny.yaml", &diags);
  ASSERT_FALSE(diags.has_errors());
  CompileResult c = Compile(spec, options);
  EXPECT_THAT(c.status,
              ::healthscore::engine::common::testing::StatusIs(
                  absl::StatusCode::kCancelled, HasSubstr("cancelled")));
  EXPECT_EQ(c.model, nullptr);
}

TEST(CompilerHostileInputTest, PassedDeadlineIsDeadlineExceeded) {
  CompileOptions options;
  options.budget.deadline = absl::Now() - absl::Seconds(1);
  CompileResult r = CompileString(kModel, "tiny.yaml", options);
  EXPECT_THAT(r.status,
              ::healthscore::engine::common::testing::StatusIs(
                  absl::StatusCode::kDeadlineExceeded,
                  "the model load ran past its deadline and was abandoned"));
  EXPECT_EQ(r.model, nullptr);

  const std::string path = common::testing::ScratchFile("deadline_model.yaml");
  std::ofstream(path) << kModel;
  EXPECT_THAT(LoadModel(path, options),
              ::healthscore::engine::common::testing::StatusIs(
                  absl::StatusCode::kDeadlineExceeded, HasSubstr("deadline")));
  options.budget = common::LoadBudget{};
  EXPECT_TRUE(LoadModel(path, options).ok());
}

TEST(CompilerHostileInputTest, OversizeFileIsOneErrorAndNotRead) {
  const std::string path = common::testing::ScratchFile("oversize_model.yaml");
  std::ofstream(path) << kModel;
  CompileOptions options;
  options.yaml.max_bytes = 64;
  CompileResult r = CompileFile(path, options);
  EXPECT_THAT(Lines(r),
              ElementsAre(AllOf(HasSubstr(path + ": error: the YAML is "),
                                HasSubstr("over the limit of 64 bytes"),
                                HasSubstr("--max-model-bytes"))));
  EXPECT_EQ(r.model, nullptr);
}

}  // namespace
}  // namespace healthscore::engine::model
