// Worked examples: scores computed by hand from the model below, checked
// against the engine end to end (CompileString -> BatchBuilder -> Scorer ->
// Explain). Each test states its arithmetic; the same arithmetic is walked
// through for model authors in docs/model-format.md.
//
// The model has the seeds' structure: usage 40%, support 30%, business
// outcomes 30%; green >= 80, yellow >= 50, red below 50. Signals use identity
// or linear normalisation so every number below can be checked with pencil
// and paper.
//
//   group     weight  signal    in-group  normalise                  share
//   usage     0.4     logins    0.5       identity                   0.2
//                     adoption  0.5       identity                   0.2
//   support   0.3     csat      0.75      identity                   0.225
//                     tickets   0.25      linear bad 20 -> good 0    0.075
//   outcomes  0.3     outcome   0.5       identity                   0.15
//                     nrr       0.5       linear bad 80 -> good 120  0.15
//
// tickets score (20 - t) / 20 * 100; nrr scores (x - 80) / 40 * 100.

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiled_model.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::eval {

using model::CompiledModel;
using model::CompileString;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr double kEps = 1e-9;

constexpr char kWorkedModel[] = R"yaml(
name: worked
version: 1
description: Hand-checkable 40/30/30 model for the worked examples
min_coverage: 0.6
hysteresis: 3
inputs:
  - {id: logins, type: number}
  - {id: adoption, type: number}
  - {id: csat, type: number}
  - {id: open_tickets, type: number}
  - {id: outcome, type: number}
  - {id: nrr, type: number}
groups:
  - id: usage
    weight: 0.4
    signals:
      - {id: logins, source: logins, weight: 0.5, normalize: identity}
      - {id: adoption, source: adoption, weight: 0.5, normalize: identity}
  - id: support
    weight: 0.3
    signals:
      - {id: csat, source: csat, weight: 0.75, normalize: identity}
      - id: tickets
        source: open_tickets
        weight: 0.25
        normalize: {linear: {bad: 20, good: 0}}
  - id: outcomes
    weight: 0.3
    signals:
      - {id: outcome, source: outcome, weight: 0.5, normalize: identity}
      - id: nrr
        source: nrr
        weight: 0.5
        normalize: {linear: {bad: 80, good: 120}}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50, max: 80}
  - {id: red, min: 0, max: 50}
playbooks:
  - id: rescue
    name: Red account turnaround
    owner: CSM
    priority: 1
    when: tier == "red"
    success: score >= 50
  - id: support_watch
    name: Support friction
    owner: Support lead
    priority: 2
    when: groups.support < 60
  - id: drop_watch
    name: Score dropping
    owner: CSM
    priority: 3
    when: score_delta <= -10
  - id: expand
    name: Expansion opportunity
    owner: CSM
    priority: 4
    when: tier == "green"
)yaml";

// One account as the test writes it; absent metrics are not sent.
struct Account {
  std::string id;
  std::map<std::string, double> metrics;
  std::optional<double> previous_score;
  std::optional<std::string> previous_tier;
};

// Every metric of the model set to `v` (normalised score v for each
// signal): tickets = 20 - v/5, nrr = 80 + 0.4 v.
Account Uniform(const std::string& id, double v) {
  return {id,
          {{"logins", v},
           {"adoption", v},
           {"csat", v},
           {"open_tickets", 20 - v / 5},
           {"outcome", v},
           {"nrr", 80 + 0.4 * v}},
          std::nullopt,
          std::nullopt};
}

class WorkedExamplesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model::CompileResult compiled = CompileString(kWorkedModel, "worked.yaml");
    ASSERT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
    model_ = new std::shared_ptr<const CompiledModel>(compiled.model);
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(model_, nullptr) << "the worked model did not compile";
  }

  const CompiledModel& model() const { return **model_; }

  // Scores `accounts` as one batch (as of 2026-11-01).
  void Score(const std::vector<Account>& accounts) {
    batch_ = std::make_unique<Batch>(*model_);
    BatchBuilder builder(batch_.get());
    for (const Account& a : accounts) {
      builder.BeginRow(a.id);
      builder.SetAsOf("2026-11-01");
      for (const auto& [name, value] : a.metrics) {
        builder.SetMetric(name, value);
      }
      if (a.previous_score) builder.SetPreviousScore(*a.previous_score);
      if (a.previous_tier) builder.SetPreviousTier(*a.previous_tier);
      builder.EndRow();
    }
    ASSERT_EQ(batch_->size(), accounts.size());
    for (size_t r = 0; r < batch_->size(); ++r) {
      ASSERT_TRUE(batch_->row_ok(r)) << batch_->row_error(r);
    }
    ASSERT_OK(Scorer::Score(*batch_, &result_));
    ASSERT_EQ(result_.size(), accounts.size());
  }

  std::string Tier(size_t row) const {
    return std::string(model().TierId(result_.tier(row)));
  }
  std::string TierByScore(size_t row) const {
    return std::string(model().TierId(result_.tier_by_score(row)));
  }
  std::vector<std::string> Playbooks(size_t row) const {
    std::vector<std::string> ids;
    for (int p : MatchedPlaybooks(result_, row)) {
      ids.push_back(model().playbooks()[p].id);
    }
    return ids;
  }
  double Group(size_t row, const char* id) const {
    return result_.group_score(row, model().FindGroup(id));
  }
  int Signal(const char* id) const { return model().FindSignal(id); }

  static std::shared_ptr<const CompiledModel>* model_;
  std::unique_ptr<Batch> batch_;
  BatchResult result_;
};

std::shared_ptr<const CompiledModel>* WorkedExamplesTest::model_ = nullptr;

TEST_F(WorkedExamplesTest, ModelShapeMatchesTheTable) {
  // Weights sum to 1 and every input is read: nothing to warn about.
  EXPECT_TRUE(model().warnings().empty()) << model().warnings().ToString();
  ASSERT_EQ(model().groups().size(), 3u);
  EXPECT_NEAR(model().groups()[model().FindGroup("usage")].share, 0.4, kEps);
  EXPECT_NEAR(model().groups()[model().FindGroup("support")].share, 0.3, kEps);
  EXPECT_NEAR(model().groups()[model().FindGroup("outcomes")].share, 0.3, kEps);
  // share = (weight / group weight sum) * (group weight / sum of group weights)
  EXPECT_NEAR(model().signals()[Signal("logins")].share, 0.5 * 0.4, kEps);
  EXPECT_NEAR(model().signals()[Signal("adoption")].share, 0.5 * 0.4, kEps);
  EXPECT_NEAR(model().signals()[Signal("csat")].share, 0.75 * 0.3, kEps);
  EXPECT_NEAR(model().signals()[Signal("tickets")].share, 0.25 * 0.3, kEps);
  EXPECT_NEAR(model().signals()[Signal("outcome")].share, 0.5 * 0.3, kEps);
  EXPECT_NEAR(model().signals()[Signal("nrr")].share, 0.5 * 0.3, kEps);
  // Tiers are listed from the highest min down; the top tier ends at 100.
  ASSERT_EQ(model().tiers().size(), 3u);
  EXPECT_EQ(model().tiers()[0].id, "green");
  EXPECT_EQ(model().tiers()[1].id, "yellow");
  EXPECT_EQ(model().tiers()[2].id, "red");
  EXPECT_DOUBLE_EQ(model().tiers()[0].max, 100);
  EXPECT_DOUBLE_EQ(model().tiers()[1].max, 80);
  EXPECT_DOUBLE_EQ(model().min_coverage(), 0.6);
  EXPECT_DOUBLE_EQ(model().hysteresis(), 3);
}

// Every signal at 80: tickets 20 - 80/5 = 4 -> (20 - 4)/20*100 = 80;
// nrr 80 + 32 = 112 -> (112 - 80)/40*100 = 80. All groups 80, so
// score = .4*80 + .3*80 + .3*80 = 80: exactly on the green boundary, and a
// tier's min is inclusive -> green.
TEST_F(WorkedExamplesTest, ScoreExactlyEightyIsGreen) {
  ASSERT_NO_FATAL_FAILURE(Score({Uniform("at-80", 80)}));
  EXPECT_NEAR(result_.signal_score(0, Signal("tickets")), 80, kEps);
  EXPECT_NEAR(result_.signal_score(0, Signal("nrr")), 80, kEps);
  EXPECT_NEAR(result_.score(0), 80, kEps);
  EXPECT_EQ(Tier(0), "green")
      << "a score that is mathematically 80 must not fall to yellow through "
         "floating-point noise; score - 80 = "
      << (result_.score(0) - 80);
  EXPECT_NEAR(result_.coverage(0), 1.0, kEps);
  EXPECT_THAT(Playbooks(0), ElementsAre("expand"));
}

// Mixed signals landing exactly on 80:
//   usage    = .5*100 + .5*90 = 95
//   support  = .75*60 + .25*100 (tickets 0) = 45 + 25 = 70
//   outcomes = .5*60 + .5*80 (nrr 112) = 70
//   score    = .4*95 + .3*70 + .3*70 = 38 + 21 + 21 = 80 -> green
TEST_F(WorkedExamplesTest, MixedSignalsLandingOnEightyAreGreen) {
  ASSERT_NO_FATAL_FAILURE(Score({{"mixed-80",
                                  {{"logins", 100},
                                   {"adoption", 90},
                                   {"csat", 60},
                                   {"open_tickets", 0},
                                   {"outcome", 60},
                                   {"nrr", 112}},
                                  std::nullopt,
                                  std::nullopt}}));
  EXPECT_NEAR(Group(0, "usage"), 95, kEps);
  EXPECT_NEAR(Group(0, "support"), 70, kEps);
  EXPECT_NEAR(Group(0, "outcomes"), 70, kEps);
  EXPECT_NEAR(result_.score(0), 80, kEps);
  EXPECT_EQ(Tier(0), "green") << "score - 80 = " << (result_.score(0) - 80);
}

// logins 79.95, everything else 80: usage = .5*79.95 + .5*80 = 79.975;
// score = .4*79.975 + 24 + 24 = 31.99 + 48 = 79.99 -> yellow.
TEST_F(WorkedExamplesTest, JustUnderEightyIsYellow) {
  Account a = Uniform("under-80", 80);
  a.metrics["logins"] = 79.95;
  ASSERT_NO_FATAL_FAILURE(Score({a}));
  EXPECT_NEAR(Group(0, "usage"), 79.975, kEps);
  EXPECT_NEAR(result_.score(0), 79.99, kEps);
  EXPECT_EQ(Tier(0), "yellow");
  EXPECT_THAT(Playbooks(0), IsEmpty());
}

// Every signal at 50 (tickets 10, nrr 100): score 50 -> yellow (min
// inclusive). Mixed landing on 50:
//   usage    = .5*70 + .5*60 = 65
//   support  = .75*40 + .25*20 (tickets 16: (20 - 16)/20 = 20) = 30 + 5 = 35
//   outcomes = .5*50 + .5*40 (nrr 96: 16/40 = 40) = 45
//   score    = .4*65 + .3*35 + .3*45 = 26 + 10.5 + 13.5 = 50 -> yellow;
//   support 35 < 60 -> support_watch.
TEST_F(WorkedExamplesTest, ScoreExactlyFiftyIsYellow) {
  ASSERT_NO_FATAL_FAILURE(Score({Uniform("at-50", 50),
                                 {"mixed-50",
                                  {{"logins", 70},
                                   {"adoption", 60},
                                   {"csat", 40},
                                   {"open_tickets", 16},
                                   {"outcome", 50},
                                   {"nrr", 96}},
                                  std::nullopt,
                                  std::nullopt}}));
  EXPECT_NEAR(result_.score(0), 50, kEps);
  EXPECT_EQ(Tier(0), "yellow") << "score - 50 = " << (result_.score(0) - 50);
  EXPECT_THAT(Playbooks(0), ElementsAre("support_watch"));  // support 50 < 60

  EXPECT_NEAR(Group(1, "usage"), 65, kEps);
  EXPECT_NEAR(Group(1, "support"), 35, kEps);
  EXPECT_NEAR(Group(1, "outcomes"), 45, kEps);
  EXPECT_NEAR(result_.score(1), 50, kEps);
  EXPECT_EQ(Tier(1), "yellow") << "score - 50 = " << (result_.score(1) - 50);
  EXPECT_THAT(Playbooks(1), ElementsAre("support_watch"));
}

// logins 49.95, everything else 50: usage 49.975;
// score = .4*49.975 + 15 + 15 = 19.99 + 30 = 49.99 -> red: rescue fires, and
// support 50 < 60 -> support_watch. Priority order: rescue (1) first.
TEST_F(WorkedExamplesTest, JustUnderFiftyIsRed) {
  Account a = Uniform("under-50", 50);
  a.metrics["logins"] = 49.95;
  ASSERT_NO_FATAL_FAILURE(Score({a}));
  EXPECT_NEAR(result_.score(0), 49.99, kEps);
  EXPECT_EQ(Tier(0), "red");
  EXPECT_THAT(Playbooks(0), ElementsAre("rescue", "support_watch"));
  const int rescue = 0;  // priority 1 sorts first
  ASSERT_EQ(model().playbooks()[rescue].id, "rescue");
  EXPECT_TRUE(result_.playbook_matched(0, rescue));
  EXPECT_FALSE(result_.playbook_succeeded(0, rescue));  // 49.99 < 50
  EXPECT_THAT(PlaybookReason(*batch_, result_, 0, rescue),
              HasSubstr("tier == \"red\""));
}

// Explanation of a full account:
//   logins 90, adoption 70             -> usage    = 45 + 35 = 80
//   csat 60, tickets 5 -> 15/20 = 75   -> support  = 45 + 18.75 = 63.75
//   outcome 40, nrr 100 -> 20/40 = 50  -> outcomes = 20 + 25 = 45
//   score = .4*80 + .3*63.75 + .3*45 = 32 + 19.125 + 13.5 = 64.625 (yellow)
// Effective weights (all present) are the shares; points = score * share:
//   logins   90 * .2   = 18      lost 10 * .2   = 2
//   adoption 70 * .2   = 14      lost 30 * .2   = 6
//   csat     60 * .225 = 13.5    lost 40 * .225 = 9
//   tickets  75 * .075 = 5.625   lost 25 * .075 = 1.875
//   outcome  40 * .15  = 6       lost 60 * .15  = 9
//   nrr      50 * .15  = 7.5     lost 50 * .15  = 7.5
//   sum of points 64.625 = score; sum lost 35.375 = 100 - score.
// Top drivers (most points lost): csat and outcome (9 each), then nrr (7.5).
TEST_F(WorkedExamplesTest, ExplanationPointsSumToTheScore) {
  ASSERT_NO_FATAL_FAILURE(Score({{"explain",
                                  {{"logins", 90},
                                   {"adoption", 70},
                                   {"csat", 60},
                                   {"open_tickets", 5},
                                   {"outcome", 40},
                                   {"nrr", 100}},
                                  std::nullopt,
                                  std::nullopt}}));
  ASSERT_NEAR(result_.score(0), 64.625, kEps);
  EXPECT_EQ(Tier(0), "yellow");
  EXPECT_NEAR(Group(0, "support"), 63.75, kEps);
  EXPECT_THAT(Playbooks(0), IsEmpty());  // support 63.75 >= 60

  Explanation e = Explain(*batch_, result_, 0, 3);
  ASSERT_EQ(e.signals.size(), 6u);
  struct Want {
    const char* id;
    double raw, score, weight, effective, points, lost;
  };
  const Want want[] = {
      {"logins", 90, 90, 0.5, 0.2, 18, 2},
      {"adoption", 70, 70, 0.5, 0.2, 14, 6},
      {"csat", 60, 60, 0.75, 0.225, 13.5, 9},
      {"tickets", 5, 75, 0.25, 0.075, 5.625, 1.875},
      {"outcome", 40, 40, 0.5, 0.15, 6, 9},
      {"nrr", 100, 50, 0.5, 0.15, 7.5, 7.5},
  };
  double points = 0, lost = 0;
  for (const Want& w : want) {
    SCOPED_TRACE(w.id);
    const SignalExplanation& s = e.signals[Signal(w.id)];
    EXPECT_EQ(s.signal, Signal(w.id));
    EXPECT_TRUE(s.present);
    EXPECT_NEAR(s.raw, w.raw, kEps);
    EXPECT_NEAR(s.score, w.score, kEps);
    EXPECT_NEAR(s.weight, w.weight, kEps);
    EXPECT_NEAR(s.effective_weight, w.effective, kEps);
    EXPECT_NEAR(s.points, w.points, kEps);
    EXPECT_NEAR(s.points_lost, w.lost, kEps);
    points += s.points;
    lost += s.points_lost;
  }
  EXPECT_NEAR(points, 64.625, kEps);
  EXPECT_NEAR(lost, 100 - 64.625, kEps);
  EXPECT_THAT(e.missing_signals, IsEmpty());
  ASSERT_EQ(e.top_drivers.size(), 3u);
  EXPECT_THAT((std::vector<int>{e.top_drivers[0], e.top_drivers[1]}),
              UnorderedElementsAre(Signal("csat"), Signal("outcome")));
  EXPECT_EQ(e.top_drivers[2], Signal("nrr"));
  EXPECT_THAT(e.tier_rule, HasSubstr("yellow"));
}

// One missing signal inside a group (tickets) and one whole group missing
// (outcomes: neither outcome nor nrr sent).
//   usage   = .5*90 + .5*70 = 80
//   support = csat alone: .75*60 / .75 = 60
//   score   = (.4*80 + .3*60) / (.4 + .3) = (32 + 18) / .7 = 71.428571...
//   (yellow) coverage = shares of present signals = .2 + .2 + .225 = .625 (>=
//   .6)
// Effective weights renormalised: logins and adoption .5 * (.4/.7) = 2/7,
// csat 1 * (.3/.7) = 3/7. Points: 90*2/7 = 25.714286, 70*2/7 = 20,
// 60*3/7 = 25.714286 -> 71.428571 = score; lost 10*2/7 + 30*2/7 + 40*3/7 =
// 200/7 = 28.571429 = 100 - score.
TEST_F(WorkedExamplesTest, MissingSignalAndMissingGroupAreRenormalised) {
  ASSERT_NO_FATAL_FAILURE(
      Score({{"gaps",
              {{"logins", 90}, {"adoption", 70}, {"csat", 60}},
              std::nullopt,
              std::nullopt}}));
  EXPECT_NEAR(Group(0, "usage"), 80, kEps);
  EXPECT_NEAR(Group(0, "support"), 60, kEps);
  EXPECT_TRUE(std::isnan(Group(0, "outcomes")));
  EXPECT_TRUE(std::isnan(result_.signal_raw(0, Signal("tickets"))));
  EXPECT_TRUE(std::isnan(result_.signal_score(0, Signal("nrr"))));
  EXPECT_NEAR(result_.score(0), 50.0 / 0.7, kEps);
  EXPECT_NEAR(result_.coverage(0), 0.625, kEps);
  EXPECT_EQ(Tier(0), "yellow");

  Explanation e = Explain(*batch_, result_, 0, 6);
  EXPECT_THAT(e.missing_signals,
              UnorderedElementsAre(Signal("tickets"), Signal("outcome"),
                                   Signal("nrr")));
  EXPECT_FALSE(e.signals[Signal("tickets")].present);
  EXPECT_NEAR(e.signals[Signal("logins")].effective_weight, 2.0 / 7, kEps);
  EXPECT_NEAR(e.signals[Signal("adoption")].effective_weight, 2.0 / 7, kEps);
  EXPECT_NEAR(e.signals[Signal("csat")].effective_weight, 3.0 / 7, kEps);
  double points = 0, lost = 0;
  for (const SignalExplanation& s : e.signals) {
    if (!s.present) continue;
    points += s.points;
    lost += s.points_lost;
  }
  EXPECT_NEAR(points, 50.0 / 0.7, kEps);
  EXPECT_NEAR(lost, 100 - 50.0 / 0.7, kEps);
}

// Coverage just under the minimum: adoption, tickets and nrr missing.
//   coverage = logins .2 + csat .225 + outcome .15 = .575 < .6
//   -> tier insufficient_data and no playbook, although the score
//   (.4*30 + .3*20 + .3*10 = 12 + 6 + 3 = 21) would be red with support
//   20 < 60. The score itself is still reported.
// Adding nrr back (share .15) gives coverage .725 and a scored account:
//   outcomes = .5*10 + .5*(nrr 84 -> 10) = 10, score 21 -> red.
TEST_F(WorkedExamplesTest, CoverageJustUnderMinimumIsInsufficientData) {
  ASSERT_NO_FATAL_FAILURE(
      Score({{"thin",
              {{"logins", 30}, {"csat", 20}, {"outcome", 10}},
              std::nullopt,
              std::nullopt},
             {"thin-plus-nrr",
              {{"logins", 30}, {"csat", 20}, {"outcome", 10}, {"nrr", 84}},
              std::nullopt,
              std::nullopt}}));
  EXPECT_NEAR(result_.coverage(0), 0.575, kEps);
  EXPECT_EQ(result_.tier(0), model::kInsufficientDataTier);
  EXPECT_EQ(Tier(0), "insufficient_data");
  EXPECT_TRUE(result_.has_score(0));
  EXPECT_NEAR(result_.score(0), 21, kEps);
  EXPECT_EQ(result_.matched_count(0), 0);
  EXPECT_THAT(Playbooks(0), IsEmpty());

  EXPECT_NEAR(result_.coverage(1), 0.725, kEps);
  EXPECT_NEAR(result_.score(1), 21, kEps);
  EXPECT_EQ(Tier(1), "red");
  EXPECT_THAT(Playbooks(1), ElementsAre("rescue", "support_watch"));
}

// No data at all: no score (NaN), coverage 0, insufficient_data.
TEST_F(WorkedExamplesTest, NoDataHasNoScore) {
  ASSERT_NO_FATAL_FAILURE(Score({{"empty", {}, std::nullopt, std::nullopt}}));
  EXPECT_FALSE(result_.has_score(0));
  EXPECT_NEAR(result_.coverage(0), 0, kEps);
  EXPECT_EQ(Tier(0), "insufficient_data");
  EXPECT_THAT(Playbooks(0), IsEmpty());
}

// Delta and tier change. All signals 90 -> score 90 (green).
//   previous 70 / yellow: delta +20; 90 >= 80 + 3, so hysteresis does not
//   hold yellow -> green, tier_changed.
//   previous 101 / green: delta -11 -> drop_watch (score_delta <= -10);
//   tier unchanged.
//   no previous values: delta NaN, tier_changed false.
TEST_F(WorkedExamplesTest, DeltaAndTierChange) {
  Account up = Uniform("up", 90);
  up.previous_score = 70;
  up.previous_tier = "yellow";
  Account down = Uniform("down", 90);
  down.previous_score = 101;
  down.previous_tier = "green";
  ASSERT_NO_FATAL_FAILURE(Score({up, down, Uniform("fresh", 90)}));

  EXPECT_NEAR(result_.score(0), 90, kEps);
  EXPECT_NEAR(result_.delta(0), 20, kEps);
  EXPECT_EQ(Tier(0), "green");
  EXPECT_TRUE(result_.tier_changed(0));
  EXPECT_FALSE(result_.tier_held(0));
  EXPECT_THAT(Playbooks(0), ElementsAre("expand"));

  EXPECT_NEAR(result_.delta(1), -11, kEps);
  EXPECT_EQ(Tier(1), "green");
  EXPECT_FALSE(result_.tier_changed(1));
  EXPECT_THAT(Playbooks(1), ElementsAre("drop_watch", "expand"));

  EXPECT_TRUE(std::isnan(result_.delta(2)));
  EXPECT_FALSE(result_.tier_changed(2));
  EXPECT_THAT(Playbooks(2), ElementsAre("expand"));
}

// Hysteresis 3: a previous tier is kept while
// previous.min - 3 <= score < previous.max + 3.
//   82 after yellow [50, 80): 82 < 83 -> held yellow (by score green).
//   83.5 after yellow: >= 83 -> green.
//   77.5 after green [80, 100]: >= 77 -> held green (by score yellow).
//   76.5 after green: < 77 -> yellow.
//   52 after red [0, 50): 52 < 53 -> held red; rescue fires and its success
//   condition (score >= 50) already holds; support 52 < 60 -> support_watch.
// Playbook conditions see the held tier.
TEST_F(WorkedExamplesTest, HysteresisHoldsAndReleases) {
  auto with_previous = [](Account a, double score, const char* tier) {
    a.previous_score = score;
    a.previous_tier = tier;
    return a;
  };
  ASSERT_NO_FATAL_FAILURE(
      Score({with_previous(Uniform("up-held", 82), 75, "yellow"),
             with_previous(Uniform("up-released", 83.5), 75, "yellow"),
             with_previous(Uniform("down-held", 77.5), 85, "green"),
             with_previous(Uniform("down-released", 76.5), 85, "green"),
             with_previous(Uniform("red-held", 52), 45, "red")}));

  EXPECT_NEAR(result_.score(0), 82, kEps);
  EXPECT_EQ(TierByScore(0), "green");
  EXPECT_EQ(Tier(0), "yellow");
  EXPECT_TRUE(result_.tier_held(0));
  EXPECT_FALSE(result_.tier_changed(0));
  EXPECT_THAT(Playbooks(0), IsEmpty());  // not green, so no expand
  Explanation held = Explain(*batch_, result_, 0, 3);
  EXPECT_THAT(held.tier_rule, HasSubstr("hysteresis"));

  EXPECT_NEAR(result_.score(1), 83.5, kEps);
  EXPECT_EQ(Tier(1), "green");
  EXPECT_FALSE(result_.tier_held(1));
  EXPECT_TRUE(result_.tier_changed(1));
  EXPECT_THAT(Playbooks(1), ElementsAre("expand"));

  EXPECT_NEAR(result_.score(2), 77.5, kEps);
  EXPECT_EQ(TierByScore(2), "yellow");
  EXPECT_EQ(Tier(2), "green");
  EXPECT_TRUE(result_.tier_held(2));
  EXPECT_FALSE(result_.tier_changed(2));
  EXPECT_THAT(Playbooks(2), ElementsAre("expand"));

  EXPECT_NEAR(result_.score(3), 76.5, kEps);
  EXPECT_EQ(Tier(3), "yellow");
  EXPECT_FALSE(result_.tier_held(3));
  EXPECT_TRUE(result_.tier_changed(3));

  EXPECT_NEAR(result_.score(4), 52, kEps);
  EXPECT_EQ(TierByScore(4), "yellow");
  EXPECT_EQ(Tier(4), "red");
  EXPECT_TRUE(result_.tier_held(4));
  EXPECT_THAT(Playbooks(4), ElementsAre("rescue", "support_watch"));
  EXPECT_TRUE(result_.playbook_succeeded(4, 0));
}

// The edges of the hysteresis band, with exactly representable scores:
//   usage 80, support 85 (csat 85, tickets 3 -> 17/20 = 85),
//   outcomes 85 (outcome 85, nrr 114 -> 34/40 = 85)
//   score = 32 + 25.5 + 25.5 = 83 after yellow: 83 is not < 83 -> green.
//   usage 80, support 75 (csat 75, tickets 5), outcomes 75 (outcome 75,
//   nrr 110) -> score = 32 + 22.5 + 22.5 = 77 after green: 77 >= 77 -> held.
TEST_F(WorkedExamplesTest, HysteresisBandEdges) {
  Account at83{"at-83",
               {{"logins", 80},
                {"adoption", 80},
                {"csat", 85},
                {"open_tickets", 3},
                {"outcome", 85},
                {"nrr", 114}},
               75,
               "yellow"};
  Account at77{"at-77",
               {{"logins", 80},
                {"adoption", 80},
                {"csat", 75},
                {"open_tickets", 5},
                {"outcome", 75},
                {"nrr", 110}},
               85,
               "green"};
  ASSERT_NO_FATAL_FAILURE(Score({at83, at77}));
  EXPECT_NEAR(result_.score(0), 83, kEps);
  EXPECT_EQ(Tier(0), "green") << "score - 83 = " << (result_.score(0) - 83);
  EXPECT_TRUE(result_.tier_changed(0));
  EXPECT_NEAR(result_.score(1), 77, kEps);
  EXPECT_EQ(Tier(1), "green") << "score - 77 = " << (result_.score(1) - 77);
  EXPECT_TRUE(result_.tier_held(1));
}

// Hysteresis never applies without a previous tier, or when the previous
// tier was insufficient_data: 82 is green on its own.
TEST_F(WorkedExamplesTest, HysteresisNeedsAPreviousTier) {
  Account after_insufficient = Uniform("after-insufficient", 82);
  after_insufficient.previous_tier = "insufficient_data";
  ASSERT_NO_FATAL_FAILURE(
      Score({Uniform("no-previous", 82), after_insufficient}));
  EXPECT_EQ(Tier(0), "green");
  EXPECT_FALSE(result_.tier_held(0));
  EXPECT_FALSE(result_.tier_changed(0));
  EXPECT_EQ(Tier(1), "green");
  EXPECT_FALSE(result_.tier_held(1));
  EXPECT_TRUE(result_.tier_changed(1));
}

}  // namespace
}  // namespace healthscore::engine::eval
