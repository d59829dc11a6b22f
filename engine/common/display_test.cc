#include "engine/common/display.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(TruncateForDisplayTest, ShortPrintableTextIsUnchanged) {
  EXPECT_EQ(TruncateForDisplay(""), "");
  EXPECT_EQ(TruncateForDisplay("churn-v2"), "churn-v2");
  EXPECT_EQ(TruncateForDisplay("Zürich 東京 ok"), "Zürich 東京 ok");
  EXPECT_EQ(TruncateForDisplay("a\\b 'c' \"d\""), "a\\b 'c' \"d\"");
}

TEST(TruncateForDisplayTest, EscapesControlCharacters) {
  EXPECT_EQ(TruncateForDisplay("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(TruncateForDisplay(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(TruncateForDisplay("\x1b[31mred"), "\\x1B[31mred");
  EXPECT_EQ(TruncateForDisplay("del\x7f"), "del\\x7F");
}

TEST(TruncateForDisplayTest, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(TruncateForDisplay("a\xff" "b"), "a\\xFFb");
  EXPECT_EQ(TruncateForDisplay("\xc3"), "\\xC3");           // cut sequence
  EXPECT_EQ(TruncateForDisplay("\xc0\xaf"), "\\xC0\\xAF");  // overlong '/'
  EXPECT_EQ(TruncateForDisplay("\xed\xa0\x80"),            // surrogate
            "\\xED\\xA0\\x80");
  EXPECT_EQ(TruncateForDisplay("\xf4\x90\x80\x80"),        // past U+10FFFF
            "\\xF4\\x90\\x80\\x80");
}

TEST(TruncateForDisplayTest, EscapesInvisibleFormatCharacters) {
  EXPECT_EQ(TruncateForDisplay("a\u2028b"), "a\\u2028b");
  EXPECT_EQ(TruncateForDisplay("evil\u202Etxt.exe"), "evil\\u202Etxt.exe");
  EXPECT_EQ(TruncateForDisplay("\u2066x\u2069"), "\\u2066x\\u2069");
  EXPECT_EQ(TruncateForDisplay("\xc2\x85"), "\\u0085");  // NEL
}

TEST(TruncateForDisplayTest, LongTextIsCutAndSaysItsSize) {
  const std::string name(100000, 'm');
  const std::string shown = TruncateForDisplay(name);
  EXPECT_EQ(shown, std::string(128, 'm') + "…(100000 bytes)");
  EXPECT_EQ(TruncateForDisplay("abcdef", 4), "abcd…(6 bytes)");
  EXPECT_EQ(TruncateForDisplay("abcd", 4), "abcd");
  EXPECT_EQ(TruncateForDisplay("abc", 0), "…(3 bytes)");
}

TEST(TruncateForDisplayTest, CutsAtCharacterBoundaries) {
  // "é" is 2 bytes: 3 of them do not fit in 5 bytes.
  EXPECT_EQ(TruncateForDisplay("ééé", 5), "éé…(6 bytes)");
  // An escape is not split either.
  EXPECT_EQ(TruncateForDisplay("ab\n", 3), "ab…(3 bytes)");
  // Escapes count towards the limit: 100 KB of NULs stays short.
  const std::string shown = TruncateForDisplay(std::string(100000, '\0'));
  EXPECT_LE(shown.size(), kDisplayMaxBytes + 32);
  EXPECT_THAT(shown, StartsWith("\\x00\\x00"));
  EXPECT_THAT(shown, EndsWith("…(100000 bytes)"));
}

TEST(JoinForDisplayTest, JoinsAndCapsTheList) {
  EXPECT_EQ(JoinForDisplay({}), "");
  EXPECT_EQ(JoinForDisplay({"a", "b\nc"}), "a, b\\nc");
  std::vector<std::string> many;
  for (int i = 0; i < 25; ++i) many.push_back("m" + std::to_string(i));
  EXPECT_EQ(JoinForDisplay(many, 3), "m0, m1, m2, … and 22 more");
  EXPECT_EQ(JoinForDisplay(many, 0), "… and 25 more");
  EXPECT_EQ(JoinForDisplay({std::string(300, 'x')}, 20, 4),
            "xxxx…(300 bytes)");
}

TEST(WithThousandsSeparatorsTest, GroupsDigitsByThrees) {
  EXPECT_EQ(WithThousandsSeparators(0), "0");
  EXPECT_EQ(WithThousandsSeparators(999), "999");
  EXPECT_EQ(WithThousandsSeparators(1000), "1,000");
  EXPECT_EQ(WithThousandsSeparators(123456), "123,456");
  EXPECT_EQ(WithThousandsSeparators(1234567), "1,234,567");
  EXPECT_EQ(WithThousandsSeparators(UINT64_MAX),
            "18,446,744,073,709,551,615");
}

}  // namespace
}  // namespace healthscore::engine::common
