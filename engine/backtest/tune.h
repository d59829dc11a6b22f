// Tuning: a model's weights fitted to outcomes with k-fold
// cross-validation, and the tuned model written as a new version.
//
// TuneWeights takes the snapshots a model scored (with their signal
// scores, ScoreOptions::keep_signal_scores) and each snapshot's label
// (churned, retained, or left out by the outcome join). For each pull
// strength it tries (weight_fit.h), it fits the weights on k-1 folds and
// scores the held-out fold, and keeps the pull whose pooled held-out
// scores rank churn best (ROC AUC; on a tie, the stronger pull, which
// stays closer to the written model). The weights it returns are then
// fitted on every labelled snapshot with that pull; the held-out figures
// say how well weights fitted this way do on accounts they were not
// fitted on. Folds are stratified by label and seeded
// (engine/stats/folds.h), so a run is reproducible.
//
// WriteTunedModel puts the weights (and fitted thresholds, with four
// significant digits) into the model's own text (model_edit.h)
// with three significant digits, scaled so that group weights keep their
// written sum and each group's signal weights theirs, sets the version,
// and starts the file with a comment saying how it was fitted. The text is
// compiled again before it is returned, and its weights checked.
//
// Thread-safety: plain functions.

#ifndef HEALTHSCORE_ENGINE_BACKTEST_TUNE_H_
#define HEALTHSCORE_ENGINE_BACKTEST_TUNE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/backtest/weight_fit.h"
#include "engine/model/compiled_model.h"
#include "engine/model/compiler.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::backtest {

// A snapshot's label: churned (1), retained (0), or not in the sample.
inline constexpr int8_t kNotLabelled = -1;

struct TuneOptions {
  int folds = 5;
  uint64_t seed = 12;  // stats::kDefaultFoldSeed
  // Pull strengths tried (weight_fit.h); at least one.
  std::vector<double> pulls = {0.001, 0.01, 0.1};
  // fit.fit_thresholds also fits linear normalisations' thresholds.
  FitOptions fit;
  // Also move the tier cut-offs (see TierFit).
  bool fit_tiers = false;
};

// Tier cut-offs for fitted weights: each tier keeps the share of accounts
// it had under the written model (the customer-success team's workload
// per tier stays the same), the cut-off falling halfway between the last
// account in and the first one out, rounded to two decimals.
struct TierFit {
  // model.tiers()[t].min for every tier, top first; the bottom tier's is
  // the written one.
  std::vector<double> min;
  // Churn per tier on the held-out scores with these cut-offs, top first,
  // and whether it rises strictly from tier to tier (tiers without
  // accounts left out).
  std::vector<double> churn;
  bool ordered = false;
};

struct PullFigure {
  double pull = 0;
  double held_out_auc = 0;
};

struct TuneResult {
  WeightSet before;  // as written
  WeightSet after;   // fitted on every labelled snapshot
  double pull = 0;   // the strength chosen
  std::vector<PullFigure> pulls;
  // The snapshots in the sample (labelled and scored by the model), in
  // snapshot order, and per sample entry its label and its held-out score
  // (from weights fitted without its fold) and its score as written.
  std::vector<uint32_t> rows;
  std::vector<uint8_t> churned;
  std::vector<double> held_out_score;
  std::vector<double> written_score;
  std::vector<int32_t> fold;
  // ROC AUC of "low score means churn" over the sample: the written
  // weights (never fitted, so every snapshot is held out), and the pooled
  // held-out scores of the fitted ones.
  double auc_before = 0;
  double held_out_auc_after = 0;
  // With TuneOptions::fit_tiers.
  std::optional<TierFit> tiers;
};

// Fits the weights of `model` (see the file comment). `scores` holds the
// signal scores of every snapshot; `written_score[r]` the model's score of
// snapshot r (NaN when none) and `label[r]` its label. InvalidArgument
// when sizes disagree; FailedPrecondition when the sample has fewer than
// `folds` churned or retained snapshots. With fit_tiers, FailedPrecondition
// when the fitted cut-offs would not keep churn rising from tier to tier
// (the message gives the rates): the weights are then fitted alone.
absl::StatusOr<TuneResult> TuneWeights(const model::CompiledModel& model,
                                       const SignalScores& scores,
                                       const double* written_score,
                                       const std::vector<int8_t>& label,
                                       const TuneOptions& options);

// The text of `spec` (loaded from `text`) with `weights`, version
// `version`, and `header` (lines without the leading "# ", which is added)
// at the top; see the file comment. A per-segment signal weight is scaled
// with its signal's weight (it keeps its ratio, as in the fit). Errors:
// InvalidArgument when the text does not match the spec or the edited
// text does not compile to the intended weights.
// The snapshots `written` holds, with `tuned_model` as the candidate
// scored by the held-out scores of `tuned` (each snapshot by the weights
// fitted without its fold), for a backtest of the written against the
// tuned model on held-out scores. The candidate's tiers follow its scores
// and `tuned_model`'s cut-offs alone (no coverage rule, no hysteresis), a
// snapshot outside the sample has no score, and its playbooks are not
// known (ModelColumns::playbooks_known is false).
ScoredSnapshots HeldOutSnapshots(
    const ScoredSnapshots& written, const TuneResult& tuned,
    std::shared_ptr<const model::CompiledModel> tuned_model);

// `tier_min` moves tiers' `min` (by tier id; a `max` that meets the moved
// cut-off moves with it). `compile` is used for that check (its plugins, for a
// model that has some).
absl::StatusOr<std::string> WriteTunedModel(
    std::string_view text, const model::ModelSpec& spec,
    const WeightSet& weights, std::string_view version,
    const std::vector<std::string>& header,
    const model::CompileOptions& compile = {},
    const std::map<std::string, double>& tier_min = {});

}  // namespace healthscore::engine::backtest

#endif  // HEALTHSCORE_ENGINE_BACKTEST_TUNE_H_
