#include "engine/report/html_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

#include "engine/common/display.h"

namespace healthscore::engine::report {
using common::DecodeUtf8;

namespace {

// Characters a report never shows as they are: controls (tab and line feed
// lay text out and are kept), and the invisible characters that break lines
// or reorder the text around them.
bool IsReplaced(uint32_t cp) {
  return (cp < 0x20 && cp != '\t' && cp != '\n') ||
         (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// CSS Color Module Level 4, section 6.1 (named colours), sorted for
// binary search.
// clang-format off
constexpr std::string_view kNamedColors[] = {
    "aliceblue", "antiquewhite", "aqua", "aquamarine", "azure", "beige",
    "bisque", "black", "blanchedalmond", "blue", "blueviolet", "brown",
    "burlywood", "cadetblue", "chartreuse", "chocolate", "coral",
    "cornflowerblue", "cornsilk", "crimson", "cyan", "darkblue", "darkcyan",
    "darkgoldenrod", "darkgray", "darkgreen", "darkgrey", "darkkhaki",
    "darkmagenta", "darkolivegreen", "darkorange", "darkorchid", "darkred",
    "darksalmon", "darkseagreen", "darkslateblue", "darkslategray",
    "darkslategrey", "darkturquoise", "darkviolet", "deeppink", "deepskyblue",
    "dimgray", "dimgrey", "dodgerblue", "firebrick", "floralwhite",
    "forestgreen", "fuchsia", "gainsboro", "ghostwhite", "gold", "goldenrod",
    "gray", "green", "greenyellow", "grey", "honeydew", "hotpink",
    "indianred", "indigo", "ivory", "khaki", "lavender", "lavenderblush",
    "lawngreen", "lemonchiffon", "lightblue", "lightcoral", "lightcyan",
    "lightgoldenrodyellow", "lightgray", "lightgreen", "lightgrey",
    "lightpink", "lightsalmon", "lightseagreen", "lightskyblue",
    "lightslategray", "lightslategrey", "lightsteelblue", "lightyellow",
    "lime", "limegreen", "linen", "magenta", "maroon", "mediumaquamarine",
    "mediumblue", "mediumorchid", "mediumpurple", "mediumseagreen",
    "mediumslateblue", "mediumspringgreen", "mediumturquoise",
    "mediumvioletred", "midnightblue", "mintcream", "mistyrose", "moccasin",
    "navajowhite", "navy", "oldlace", "olive", "olivedrab", "orange",
    "orangered", "orchid", "palegoldenrod", "palegreen", "paleturquoise",
    "palevioletred", "papayawhip", "peachpuff", "peru", "pink", "plum",
    "powderblue", "purple", "rebeccapurple", "red", "rosybrown", "royalblue",
    "saddlebrown", "salmon", "sandybrown", "seagreen", "seashell", "sienna",
    "silver", "skyblue", "slateblue", "slategray", "slategrey", "snow",
    "springgreen", "steelblue", "tan", "teal", "thistle", "tomato",
    "transparent", "turquoise", "violet", "wheat", "white", "whitesmoke",
    "yellow", "yellowgreen"};
// clang-format on

// Okabe & Ito (2008), "Color Universal Design": distinguishable with the
// common colour-vision deficiencies. Yellow is left out (too light on
// white) and a grey closes the cycle.
constexpr std::array<std::string_view, kPaletteSize> kPalette = {
    "#0072b2", "#e69f00", "#009e73", "#d55e00",
    "#56b4e9", "#cc79a7", "#000000", "#999999"};

// The entity that stands for `c` in text and attribute values, or empty.
std::string_view Entity(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    case '\'':
      return "&#39;";
    default:
      return {};
  }
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

void AppendHtmlEscaped(std::string_view text, std::string* out) {
  out->reserve(out->size() + text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (const std::string_view entity = Entity(c); !entity.empty()) {
      out->append(entity.data(), entity.size());
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t length = DecodeUtf8(text, i, &cp);
    if (length == 0) {
      out->append(kReplacement);
      ++i;
      continue;
    }
    if (IsReplaced(cp)) {
      out->append(kReplacement);
    } else {
      out->append(text.data() + i, length);
    }
    i += length;
  }
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  AppendHtmlEscaped(text, &out);
  return out;
}

std::string HtmlEscapeShort(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return HtmlEscape(text);
  // Cut before a continuation byte never splits a character; a broken
  // sequence left at the cut is replaced by the escaping like any other.
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  std::string out = HtmlEscape(text.substr(0, cut));
  out.append("\xE2\x80\xA6");  // …
  return out;
}

std::optional<std::string> NormalizeCssColor(std::string_view color) {
  while (!color.empty() && (color.front() == ' ' || color.front() == '\t')) {
    color.remove_prefix(1);
  }
  while (!color.empty() && (color.back() == ' ' || color.back() == '\t')) {
    color.remove_suffix(1);
  }
  if (color.empty() || color.size() > 64) return std::nullopt;
  std::string lower(color);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower[0] == '#') {
    const size_t digits = lower.size() - 1;
    if (digits != 3 && digits != 4 && digits != 6 && digits != 8) {
      return std::nullopt;
    }
    for (size_t i = 1; i < lower.size(); ++i) {
      if (!IsHex(lower[i])) return std::nullopt;
    }
    return lower;
  }
  for (std::string_view fn : {"rgb(", "rgba(", "hsl(", "hsla("}) {
    if (lower.compare(0, fn.size(), fn) != 0) continue;
    if (lower.back() != ')') return std::nullopt;
    bool any_digit = false;
    for (size_t i = fn.size(); i + 1 < lower.size(); ++i) {
      const char c = lower[i];
      if (c >= '0' && c <= '9') {
        any_digit = true;
        continue;
      }
      // "deg" is the only unit a hue takes here: its letters are allowed,
      // and no other letters are.
      if (c == '.' || c == ',' || c == ' ' || c == '%' || c == '/' ||
          c == '-' || c == '+' || c == 'd' || c == 'e' || c == 'g') {
        continue;
      }
      return std::nullopt;
    }
    if (!any_digit) return std::nullopt;
    return lower;
  }
  if (std::binary_search(std::begin(kNamedColors), std::end(kNamedColors),
                         std::string_view(lower))) {
    return lower;
  }
  return std::nullopt;
}

std::string_view PaletteColor(size_t index) {
  return kPalette[index % kPalette.size()];
}

}  // namespace healthscore::engine::report
