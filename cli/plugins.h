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
    "                        (default: $HEALTHSCORE_PLUGIN_PATH, else the\n"
    "                        build's or the installation's plugin directory)\n";

// The plugin host for `--plugins`, else $HEALTHSCORE_PLUGIN_PATH (when set
// and not empty), else the default plugin directory of this program
// (engine/common/install_layout.h: the build tree's or the installation's)
// when it exists; null when there is none: models that name a plugin then
// fail to compile with a message saying so. InvalidArgument when a
// directory given by the flag or the variable does not exist.
absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> OpenPluginHost(
    const Args& args);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_PLUGINS_H_
