#include "engine/eval/result.h"

#include <limits>
#include <utility>

namespace healthscore::engine {

void BatchResult::Resize(std::shared_ptr<const CompiledModel> model,
                         size_t n) {
  model_ = std::move(model);
  size_ = n;
  const CompiledModel& m = *model_;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // assign() reuses capacity: a result object reused for a stream of
  // batches stops allocating once it has seen the largest one.
  ok_.assign(n, 0);
  score_.assign(n, nan);
  coverage_.assign(n, 0);
  delta_.assign(n, nan);
  tier_.assign(n, kInsufficientDataTier);
  tier_by_score_.assign(n, kInsufficientDataTier);
  tier_changed_.assign(n, 0);
  tier_held_.assign(n, 0);
  group_score_.assign(m.groups().size() * n, nan);
  signal_raw_.assign(m.signals().size() * n, nan);
  signal_score_.assign(m.signals().size() * n, nan);
  signal_weight_.assign(m.signals().size() * n, 0);
  derived_.assign(m.derived().size() * n, nan);
  matched_.assign(m.playbooks().size() * n, 0);
  succeeded_.assign(m.playbooks().size() * n, 0);
  matched_count_.assign(n, 0);
}

std::vector<size_t> BatchResult::TierCounts() const {
  std::vector<size_t> counts(model_->tiers().size() + 1, 0);
  for (size_t r = 0; r < size_; ++r) {
    if (ok_[r]) ++counts[tier_[r] + 1];
  }
  return counts;
}

}  // namespace healthscore::engine
