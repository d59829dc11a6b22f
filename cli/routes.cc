#include "cli/routes.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/lint/lint.h"
#include "engine/repository/repository_config.h"

namespace healthscore::cli {

absl::Status LoadRoutes(const std::string& model_path,
                        engine::plugin_host::PluginHost* plugins,
                        const engine::common::YamlLimits& limits,
                        Routes* routes) {
  engine::model::DiagnosticList config_diags;
  const engine::lint::LintContext context =
      engine::lint::LintContextForFile(model_path, &config_diags);
  if (context.model_name.empty() || context.routes.empty()) {
    return absl::OkStatus();
  }
  namespace fs = std::filesystem;
  const fs::path version_dir = fs::path(model_path).parent_path();
  const fs::path root = version_dir.parent_path().parent_path();
  const std::string config =
      (version_dir.parent_path() / engine::repository::kConfigFileName)
          .string();
  auto fail = [&config](absl::string_view message) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot apply the routes of ", config, ": ", message));
  };
  if (config_diags.has_errors()) {
    std::vector<std::string> errors;
    for (const engine::model::Diagnostic& d : config_diags.items()) {
      if (d.severity == engine::model::Severity::kError) {
        errors.push_back(d.ToString());
      }
    }
    return fail(absl::StrJoin(errors, "; "));
  }
  int64_t version = 0;  // a version directory: LintContextForFile checked
  engine::repository::ParseVersionNumber(version_dir.filename().string(),
                                         &version);

  engine::repository::RepositoryOptions options;
  options.root = root.empty() ? "." : root.string();
  options.compile.plugins = plugins;
  options.compile.yaml = limits;
  options.warm_up = false;
  auto repository =
      engine::repository::ModelRepository::Create(std::move(options));
  if (!repository.ok()) return fail(repository.status().message());
  routes->repository = *std::move(repository);
  routes->set = routes->repository->Snapshot();
  auto requested = routes->set->Find(context.model_name, version);
  if (!requested.ok()) {
    // Find says what does not serve; the model's status says why (e.g. a
    // route to an unknown model, at its place in config.yaml).
    const engine::repository::ModelStatus* status =
        routes->set->status(context.model_name);
    return fail(status == nullptr || status->errors.empty()
                    ? std::string(requested.status().message())
                    : absl::StrCat(requested.status().message(), "; ",
                                   status->last_error()));
  }
  routes->requested = *std::move(requested);
  return absl::OkStatus();
}


}  // namespace healthscore::cli
