// Test-only: the YAML "billion laughs" the node limit of
// engine/common/yaml_reader.h exists for, one text for every YAML front
// end's test (model files, repository configs, tests.yaml, the server's
// --config), so that each proves the limit on the same input.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_COMMON_TESTING_YAML_BOMBS_H_
#define HEALTHSCORE_ENGINE_COMMON_TESTING_YAML_BOMBS_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace healthscore::engine::common::testing {

// Nine levels of nine aliases each, every line prefixed with `indent`:
// "a0: &a0 [x, ...]" then "aN: &aN [*aN-1, ...]" for N = 1..8. About 400
// bytes that expand to 9^9 (387 million) nodes. With the default limit of
// 1,000,000 nodes the count crosses it at the first alias of line 7, `*a5`
// (column 10 without an indent); yaml_reader_test.cc works the numbers out.
inline std::string AliasBomb(const std::string& indent = "") {
  std::string text =
      absl::StrCat(indent, "a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
  for (int level = 1; level < 9; ++level) {
    absl::StrAppend(&text, indent, "a", level, ": &a", level, " [");
    for (int i = 0; i < 9; ++i) {
      absl::StrAppend(&text, i == 0 ? "" : ", ", "*a", level - 1);
    }
    absl::StrAppend(&text, "]\n");
  }
  return text;
}

}  // namespace healthscore::engine::common::testing

#endif  // HEALTHSCORE_ENGINE_COMMON_TESTING_YAML_BOMBS_H_
