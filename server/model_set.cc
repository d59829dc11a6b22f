#include "server/model_set.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "engine/model/compiler.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;

bool IsNumeric(absl::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

ModelVersion LoadVersion(const std::string& name, int64_t number,
                         const std::string& version, const std::string& file,
                         engine::PluginHost* plugins) {
  ModelVersion v;
  v.number = number;
  v.version = version;
  v.file = file;
  absl::Time start = absl::Now();
  engine::CompileOptions options;
  options.plugins = plugins;
  engine::CompileResult compiled = engine::CompileFile(file, options);
  v.loaded_at = absl::Now();
  v.load_duration = v.loaded_at - start;
  if (compiled.model == nullptr) {
    absl::Status s = compiled.diagnostics.ToStatus();
    v.error = s.ok() ? absl::StrCat(file, ": the model did not compile")
                     : std::string(s.message());
  } else if (compiled.model->name() != name) {
    v.error = absl::StrCat(file, ": the model is named '",
                           compiled.model->name(), "' but lives in directory '",
                           name, "'; the name must match the directory");
  } else {
    v.model = std::move(compiled.model);
  }
  if (v.model != nullptr) {
    LogInfo(absl::StrFormat(
        "loaded model %s version %s (label %s, hash %.12s, %d warnings) from "
        "%s in %.1f ms",
        name, version, v.model->version(), v.model->hash(),
        v.model->warnings().warning_count(), file,
        absl::ToDoubleMilliseconds(v.load_duration)));
  } else {
    LogError(absl::StrFormat("failed to load model %s version %s: %s", name,
                             version, v.error));
  }
  return v;
}

}  // namespace

std::string ModelEntry::last_error() const {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (!it->error.empty()) return it->error;
  }
  return "";
}

absl::StatusOr<std::shared_ptr<const ModelSet>> ModelSet::Load(
    const std::string& dir, const std::string& default_model,
    engine::PluginHost* plugins) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("model directory ", dir, " does not exist or is not a "
                     "directory"));
  }
  auto set = std::make_shared<ModelSet>();
  set->dir_ = dir;
  set->default_model_ = default_model;

  std::vector<fs::path> model_dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) model_dirs.push_back(e.path());
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot read model directory ", dir, ": ", ec.message()));
  }
  std::sort(model_dirs.begin(), model_dirs.end());
  for (const fs::path& model_dir : model_dirs) {
    std::string name = model_dir.filename().string();
    std::vector<std::pair<int64_t, std::string>> versions;
    std::vector<std::string> ignored;
    for (const fs::directory_entry& e :
         fs::directory_iterator(model_dir, ec)) {
      if (!e.is_directory(ec)) continue;
      std::string v = e.path().filename().string();
      if (!fs::exists(e.path() / "model.yaml", ec)) continue;
      int64_t number = 0;
      if (!IsNumeric(v) || !absl::SimpleAtoi(v, &number)) {
        ignored.push_back(v);
        continue;
      }
      versions.emplace_back(number, v);
    }
    if (versions.empty()) continue;  // not a model directory
    for (const std::string& v : ignored) {
      LogWarning(absl::StrCat("ignoring ", (model_dir / v).string(),
                              ": model versions must be numeric directories"));
    }
    std::sort(versions.begin(), versions.end());
    ModelEntry entry;
    entry.name = name;
    for (const auto& [number, v] : versions) {
      entry.versions.push_back(LoadVersion(
          name, number, v, (model_dir / v / "model.yaml").string(), plugins));
      if (entry.versions.back().model != nullptr) {
        entry.serving = static_cast<int>(entry.versions.size()) - 1;
      }
    }
    set->models_.emplace(name, std::move(entry));
  }
  if (set->models_.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no model found under ", dir,
        " (expected ", dir, "/<name>/<version>/model.yaml)"));
  }
  return std::shared_ptr<const ModelSet>(std::move(set));
}

std::shared_ptr<const ModelSet> ModelSet::FromModels(
    std::vector<std::shared_ptr<const engine::CompiledModel>> models,
    const std::string& default_model) {
  auto set = std::make_shared<ModelSet>();
  set->default_model_ = default_model;
  absl::Time now = absl::Now();
  for (auto& m : models) {
    ModelEntry entry;
    entry.name = m->name();
    ModelVersion v;
    v.number = 1;
    v.version = "1";
    v.file = m->file();
    v.loaded_at = now;
    v.model = std::move(m);
    entry.versions.push_back(std::move(v));
    entry.serving = 0;
    set->models_.emplace(entry.name, std::move(entry));
  }
  return set;
}

absl::StatusOr<ModelRef> ModelSet::Find(absl::string_view name,
                                        absl::string_view version) const {
  absl::string_view wanted = name.empty() ? default_model_ : name;
  auto it = models_.find(std::string(wanted));
  if (it == models_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, e] : models_) names.push_back(n);
    if (name.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "no default model: the default model '", default_model_,
          "' is not among the models served (", absl::StrJoin(names, ", "),
          ")"));
    }
    return absl::NotFoundError(absl::StrCat("unknown model '", name,
                                            "'; models served: ",
                                            absl::StrJoin(names, ", ")));
  }
  const ModelEntry& entry = it->second;
  const ModelVersion* picked = nullptr;
  if (version.empty()) {
    if (entry.serving < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", entry.name,
                       "' has no version that loaded; last error: ",
                       entry.last_error()));
    }
    picked = &entry.versions[entry.serving];
  } else {
    for (const ModelVersion& v : entry.versions) {
      if (v.version == version) picked = &v;
    }
    if (picked == nullptr) {
      std::vector<std::string> versions;
      for (const ModelVersion& v : entry.versions) versions.push_back(v.version);
      return absl::NotFoundError(absl::StrCat(
          "model '", entry.name, "' has no version '", version,
          "'; versions: ", absl::StrJoin(versions, ", ")));
    }
    if (picked->model == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", entry.name, "' version ", picked->version,
                       " failed to load: ", picked->error));
    }
  }
  return ModelRef{picked->model, entry.name, picked->version};
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

std::shared_ptr<const ModelSet> ModelStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void ModelStore::Publish(std::shared_ptr<const ModelSet> set) {
  std::shared_ptr<const ModelSet> old;
  {
    absl::MutexLock lock(&mu_);
    old = std::move(current_);
    current_ = std::move(set);
  }
  // `old` is released here, outside the lock: if this was its last
  // reference, freeing a whole model set should not block readers.
}

}  // namespace healthscore::server
