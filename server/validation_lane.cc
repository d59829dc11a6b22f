#include "server/validation_lane.h"

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace healthscore::server {

struct ValidationLane::Entry {
  std::shared_ptr<WorkBudget> budget;
  std::function<void()> on_expired;
  bool expired = false;
};

// Shared by the lane, its timer thread and every job thread, so that a job
// abandoned by Stop (or by the lane's destruction) still finds it.
struct ValidationLane::State {
  explicit State(int max) : max_running(max) {}

  const int max_running;
  mutable absl::Mutex mu;
  // Jobs whose code has not returned.
  std::vector<std::shared_ptr<Entry>> jobs ABSL_GUARDED_BY(mu);
  int overdue ABSL_GUARDED_BY(mu) = 0;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  // Bumped on every change the timer must look at.
  uint64_t version ABSL_GUARDED_BY(mu) = 0;
  std::thread timer;  // joined by Stop
};

ValidationLane::ValidationLane(int max_running)
    : state_(std::make_shared<State>(max_running < 1 ? 1 : max_running)) {
  state_->timer = std::thread(TimerLoop, state_);
}

ValidationLane::~ValidationLane() { Stop(absl::Now()); }

int ValidationLane::max_running() const { return state_->max_running; }

int ValidationLane::running() const {
  absl::MutexLock lock(&state_->mu);
  return static_cast<int>(state_->jobs.size());
}

int ValidationLane::overdue() const {
  absl::MutexLock lock(&state_->mu);
  return state_->overdue;
}

absl::Status ValidationLane::TryStart(Job job) {
  auto entry = std::make_shared<Entry>();
  entry->budget = job.budget;
  entry->on_expired = std::move(job.on_expired);
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->stopping) {
      return absl::UnavailableError("the server is shutting down");
    }
    const int running = static_cast<int>(state_->jobs.size());
    if (running >= state_->max_running) {
      const std::string overdue =
          state_->overdue == 0
              ? std::string()
              : absl::StrCat(", ", state_->overdue,
                             " of them past their time budget and still "
                             "stopping");
      return absl::ResourceExhaustedError(
          absl::StrCat(running, " validations in progress (limit ",
                       "max_concurrent_validations=", state_->max_running, ")",
                       overdue, "; retry with backoff"));
    }
    state_->jobs.push_back(entry);
    ++state_->version;
  }
  std::thread([state = state_, entry, run = std::move(job.run)]() mutable {
    std::function<void()> then = run(*entry->budget);
    // Whatever the job captured goes before the job counts as returned.
    run = nullptr;
    {
      absl::MutexLock lock(&state->mu);
      if (entry->expired) --state->overdue;
      for (auto it = state->jobs.begin(); it != state->jobs.end(); ++it) {
        if (*it == entry) {
          state->jobs.erase(it);
          break;
        }
      }
      ++state->version;
    }
    if (then) then();
  }).detach();
  return absl::OkStatus();
}

void ValidationLane::TimerLoop(std::shared_ptr<State> state) {
  absl::MutexLock lock(&state->mu);
  while (!state->stopping) {
    // Expire what is due; call back outside the lock.
    const absl::Time now = absl::Now();
    absl::Time next = absl::InfiniteFuture();
    std::vector<std::function<void()>> due;
    for (const std::shared_ptr<Entry>& e : state->jobs) {
      if (e->expired) continue;
      if (e->budget->deadline <= now) {
        e->expired = true;
        ++state->overdue;
        e->budget->cancelled.store(true);
        if (e->on_expired) due.push_back(std::move(e->on_expired));
      } else if (e->budget->deadline < next) {
        next = e->budget->deadline;
      }
    }
    if (!due.empty()) {
      state->mu.Unlock();
      for (auto& fn : due) fn();
      state->mu.Lock();
      continue;
    }
    const uint64_t seen = state->version;
    auto changed = [state, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
      return state->stopping || state->version != seen;
    };
    state->mu.AwaitWithDeadline(absl::Condition(&changed), next);
  }
}

int ValidationLane::Stop(absl::Time deadline) {
  std::thread timer;
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
    ++state_->version;
    for (const std::shared_ptr<Entry>& e : state_->jobs) {
      e->budget->cancelled.store(true);
    }
    timer.swap(state_->timer);
  }
  if (timer.joinable()) timer.join();
  State* state = state_.get();
  auto idle = [state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
    return state->jobs.empty();
  };
  absl::MutexLock lock(&state_->mu);
  state_->mu.AwaitWithDeadline(absl::Condition(&idle), deadline);
  return static_cast<int>(state_->jobs.size());
}

}  // namespace healthscore::server
