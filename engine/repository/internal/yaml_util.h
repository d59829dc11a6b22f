// YAML helpers shared by the repository's config parser and lint.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_YAML_UTIL_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_YAML_UTIL_H_

#include <string>
#include <string_view>

#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::repository::internal {

// The 1-based location of `node` in `file`.
inline model::SourceLocation NodeLocation(const std::string& file,
                                          const YAML::Node& node) {
  model::SourceLocation loc{file, 0, 0};
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null() && mark.line >= 0) {
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
  }
  return loc;
}

// Sets out->location (and block_column) to where the text of scalar `node`
// starts in `text` (the whole file): past an opening quote, or on the first
// line of a block scalar.
void LocateScalar(std::string_view text, const std::string& file,
                  const YAML::Node& node, model::ExprSource* out);

}  // namespace healthscore::engine::repository::internal

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_YAML_UTIL_H_
