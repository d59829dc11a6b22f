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

#include <cstdint>
#include <cstring>
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

// Whether the n bytes at a and b are equal, for the few bytes of a name
// (a section, a JSON key, a string input's value): word loads, the last
// one overlapping, and no call to memcmp, which costs more than the
// comparison for names this short. Reads exactly the n bytes at each.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    uint64_t x;
    uint64_t y;
    for (size_t i = 0; i + 8 < n; i += 8) {
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    uint32_t x[2];
    uint32_t y[2];
    std::memcpy(&x[0], a, 4);
    std::memcpy(&x[1], a + n - 4, 4);
    std::memcpy(&y[0], b, 4);
    std::memcpy(&y[1], b + n - 4, 4);
    return x[0] == y[0] && x[1] == y[1];
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
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
