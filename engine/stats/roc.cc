#include "engine/stats/roc.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "engine/common/status_macros.h"
#include "engine/stats/internal/risk_groups.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {
namespace {

absl::StatusOr<std::vector<internal::RiskGroup>> Groups(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned,
    const char* statistic, LabelCounts* counts) {
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk, churned, counts));
  HEALTHSCORE_RETURN_IF_ERROR(RequireBothClasses(*counts, 1, statistic));
  return internal::GroupByRisk(risk, churned, *counts);
}

}  // namespace

absl::StatusOr<double> Auc(absl::Span<const double> risk,
                           absl::Span<const uint8_t> churned) {
  LabelCounts counts;
  HEALTHSCORE_ASSIGN_OR_RETURN(auto groups,
                               Groups(risk, churned, "AUC", &counts));
  // Twice the Mann-Whitney U, in integers held exactly by a double: each
  // churned account scores 2 per retained account below it and 1 per tie.
  double twice_u = 0;
  int64_t retained_below = 0;
  for (const internal::RiskGroup& g : groups) {
    twice_u += static_cast<double>(g.churned) *
               static_cast<double>(2 * retained_below + g.retained);
    retained_below += g.retained;
  }
  return twice_u / (2.0 * static_cast<double>(counts.churned) *
                    static_cast<double>(counts.retained));
}

absl::StatusOr<std::vector<RocPoint>> RocCurve(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned) {
  LabelCounts counts;
  HEALTHSCORE_ASSIGN_OR_RETURN(auto groups,
                               Groups(risk, churned, "the ROC curve", &counts));
  const double p = static_cast<double>(counts.churned);
  const double n = static_cast<double>(counts.retained);
  std::vector<RocPoint> points;
  points.reserve(groups.size() + 1);
  points.push_back({std::numeric_limits<double>::infinity(), 0, 0});
  int64_t tp = 0;
  int64_t fp = 0;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    tp += g->churned;
    fp += g->retained;
    points.push_back({g->risk, fp / n, tp / p});
  }
  return points;
}

absl::StatusOr<KsResult> KolmogorovSmirnov(absl::Span<const double> risk,
                                           absl::Span<const uint8_t> churned) {
  LabelCounts counts;
  HEALTHSCORE_ASSIGN_OR_RETURN(
      auto groups,
      Groups(risk, churned, "the Kolmogorov-Smirnov statistic", &counts));
  const double p = static_cast<double>(counts.churned);
  const double n = static_cast<double>(counts.retained);
  KsResult best;
  best.threshold = std::numeric_limits<double>::infinity();
  // (TPR - FPR) * P * N in integers, so that thresholds with the same
  // distance compare equal whatever the rounding of the two quotients.
  int64_t best_scaled = 0;
  int64_t tp = 0;
  int64_t fp = 0;
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    tp += g->churned;
    fp += g->retained;
    const int64_t scaled = tp * counts.retained - fp * counts.churned;
    // Strictly greater: the first (highest) threshold reaching the maximum
    // wins, as the header promises.
    if (std::llabs(scaled) > best_scaled) {
      best_scaled = std::llabs(scaled);
      const double tpr = tp / p;
      const double fpr = fp / n;
      best = {std::fabs(tpr - fpr), g->risk, tpr, fpr, tpr - fpr};
    }
  }
  return best;
}

}  // namespace healthscore::engine::stats
