// ModelSet: an immutable snapshot of every model the server serves, and
// ModelStore, which publishes the current snapshot.
//
// A ModelSet is loaded from a directory laid out as
//
//   <dir>/<name>/<version>/model.yaml      (versions are numeric: 1, 2, 10)
//
// Every version found is compiled; a version that fails keeps its error (for
// ListModels and the log) and the model's serving version is the highest
// version that compiled. The `name:` in a model file must equal its
// directory name. Directories without numeric version subdirectories are
// not models and are skipped; a non-numeric directory inside a model is
// reported in the load log and otherwise ignored.
//
// Requests pin a snapshot (a shared_ptr) for their whole duration, so a
// later reload (a later issue) can publish a new set with ModelStore::Publish
// without ever touching a model in use; the old set is freed when its last
// request finishes.
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
#include "engine/plugin_host/plugin_host.h"

namespace healthscore::server {

struct ModelVersion {
  int64_t number = 0;
  std::string version;  // the directory name, e.g. "2"
  std::string file;
  // Null when the version failed to load; `error` says why.
  std::shared_ptr<const engine::CompiledModel> model;
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
  std::shared_ptr<const engine::CompiledModel> model;
  std::string name;
  std::string version;
};

class ModelSet {
 public:
  // Scans and compiles `dir`, loading the models' plugin libraries through
  // `plugins` (may be null: models with plugins then fail to compile).
  // Errors: NotFound when `dir` is not a readable directory; NotFound when
  // it holds no model at all. Models that fail to compile do not fail the
  // load: they are recorded in the set.
  static absl::StatusOr<std::shared_ptr<const ModelSet>> Load(
      const std::string& dir, const std::string& default_model,
      engine::PluginHost* plugins = nullptr);

  // A set built from already compiled models (tests, tools), each as
  // version "1".
  static std::shared_ptr<const ModelSet> FromModels(
      std::vector<std::shared_ptr<const engine::CompiledModel>> models,
      const std::string& default_model);

  // The model for a request: `name` empty means the default model,
  // `version` empty the serving version. Errors: NotFound for an unknown
  // model or version (the message lists what exists), FailedPrecondition for
  // a version that failed to load (the message carries the load error).
  absl::StatusOr<ModelRef> Find(absl::string_view name,
                                absl::string_view version) const;

  const std::string& dir() const { return dir_; }
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
};

class ModelStore {
 public:
  // The current snapshot; null until the first Publish.
  std::shared_ptr<const ModelSet> Current() const;
  void Publish(std::shared_ptr<const ModelSet> set);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const ModelSet> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_MODEL_SET_H_
