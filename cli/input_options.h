// The input options of the commands that read snapshots (`score`, `diff`,
// `bench`): their flags, help text and engine::io::ReaderOptions.

#ifndef HEALTHSCORE_CLI_INPUT_OPTIONS_H_
#define HEALTHSCORE_CLI_INPUT_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/io/snapshot_reader.h"

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

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_INPUT_OPTIONS_H_
