#include "engine/backtest/weight_fit.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/backtest/testing/synthetic.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/io/byte_source.h"
#include "engine/model/compiler.h"
#include "engine/model/model_plan.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::backtest {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

using testing::MakeAccounts;
using testing::Shares;
using testing::TrueWeights;
using testing::TwoByTwoModel;

// Mann-Whitney AUC of "low score means churn", ties counted 1/2, by
// comparing every pair (the test's own, independent of engine/stats).
double PairAuc(const std::vector<double>& score,
               const std::vector<uint8_t>& y) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < score.size(); ++i) {
    if (!y[i]) continue;
    for (size_t j = 0; j < score.size(); ++j) {
      if (y[j]) continue;
      pairs += 1;
      wins += score[i] < score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

// The engine's scores of `model` on 300 accounts with values missing in
// every pattern (so both renormalisations are used) and, for a model with
// per-segment weights, all three segment cases (known, unknown, none);
// ScoreWithWeights must give them bit for bit.
void ExpectEngineScores(std::shared_ptr<const model::CompiledModel> model) {
  std::string text;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 300; ++i) {
    text += "{\"id\":\"a" + std::to_string(i) + "\"";
    if (i % 4 != 3) {
      text += std::string(",\"attributes\":{\"seg\":\"") +
              (i % 4 == 0   ? "smb"
               : i % 4 == 1 ? "ent"
                            : "other") +
              "\"}";
    }
    text += ",\"metrics\":{";
    bool first = true;
    for (const char* name : {"a", "b", "c", "d"}) {
      if (unit(rng) < 0.3) continue;
      text += std::string(first ? "" : ",") + "\"" + name +
              "\":" + std::to_string(unit(rng));
      first = false;
    }
    text += "}}\n";
  }
  io::JsonLinesReader reader(io::StringSource(text), {});
  ScoreOptions options;
  options.keep_signal_scores = true;
  ASSERT_OK_AND_ASSIGN(ScoredSnapshots s,
                       ScoreSnapshots(reader, model, nullptr, options));
  ASSERT_EQ(s.live.signal_score.size(), 300u * 4);
  std::vector<double> mine(s.size());
  ScoreWithWeights(
      *model, ModelWeights(*model),
      {s.live.signal_score.data(), s.size(), 4,
       s.live.weight_row.empty() ? nullptr : s.live.weight_row.data()},
      mine.data());
  size_t missing = 0;
  for (size_t r = 0; r < s.size(); ++r) {
    SCOPED_TRACE(r);
    if (std::isnan(s.live.score[r])) {
      EXPECT_TRUE(std::isnan(mine[r]));
      ++missing;
    } else {
      EXPECT_EQ(mine[r], s.live.score[r]);  // bit for bit
    }
  }
  EXPECT_GT(missing, 0u);
  EXPECT_LT(missing, 10u);
}

TEST(WeightFitTest, ScoresExactlyAsTheEngineDoes) {
  auto model = TwoByTwoModel();
  ExpectEngineScores(model);
}

TEST(WeightFitTest, ScoresPerSegmentWeightsExactlyAsTheEngineDoes) {
  const std::string text = absl::StrReplaceAll(
      testing::kTwoByTwoModel,
      {{"  - {id: d, type: number}\n",
        "  - {id: d, type: number}\n  - {id: seg, type: string, values: "
        "[smb, ent]}\n"},
       {"version: \"1\"\n", "version: \"1\"\nsegment_by: seg\n"},
       {"      - {id: sd, source: d, weight: 3, normalize: {linear: {bad: 0, "
        "good: 1}}}\n",
        "      - id: sd\n        source: d\n        weight: 3\n        "
        "normalize: {linear: {bad: 0, good: 1}}\n        overrides:\n"
        "          smb: {weight: 0.7}\n          ent: {weight: 9}\n"}});
  model::CompileResult r = model::CompileString(text, "seg.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  ASSERT_GT(r.model->plan().signal_weight.size(), 1u);
  ExpectEngineScores(r.model);
}

// Outcomes that follow known weights: the fit finds them from weights far
// away, and its score separates churn as well as the true weights do.
TEST(WeightFitTest, RecoversTheWeightsTheOutcomesFollow) {
  auto model = TwoByTwoModel();
  const WeightSet truth = TrueWeights();
  const size_t n = 4000;
  const testing::SyntheticAccounts accounts = MakeAccounts(*model, n, 11);
  const SignalScores scores = accounts.scores();
  const std::vector<double>& true_score = accounts.true_score;
  const std::vector<uint8_t>& churned = accounts.churned;
  std::vector<uint32_t> rows(n);
  for (uint32_t r = 0; r < n; ++r) rows[r] = r;

  const WeightSet start = ModelWeights(*model);
  FitOptions options;
  options.pull = 0.0001;
  ASSERT_OK_AND_ASSIGN(
      WeightSet fitted,
      FitWeights(*model, scores, churned.data(), rows, start, options));
  const std::vector<double> want = Shares(*model, truth);
  const std::vector<double> got = Shares(*model, fitted);
  const std::vector<double> before = Shares(*model, start);
  double start_distance = 0;
  for (size_t s = 0; s < 4; ++s) {
    SCOPED_TRACE(s);
    EXPECT_NEAR(got[s], want[s], 0.05);
    start_distance += std::abs(before[s] - want[s]);
  }
  // Shares 1/4, 1/4, 1/8, 3/8 against 0.15, 0.6, 1/6, 1/12: far off.
  EXPECT_GT(start_distance, 0.7);
  std::vector<double> start_score(n), fitted_score(n);
  ScoreWithWeights(*model, start, scores, start_score.data());
  ScoreWithWeights(*model, fitted, scores, fitted_score.data());
  const double auc_truth = PairAuc(true_score, churned);
  const double auc_start = PairAuc(start_score, churned);
  const double auc_fitted = PairAuc(fitted_score, churned);
  EXPECT_GT(auc_truth - auc_start, 0.03);
  EXPECT_NEAR(auc_fitted, auc_truth, 0.005);
}

// Churn that follows raw values past the written `good` (the written
// normalisation of signal a saturates at 1, the outcomes keep falling up
// to 3): fitting the thresholds widens them, and ranks churn better than
// weights alone can.
TEST(WeightFitTest, FittedThresholdsFollowWhatTheRawValuesSay) {
  auto model = TwoByTwoModel();
  const size_t n = 4000;
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> raw(n * 4), scores(n * 4);
  std::vector<uint8_t> churned(n);
  const WeightSet written = ModelWeights(*model);
  ASSERT_EQ(written.bad[0], 0);
  ASSERT_EQ(written.good[0], 1);
  for (size_t r = 0; r < n; ++r) {
    for (size_t s = 0; s < 4; ++s) {
      raw[r * 4 + s] = s == 0 ? 3 * unit(rng) : unit(rng);
      // The engine's linear normalisation with the written thresholds.
      scores[r * 4 + s] = 100 * std::clamp(raw[r * 4 + s], 0.0, 1.0);
    }
    churned[r] = unit(rng) < 1 / (1 + std::exp(2.5 * (raw[r * 4] - 1.5)));
  }
  SignalScores signal_scores{scores.data(), n, 4, nullptr, raw.data()};
  std::vector<uint32_t> rows(n);
  for (uint32_t r = 0; r < n; ++r) rows[r] = r;
  FitOptions options;
  options.pull = 0.0001;
  ASSERT_OK_AND_ASSIGN(WeightSet weights_only,
                       FitWeights(*model, signal_scores, churned.data(), rows,
                                  written, options));
  options.fit_thresholds = true;
  ASSERT_OK_AND_ASSIGN(WeightSet fitted,
                       FitWeights(*model, signal_scores, churned.data(), rows,
                                  written, options));
  EXPECT_EQ(weights_only.bad[0], 0);  // not fitted without the option
  EXPECT_GT(fitted.good[0], 2);       // the range churn follows reaches 3
  std::vector<double> a(n), b(n);
  ScoreWithWeights(*model, weights_only, signal_scores, a.data());
  ScoreWithWeights(*model, fitted, signal_scores, b.data());
  EXPECT_GT(PairAuc(b, churned) - PairAuc(a, churned), 0.02);
}

TEST(WeightFitTest, AStrongPullKeepsTheWrittenWeights) {
  auto model = TwoByTwoModel();
  const size_t n = 500;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> x(n * 4);
  for (double& v : x) v = 100 * unit(rng);
  std::vector<uint8_t> churned(n);
  for (size_t r = 0; r < n; ++r) churned[r] = x[r * 4] < 30;  // only a
  std::vector<uint32_t> rows(n);
  for (uint32_t r = 0; r < n; ++r) rows[r] = r;
  const WeightSet start = ModelWeights(*model);
  FitOptions strong;
  strong.pull = 100;
  ASSERT_OK_AND_ASSIGN(
      WeightSet kept, FitWeights(*model, {x.data(), n, 4}, churned.data(), rows,
                                 start, strong));
  FitOptions weak;
  weak.pull = 0.0001;
  ASSERT_OK_AND_ASSIGN(
      WeightSet moved,
      FitWeights(*model, {x.data(), n, 4}, churned.data(), rows, start, weak));
  const std::vector<double> s0 = Shares(*model, start);
  const std::vector<double> s_kept = Shares(*model, kept);
  const std::vector<double> s_moved = Shares(*model, moved);
  for (size_t s = 0; s < 4; ++s) EXPECT_NEAR(s_kept[s], s0[s], 0.02);
  // Without the pull, signal a (the only one churn follows) takes over.
  EXPECT_GT(s_moved[0], 0.6);
}

TEST(WeightFitTest, NeedsChurnedAndRetainedAccounts) {
  auto model = TwoByTwoModel();
  std::vector<double> x(8, 50);
  std::vector<uint8_t> churned(2, 1);
  EXPECT_THAT(FitWeights(*model, {x.data(), 2, 4}, churned.data(), {0, 1},
                         ModelWeights(*model), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("2 of 2 churned")));
  EXPECT_THAT(FitWeights(*model, {x.data(), 2, 3}, churned.data(), {0, 1},
                         ModelWeights(*model), {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("do not match the model")));
}

}  // namespace
}  // namespace healthscore::engine::backtest
