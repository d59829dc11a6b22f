// The input options of the commands that read snapshots (`score`, `diff`,
// `bench`): their flags, help text and engine::io::ReaderOptions, and the
// model options of the commands that compile a model file (--plugins and
// the model limits, model_limits.h).

#ifndef HEALTHSCORE_CLI_INPUT_OPTIONS_H_
#define HEALTHSCORE_CLI_INPUT_OPTIONS_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "engine/model/diagnostic.h"
#include "engine/plugin_host/plugin_host.h"

namespace healthscore::cli {

inline const std::vector<FlagSpec> kInputLimitFlags = {
    {"max-line-bytes", true},
    {"max-record-lines", true},
    {"id-field", true},
    {"strict", false}};
inline constexpr char kInputLimitsHelp[] =
    "  --id-field NAME       the JSON Lines key or CSV column holding the\n"
    "                        account id (default \"id\")\n"
    "  --strict              fail an account when a value does not fit its\n"
    "                        input, instead of scoring it with that value\n"
    "                        missing and a warning\n"
    "  --max-line-bytes N    longest JSON Lines line or CSV record, in bytes\n"
    "                        (default 67108864, 64 MiB); a longer one is that\n"
    "                        account's error and is skipped\n"
    "  --max-record-lines N  most lines a CSV record may span through quoted\n"
    "                        line breaks before it is taken for a stray quote\n"
    "                        (default 1000)\n";
// engine::io::ReaderOptions with the flags of kInputLimitFlags applied.
// InvalidArgument naming the flag for a value that is not an integer in
// range (1 byte to 1 GiB; 1 to 1,000,000 lines) and for an empty
// --id-field.
absl::StatusOr<engine::io::ReaderOptions> InputLimitsFromArgs(const Args& args);

// The format of the input at `path`: --input-format when given, JSON Lines
// for standard input ("-"), else from the file name. InvalidArgument for an
// unknown --input-format or a name that does not tell (the message says to
// pass --input-format).
absl::StatusOr<engine::io::InputFormat> InputFormatFromArgs(
    const Args& args, const std::string& path);

// `flags` with --input, --input-format and kInputLimitFlags added.
std::vector<FlagSpec> WithInputFlags(std::vector<FlagSpec> flags);

// What a snapshot command reads: --input, its format and the reader
// options of the input limit flags.
struct InputArgs {
  std::string path;
  engine::io::InputFormat format = engine::io::InputFormat::kJsonLines;
  engine::io::ReaderOptions options;
};

// The input of WithInputFlags' flags (--input must be given). The errors
// of InputLimitsFromArgs, then of InputFormatFromArgs.
absl::StatusOr<InputArgs> InputFromArgs(const Args& args);

// The options to compile model files with: the plugin host of --plugins
// (OpenPluginHost, plugins.h), opened into `*plugins`, which must outlive
// the options, and the YAML limits of the model limit flags (ModelLimits).
// InvalidArgument naming the flag, --plugins' first.
absl::StatusOr<engine::model::CompileOptions> CompileOptionsFromArgs(
    const Args& args,
    std::unique_ptr<engine::plugin_host::PluginHost>* plugins);

// Resolves the model named by flag --`flag` (ResolveModelPath: a file, a
// directory holding model.yaml, or numbered versions) and compiles it. On
// failure writes its errors and "healthscore COMMAND: --FLAG: ... has
// errors" to `err` and returns null. `resolved`, when not null, gets the
// path of the model file.
std::shared_ptr<const engine::model::CompiledModel> CompileModelArg(
    const std::string& command, const std::string& flag,
    const std::string& path, const engine::model::CompileOptions& options,
    std::ostream& err, std::string* resolved = nullptr);

// Writes each error of `diagnostics` to `err`, one a line (warnings are
// left out: a command that could not compile a model says why).
void PrintErrors(const engine::model::DiagnosticList& diagnostics,
                 std::ostream& err);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_INPUT_OPTIONS_H_
