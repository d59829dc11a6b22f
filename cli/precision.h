// The --precision option of the commands that write numbers (score, diff,
// test): how engine/common/number_format.h writes them.

#ifndef HEALTHSCORE_CLI_PRECISION_H_
#define HEALTHSCORE_CLI_PRECISION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/common/number_format.h"

namespace healthscore::cli {

// Help text for the option, to paste into a command's usage.
inline constexpr char kPrecisionHelp[] =
    "  --precision N         write numbers rounded to at most N significant\n"
    "                        digits, 1 to 17 (default: exact, the shortest\n"
    "                        text that reads back to the same number)\n";

// `flags` with --precision added, for Args::Parse.
std::vector<FlagSpec> WithPrecisionFlag(std::vector<FlagSpec> flags);

// The number format --precision asks for (exact when absent).
// InvalidArgument naming the option for a value that is not an integer
// from 1 to engine::kMaxNumberPrecision.
absl::StatusOr<engine::common::NumberFormat> NumberFormatFromArgs(
    const Args& args);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_PRECISION_H_
