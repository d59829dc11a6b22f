#include "cli/precision.h"

#include <cstdint>

namespace healthscore::cli {

std::vector<FlagSpec> WithPrecisionFlag(std::vector<FlagSpec> flags) {
  flags.push_back({"precision", true});
  return flags;
}

absl::StatusOr<engine::NumberFormat> NumberFormatFromArgs(const Args& args) {
  absl::StatusOr<int64_t> precision =
      args.GetInt("precision", 0, 1, engine::kMaxNumberPrecision);
  if (!precision.ok()) return precision.status();
  engine::NumberFormat format;
  format.precision = static_cast<int>(*precision);
  return format;
}

}  // namespace healthscore::cli
