// Lift and cumulative gains by risk quantile (deciles by default).
//
// Accounts are ranked by risk, highest first, and cut into `bins` bins of
// about n / bins accounts: bin 1 holds the riskiest accounts. Equal risks
// are never split: all accounts sharing a risk value fall into the bin of
// the middle position of their run in that ranking. Precisely, a run of
// equal risks occupying ranks [s, e) (0-based, highest risk first) goes to
// bin 1 + floor((s + e - 1) * bins / (2 n)); without ties that is the usual
// 1 + floor(s * bins / n). Bins therefore hold whole runs, can differ in
// size when risks tie, and can even be empty (e.g. a model with three
// distinct scores has at most three non-empty bins).
//
// Per bin: accounts, churned, churn rate, lift = rate / base rate (base
// rate = churned / accounts over the whole sample), and the cumulative
// share of accounts and of churned accounts (the gains curve) from bin 1
// through this bin, with the cumulative lift (cumulative churned share /
// cumulative account share).
//
// Conventions and errors as in engine/stats/sample.h; FailedPrecondition
// when no account churned (lift and gains divide by the churners).
// Pure function, thread-safe, O(n log n).

#ifndef HEALTHSCORE_ENGINE_STATS_LIFT_H_
#define HEALTHSCORE_ENGINE_STATS_LIFT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace healthscore::engine::stats {

struct LiftBin {
  int32_t bin = 0;  // 1 = highest risk
  int64_t accounts = 0;
  int64_t churned = 0;
  // Range of risk in the bin; NaN for an empty bin.
  double min_risk = 0;
  double max_risk = 0;
  double rate = 0;  // churned / accounts; NaN for an empty bin
  double lift = 0;  // rate / base rate; NaN for an empty bin
  double cumulative_accounts_share = 0;  // bins 1..bin, in [0, 1]
  double cumulative_churned_share = 0;   // the gains curve, in [0, 1]
  // cumulative_churned_share / cumulative_accounts_share; NaN while no
  // account has been binned.
  double cumulative_lift = 0;
};

// `bins` must be in [1, number of accounts] (InvalidArgument otherwise).
absl::StatusOr<std::vector<LiftBin>> LiftByQuantile(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned,
    int32_t bins = 10);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_LIFT_H_
