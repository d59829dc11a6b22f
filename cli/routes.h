// Segment routes of a model file, applied as `healthscore score` applies
// them: the repository the file is a version of, loaded as the server
// loads it. Shared by `healthscore score` and the Python package
// (python/core_module.cc), so both route alike.
//
// Thread-safety: a Routes is filled once; then it is read only.

#ifndef HEALTHSCORE_CLI_ROUTES_H_
#define HEALTHSCORE_CLI_ROUTES_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/common/yaml_reader.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/model_set.h"

namespace healthscore::cli {

// The repository of a routed run.
struct Routes {
  std::unique_ptr<engine::repository::ModelRepository> repository;
  // Held for the whole run: `requested.router` belongs to it.
  std::shared_ptr<const engine::repository::ModelSet> set;
  engine::repository::ModelRef requested;
};

// Loads the routes that apply to the model file `model_path` into
// `*routes`, leaving routes->requested.router null when there are none:
// the file is not laid out as ROOT/NAME/VERSION/model.yaml, or NAME's
// config.yaml declares no routes (both found by the code `healthscore lint`
// uses). Otherwise ROOT is loaded as the server loads it, except that the
// versions' tests.yaml cases are not run (RepositoryOptions::warm_up off):
// `score` has always scored the files as they are, the test gate belongs
// to `healthscore test`, and running every model's cases would slow every
// run. Errors, prefixed "cannot apply the routes of CONFIG: ": problems
// in the config files, the repository's load errors, and ModelSet::Find's
// when the repository does not serve VERSION with its routes.
absl::Status LoadRoutes(const std::string& model_path,
                        engine::plugin_host::PluginHost* plugins,
                        const engine::common::YamlLimits& limits,
                        Routes* routes);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_ROUTES_H_
