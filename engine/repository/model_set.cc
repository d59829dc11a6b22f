#include "engine/repository/model_set.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"
#include "engine/model/diagnostic.h"
#include "engine/repository/repository_config.h"

namespace healthscore::engine::repository {

using common::JoinForDisplay;
using common::TruncateForDisplay;
using model::DidYouMean;

std::string ModelStatus::last_error() const {
  return absl::StrJoin(errors, "; ");
}

ModelSet::ModelSet() = default;
ModelSet::~ModelSet() = default;

ModelRef ModelSet::MakeRef(const std::string& name, int64_t version,
                           const ServedVersion& served) const {
  ModelRef ref;
  ref.name = name;
  ref.version = version;
  ref.model = served.model;
  ref.router = served.router.get();
  return ref;
}

const ModelStatus* ModelSet::status(std::string_view name) const {
  for (const ModelStatus& s : status_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<ModelRef> ModelSet::Find(std::string_view name,
                                        int64_t version) const {
  const std::string wanted = name.empty() ? default_model_ : std::string(name);
  auto it = entries_.find(wanted);
  const ModelStatus* st = status(wanted);
  if (it == entries_.end() || st == nullptr) {
    std::vector<std::string> names;
    for (const ModelStatus& s : status_) names.push_back(s.name);
    std::string hint = DidYouMean(wanted, names);
    return absl::NotFoundError(absl::StrCat(
        name.empty() ? "the default model '" : "unknown model '",
        TruncateForDisplay(wanted),
        name.empty() ? "' is not in the repository" : "'",
        hint.empty() ? "" : absl::StrCat(" (", hint, ")"),
        "; models: ", names.empty() ? "none" : JoinForDisplay(names)));
  }
  const Entry& entry = it->second;
  std::vector<int64_t> served;
  for (const auto& [v, unused] : entry.served) served.push_back(v);
  std::vector<std::string> served_names;
  for (int64_t v : served) served_names.push_back(absl::StrCat(v));
  const std::string served_text =
      served.empty() ? "none" : JoinForDisplay(served_names);
  // Repository names are checked (IsModelName), but `wanted` may be the
  // configured default model.
  const std::string shown = TruncateForDisplay(wanted);

  if (version == 0) {
    if (entry.default_version == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", shown, "' has no version that loaded",
                       st->errors.empty() ? "" : ": ", st->last_error()));
    }
    version = entry.default_version;
  }
  auto v = entry.served.find(version);
  if (v != entry.served.end()) return MakeRef(wanted, version, v->second);

  for (const VersionStatus& vs : st->versions) {
    if (vs.version != version) continue;
    if (!vs.error.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", version, " of model '", shown,
                       "' failed to load: ", vs.error));
    }
    return absl::NotFoundError(absl::StrCat(
        "version ", version, " of model '", shown, "' is not served (",
        vs.note.empty() ? absl::StrCat("version_policy ", st->version_policy)
                        : vs.note,
        "); served versions: ", served_text));
  }
  return absl::NotFoundError(absl::StrCat("model '", shown, "' has no version ",
                                          version,
                                          "; served versions: ", served_text));
}

absl::StatusOr<ModelRef> ModelSet::FindVersion(std::string_view name,
                                               std::string_view version) const {
  if (version.empty()) return Find(name, 0);
  int64_t number = 0;
  if (ParseVersionNumber(version, &number)) return Find(name, number);
  const std::string wanted = name.empty() ? default_model_ : std::string(name);
  auto it = entries_.find(wanted);
  if (it == entries_.end()) return Find(name, 0);  // the unknown-model error
  auto label = it->second.labels.find(std::string(version));
  if (label == it->second.labels.end()) {
    std::vector<std::string> labels;
    for (const auto& [l, unused] : it->second.labels) labels.push_back(l);
    std::string hint = DidYouMean(version, labels);
    return absl::NotFoundError(absl::StrCat(
        "model '", TruncateForDisplay(wanted), "' has no version or label '",
        TruncateForDisplay(version), "'",
        hint.empty() ? "" : absl::StrCat(" (", hint, ")"),
        "; labels: ", labels.empty() ? "none" : JoinForDisplay(labels)));
  }
  return Find(wanted, label->second);
}

std::vector<ModelRef> ModelSet::Served() const {
  std::vector<ModelRef> out;
  for (const auto& [name, entry] : entries_) {
    for (const auto& [version, served] : entry.served) {
      out.push_back(MakeRef(name, version, served));
    }
  }
  return out;
}

int ModelSet::served_count() const {
  int n = 0;
  for (const auto& [name, entry] : entries_) {
    n += static_cast<int>(entry.served.size());
  }
  return n;
}

int ModelSet::failed_count() const {
  int n = 0;
  for (const ModelStatus& s : status_) {
    for (const VersionStatus& v : s.versions) n += v.error.empty() ? 0 : 1;
  }
  return n;
}

}  // namespace healthscore::engine::repository
