#include "cli/model_limits.h"

#include <cstdint>
#include <limits>

namespace healthscore::cli {

std::vector<FlagSpec> WithModelLimitFlags(std::vector<FlagSpec> flags) {
  flags.push_back({"max-model-bytes", true});
  flags.push_back({"max-yaml-nodes", true});
  return flags;
}

absl::StatusOr<engine::common::YamlLimits> ModelLimits(const Args& args) {
  engine::common::YamlLimits limits;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  absl::StatusOr<int64_t> bytes = args.GetInt(
      "max-model-bytes", static_cast<int64_t>(limits.max_bytes), 1, kMax);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<int64_t> nodes = args.GetInt(
      "max-yaml-nodes", static_cast<int64_t>(limits.max_nodes), 1, kMax);
  if (!nodes.ok()) return nodes.status();
  limits.max_bytes = static_cast<size_t>(*bytes);
  limits.max_nodes = static_cast<uint64_t>(*nodes);
  return limits;
}

}  // namespace healthscore::cli
