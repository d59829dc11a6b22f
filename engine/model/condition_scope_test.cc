#include "engine/model/condition_scope.h"

#include <set>
#include <string>

#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {
namespace {

using ::testing::ElementsAre;

constexpr char kModel[] = R"yaml(name: m
version: 1
inputs:
  - {id: seats, type: number}
  - {id: segment, type: string}
  - {id: renewal, type: date}
  - {id: wau, type: series}
derived:
  - {id: trend, expr: "pct_change(wau, 2, 2)"}
groups:
  - id: usage
    weight: 1
    signals:
      - {id: adoption, source: seats, weight: 1, normalize: {linear: {bad: 0, good: 10}}}
      - {id: momentum, source: trend, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0, max: 50}
)yaml";

class ConditionScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CompileResult r = CompileString(kModel, "m.yaml");
    ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
    model_ = r.model;
  }
  // The model-defined names a condition of `kind` reads.
  std::vector<std::string> Readable(ConditionKind kind) const {
    std::vector<std::string> out;
    for (const ModelName& n : ModelDefinedNames(*model_)) {
      if (CanRead(kind, n)) out.push_back(n.name);
    }
    return out;
  }
  std::shared_ptr<const CompiledModel> model_;
};

TEST_F(ConditionScopeTest, EachKindOfConditionReadsItsNames) {
  EXPECT_THAT(Readable(ConditionKind::kPlaybook),
              ElementsAre("score", "tier", "coverage", "as_of",
                          "previous_score", "previous_tier", "score_delta",
                          "tier_changed", "groups.usage", "signals.adoption",
                          "raw.adoption", "signals.momentum", "raw.momentum"));
  EXPECT_THAT(Readable(ConditionKind::kDerived),
              ElementsAre("as_of", "previous_score", "previous_tier"));
  EXPECT_THAT(Readable(ConditionKind::kRoute), ElementsAre());
  EXPECT_TRUE(CanReadInput(ConditionKind::kDerived, InputType::kSeries));
  EXPECT_TRUE(CanReadInput(ConditionKind::kPlaybook, InputType::kSeries));
  EXPECT_FALSE(CanReadInput(ConditionKind::kRoute, InputType::kSeries));
  EXPECT_TRUE(CanReadInput(ConditionKind::kRoute, InputType::kDate));
  EXPECT_TRUE(CanReadDerived(ConditionKind::kPlaybook));
  EXPECT_FALSE(CanReadDerived(ConditionKind::kRoute));
}

TEST_F(ConditionScopeTest, NamesCarryTheBoundsTheModelGuarantees) {
  for (const ModelName& n : ModelDefinedNames(*model_)) {
    SCOPED_TRACE(n.name);
    if (n.name == "score" || n.name == "previous_score" ||
        n.name == "groups.usage" || n.name == "signals.adoption") {
      EXPECT_EQ(n.lo, 0);
      EXPECT_EQ(n.hi, 100);
    }
    if (n.name == "score_delta") {
      EXPECT_EQ(n.lo, -100);
      EXPECT_EQ(n.hi, 100);
    }
    if (n.name == "coverage") {
      EXPECT_EQ(n.hi, 1);
    }
    EXPECT_EQ(n.tier_valued, n.name == "tier" || n.name == "previous_tier");
    EXPECT_EQ(n.output, n.name != "as_of" && n.name != "previous_score" &&
                            n.name != "previous_tier");
  }
}

TEST_F(ConditionScopeTest, UnreadableNamesSayWhy) {
  const std::string route_reads =
      "; a route may read the model's number, date and string inputs";
  EXPECT_EQ(WhyUnreadable(ConditionKind::kRoute, *model_, "score"),
            "'score' is not known before scoring" + route_reads);
  EXPECT_EQ(WhyUnreadable(ConditionKind::kRoute, *model_, "groups.other"),
            "'groups.other' is not known before scoring" + route_reads);
  EXPECT_EQ(WhyUnreadable(ConditionKind::kRoute, *model_, "wau"),
            "'wau' is a series" + route_reads);
  EXPECT_EQ(WhyUnreadable(ConditionKind::kRoute, *model_, "trend"),
            "'trend' is a derived value, computed while scoring" + route_reads);
  EXPECT_EQ(WhyUnreadable(ConditionKind::kDerived, *model_, "tier"),
            "'tier' is an output of scoring; a derived value may read "
            "inputs, other derived values, as_of, previous_score and "
            "previous_tier");
  for (const char* readable : {"seats", "segment", "renewal", "nope"}) {
    EXPECT_EQ(WhyUnreadable(ConditionKind::kRoute, *model_, readable), "");
  }
  for (const ModelName& n : ModelDefinedNames(*model_)) {
    EXPECT_EQ(WhyUnreadable(ConditionKind::kPlaybook, *model_, n.name), "");
  }
  EXPECT_EQ(WhyUnreadable(ConditionKind::kDerived, *model_, "as_of"), "");
}

TEST(ReservedNamesTest, ModelDefinedNamesAndKeywordsAreReserved) {
  for (const char* id : {"score", "tier", "coverage", "as_of",
                         "previous_score", "previous_tier", "score_delta",
                         "tier_changed", "groups", "signals", "raw", "true",
                         "false", "in"}) {
    EXPECT_TRUE(IsReservedName(id)) << id;
  }
  EXPECT_FALSE(IsReservedName("seats"));
  EXPECT_FALSE(IsReservedName("scores"));
  EXPECT_EQ(ReservedNamesHint(),
            "pick another id; reserved: score, tier, coverage, as_of, "
            "previous_score, previous_tier, score_delta, tier_changed, "
            "groups, signals, raw");
}

}  // namespace
}  // namespace healthscore::engine::model
