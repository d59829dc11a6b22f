// The --max-model-bytes and --max-yaml-nodes options shared by the commands
// that read models (validate, lint, test, score, diff): the limits of
// engine/common/yaml_reader.h, which the error messages name when a file
// exceeds them.

#ifndef HEALTHSCORE_CLI_MODEL_LIMITS_H_
#define HEALTHSCORE_CLI_MODEL_LIMITS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/common/yaml_reader.h"

namespace healthscore::cli {

// Help text for the options, to paste into a command's usage.
inline constexpr char kModelLimitsHelp[] =
    "  --max-model-bytes N   refuse YAML files (models, tests, configs)\n"
    "                        longer than N bytes (default 4194304, 4 MiB)\n"
    "  --max-yaml-nodes N    refuse YAML holding more than N nodes once\n"
    "                        aliases are expanded (default 1000000)\n";

// `flags` with the two options added, for Args::Parse.
std::vector<FlagSpec> WithModelLimitFlags(std::vector<FlagSpec> flags);

// The limits the options ask for (defaults for those absent).
// InvalidArgument naming the option for a value that is not a positive
// integer.
absl::StatusOr<engine::common::YamlLimits> ModelLimits(const Args& args);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_MODEL_LIMITS_H_
