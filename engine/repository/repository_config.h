// Configuration files of a model repository.
//
// A repository is a directory laid out as
//
//   <root>/config.yaml                   optional: repository settings
//   <root>/<name>/config.yaml            optional: how model <name> is served
//   <root>/<name>/<version>/model.yaml   one directory per numeric version
//   <root>/<name>/<version>/tests.yaml   optional: its test cases (warm-up)
//
// The repository file (<root>/config.yaml):
//
//   default_model: default      # the model requests without a name get
//
// A model file (<root>/<name>/config.yaml); every key is optional:
//
//   version_policy: latest      # latest | {latest: N} | all
//                               # | {specific: [1, 3]}
//   labels: {stable: 1, canary: 2}
//   default_version: stable     # a label or a number; requests without a
//                               # version get it (default: the highest
//                               # served version)
//   routes:                     # segment routing, first match wins
//     - when: 'segment == "enterprise"'
//       model: enterprise_health
//       version: 2              # optional; default: the target's default
//                               # version
//       description: Enterprise accounts get the enterprise model
//
// Parsing checks shape only (keys, types, identifiers, positive versions);
// whether a route condition is well typed, a target exists or a labelled
// version is served is checked when a repository loads (model_repository.h)
// and by `healthscore lint`. Every problem is a diagnostic with
// file:line:col; unknown keys are errors with a "did you mean".
//
// Thread-safety: free functions with no shared state. yaml-cpp exceptions
// are caught here and never escape.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_CONFIG_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "engine/routing/route_spec.h"

namespace healthscore::engine::repository {

// The file names of the layout above.
inline constexpr char kConfigFileName[] = "config.yaml";
inline constexpr char kModelFileName[] = "model.yaml";
inline constexpr char kTestsFileName[] = "tests.yaml";
// The default model when neither the server nor <root>/config.yaml names
// one.
inline constexpr char kDefaultModelName[] = "default";

enum class VersionPolicyKind { kLatest, kAll, kSpecific };

// Which versions of a model are served (TensorFlow Serving's policies).
struct VersionPolicy {
  VersionPolicyKind kind = VersionPolicyKind::kLatest;
  // kLatest: how many of the highest versions that load are served.
  int64_t latest = 1;
  // kSpecific: these versions, ascending, without duplicates.
  std::vector<int64_t> versions;

  // "latest", "latest 2", "all" or "specific [1, 3]".
  std::string ToString() const;
};

struct ModelConfig {
  std::string file;  // empty for a model without config.yaml
  VersionPolicy version_policy;
  std::map<std::string, int64_t> labels;
  std::map<std::string, model::SourceLocation> label_locations;
  // Empty, a version number or a label.
  std::string default_version;
  std::vector<routing::RouteSpec> routes;
  model::SourceLocation location;
  model::FieldLocations
      fields;  // version_policy, labels, default_version, routes
};

struct RepositoryConfig {
  std::string file;  // empty when the repository has no config.yaml
  std::string default_model;  // empty when not set
  model::SourceLocation location;
  model::FieldLocations fields;
};

// Parses a model's config.yaml (`text`, named `file` in diagnostics).
// Problems are appended to `diags`; the result holds what could be read.
ModelConfig ParseModelConfig(std::string_view text, const std::string& file,
                             model::DiagnosticList* diags);

// Parses a repository's config.yaml.
RepositoryConfig ParseRepositoryConfig(std::string_view text,
                                       const std::string& file,
                                       model::DiagnosticList* diags);

// A version directory name: a positive decimal integer without sign or
// leading zeros ("1", "20"). False for anything else ("01", "v2", "0").
bool ParseVersionNumber(std::string_view text, int64_t* out);

// True for a valid model name ([a-z0-9_-]+, as `name:` in model files).
bool IsModelName(std::string_view name);

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_CONFIG_H_
