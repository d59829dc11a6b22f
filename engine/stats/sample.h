// Input conventions shared by every function of engine/stats.
//
// A *sample* is one value per account in two parallel spans:
//
//   risk     double, higher = more likely to churn. A health score where
//            higher is healthier is passed as e.g. `100 - score`. Every
//            statistic here depends on risk only through its order, except
//            the calibration table (which bands by the value given) and the
//            isotonic map (which is applied to new risk values).
//   churned  uint8_t, 1 = the account churned (a *positive*), 0 = it was
//            retained (a *negative*). Any other value is refused: a label of
//            2 or 255 is almost always a bug upstream, not a churn.
//
// Rules every function follows (and tests):
//   - The spans must have the same length: InvalidArgument otherwise.
//   - An empty sample is InvalidArgument ("no accounts").
//   - NaN risk values are refused with InvalidArgument naming the first
//     index; the library never drops a value silently. Callers that have
//     accounts without a score (e.g. tier insufficient_data) leave them out
//     before calling and report how many they left out. +-infinity is
//     accepted: it only takes part in comparisons (except in
//     IsotonicCalibration::Fit, which interpolates between risks and so
//     needs finite ones).
//   - A statistic that is undefined for the sample (AUC without churned or
//     without retained accounts) is FailedPrecondition, so that a caller can
//     tell "this segment has no churners" from malformed input.
//   - Ratios that are 0/0 for a valid sample (e.g. precision with no alarm
//     raised, the churn rate of an empty group) are quiet NaN, as each
//     header says.
//
// Everything here is a pure function of its arguments: no I/O, no globals,
// safe to call from any number of threads at once. Work is O(n log n) at
// most, with O(n) scratch allocated once per call.

#ifndef HEALTHSCORE_ENGINE_STATS_SAMPLE_H_
#define HEALTHSCORE_ENGINE_STATS_SAMPLE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace healthscore::engine::stats {

// The 97.5% quantile of the standard normal distribution: the z of a
// two-sided 95% interval. Pass e.g. 1.6448536269514722 for 90% or
// 2.5758293035489004 for 99%.
inline constexpr double kZ95 = 1.959963984540054;

// How many accounts of a validated sample churned and how many did not.
struct LabelCounts {
  int64_t churned = 0;
  int64_t retained = 0;
  int64_t total() const { return churned + retained; }
};

// Checks that every label is 0 or 1 and the span is not empty. `what`
// names the span in messages ("churned", "alarm").
absl::Status ValidateLabels(absl::Span<const uint8_t> labels,
                            const char* what = "churned");

// Checks a whole sample as the rules above say and counts its labels.
// Messages name the first offending index, e.g.
//   "risk[17] is NaN: leave accounts without a score out of the sample
//    (and count them) before computing statistics".
absl::Status ValidateSample(absl::Span<const double> risk,
                            absl::Span<const uint8_t> churned,
                            LabelCounts* counts);

// FailedPrecondition unless the sample has at least `min_each` churned and
// `min_each` retained accounts; `statistic` names what needs them.
absl::Status RequireBothClasses(const LabelCounts& counts, int64_t min_each,
                                const char* statistic);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_SAMPLE_H_
