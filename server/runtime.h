// Runtime: the state the gRPC services share, owned by Server.
//
//   - options: the settings the server started with;
//   - models: the published model snapshot (ModelStore);
//   - admission: the limits on work in progress;
//   - executor: the scoring threads. gRPC's own threads only parse, admit
//     and enqueue; everything that can take time runs here;
//   - plugins: where models' plugin libraries come from (null without a
//     plugin directory);
//   - counters: counters for logs, tests and metrics (metrics.h);
//   - latency: how long Score calls and ScoreStream batches take, from
//     arrival to response, for metrics;
//   - started: when the server started.
//
// Thread-safety: every member may be used from any thread.

#ifndef HEALTHSCORE_SERVER_RUNTIME_H_
#define HEALTHSCORE_SERVER_RUNTIME_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/eval/worker_pool.h"
#include "engine/plugin_host/plugin_host.h"
#include "server/admission.h"
#include "server/histogram.h"
#include "server/model_set.h"
#include "server/options.h"

namespace healthscore::server {

// Runs tasks on a fixed engine::WorkerPool. Tests can hold tasks back to
// create work in flight deterministically.
class Executor {
 public:
  // `threads` >= 1.
  explicit Executor(int threads);
  // Releases held tasks, then waits for every queued task and joins.
  ~Executor();

  int threads() const { return pool_.threads(); }

  // Queues `fn`; never runs it on the calling thread.
  void Submit(std::function<void()> fn);

  // While held, Submit parks tasks instead of queueing them; Release queues
  // them all in order.
  void HoldForTest();
  void ReleaseForTest();
  size_t HeldTasksForTest() const;

 private:
  engine::WorkerPool pool_;
  mutable absl::Mutex mu_;
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> held_ ABSL_GUARDED_BY(mu_);
};

// A snapshot of the counters.
struct ServerStats {
  uint64_t requests = 0;         // Score calls admitted
  uint64_t streams = 0;          // ScoreStream calls opened
  uint64_t stream_batches = 0;   // ScoreStream batches admitted
  uint64_t accounts_scored = 0;  // accounts with a result
  uint64_t accounts_failed = 0;  // accounts rejected with a per-account error
  uint64_t rejected_capacity = 0;  // RESOURCE_EXHAUSTED by admission
  uint64_t rejected_invalid = 0;   // other request-level errors
  // Score and ScoreStream calls that gRPC reported cancelled (by the
  // client, a passed deadline, or shutdown).
  uint64_t cancelled = 0;
  // Admitted requests or batches whose work was dropped because the call
  // was cancelled or its deadline passed.
  uint64_t dropped = 0;
  size_t requests_in_progress = 0;
  size_t accounts_in_progress = 0;
  // Score, ScoreStream and ValidateModel calls not yet finished.
  int64_t open_calls = 0;
};

struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> streams{0};
  std::atomic<uint64_t> stream_batches{0};
  std::atomic<uint64_t> accounts_scored{0};
  std::atomic<uint64_t> accounts_failed{0};
  std::atomic<uint64_t> rejected_capacity{0};
  std::atomic<uint64_t> rejected_invalid{0};
  std::atomic<uint64_t> cancelled{0};
  std::atomic<uint64_t> dropped{0};
  // Calls that shutdown waits for (Score, ScoreStream, ValidateModel).
  std::atomic<int64_t> open_calls{0};
};

struct Runtime {
  explicit Runtime(const ServerOptions& o);

  ServerStats Stats() const;

  const ServerOptions options;
  std::unique_ptr<engine::PluginHost> plugins;
  ModelStore models;
  Admission admission;
  Counters counters;
  // Observed once per Score call and per ScoreStream batch that got its
  // response (score_job.cc): the time from arrival to the response.
  LatencyHistogram latency;
  const absl::Time started;
  // Last: destroyed first, so queued tasks finish while everything they
  // touch is still alive.
  Executor executor;
};

// ServerOptions::threads with 0 resolved to the number of cores.
int ResolveThreads(int threads);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_RUNTIME_H_
