// LoadBudget: a deadline and a cancellation flag for loading models.
//
// Loading a model (reading its YAML, compiling it, running its tests.yaml)
// takes time that grows with what the file holds, and the file may come from
// any client (ValidateModel) or be half-written. A caller that must stay
// responsive (a server handling SIGTERM, a call with a gRPC deadline) passes
// a budget; the loader checks it between phases and inside its loops over
// keys and nodes, and gives up with DeadlineExceeded or Cancelled.
//
// The default budget never runs out. Checking it is cheap: one relaxed
// atomic load, and absl::Now() only when a deadline is set.
//
// Thread-safety: a LoadBudget is a plain value; the flag it points to may be
// set from any thread while a load runs, and must outlive the load.

#ifndef HEALTHSCORE_ENGINE_COMMON_LOAD_BUDGET_H_
#define HEALTHSCORE_ENGINE_COMMON_LOAD_BUDGET_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace healthscore::engine::common {

struct LoadBudget {
  // The load stops once absl::Now() passes this.
  absl::Time deadline = absl::InfiniteFuture();
  // The load stops once this becomes true. May be null. Not owned.
  const std::atomic<bool>* cancelled = nullptr;

  // True when neither a deadline nor a flag is set.
  bool unlimited() const {
    return cancelled == nullptr && deadline == absl::InfiniteFuture();
  }

  // OK while the load may go on; otherwise
  //   Cancelled:        "the model load was cancelled"
  //   DeadlineExceeded: "the model load ran past its deadline and was
  //                      abandoned"
  absl::Status Check() const;

  // This budget with its deadline moved earlier to `now + timeout` when that
  // comes first (an infinite timeout leaves it as it is).
  LoadBudget WithTimeout(absl::Duration timeout) const;
};

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_LOAD_BUDGET_H_
