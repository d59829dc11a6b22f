#include "cli/precision.h"

#include <cstdint>

namespace healthscore::cli {

std::vector<FlagSpec> WithPrecisionFlag(std::vector<FlagSpec> flags) {
  flags.push_back({"precision", true});
  return flags;
}

absl::StatusOr<engine::common::NumberFormat> NumberFormatFromArgs(
    const Args& args) {
  absl::StatusOr<int64_t> precision =
      args.GetInt("precision", 0, 1, engine::common::kMaxNumberPrecision);
  if (!precision.ok()) return precision.status();
  engine::common::NumberFormat format;
  format.precision = static_cast<int>(*precision);
  return format;
}

}  // namespace healthscore::cli
