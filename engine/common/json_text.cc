#include "engine/common/json_text.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace healthscore::engine::common {
namespace {

// Length of the valid UTF-8 sequence starting at s[0], or 0 if invalid.
size_t Utf8SequenceLength(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t min;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// True when some byte of `w` (eight bytes, any order) needs more than a
// copy: a control character, '"', '\\' or a byte of a multi-byte sequence.
// Exact, not a heuristic: each term is the classic "has a byte less than n"
// / "has a zero byte" test, which never reports a byte that is absent.
inline bool WordNeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t b = w ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b;
  return ((control | quote | backslash | w) & kHigh) != 0;
}

inline bool PlainByte(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

// Length of the run of plain bytes (copied as they are) at the start of
// p[0, n): eight at a time while no byte of a word needs escaping.
size_t PlainRun(const unsigned char* p, size_t n) {
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (WordNeedsEscape(w)) break;
    i += 8;
  }
  while (i < n && PlainByte(p[i])) ++i;
  return i;
}

// One writer for both kinds of output (std::string, TextBuffer): they
// append the same way.
template <typename Out>
void EscapeInto(std::string_view s, Out* out) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const size_t run = PlainRun(p + i, n - i);
    if (run > 0) {
      out->append(s.data() + i, run);
      i += run;
      if (i == n) break;
    }
    const unsigned char c = p[i];
    switch (c) {
      case '"':
        out->append("\\\"");
        ++i;
        continue;
      case '\\':
        out->append("\\\\");
        ++i;
        continue;
      case '\n':
        out->append("\\n");
        ++i;
        continue;
      case '\r':
        out->append("\\r");
        ++i;
        continue;
      case '\t':
        out->append("\\t");
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(u, 6);
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(p + i, n - i);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD
      ++i;
    } else {
      out->append(s.data() + i, len);
      i += len;
    }
  }
}

template <typename Out>
void QuoteInto(std::string_view s, Out* out) {
  out->push_back('"');
  EscapeInto(s, out);
  out->push_back('"');
}

// The writers leave missing values out, and what they write is finite by
// construction; should a non-finite value come, null keeps the output valid
// JSON.
template <typename Out>
void NumberInto(double value, NumberFormat format, Out* out) {
  if (!std::isfinite(value)) {
    out->append("null", 4);
    return;
  }
  AppendNumber(value, out, format);
}

}  // namespace

void AppendJsonEscaped(std::string_view s, std::string* out) {
  EscapeInto(s, out);
}
void AppendJsonEscaped(std::string_view s, TextBuffer* out) {
  EscapeInto(s, out);
}
void AppendJsonString(std::string_view s, std::string* out) {
  QuoteInto(s, out);
}
void AppendJsonString(std::string_view s, TextBuffer* out) {
  QuoteInto(s, out);
}
void AppendJsonNumber(double value, NumberFormat format, std::string* out) {
  NumberInto(value, format, out);
}
void AppendJsonNumber(double value, NumberFormat format, TextBuffer* out) {
  NumberInto(value, format, out);
}

}  // namespace healthscore::engine::common
