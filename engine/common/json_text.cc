#include "engine/common/json_text.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/numeric/bits.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The bytes of `w` that need more than a copy (a control character, '"',
// '\\' or a byte of a multi-byte sequence), each marked by its high bit.
// Each term is the classic "has a byte less than n" / "has a zero byte"
// test: it never marks a byte below the first that needs escaping (a borrow
// only runs upward), so the lowest mark is exact; marks above it may not be.
inline uint64_t EscapeMarks(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const uint64_t control = (w - kOnes * 0x20) & ~w;
  const uint64_t q = w ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q;
  const uint64_t b = w ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b;
  return (control | quote | backslash | w) & kHigh;
}

inline bool PlainByte(unsigned char c) {
  return c >= 0x20 && c != '"' && c != '\\' && c < 0x80;
}

#if defined(__SSE2__)
// The bytes of the 16 at p that need more than a copy, one bit each (bit k
// for p[k]): a signed compare with 0x20 catches the control characters and
// every byte >= 0x80 at once.
inline uint32_t EscapeBits16(const unsigned char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  const __m128i quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(low, quote), backslash)));
}
#endif

// Length of the run of plain bytes (copied as they are) at the start of
// p[0, n). Sixteen bytes at a time where SSE2 is (every x86-64), else
// eight; the last bytes of a text at least that long are tested in one
// load that overlaps bytes already known to be plain, which are never
// marked; shorter texts byte by byte. Reads only p[0, n).
size_t PlainRun(const unsigned char* p, size_t n) {
#if defined(__SSE2__)
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      if (const uint32_t bits = EscapeBits16(p + i)) {
        return i + static_cast<size_t>(absl::countr_zero(bits));
      }
    }
    if (i == n) return n;
    const uint32_t bits = EscapeBits16(p + n - 16);
    return bits == 0 ? n
                     : n - 16 + static_cast<size_t>(absl::countr_zero(bits));
  }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n >= 8) {
    size_t i = 0;
    uint64_t w;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      if (const uint64_t marks = EscapeMarks(w)) {
        return i + static_cast<size_t>(absl::countr_zero(marks)) / 8;
      }
    }
    if (i == n) return n;
    std::memcpy(&w, p + n - 8, 8);
    const uint64_t marks = EscapeMarks(w);
    return marks == 0
               ? n
               : n - 8 + static_cast<size_t>(absl::countr_zero(marks)) / 8;
  }
#endif
  size_t i = 0;
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
