// Proportions with Wilson score intervals: churn rate per group (e.g. per
// tier) and whether the rates are ordered the way the groups promise.
//
// Wilson, E. B. (1927), "Probable inference, the law of succession, and
// statistical inference", JASA 22(158):209-212; method 3 ("score method
// without continuity correction") of Newcombe, R. G. (1998), "Two-sided
// confidence intervals for the single proportion: comparison of seven
// methods", Statistics in Medicine 17(8):857-872. With k successes in n
// trials, p = k / n:
//
//   center = (p + z^2 / (2n)) / (1 + z^2 / n)
//   half   = z * sqrt(p (1 - p) / n + z^2 / (4 n^2)) / (1 + z^2 / n)
//   [lower, upper] = [center - half, center + half]
//
// It stays inside [0, 1], is never of zero width, and unlike the Wald
// interval behaves at k = 0 and k = n (lower is exactly 0 at k = 0, upper
// exactly 1 at k = n).
//
// Pure functions, thread-safe. Labels follow engine/stats/sample.h.

#ifndef HEALTHSCORE_ENGINE_STATS_PROPORTION_H_
#define HEALTHSCORE_ENGINE_STATS_PROPORTION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {

struct Proportion {
  int64_t successes = 0;  // e.g. churned accounts
  int64_t trials = 0;     // e.g. accounts
  // successes / trials; NaN when trials is 0.
  double rate = 0;
  // The Wilson interval; [0, 1] when trials is 0 (nothing is known).
  double lower = 0;
  double upper = 0;
};

// InvalidArgument unless 0 <= successes <= trials and z is finite and
// positive.
absl::StatusOr<Proportion> WilsonInterval(int64_t successes, int64_t trials,
                                          double z = kZ95);

// The churn rate of each group: `group[i]` in [0, num_groups) is the group
// of account i (e.g. the index of its tier), `churned[i]` its label. Returns
// num_groups proportions (successes = churned accounts, trials = accounts);
// a group without accounts has trials 0 and rate NaN. O(n).
// InvalidArgument for mismatched lengths, an empty sample, a bad label or a
// group index outside [0, num_groups) (naming the first such account).
absl::StatusOr<std::vector<Proportion>> ChurnRateByGroup(
    absl::Span<const int32_t> group, absl::Span<const uint8_t> churned,
    int32_t num_groups, double z = kZ95);

// One comparison of adjacent groups in the promised order.
struct RateOrderPair {
  int32_t lower_group = 0;   // should have the lower churn rate
  int32_t higher_group = 0;  // should have the higher churn rate
  double lower_rate = 0;
  double higher_rate = 0;
  // lower_rate < higher_rate (strictly).
  bool holds = false;
  // The two Wilson intervals overlap: the order (held or broken) may be
  // chance. A broken pair whose intervals do not overlap is a real
  // inversion.
  bool intervals_overlap = false;
};

struct RateOrder {
  // True when at least two groups have accounts and every pair holds.
  bool ordered = false;
  // Adjacent pairs of the non-empty groups, in the promised order.
  std::vector<RateOrderPair> pairs;
  // Index into `pairs` of the first pair that does not hold; -1 if none.
  int32_t first_break = -1;
  // Groups of `order` without accounts: they are left out of the pairs.
  std::vector<int32_t> empty_groups;
};

// Checks that the rates increase strictly along `order`, which lists group
// indices from the one that should churn least to the one that should churn
// most (e.g. {green, yellow, red}). Groups not in `order` are ignored.
// InvalidArgument if an index is outside `rates` or repeated.
absl::StatusOr<RateOrder> CheckRateOrder(absl::Span<const Proportion> rates,
                                         absl::Span<const int32_t> order);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_PROPORTION_H_
