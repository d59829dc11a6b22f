// String helpers that take std::string_view, for the engine's messages.
//
// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so absl::StrCat does not take std::string_view. Cat
// does; readers (engine/io) and the tests.yaml runner (engine/model_tests)
// build their error messages with it, on error paths only.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_COMMON_STRINGS_H_
#define HEALTHSCORE_ENGINE_COMMON_STRINGS_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace healthscore::engine::common {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

inline void AppendPiece(std::string* out, std::string_view s) {
  out->append(s.data(), s.size());
}
inline void AppendPiece(std::string* out, const char* s) { out->append(s); }
inline void AppendPiece(std::string* out, const std::string& s) {
  out->append(s);
}
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T> &&
                                                  !std::is_same_v<T, char> &&
                                                  !std::is_same_v<T, bool>>>
void AppendPiece(std::string* out, T value) {
  absl::StrAppend(out, value);
}

// Concatenates strings (std::string_view, std::string, const char*) and
// numbers (formatted as absl::StrCat formats them).
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(&out, args), ...);
  return out;
}

// `s` without leading and trailing ASCII whitespace.
inline std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' ||
                   s[b] == '\n' || s[b] == '\f' || s[b] == '\v')) {
    ++b;
  }
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' ||
                   s[e - 1] == '\n' || s[e - 1] == '\f' || s[e - 1] == '\v')) {
    --e;
  }
  return s.substr(b, e - b);
}

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_STRINGS_H_
