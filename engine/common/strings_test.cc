#include "engine/common/strings.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

TEST(CatTest, JoinsEveryKindOfPiece) {
  const std::string owned = "owned";
  const std::string_view view = "view";
  EXPECT_EQ(Cat("literal ", owned, " ", view, " ", 42, " ", 2.5, " ", -7L),
            "literal owned view 42 2.5 -7");
}

TEST(CatTest, KeepsEmbeddedNulsOfAView) {
  const std::string_view with_nul("a\0b", 3);
  EXPECT_EQ(Cat(with_nul, "c"), std::string("a\0bc", 4));
}

TEST(CatTest, NothingIsEmpty) { EXPECT_EQ(Cat(), ""); }

TEST(TrimTest, DropsAsciiWhitespaceAtBothEnds) {
  EXPECT_EQ(Trim(" \t\r\n\f\vx y\v\f\n\r\t "), "x y");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
}

TEST(SameBytesTest, EveryLengthAndEveryDifferingByte) {
  // Lengths around the word sizes the comparison loads, and a difference
  // at each position (including the bytes the overlapping loads share).
  for (size_t n = 0; n <= 40; ++n) {
    std::string a;
    for (size_t i = 0; i < n; ++i) a.push_back(static_cast<char>('a' + i % 26));
    std::string b = a;
    EXPECT_TRUE(SameBytes(a.data(), b.data(), n)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string c = a;
      c[i] = static_cast<char>(c[i] ^ 0x20);
      EXPECT_FALSE(SameBytes(a.data(), c.data(), n)) << n << " at " << i;
      EXPECT_FALSE(SameBytes(c.data(), a.data(), n)) << n << " at " << i;
    }
  }
  // Only the n bytes count.
  EXPECT_TRUE(SameBytes("segment-x", "segment-y", 8));
  EXPECT_TRUE(SameBytes("abc", "abd", 2));
  EXPECT_FALSE(SameBytes("abc", "abd", 3));
}

TEST(ToAbslTest, SameBytes) {
  const std::string_view s("a\0b", 3);
  const absl::string_view a = ToAbsl(s);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.data(), s.data());
}

}  // namespace
}  // namespace healthscore::engine::common
