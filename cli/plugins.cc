#include "cli/plugins.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/install_layout.h"

namespace healthscore::cli {

absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> OpenPluginHost(
    const Args& args) {
  std::string path = args.Get("plugins");
  std::string source = "--plugins";
  if (path.empty()) {
    const char* env = std::getenv("HEALTHSCORE_PLUGIN_PATH");
    if (env != nullptr) path = env;
    source = "$HEALTHSCORE_PLUGIN_PATH";
  }
  if (path.empty()) {
    // Checked for existence first: a build without plugins, or an
    // installation without them, is not a usage error.
    const std::string& fallback = engine::common::DefaultDataDirs().plugins;
    std::error_code ec;
    if (fallback.empty() || !std::filesystem::is_directory(fallback, ec)) {
      return std::unique_ptr<engine::plugin_host::PluginHost>();
    }
    path = fallback;
    source = "default plugin directory";
  }
  engine::plugin_host::PluginHostOptions options;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    options.directories.emplace_back(dir);
  }
  auto host = engine::plugin_host::PluginHost::Create(std::move(options));
  if (!host.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", host.status().message()));
  }
  return std::move(host).value();
}

}  // namespace healthscore::cli
