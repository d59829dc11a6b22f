// Untrusted text and colours made safe for HTML and inline SVG.
//
// Every string a report shows comes from a model, a data file or a user
// (titles, ids, segment and playbook names); these functions are the only
// way the renderer writes such a string, so no string can open a tag, close
// an attribute or reorder the text around it.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_REPORT_HTML_TEXT_H_
#define HEALTHSCORE_ENGINE_REPORT_HTML_TEXT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace healthscore::engine::report {

// Appends `text` escaped for HTML text and for a quoted attribute value
// (the same escaping serves both, in HTML and in inline SVG):
//  - & < > " ' become &amp; &lt; &gt; &quot; &#39;;
//  - a byte that is not part of valid UTF-8, a control character other
//    than tab and line feed (C0, DEL, C1), and the invisible characters that
//    reorder or break text (U+2028, U+2029, the bidirectional overrides and
//    isolates U+202A-U+202E, U+2066-U+2069) each become U+FFFD, so the
//    output is valid UTF-8 and reads in the order it is written;
//  - everything else, other scripts included, is kept.
void AppendHtmlEscaped(std::string_view text, std::string* out);
std::string HtmlEscape(std::string_view text);

// `text` cut to at most `max_bytes` bytes at a character boundary, with
// "…" appended when cut, then escaped as AppendHtmlEscaped does. For
// labels that must fit (axis categories, legend entries, table cells).
std::string HtmlEscapeShort(std::string_view text, size_t max_bytes);

// `color` (surrounding spaces ignored) as a CSS colour the renderer may
// write into an attribute, lower-cased, or nullopt when it is not one of:
//  - #rgb, #rgba, #rrggbb, #rrggbbaa;
//  - rgb(), rgba(), hsl(), hsla() with numbers, %, deg, commas, spaces,
//    dots and / between the parentheses (at most 64 characters);
//  - a CSS named colour (CSS Color Module Level 4, e.g. teal, rebeccapurple)
//    or transparent.
// Everything else (currentColor, url(…), var(…), anything with quotes,
// semicolons or angle brackets) is refused: a refused colour is replaced by
// the palette, never written.
std::optional<std::string> NormalizeCssColor(std::string_view color);

// The default palette (colour-blind-safe, Okabe & Ito 2008, with a grey):
// colour `index` modulo its size.
std::string_view PaletteColor(size_t index);
inline constexpr size_t kPaletteSize = 8;

}  // namespace healthscore::engine::report

#endif  // HEALTHSCORE_ENGINE_REPORT_HTML_TEXT_H_
