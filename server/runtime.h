// Runtime: the state the gRPC services share, owned by Server.
//
//   - options: the settings the server started with;
//   - models: the published model snapshot (ModelStore);
//   - admission: the limits on work in progress;
//   - calls: the calls the server has accepted (CallGate);
//   - executor: the scoring threads. gRPC's own threads only parse, admit
//     and enqueue; scoring runs here;
//   - validations: ValidateModel's own threads (validation_lane.h), so that
//     no model a client sends can hold a scoring thread;
//   - reloader: the one thread that loads and reloads the models
//     (reloader.h);
//   - plugins: where models' plugin libraries come from (null without a
//     plugin directory);
//   - counters: counters for logs, tests and metrics (metrics.h);
//   - auth: the credentials calls need (auth.h);
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
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/eval/worker_pool.h"
#include "engine/plugin_host/plugin_host.h"
#include "grpcpp/support/status.h"
#include "server/admission.h"
#include "server/auth.h"
#include "server/decision_log.h"
#include "server/histogram.h"
#include "server/model_set.h"
#include "server/options.h"
#include "server/path_display.h"
#include "server/rpc_metrics.h"
#include "server/reloader.h"
#include "server/validation_lane.h"

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
  // Runs `fn` on the calling thread, unless tasks are held (HoldForTest),
  // where it is parked as Submit parks it.
  void RunHere(std::function<void()> fn);

  // While held, Submit parks tasks instead of queueing them; Release queues
  // them all in order.
  void HoldForTest();
  void ReleaseForTest();
  size_t HeldTasksForTest() const;

 private:
  engine::eval::WorkerPool pool_;
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
  // Values used as missing because they did not fit their input.
  uint64_t values_dropped = 0;
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
  // Serialised request bytes admitted and not finished.
  size_t request_bytes_in_progress = 0;
  // Calls accepted and not yet finished (CallGate).
  int64_t open_calls = 0;
  // Calls refused with UNAVAILABLE because the server was shutting down.
  uint64_t refused_shutting_down = 0;
  // ValidateModel: validations running (those past their time budget
  // included), and calls answered DEADLINE_EXCEEDED at the budget.
  int validations_running = 0;
  uint64_t validations_timed_out = 0;
  // Calls refused by the Authorizer (auth.h), per scope.
  Authorizer::Failures auth_admin;
  Authorizer::Failures auth_scoring;
};

struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> streams{0};
  std::atomic<uint64_t> stream_batches{0};
  std::atomic<uint64_t> accounts_scored{0};
  std::atomic<uint64_t> accounts_failed{0};
  std::atomic<uint64_t> values_dropped{0};
  std::atomic<uint64_t> rejected_capacity{0};
  std::atomic<uint64_t> rejected_invalid{0};
  std::atomic<uint64_t> cancelled{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> validations_timed_out{0};
};

// CallGate: the calls the server has accepted, and the moment it stops
// accepting any.
//
// Every RPC handler of the server enters the gate before it does anything
// and leaves it when its call is over (the reactor's OnDone, once the
// response is on its way). After Close, TryEnter fails and the handler
// answers UNAVAILABLE at once. Shutdown closes the gate and waits for the
// calls it let in, so every call is either accepted, and then waited for
// until the grace period ends, or refused with UNAVAILABLE; none is cut off
// for having arrived at the wrong moment.
//
// Thread-safety: all methods may be called from any thread.
class CallGate {
 public:
  // True: the call is accepted; pair it with Exit. False once closed.
  bool TryEnter();
  void Exit();
  // Refuses every call from now on.
  void Close();
  // Blocks until no accepted call is open or `deadline` passes; returns
  // the number still open.
  int64_t AwaitIdle(absl::Time deadline);
  int64_t open() const;
  uint64_t refused() const;

 private:
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
};

// What a call refused by a closed CallGate is answered.
grpc::Status ShuttingDownStatus();

struct Runtime {
  explicit Runtime(const ServerOptions& o);

  ServerStats Stats() const;

  const ServerOptions options;
  // How paths are shown to clients (path_display.h).
  const PathDisplay paths;
  // `status` as a client may see it: paths relative (path_display.h).
  absl::Status ForClient(const absl::Status& status) const {
    if (status.ok()) return status;
    return absl::Status(status.code(), paths.Apply(status.message()));
  }
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  ModelStore models;
  Admission admission;
  Counters counters;
  // Who may make which calls (auth.h); the handlers check it first.
  Authorizer auth;
  CallGate calls;
  // Raised by shutdown: the model repository abandons a load or reload in
  // progress (RepositoryOptions::cancelled) and publishes nothing.
  std::atomic<bool> loads_cancelled{false};
  // Observed once per Score call and per ScoreStream batch that got its
  // response (score_job.cc): the time from arrival to the response.
  LatencyHistogram latency;
  // The decision log (decision_log.h), or null when it is off. Set by
  // Server::Start before any call; score jobs submit to it.
  std::unique_ptr<DecisionLog> decision_log;
  // Every call by method and status code, and accounts per model version
  // (rpc_metrics.h).
  RpcMetrics rpcs;
  ModelAccounts model_accounts;
  const absl::Time started;
  // After what they use (plugins, models, counters): destroyed before it.
  ValidationLane validations;
  Reloader reloader;
  // Last: destroyed first, so queued tasks finish while everything they
  // touch is still alive.
  Executor executor;
};

// ServerOptions::threads with 0 resolved to the number of cores.
int ResolveThreads(int threads);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_RUNTIME_H_
