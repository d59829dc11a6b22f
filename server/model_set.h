// ModelSet: the server's view of one immutable snapshot of the engine's
// model repository (engine/repository/model_repository.h), and ModelStore,
// which owns the repository and hands out the current snapshot.
//
// Loading, reloading, the test gate and the directory layout are the
// engine repository's (docs/model-format.md): the server never compiles a
// model file itself. A ModelSet only adapts an engine::ModelSet snapshot
// to what the services need (names, versions as text, load errors), and
// holds that snapshot so every model it refers to stays alive.
//
// Requests pin a snapshot (a shared_ptr) for their whole duration, so a
// reload publishes a new set without ever touching a model in use; the old
// set is freed when its last request finishes.
//
// Thread-safety: a ModelSet is immutable and safe to share. ModelStore's
// methods may be called from any thread.

#ifndef HEALTHSCORE_SERVER_MODEL_SET_H_
#define HEALTHSCORE_SERVER_MODEL_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/model_set.h"
#include "engine/plugin_host/plugin_host.h"
#include "server/route_plan.h"

namespace healthscore::server {

struct ModelVersion {
  int64_t number = 0;
  std::string version;  // the directory name, e.g. "2"
  std::string file;
  // Null when the version failed to load; `error` says why.
  std::shared_ptr<const engine::model::CompiledModel> model;
  std::string error;
  absl::Time loaded_at;
  absl::Duration load_duration;
};

struct ModelEntry {
  std::string name;
  // Ascending by number.
  std::vector<ModelVersion> versions;
  // Index into versions of the highest version that loaded, or -1.
  int serving = -1;

  // The last error of any version (empty when every version loaded).
  std::string last_error() const;
};

// A model picked for a request.
struct ModelRef {
  std::shared_ptr<const engine::model::CompiledModel> model;
  std::string name;
  std::string version;  // the numeric directory name, e.g. "2"
  int64_t number = 0;   // the same, as a number
  // The version's segment routes, or null when it has none, and what a
  // routed response needs of the models they reach (null with them). Owned
  // by the ModelSet the reference came from: hold that set while using it.
  const engine::routing::Router* router = nullptr;
  const RoutePlan* route_plan = nullptr;
};

class ModelSet {
 public:
  // The server's view of a repository snapshot (never null). Versions
  // that serve carry their model; versions that failed carry their error.
  static std::shared_ptr<const ModelSet> FromSnapshot(
      std::shared_ptr<const engine::repository::ModelSet> snapshot);

  // The model for a request: `name` empty means the default model,
  // `version` empty its default version, else a version number ("2") or a
  // config label ("stable"). Errors (engine::ModelSet::FindVersion):
  // NotFound for an unknown model, version or label (the message lists what
  // exists, with a "did you mean"), FailedPrecondition for a version that
  // failed to load (the message carries the load error).
  absl::StatusOr<ModelRef> Find(absl::string_view name,
                                absl::string_view version) const;

  // The engine snapshot this set adapts (never null): the full status of
  // every model and version, and the routes.
  const engine::repository::ModelSet& snapshot() const { return *snapshot_; }

  const std::string& dir() const { return dir_; }
  // The repository snapshot's generation.
  uint64_t generation() const { return generation_; }
  // Problems of the repository as a whole (its config.yaml).
  const std::vector<std::string>& errors() const { return errors_; }
  const std::string& default_model() const { return default_model_; }
  // By name.
  const std::map<std::string, ModelEntry>& models() const { return models_; }
  // Versions that loaded, over all models.
  int loaded_count() const;
  int failed_count() const;

 private:
  std::string dir_;
  std::string default_model_;
  std::map<std::string, ModelEntry> models_;
  uint64_t generation_ = 0;
  std::vector<std::string> errors_;
  // A plan per router of the snapshot, made when the set is (routes are
  // fixed per model version), not per request.
  std::map<const engine::routing::Router*, std::unique_ptr<const RoutePlan>>
      route_plans_;
  // Keeps every model of the snapshot alive while this set is held.
  std::shared_ptr<const engine::repository::ModelSet> snapshot_;
};

class ModelStore {
 public:
  ModelStore();
  ~ModelStore();

  // Creates the repository over `options.root` (engine
  // ModelRepository::Create, with its errors) and serves from it from now
  // on. Loads happen here, off the request path.
  absl::Status Open(engine::repository::RepositoryOptions options);

  // The current snapshot (the repository's latest, adapted once per
  // generation); null until Open.
  std::shared_ptr<const ModelSet> Current() const;

  // Reloads the repository (engine ModelRepository::Reload) and logs the
  // outcome. FailedPrecondition in the result's status without a
  // repository. A reload that finds problems keeps what serves.
  engine::repository::ReloadResult Reload();

  // The repository, or null before Open. Owned by the store.
  engine::repository::ModelRepository* repository() const;

 private:
  mutable absl::Mutex mu_;
  std::unique_ptr<engine::repository::ModelRepository> repository_
      ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<const ModelSet> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_MODEL_SET_H_
