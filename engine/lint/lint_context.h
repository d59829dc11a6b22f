// Where a model file sits in its repository, for lint: its name there,
// whether it is the default model, the routes of its config.yaml, the
// repository's models and the routes of other models that send accounts to
// it. Read from the layout ROOT/<name>/<version>/model.yaml
// (repository_config.h), so that `healthscore lint` and `healthscore score`
// lint a model file where it lies.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_LINT_LINT_CONTEXT_H_
#define HEALTHSCORE_ENGINE_LINT_LINT_CONTEXT_H_

#include <string>
#include <utility>
#include <vector>

#include "engine/model/diagnostic.h"
#include "engine/repository/repository_config.h"

namespace healthscore::engine::lint {

// What lint knows about the repository a model belongs to.
struct LintContext {
  // The model's name in the repository (its directory); empty outside a
  // repository.
  std::string model_name;
  // True when requests without a model name get this model.
  bool is_default_model = false;
  // The routes of this model's config.yaml.
  std::vector<routing::RouteSpec> routes;
  // Models in the repository (directory names), for route targets.
  std::vector<std::string> repository_models;
  // Routes of other models that send accounts to this one:
  // {routing model name, route}.
  std::vector<std::pair<std::string, routing::RouteSpec>> routes_in;
};

// The context of a model file laid out as ROOT/<name>/<version>/model.yaml
// (an empty context for a file elsewhere). Problems in the config files it
// reads are appended to `diags`.
LintContext LintContextForFile(const std::string& model_path,
                               model::DiagnosticList* diags);

}  // namespace healthscore::engine::lint

#endif  // HEALTHSCORE_ENGINE_LINT_LINT_CONTEXT_H_
