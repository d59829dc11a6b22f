#include "engine/expr/checker.h"

#include <string>

#include "engine/expr/parser.h"
#include "engine/expr/testing/scope.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::expr {
namespace {

using testing::TestingScope;

using ::testing::HasSubstr;

class CheckerTest : public ::testing::Test {
 protected:
  CheckerTest() {
    scope_.Add("x", {Type::kNumber, Operand::Slot(0)});
    scope_.Add("score", {Type::kNumber, Operand::Slot(1), 0, 100, true});
    scope_.Add("segment", {Type::kString, Operand::Slot(2)});
    scope_.Add("start", {Type::kDate, Operand::Slot(3)});
    scope_.Add("as_of", {Type::kDate, Operand::Slot(4)});
    scope_.Add("wau", {Type::kSeries, Operand::Slot(5)});
    scope_.Add("flag", {Type::kBool, Operand::Register(0)});
    scope_.Add("certain", {Type::kNumber, Operand::Slot(6), 0, 10, false});
  }

  CheckResult Run(const std::string& text) {
    ParseResult p = Parse(text);
    EXPECT_TRUE(p.ok()) << p.error.message;
    root_ = std::move(p.root);
    return Check(root_.get(), &scope_);
  }

  std::string FirstError(const std::string& text) {
    CheckResult r = Run(text);
    return r.errors.empty() ? "" : r.errors[0].message;
  }

  TestingScope scope_;
  std::unique_ptr<Node> root_;
};

TEST_F(CheckerTest, TypesOfWellFormedExpressions) {
  EXPECT_EQ(Run("x * 2 + 1").type, Type::kNumber);
  EXPECT_EQ(Run("x > 2 && !flag").type, Type::kBool);
  EXPECT_EQ(Run("as_of - start").type, Type::kNumber);
  EXPECT_EQ(Run("days_since(start)").type, Type::kNumber);
  EXPECT_EQ(Run("start < as_of").type, Type::kBool);
  EXPECT_EQ(Run("pct_change(wau, 4, 8)").type, Type::kNumber);
  EXPECT_EQ(Run("ratio_change(wau, 4, 8)").type, Type::kNumber);
  EXPECT_EQ(Run("x > 1 ? x : 0").type, Type::kNumber);
  EXPECT_EQ(Run("coalesce(start, as_of)").type, Type::kDate);
  EXPECT_EQ(Run("segment in ['smb', 'enterprise']").type, Type::kBool);
}

TEST_F(CheckerTest, ResolvesNamesToOperands) {
  Run("x + score");
  EXPECT_EQ(root_->children[0]->ref.kind, Operand::Kind::kSlot);
  EXPECT_EQ(root_->children[0]->ref.index, 0);
  EXPECT_EQ(root_->children[1]->ref.index, 1);
}

TEST_F(CheckerTest, StringLiteralsBecomeCodes) {
  Run("segment == 'smb' || segment != 'mid_market'");
  EXPECT_EQ(root_->children[0]->children[1]->string_code,
            scope_.CodeOf("smb"));
  EXPECT_EQ(root_->children[1]->children[1]->string_code,
            scope_.CodeOf("mid_market"));
}

TEST_F(CheckerTest, UnknownNameUsesScopeSuggestion) {
  CheckResult r = Run("y + 1");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "unknown name 'y'");
  EXPECT_EQ(r.errors[0].hint, "suggestion for y");
  EXPECT_EQ(r.errors[0].pos.column, 1);
}

TEST_F(CheckerTest, TypeErrors) {
  EXPECT_THAT(FirstError("x && flag"), HasSubstr("'&&' needs two bools"));
  EXPECT_THAT(FirstError("segment + 1"),
              HasSubstr("'+' does not apply to strings"));
  EXPECT_THAT(FirstError("segment < 'a'"),
              HasSubstr("'<' does not apply to strings"));
  EXPECT_THAT(FirstError("segment == segment"),
              HasSubstr("between a string attribute and a literal"));
  EXPECT_THAT(FirstError("start + 1"), HasSubstr("'+' needs two numbers"));
  EXPECT_THAT(FirstError("wau > 3"), HasSubstr("cannot compare series"));
  EXPECT_THAT(Run("wau > 3").errors[0].hint,
              HasSubstr("reduce the series first"));
  EXPECT_THAT(FirstError("flag ? 1 : flag"),
              HasSubstr("both branches of `c ? a : b`"));
  EXPECT_THAT(FirstError("x ? 1 : 2"), HasSubstr("must be a bool"));
  EXPECT_THAT(FirstError("!x"), HasSubstr("'!' needs a bool"));
  EXPECT_THAT(FirstError("x in ['a']"), HasSubstr("'in' needs a string"));
  EXPECT_THAT(FirstError("segment == 'forbidden'"),
              HasSubstr("forbidden literal"));
}

TEST_F(CheckerTest, LiteralRefusedWithoutAReasonStillGetsAMessage) {
  // A scope that refuses a literal without a message used to leave an
  // empty one ("m.yaml:8:20: error: in derived expression: ").
  for (const char* text :
       {"segment == 'refused_silently'", "segment != 'refused_silently'",
        "segment in ['smb', 'refused_silently']"}) {
    CheckResult r = Run(text);
    ASSERT_EQ(r.errors.size(), 1u) << text;
    EXPECT_EQ(r.errors[0].message,
              "cannot compare 'segment' with \"refused_silently\"")
        << text;
  }
}

TEST_F(CheckerTest, FunctionArityAndArguments) {
  EXPECT_THAT(FirstError("abs(x, x)"), HasSubstr("abs() takes 1 argument, got 2"));
  EXPECT_THAT(FirstError("min(x)"), HasSubstr("at least 2 arguments"));
  EXPECT_THAT(FirstError("mean_last(wau, x)"),
              HasSubstr("must be a whole number literal >= 1"));
  EXPECT_THAT(FirstError("mean_last(wau, 0)"),
              HasSubstr("must be a whole number literal >= 1"));
  EXPECT_THAT(FirstError("slope(wau, 1)"),
              HasSubstr("must be a whole number literal >= 2"));
  EXPECT_THAT(FirstError("last(x)"),
              HasSubstr("argument 1 of last() must be a series, got number"));
  EXPECT_THAT(FirstError("days_since(x)"), HasSubstr("must be a date"));
  EXPECT_THAT(FirstError("clamp(x, 5, 1)"), HasSubstr("lo <= hi"));
  EXPECT_THAT(FirstError("frobnicate(x)"),
              HasSubstr("unknown function 'frobnicate'"));
  EXPECT_THAT(Run("frobnicate(x)").errors[0].hint,
              HasSubstr("pct_change, ratio_change, slope"));
}

TEST_F(CheckerTest, RatioChangeTakesPctChangeArguments) {
  // ratio_change(series, recent, baseline), each count a literal >= 1.
  EXPECT_EQ(FirstError("ratio_change(wau, 4)"),
            "ratio_change() takes 3 arguments, got 2");
  EXPECT_EQ(FirstError("ratio_change(x, 4, 8)"),
            "argument 1 of ratio_change() must be a series, got number");
  EXPECT_THAT(FirstError("ratio_change(wau, 0, 8)"),
              HasSubstr("must be a whole number literal >= 1"));
  EXPECT_THAT(FirstError("ratio_change(wau, 4, 0)"),
              HasSubstr("must be a whole number literal >= 1"));
  EXPECT_THAT(FirstError("ratio_change(wau, x, 8)"),
              HasSubstr("must be a whole number literal >= 1"));
  EXPECT_THAT(FirstError("ratio_change(wau, 4, 8) > 'a'"), HasSubstr("'>'"));
}

TEST_F(CheckerTest, DecidesConditionsThatCanNeverBeTrue) {
  EXPECT_EQ(Run("score > 100").truth, Truth::kNever);
  EXPECT_EQ(Run("score < 0").truth, Truth::kNever);
  EXPECT_EQ(Run("score >= 100").truth, Truth::kMaybe);
  EXPECT_EQ(Run("score > 80 && score < 50").truth, Truth::kNever);
  EXPECT_EQ(Run("score >= 50 && score < 50").truth, Truth::kNever);
  EXPECT_EQ(Run("score >= 50 && score <= 50").truth, Truth::kMaybe);
  EXPECT_EQ(Run("x > 3 && 2 > x").truth, Truth::kNever);
  EXPECT_EQ(Run("x > 3 && flag && x < 1").truth, Truth::kNever);
  EXPECT_EQ(Run("false && x > 1").truth, Truth::kNever);
  EXPECT_EQ(Run("score > 200 || score < -1").truth, Truth::kNever);
  EXPECT_EQ(Run("!(x > 1 || true)").truth, Truth::kNever);
  EXPECT_EQ(Run("segment in []").truth, Truth::kNever);
  EXPECT_EQ(Run("score > 80 || score < 50").truth, Truth::kMaybe);
}

TEST_F(CheckerTest, AlwaysTrueOnlyWhenNothingCanBeMissing) {
  EXPECT_EQ(Run("certain >= 0").truth, Truth::kAlways);
  EXPECT_EQ(Run("score >= 0").truth, Truth::kMaybe);  // score may be missing
  EXPECT_EQ(Run("has(certain)").truth, Truth::kAlways);
  EXPECT_EQ(Run("has(x)").truth, Truth::kMaybe);
}

TEST_F(CheckerTest, CollectsSeveralErrors) {
  CheckResult r = Run("a + b > c");
  EXPECT_EQ(r.errors.size(), 3u);
}

TEST_F(CheckerTest, ConjunctionsAreDecidedAcrossTheWholeChain) {
  // The contradiction is between the first and the last of 200 conjuncts,
  // with or without parentheses around parts of the chain.
  std::string chain = "score > 80";
  for (int i = 0; i < 198; ++i) chain += " && x > 1";
  EXPECT_EQ(Run(chain + " && score < 50").truth, Truth::kNever);
  EXPECT_EQ(Run("(" + chain + ") && (x > 2 && score < 50)").truth,
            Truth::kNever);
  EXPECT_EQ(Run(chain + " && score < 90").truth, Truth::kMaybe);
  // An || between them separates the chains.
  EXPECT_EQ(Run("(score > 80 || x > 1) && score < 50").truth, Truth::kMaybe);
}

TEST_F(CheckerTest, ManyErrorsAreCountedNotListed) {
  std::string text = "a0 > 0";
  for (int i = 1; i < 30; ++i) text += " || a" + std::to_string(i) + " > 0";
  CheckResult r = Run(text);
  ASSERT_EQ(r.errors.size(), kMaxCheckErrors + 1);
  EXPECT_EQ(r.errors[0].message, "unknown name 'a0'");
  EXPECT_EQ(r.errors[0].hint, "suggestion for a0");
  EXPECT_EQ(r.errors[kMaxCheckErrors - 1].message, "unknown name 'a19'");
  // Located at the first error not shown: a20, after "a0 > 0", 9 terms of
  // 10 characters, 10 of 11 and " || ".
  EXPECT_EQ(r.errors.back().pos.column, 6 + 9 * 10 + 10 * 11 + 4 + 1);
  EXPECT_EQ(r.errors.back().message,
            "10 more errors in this expression not shown");
  EXPECT_EQ(r.errors.back().hint, "fix the errors above first");
}

}  // namespace
}  // namespace healthscore::engine::expr
