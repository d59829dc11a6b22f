#include "engine/lint/lint_context.h"

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "engine/repository/repository_layout.h"

namespace healthscore::engine::lint {

using repository::ParseVersionNumber;

namespace fs = std::filesystem;

LintContext LintContextForFile(const std::string& model_path,
                               model::DiagnosticList* diags) {
  LintContext context;
  const fs::path file(model_path);
  const fs::path version_dir = file.parent_path();
  const fs::path model_dir = version_dir.parent_path();
  const fs::path root = model_dir.parent_path();
  int64_t version = 0;
  if (file.filename() != repository::kModelFileName ||
      !ParseVersionNumber(version_dir.filename().string(), &version) ||
      model_dir.filename().empty()) {
    return context;
  }
  absl::StatusOr<repository::TreeScan> scan =
      repository::ScanTree(root.empty() ? "." : root.string());
  if (!scan.ok()) return context;
  context.model_name = model_dir.filename().string();
  std::string default_model = repository::kDefaultModelName;
  if (scan->config) {
    repository::RepositoryConfig rc = repository::ParseRepositoryConfig(
        scan->config->text, scan->config->path, diags);
    if (!rc.default_model.empty()) default_model = rc.default_model;
  }
  context.is_default_model = context.model_name == default_model;
  for (const auto& [name, dir] : scan->models) {
    context.repository_models.push_back(name);
    if (!dir.config) continue;
    model::DiagnosticList config_diags;
    repository::ModelConfig config = repository::ParseModelConfig(
        dir.config->text, dir.config->path, &config_diags);
    if (name == context.model_name) {
      diags->Append(config_diags);
      context.routes = config.routes;
      continue;
    }
    for (const routing::RouteSpec& route : config.routes) {
      if (route.model == context.model_name) {
        context.routes_in.emplace_back(name, route);
      }
    }
  }
  return context;
}

}  // namespace healthscore::engine::lint
