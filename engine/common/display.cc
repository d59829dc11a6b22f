#include "engine/common/display.h"

#include <cstdint>
#include <cstdio>

namespace healthscore::engine::common {
namespace {

// Code points shown as \uHHHH: invisible, or able to move or reorder the
// text around them.
bool IsHiddenFormat(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[i + k]);
  };
  const unsigned char b0 = byte(0);
  size_t length = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return length;
}

std::string TruncateForDisplay(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(text.size() < max_bytes ? text.size() : max_bytes);
  char escape[16];
  size_t i = 0;
  while (i < text.size()) {
    uint32_t cp = 0;
    const size_t length = DecodeUtf8(text, i, &cp);
    std::string_view piece;
    if (length == 0) {
      std::snprintf(escape, sizeof(escape), "\\x%02X",
                    static_cast<unsigned char>(text[i]));
      piece = escape;
    } else if (cp == '\n') {
      piece = "\\n";
    } else if (cp == '\r') {
      piece = "\\r";
    } else if (cp == '\t') {
      piece = "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(escape, sizeof(escape), "\\x%02X", cp);
      piece = escape;
    } else if (IsHiddenFormat(cp)) {
      std::snprintf(escape, sizeof(escape), "\\u%04X", cp);
      piece = escape;
    } else {
      piece = text.substr(i, length);
    }
    if (out.size() + piece.size() > max_bytes) {
      out.append("…(");
      out.append(std::to_string(text.size()));
      out.append(" bytes)");
      return out;
    }
    out.append(piece);
    i += length == 0 ? 1 : length;
  }
  return out;
}

std::string JoinForDisplay(const std::vector<std::string>& items,
                           size_t max_items, size_t max_item_bytes) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i == max_items) {
      out.append(i == 0 ? "… and " : ", … and ");
      out.append(std::to_string(items.size() - i));
      out.append(" more");
      break;
    }
    if (i > 0) out.append(", ");
    out.append(TruncateForDisplay(items[i], max_item_bytes));
  }
  return out;
}

std::string WithThousandsSeparators(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace healthscore::engine::common
