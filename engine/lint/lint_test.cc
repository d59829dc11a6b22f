#include "engine/lint/lint.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/model/compiler.h"
#include "engine/model/yaml_loader.h"
#include "engine/repository/testing/test_repo.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::lint {

using model::Compile;
using model::Diagnostic;
using model::DiagnosticList;
using model::LoadModelSpecFromFile;
using model::LoadModelSpecFromString;

namespace {

using ::healthscore::engine::repository::testing::TempRepo;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Repeat(const std::string& s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s;
  return out;
}

// Lints `text` as file "m.yaml" outside a repository; returns the findings
// as validate prints them.
std::vector<std::string> Lint(const std::string& text,
                              const LintContext& context = {}) {
  DiagnosticList diags;
  model::ModelSpec spec = LoadModelSpecFromString(text, "m.yaml", &diags);
  model::CompileResult compiled = Compile(spec);
  EXPECT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
  if (compiled.model == nullptr) return {"does not compile"};
  const DiagnosticList findings = LintModel(spec, *compiled.model, context);
  std::vector<std::string> out;
  for (const Diagnostic& d : findings.items()) out.push_back(d.ToString());
  return out;
}

std::vector<std::string> LintFile(const std::string& path) {
  DiagnosticList diags;
  auto spec = LoadModelSpecFromFile(path, &diags);
  EXPECT_TRUE(spec.ok()) << spec.status();
  model::CompileResult compiled = Compile(*spec);
  EXPECT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
  if (compiled.model == nullptr) return {"does not compile"};
  DiagnosticList context_diags;
  LintContext context = LintContextForFile(path, &context_diags);
  std::vector<std::string> out;
  for (const Diagnostic& d : context_diags.items()) out.push_back(d.ToString());
  const DiagnosticList findings = LintModel(*spec, *compiled.model, context);
  for (const Diagnostic& d : findings.items()) out.push_back(d.ToString());
  return out;
}

// Two signals: `a` (linear, 0..100) and `b` (NORM_B), weights WA and WB in
// one group; tiers green 80+, yellow 50-80, red below 50.
std::string TwoSignals(const std::string& norm_b, double wa = 0.5,
                       double wb = 0.5, double min_coverage = 0.5,
                       const std::string& playbooks = "") {
  return absl::StrCat(R"(name: m
version: 1
min_coverage: )",
                      min_coverage, R"(
inputs:
  - {id: a, type: number}
  - {id: b, type: number}
groups:
  - id: g
    weight: 1
    signals:
      - id: a
        source: a
        weight: )",
                      wa, R"(
        normalize:
          linear: {bad: 0, good: 1}
      - id: b
        source: b
        weight: )",
                      wb, R"(
        normalize:
          )",
                      norm_b, R"(
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50, max: 80}
  - {id: red, min: 0, max: 50}
)",
                      playbooks);
}

TEST(LintTest, CleanModelHasNoFindings) {
  EXPECT_THAT(Lint(TwoSignals("linear: {bad: 0, good: 1}")), IsEmpty());
}

TEST(LintTest, TierAboveTheHighestReachableScore) {
  // b alone (coverage 0.5 >= min_coverage 0.5) scores at most 40; with a
  // the mean is at most (100 + 40) / 2 = 70; a alone at most 100. So only
  // with min_coverage above 0.5 is green out of reach.
  const std::string capped = "steps: [{below: 1, score: 40}, {score: 10}]";
  EXPECT_THAT(Lint(TwoSignals(capped, 0.5, 0.5, 0.5)), IsEmpty());
  EXPECT_THAT(
      Lint(TwoSignals(capped, 0.5, 0.5, 0.6)),
      ElementsAre("m.yaml:22:22: error: tier 'green' can never be reached: "
                  "the highest score this model can give is 70, below its "
                  "min 80 (hint: lower the tier's min, or let these signals "
                  "reach 100: b (at most 40))"));
}

TEST(LintTest, TierBelowTheLowestReachableScore) {
  // Both signals at least 60: red (below 50) is out of reach.
  std::string text = TwoSignals("piecewise: [[0, 60], [1, 100]]");
  text = absl::StrCat(text.substr(0, text.find("linear: {bad: 0, good: 1}")),
                      "piecewise: [[0, 60], [1, 100]]",
                      text.substr(text.find("linear: {bad: 0, good: 1}") + 25));
  EXPECT_THAT(
      Lint(text),
      ElementsAre("m.yaml:24:20: error: tier 'red' can never be reached: the "
                  "lowest score this model can give is 60, not below its max "
                  "50 (hint: raise the tier's max, or let these signals reach "
                  "0: a (at least 60), b (at least 60))"));
}

TEST(LintTest, SegmentOverrideMakesATierReachable) {
  const std::string text = R"(name: m
version: 1
segment_by: segment
inputs:
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: a, type: number}
groups:
  - id: g
    weight: 1
    signals:
      - id: a
        source: a
        weight: 1
        normalize:
          steps: [{below: 1, score: 70}, {score: 20}]
        overrides:
          OVERRIDE
tiers:
  - {id: green, min: 80}
  - {id: red, min: 0, max: 80}
)";
  std::string with = text;
  with.replace(with.find("OVERRIDE"), 8,
               "enterprise: {normalize: {linear: {bad: 0, good: 1}}}");
  EXPECT_THAT(Lint(with), IsEmpty());
  std::string without = text;
  without.replace(without.find("OVERRIDE"), 8, "enterprise: {weight: 2}");
  EXPECT_THAT(Lint(without),
              ElementsAre(::testing::StartsWith(
                  "m.yaml:19:22: error: tier 'green' can never be reached: "
                  "the highest score this model can give is 70")));
}

TEST(LintTest, PlaybooksThatCanNeverTrigger) {
  const std::string capped = "steps: [{below: 1, score: 40}, {score: 10}]";
  const std::string playbooks = R"(playbooks:
  - {id: p_green, name: G, owner: o, priority: 1, when: tier == "green"}
  - {id: p_score, name: S, owner: o, priority: 2, when: score >= 90}
  - {id: p_insufficient, name: I, owner: o, priority: 3, when: tier == "insufficient_data"}
  - {id: p_signal, name: B, owner: o, priority: 4, when: signals.b > 50 && a > 0}
  - {id: p_either, name: E, owner: o, priority: 5, when: tier == "green" || score < 20}
  - {id: p_not_red, name: N, owner: o, priority: 6, when: 'tier in ["green"]'}
  - {id: p_fine, name: F, owner: o, priority: 7, when: tier != "green" && groups.g > 60}
  - {id: p_neg, name: X, owner: o, priority: 8, when: '!(tier != "green")'}
)";
  EXPECT_THAT(
      Lint(TwoSignals(capped, 0.5, 0.5, 0.6, playbooks)),
      ElementsAre(
          ::testing::StartsWith("m.yaml:22:22: error: tier 'green' can never "
                                "be reached"),
          "m.yaml:26:57: error: playbook 'p_green' can never trigger: tier "
          "'green' can never be reached (hint: fix the condition, or remove "
          "the playbook)",
          "m.yaml:27:57: error: playbook 'p_score' can never trigger: 'score "
          ">= 90' can never be true: score is between 5 and 70 (hint: fix "
          "the condition, or remove the playbook)",
          "m.yaml:28:64: error: playbook 'p_insufficient' can never trigger: "
          "no playbook fires on an insufficient_data account (hint: fix the "
          "condition, or remove the playbook)",
          "m.yaml:29:58: error: playbook 'p_signal' can never trigger: "
          "'signals.b > 50' can never be true: signals.b is between 10 and "
          "40 (hint: fix the condition, or remove the playbook)",
          "m.yaml:31:60: error: playbook 'p_not_red' can never trigger: tier "
          "'green' can never be reached (hint: fix the condition, or remove "
          "the playbook)",
          "m.yaml:33:56: error: playbook 'p_neg' can never trigger: 'tier != "
          "\"green\"' is always true (hint: fix the condition, or remove the "
          "playbook)"));
}

// Lint decides with the one decider the compiler uses (expr/truth.h), so it
// sees everything the compiler's check does, with lint's tighter facts: a
// playbook fires only on accounts with a tier, whose score is never missing.
// (Lint's own decider ignored has() and missed this playbook.)
TEST(LintTest, PlaybookThatNeedsAMissingScore) {
  const std::string playbooks = R"(playbooks:
  - {id: p_unscored, name: U, owner: o, priority: 1, when: '!has(score)'}
  - {id: p_no_b, name: B, owner: o, priority: 2, when: '!has(b)'}
)";
  EXPECT_THAT(
      Lint(TwoSignals("linear: {bad: 0, good: 1}", 0.5, 0.5, 0.5, playbooks)),
      ElementsAre("m.yaml:26:61: error: playbook 'p_unscored' can never "
                  "trigger: 'has(score)' is always true: score is never "
                  "missing here (hint: fix the condition, or remove the "
                  "playbook)"));
}

TEST(LintTest, LongConditionsAreQuotedInPart) {
  const std::string capped = "steps: [{below: 1, score: 40}, {score: 10}]";
  // 100 conditions that can never be true, joined by ||: the finding gives
  // the first reasons, then "...", not a reason for each.
  std::string chain = "score >= 90";
  for (int i = 91; i < 190; ++i) absl::StrAppend(&chain, " || score >= ", i);
  // A comparison 200 characters long is quoted up to "...".
  std::string sum = "score >= 90";
  for (int i = 0; i < 60; ++i) sum += " + 0";
  const std::string playbooks = absl::StrCat(
      "playbooks:\n  - {id: p_chain, name: C, owner: o, priority: 1, when: ",
      chain, "}\n  - {id: p_sum, name: S, owner: o, priority: 2, when: ",
      sum, "}\n");
  const std::vector<std::string> findings =
      Lint(TwoSignals(capped, 0.5, 0.5, 0.6, playbooks));
  ASSERT_EQ(findings.size(), 3u);
  std::string reasons;
  for (int i = 90; i <= 105; ++i) {
    absl::StrAppend(&reasons, "'score >= ", i,
                    "' can never be true: score is between 5 and 70; ");
  }
  EXPECT_EQ(findings[1],
            absl::StrCat("m.yaml:26:57: error: playbook 'p_chain' can never "
                         "trigger: ",
                         reasons,
                         "... (hint: fix the condition, or remove the "
                         "playbook)"));
  EXPECT_EQ(findings[2],
            absl::StrCat("m.yaml:27:55: error: playbook 'p_sum' can never "
                         "trigger: 'score >= ",
                         std::string(60, '('), "90",
                         Repeat(" + 0)", 25),
                         " ...' can never be true: score is between 5 and 70 "
                         "(hint: fix the condition, or remove the playbook)"));
}

TEST(LintTest, SignalWhoseShareRoundsToNothing) {
  EXPECT_THAT(
      Lint(TwoSignals("linear: {bad: 0, good: 1}", 1, 0.004)),
      ElementsAre("m.yaml:18:17: warning: signal 'b' carries 0.4% of the "
                  "score (group 'g'), which rounds to nothing (hint: raise "
                  "its weight, or remove the signal: below 0.5% it never "
                  "moves a score by more than half a point)"));
  // 0.005 / 1.005 = 0.4975%: still rounds to nothing.
  EXPECT_THAT(Lint(TwoSignals("linear: {bad: 0, good: 1}", 1, 0.005)),
              ElementsAre(::testing::HasSubstr("carries 0.5% of the score")));
  EXPECT_THAT(Lint(TwoSignals("linear: {bad: 0, good: 1}", 1, 0.006)),
              IsEmpty());
}

TEST(LintTest, ShareOfASegment) {
  const std::string text = R"(name: m
version: 1
segment_by: segment
inputs:
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: a, type: number}
  - {id: b, type: number}
groups:
  - id: g
    weight: 1
    signals:
      - id: a
        source: a
        weight: 1
        normalize: identity
        overrides:
          smb: {weight: 500}
      - id: b
        source: b
        weight: 1
        normalize: identity
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0, max: 50}
)";
  EXPECT_THAT(Lint(text),
              ElementsAre("m.yaml:20:17: warning: signal 'b' carries 0.2% of "
                          "the score for 'smb' accounts (group 'g'), which "
                          "rounds to nothing (hint: raise its weight, or "
                          "remove the signal: below 0.5% it never moves a "
                          "score by more than half a point)"));
}

// A repository where `default` routes enterprise accounts to `enterprise`.
std::string SegmentModel(const std::string& name) {
  return absl::StrCat("name: ", name, R"(
version: 1
segment_by: segment
inputs:
  - {id: segment, type: string, values: [smb, mid_market, enterprise]}
  - {id: x, type: number}
groups:
  - id: g
    weight: 1
    signals:
      - id: s
        source: x
        weight: 1
        normalize: identity
        overrides:
          smb: {weight: 2}
          enterprise: {weight: 3}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0, max: 50}
)");
}

TEST(LintTest, SegmentOverridesRoutingNeverSendsThere) {
  TempRepo repo("lint_routes");
  repo.Write("default/1/model.yaml", SegmentModel("default"));
  repo.Write("enterprise/1/model.yaml", SegmentModel("enterprise"));
  repo.Write("other/1/model.yaml", SegmentModel("other"));
  repo.Write("default/config.yaml",
             "routes:\n"
             "  - when: 'segment == \"enterprise\" || segment == \"mid_market\"'\n"
             "    model: enterprise\n");
  const std::string config = repo.Path("default/config.yaml");
  EXPECT_THAT(
      LintFile(repo.Path("default/1/model.yaml")),
      ElementsAre(
          repo.Path("default/1/model.yaml") +
          ":17:11: warning: signal 's' overrides segment 'enterprise', but "
          "every 'enterprise' account is routed to model 'enterprise' (" +
          config +
          ":2:12), so this override never applies (hint: move the override "
          "to model 'enterprise', or remove it)"));
  EXPECT_THAT(
      LintFile(repo.Path("enterprise/1/model.yaml")),
      ElementsAre(
          repo.Path("enterprise/1/model.yaml") +
          ":16:11: warning: signal 's' overrides segment 'smb', but routing "
          "sends only segment enterprise, mid_market to model 'enterprise' (" +
          config +
          ":2:12), so the override applies only to requests that name the "
          "model (hint: remove the override, or route that segment here)"));
  // Not routed to at all: nothing to say.
  EXPECT_THAT(LintFile(repo.Path("other/1/model.yaml")), IsEmpty());

  // A route not restricted by segment can send any segment.
  repo.Write("default/config.yaml",
             "routes:\n"
             "  - {when: 'x > 5', model: enterprise}\n"
             "  - {when: 'segment == \"smb\"', model: enterprse}\n");
  EXPECT_THAT(LintFile(repo.Path("enterprise/1/model.yaml")), IsEmpty());
  EXPECT_THAT(
      LintFile(repo.Path("default/1/model.yaml")),
      ElementsAre(repo.Path("default/config.yaml") +
                  ":3:39: error: route to unknown model 'enterprse' (did you "
                  "mean 'enterprise'?); models: default, enterprise, other"));
}

TEST(LintTest, BundledModelsAreClean) {
  for (const char* model : {"rules/default/1/model.yaml",
                            "rules/adoption_trends/1/model.yaml"}) {
    SCOPED_TRACE(model);
    EXPECT_THAT(LintFile(absl::StrCat(HEALTHSCORE_SOURCE_DIR, "/", model)),
                IsEmpty());
  }
}

}  // namespace
}  // namespace healthscore::engine::lint
