// The --plugins option shared by the commands that compile models.

#ifndef HEALTHSCORE_CLI_PLUGINS_H_
#define HEALTHSCORE_CLI_PLUGINS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/plugin_host/plugin_host.h"

namespace healthscore::cli {

// Help text for the option, to paste into a command's usage.
inline constexpr char kPluginsHelp[] =
    "  --plugins DIR[:DIR...]  directories to load the plugins models name\n"
    "                        (default: $HEALTHSCORE_PLUGIN_PATH, else none)\n";

// The plugin host for `--plugins` (or $HEALTHSCORE_PLUGIN_PATH), or null
// when neither is set: models that name a plugin then fail to compile with
// a message saying so. InvalidArgument when a directory does not exist.
absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> OpenPluginHost(
    const Args& args);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_PLUGINS_H_
