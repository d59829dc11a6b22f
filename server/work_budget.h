// WorkBudget: how long a background task of the server (loading or
// reloading the models, validating a model for a client) may run, and a
// flag that asks it to stop.
//
// It has the shape of the engine's model-loading budget (a deadline and a
// cancellation flag), so that the task can hand both to the engine, which
// then stops at the next check. The server never relies on that alone:
// whoever waits for a task stops waiting at the deadline (ValidationLane,
// Reloader), and a task that has not returned by then is abandoned.
//
// Thread-safety: `cancelled` may be set and read from any thread while the
// task runs. Shared through std::shared_ptr so that an abandoned task keeps
// its budget alive.

#ifndef HEALTHSCORE_SERVER_WORK_BUDGET_H_
#define HEALTHSCORE_SERVER_WORK_BUDGET_H_

#include <atomic>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace healthscore::server {

struct WorkBudget {
  explicit WorkBudget(absl::Time deadline = absl::InfiniteFuture())
      : deadline(deadline) {}
  WorkBudget(const WorkBudget&) = delete;
  WorkBudget& operator=(const WorkBudget&) = delete;

  // True once the task was asked to stop or its deadline passed.
  bool Exhausted() const {
    return cancelled.load(std::memory_order_relaxed) ||
           (deadline != absl::InfiniteFuture() && absl::Now() >= deadline);
  }

  const absl::Time deadline;
  std::atomic<bool> cancelled{false};
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_WORK_BUDGET_H_
