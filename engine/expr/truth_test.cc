#include "engine/expr/truth.h"

#include <memory>
#include <set>
#include <string>

#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/testing/scope.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::expr {
namespace {

using testing::TestingScope;

// `tier` can be "green" or "red"; "gold" is a tier no score reaches.
class TierFacts : public TruthFacts {
 public:
  const std::set<std::string>* PossibleValues(
      std::string_view name) const override {
    return name == "tier" ? &tiers_ : nullptr;
  }
  std::string WhyNever(std::string_view, std::string_view value) const override {
    return value == "gold" ? "tier 'gold' can never be reached" : "";
  }

 private:
  std::set<std::string> tiers_ = {"green", "red"};
};

class TruthTest : public ::testing::Test {
 protected:
  TruthTest() {
    scope_.Add("x", {Type::kNumber, Operand::Slot(0)});
    scope_.Add("score", {Type::kNumber, Operand::Slot(1), 0, 100, true});
    scope_.Add("tier", {Type::kString, Operand::Slot(2)});
    scope_.Add("segment", {Type::kString, Operand::Slot(3)});
    scope_.Add("certain", {Type::kNumber, Operand::Slot(4), 0, 10, false});
  }

  // The verdict on `text`, which must check without errors.
  Verdict Run(const std::string& text, const TruthFacts* facts = nullptr) {
    ParseResult p = Parse(text);
    EXPECT_TRUE(p.ok()) << p.error.message;
    root_ = std::move(p.root);
    CheckResult r = Check(root_.get(), &scope_);
    EXPECT_TRUE(r.ok()) << text;
    Verdict v = Decide(*root_, facts);
    // The checker reports what the decider decides, with the same reason.
    if (facts == nullptr) {
      EXPECT_EQ(r.truth, v.truth()) << text;
      EXPECT_EQ(r.never_true, v.never_true) << text;
    }
    return v;
  }
  std::string WhyNever(const std::string& text,
                       const TruthFacts* facts = nullptr) {
    Verdict v = Run(text, facts);
    EXPECT_FALSE(v.can_true) << text;
    return v.never_true;
  }

  TestingScope scope_;
  std::unique_ptr<Node> root_;
};

TEST_F(TruthTest, ComparisonsOutsideBoundsNameTheBounds) {
  EXPECT_EQ(WhyNever("score > 100"),
            "'score > 100' can never be true: score is between 0 and 100");
  EXPECT_EQ(WhyNever("-1 >= score"),
            "'-1 >= score' can never be true: score is between 0 and 100");
  // Bounds of an expression, not a name: nothing to add.
  EXPECT_EQ(WhyNever("score * 2 > 300"), "'(score * 2) > 300' can never be true");
  EXPECT_EQ(Run("score >= 100").truth(), Truth::kMaybe);
}

TEST_F(TruthTest, ConjunctionsNameTheTwoComparisonsThatConflict) {
  EXPECT_EQ(WhyNever("x > 3 && x > 1 && 2 > x"),
            "'x > 3' and '2 > x' cannot both be true");
  EXPECT_EQ(WhyNever("x == 5 && x == 6"),
            "'x == 6' and 'x == 5' cannot both be true");
  EXPECT_EQ(Run("x >= 5 && x <= 5").truth(), Truth::kMaybe);
  EXPECT_EQ(Run("(x > 5 || score > 1) && x < 1").truth(), Truth::kMaybe);
}

TEST_F(TruthTest, LiteralsEmptyListsAndJunctions) {
  EXPECT_EQ(WhyNever("x > 1 && false"), "'false' can never be true");
  EXPECT_EQ(WhyNever("segment in []"),
            "'segment in []' can never be true: the list is empty");
  EXPECT_EQ(WhyNever("score > 200 || score < -1"),
            "'score > 200' can never be true: score is between 0 and 100; "
            "'score < -1' can never be true: score is between 0 and 100");
  EXPECT_EQ(WhyNever("!(x > 1 || true)"), "'true' is always true");
  EXPECT_EQ(WhyNever("x > 1 ? score > 100 : false"),
            "'(x > 1) ? (score > 100) : false' can never be true");
}

TEST_F(TruthTest, AlwaysTrueOnlyWhenNothingCanBeMissing) {
  EXPECT_EQ(Run("certain >= 0").truth(), Truth::kAlways);
  EXPECT_EQ(Run("score >= 0").truth(), Truth::kMaybe);
  EXPECT_EQ(Run("has(certain)").truth(), Truth::kAlways);
  EXPECT_EQ(WhyNever("!has(certain)"),
            "'has(certain)' is always true: certain is never missing here");
  EXPECT_EQ(Run("has(x)").truth(), Truth::kMaybe);
}

TEST_F(TruthTest, FactsDecideStringComparisons) {
  TierFacts facts;
  EXPECT_EQ(Run("tier == \"gold\"").truth(), Truth::kMaybe);  // no facts
  EXPECT_EQ(WhyNever("tier == \"gold\"", &facts),
            "tier 'gold' can never be reached");
  EXPECT_EQ(WhyNever("tier in [\"gold\", \"gold\"]", &facts),
            "tier 'gold' can never be reached");
  EXPECT_EQ(Run("tier in [\"gold\", \"red\"]", &facts).truth(), Truth::kMaybe);
  EXPECT_EQ(WhyNever("!(tier in [\"green\", \"red\"])", &facts),
            "'tier in [\"green\", \"red\"]' is always true");
  // Facts about one name say nothing about another.
  EXPECT_EQ(Run("segment == \"gold\"", &facts).truth(), Truth::kMaybe);
}

TEST_F(TruthTest, ReasonsAreBounded) {
  std::string chain = "score > 100";
  for (int i = 101; i < 250; ++i) chain += " || score > " + std::to_string(i);
  const std::string why = WhyNever(chain);
  EXPECT_LE(why.size(), kMaxReasons + 5);
  EXPECT_THAT(why, ::testing::EndsWith("; ..."));
  std::string sum = "x";
  for (int i = 0; i < 100; ++i) sum += " + 0";
  ParseResult p = Parse(sum);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(QuoteExpression(*p.root).size(), kMaxQuoted);
}

}  // namespace
}  // namespace healthscore::engine::expr
