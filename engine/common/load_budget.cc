#include "engine/common/load_budget.h"

#include <algorithm>

namespace healthscore::engine::common {

absl::Status LoadBudget::Check() const {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return absl::CancelledError("the model load was cancelled");
  }
  if (deadline != absl::InfiniteFuture() && absl::Now() >= deadline) {
    return absl::DeadlineExceededError(
        "the model load ran past its deadline and was abandoned");
  }
  return absl::OkStatus();
}

LoadBudget LoadBudget::WithTimeout(absl::Duration timeout) const {
  LoadBudget out = *this;
  if (timeout == absl::InfiniteDuration()) return out;
  out.deadline = std::min(deadline, absl::Now() + timeout);
  return out;
}

}  // namespace healthscore::engine::common
