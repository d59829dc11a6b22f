// ROC analysis of a risk value against churn: the area under the curve,
// the curve itself and the Kolmogorov-Smirnov statistic.
//
// Conventions (engine/stats/sample.h): `risk` higher = more likely to churn,
// `churned` 0/1, same length, no NaN. An account is *flagged* at threshold t
// when risk >= t; TPR(t) is the share of churned accounts flagged and FPR(t)
// the share of retained accounts flagged.
//
// Errors: InvalidArgument for malformed input (sample.h);
// FailedPrecondition when the sample has no churned or no retained account,
// where none of these is defined.
//
// Pure functions, thread-safe, O(n log n) time and O(n) scratch.

#ifndef HEALTHSCORE_ENGINE_STATS_ROC_H_
#define HEALTHSCORE_ENGINE_STATS_ROC_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace healthscore::engine::stats {

// The area under the ROC curve: the probability that a random churned
// account has a higher risk than a random retained one, ties counting 1/2
// (the Mann-Whitney U statistic divided by churned * retained):
//
//   AUC = (1 / (P N)) * sum_{i churned} sum_{j retained} psi(x_i, y_j),
//   psi(x, y) = 1 if x > y, 1/2 if x == y, 0 if x < y.
//
// Equals the trapezoidal area under RocCurve(). Computed exactly from
// integer pair counts (exact for up to 2^53 / 2 account pairs).
absl::StatusOr<double> Auc(absl::Span<const double> risk,
                           absl::Span<const uint8_t> churned);

// One point of the ROC curve.
struct RocPoint {
  double threshold = 0;  // accounts with risk >= threshold are flagged
  double fpr = 0;        // false positive rate (1 - specificity)
  double tpr = 0;        // true positive rate (sensitivity, recall)
};

// The ROC curve for plotting: the first point is (0, 0) at threshold
// +infinity, then one point per distinct risk value in descending order,
// the last being (1, 1) at the smallest risk. Equal risks are never split,
// so ties make a diagonal segment. Size: distinct risk values + 1.
absl::StatusOr<std::vector<RocPoint>> RocCurve(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned);

struct KsResult {
  // max over thresholds of |TPR - FPR|, in [0, 1].
  double statistic = 0;
  // Where the maximum is reached: the highest such threshold (the smallest
  // set of flagged accounts). +infinity when the statistic is 0.
  double threshold = 0;
  double tpr = 0;
  double fpr = 0;
  // TPR - FPR at that threshold: negative when the risk ranks retained
  // accounts above churned ones.
  double signed_difference = 0;
};

// The two-sample Kolmogorov-Smirnov statistic between the risk of churned
// and retained accounts: the largest vertical distance of the ROC curve
// from the diagonal, over the thresholds of RocCurve().
absl::StatusOr<KsResult> KolmogorovSmirnov(absl::Span<const double> risk,
                                           absl::Span<const uint8_t> churned);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_ROC_H_
