#include "engine/eval/result.h"

#include <utility>

namespace healthscore::engine::eval {

void BatchResult::Resize(std::shared_ptr<const model::CompiledModel> model,
                         size_t n, bool signal_values) {
  model_ = std::move(model);
  size_ = n;
  signal_values_ = signal_values;
  const model::CompiledModel& m = *model_;
  // resize() only: the scorer writes every element of every column, and a
  // result reused for a stream of batches stops allocating once it has seen
  // the largest one.
  ok_.resize(n);
  score_.Resize(n);
  coverage_.Resize(n);
  delta_.Resize(n);
  tier_.resize(n);
  tier_by_score_.resize(n);
  tier_changed_.resize(n);
  tier_held_.resize(n);
  group_score_.Resize(m.groups().size() * n);
  if (signal_values) {
    signal_raw_.Resize(m.signals().size() * n);
    signal_score_.Resize(m.signals().size() * n);
    derived_.Resize(m.derived().size() * n);
  }
  matched_.resize(m.playbooks().size() * n);
  succeeded_.resize(m.playbooks().size() * n);
  matched_count_.resize(n);
}

std::vector<size_t> BatchResult::TierCounts() const {
  std::vector<size_t> counts(model_->tiers().size() + 1, 0);
  for (size_t r = 0; r < size_; ++r) {
    if (ok_[r]) ++counts[tier_[r] + 1];
  }
  return counts;
}

}  // namespace healthscore::engine::eval
