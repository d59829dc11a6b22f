#include "server/model_set.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

void RepositoryLog(engine::repository::RepositoryLogLevel level,
                   const std::string& message) {
  switch (level) {
    case engine::repository::RepositoryLogLevel::kInfo:
      LogInfo(message);
      break;
    case engine::repository::RepositoryLogLevel::kWarning:
      LogWarning(message);
      break;
    case engine::repository::RepositoryLogLevel::kError:
      LogError(message);
      break;
  }
}

}  // namespace

std::string ModelEntry::last_error() const {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (!it->error.empty()) return it->error;
  }
  return "";
}

std::shared_ptr<const ModelSet> ModelSet::FromSnapshot(
    std::shared_ptr<const engine::repository::ModelSet> snapshot) {
  auto set = std::make_shared<ModelSet>();
  set->dir_ = snapshot->root();
  set->default_model_ = snapshot->default_model();
  set->generation_ = snapshot->generation();
  set->errors_ = snapshot->errors();
  for (const engine::repository::ModelStatus& status : snapshot->models()) {
    ModelEntry entry;
    entry.name = status.name;
    for (const engine::repository::VersionStatus& vs : status.versions) {
      ModelVersion v;
      v.number = vs.version;
      v.version = absl::StrCat(vs.version);
      v.file = vs.file;
      v.loaded_at = vs.loaded_at;
      v.load_duration = vs.load_duration;
      v.error = vs.error;
      if (vs.serving) {
        absl::StatusOr<engine::repository::ModelRef> ref =
            snapshot->Find(status.name, vs.version);
        if (ref.ok()) {
          v.model = ref->model;
          if (ref->router != nullptr) {
            set->route_plans_.emplace(ref->router, MakeRoutePlan(*ref));
          }
        }
      }
      if (v.model != nullptr && vs.version == status.default_version) {
        entry.serving = static_cast<int>(entry.versions.size());
      }
      entry.versions.push_back(std::move(v));
    }
    set->models_.emplace(status.name, std::move(entry));
  }
  set->snapshot_ = std::move(snapshot);
  return set;
}

absl::StatusOr<ModelRef> ModelSet::Find(absl::string_view name,
                                        absl::string_view version) const {
  absl::StatusOr<engine::repository::ModelRef> ref =
      snapshot_->FindVersion(std::string_view(name.data(), name.size()),
                             std::string_view(version.data(), version.size()));
  if (!ref.ok()) return ref.status();
  const RoutePlan* plan = nullptr;
  if (ref->router != nullptr) {
    auto it = route_plans_.find(ref->router);
    if (it != route_plans_.end()) plan = it->second.get();
  }
  return ModelRef{std::move(ref->model), std::move(ref->name),
                  absl::StrCat(ref->version), ref->version, ref->router, plan};
}

int ModelSet::loaded_count() const {
  int n = 0;
  for (const auto& [name, e] : models_) {
    for (const ModelVersion& v : e.versions) n += v.model != nullptr;
  }
  return n;
}

int ModelSet::failed_count() const {
  int n = 0;
  for (const auto& [name, e] : models_) {
    for (const ModelVersion& v : e.versions) n += v.model == nullptr;
  }
  return n;
}

ModelStore::ModelStore() = default;
ModelStore::~ModelStore() = default;

absl::Status ModelStore::Open(engine::repository::RepositoryOptions options) {
  if (!options.log) options.log = RepositoryLog;
  absl::StatusOr<std::unique_ptr<engine::repository::ModelRepository>>
      repository =
          engine::repository::ModelRepository::Create(std::move(options));
  if (!repository.ok()) return repository.status();
  std::shared_ptr<const ModelSet> old;
  absl::MutexLock lock(&mu_);
  old = std::move(current_);
  repository_ = std::move(repository).value();
  current_ = ModelSet::FromSnapshot(repository_->Snapshot());
  return absl::OkStatus();
}

std::shared_ptr<const ModelSet> ModelStore::Current() const {
  absl::MutexLock lock(&mu_);
  if (repository_ != nullptr) {
    std::shared_ptr<const engine::repository::ModelSet> snapshot =
        repository_->Snapshot();
    // Adapted once per generation; requests between reloads share it.
    if (current_ == nullptr ||
        current_->generation() != snapshot->generation()) {
      current_ = ModelSet::FromSnapshot(std::move(snapshot));
    }
  }
  return current_;
}

engine::repository::ModelRepository* ModelStore::repository() const {
  absl::MutexLock lock(&mu_);
  return repository_.get();
}

engine::repository::ReloadResult ModelStore::Reload() {
  engine::repository::ModelRepository* repository = this->repository();
  if (repository == nullptr) {
    engine::repository::ReloadResult result;
    result.status = absl::FailedPreconditionError(
        "the server has no model repository to reload");
    return result;
  }
  engine::repository::ReloadResult result = repository->Reload();
  if (!result.status.ok()) {
    LogError(absl::StrCat("model reload failed; the previous models keep "
                          "serving: ",
                          result.status.message()));
  } else if (!result.errors.empty()) {
    LogError(absl::StrFormat(
        "model reload found %d problem(s); what failed keeps its previous "
        "content serving (generation %d, %d compiled, %d reused): %s",
        result.errors.size(), result.generation, result.compiled,
        result.reused, absl::StrJoin(result.errors, "; ")));
  } else {
    LogInfo(absl::StrFormat(
        "models reloaded in %.1f ms: generation %d, %d compiled, %d "
        "reused%s",
        absl::ToDoubleMilliseconds(result.duration), result.generation,
        result.compiled, result.reused,
        result.published ? "" : " (nothing changed)"));
  }
  return result;
}

}  // namespace healthscore::server
