#include "engine/expr/parser.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::expr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Canon(const std::string& text) {
  ParseResult r = Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error.message;
  return r.ok() ? ToString(*r.root) : "";
}

TEST(ParserTest, PrecedenceFollowsCel) {
  EXPECT_EQ(Canon("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(Canon("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(Canon("a < b && c || d"), "(((a < b) && c) || d)");
  EXPECT_EQ(Canon("!a && b"), "(!(a) && b)");
  EXPECT_EQ(Canon("a ? b : c ? d : e"), "(a ? b : (c ? d : e))");
  EXPECT_EQ(Canon("-x * 2"), "(-(x) * 2)");
  EXPECT_EQ(Canon("-3"), "-3");
}

TEST(ParserTest, LiteralsNamesCallsAndLists) {
  EXPECT_EQ(Canon("1.5e3 + .5"), "(1500 + 0.5)");
  EXPECT_EQ(Canon("'smb' == segment"), "(\"smb\" == segment)");
  EXPECT_EQ(Canon("groups.usage >= 70"), "(groups.usage >= 70)");
  EXPECT_EQ(Canon("mean_last(wau, 4)"), "mean_last(wau, 4)");
  EXPECT_EQ(Canon("segment in [\"smb\", 'mid_market']"),
            "(segment in [\"smb\", \"mid_market\"])");
  EXPECT_EQ(Canon("has(x) && true"), "(has(x) && true)");
}

TEST(ParserTest, ReportsPositionOfErrors) {
  ParseResult r = Parse("score > ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.pos.column, 9);
  EXPECT_THAT(r.error.message, HasSubstr("expression ends too early"));

  r = Parse("a = b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.pos.column, 3);
  EXPECT_THAT(r.error.message, HasSubstr("'=' is not an operator"));

  r = Parse("a &&\n  (b || c");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.pos.line, 2);
  EXPECT_THAT(r.error.message, HasSubstr("expected ')'"));
}

TEST(ParserTest, ComparisonsDoNotChain) {
  ParseResult r = Parse("1 < x < 3");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error.hint, HasSubstr("comparisons do not chain"));
}

TEST(ParserTest, InNeedsAList) {
  ParseResult r = Parse("segment in smb");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error.message, HasSubstr("expected a list after 'in'"));
}

TEST(ParserTest, UnterminatedStringAndBadCharacters) {
  EXPECT_THAT(Parse("x == \"abc").error.message,
              HasSubstr("unterminated string"));
  EXPECT_THAT(Parse("x # 2").error.message,
              HasSubstr("unexpected character '#'"));
  EXPECT_THAT(Parse("1.2.3").error.message, HasSubstr("malformed number"));
}

TEST(ParserTest, DeepNestingIsRejectedNotCrashed) {
  std::string deep(10000, '(');
  ParseResult r = Parse(deep + "1" + std::string(10000, ')'));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error.message, HasSubstr("nested deeper than"));
  r = Parse(std::string(10000, '!') + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error.message, HasSubstr("nested deeper than"));
}

TEST(ParserTest, CollectsIdentifiersOnce) {
  ParseResult r = Parse("a + b * a > f(c, groups.x)");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> ids;
  CollectIdentifiers(*r.root, &ids);
  EXPECT_THAT(ids, ElementsAre("a", "b", "c", "groups.x"));
}

TEST(ParserTest, JunkNeverCrashes) {
  const char* junk[] = {"", " ", ")", "(", "[", "]", ",", "?", ":", "a ?",
                        "a ? b", "f(", "f(,)", "[1,", "'", "\"\\", "..",
                        "a.", "a..b", "1e", "1e+", "&&", "||", "!", "-",
                        "in", "a in [", "\xff\xfe", "a\n\n\n)"};
  for (const char* j : junk) {
    ParseResult r = Parse(j);
    if (!r.ok()) {
      EXPECT_FALSE(r.error.message.empty()) << j;
    }
  }
}

}  // namespace
}  // namespace healthscore::engine::expr
