// Fitting a model's weights to outcomes, keeping its structure.
//
// A model's score is a weighted mean of group scores, each a weighted mean
// of its signals' 0-100 scores, both over what is present (see
// docs/model-format.md). The signal scores of an account do not depend on
// the weights, so they are computed once (by the engine, on the bound
// table: ModelColumns::signal_score) and every candidate set of weights is
// scored from them with the engine's own arithmetic (ScoreWithWeights).
//
// FitWeights finds positive group and signal weights under which low
// scores go with churn: it maximises the likelihood of a logistic link
// from the score to churn (P(churn) = 1 / (1 + exp(-(a + b * score)))),
// the weights entering through the score with the model's missing-data
// renormalisation intact, minus a pull towards the current weights,
// pull * sum((log w - log w_current)^2), which keeps the fitted model
// close to the one its authors wrote and decides between weights the data
// cannot tell apart. Per-segment signal weights move with their signal's
// weight (SignalWeightRows), so only the model's own weights are
// parameters. Weights are parameterised by their logarithms (so
// they stay positive) and fitted by L-BFGS from the current weights: a
// smooth, deterministic fit whose cost is a few dozen passes over rows x
// signals.
//
// Thread-safety: plain functions over caller-owned arrays.

#ifndef HEALTHSCORE_ENGINE_BACKTEST_WEIGHT_FIT_H_
#define HEALTHSCORE_ENGINE_BACKTEST_WEIGHT_FIT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/compiled_model.h"

namespace healthscore::engine::backtest {

// Weights in the model's order: group g is model.groups()[g], signal s is
// model.signals()[s].
struct WeightSet {
  std::vector<double> group;
  std::vector<double> signal;
  // The `bad` and `good` of each signal's linear normalisation; NaN for a
  // signal whose normalisation is not linear or differs by segment (its
  // thresholds are never fitted).
  std::vector<double> bad;
  std::vector<double> good;
};

// The weights (and linear thresholds) as the model file gives them.
WeightSet ModelWeights(const model::CompiledModel& model);

// Signal scores of `rows` accounts, row-major: signal s of row r is
// scores[r * signals + s], NaN when the signal is missing.
struct SignalScores {
  const double* scores = nullptr;
  size_t rows = 0;
  size_t signals = 0;
  // For a model with per-segment signal weights (`overrides: {SEGMENT:
  // {weight: W}}`): row r's weight row, expr::SegmentIndex of its segment
  // (ModelColumns::weight_row); null when the model has none.
  const int32_t* weight_row = nullptr;
  // The signals' raw values, laid out as `scores` (NaN when missing);
  // needed to score thresholds other than the written ones.
  const double* raw = nullptr;
  double At(size_t row, size_t signal) const {
    return scores[row * signals + signal];
  }
};

// The signal weights of every weight row (the model plan's
// signal_weight[SegmentIndex][signal]) when the signals' own weights are
// `weights.signal`: a per-segment weight keeps its ratio to its signal's
// weight (it moves with it), and equals the model's exactly when the
// signal's weight is the written one.
std::vector<std::vector<double>> SignalWeightRows(
    const model::CompiledModel& model, const WeightSet& weights);

// out[r] = the score of row r under `weights`, as the engine computes it
// (the same sums in the same order: equal to the engine's score to the
// last bit for the model's own weights); NaN when no signal is present.
// A signal whose thresholds differ from the written ones is normalised
// again from its raw value (scores.raw must then be set).
void ScoreWithWeights(const model::CompiledModel& model,
                      const WeightSet& weights, const SignalScores& scores,
                      double* out);
// The same for the rows listed: out[i] is the score of row rows[i].
void ScoreWithWeights(const model::CompiledModel& model,
                      const WeightSet& weights, const SignalScores& scores,
                      const std::vector<uint32_t>& rows, double* out);

struct FitOptions {
  // Strength of the pull towards the starting weights (see the file
  // comment); 0 fits the data alone.
  double pull = 0.01;
  // The most L-BFGS iterations; the fit stops earlier once an iteration
  // lowers the objective by less than `tolerance` (relative).
  int iterations = 200;
  double tolerance = 1e-10;
  // Also fit the `bad` and `good` of linear normalisations (signals whose
  // normalisation is the same in every segment), pulled towards the
  // written ones in units of their written distance. Needs
  // SignalScores::raw.
  bool fit_thresholds = false;
};

// Fits weights to `churned` (0/1 per row) over the rows listed in `rows`
// (indices into `scores`), starting from and pulled towards `start`.
// InvalidArgument when the rows hold no churned or no retained account, or
// sizes disagree.
absl::StatusOr<WeightSet> FitWeights(const model::CompiledModel& model,
                                     const SignalScores& scores,
                                     const uint8_t* churned,
                                     const std::vector<uint32_t>& rows,
                                     const WeightSet& start,
                                     const FitOptions& options);

}  // namespace healthscore::engine::backtest

#endif  // HEALTHSCORE_ENGINE_BACKTEST_WEIGHT_FIT_H_
