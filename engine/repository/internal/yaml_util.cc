#include "engine/repository/internal/yaml_util.h"

#include <string>
#include <string_view>

namespace healthscore::engine::repository::internal {

void LocateScalar(std::string_view text, const std::string& file,
                  const YAML::Node& node, model::ExprSource* out) {
  out->location = NodeLocation(file, node);
  out->block_column = 0;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.pos < 0 ||
      static_cast<size_t>(mark.pos) >= text.size()) {
    return;
  }
  const char c = text[static_cast<size_t>(mark.pos)];
  if (c == '"' || c == '\'') {
    out->location.column += 1;
    return;
  }
  if (c == '|' || c == '>') {
    // The text starts on the next non-blank line, at its indentation.
    size_t pos = text.find('\n', static_cast<size_t>(mark.pos));
    int line = out->location.line;
    while (pos != std::string_view::npos) {
      ++line;
      const size_t start = pos + 1;
      size_t end = text.find('\n', start);
      std::string_view raw = text.substr(
          start, end == std::string_view::npos ? std::string_view::npos
                                               : end - start);
      const size_t indent = raw.find_first_not_of(' ');
      if (indent != std::string_view::npos) {
        out->location.line = line;
        out->location.column = static_cast<int>(indent) + 1;
        out->block_column = out->location.column;
        return;
      }
      pos = end;
    }
  }
}

}  // namespace healthscore::engine::repository::internal
