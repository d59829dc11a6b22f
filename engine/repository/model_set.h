// ModelSet: one immutable snapshot of every model a repository serves.
//
// A ModelSet maps model name -> served versions -> compiled model (with its
// compiled routes), plus the status of every model and version found on
// disk: what serves, what failed and why, when it loaded and how long that
// took. ModelRepository (model_repository.h) builds a new set off the
// request path on each reload and publishes it whole; a set never changes
// after it is published.
//
// Requests pin a snapshot (hold the shared_ptr<const ModelSet>) for their
// whole duration, so they see one consistent set of models and routes even
// while a reload publishes the next one; the old set and every model only
// it holds are freed when its last request finishes.
//
// Thread-safety: immutable; every method may be called from any thread.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_MODEL_SET_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_MODEL_SET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/repository_config.h"
#include "engine/routing/routing.h"

namespace healthscore::engine::repository {

// A model picked for a request.
struct ModelRef {
  std::string name;
  int64_t version = 0;  // the numeric version directory
  std::shared_ptr<const model::CompiledModel> model;
  // The routes of this version, or null when it has none. Owned by the
  // ModelSet the reference came from: valid while that set is held.
  const routing::Router* router = nullptr;
};

struct VersionStatus {
  int64_t version = 0;
  std::string file;  // its model.yaml
  // True when requests can use this version.
  bool serving = false;
  // Of the content serving (or, when nothing serves, of nothing):
  std::string model_version;  // the file's `version:` label
  std::string hash;           // CompiledModel::hash()
  // When the serving content was compiled and checked, and how long that
  // took (compile plus warm-up).
  absl::Time loaded_at = absl::InfinitePast();
  absl::Duration load_duration;
  // Warm-up of the serving content: its tests.yaml cases.
  int tests_passed = 0;
  int tests_failed = 0;
  // Config labels naming this version (e.g. "stable").
  std::vector<std::string> labels;
  // Why the content now on disk did not load, as "file:line:col: message"
  // lines; empty when it loaded. With `serving` set this means the version
  // still serves its previous content (see `stale`).
  std::string error;
  // True when the version serves content older than its file: a newer
  // edit failed to compile or to pass its tests.
  bool stale = false;
  // Why a version that loads is not served (e.g. "not selected by
  // version_policy latest"), or other remarks; may be empty.
  std::string note;
};

struct ModelStatus {
  std::string name;
  bool is_default = false;
  std::string config_file;     // empty without config.yaml
  std::string version_policy;  // VersionPolicy::ToString()
  // The version requests without a version get; 0 when none serves.
  int64_t default_version = 0;
  // Every version found on disk, and any version still serving from
  // memory after its directory was removed, ascending.
  std::vector<VersionStatus> versions;
  // Routes of the default version, as Router::Describe() gives them.
  std::vector<std::string> routes;
  // Every problem the last reload found for this model (config, routes,
  // versions, labels), one "file:line:col: message" per entry; empty when
  // it loaded cleanly.
  std::vector<std::string> errors;
  // When a reload last found this model without problems / with problems.
  absl::Time last_success = absl::InfinitePast();
  absl::Time last_failure = absl::InfinitePast();

  // `errors` joined with "; " (empty when there are none).
  std::string last_error() const;
};

class ModelSet {
 public:
  ModelSet(const ModelSet&) = delete;
  ModelSet& operator=(const ModelSet&) = delete;
  ~ModelSet();

  // Increases by one with every set a repository publishes (1 for the
  // first).
  uint64_t generation() const { return generation_; }
  const std::string& root() const { return root_; }
  absl::Time created_at() const { return created_at_; }
  // The model requests without a name get.
  const std::string& default_model() const { return default_model_; }

  // The model for a request: `name` empty means the default model,
  // `version` 0 its default version (the highest served unless the
  // model's config says otherwise).
  //
  // Errors: NotFound for an unknown model (the message names the known
  // models and a "did you mean"), or a version that does not exist or is
  // not served (naming the served versions); FailedPrecondition for a
  // version, or a model, that failed to load (with the load error).
  absl::StatusOr<ModelRef> Find(std::string_view name,
                                int64_t version = 0) const;
  // As Find, with the version as text: "" (the default version), a number
  // ("2") or a config label ("stable"). NotFound for an unknown label.
  absl::StatusOr<ModelRef> FindVersion(std::string_view name,
                                       std::string_view version) const;

  // Status of every model, sorted by name (for ListModels).
  const std::vector<ModelStatus>& models() const { return status_; }
  // Status of one model, or null.
  const ModelStatus* status(std::string_view name) const;
  // Problems of the repository as a whole (its config.yaml, the default
  // model missing), one "file:line:col: message" each.
  const std::vector<std::string>& errors() const { return errors_; }

  // Every served version of every model, by name then version.
  std::vector<ModelRef> Served() const;
  // Versions serving, and versions whose content on disk failed to load.
  int served_count() const;
  int failed_count() const;

 private:
  friend class ModelRepository;
  ModelSet();

  struct ServedVersion {
    std::shared_ptr<const model::CompiledModel> model;
    // Shared with the next set when the version and its routes carry over.
    std::shared_ptr<const routing::Router> router;
    // Of the files the serving content was compiled from.
    std::string source_hash;
  };
  struct Entry {
    std::map<int64_t, ServedVersion> served;
    std::map<std::string, int64_t> labels;
    int64_t default_version = 0;
    // The config in force: the last one that parsed.
    std::shared_ptr<const ModelConfig> config;
  };

  ModelRef MakeRef(const std::string& name, int64_t version,
                   const ServedVersion& served) const;

  uint64_t generation_ = 0;
  std::string root_;
  absl::Time created_at_;
  std::string default_model_;
  std::map<std::string, Entry> entries_;
  std::vector<ModelStatus> status_;  // by name
  std::vector<std::string> errors_;
};

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_MODEL_SET_H_
