#include "engine/backtest/tune.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/backtest/backtest.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/backtest/testing/synthetic.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/io/byte_source.h"
#include "engine/model/compiler.h"
#include "engine/model/model_plan.h"
#include "engine/model/yaml_loader.h"
#include "engine/outcomes/join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::backtest {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(TuneWeightsTest, HeldOutFiguresImproveOnWeightsFarFromTheTruth) {
  auto model = testing::TwoByTwoModel();
  const size_t n = 3000;
  testing::SyntheticAccounts a = testing::MakeAccounts(*model, n, 5);
  std::vector<double> written(n);
  ScoreWithWeights(*model, ModelWeights(*model), a.scores(), written.data());
  std::vector<int8_t> label(n);
  for (size_t r = 0; r < n; ++r) label[r] = static_cast<int8_t>(a.churned[r]);
  for (size_t r = 0; r < n; r += 10) label[r] = kNotLabelled;  // left out

  TuneOptions options;
  ASSERT_OK_AND_ASSIGN(
      TuneResult t,
      TuneWeights(*model, a.scores(), written.data(), label, options));
  EXPECT_EQ(t.rows.size(), n - n / 10);
  EXPECT_EQ(t.rows[0], 1u);  // row 0 is not labelled
  ASSERT_EQ(t.held_out_score.size(), t.rows.size());
  ASSERT_EQ(t.pulls.size(), 3u);
  bool chosen_listed = false;
  for (const PullFigure& p : t.pulls) {
    chosen_listed |= p.pull == t.pull;
    EXPECT_LE(p.held_out_auc, t.held_out_auc_after);
  }
  EXPECT_TRUE(chosen_listed);
  // Each fold holds about a fifth of the sample and of its churners.
  std::vector<size_t> per_fold(5), churned_per_fold(5);
  size_t churned = 0;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    ++per_fold[static_cast<size_t>(t.fold[i])];
    churned_per_fold[static_cast<size_t>(t.fold[i])] += t.churned[i];
    churned += t.churned[i];
  }
  for (size_t f = 0; f < 5; ++f) {
    EXPECT_NEAR(per_fold[f], t.rows.size() / 5.0, 2);
    EXPECT_NEAR(churned_per_fold[f], churned / 5.0, 1);
  }
  // The written weights are far from those churn follows; the fitted ones
  // rank churn better on accounts they were not fitted on.
  EXPECT_GT(t.held_out_auc_after - t.auc_before, 0.03);
  const std::vector<double> want =
      testing::Shares(*model, testing::TrueWeights());
  const std::vector<double> got = testing::Shares(*model, t.after);
  for (size_t s = 0; s < 4; ++s) EXPECT_NEAR(got[s], want[s], 0.07) << s;
}

// Fitted cut-offs keep each tier's share of accounts, and churn still
// rises from tier to tier on held-out scores; the file gets the new min.
TEST(TuneWeightsTest, FittedTierCutoffsKeepEachTiersShare) {
  auto model = testing::TwoByTwoModel();
  const size_t n = 3000;
  testing::SyntheticAccounts a = testing::MakeAccounts(*model, n, 9);
  std::vector<double> written(n);
  ScoreWithWeights(*model, ModelWeights(*model), a.scores(), written.data());
  std::vector<int8_t> label(a.churned.begin(), a.churned.end());
  TuneOptions options;
  options.fit_tiers = true;
  ASSERT_OK_AND_ASSIGN(
      TuneResult t,
      TuneWeights(*model, a.scores(), written.data(), label, options));
  ASSERT_TRUE(t.tiers.has_value());
  ASSERT_EQ(t.tiers->min.size(), 2u);
  EXPECT_EQ(t.tiers->min[1], 0);  // the bottom tier keeps its written min
  std::vector<double> fitted(n);
  ScoreWithWeights(*model, t.after, a.scores(), fitted.data());
  size_t green_before = 0, green_after = 0;
  for (size_t r = 0; r < n; ++r) {
    green_before += written[r] >= 50;
    green_after += fitted[r] >= t.tiers->min[0];
  }
  EXPECT_EQ(green_after, green_before);
  EXPECT_NE(t.tiers->min[0], 50);
  EXPECT_TRUE(t.tiers->ordered);
  EXPECT_LT(t.tiers->churn[0], t.tiers->churn[1]);

  model::DiagnosticList diags;
  model::ModelSpec spec = model::LoadModelSpecFromString(
      testing::kTwoByTwoModel, "fit.yaml", &diags);
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      WriteTunedModel(testing::kTwoByTwoModel, spec, t.after, "2", {}, {},
                      {{"green", t.tiers->min[0]}, {"red", 0}}));
  model::CompileResult r = model::CompileString(out, "fit.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_EQ(r.model->tiers()[0].min, t.tiers->min[0]);
  EXPECT_EQ(r.model->tiers()[1].min, 0);
}

// The held-out backtest of a tune: the candidate's scores are the
// held-out ones, so its measured AUC is TuneWeights' held-out AUC.
TEST(TuneWeightsTest, HeldOutSnapshotsBacktestAsTheHeldOutFigures) {
  auto model = testing::TwoByTwoModel();
  std::string text;
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<int8_t> label;
  for (int i = 0; i < 1500; ++i) {
    const double a = unit(rng), b = unit(rng), c = unit(rng), d = unit(rng);
    absl::StrAppend(&text, "{\"id\":\"x", i, "\",\"metrics\":{\"a\":", a,
                    ",\"b\":", b, ",\"c\":", c, ",\"d\":", d, "}}\n");
    label.push_back(unit(rng) < 1 / (1 + std::exp(8 * (b - 0.5))));
  }
  text += "not json\n";
  label.push_back(kNotLabelled);
  io::JsonLinesReader reader(io::StringSource(text), {});
  ScoreOptions options;
  options.keep_signal_scores = true;
  ASSERT_OK_AND_ASSIGN(ScoredSnapshots s,
                       ScoreSnapshots(reader, model, nullptr, options));
  ASSERT_EQ(s.size(), label.size());
  ASSERT_OK_AND_ASSIGN(TuneResult t,
                       TuneWeights(*model,
                                   {s.live.signal_score.data(), s.size(), 4,
                                    nullptr, s.live.signal_raw.data()},
                                   s.live.score.data(), label, TuneOptions()));
  ScoredSnapshots held = HeldOutSnapshots(s, t, model);
  EXPECT_FALSE(held.candidate.playbooks_known);
  EXPECT_EQ(held.candidate.tier.back(), kFailedTier);
  EXPECT_EQ(held.candidate.score[t.rows[7]], t.held_out_score[7]);
  EXPECT_EQ(held.candidate.tier[t.rows[7]], t.held_out_score[7] >= 50 ? 0 : 1);

  outcomes::JoinResult join;
  for (int8_t l : label) {
    outcomes::JoinedSnapshot j;
    j.label = l == kNotLabelled ? outcomes::Label::kExcluded
              : l               ? outcomes::Label::kChurned
                                : outcomes::Label::kRetained;
    join.rows.push_back(j);
  }
  ASSERT_OK_AND_ASSIGN(BacktestReport r, RunBacktest(held, join));
  ASSERT_TRUE(r.candidate.has_value());
  EXPECT_NEAR(r.candidate->auc.auc, t.held_out_auc_after, 1e-12);
  EXPECT_NEAR(r.live.auc.auc, t.auc_before, 1e-12);
  EXPECT_TRUE(r.candidate->playbooks.empty());
  EXPECT_FALSE(r.migration.has_value());
}

TEST(TuneWeightsTest, NeedsEnoughOfEachLabelForTheFolds) {
  auto model = testing::TwoByTwoModel();
  testing::SyntheticAccounts a = testing::MakeAccounts(*model, 40, 5);
  std::vector<double> written(40);
  ScoreWithWeights(*model, ModelWeights(*model), a.scores(), written.data());
  std::vector<int8_t> label(40, 0);
  label[3] = label[7] = 1;  // two churned accounts, five folds
  EXPECT_THAT(
      TuneWeights(*model, a.scores(), written.data(), label, TuneOptions())
          .status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("fewer")));
}

TEST(WriteTunedModelTest, KeepsTheFileAndItsSumsWithTheNewWeights) {
  // A comment in the file, to be kept.
  const std::string text = absl::StrReplaceAll(
      testing::kTwoByTwoModel, {{"  - id: g2\n", "  # support\n  - id: g2\n"}});
  model::DiagnosticList diags;
  model::ModelSpec spec =
      model::LoadModelSpecFromString(text, "fit.yaml", &diags);
  ASSERT_FALSE(diags.has_errors());
  const WeightSet fitted{{0.3, 0.1}, {1, 4, 2, 1}, {}, {}};
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      WriteTunedModel(text, spec, fitted, "2",
                      {"Tuned by healthscore tune", "held-out AUC\n0.8"}));
  EXPECT_THAT(out, StartsWith("# Tuned by healthscore tune\n"
                              "# held-out AUC 0.8\n"
                              "name: fit\nversion: \"2\"\n"));
  EXPECT_THAT(out, HasSubstr("  # support\n  - id: g2\n"));
  model::CompileResult r = model::CompileString(out, "fit.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  // Group weights keep their written sum (2): 0.3 : 0.1 -> 1.5, 0.5.
  EXPECT_EQ(r.model->groups()[0].weight, 1.5);
  EXPECT_EQ(r.model->groups()[1].weight, 0.5);
  // Each group's signals keep theirs: g1 sums to 2 (1:4 -> 0.4, 1.6), g2
  // to 4 (2:1 -> 2.67, 1.33 with three significant digits).
  EXPECT_EQ(r.model->signals()[0].weight, 0.4);
  EXPECT_EQ(r.model->signals()[1].weight, 1.6);
  EXPECT_EQ(r.model->signals()[2].weight, 2.67);
  EXPECT_EQ(r.model->signals()[3].weight, 1.33);
  EXPECT_EQ(r.model->version(), "2");
}

// A model with per-segment weights: the fit moves a per-segment weight
// with its signal's, and the engine's own scores (not only the fit's
// arithmetic) are those the fit computed.
TEST(WriteTunedModelTest, FittedThresholdsAreWrittenWhereTheyStand) {
  model::DiagnosticList diags;
  model::ModelSpec spec = model::LoadModelSpecFromString(
      testing::kTwoByTwoModel, "fit.yaml", &diags);
  auto model = testing::TwoByTwoModel();
  WeightSet fitted = ModelWeights(*model);
  fitted.bad[0] = -0.123456;
  fitted.good[0] = 2.71828;
  ASSERT_OK_AND_ASSIGN(std::string out, WriteTunedModel(testing::kTwoByTwoModel,
                                                        spec, fitted, "2", {}));
  EXPECT_THAT(out, HasSubstr("{id: sa, source: a, weight: 1, normalize: "
                             "{linear: {bad: -0.1235, good: 2.718}}}"));
  model::CompileResult r = model::CompileString(out, "fit.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_EQ(ModelWeights(*r.model).bad[0], -0.1235);
  EXPECT_EQ(ModelWeights(*r.model).good[0], 2.718);
  EXPECT_EQ(ModelWeights(*r.model).good[1], 1);  // untouched
}

TEST(WriteTunedModelTest, PerSegmentWeightsMoveWithTheirSignal) {
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
        "          smb: {weight: 6}\n"}});
  model::DiagnosticList diags;
  model::ModelSpec spec =
      model::LoadModelSpecFromString(text, "fit.yaml", &diags);
  ASSERT_FALSE(diags.has_errors()) << diags.ToString();
  model::CompileResult written = model::CompileString(text, "fit.yaml");
  ASSERT_NE(written.model, nullptr) << written.diagnostics.ToString();
  // sd's weight 3 -> 1 of g2's sum 4 (c 3): the smb weight 6 -> 2.
  ASSERT_OK_AND_ASSIGN(
      std::string out,
      WriteTunedModel(text, spec, {{1, 1}, {1, 1, 3, 1}, {}, {}}, "2", {}));
  EXPECT_THAT(out, HasSubstr("smb: {weight: 2}"));
  model::CompileResult r = model::CompileString(out, "fit.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_EQ(r.model->signals()[2].weight, 3);
  EXPECT_EQ(r.model->signals()[3].weight, 1);

  // SignalWeightRows gives the written model's weight rows exactly, and
  // those of the tuned model from its fitted weights.
  EXPECT_EQ(SignalWeightRows(*written.model, ModelWeights(*written.model)),
            written.model->plan().signal_weight);
  EXPECT_EQ(SignalWeightRows(*written.model, {{1, 1}, {1, 1, 3, 1}, {}, {}}),
            r.model->plan().signal_weight);
}

}  // namespace
}  // namespace healthscore::engine::backtest
