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

TEST(ToAbslTest, SameBytes) {
  const std::string_view s("a\0b", 3);
  const absl::string_view a = ToAbsl(s);
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a.data(), s.data());
}

}  // namespace
}  // namespace healthscore::engine::common
