#include "engine/eval/scorer.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/testing/scorer_model.h"
#include "engine/eval/testing/synthetic_accounts.h"
#include "engine/expr/program.h"
#include "engine/eval/worker_pool.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// Accounts are written with designated initializers naming only the fields
// a test cares about; the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wpedantic"

namespace healthscore::engine::eval {

using model::CompileResult;
using model::CompileString;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kModel = testing::kScorerModel;

class ScorerTest : public ::testing::Test {
 protected:
  ScorerTest() {
    CompileResult r = CompileString(kModel, "scorer_test.yaml");
    EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
    model_ = r.model;
    batch_ = std::make_unique<Batch>(model_);
  }

  struct Account {
    std::string id = "a";
    double dau_mau = NAN, adoption = NAN, csat = NAN;
    std::string segment;
    std::string renewal;
    std::string as_of = "2026-11-01";
    double previous_score = NAN;
    std::string previous_tier;
  };

  void Add(const Account& a) {
    BatchBuilder b(batch_.get());
    b.BeginRow(a.id);
    b.SetAsOf(a.as_of);
    b.SetMetric("dau_mau", a.dau_mau);
    b.SetMetric("adoption", a.adoption);
    b.SetMetric("csat", a.csat);
    if (!a.segment.empty()) b.SetAttribute("segment", a.segment);
    if (!a.renewal.empty()) b.SetDate("renewal_date", a.renewal);
    b.SetPreviousScore(a.previous_score);
    b.SetPreviousTier(a.previous_tier);
    b.EndRow();
  }

  const BatchResult& Score() {
    EXPECT_OK(Scorer::Score(*batch_, &result_));
    return result_;
  }

  std::string Tier(size_t row) {
    return std::string(model_->TierId(result_.tier(row)));
  }

  std::vector<std::string> Playbooks(size_t row) {
    std::vector<std::string> ids;
    for (int p : MatchedPlaybooks(result_, row)) {
      ids.push_back(model_->playbooks()[p].id);
    }
    return ids;
  }

  std::shared_ptr<const model::CompiledModel> model_;
  std::unique_ptr<Batch> batch_;
  BatchResult result_;
};

TEST_F(ScorerTest, FullAccountScoresTheWeightedMean) {
  // stickiness (0.3-0.1)/0.4 = 50; adoption 70; usage = 60.
  // satisfaction csat 4.5 -> 100. score = 0.6*60 + 0.4*100 = 76.
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .segment = "smb"});
  Score();
  ASSERT_TRUE(result_.ok(0));
  EXPECT_DOUBLE_EQ(result_.group_score(0, 0), 60);
  EXPECT_DOUBLE_EQ(result_.group_score(0, 1), 100);
  EXPECT_DOUBLE_EQ(result_.score(0), 76);
  EXPECT_DOUBLE_EQ(result_.coverage(0), 1);
  EXPECT_EQ(Tier(0), "yellow");
  EXPECT_DOUBLE_EQ(result_.signal_raw(0, 0), 0.3);
  EXPECT_DOUBLE_EQ(result_.signal_score(0, 0), 50);
}

TEST_F(ScorerTest, SegmentOverridesChangeThresholdsAndWeights) {
  // Enterprise: stickiness (0.3-0.2)/0.4 = 25 with weight 3 against
  // adoption 70 with weight 1: usage = (75 + 70) / 4 = 36.25.
  // score = 0.6*36.25 + 0.4*100 = 61.75.
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .segment = "enterprise"});
  // An unknown segment uses the defaults.
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .segment = "startup"});
  Score();
  EXPECT_DOUBLE_EQ(result_.signal_score(0, 0), 25);
  EXPECT_DOUBLE_EQ(SignalWeight(*batch_, 0, 0), 3);
  EXPECT_DOUBLE_EQ(result_.group_score(0, 0), 36.25);
  EXPECT_DOUBLE_EQ(result_.score(0), 61.75);
  EXPECT_DOUBLE_EQ(result_.score(1), 76);
  EXPECT_DOUBLE_EQ(SignalWeight(*batch_, 1, 0), 1);
}

TEST_F(ScorerTest, MissingSignalRenormalisesAndLowersCoverage) {
  // adoption missing: usage = stickiness alone = 50;
  // coverage = 1 - share(adoption) = 1 - 0.5*0.6 = 0.7.
  Add({.dau_mau = 0.3, .csat = 4.5});
  Score();
  EXPECT_DOUBLE_EQ(result_.group_score(0, 0), 50);
  EXPECT_DOUBLE_EQ(result_.score(0), 0.6 * 50 + 0.4 * 100);
  EXPECT_NEAR(result_.coverage(0), 0.7, 1e-12);
  EXPECT_TRUE(std::isnan(result_.signal_score(0, 1)));
}

TEST_F(ScorerTest, MissingGroupRenormalisesGroups) {
  // No csat: the score is the usage group alone; coverage 0.6.
  Add({.dau_mau = 0.5, .adoption = 90});
  Score();
  EXPECT_TRUE(std::isnan(result_.group_score(0, 1)));
  EXPECT_DOUBLE_EQ(result_.score(0), 95);
  EXPECT_NEAR(result_.coverage(0), 0.6, 1e-12);
  EXPECT_EQ(Tier(0), "green");
}

TEST_F(ScorerTest, BelowMinimumCoverageIsInsufficientDataWithoutPlaybooks) {
  // Only csat: coverage 0.4 < 0.5; the score (0) alone would be red.
  Add({.csat = 1});
  Score();
  EXPECT_DOUBLE_EQ(result_.score(0), 0);
  EXPECT_NEAR(result_.coverage(0), 0.4, 1e-12);
  EXPECT_EQ(result_.tier(0), model::kInsufficientDataTier);
  EXPECT_THAT(Playbooks(0), IsEmpty());
  // No data at all: no score either.
  Add({.id = "b"});
  Score();
  EXPECT_FALSE(result_.has_score(1));
  EXPECT_EQ(result_.tier(1), model::kInsufficientDataTier);
}

TEST_F(ScorerTest, NaNAndInfinityAreMissing) {
  Add({.dau_mau = INFINITY, .adoption = NAN, .csat = 4.5});
  Score();
  EXPECT_DOUBLE_EQ(result_.score(0), 100);
  EXPECT_NEAR(result_.coverage(0), 0.4, 1e-12);
}

TEST_F(ScorerTest, PlaybooksFireInPriorityOrderWithReasons) {
  // Red, renewing in 30 days.
  Add({.dau_mau = 0.1, .adoption = 10, .csat = 2, .renewal = "2026-12-01"});
  Score();
  EXPECT_EQ(Tier(0), "red");
  EXPECT_THAT(Playbooks(0), ElementsAre("rescue", "renewal_risk"));
  const int rescue = 0, renewal = 1;
  ASSERT_EQ(model_->playbooks()[rescue].id, "rescue");
  EXPECT_EQ(PlaybookReason(*batch_, result_, 0, rescue),
            "tier == \"red\"  [tier=\"red\"]");
  EXPECT_EQ(PlaybookReason(*batch_, result_, 0, renewal),
            "renewing_soon && tier != \"green\"  [renewing_soon=true, "
            "tier=\"red\"]");
  EXPECT_FALSE(result_.playbook_succeeded(0, rescue));
  EXPECT_EQ(result_.matched_count(0), 2);
}

TEST_F(ScorerTest, DeltaAndTierChange) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .previous_score = 90,
       .previous_tier = "green"});
  Score();
  EXPECT_DOUBLE_EQ(result_.delta(0), -14);
  EXPECT_TRUE(result_.tier_changed(0));
  EXPECT_THAT(Playbooks(0), ElementsAre("falling"));
  EXPECT_EQ(PlaybookReason(*batch_, result_, 0, 2),
            "score_delta < -10  [score_delta=-14]");
}

TEST_F(ScorerTest, HysteresisHoldsThenReleasesTheTier) {
  // usage (50 + 74) / 2 = 62: score 0.6*62 + 40 = 77.2 is yellow by score,
  // but a green account keeps green until it falls below 80 - 3 = 77.
  Add({.dau_mau = 0.3, .adoption = 74, .csat = 4.5, .previous_tier = "green"});
  // 76.0 is past the margin: yellow.
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .previous_tier = "green"});
  // usage (75 + 65) / 2 = 70: score 82 is green by score, but a yellow
  // account stays yellow until 80 + 3 = 83.
  Add({.dau_mau = 0.4, .adoption = 65, .csat = 4.5, .previous_tier = "yellow"});
  Score();
  EXPECT_NEAR(result_.score(0), 77.2, 1e-9);
  EXPECT_EQ(Tier(0), "green");
  EXPECT_TRUE(result_.tier_held(0));
  EXPECT_FALSE(result_.tier_changed(0));
  EXPECT_EQ(result_.tier_by_score(0), 1);
  EXPECT_EQ(Tier(1), "yellow");
  EXPECT_FALSE(result_.tier_held(1));
  EXPECT_TRUE(result_.tier_changed(1));
  EXPECT_NEAR(result_.score(2), 82, 1e-9);
  EXPECT_EQ(Tier(2), "yellow");
  EXPECT_TRUE(result_.tier_held(2));
  Explanation e = Explain(*batch_, result_, 0, 3);
  EXPECT_THAT(e.tier_rule, HasSubstr("held by hysteresis 3"));
}

TEST_F(ScorerTest, BadValuesCostThatValueAndAreNamed) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5});
  Add({.id = "", .dau_mau = 0.3});
  Add({.id = "c", .csat = 4, .renewal = "2026-02-30"});
  Add({.id = "d", .as_of = "yesterday"});
  BatchBuilder b(batch_.get());
  b.BeginRow("e");
  b.SetAttribute("csat", "high");
  b.EndRow();
  Score();
  EXPECT_TRUE(result_.ok(0));
  EXPECT_DOUBLE_EQ(result_.score(0), 76);
  // Only an account that cannot be identified fails.
  EXPECT_FALSE(result_.ok(1));
  EXPECT_EQ(batch_->row_error(1), "account has no id");
  // A bad value is missing for its account, which scores on the rest.
  EXPECT_TRUE(result_.ok(2));
  EXPECT_EQ(RowWarnings(*batch_, 2),
            std::vector<std::string>{
                "dates.renewal_date: \"2026-02-30\" is not a date "
                "(YYYY-MM-DD); used as missing"});
  EXPECT_TRUE(result_.ok(3));
  EXPECT_EQ(RowWarnings(*batch_, 3),
            std::vector<std::string>{
                "as_of: \"yesterday\" is not a date (YYYY-MM-DD); used as "
                "missing"});
  EXPECT_FALSE(batch_->as_of_valid()[3]);
  EXPECT_TRUE(result_.ok(4));
  EXPECT_EQ(RowWarnings(*batch_, 4),
            std::vector<std::string>{
                "attributes.csat: expected a number, got the string "
                "\"high\"; used as missing"});
  EXPECT_EQ(batch_->dropped_values(), 3u);
  EXPECT_EQ(result_.matched_count(2), 0);
  std::vector<size_t> counts = result_.TierCounts();
  EXPECT_EQ(counts[0] + counts[1] + counts[2] + counts[3], 4u);
}

TEST_F(ScorerTest, StrictModeFailsTheAccountListingEveryProblem) {
  BatchBuilder b(batch_.get());
  b.set_strict(true);
  b.BeginRow("e");
  b.SetRowLocation("line 9: ");
  b.SetAttribute("csat", "high");
  b.SetMetric("dau_mau", 0.3);
  b.SetDate("renewal_date", "soon");
  b.EndRow();
  b.BeginRow("f");
  b.SetMetric("dau_mau", 0.3);
  b.EndRow();
  Score();
  EXPECT_FALSE(result_.ok(0));
  EXPECT_EQ(batch_->row_error(0),
            "line 9: attributes.csat: expected a number, got the string "
            "\"high\"; dates.renewal_date: \"soon\" is not a date "
            "(YYYY-MM-DD)");
  EXPECT_EQ(batch_->dropped_values(), 0u);  // the account failed instead
  EXPECT_TRUE(result_.ok(1));
}

TEST_F(ScorerTest, ARowLineIsTheFailuresLocationUntilTheNextRow) {
  // SetRowLine(n) reads as SetRowLocation("line n: "); a location text
  // wins over it, and BeginRow forgets both.
  BatchBuilder b(batch_.get());
  b.set_strict(true);
  b.BeginRow("numbered");
  b.SetRowLine(12);
  b.SetAttribute("csat", "high");
  b.EndRow();
  b.BeginRow("unnumbered");
  b.SetAttribute("csat", "high");
  b.EndRow();
  b.BeginRow("texted");
  b.SetRowLine(3);
  b.SetRowLocation("record 3: ");
  b.SetAttribute("csat", "high");
  b.EndRow();
  b.BeginRow("clean");
  b.SetRowLine(14);
  b.SetMetric("dau_mau", 0.3);
  b.EndRow();
  Score();
  const std::string problem =
      "attributes.csat: expected a number, got the string \"high\"";
  EXPECT_EQ(batch_->row_error(0), "line 12: " + problem);
  EXPECT_EQ(batch_->row_error(1), problem);
  EXPECT_EQ(batch_->row_error(2), "record 3: " + problem);
  EXPECT_TRUE(result_.ok(3));
}

TEST_F(ScorerTest, UndeclaredFieldsAreIgnoredAndCounted) {
  BatchBuilder b(batch_.get());
  b.BeginRow("a");
  b.SetMetric("not_in_model", 3);
  b.SetMetric("csat", 4.5);
  b.EndRow();
  EXPECT_EQ(b.ignored_fields(), 1u);
  Score();
  EXPECT_TRUE(result_.ok(0));
}

TEST_F(ScorerTest, ExplanationPointsAddUpToTheScore) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 3.5, .segment = "enterprise"});
  Score();
  Explanation e = Explain(*batch_, result_, 0, 2);
  double points = 0, lost = 0, weight = 0;
  for (const auto& s : e.signals) {
    points += s.points;
    lost += s.points_lost;
    weight += s.effective_weight;
  }
  EXPECT_NEAR(points, result_.score(0), 1e-9);
  EXPECT_NEAR(lost, 100 - result_.score(0), 1e-9);
  EXPECT_NEAR(weight, 1, 1e-12);
  // Enterprise weights: stickiness 3/4 of usage's 0.6.
  EXPECT_NEAR(e.signals[0].effective_weight, 0.45, 1e-12);
  // stickiness loses 75*0.45 = 33.75, satisfaction 50*0.4 = 20.
  EXPECT_THAT(e.top_drivers, ElementsAre(0, 2));
  EXPECT_THAT(e.missing_signals, IsEmpty());
  // 0.6 * 36.25 + 0.4 * 50 = 41.75.
  EXPECT_NEAR(result_.score(0), 41.75, 1e-9);
  EXPECT_EQ(e.tier_rule, "red: 0 <= score < 50");
}

TEST_F(ScorerTest, ExplanationListsMissingSignalsAndRangeWarnings) {
  Add({.dau_mau = 1.7, .csat = 4.5});
  Score();
  Explanation e = Explain(*batch_, result_, 0, 3);
  EXPECT_THAT(e.missing_signals, ElementsAre(1));
  EXPECT_THAT(e.warnings,
              ElementsAre("dau_mau = 1.7 is outside the expected range [0, 1]"));
}

TEST_F(ScorerTest, ResultsDoNotDependOnThreadCount) {
  for (int i = 0; i < 5000; ++i) {
    Account a;
    a.id = "acct-" + std::to_string(i);
    a.dau_mau = (i % 97) / 100.0;
    if (i % 7) a.adoption = i % 101;
    if (i % 5) a.csat = 1 + (i % 5);
    a.segment = i % 3 == 0 ? "enterprise" : "smb";
    if (i % 4 == 0) a.previous_tier = "green";
    Add(a);
  }
  BatchResult single, parallel;
  ASSERT_OK(Scorer::Score(*batch_, &single));
  WorkerPool pool(3);
  ASSERT_OK(Scorer::Score(*batch_, &parallel, &pool, {.rows_per_task = 256}));
  for (size_t r = 0; r < batch_->size(); ++r) {
    ASSERT_EQ(std::isnan(single.score(r)), std::isnan(parallel.score(r)));
    if (!std::isnan(single.score(r))) {
      ASSERT_EQ(single.score(r), parallel.score(r)) << r;
    }
    ASSERT_EQ(single.tier(r), parallel.tier(r)) << r;
    ASSERT_EQ(single.matched_count(r), parallel.matched_count(r)) << r;
  }
}

TEST_F(ScorerTest, ReusedBatchAndResultGiveTheSameAnswers) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5});
  Score();
  const double first = result_.score(0);
  batch_->Clear();
  EXPECT_EQ(batch_->size(), 0u);
  Add({.id = "other", .csat = 1});
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5});
  Score();
  EXPECT_EQ(batch_->id(0), "other");
  EXPECT_DOUBLE_EQ(result_.score(1), first);
}

// The column loops run as one of two compiled forms (expr::ColumnKernel);
// both must give every output to the bit, on the bundled models (every
// normalisation kind, segment overrides, hysteresis, series functions,
// playbooks) and on accounts with missing values and previous tiers.
TEST(ColumnKernelTest, KernelsAgreeToTheBit) {
  auto bits = [](double x) {
    uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
  };
  struct Restore {
    ~Restore() { expr::SetColumnKernel(expr::ColumnKernel::kAuto); }
  } restore;
  ASSERT_TRUE(expr::SetColumnKernel(expr::ColumnKernel::kBaseline));
  EXPECT_EQ(expr::ColumnKernelInUse(), expr::ColumnKernel::kBaseline);
  if (!expr::SetColumnKernel(expr::ColumnKernel::kAvx2)) {
    // A CPU without AVX2 refuses that form and keeps the baseline: there is
    // no second form to compare with.
    EXPECT_EQ(expr::ColumnKernelInUse(), expr::ColumnKernel::kBaseline);
    return;
  }
  EXPECT_EQ(expr::ColumnKernelInUse(), expr::ColumnKernel::kAvx2);
  for (const char* file : {"default", "adoption_trends"}) {
    SCOPED_TRACE(file);
    CompileResult r = model::CompileFile(absl::StrCat(
        HEALTHSCORE_SOURCE_DIR, "/rules/", file, "/1/model.yaml"));
    ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
    const model::CompiledModel& m = *r.model;
    Batch batch(r.model);
    // Not a multiple of the chunk size, so the last chunk is short.
    testing::AddSyntheticAccounts(&batch, 5000 + 77, /*seed=*/7);
    BatchResult results[2];
    ASSERT_TRUE(expr::SetColumnKernel(expr::ColumnKernel::kBaseline));
    ASSERT_OK(Scorer::Score(batch, &results[0]));
    ASSERT_TRUE(expr::SetColumnKernel(expr::ColumnKernel::kAvx2));
    ASSERT_OK(Scorer::Score(batch, &results[1]));
    const BatchResult& a = results[0];
    const BatchResult& b = results[1];
    size_t held = 0, insufficient = 0;
    for (size_t row = 0; row < batch.size(); ++row) {
      SCOPED_TRACE(row);
      ASSERT_EQ(bits(a.score(row)), bits(b.score(row)));
      ASSERT_EQ(bits(a.coverage(row)), bits(b.coverage(row)));
      ASSERT_EQ(bits(a.delta(row)), bits(b.delta(row)));
      ASSERT_EQ(a.tier(row), b.tier(row));
      ASSERT_EQ(a.tier_by_score(row), b.tier_by_score(row));
      ASSERT_EQ(a.tier_held(row), b.tier_held(row));
      ASSERT_EQ(a.tier_changed(row), b.tier_changed(row));
      held += a.tier_held(row);
      insufficient += a.tier(row) == model::kInsufficientDataTier;
      for (size_t g = 0; g < m.groups().size(); ++g) {
        const int gi = static_cast<int>(g);
        ASSERT_EQ(bits(a.group_score(row, gi)), bits(b.group_score(row, gi)));
      }
      for (size_t k = 0; k < m.signals().size(); ++k) {
        const int ki = static_cast<int>(k);
        ASSERT_EQ(bits(a.signal_raw(row, ki)), bits(b.signal_raw(row, ki)));
        ASSERT_EQ(bits(a.signal_score(row, ki)),
                  bits(b.signal_score(row, ki)));
      }
      for (size_t d = 0; d < m.derived().size(); ++d) {
        const int di = static_cast<int>(d);
        ASSERT_EQ(bits(a.derived(row, di)), bits(b.derived(row, di)));
      }
      for (size_t p = 0; p < m.playbooks().size(); ++p) {
        const int pi = static_cast<int>(p);
        ASSERT_EQ(a.playbook_matched(row, pi), b.playbook_matched(row, pi));
        ASSERT_EQ(a.playbook_succeeded(row, pi),
                  b.playbook_succeeded(row, pi));
      }
    }
    // The accounts reach the branches the kernels choose without jumps.
    EXPECT_GT(held, 0u);
    EXPECT_GT(insufficient, 0u);
  }
}

TEST_F(ScorerTest, WithoutSignalValuesTheSummaryIsTheSame) {
  for (int i = 0; i < 700; ++i) {
    Account a;
    a.id = "acct-" + std::to_string(i);
    if (i % 3) a.dau_mau = (i % 97) / 100.0;
    if (i % 7) a.adoption = i % 101;
    if (i % 5) a.csat = 1 + (i % 5);
    a.segment = i % 2 ? "enterprise" : "smb";
    if (i % 4 == 0) a.previous_tier = "yellow";
    if (i % 6 == 0) a.previous_score = i % 100;
    Add(a);
  }
  BatchResult all, lean;
  ASSERT_OK(Scorer::Score(*batch_, &all));
  ASSERT_OK(Scorer::Score(*batch_, &lean, nullptr, {.signal_values = false}));
  EXPECT_TRUE(all.has_signal_values());
  EXPECT_FALSE(lean.has_signal_values());
  const model::CompiledModel& m = *model_;
  for (size_t r = 0; r < batch_->size(); ++r) {
    SCOPED_TRACE(r);
    ASSERT_EQ(all.ok(r), lean.ok(r));
    ASSERT_EQ(all.has_score(r), lean.has_score(r));
    if (all.has_score(r)) {
      ASSERT_EQ(all.score(r), lean.score(r));
    }
    ASSERT_EQ(all.coverage(r), lean.coverage(r));
    ASSERT_EQ(all.tier(r), lean.tier(r));
    ASSERT_EQ(all.tier_held(r), lean.tier_held(r));
    ASSERT_EQ(std::isnan(all.delta(r)), std::isnan(lean.delta(r)));
    for (size_t g = 0; g < m.groups().size(); ++g) {
      const int gi = static_cast<int>(g);
      ASSERT_EQ(std::isnan(all.group_score(r, gi)),
                std::isnan(lean.group_score(r, gi)));
      if (!std::isnan(all.group_score(r, gi))) {
        ASSERT_EQ(all.group_score(r, gi), lean.group_score(r, gi));
      }
    }
    for (size_t p = 0; p < m.playbooks().size(); ++p) {
      const int pi = static_cast<int>(p);
      ASSERT_EQ(all.playbook_matched(r, pi), lean.playbook_matched(r, pi));
      ASSERT_EQ(all.playbook_succeeded(r, pi),
                lean.playbook_succeeded(r, pi));
    }
    // Left out, the values read as missing rather than as stale numbers.
    for (size_t k = 0; k < m.signals().size(); ++k) {
      EXPECT_TRUE(std::isnan(lean.signal_raw(r, static_cast<int>(k))));
      EXPECT_TRUE(std::isnan(lean.signal_score(r, static_cast<int>(k))));
    }
  }
  // A result reused with values kept again has them again.
  ASSERT_OK(Scorer::Score(*batch_, &lean));
  EXPECT_TRUE(lean.has_signal_values());
  EXPECT_EQ(lean.signal_score(1, 0), all.signal_score(1, 0));
}

TEST_F(ScorerTest, EmptyBatchIsFine) {
  EXPECT_OK(Scorer::Score(*batch_, &result_));
  EXPECT_EQ(result_.size(), 0u);
}

// Coverage is written exactly, so it must not show the rounding of adding
// shares: 0.1/0.6 + 0.4/0.6 + 0.1/0.6 is 1.0000000000000002 in doubles.
TEST(CoverageTest, AFullAccountHasCoverageExactlyOne) {
  CompileResult r = CompileString(R"yaml(name: coverage
version: 1
inputs:
  - {id: a, type: number}
  - {id: b, type: number}
  - {id: c, type: number}
groups:
  - id: all
    weight: 1
    signals:
      - {id: sa, source: a, weight: 0.1, normalize: identity}
      - {id: sb, source: b, weight: 0.4, normalize: identity}
      - {id: sc, source: c, weight: 0.1, normalize: identity}
tiers:
  - {id: any, min: 0}
)yaml",
                                  "coverage.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  Batch batch(r.model);
  BatchBuilder b(&batch);
  b.BeginRow("full");
  b.SetMetric("a", 10);
  b.SetMetric("b", 20);
  b.SetMetric("c", 30);
  b.EndRow();
  b.BeginRow("partial");
  b.SetMetric("b", 20);
  b.EndRow();
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  EXPECT_EQ(result.coverage(0), 1.0);
  EXPECT_EQ(result.coverage(1), 0.4 / (0.1 + 0.4 + 0.1));
}

TEST(DateTest, ParsesAndFormatsIsoDates) {
  double d = 0;
  ASSERT_TRUE(ParseIsoDate("1970-01-01", &d));
  EXPECT_EQ(d, 0);
  ASSERT_TRUE(ParseIsoDate("2024-02-29T10:00:00Z", &d));
  EXPECT_EQ(FormatIsoDate(d), "2024-02-29");
  EXPECT_FALSE(ParseIsoDate("2023-02-29", &d));
  EXPECT_FALSE(ParseIsoDate("2023-13-01", &d));
  EXPECT_FALSE(ParseIsoDate("2023-1-01", &d));
  EXPECT_FALSE(ParseIsoDate("", &d));
  ASSERT_TRUE(ParseIsoDate("1960-06-15", &d));
  EXPECT_LT(d, 0);
  EXPECT_EQ(FormatIsoDate(d), "1960-06-15");
}

TEST(DateTest, EveryDayReadsBackAndEveryNonDigitIsRejected) {
  // Every day of four centuries (leap years of every kind) reads back from
  // its own text.
  int checked = 0;
  double d = 0;
  ASSERT_TRUE(ParseIsoDate("1900-01-01", &d));
  const double first = d;
  for (double day = first; day < first + 146097; ++day) {
    const std::string text = FormatIsoDate(day);
    double got = -1;
    ASSERT_TRUE(ParseIsoDate(text, &got)) << text;
    ASSERT_EQ(got, day) << text;
    ++checked;
  }
  EXPECT_EQ(checked, 146097);
  EXPECT_EQ(FormatIsoDate(first + 146096), "2299-12-31");
  // Any byte in place of any digit of a valid date: accepted exactly when
  // it is a digit that leaves the date valid (the month 01-12, the day
  // within its month).
  const std::string base = "2024-12-28";
  for (size_t pos : {0, 1, 2, 3, 5, 6, 8, 9}) {
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = base;
      text[pos] = static_cast<char>(byte);
      bool expected = byte >= '0' && byte <= '9';
      if (expected) {
        const int month = std::stoi(text.substr(5, 2));
        const int day = std::stoi(text.substr(8, 2));
        expected = month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
                   !(month == 2 && day > 29) &&
                   !((month == 4 || month == 6 || month == 9 ||
                      month == 11) &&
                     day > 30);
      }
      EXPECT_EQ(ParseIsoDate(text, &d), expected)
          << "byte " << byte << " at " << pos;
    }
  }
}

// Issue 10: a string input without a `values` list compared with literals,
// in derived values and in playbook conditions, with every operator and
// either operand order, compiles without a diagnostic and scores as written.
// (Here rather than in engine/model/compiler_test.cc: it scores, and model/
// sits below eval/ in LAYERS.)
TEST(StringInputTest, WithoutValuesComparesWithLiterals) {
  constexpr char kText[] = R"yaml(name: m
version: 1
inputs:
  - {id: plan, type: string}
  - {id: method, type: string}
  - {id: usage, type: number}
derived:
  - {id: is_yes, expr: 'plan == "Yes" ? 1 : 0'}
  - {id: not_no, expr: 'plan != "No" ? 1 : 0'}
  - {id: pays, expr: 'method in ["card", "bank"] ? 1 : 0'}
  - {id: yes_usage, expr: '"Yes" == plan ? usage : 0'}
groups:
  - id: g
    weight: 1
    signals:
      - {id: s, source: usage, weight: 1, normalize: {linear: {bad: 0, good: 10}}}
      - {id: y, source: is_yes, weight: 1, normalize: identity}
      - {id: n, source: not_no, weight: 1, normalize: identity}
      - {id: p, source: pays, weight: 1, normalize: identity}
      - {id: u, source: yes_usage, weight: 1, normalize: identity}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0, max: 50}
playbooks:
  - id: gold
    name: Gold
    owner: csm
    priority: 1
    when: 'plan == "Gold" || method in ["wire", "cheque"]'
    success: 'method != "cheque"'
)yaml";
  CompileResult r = CompileString(kText, "m.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_FALSE(r.diagnostics.has_errors()) << r.diagnostics.ToString();

  struct Case {
    const char* plan;
    const char* method;
    double is_yes, not_no, pays, yes_usage;
    bool gold_matched, gold_succeeded;
  };
  // "Other" and "cash" appear in no literal of the model. The success
  // condition is evaluated whether or not the playbook matched.
  const Case cases[] = {
      {"Yes", "card", 1, 1, 1, 7, false, true},
      {"No", "bank", 0, 0, 1, 0, false, true},
      {"Other", "cash", 0, 1, 0, 0, false, true},
      {"Gold", "wire", 0, 1, 0, 0, true, true},
      {"Other", "cheque", 0, 1, 0, 0, true, false},
  };
  Batch batch(r.model);
  BatchBuilder b(&batch);
  for (const Case& c : cases) {
    b.BeginRow(c.plan);
    b.SetAttribute("plan", c.plan);
    b.SetAttribute("method", c.method);
    b.SetMetric("usage", 7);
    b.EndRow();
  }
  BatchResult result;
  ASSERT_TRUE(Scorer::Score(batch, &result).ok());
  auto derived = [&](const std::string& id) {
    const auto& all = r.model->derived();
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].id == id) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no derived value " << id;
    return 0;
  };
  for (size_t row = 0; row < std::size(cases); ++row) {
    const Case& c = cases[row];
    SCOPED_TRACE(absl::StrCat(c.plan, " / ", c.method));
    ASSERT_TRUE(result.ok(row)) << batch.row_error(row);
    EXPECT_EQ(result.derived(row, derived("is_yes")), c.is_yes);
    EXPECT_EQ(result.derived(row, derived("not_no")), c.not_no);
    EXPECT_EQ(result.derived(row, derived("pays")), c.pays);
    EXPECT_EQ(result.derived(row, derived("yes_usage")), c.yes_usage);
    EXPECT_EQ(result.playbook_matched(row, 0), c.gold_matched);
    EXPECT_EQ(result.playbook_succeeded(row, 0), c.gold_succeeded);
  }
}

}  // namespace
}  // namespace healthscore::engine::eval
