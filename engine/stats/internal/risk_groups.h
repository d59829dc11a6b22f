// Sorting a validated sample into groups of equal risk (engine/stats only).

#ifndef HEALTHSCORE_ENGINE_STATS_INTERNAL_RISK_GROUPS_H_
#define HEALTHSCORE_ENGINE_STATS_INTERNAL_RISK_GROUPS_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats::internal {

// The accounts sharing one risk value.
struct RiskGroup {
  double risk = 0;
  int64_t churned = 0;
  int64_t retained = 0;
};

// The risks of the churned accounts and of the retained accounts, each
// sorted ascending. The sample must have passed ValidateSample (no NaN),
// `counts` being what it returned.
void SortByClass(absl::Span<const double> risk,
                 absl::Span<const uint8_t> churned, const LabelCounts& counts,
                 std::vector<double>* positives,
                 std::vector<double>* negatives);

// The distinct risk values in ascending order with their label counts:
// one O(n log n) sort per class and a merge. Same precondition.
std::vector<RiskGroup> GroupByRisk(absl::Span<const double> risk,
                                   absl::Span<const uint8_t> churned,
                                   const LabelCounts& counts);

}  // namespace healthscore::engine::stats::internal

#endif  // HEALTHSCORE_ENGINE_STATS_INTERNAL_RISK_GROUPS_H_
