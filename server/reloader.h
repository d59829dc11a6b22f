// Reloader: the one thread that loads and reloads the server's models.
//
// Everything that compiles the model repository runs here, one job at a
// time: the first load, the reloads asked for by SIGHUP and the Reload RPC,
// and the polls of --watch-interval. Neither a signal nor a call ever
// starts a thread, and a slow load never holds a gRPC or scoring thread.
//
// Reload requests coalesce. A request when no reload is queued queues one;
// requests while one is queued join it. So however many requests arrive
// while a reload runs, exactly one more reload runs after it, and it sees
// every change made before any of them. Each request's `done` gets the
// result of the reload that ran for it.
//
// The watcher: once the first load succeeded, `poll` runs every
// poll_interval while nothing else is queued (the repository's PollOnce,
// which reloads once a change has settled).
//
// Stop ends the thread: nothing new starts, queued requests are answered
// with Unavailable, the job in progress has its budget cancelled (the
// engine stops at its next check, when it checks) and is waited for until
// a deadline. A job still running then is abandoned: its thread is
// detached, its requests are answered with Unavailable, and it keeps
// running whatever it runs (the engine cannot interrupt everything, e.g. a
// plugin stuck in its init). Whatever the hooks use must then stay alive:
// the server keeps its Runtime when Stop reports an abandoned job.
//
// Thread-safety: all methods may be called from any thread. Hooks and
// `done` callbacks run on the reload thread (or, on Stop, on the caller's),
// never under a lock of the Reloader; they must not call Stop.

#ifndef HEALTHSCORE_SERVER_RELOADER_H_
#define HEALTHSCORE_SERVER_RELOADER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/repository/model_repository.h"
#include "server/work_budget.h"

namespace healthscore::server {

class Reloader {
 public:
  struct Hooks {
    // The first load.
    std::function<absl::Status(const WorkBudget&)> load;
    // One reload.
    std::function<engine::repository::ReloadResult(const WorkBudget&)> reload;
    // One step of the watcher; may be empty (no watcher).
    std::function<void(const WorkBudget&)> poll;
  };
  using LoadDone = std::function<void(const absl::Status&)>;
  using ReloadDone =
      std::function<void(const engine::repository::ReloadResult&)>;

  Reloader();
  // Stop(absl::Now()) if started and not stopped: abandons a job in
  // progress.
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Starts the (idle) reload thread. `poll_interval` > 0 turns the watcher
  // on once the first load succeeded. Call once, before anything else.
  void Start(Hooks hooks, absl::Duration poll_interval);

  // Queues the first load, ahead of any reload. `done` (may be empty) gets
  // its status. Call at most once.
  void Load(LoadDone done);

  // Asks for a reload (see the file comment). `done` may be empty; after
  // Stop it gets Unavailable at once. Returns true when this request queued
  // a new reload, false when it joined one already queued.
  bool RequestReload(ReloadDone done);

  // True from Load until the first load has finished.
  bool loading_first() const;

  // Stops (see the file comment). True when the thread ended by `deadline`,
  // false when a job was abandoned. Idempotent.
  bool Stop(absl::Time deadline);

  // Reloads run, reload requests, and polls, for tests and logs.
  struct Stats {
    uint64_t reloads = 0;
    uint64_t requests = 0;
    uint64_t polls = 0;
  };
  Stats stats() const;

 private:
  // Everything the reload thread touches, shared with it so that an
  // abandoned job finds it even after the Reloader is gone.
  struct State;
  static void Run(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_RELOADER_H_
