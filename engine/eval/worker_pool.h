// WorkerPool: a fixed set of threads that run scoring tasks.
//
// Used to split a large batch over cores. ParallelFor blocks the caller until
// every task has run; the caller's thread runs tasks too, so a pool of N
// threads gives N+1-way parallelism and a pool of 0 threads is valid (all
// work on the caller).
//
// Thread-safety: all methods may be called from any thread, concurrently.

#ifndef HEALTHSCORE_ENGINE_EVAL_WORKER_POOL_H_
#define HEALTHSCORE_ENGINE_EVAL_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace healthscore::engine::eval {

class WorkerPool {
 public:
  // Starts `threads` workers (0 allowed).
  explicit WorkerPool(int threads);
  // Waits for queued tasks, then joins the workers.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()); }

  // Runs fn(i) for i in [0, n) across the pool and the calling thread;
  // returns when all have finished.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

  // Queues fn to run on a worker (on the caller when the pool has none).
  void Schedule(std::function<void()> fn);

 private:
  void WorkerLoop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_WORKER_POOL_H_
