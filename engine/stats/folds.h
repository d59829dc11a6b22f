// Stratified k-fold assignment for cross-validation, reproducible from a
// seed on every platform.
//
// Each class (churned, retained) is shuffled on its own and dealt to the
// folds in turn, so every fold gets floor or ceil of P / k churned and of
// N / k retained accounts, and fold sizes differ by at most one overall.
//
// The algorithm is fixed, so a seed means the same folds on every standard
// library (std::shuffle and std::uniform_int_distribution are not: their
// algorithms are implementation-defined):
//   1. One std::mt19937_64 engine seeded with `seed` (the standard fixes
//      its output sequence).
//   2. The indices of the churned accounts, in increasing order, get a
//      Fisher-Yates shuffle: for i = m-1 down to 1, swap element i with
//      element j, j uniform in [0, i], drawn as r % (i + 1) from the next
//      engine output r, redrawing while r >= 2^64 - (2^64 mod (i + 1)) so
//      that j is unbiased. Then the retained accounts' indices, continuing
//      the same engine.
//   3. The t-th churned account of the shuffled order goes to fold t mod k;
//      the t-th retained account to fold (P + t) mod k, which continues the
//      rotation so that the folds also balance overall.
//
// Pure function, thread-safe, O(n).

#ifndef HEALTHSCORE_ENGINE_STATS_FOLDS_H_
#define HEALTHSCORE_ENGINE_STATS_FOLDS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace healthscore::engine::stats {

// The seed the CLI uses when none is given (`--seed` in tune).
inline constexpr uint64_t kDefaultFoldSeed = 12;

// The fold, in [0, k), of each account. InvalidArgument for an empty
// sample, a bad label or k < 2; FailedPrecondition when either class has
// fewer than k accounts (some fold would have no churner, or no retained
// account, to score the held-out AUC on).
absl::StatusOr<std::vector<int32_t>> StratifiedFolds(
    absl::Span<const uint8_t> churned, int32_t k,
    uint64_t seed = kDefaultFoldSeed);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_FOLDS_H_
