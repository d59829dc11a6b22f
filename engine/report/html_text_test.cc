#include "engine/report/html_text.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::report {
namespace {

TEST(HtmlEscapeTest, EscapesMarkupCharacters) {
  EXPECT_EQ(HtmlEscape("</script><b>x</b>"),
            "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;");
  EXPECT_EQ(HtmlEscape("a & b"), "a &amp; b");
  EXPECT_EQ(HtmlEscape("\"x\" 'y'"), "&quot;x&quot; &#39;y&#39;");
  // An entity in the input is text, not an entity.
  EXPECT_EQ(HtmlEscape("&lt;"), "&amp;lt;");
}

TEST(HtmlEscapeTest, KeepsOtherScriptsTabsAndNewlines) {
  EXPECT_EQ(HtmlEscape("Zürich 東京 ok"), "Zürich 東京 ok");
  EXPECT_EQ(HtmlEscape("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(HtmlEscapeTest, ReplacesControlsInvalidUtf8AndReorderingCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(HtmlEscape(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(HtmlEscape("\x1b[31m"), fffd + "[31m");
  EXPECT_EQ(HtmlEscape("a\rb"), "a" + fffd + "b");
  EXPECT_EQ(HtmlEscape("del\x7f"), "del" + fffd);
  EXPECT_EQ(HtmlEscape("\xc2\x85"), fffd);  // NEL (C1)
  EXPECT_EQ(HtmlEscape("a\xff"
                       "b"),
            "a" + fffd + "b");                                // not UTF-8
  EXPECT_EQ(HtmlEscape("\xc0\xaf"), fffd + fffd);             // overlong '/'
  EXPECT_EQ(HtmlEscape("\xed\xa0\x80"), fffd + fffd + fffd);  // surrogate
  EXPECT_EQ(HtmlEscape("evil\u202Etxt"), "evil" + fffd + "txt");
  EXPECT_EQ(HtmlEscape("\u2066x\u2069"), fffd + "x" + fffd);
  EXPECT_EQ(HtmlEscape("a\u2028b"), "a" + fffd + "b");
  // A cut multi-byte sequence before markup does not swallow the markup.
  EXPECT_EQ(HtmlEscape("\xe6\x9d<b>"), fffd + fffd + "&lt;b&gt;");
}

TEST(HtmlEscapeShortTest, CutsAtCharacterBoundaryAndMarksTheCut) {
  EXPECT_EQ(HtmlEscapeShort("abc", 3), "abc");
  EXPECT_EQ(HtmlEscapeShort("abcdef", 4), "abcd…");
  // "é" is two bytes: 5 bytes hold two of them.
  EXPECT_EQ(HtmlEscapeShort("ééé", 5), "éé…");
  // The cut happens before escaping: 2 bytes of "<<<" are two "&lt;".
  EXPECT_EQ(HtmlEscapeShort("<<<", 2), "&lt;&lt;…");
  EXPECT_EQ(HtmlEscapeShort(std::string(100000, 'x'), 10),
            std::string(10, 'x') + "…");
}

TEST(NormalizeCssColorTest, AcceptsHexForms) {
  EXPECT_EQ(NormalizeCssColor("#2e7d32"), "#2e7d32");
  EXPECT_EQ(NormalizeCssColor("  #2E7D32 "), "#2e7d32");
  EXPECT_EQ(NormalizeCssColor("#abc"), "#abc");
  EXPECT_EQ(NormalizeCssColor("#abcd"), "#abcd");
  EXPECT_EQ(NormalizeCssColor("#2e7d32cc"), "#2e7d32cc");
}

TEST(NormalizeCssColorTest, AcceptsFunctionsAndNames) {
  EXPECT_EQ(NormalizeCssColor("rgb(46, 125, 50)"), "rgb(46, 125, 50)");
  EXPECT_EQ(NormalizeCssColor("RGBA(46,125,50,0.5)"), "rgba(46,125,50,0.5)");
  EXPECT_EQ(NormalizeCssColor("rgb(46 125 50 / 50%)"), "rgb(46 125 50 / 50%)");
  EXPECT_EQ(NormalizeCssColor("hsl(120deg, 50%, 40%)"),
            "hsl(120deg, 50%, 40%)");
  EXPECT_EQ(NormalizeCssColor("Teal"), "teal");
  EXPECT_EQ(NormalizeCssColor("rebeccapurple"), "rebeccapurple");
  EXPECT_EQ(NormalizeCssColor("aliceblue"), "aliceblue");      // first name
  EXPECT_EQ(NormalizeCssColor("yellowgreen"), "yellowgreen");  // last name
  EXPECT_EQ(NormalizeCssColor("transparent"), "transparent");
}

TEST(NormalizeCssColorTest, RefusesAnythingElse) {
  for (const char* bad : {"",
                          "   ",
                          "#12",
                          "#12345",
                          "#1234567",
                          "#ggg",
                          "notacolor",
                          "currentColor",
                          "inherit",
                          "url(#x)",
                          "var(--c)",
                          "red\" onload=\"x",
                          "red;background:url(http://x)",
                          "<b>",
                          "rgb(1,2,3",
                          "rgb()",
                          "rgb(a,b,c)",
                          "rgb(1,2,3) x",
                          "expression(1)",
                          "hsl(120turn,1%,1%)",
                          "#fff\"",
                          "red red"}) {
    EXPECT_EQ(NormalizeCssColor(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(NormalizeCssColor(std::string(65, 'a')), std::nullopt);
  EXPECT_EQ(NormalizeCssColor("rgb(" + std::string(70, '1') + ")"),
            std::nullopt);
}

TEST(PaletteColorTest, CyclesThroughValidColours) {
  for (size_t i = 0; i < kPaletteSize; ++i) {
    EXPECT_EQ(NormalizeCssColor(PaletteColor(i)), std::string(PaletteColor(i)));
    for (size_t j = 0; j < i; ++j) EXPECT_NE(PaletteColor(i), PaletteColor(j));
  }
  EXPECT_EQ(PaletteColor(kPaletteSize), PaletteColor(0));
}

}  // namespace
}  // namespace healthscore::engine::report
