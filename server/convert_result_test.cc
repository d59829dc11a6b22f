// The result side of the proto adaptation, without a server: AccountResult,
// Explanation and ShadowReport written from a scored batch hold exactly what
// the engine computed for it (BatchResult, Explain, PlaybookReason,
// RowWarnings, ShadowComparison), field by field. The expected values are
// read from the engine on the same batch, never written by hand; the hand
// checks only make sure the accounts reach every case (failed, no score,
// held tier, warnings...).

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiler.h"
#include "engine/shadow/shadow.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/testing/bind.h"

namespace healthscore::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Two groups (so a group can lack data), unequal weights, ranges to warn
// about, three tiers with hysteresis, playbooks with and without a success
// condition.
constexpr char kLive[] = R"yaml(name: result_test
version: "2.1"
min_coverage: 0.5
hysteresis: 5
inputs:
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: csat, type: number, range: [1, 5]}
  - {id: tickets, type: number}
  - {id: dau_mau, type: number, range: [0, 1]}
groups:
  - id: support
    weight: 0.6
    signals:
      - {id: satisfaction, source: csat, weight: 2,
         normalize: {linear: {bad: 1, good: 5}}}
      - {id: load, source: tickets, weight: 1,
         normalize: {linear: {bad: 20, good: 0}}}
  - id: usage
    weight: 0.4
    signals:
      - {id: stickiness, source: dau_mau, weight: 1,
         normalize: {linear: {bad: 0, good: 0.5}}}
tiers:
  - {id: green, min: 70}
  - {id: yellow, min: 40, max: 70}
  - {id: red, min: 0, max: 40}
playbooks:
  - {id: rescue, name: Rescue, owner: CSM, priority: 1,
     when: 'tier == "red" || tier_changed', success: "score >= 40"}
  - {id: check_in, name: Check in, owner: Success team, priority: 2,
     when: "score_delta < -5"}
  - {id: expand, name: Expand, owner: AE, priority: 3,
     when: 'tier == "green"'}
)yaml";

// The candidate of the shadow comparison: no segment input, one more
// (nps), other tier bounds, no minimum coverage, one playbook renamed.
constexpr char kCandidate[] = R"yaml(name: result_test
version: "3"
min_coverage: 0
inputs:
  - {id: csat, type: number, range: [1, 5]}
  - {id: tickets, type: number}
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: nps, type: number}
groups:
  - id: support
    weight: 0.5
    signals:
      - {id: satisfaction, source: csat, weight: 2,
         normalize: {linear: {bad: 1, good: 5}}}
      - {id: load, source: tickets, weight: 1,
         normalize: {linear: {bad: 20, good: 0}}}
  - id: usage
    weight: 0.3
    signals:
      - {id: stickiness, source: dau_mau, weight: 1,
         normalize: {linear: {bad: 0, good: 0.5}}}
  - id: advocacy
    weight: 0.2
    signals:
      - {id: promoter, source: nps, weight: 1,
         normalize: {linear: {bad: -100, good: 100}}}
tiers:
  - {id: green, min: 60}
  - {id: yellow, min: 30, max: 60}
  - {id: red, min: 0, max: 30}
playbooks:
  - {id: rescue, name: Rescue, owner: CSM, priority: 1,
     when: 'tier == "red"'}
  - {id: grow, name: Grow, owner: AE, priority: 2, when: 'tier == "green"'}
)yaml";

std::shared_ptr<const engine::model::CompiledModel> Compile(const char* text) {
  engine::model::CompileResult r =
      engine::model::CompileString(text, "model.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

v1::AccountSnapshot Account(
    const std::string& id, const std::map<std::string, double>& metrics,
    const std::map<std::string, std::string>& attributes = {}) {
  v1::AccountSnapshot a;
  a.set_id(id);
  for (const auto& [k, v] : metrics) (*a.mutable_metrics())[k] = v;
  for (const auto& [k, v] : attributes) (*a.mutable_attributes())[k] = v;
  return a;
}

// Accounts that reach every case of AccountResult (see the hand checks).
google::protobuf::RepeatedPtrField<v1::AccountSnapshot> Accounts() {
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> out;
  // 0: healthy, previously green: expand fires.
  *out.Add() = Account("healthy", {{"csat", 5}, {"tickets", 0},
                                   {"dau_mau", 0.6}},
                       {{"segment", "smb"}});
  out[0].set_previous_score(90);
  out[0].set_previous_tier("green");
  // 1: fell from yellow to red: rescue (not yet succeeded) and check_in.
  *out.Add() = Account("slipping",
                       {{"csat", 2}, {"tickets", 10}, {"dau_mau", 0.1}});
  out[1].set_previous_score(60);
  out[1].set_previous_tier("yellow");
  // 2: red by its score, but within the hysteresis of yellow: held.
  *out.Add() = Account("held", {{"csat", 3}, {"tickets", 12},
                                {"dau_mau", 0.1}});
  out[2].set_previous_tier("yellow");
  // 3: no usage data (group absent), csat out of range, a value that does
  // not fit its input: two warnings.
  *out.Add() = Account("warned", {{"csat", 7}, {"tickets", 2},
                                  {"segment", 1}});
  // 4: too little coverage: insufficient_data with a score.
  *out.Add() = Account("thin", {{"dau_mau", 0.3}});
  // 5: no data at all: no score.
  *out.Add() = Account("empty", {});
  // 6: no id: fails.
  *out.Add() = Account("", {{"csat", 4}});
  // 7: a previous score and no previous tier.
  *out.Add() = Account("delta_only", {{"csat", 4}, {"tickets", 4},
                                      {"dau_mau", 0.4}});
  out[7].set_previous_score(99);
  // 8: yellow by its score (42), held red by hysteresis: rescue fires and
  // its success condition (score >= 40) already holds.
  *out.Add() = Account("recovering", {{"csat", 3}, {"tickets", 8},
                                      {"dau_mau", 0.125}});
  out[8].set_previous_tier("red");
  return out;
}

struct Scored {
  std::unique_ptr<engine::eval::Batch> batch;
  engine::eval::BatchResult result;
};

Scored Score(
    std::shared_ptr<const engine::model::CompiledModel> model,
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    bool strict = false) {
  Scored s;
  s.batch = std::make_unique<engine::eval::Batch>(model);
  testing::BindAccounts(accounts, 0, static_cast<size_t>(accounts.size()),
                        strict, s.batch.get());
  EXPECT_OK(engine::eval::Scorer::Score(*s.batch, &s.result));
  return s;
}

// Equal doubles, NaN equal to NaN.
bool Same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

void ExpectExplanation(const engine::eval::Batch& batch,
                       const engine::eval::BatchResult& result, size_t row,
                       int top_drivers, const v1::Explanation& got) {
  const engine::model::CompiledModel& m = result.model();
  const engine::eval::Explanation want =
      engine::eval::Explain(batch, result, row, top_drivers);
  ASSERT_EQ(got.signals_size(), static_cast<int>(want.signals.size()));
  for (size_t i = 0; i < want.signals.size(); ++i) {
    const engine::eval::SignalExplanation& w = want.signals[i];
    const v1::SignalContribution& g = got.signals(static_cast<int>(i));
    const engine::model::SignalInfo& info = m.signals()[w.signal];
    SCOPED_TRACE(info.id);
    EXPECT_EQ(g.signal(), info.id);
    EXPECT_EQ(g.group(), m.groups()[info.group].id);
    EXPECT_EQ(g.present(), w.present);
    EXPECT_EQ(g.has_raw(), w.present && !std::isnan(w.raw));
    if (g.has_raw()) {
      EXPECT_EQ(g.raw(), w.raw);
    }
    EXPECT_TRUE(Same(g.score(), w.score)) << g.score() << " " << w.score;
    EXPECT_TRUE(Same(g.weight(), w.weight));
    EXPECT_TRUE(Same(g.effective_weight(), w.effective_weight));
    EXPECT_TRUE(Same(g.points(), w.points));
    EXPECT_TRUE(Same(g.points_lost(), w.points_lost));
  }
  std::vector<std::string> drivers, missing;
  for (int s : want.top_drivers) drivers.push_back(m.signals()[s].id);
  for (int s : want.missing_signals) missing.push_back(m.signals()[s].id);
  EXPECT_THAT(got.top_drivers(), ::testing::ElementsAreArray(drivers));
  EXPECT_THAT(got.missing_signals(), ::testing::ElementsAreArray(missing));
  EXPECT_THAT(got.warnings(), ::testing::ElementsAreArray(want.warnings));
  EXPECT_EQ(got.tier_rule(), want.tier_rule);
}

// `got` holds what the engine computed for `row`, as `options` asks.
void ExpectAccountResult(const engine::eval::Batch& batch,
                         const engine::eval::BatchResult& result, size_t row,
                         const v1::ScoreOptions& options,
                         const v1::AccountResult& got) {
  const engine::model::CompiledModel& m = result.model();
  EXPECT_EQ(got.id(), batch.id(row));
  EXPECT_EQ(got.model_index(), 0u);  // the caller's to set
  EXPECT_EQ(got.ok(), result.ok(row));
  if (!result.ok(row)) {
    // A failed account has its error and nothing else.
    EXPECT_EQ(got.error(), batch.row_error(row));
    v1::AccountResult only;
    only.set_id(got.id());
    only.set_error(got.error());
    EXPECT_EQ(got.SerializeAsString(), only.SerializeAsString());
    return;
  }
  EXPECT_EQ(got.error(), "");
  EXPECT_EQ(got.has_score(), result.has_score(row));
  if (result.has_score(row)) {
    EXPECT_EQ(got.score(), result.score(row));
  }
  EXPECT_EQ(got.tier(), m.TierId(result.tier(row)));
  EXPECT_EQ(got.coverage(), result.coverage(row));
  std::map<std::string, double> groups;
  for (size_t g = 0; g < m.groups().size(); ++g) {
    const double v = result.group_score(row, static_cast<int>(g));
    if (!std::isnan(v)) groups[m.groups()[g].id] = v;
  }
  const std::map<std::string, double> got_groups(got.group_scores().begin(),
                                                 got.group_scores().end());
  EXPECT_EQ(got_groups, groups);
  const std::vector<int> matched = engine::eval::MatchedPlaybooks(result, row);
  ASSERT_EQ(got.playbooks_size(), static_cast<int>(matched.size()));
  for (size_t i = 0; i < matched.size(); ++i) {
    const int p = matched[i];
    const engine::model::PlaybookInfo& info = m.playbooks()[p];
    const v1::MatchedPlaybook& g = got.playbooks(static_cast<int>(i));
    EXPECT_EQ(g.id(), info.id);
    EXPECT_EQ(g.name(), info.name);
    EXPECT_EQ(g.owner(), info.owner);
    EXPECT_EQ(g.priority(), info.priority);
    EXPECT_EQ(g.succeeded(), result.playbook_succeeded(row, p));
    EXPECT_EQ(g.reason(), options.omit_reasons() ? ""
                                                 : engine::eval::PlaybookReason(
                                                       batch, result, row, p));
  }
  EXPECT_EQ(got.has_score_delta(), !std::isnan(result.delta(row)));
  if (got.has_score_delta()) {
    EXPECT_EQ(got.score_delta(), result.delta(row));
  }
  EXPECT_EQ(got.tier_changed(), result.tier_changed(row));
  EXPECT_EQ(got.tier_held(), result.tier_held(row));
  EXPECT_THAT(got.warnings(), ::testing::ElementsAreArray(
                                  engine::eval::RowWarnings(batch, row)));
  EXPECT_EQ(got.has_explanation(), options.explain());
  if (options.explain()) {
    ExpectExplanation(batch, result, row, TopDrivers(options),
                      got.explanation());
  }
}

v1::AccountResult Write(const Scored& s, size_t row,
                        const v1::ScoreOptions& options) {
  v1::AccountResult out;
  WriteAccountResult(*s.batch, s.result, row, options, &out);
  return out;
}

TEST(WriteAccountResultTest, EveryFieldIsTheEnginesValue) {
  const Scored s = Score(Compile(kLive), Accounts());
  std::vector<v1::ScoreOptions> option_sets(4);
  option_sets[1].set_explain(true);
  option_sets[2].set_explain(true);
  option_sets[2].set_top_drivers(1);
  option_sets[2].set_omit_reasons(true);
  option_sets[3].set_omit_reasons(true);
  for (const v1::ScoreOptions& options : option_sets) {
    SCOPED_TRACE(options.ShortDebugString());
    for (size_t row = 0; row < s.batch->size(); ++row) {
      SCOPED_TRACE(::testing::Message() << "row " << row);
      ExpectAccountResult(*s.batch, s.result, row, options,
                          Write(s, row, options));
    }
  }
}

// One outcome reused across the rows, in both directions (so a row follows
// both a richer and a poorer one), writes what a fresh one writes.
TEST(WriteAccountResultTest, AReusedOutcomeWritesWhatAFreshOneWrites) {
  const Scored s = Score(Compile(kLive), Accounts());
  v1::ScoreOptions options;
  options.set_explain(true);
  engine::eval::RowOutcome outcome;
  const size_t n = s.batch->size();
  for (size_t i = 0; i < 2 * n; ++i) {
    const size_t row = i < n ? i : 2 * n - 1 - i;
    SCOPED_TRACE(::testing::Message() << "row " << row);
    engine::eval::FillRowOutcome(*s.batch, s.result, row,
                                 OutcomeOptionsFor(options), &outcome);
    v1::AccountResult reused;
    WriteAccountResult(outcome, &reused);
    // Field by field (a map's serialised order is not fixed), a missing
    // signal's NaN score equal to NaN.
    google::protobuf::util::DefaultFieldComparator numbers;
    numbers.set_treat_nan_as_equal(true);
    google::protobuf::util::MessageDifferencer differ;
    differ.set_field_comparator(&numbers);
    EXPECT_TRUE(differ.Compare(reused, Write(s, row, options)))
        << reused.DebugString();
  }
}

// The accounts reach every case the comparison above covers.
TEST(WriteAccountResultTest, TheAccountsCoverEveryCase) {
  const Scored s = Score(Compile(kLive), Accounts());
  v1::ScoreOptions options;
  const v1::AccountResult healthy = Write(s, 0, options);
  EXPECT_EQ(healthy.tier(), "green");
  EXPECT_TRUE(healthy.has_score_delta());
  EXPECT_FALSE(healthy.tier_changed());
  EXPECT_EQ(healthy.group_scores_size(), 2);
  ASSERT_EQ(healthy.playbooks_size(), 1);
  EXPECT_EQ(healthy.playbooks(0).id(), "expand");
  EXPECT_THAT(healthy.warnings(), ElementsAre());

  const v1::AccountResult slipping = Write(s, 1, options);
  EXPECT_EQ(slipping.tier(), "red");
  EXPECT_TRUE(slipping.tier_changed());
  ASSERT_EQ(slipping.playbooks_size(), 2);
  EXPECT_EQ(slipping.playbooks(0).id(), "rescue");
  EXPECT_FALSE(slipping.playbooks(0).succeeded());
  EXPECT_THAT(slipping.playbooks(0).reason(), HasSubstr("tier=\"red\""));
  EXPECT_EQ(slipping.playbooks(1).id(), "check_in");
  EXPECT_LT(slipping.score_delta(), -5);

  const v1::AccountResult held = Write(s, 2, options);
  EXPECT_TRUE(held.tier_held());
  EXPECT_EQ(held.tier(), "yellow");
  EXPECT_LT(held.score(), 40);
  EXPECT_FALSE(held.has_score_delta());

  const v1::AccountResult warned = Write(s, 3, options);
  EXPECT_THAT(warned.group_scores(),
              UnorderedElementsAre(::testing::Key("support")));
  EXPECT_THAT(warned.warnings(),
              ElementsAre(HasSubstr("metrics.segment: expected a string"),
                          "csat = 7 is outside the expected range [1, 5]"));

  const v1::AccountResult thin = Write(s, 4, options);
  EXPECT_EQ(thin.tier(), "insufficient_data");
  EXPECT_TRUE(thin.has_score());

  const v1::AccountResult empty = Write(s, 5, options);
  EXPECT_TRUE(empty.ok());
  EXPECT_FALSE(empty.has_score());
  EXPECT_EQ(empty.tier(), "insufficient_data");
  EXPECT_EQ(empty.group_scores_size(), 0);

  const v1::AccountResult failed = Write(s, 6, options);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "account has no id");

  const v1::AccountResult delta = Write(s, 7, options);
  EXPECT_TRUE(delta.has_score_delta());
  EXPECT_FALSE(delta.tier_changed());

  const v1::AccountResult recovering = Write(s, 8, options);
  EXPECT_EQ(recovering.tier(), "red");
  EXPECT_TRUE(recovering.tier_held());
  ASSERT_EQ(recovering.playbooks_size(), 1);
  EXPECT_EQ(recovering.playbooks(0).id(), "rescue");
  EXPECT_TRUE(recovering.playbooks(0).succeeded());
}

// The one warning text: the account's warnings, its explanation's and the
// engine's RowWarnings are the same strings (the server used to write
// "csat=7" in the account and "csat = 7" in its explanation).
TEST(WriteAccountResultTest, WarningsAreTheExplanationsAndTheEngines) {
  const Scored s = Score(Compile(kLive), Accounts());
  v1::ScoreOptions options;
  options.set_explain(true);
  const v1::AccountResult r = Write(s, 3, options);
  ASSERT_EQ(r.warnings_size(), 2);
  EXPECT_THAT(r.explanation().warnings(),
              ::testing::ElementsAreArray(r.warnings()));
  EXPECT_THAT(r.warnings(), ::testing::ElementsAreArray(
                                engine::eval::RowWarnings(*s.batch, 3)));
}

TEST(WriteExplanationTest, TopDriversAsAsked) {
  const Scored s = Score(Compile(kLive), Accounts());
  for (int top : {0, 1, 2, engine::eval::kDefaultTopDrivers}) {
    SCOPED_TRACE(top);
    for (size_t row = 0; row < s.batch->size(); ++row) {
      if (!s.result.ok(row)) continue;
      v1::Explanation e;
      WriteExplanation(*s.batch, s.result, row, top, &e);
      ExpectExplanation(*s.batch, s.result, row, top, e);
      EXPECT_LE(e.top_drivers_size(), top);
    }
  }
  // The slipping account loses points on every signal.
  v1::Explanation e;
  WriteExplanation(*s.batch, s.result, 1, 2, &e);
  EXPECT_EQ(e.top_drivers_size(), 2);
  EXPECT_THAT(e.tier_rule(), HasSubstr("red"));
  // Missing signals and a raw value left out.
  v1::Explanation thin;
  WriteExplanation(*s.batch, s.result, 4, 3, &thin);
  EXPECT_THAT(thin.missing_signals(), ElementsAre("satisfaction", "load"));
  EXPECT_FALSE(thin.signals(0).has_raw());
  EXPECT_TRUE(thin.signals(2).has_raw());
}

TEST(TopDriversTest, DefaultAndCap) {
  v1::ScoreOptions options;
  EXPECT_EQ(TopDrivers(options), engine::eval::kDefaultTopDrivers);
  options.set_top_drivers(1);
  EXPECT_EQ(TopDrivers(options), 1);
  options.set_top_drivers(engine::eval::kMaxTopDrivers);
  EXPECT_EQ(TopDrivers(options), engine::eval::kMaxTopDrivers);
  options.set_top_drivers(4000000000u);
  EXPECT_EQ(TopDrivers(options), engine::eval::kMaxTopDrivers);
}

// Both models score the same accounts (each strict, so a value one model
// declares with another type fails that model only).
engine::shadow::ShadowReport ShadowOf(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t max_examples) {
  auto live = Compile(kLive);
  auto candidate = Compile(kCandidate);
  const Scored l = Score(live, accounts, /*strict=*/true);
  const Scored c = Score(candidate, accounts, /*strict=*/true);
  engine::shadow::ShadowOptions options;
  options.max_examples = max_examples;
  engine::shadow::ShadowComparison comparison(live, candidate, options);
  EXPECT_OK(comparison.Add(*l.batch, l.result, *c.batch, c.result));
  return comparison.Report();
}

google::protobuf::RepeatedPtrField<v1::AccountSnapshot> ShadowAccounts() {
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> accounts =
      Accounts();
  // Fails the live model only: segment is a string there; the candidate
  // does not declare it.
  *accounts.Add() = Account("live_fails", {{"csat", 3}, {"segment", 2}});
  // Fails the candidate only: nps is a number there; live ignores it.
  *accounts.Add() = Account("candidate_fails", {{"csat", 3}},
                            {{"nps", "high"}});
  // Only the candidate has data: no live score.
  *accounts.Add() = Account("candidate_only", {{"nps", 80}});
  return accounts;
}

void ExpectShadowReport(const engine::shadow::ShadowReport& want,
                        const v1::ShadowReport& got) {
  EXPECT_EQ(got.model(), want.candidate.name);
  EXPECT_EQ(got.model_label(), want.candidate.version);
  EXPECT_EQ(got.model_hash(), want.candidate.hash);
  EXPECT_EQ(got.version(), "");  // the caller's to set
  EXPECT_EQ(got.compared(), want.compared);
  EXPECT_EQ(got.failed_both(), want.failed_both);
  EXPECT_EQ(got.failed_live_only(), want.failed_live_only);
  EXPECT_EQ(got.failed_candidate_only(), want.failed_candidate_only);
  EXPECT_EQ(got.tier_changed(), want.tier_changed);
  EXPECT_THAT(got.live_tiers(), ::testing::ElementsAreArray(want.live_tiers));
  EXPECT_THAT(got.candidate_tiers(),
              ::testing::ElementsAreArray(want.candidate_tiers));
  ASSERT_EQ(got.tier_table_size(), static_cast<int>(want.tier_table.size()));
  for (size_t i = 0; i < want.tier_table.size(); ++i) {
    const v1::TierTransition& g = got.tier_table(static_cast<int>(i));
    EXPECT_EQ(g.from(), want.tier_table[i].from);
    EXPECT_EQ(g.to(), want.tier_table[i].to);
    EXPECT_EQ(g.count(), want.tier_table[i].count);
  }
  ASSERT_EQ(got.playbooks_size(), static_cast<int>(want.playbooks.size()));
  for (size_t i = 0; i < want.playbooks.size(); ++i) {
    const v1::PlaybookShift& g = got.playbooks(static_cast<int>(i));
    const engine::shadow::ShadowPlaybook& w = want.playbooks[i];
    EXPECT_EQ(g.id(), w.id);
    EXPECT_EQ(g.live(), w.live);
    EXPECT_EQ(g.candidate(), w.candidate);
    EXPECT_EQ(g.newly_firing(), w.newly_firing);
    EXPECT_EQ(g.stopped_firing(), w.stopped_firing);
  }
  const v1::ScoreDeltaSummary& d = got.score_delta();
  EXPECT_EQ(d.count(), want.delta.count);
  EXPECT_EQ(d.min(), want.delta.min);
  EXPECT_EQ(d.p5(), want.delta.p5);
  EXPECT_EQ(d.p25(), want.delta.p25);
  EXPECT_EQ(d.median(), want.delta.median);
  EXPECT_EQ(d.p75(), want.delta.p75);
  EXPECT_EQ(d.p95(), want.delta.p95);
  EXPECT_EQ(d.max(), want.delta.max);
  EXPECT_EQ(d.mean(), want.delta.mean);
  ASSERT_EQ(got.changed_size(), static_cast<int>(want.changed.size()));
  for (size_t i = 0; i < want.changed.size(); ++i) {
    const v1::TierChange& g = got.changed(static_cast<int>(i));
    const engine::shadow::ShadowAccount& w = want.changed[i];
    SCOPED_TRACE(w.id);
    EXPECT_EQ(g.id(), w.id);
    EXPECT_EQ(g.live_tier(), w.live_tier);
    EXPECT_EQ(g.candidate_tier(), w.candidate_tier);
    EXPECT_EQ(g.has_live_score(), !std::isnan(w.live_score));
    if (g.has_live_score()) {
      EXPECT_EQ(g.live_score(), w.live_score);
    }
    EXPECT_EQ(g.has_candidate_score(), !std::isnan(w.candidate_score));
    if (g.has_candidate_score()) {
      EXPECT_EQ(g.candidate_score(), w.candidate_score);
    }
  }
}

TEST(WriteShadowReportTest, EveryFieldIsTheComparisons) {
  for (size_t max_examples :
       {size_t{1}, engine::shadow::kDefaultShadowExamples}) {
    SCOPED_TRACE(max_examples);
    const engine::shadow::ShadowReport report =
        ShadowOf(ShadowAccounts(), max_examples);
    v1::ShadowReport got;
    WriteShadowReport(report, &got);
    ExpectShadowReport(report, got);
  }
}

// The accounts reach every case the comparison above covers.
TEST(WriteShadowReportTest, TheAccountsCoverEveryCase) {
  const engine::shadow::ShadowReport report =
      ShadowOf(ShadowAccounts(), engine::shadow::kDefaultShadowExamples);
  v1::ShadowReport got;
  WriteShadowReport(report, &got);
  EXPECT_EQ(got.model_label(), "3");
  EXPECT_EQ(got.failed_both(), 1u);  // no id
  EXPECT_EQ(got.failed_live_only(), 2u);  // live_fails, warned
  EXPECT_EQ(got.failed_candidate_only(), 1u);
  EXPECT_GT(got.tier_changed(), 1u);
  EXPECT_GT(got.score_delta().count(), 1u);
  EXPECT_NE(got.score_delta().min(), got.score_delta().max());
  std::vector<std::string> playbooks;
  for (const v1::PlaybookShift& p : got.playbooks()) playbooks.push_back(p.id());
  EXPECT_THAT(playbooks, ElementsAre("rescue", "check_in", "expand", "grow"));
  bool no_live_score = false, both_scores = false;
  for (const v1::TierChange& c : got.changed()) {
    if (c.id() == "candidate_only") {
      no_live_score = !c.has_live_score() && c.has_candidate_score();
    }
    both_scores |= c.has_live_score() && c.has_candidate_score();
  }
  EXPECT_TRUE(no_live_score);
  EXPECT_TRUE(both_scores);
}

}  // namespace
}  // namespace healthscore::server
