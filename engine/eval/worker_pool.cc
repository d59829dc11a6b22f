#include "engine/eval/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>

namespace healthscore::engine::eval {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : workers_) t.join();
}

void WorkerPool::Schedule(std::function<void()> fn) {
  if (workers_.empty()) {
    fn();
    return;
  }
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
}

void WorkerPool::WorkerLoop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void WorkerPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  if (n == 1 || workers_.empty()) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // Tasks are claimed from a shared counter, so the caller helps instead of
  // waiting idle, and a busy pool cannot deadlock a ParallelFor.
  struct State {
    std::atomic<size_t> next{0};
    absl::Mutex mu;
    size_t done ABSL_GUARDED_BY(mu) = 0;
  };
  auto state = std::make_shared<State>();
  auto run = [state, n, &fn]() {
    size_t finished = 0;
    for (size_t i = state->next.fetch_add(1); i < n;
         i = state->next.fetch_add(1)) {
      fn(i);
      ++finished;
    }
    if (finished > 0) {
      absl::MutexLock lock(&state->mu);
      state->done += finished;
    }
  };
  const size_t helpers = std::min(n - 1, workers_.size());
  for (size_t h = 0; h < helpers; ++h) Schedule(run);
  run();
  absl::MutexLock lock(&state->mu);
  auto all_done = [&state, n]() ABSL_SHARED_LOCKS_REQUIRED(state->mu) {
    return state->done == n;
  };
  state->mu.Await(absl::Condition(&all_done));
}

}  // namespace healthscore::engine::eval
