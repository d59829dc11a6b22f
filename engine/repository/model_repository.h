// ModelRepository: the models of a directory, compiled, checked and
// published as immutable snapshots, reloaded without dropping a request.
//
// Layout (repository_config.h has the config files):
//
//   rules/config.yaml                 optional: default_model
//   rules/<name>/config.yaml          optional: version_policy, labels,
//                                     default_version, routes
//   rules/<name>/<version>/model.yaml numeric versions only: 1, 2, 10
//   rules/<name>/<version>/tests.yaml optional: the version's test cases
//
// A load (Create, then every Reload) happens off the request path:
//
//   1. Scan the directory and read every file of the layout.
//   2. For each version the model's version_policy asks for, compile the
//      model (with CompileOptions, so plugins load here and never on first
//      use) and warm it up by running its tests.yaml cases. A version whose
//      files are unchanged since the last load is reused as is. The
//      `name:` in model.yaml must equal the directory name.
//   3. A version that fails to compile, whose name does not match, or one
//      of whose test cases fails never replaces what serves: a version that
//      served keeps its previous content (marked stale), and a new version
//      that fails is not served, so `latest` keeps the previous highest
//      version that loads. A model none of whose versions loads keeps
//      serving what it served before. The error is recorded in the model's
//      status (ListModels), logged, and counted.
//   4. Compile each served version's routes (engine/routing/routing.h)
//      against the new set. A version whose routes fail keeps its previous routes if it
//      served before, and is not served otherwise.
//   5. Publish the new ModelSet by swapping one pointer. Requests in flight
//      keep the snapshot they pinned; an old snapshot and every model only
//      it holds are freed when the last request using it finishes.
//
// Triggers: Reload() (the server wires SIGHUP and an admin RPC to it), and
// an optional watcher thread that polls the tree. The watcher reloads only
// once the tree has stayed the same for one whole poll interval, so a file
// being written is not loaded half-way; editors and deploy scripts should
// still publish files atomically (write a temporary file, then rename it
// over model.yaml), because a writer that pauses longer than the interval
// would otherwise be read early. A half-written file that does get read
// fails to compile and never replaces the model serving.
//
// Thread-safety: every method may be called from any thread. Reloads are
// serialised (one at a time; a second caller waits). Snapshot() takes a
// lock only to copy one shared_ptr, so readers never wait for a reload.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_MODEL_REPOSITORY_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_MODEL_REPOSITORY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/model/compiled_model.h"
#include "engine/model/compiler.h"
#include "engine/repository/model_set.h"
#include "engine/repository/repository_config.h"

namespace healthscore::engine::repository {

struct VersionDir;  // engine/repository/repository_layout.h
struct ModelDir;

enum class RepositoryLogLevel { kInfo, kWarning, kError };

struct RepositoryOptions {
  // The repository directory, e.g. "rules".
  std::string root;
  // The model requests without a name get. Empty: `default_model` of
  // <root>/config.yaml, else "default".
  std::string default_model;
  // Passed to the compiler for every model (the plugin host). The host
  // must outlive the repository. compile.yaml bounds every file the
  // repository reads: a model.yaml, tests.yaml or config.yaml longer than
  // compile.yaml.max_bytes (default 4 MiB) is refused unread, and its
  // version fails. compile.budget applies to every version of every load;
  // the two fields below are what a server usually wants instead.
  model::CompileOptions compile;
  // When set and true, the load in progress (Create or Reload) is
  // abandoned as soon as it notices (between files, in the loader's loops,
  // between compile phases and test cases): nothing is published, the
  // previous snapshot keeps serving, and the load returns Cancelled. Lets
  // a server honour SIGTERM during a long load. Not owned; must outlive
  // the repository. May be null.
  const std::atomic<bool>* cancelled = nullptr;
  // Longest one version may take to load (compile and warm-up together).
  // A version that runs over fails with "the model load ran past its
  // deadline and was abandoned" and is not served, as any failed version
  // (the content that served before keeps serving). Infinite by default.
  absl::Duration version_load_timeout = absl::InfiniteDuration();
  // Run each candidate's tests.yaml before it may serve. Turning this off
  // gives up the test gate, not only the warm-up.
  bool warm_up = true;
  // Poll interval of the watcher (StartWatching without an interval).
  absl::Duration poll_interval = absl::Seconds(2);
  // Where load and reload messages go (one line each); none by default.
  std::function<void(RepositoryLogLevel, const std::string&)> log;
  // Called with every model compiled successfully, before its warm-up,
  // including candidates that are then rejected (for metrics and tests).
  std::function<void(const std::shared_ptr<const model::CompiledModel>&)>
      on_compiled;
};

struct ReloadOptions {
  // Compile every version again even when its files are unchanged (e.g.
  // after replacing a plugin library).
  bool recompile = false;
};

struct ReloadResult {
  // Not OK when the repository could not be read at all, or Cancelled when
  // RepositoryOptions::cancelled abandoned the load; nothing was published
  // then and the previous snapshot keeps serving.
  absl::Status status;
  bool published = false;
  uint64_t generation = 0;  // of the snapshot serving after the reload
  int compiled = 0;  // versions compiled and checked successfully
  int reused = 0;    // versions reused because their files were unchanged
  int failed = 0;    // versions (and configs) that failed this time
  // Every problem found, "file:line:col: message" (or a sentence).
  std::vector<std::string> errors;
  absl::Duration duration;

  bool ok() const { return status.ok() && errors.empty(); }
};

// Counters since the repository was created (for metrics).
struct RepositoryStats {
  uint64_t reloads = 0;          // loads, including the first
  uint64_t reload_failures = 0;  // loads that found any problem
  uint64_t versions_loaded = 0;  // version loads that succeeded
  uint64_t versions_failed = 0;  // version loads that failed
  uint64_t generation = 0;       // of the current snapshot
  absl::Time last_reload = absl::InfinitePast();
  absl::Time last_success = absl::InfinitePast();  // a load without problems
};

class ModelRepository {
 public:
  // Loads `options.root` once (as Reload does). Errors: NotFound when root
  // is not a readable directory or holds no model at all; DataLoss when a
  // file cannot be read; Cancelled when options.cancelled was raised. Models
  // that fail to load do not fail Create: they are in the status (the caller
  // decides whether the default model must serve before taking traffic).
  static absl::StatusOr<std::unique_ptr<ModelRepository>> Create(
      RepositoryOptions options);

  // Stops the watcher.
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  // The current set. Never null. Hold it for the whole request.
  std::shared_ptr<const ModelSet> Snapshot() const;

  // Scans, compiles and checks, and publishes a new snapshot (see the file
  // comment). Serialised with other reloads. Never throws; never leaves
  // the repository without a snapshot.
  ReloadResult Reload(const ReloadOptions& options = {});

  RepositoryStats stats() const;

  // Starts the watcher thread, polling every `interval` (the options'
  // poll_interval when zero). FailedPrecondition when already watching;
  // InvalidArgument for a negative interval.
  absl::Status StartWatching(absl::Duration interval = absl::ZeroDuration());
  // Stops and joins the watcher; no-op when not watching.
  void StopWatching();
  bool watching() const;

  // One step of the watcher, for tests and for callers that poll on their
  // own schedule:
  //   kUnchanged: the tree is as it was at the last load;
  //   kPending:   it changed since the previous poll; waiting until it is
  //               stable for one more poll;
  //   kReloaded:  it was the same at two polls in a row and differs from
  //               the last load, so Reload() ran.
  enum class PollOutcome { kUnchanged, kPending, kReloaded };
  PollOutcome PollOnce();

 private:
  explicit ModelRepository(RepositoryOptions options);

  struct Candidate;
  Candidate LoadVersion(const std::string& name, const VersionDir& dir,
                        const ModelSet* prev, bool recompile,
                        ReloadResult* result);
  Candidate CompileVersion(const std::string& name, const VersionDir& dir);
  void BuildModel(const ModelDir& dir, const ModelSet* prev,
                  const ReloadOptions& options, ModelSet* set,
                  ReloadResult* result);
  void BuildRoutes(const ModelSet* prev, ModelSet* set, ReloadResult* result);
  static int64_t DefaultVersion(const ModelConfig& config,
                                const ModelSet::Entry& entry);
  void Log(RepositoryLogLevel level, const std::string& message) const;
  // Whether options_.cancelled is raised, and the status that says so.
  bool Cancelled() const;
  absl::Status CancelledStatus() const;
  void WatchLoop(absl::Duration interval);

  const RepositoryOptions options_;

  absl::Mutex reload_mu_;  // serialises Reload

  mutable absl::Mutex snapshot_mu_;
  std::shared_ptr<const ModelSet> current_ ABSL_GUARDED_BY(snapshot_mu_);

  mutable absl::Mutex stats_mu_;
  RepositoryStats stats_ ABSL_GUARDED_BY(stats_mu_);

  absl::Mutex poll_mu_;
  std::string loaded_fingerprint_ ABSL_GUARDED_BY(poll_mu_);
  std::string pending_fingerprint_ ABSL_GUARDED_BY(poll_mu_);

  mutable absl::Mutex watch_mu_;
  bool stop_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watcher_ ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_MODEL_REPOSITORY_H_
