// ValidationLane: runs untrusted, possibly slow jobs on threads of their
// own, never on the scoring threads. ModelService.ValidateModel compiles
// whatever YAML a client sends; here that work is bounded three ways:
//
//   - concurrency: at most `max_running` jobs at once. TryStart refuses
//     more with ResourceExhausted. A job whose time ran out counts until its
//     code returns, so abandoned work can never pile up beyond the limit;
//   - time: each job has a WorkBudget. When its deadline passes before the
//     job returns, the lane cancels the budget and calls the job's
//     `on_expired` (once, on the lane's timer thread), so the caller can
//     answer its client at the deadline; the job's code goes on until it
//     notices the budget or ends;
//   - shutdown: Stop cancels every budget and waits for the jobs until a
//     deadline; jobs still running then are abandoned.
//
// Abandoned jobs keep running on detached threads. The lane's own state
// outlives them (it is shared with each job thread), but whatever a job's
// functions use must too: the server keeps its Runtime alive when Stop
// reports abandoned jobs (server.h).
//
// Thread-safety: all methods may be called from any thread. A job's
// functions run on threads other than the caller's, never under a lock of
// the lane.

#ifndef HEALTHSCORE_SERVER_VALIDATION_LANE_H_
#define HEALTHSCORE_SERVER_VALIDATION_LANE_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/work_budget.h"

namespace healthscore::server {

class ValidationLane {
 public:
  struct Job {
    // Its deadline bounds the job; never null.
    std::shared_ptr<WorkBudget> budget;
    // Runs on a thread of its own. What it returns (may be empty) runs on
    // that thread once the job no longer counts against max_running: answer
    // the client there, so that a client that calls again as soon as it has
    // its answer never finds its own finished job still counted.
    std::function<std::function<void()>(const WorkBudget&)> run;
    // Called once if the deadline passes before `run` returns; may be
    // empty. Must not block.
    std::function<void()> on_expired;
  };

  // `max_running` >= 1.
  explicit ValidationLane(int max_running);
  // Stop(absl::Now()) unless stopped: waits for nothing, and abandons the
  // jobs still running.
  ~ValidationLane();
  ValidationLane(const ValidationLane&) = delete;
  ValidationLane& operator=(const ValidationLane&) = delete;

  // Starts `job` on a new thread. ResourceExhausted, naming the limit, when
  // max_running jobs are running; Unavailable after Stop.
  absl::Status TryStart(Job job);

  // Refuses new jobs, cancels every job's budget and waits until `deadline`
  // for the jobs to return. Returns how many still run (abandoned).
  // Idempotent; a later call waits again.
  int Stop(absl::Time deadline);

  int max_running() const;
  // Jobs whose code has not returned, those past their deadline included.
  int running() const;
  // Of those, the ones past their deadline.
  int overdue() const;

 private:
  struct State;
  struct Entry;
  static void TimerLoop(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_VALIDATION_LANE_H_
