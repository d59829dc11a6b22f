// Backtests: how well what a model said of each snapshot predicted what
// the account did afterwards.
//
// RunBacktest takes the snapshots a model (and optionally a candidate)
// scored (scored_snapshots.h) and the label the outcome join gave each
// (engine/outcomes/join.h), and measures, per model (engine/stats):
//   - discrimination over the snapshots with a score and a label: ROC AUC
//     with DeLong's 95% interval, the ROC curve, the Kolmogorov-Smirnov
//     statistic; risk is the score reversed (a low score should mean
//     churn);
//   - calibration: the score mapped to a churn probability by isotonic
//     regression fitted on the same snapshots (in-sample: it says how well
//     the ranking can be turned into rates, not how a rate fitted on other
//     data would do), its Brier score, and observed churn per score band
//     of 10 points;
//   - churn per tier with Wilson intervals (every labelled snapshot the
//     model could read, insufficient_data apart), and whether the rates go
//     up from the top tier to the bottom one as the tiers promise;
//   - lift and cumulative gains by risk decile;
//   - "the bottom tier" and "the bottom two tiers" (red, red or yellow)
//     as churn alarms: precision, recall, F1;
//   - per playbook, churn where it fired and where it did not, and the
//     churned snapshots no playbook reached;
//   - per segment, all of the above over the segment's snapshots (when it
//     has two churned and two retained snapshots with a score; its counts
//     otherwise).
// With a candidate, both models are measured on their own snapshots, and
// the AUC difference is tested with DeLong's paired test on the snapshots
// both scored; the tier migration is `healthscore diff`'s.
//
// The report is a plain value; FormatBacktestText, BacktestJson and
// BacktestDocument (an HTML report through engine/report) present it.
// Thread-safety: plain functions.

#ifndef HEALTHSCORE_ENGINE_BACKTEST_BACKTEST_H_
#define HEALTHSCORE_ENGINE_BACKTEST_BACKTEST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/common/number_format.h"
#include "engine/outcomes/join.h"
#include "engine/report/document.h"
#include "engine/shadow/shadow.h"
#include "engine/stats/alarm.h"
#include "engine/stats/calibration.h"
#include "engine/stats/delong.h"
#include "engine/stats/lift.h"
#include "engine/stats/proportion.h"
#include "engine/stats/roc.h"

namespace healthscore::engine::backtest {

struct BacktestOptions {
  int lift_bins = 10;
  // Bins of the score distributions (churned versus retained) in reports.
  int score_bins = 20;
};

struct TierFigure {
  std::string id;  // "insufficient_data" for that pseudo-tier
  std::string name;
  std::string color;  // the model's colour; may be empty
  stats::Proportion churn;
};

struct PlaybookFigure {
  std::string id;
  std::string name;
  stats::Proportion fired;      // churn where it fired
  stats::Proportion not_fired;  // churn where it did not
};

struct AlarmFigure {
  std::string name;  // e.g. "tier is red or yellow"
  stats::AlarmMetrics metrics;
};

struct ModelFigures;

struct SegmentFigure {
  std::string segment;
  stats::Proportion churn;  // over the segment's labelled snapshots
  // Over those with a score. auc_valid is false, and the figures below
  // are left empty, when the segment has fewer than two churned or two
  // retained snapshots with a score (too few for DeLong's interval).
  bool auc_valid = false;
  stats::AucEstimate auc;
  stats::KsResult ks;
  double brier = 0;  // isotonic calibration within the segment, in-sample
  std::vector<stats::LiftBin> lift;
  std::vector<TierFigure> tiers;
  // Every figure of ModelFigures over the segment's snapshots (alarms,
  // calibration, playbooks included; no nested segments), when auc_valid.
  std::shared_ptr<const ModelFigures> figures;
};

struct ModelFigures {
  // "live" or "candidate" when the backtest has a candidate, else empty.
  std::string role;
  std::string name;
  std::string version;
  std::string hash;
  // Labelled snapshots the model scored, and of them the churned ones.
  uint64_t sample = 0;
  uint64_t churned = 0;
  // Labelled snapshots without a score (no signal present) or that failed.
  uint64_t without_score = 0;
  uint64_t failed = 0;
  stats::AucEstimate auc;
  stats::KsResult ks;
  double brier = 0;
  std::vector<stats::RocPoint> roc;
  // The model's tiers from the top (healthiest) down, then
  // insufficient_data.
  std::vector<TierFigure> tiers;
  stats::RateOrder order;  // over the model's tiers, top down
  std::vector<stats::LiftBin> lift;
  std::vector<stats::CalibrationBand> calibration;
  std::vector<AlarmFigure> alarms;
  std::vector<PlaybookFigure> playbooks;
  uint64_t churned_without_playbook = 0;
  // The scores of the sample, for the distributions in reports.
  std::vector<double> churned_scores;
  std::vector<double> retained_scores;
  std::vector<SegmentFigure> segments;
};

struct BacktestReport {
  outcomes::JoinReport join;
  std::string segment_by;  // empty without segments
  ModelFigures live;
  std::optional<ModelFigures> candidate;
  // Live (a) against candidate (b) on the snapshots both scored.
  std::optional<stats::PairedAucTest> paired;
  std::optional<shadow::ShadowReport> migration;
};

// Measures `snapshots` against `join` (one joined row per snapshot, in the
// same order). FailedPrecondition when a model's sample has no churned or
// no retained snapshot (nothing to measure: the message says how many of
// each, and the join's exclusions); InvalidArgument when sizes disagree.
absl::StatusOr<BacktestReport> RunBacktest(const ScoredSnapshots& snapshots,
                                           const outcomes::JoinResult& join,
                                           const BacktestOptions& options = {});

// The report for people (`healthscore backtest`'s text format).
std::string FormatBacktestText(const BacktestReport& report,
                               common::NumberFormat numbers = {});
// The report as one JSON object with a trailing newline.
std::string BacktestJson(const BacktestReport& report,
                         common::NumberFormat numbers = {});
// The report as a document for engine/report's HTML renderer: key
// figures, ROC curves, churn by tier, calibration, cumulative gains, the
// score distributions, and the tables. `meta` lines go under the title.
report::Document BacktestDocument(
    const BacktestReport& report,
    std::vector<std::pair<std::string, std::string>> meta);

}  // namespace healthscore::engine::backtest

#endif  // HEALTHSCORE_ENGINE_BACKTEST_BACKTEST_H_
