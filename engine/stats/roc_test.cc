#include "engine/stats/roc.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::stats {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Three churned accounts with risks 2, 3, 3 and three retained with risks
// 1, 2, 3 (listed interleaved, as accounts come).
const std::vector<double> kRisk = {2, 1, 3, 2, 3, 3};
const std::vector<uint8_t> kChurned = {1, 0, 1, 0, 1, 0};

TEST(AucTest, ThreeByThreeWithTies) {
  // psi over the 9 (churned, retained) pairs, ties 1/2:
  //   x=2: vs y=1 -> 1, y=2 -> 1/2, y=3 -> 0    = 1.5
  //   x=3: vs y=1 -> 1, y=2 -> 1,   y=3 -> 1/2  = 2.5   (twice)
  // AUC = (1.5 + 2.5 + 2.5) / 9 = 6.5 / 9 = 13/18.
  ASSERT_OK_AND_ASSIGN(double auc, Auc(kRisk, kChurned));
  EXPECT_DOUBLE_EQ(auc, 13.0 / 18.0);
}

TEST(AucTest, PerfectAndInvertedAndAllTied) {
  EXPECT_THAT(
      Auc(std::vector<double>{1, 2, 3, 4}, std::vector<uint8_t>{0, 0, 1, 1})
          .value(),
      1.0);
  EXPECT_THAT(
      Auc(std::vector<double>{1, 2, 3, 4}, std::vector<uint8_t>{1, 1, 0, 0})
          .value(),
      0.0);
  // Every pair tied: 1/2 each.
  EXPECT_THAT(
      Auc(std::vector<double>{7, 7, 7}, std::vector<uint8_t>{1, 0, 0}).value(),
      0.5);
  // Infinities take part in comparisons like any value.
  EXPECT_THAT(
      Auc(std::vector<double>{-kInf, kInf}, std::vector<uint8_t>{0, 1}).value(),
      1.0);
}

TEST(AucTest, HanleyMcNeilPublishedExample) {
  // Hanley & McNeil (1982), "The meaning and use of the area under a
  // receiver operating characteristic (ROC) curve", Radiology 143:29-36,
  // Table 1: 109 CT images rated 1 (definitely normal) .. 5 (definitely
  // abnormal). Truly normal: 33, 6, 6, 11, 2 at ratings 1..5; truly
  // abnormal: 3, 2, 2, 11, 33. The paper gives the area as 0.893.
  // By hand, sum over abnormal ratings of count * (normals below + half the
  // normals tied):
  //   1: 3 * (0 + 33/2) = 49.5     2: 2 * (33 + 3) = 72
  //   3: 2 * (39 + 3)   = 84       4: 11 * (45 + 5.5) = 555.5
  //   5: 33 * (56 + 1)  = 1881     total 2642 over 58 * 51 = 2958 pairs.
  const int normal[] = {33, 6, 6, 11, 2};
  const int abnormal[] = {3, 2, 2, 11, 33};
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  for (int rating = 1; rating <= 5; ++rating) {
    for (int k = 0; k < normal[rating - 1]; ++k) {
      risk.push_back(rating);
      churned.push_back(0);
    }
    for (int k = 0; k < abnormal[rating - 1]; ++k) {
      risk.push_back(rating);
      churned.push_back(1);
    }
  }
  ASSERT_OK_AND_ASSIGN(double auc, Auc(risk, churned));
  EXPECT_DOUBLE_EQ(auc, 2642.0 / 2958.0);
  EXPECT_NEAR(auc, 0.893, 5e-4);
}

// Random risks; `grid` > 0 rounds them to multiples of 1/grid, making ties.
void RandomSample(uint64_t seed, int n, double grid, std::vector<double>* risk,
                  std::vector<uint8_t>* churned) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  std::bernoulli_distribution coin(0.3);
  risk->clear();
  churned->clear();
  for (int i = 0; i < n; ++i) {
    const uint8_t c = coin(rng) ? 1 : 0;
    double r = noise(rng) + 0.8 * c;
    if (grid > 0) r = std::round(r * grid) / grid;
    risk->push_back(r);
    churned->push_back(c);
  }
  churned->front() = 1;  // both classes, whatever the coin said
  churned->back() = 0;
}

TEST(AucTest, ReversingRiskGivesOneMinusAuc) {
  for (double grid : {0.0, 2.0}) {
    std::vector<double> risk;
    std::vector<uint8_t> churned;
    RandomSample(7, 500, grid, &risk, &churned);
    std::vector<double> negated;
    for (double r : risk) negated.push_back(-r);
    ASSERT_OK_AND_ASSIGN(double auc, Auc(risk, churned));
    ASSERT_OK_AND_ASSIGN(double reversed, Auc(negated, churned));
    // Exact: both are integer pair counts over the same denominator.
    EXPECT_DOUBLE_EQ(auc + reversed, 1.0) << "grid " << grid;
  }
}

TEST(AucTest, InvariantUnderIncreasingTransforms) {
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  RandomSample(11, 400, 4.0, &risk, &churned);
  ASSERT_OK_AND_ASSIGN(double auc, Auc(risk, churned));
  std::vector<double> expo, cube, affine;
  for (double r : risk) {
    expo.push_back(std::exp(r));
    cube.push_back(r * r * r);
    affine.push_back(100 - (50 - 3 * r));
  }
  EXPECT_EQ(Auc(expo, churned).value(), auc);
  EXPECT_EQ(Auc(cube, churned).value(), auc);
  EXPECT_EQ(Auc(affine, churned).value(), auc);
}

TEST(AucTest, EqualsDirectPairCount) {
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  RandomSample(3, 300, 3.0, &risk, &churned);
  double sum = 0;
  double pairs = 0;
  for (size_t i = 0; i < risk.size(); ++i) {
    if (!churned[i]) continue;
    for (size_t j = 0; j < risk.size(); ++j) {
      if (churned[j]) continue;
      sum += risk[i] > risk[j] ? 1.0 : risk[i] == risk[j] ? 0.5 : 0.0;
      pairs += 1;
    }
  }
  EXPECT_DOUBLE_EQ(Auc(risk, churned).value(), sum / pairs);
}

TEST(AucTest, Errors) {
  EXPECT_THAT(Auc(std::vector<double>{1, 2}, std::vector<uint8_t>{1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk has 2 values but churned has 1")));
  EXPECT_THAT(Auc({}, {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("no accounts")));
  EXPECT_THAT(Auc(std::vector<double>{1, std::nan(""), 3},
                  std::vector<uint8_t>{1, 0, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk[1] is NaN")));
  EXPECT_THAT(Auc(std::vector<double>{1, 2}, std::vector<uint8_t>{1, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("churned[1] is 2: labels must be 0")));
  EXPECT_THAT(Auc(std::vector<double>{1, 2}, std::vector<uint8_t>{0, 0}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("AUC is undefined for this sample: it needs "
                                 "at least 1 churned and 1 retained accounts, "
                                 "and has 0 churned and 2 retained")));
  EXPECT_THAT(Auc(std::vector<double>{1}, std::vector<uint8_t>{1}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has 1 churned and 0 retained")));
}

TEST(RocCurveTest, PointsOfTheThreeByThreeCase) {
  // Thresholds descending over the distinct risks 3, 2, 1 (flag risk >= t):
  //   +inf: nothing flagged                    -> (0, 0)
  //   3: churned {3, 3}, retained {3}          -> fpr 1/3, tpr 2/3
  //   2: churned all 3, retained {2, 3}        -> fpr 2/3, tpr 1
  //   1: everything                            -> (1, 1)
  ASSERT_OK_AND_ASSIGN(std::vector<RocPoint> roc, RocCurve(kRisk, kChurned));
  ASSERT_EQ(roc.size(), 4u);
  EXPECT_EQ(roc[0].threshold, kInf);
  EXPECT_EQ(roc[0].fpr, 0);
  EXPECT_EQ(roc[0].tpr, 0);
  EXPECT_EQ(roc[1].threshold, 3);
  EXPECT_DOUBLE_EQ(roc[1].fpr, 1.0 / 3);
  EXPECT_DOUBLE_EQ(roc[1].tpr, 2.0 / 3);
  EXPECT_EQ(roc[2].threshold, 2);
  EXPECT_DOUBLE_EQ(roc[2].fpr, 2.0 / 3);
  EXPECT_DOUBLE_EQ(roc[2].tpr, 1.0);
  EXPECT_EQ(roc[3].threshold, 1);
  EXPECT_EQ(roc[3].fpr, 1);
  EXPECT_EQ(roc[3].tpr, 1);
  // Trapezoids: 1/3 * (0 + 2/3)/2 + 1/3 * (2/3 + 1)/2 + 1/3 * 1 = 13/18.
}

TEST(RocCurveTest, TrapezoidAreaEqualsAuc) {
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  RandomSample(5, 1000, 2.0, &risk, &churned);
  ASSERT_OK_AND_ASSIGN(std::vector<RocPoint> roc, RocCurve(risk, churned));
  double area = 0;
  for (size_t k = 1; k < roc.size(); ++k) {
    EXPECT_GT(roc[k - 1].threshold, roc[k].threshold);
    EXPECT_LE(roc[k - 1].fpr, roc[k].fpr);
    EXPECT_LE(roc[k - 1].tpr, roc[k].tpr);
    area += (roc[k].fpr - roc[k - 1].fpr) * (roc[k].tpr + roc[k - 1].tpr) / 2;
  }
  EXPECT_EQ(roc.back().fpr, 1);
  EXPECT_EQ(roc.back().tpr, 1);
  EXPECT_NEAR(area, Auc(risk, churned).value(), 1e-12);
}

TEST(RocCurveTest, UndefinedWithoutBothClasses) {
  EXPECT_THAT(RocCurve(std::vector<double>{1, 2}, std::vector<uint8_t>{1, 1}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the ROC curve is undefined")));
}

TEST(KolmogorovSmirnovTest, ThreeByThreeTakesTheHighestThreshold) {
  // TPR - FPR at the points above: 3 -> 2/3 - 1/3 = 1/3,
  // 2 -> 1 - 2/3 = 1/3, 1 -> 0. The maximum 1/3 is reached at 3 first.
  ASSERT_OK_AND_ASSIGN(KsResult ks, KolmogorovSmirnov(kRisk, kChurned));
  EXPECT_DOUBLE_EQ(ks.statistic, 1.0 / 3);
  EXPECT_EQ(ks.threshold, 3);
  EXPECT_DOUBLE_EQ(ks.tpr, 2.0 / 3);
  EXPECT_DOUBLE_EQ(ks.fpr, 1.0 / 3);
  EXPECT_DOUBLE_EQ(ks.signed_difference, 1.0 / 3);
}

TEST(KolmogorovSmirnovTest, SeparatedInvertedAndUseless) {
  // Perfect separation at threshold 3: TPR 1, FPR 0.
  ASSERT_OK_AND_ASSIGN(KsResult perfect,
                       KolmogorovSmirnov(std::vector<double>{1, 2, 3, 4},
                                         std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(perfect.statistic, 1);
  EXPECT_EQ(perfect.threshold, 3);
  // Inverted: flagging risk >= 3 catches the two retained accounts only.
  ASSERT_OK_AND_ASSIGN(KsResult inverted,
                       KolmogorovSmirnov(std::vector<double>{1, 2, 3, 4},
                                         std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(inverted.statistic, 1);
  EXPECT_EQ(inverted.threshold, 3);
  EXPECT_EQ(inverted.signed_difference, -1);
  // All tied: no threshold separates anything.
  ASSERT_OK_AND_ASSIGN(
      KsResult none,
      KolmogorovSmirnov(std::vector<double>{5, 5}, std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(none.statistic, 0);
  EXPECT_EQ(none.threshold, kInf);
}

TEST(KolmogorovSmirnovTest, MatchesScanOfRocCurve) {
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  RandomSample(9, 800, 5.0, &risk, &churned);
  ASSERT_OK_AND_ASSIGN(std::vector<RocPoint> roc, RocCurve(risk, churned));
  double best = 0;
  for (const RocPoint& p : roc) best = std::max(best, std::fabs(p.tpr - p.fpr));
  ASSERT_OK_AND_ASSIGN(KsResult ks, KolmogorovSmirnov(risk, churned));
  EXPECT_NEAR(ks.statistic, best, 1e-15);
}

}  // namespace
}  // namespace healthscore::engine::stats
