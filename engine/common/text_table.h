// Plain-text tables for reports people read in a terminal: every column
// padded to its widest cell, the first column left-aligned and the others
// right-aligned (numbers), two blanks between columns, trailing blanks cut.
// Widths count bytes, so cells are expected to be short ASCII-ish text
// (names pass through TruncateForDisplay before they get here).
//
// Thread-safety: a pure function.

#ifndef HEALTHSCORE_ENGINE_COMMON_TEXT_TABLE_H_
#define HEALTHSCORE_ENGINE_COMMON_TEXT_TABLE_H_

#include <algorithm>
#include <string>
#include <vector>

namespace healthscore::engine::common {

// The rows as lines, each starting with `indent` and ending with "\n".
inline std::string TextTable(const std::vector<std::vector<std::string>>& rows,
                             const std::string& indent) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      if (c == 0) {
        line.append(row[c]).append(pad);
      } else {
        line.append("  ").append(pad).append(row[c]);
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.append(line).push_back('\n');
  }
  return out;
}

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_TEXT_TABLE_H_
