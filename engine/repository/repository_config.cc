#include "engine/repository/repository_config.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/yaml_reader.h"
#include "engine/repository/internal/yaml_util.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::repository {

using common::DescribeYamlNode;
using common::ReadYaml;
using model::DiagnosticList;
using model::DidYouMean;
using model::SourceLocation;

namespace {

using internal::LocateScalar;
using internal::NodeLocation;

const std::vector<std::string>& ModelConfigKeys() {
  static const auto* keys = new std::vector<std::string>{
      "version_policy", "labels", "default_version", "routes"};
  return *keys;
}

const std::vector<std::string>& RouteKeys() {
  static const auto* keys = new std::vector<std::string>{
      "when", "model", "version", "description"};
  return *keys;
}

const std::vector<std::string>& RepositoryKeys() {
  static const auto* keys = new std::vector<std::string>{"default_model"};
  return *keys;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  for (char c : s) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

class ConfigParser {
 public:
  ConfigParser(std::string_view text, const std::string& file,
               DiagnosticList* diags)
      : text_(text), file_(file), diags_(diags) {}

  // Loads the document; false (with a diagnostic) when it is not YAML or
  // not a mapping. An empty document is an empty mapping.
  bool Load(YAML::Node* root) {
    // The same bounds as model files (size, aliases, nesting): a config
    // file is read on every reload.
    common::YamlDocument doc = ReadYaml(text_);
    if (doc.problem) {
      const common::YamlProblem& p = *doc.problem;
      std::string hint = p.hint;
      if (hint.empty() && p.code == absl::StatusCode::kInvalidArgument) {
        hint = "quote values that contain ': ', or check the indentation";
      }
      diags_->Error(SourceLocation{file_, p.line, p.column}, p.message,
                    std::move(hint));
      return false;
    }
    *root = std::move(doc.root);
    if (root->IsNull()) return true;
    if (!root->IsMap()) {
      diags_->Error(Loc(*root),
                    absl::StrCat("expected a mapping of settings, got ",
                                 DescribeYamlNode(*root)));
      return false;
    }
    return true;
  }

  SourceLocation Loc(const YAML::Node& node) const {
    return NodeLocation(file_, node);
  }

  // Reports keys of `map` not in `known`; records the others' locations.
  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& known,
                 const char* what, model::FieldLocations* fields) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::string hint = DidYouMean(key, known);
        if (hint.empty()) {
          hint = absl::StrCat("known keys: ", absl::StrJoin(known, ", "));
        }
        diags_->Error(Loc(kv.first),
                      absl::StrCat("unknown key '", key, "' in ", what),
                      std::move(hint));
        continue;
      }
      if (!seen.insert(key).second) {
        diags_->Error(Loc(kv.first),
                      absl::StrCat("duplicate key '", key, "' in ", what));
      }
      if (fields != nullptr) fields->Set(key, Loc(kv.second));
    }
  }

  bool ReadVersion(const YAML::Node& node, const std::string& what,
                   int64_t* out) {
    if (node.IsScalar() && ParseVersionNumber(node.Scalar(), out)) {
      return true;
    }
    diags_->Error(Loc(node),
                  absl::StrCat("'", what,
                               "' must be a version number (a positive "
                               "integer), got ",
                               DescribeYamlNode(node)),
                  "versions are the numeric directory names: 1, 2, 3...");
    return false;
  }

  void ReadPolicy(const YAML::Node& node, VersionPolicy* out) {
    const std::string kinds =
        "latest, {latest: N}, all or {specific: [versions]}";
    if (node.IsScalar()) {
      const std::string& word = node.Scalar();
      if (word == "latest") {
        out->kind = VersionPolicyKind::kLatest;
        out->latest = 1;
        return;
      }
      if (word == "all") {
        out->kind = VersionPolicyKind::kAll;
        return;
      }
      std::string hint =
          word == "specific"
              ? "'specific' takes a list: version_policy: {specific: [1, 2]}"
              : DidYouMean(word, {"latest", "all", "specific"});
      diags_->Error(Loc(node),
                    absl::StrCat("'version_policy' must be one of ", kinds,
                                 ", got ", DescribeYamlNode(node)),
                    std::move(hint));
      return;
    }
    if (!node.IsMap() || node.size() != 1) {
      diags_->Error(Loc(node),
                    absl::StrCat("'version_policy' must be one of ", kinds,
                                 ", got ", DescribeYamlNode(node)));
      return;
    }
    const auto kv = *node.begin();
    const std::string key = kv.first.Scalar();
    const YAML::Node value = kv.second;
    if (key == "latest") {
      int64_t n = 0;
      if (ReadVersion(value, "latest", &n)) {
        out->kind = VersionPolicyKind::kLatest;
        out->latest = n;
      }
      return;
    }
    if (key == "all") {
      if (!value.IsNull()) {
        diags_->Error(Loc(value), "'all' takes no value",
                      "write version_policy: all");
      }
      out->kind = VersionPolicyKind::kAll;
      return;
    }
    if (key == "specific") {
      if (!value.IsSequence() || value.size() == 0) {
        diags_->Error(Loc(value),
                      absl::StrCat("'specific' must be a non-empty list of "
                                   "versions, got ",
                                   DescribeYamlNode(value)));
        return;
      }
      out->kind = VersionPolicyKind::kSpecific;
      std::set<int64_t> versions;
      for (const YAML::Node& item : value) {
        int64_t v = 0;
        if (!ReadVersion(item, "specific", &v)) continue;
        if (!versions.insert(v).second) {
          diags_->Error(Loc(item),
                        absl::StrCat("version ", v, " is listed twice"));
        }
      }
      out->versions.assign(versions.begin(), versions.end());
      return;
    }
    diags_->Error(Loc(kv.first),
                  absl::StrCat("'version_policy' must be one of ", kinds,
                               ", got '", key, "'"),
                  DidYouMean(key, {"latest", "all", "specific"}));
  }

  void ReadLabels(const YAML::Node& node, ModelConfig* out) {
    if (!node.IsMap()) {
      diags_->Error(Loc(node),
                    absl::StrCat("'labels' must be a mapping label -> "
                                 "version, got ",
                                 DescribeYamlNode(node)),
                    "e.g. labels: {stable: 1, canary: 2}");
      return;
    }
    for (const auto& kv : node) {
      const std::string label = kv.first.Scalar();
      if (!IsIdentifier(label)) {
        diags_->Error(Loc(kv.first),
                      absl::StrCat("label '", label,
                                   "' must be an identifier [a-z_][a-z0-9_]*"));
        continue;
      }
      int64_t version = 0;
      if (!ReadVersion(kv.second, label, &version)) continue;
      if (out->labels.count(label) > 0) {
        diags_->Error(Loc(kv.first),
                      absl::StrCat("duplicate label '", label, "'"));
        continue;
      }
      out->labels[label] = version;
      out->label_locations[label] = Loc(kv.second);
    }
  }

  void ReadRoute(const YAML::Node& node, routing::RouteSpec* route) {
    route->location = Loc(node);
    if (!node.IsMap()) {
      diags_->Error(Loc(node),
                    absl::StrCat("a route must be a mapping {when, model}, "
                                 "got ",
                                 DescribeYamlNode(node)));
      return;
    }
    CheckKeys(node, RouteKeys(), "route", &route->fields);
    if (const YAML::Node when = node["when"]) {
      if (when.IsScalar() && !when.Scalar().empty()) {
        route->when.text = when.Scalar();
        LocateScalar(text_, file_, when, &route->when);
      } else {
        diags_->Error(Loc(when),
                      absl::StrCat("'when' must be a condition, got ",
                                   DescribeYamlNode(when)),
                      "e.g. when: 'segment == \"enterprise\"'");
      }
    } else {
      diags_->Error(route->location, "missing required key 'when' in route",
                    "e.g. when: 'segment == \"enterprise\"'");
    }
    if (const YAML::Node model = node["model"]) {
      if (model.IsScalar() && IsModelName(model.Scalar())) {
        route->model = model.Scalar();
      } else {
        diags_->Error(Loc(model),
                      absl::StrCat("'model' must be a model name "
                                   "[a-z0-9_-]+, got ",
                                   DescribeYamlNode(model)));
      }
    } else {
      diags_->Error(route->location, "missing required key 'model' in route",
                    "name the model that scores the accounts of this route");
    }
    if (const YAML::Node version = node["version"]) {
      ReadVersion(version, "version", &route->version);
    }
    if (const YAML::Node description = node["description"]) {
      if (description.IsScalar()) {
        route->description = description.Scalar();
      } else {
        diags_->Error(Loc(description), "'description' must be a string");
      }
    }
  }

  void ReadModelConfig(ModelConfig* out) {
    YAML::Node root;
    if (!Load(&root)) return;
    out->location = SourceLocation{file_, 1, 1};
    if (root.IsNull()) return;
    CheckKeys(root, ModelConfigKeys(), "model config", &out->fields);
    if (const YAML::Node policy = root["version_policy"]) {
      ReadPolicy(policy, &out->version_policy);
    }
    if (const YAML::Node labels = root["labels"]) ReadLabels(labels, out);
    if (const YAML::Node dv = root["default_version"]) {
      if (dv.IsScalar() && !dv.Scalar().empty()) {
        out->default_version = dv.Scalar();
        int64_t v = 0;
        if (!ParseVersionNumber(out->default_version, &v) &&
            !IsIdentifier(out->default_version)) {
          diags_->Error(Loc(dv),
                        absl::StrCat("'default_version' must be a version "
                                     "number or a label, got ",
                                     DescribeYamlNode(dv)));
          out->default_version.clear();
        }
      } else {
        diags_->Error(Loc(dv),
                      absl::StrCat("'default_version' must be a version "
                                   "number or a label, got ",
                                   DescribeYamlNode(dv)));
      }
    }
    if (const YAML::Node routes = root["routes"]) {
      if (!routes.IsSequence()) {
        diags_->Error(Loc(routes),
                      absl::StrCat("'routes' must be a list of {when, "
                                   "model}, got ",
                                   DescribeYamlNode(routes)));
      } else {
        for (const YAML::Node& item : routes) {
          routing::RouteSpec route;
          ReadRoute(item, &route);
          out->routes.push_back(std::move(route));
        }
      }
    }
  }

  void ReadRepositoryConfig(RepositoryConfig* out) {
    YAML::Node root;
    if (!Load(&root)) return;
    out->location = SourceLocation{file_, 1, 1};
    if (root.IsNull()) return;
    CheckKeys(root, RepositoryKeys(), "repository config", &out->fields);
    if (const YAML::Node dm = root["default_model"]) {
      if (dm.IsScalar() && IsModelName(dm.Scalar())) {
        out->default_model = dm.Scalar();
      } else {
        diags_->Error(Loc(dm),
                      absl::StrCat("'default_model' must be a model name "
                                   "[a-z0-9_-]+, got ",
                                   DescribeYamlNode(dm)));
      }
    }
  }

 private:
  std::string_view text_;
  const std::string& file_;
  DiagnosticList* diags_;
};

}  // namespace

std::string VersionPolicy::ToString() const {
  switch (kind) {
    case VersionPolicyKind::kLatest:
      return latest == 1 ? "latest" : absl::StrCat("latest ", latest);
    case VersionPolicyKind::kAll:
      return "all";
    case VersionPolicyKind::kSpecific:
      return absl::StrCat("specific [", absl::StrJoin(versions, ", "), "]");
  }
  return "";
}

ModelConfig ParseModelConfig(std::string_view text, const std::string& file,
                             DiagnosticList* diags) {
  ModelConfig out;
  out.file = file;
  // yaml-cpp throws on some malformed input beyond syntax errors; nothing
  // may escape a reload.
  DiagnosticList found;
  try {
    ConfigParser(text, file, &found).ReadModelConfig(&out);
  } catch (const YAML::Exception& e) {
    found.Error(SourceLocation{file, e.mark.line + 1, e.mark.column + 1},
                absl::StrCat("invalid YAML: ", e.msg));
  }
  found.SortByLocation();
  diags->Append(found);
  return out;
}

RepositoryConfig ParseRepositoryConfig(std::string_view text,
                                       const std::string& file,
                                       DiagnosticList* diags) {
  RepositoryConfig out;
  out.file = file;
  DiagnosticList found;
  try {
    ConfigParser(text, file, &found).ReadRepositoryConfig(&out);
  } catch (const YAML::Exception& e) {
    found.Error(SourceLocation{file, e.mark.line + 1, e.mark.column + 1},
                absl::StrCat("invalid YAML: ", e.msg));
  }
  found.SortByLocation();
  diags->Append(found);
  return out;
}

bool ParseVersionNumber(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 18 || text[0] == '0') return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsModelName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace healthscore::engine::repository
