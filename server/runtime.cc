#include "server/runtime.h"

#include <thread>
#include <utility>

#include "absl/time/clock.h"

namespace healthscore::server {

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

Executor::Executor(int threads) : pool_(threads < 1 ? 1 : threads) {}

Executor::~Executor() { ReleaseForTest(); }

void Executor::Submit(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (hold_) {
      held_.push_back(std::move(fn));
      return;
    }
  }
  pool_.Schedule(std::move(fn));
}

void Executor::HoldForTest() {
  absl::MutexLock lock(&mu_);
  hold_ = true;
}

void Executor::ReleaseForTest() {
  std::vector<std::function<void()>> held;
  {
    absl::MutexLock lock(&mu_);
    hold_ = false;
    held.swap(held_);
  }
  for (auto& fn : held) pool_.Schedule(std::move(fn));
}

size_t Executor::HeldTasksForTest() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

Runtime::Runtime(const ServerOptions& o)
    : options(o),
      admission(o.max_concurrent_requests, o.max_pending_accounts),
      started(absl::Now()),
      executor(ResolveThreads(o.threads)) {}

ServerStats Runtime::Stats() const {
  ServerStats s;
  s.requests = counters.requests.load();
  s.streams = counters.streams.load();
  s.stream_batches = counters.stream_batches.load();
  s.accounts_scored = counters.accounts_scored.load();
  s.accounts_failed = counters.accounts_failed.load();
  s.rejected_capacity = counters.rejected_capacity.load();
  s.rejected_invalid = counters.rejected_invalid.load();
  s.cancelled = counters.cancelled.load();
  s.dropped = counters.dropped.load();
  s.open_calls = counters.open_calls.load();
  s.requests_in_progress = admission.requests();
  s.accounts_in_progress = admission.accounts();
  return s;
}

}  // namespace healthscore::server
