#include "engine/stats/internal/risk_groups.h"

#include <algorithm>

namespace healthscore::engine::stats::internal {

void SortByClass(absl::Span<const double> risk,
                 absl::Span<const uint8_t> churned, const LabelCounts& counts,
                 std::vector<double>* positives,
                 std::vector<double>* negatives) {
  positives->clear();
  negatives->clear();
  positives->reserve(counts.churned);
  negatives->reserve(counts.retained);
  for (size_t i = 0; i < risk.size(); ++i) {
    (churned[i] ? positives : negatives)->push_back(risk[i]);
  }
  // Sorting plain doubles per class is several times faster than sorting
  // (risk, label) pairs or an index array, and the merge below restores
  // the joint order.
  std::sort(positives->begin(), positives->end());
  std::sort(negatives->begin(), negatives->end());
}

std::vector<RiskGroup> GroupByRisk(absl::Span<const double> risk,
                                   absl::Span<const uint8_t> churned,
                                   const LabelCounts& counts) {
  std::vector<double> pos;
  std::vector<double> neg;
  SortByClass(risk, churned, counts, &pos, &neg);
  std::vector<RiskGroup> groups;
  groups.reserve(pos.size() + neg.size());
  size_t i = 0;
  size_t j = 0;
  while (i < pos.size() || j < neg.size()) {
    double r;
    if (i == pos.size()) {
      r = neg[j];
    } else if (j == neg.size()) {
      r = pos[i];
    } else {
      r = std::min(pos[i], neg[j]);
    }
    RiskGroup g;
    g.risk = r;
    // `==` merges -0.0 and +0.0, which compare equal everywhere else too.
    while (i < pos.size() && pos[i] == r) ++i, ++g.churned;
    while (j < neg.size() && neg[j] == r) ++j, ++g.retained;
    groups.push_back(g);
  }
  return groups;
}

}  // namespace healthscore::engine::stats::internal
