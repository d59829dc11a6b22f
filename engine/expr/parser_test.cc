#include "engine/expr/parser.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/expr/testing/limit_shapes.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::expr {
namespace {

using ::healthscore::engine::expr::testing::Chain;
using ::healthscore::engine::expr::testing::CountNodes;
using ::healthscore::engine::expr::testing::Nest;
using ::healthscore::engine::expr::testing::Repeat;
using ::healthscore::engine::expr::testing::Shape;
using ::healthscore::engine::expr::testing::ShapesAtTheLimit;
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

constexpr char kTooDeep[] =
    "expression is nested too deeply: more than 256 levels (every operator, "
    "call, list and pair of parentheses is one level; a + b + c is two)";
constexpr char kTooDeepHint[] =
    "split it into derived values, or group a long chain with parentheses: "
    "(a + b + c) + (d + e + f)";
constexpr char kTooLarge[] =
    "expression is too large: more than 10000 names, literals, operators and "
    "calls";

// The error of `text`, as "line:column: message".
std::string ErrorOf(const std::string& text) {
  ParseResult r = Parse(text);
  EXPECT_FALSE(r.ok());
  return absl::StrCat(r.error.pos.line, ":", r.error.pos.column, ": ",
                      r.error.message);
}

TEST(ParserTest, LimitsAreTheDocumentedOnes) {
  // docs/model-format.md ("Limits") and the messages below name them.
  EXPECT_EQ(ExpressionLimits::kMaxLength, 65536u);
  EXPECT_EQ(ExpressionLimits::kMaxNodes, 10000);
  EXPECT_EQ(ExpressionLimits::kMaxDepth, 256);
}

TEST(ParserTest, LongFlatChainIsTooDeepAtTheOperatorPastTheLimit) {
  // 9,000 terms, 36 KB: used to overflow the checker's stack. The 257th '+'
  // (column 4 * 257 - 1) makes the tree 257 levels deep.
  const std::string sum = Chain("x", " + ", 8999);
  EXPECT_EQ(ErrorOf(sum), absl::StrCat("1:1027: ", kTooDeep));
  EXPECT_EQ(Parse(sum).error.hint, kTooDeepHint);
  // Any operator, and across lines.
  EXPECT_EQ(ErrorOf(Chain("a", " && ", 8999)),
            absl::StrCat("1:", 5 * 256 + 3, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Chain("a", " ||\n", 8999)),
            absl::StrCat("257:3: ", kTooDeep));
  EXPECT_EQ(ErrorOf(Chain("2", "*", 300)), absl::StrCat("1:514: ", kTooDeep));
}

TEST(ParserTest, DeepNestingIsRejectedAtTheFirstLevelTooMany) {
  EXPECT_EQ(ErrorOf(Nest("(", "1", ")", 10000)),
            absl::StrCat("1:257: ", kTooDeep));
  EXPECT_EQ(ErrorOf(Repeat("!", 10000) + "x"),
            absl::StrCat("1:257: ", kTooDeep));
  EXPECT_EQ(ErrorOf(Repeat("-", 10000) + "1"),
            absl::StrCat("1:257: ", kTooDeep));
  // "x > 1 ? 1 : " is 12 characters; the 257th '?' opens level 257.
  EXPECT_EQ(ErrorOf(Repeat("x > 1 ? 1 : ", 5000) + "0"),
            absl::StrCat("1:", 12 * 257 - 5, ": ", kTooDeep));
  // The '(' of the 257th call.
  EXPECT_EQ(ErrorOf(Nest("abs(", "x", ")", 10000)),
            absl::StrCat("1:", 4 * 257, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Nest("[", "x", "]", 10000)),
            absl::StrCat("1:257: ", kTooDeep));
  // Parentheses around a chain count too: 200 of them around 100 '+'; the
  // 157th from the inside, the 44th '(', makes 257 levels.
  EXPECT_EQ(ErrorOf(Nest("(", Chain("x", " + ", 100), ")", 200)),
            absl::StrCat("1:44: ", kTooDeep));
}

TEST(ParserTest, EveryShapeAtTheLimitParses) {
  for (const Shape& shape : ShapesAtTheLimit()) {
    SCOPED_TRACE(shape.name);
    ParseResult r = Parse(shape.text);
    ASSERT_TRUE(r.ok()) << r.error.message;
    if (shape.name == "list" || shape.name == "wide") {
      EXPECT_EQ(CountNodes(*r.root), ExpressionLimits::kMaxNodes);
      EXPECT_LT(r.root->nesting, ExpressionLimits::kMaxDepth);
    } else {
      EXPECT_EQ(r.root->nesting, ExpressionLimits::kMaxDepth);
    }
    EXPECT_LE(shape.text.size(), ExpressionLimits::kMaxLength);
  }
}

TEST(ParserTest, OneLevelOrNodePastTheLimitFails) {
  constexpr int D = ExpressionLimits::kMaxDepth;
  constexpr int N = ExpressionLimits::kMaxNodes;
  // Each shape of ShapesAtTheLimit() with one more level.
  EXPECT_EQ(ErrorOf(Chain("x", " + ", D + 1)),
            absl::StrCat("1:", 4 * (D + 1) - 1, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Chain("x > 1", " && ", D)),
            absl::StrCat("1:", 9 * D - 2, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Nest("(", "x", ")", D + 1)),
            absl::StrCat("1:", D + 1, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Repeat("-", D + 1) + "1"),
            absl::StrCat("1:", D + 1, ": ", kTooDeep));
  // Unary operators and groups add up.
  EXPECT_EQ(ErrorOf(Repeat("-", D) + "(1)"),
            absl::StrCat("1:", D + 1, ": ", kTooDeep));
  // The conditionals complete before the 257th level is seen: the error is
  // at the outermost one, whose tree is one level too deep.
  EXPECT_EQ(ErrorOf(Repeat("x > 1 ? 1 : ", D) + "0"),
            absl::StrCat("1:1: ", kTooDeep));
  EXPECT_EQ(ErrorOf(Nest("x + (", "x", ")", D / 2) + " + x"),
            absl::StrCat("1:", 6 * (D / 2) + 3, ": ", kTooDeep));
  EXPECT_EQ(ErrorOf(Nest("min(x, ", "x", ")", D + 1)),
            absl::StrCat("1:", 7 * D + 4, ": ", kTooDeep));
  // One item too many: the list is complete at 10000 nodes, the `in` that
  // holds it is the 10001st.
  EXPECT_EQ(ErrorOf("seg in [" + Chain("\"a\"", ", ", N - 3) + "]"),
            absl::StrCat("1:5: ", kTooLarge));
  EXPECT_EQ(Parse("seg in [" + Chain("\"a\"", ", ", N - 3) + "]").error.hint,
            "split it into derived values");
}

TEST(ParserTest, HugeListsAndCallsAreTooLarge) {
  // 12,000 items in 48 KB: the 10001st node (node 1 is `seg`, 2 the list)
  // is item 9999, at column 8 + 4 * 9998 + 1.
  EXPECT_EQ(ErrorOf("seg in [" + Repeat("\"a\",", 12000) + "\"a\"]"),
            absl::StrCat("1:", 8 + 4 * 9998 + 1, ": ", kTooLarge));
  // Arguments count like items: `min(` is node 1.
  EXPECT_EQ(ErrorOf("min(" + Chain("1", ",", 20000) + ")"),
            absl::StrCat("1:", 5 + 2 * 9999, ": ", kTooLarge));
}

TEST(ParserTest, OverlongTextIsRejectedBeforeReadingIt) {
  // 100,000 terms of `&&`: 900 KB.
  const std::string and_chain = Chain("x > 0", " && ", 99999);
  ParseResult r = Parse(and_chain);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.message,
            absl::StrCat("expression is too long: ", and_chain.size(),
                         " bytes, more than 65536"));
  EXPECT_EQ(r.error.hint, "split it into derived values");
  // Located at the first byte past the limit.
  EXPECT_EQ(r.error.pos.line, 1);
  EXPECT_EQ(r.error.pos.column, 65537);
  const std::string lines = Repeat("x + 1 > 0 &&\n", 6000) + "true";
  r = Parse(lines);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.pos.line, 65536 / 13 + 1);
  EXPECT_EQ(r.error.pos.column, 65536 % 13 + 1);
  // A string literal is text too.
  EXPECT_THAT(Parse("seg == \"" + std::string(70000, 'a') + "\"").error.message,
              HasSubstr("expression is too long: 70009 bytes"));
  // Exactly at the limit is read (and here fails for another reason).
  EXPECT_THAT(Parse(std::string(65536, ' ')).error.message,
              HasSubstr("expression ends too early"));
}

TEST(ParserTest, CollectsIdentifiersOnce) {
  ParseResult r = Parse("a + b * a > f(c, groups.x)");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> ids;
  CollectIdentifiers(*r.root, &ids);
  EXPECT_THAT(ids, ElementsAre("a", "b", "c", "groups.x"));
  // Appends only names not already there.
  std::vector<std::string> more = {"c", "z"};
  CollectIdentifiers(*r.root, &more);
  EXPECT_THAT(more, ElementsAre("c", "z", "a", "b", "groups.x"));
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
