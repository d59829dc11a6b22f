#include "cli/plugins.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/str_split.h"

namespace healthscore::cli {

absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> OpenPluginHost(
    const Args& args) {
  std::string path = args.Get("plugins");
  if (path.empty()) {
    const char* env = std::getenv("HEALTHSCORE_PLUGIN_PATH");
    if (env != nullptr) path = env;
  }
  if (path.empty()) return std::unique_ptr<engine::plugin_host::PluginHost>();
  engine::plugin_host::PluginHostOptions options;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    options.directories.emplace_back(dir);
  }
  auto host = engine::plugin_host::PluginHost::Create(std::move(options));
  if (!host.ok()) {
    return absl::InvalidArgumentError(
        std::string("--plugins: ") + std::string(host.status().message()));
  }
  return std::move(host).value();
}

}  // namespace healthscore::cli
