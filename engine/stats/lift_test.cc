#include "engine/stats/lift.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::stats {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

TEST(LiftByQuantileTest, FiveBinsByHand) {
  // Ten accounts with risks 10..1; by descending risk the labels are
  // 1 1 | 1 0 | 0 1 | 0 0 | 0 0, two per bin. Base rate 4/10 = 0.4.
  //   bin 1: 2/2 -> rate 1,   lift 2.5,  gains 2/4 = 0.5, cum lift 0.5/0.2
  //   bin 2: 1/2 -> 0.5,      1.25,      3/4 = 0.75,      0.75/0.4
  //   bin 3: 1/2 -> 0.5,      1.25,      4/4 = 1,         1/0.6
  //   bin 4: 0/2,             0,         1,               1/0.8
  //   bin 5: 0/2,             0,         1,               1
  const std::vector<double> risk = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  const std::vector<uint8_t> churned = {1, 1, 1, 0, 0, 1, 0, 0, 0, 0};
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> bins,
                       LiftByQuantile(risk, churned, 5));
  ASSERT_EQ(bins.size(), 5u);
  const double rate[] = {1, 0.5, 0.5, 0, 0};
  const double gains[] = {0.5, 0.75, 1, 1, 1};
  for (int b = 0; b < 5; ++b) {
    EXPECT_EQ(bins[b].bin, b + 1);
    EXPECT_EQ(bins[b].accounts, 2);
    EXPECT_DOUBLE_EQ(bins[b].rate, rate[b]);
    EXPECT_DOUBLE_EQ(bins[b].lift, rate[b] / 0.4);
    EXPECT_DOUBLE_EQ(bins[b].cumulative_accounts_share, 0.2 * (b + 1));
    EXPECT_DOUBLE_EQ(bins[b].cumulative_churned_share, gains[b]);
    EXPECT_DOUBLE_EQ(bins[b].cumulative_lift, gains[b] / (0.2 * (b + 1)));
  }
  EXPECT_EQ(bins[0].max_risk, 10);
  EXPECT_EQ(bins[0].min_risk, 9);
  EXPECT_EQ(bins[4].max_risk, 2);
  EXPECT_EQ(bins[4].min_risk, 1);
}

TEST(LiftByQuantileTest, TiesGoWholeToTheBinOfTheirMiddle) {
  // n = 4, 2 bins. Risks 5 5 5 1: the run of 5s takes ranks [0, 3), middle
  // rank 1 -> bin 1 + floor((0 + 3 - 1) * 2 / 8) = 1; the 1 takes [3, 4)
  // -> 1 + floor((3 + 4 - 1) * 2 / 8) = 2.
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> a,
                       LiftByQuantile(std::vector<double>{5, 1, 5, 5},
                                      std::vector<uint8_t>{1, 0, 0, 0}, 2));
  EXPECT_EQ(a[0].accounts, 3);
  EXPECT_EQ(a[1].accounts, 1);
  // Risks 5 1 1 1: the 5 takes [0, 1) -> bin 1; the run of 1s takes
  // [1, 4) -> 1 + floor((1 + 4 - 1) * 2 / 8) = 2.
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> b,
                       LiftByQuantile(std::vector<double>{1, 5, 1, 1},
                                      std::vector<uint8_t>{1, 0, 0, 0}, 2));
  EXPECT_EQ(b[0].accounts, 1);
  EXPECT_EQ(b[1].accounts, 3);
  // All equal: ranks [0, 4) -> 1 + floor(3 * 2 / 8) = 1; bin 2 is empty.
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> c,
                       LiftByQuantile(std::vector<double>{2, 2, 2, 2},
                                      std::vector<uint8_t>{1, 0, 0, 0}, 2));
  EXPECT_EQ(c[0].accounts, 4);
  EXPECT_DOUBLE_EQ(c[0].lift, 1);
  EXPECT_EQ(c[1].accounts, 0);
  EXPECT_TRUE(std::isnan(c[1].rate));
  EXPECT_TRUE(std::isnan(c[1].lift));
  EXPECT_TRUE(std::isnan(c[1].min_risk));
  EXPECT_EQ(c[1].cumulative_churned_share, 1);
}

TEST(LiftByQuantileTest, InputOrderDoesNotMatter) {
  std::mt19937_64 rng(4);
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  for (int i = 0; i < 503; ++i) {
    risk.push_back(static_cast<double>(rng() % 37));  // many ties
    churned.push_back(rng() % 4 == 0);
  }
  churned[0] = 1;
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> before,
                       LiftByQuantile(risk, churned));
  std::vector<size_t> perm(risk.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<double> r2;
  std::vector<uint8_t> c2;
  for (size_t i : perm) {
    r2.push_back(risk[i]);
    c2.push_back(churned[i]);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<LiftBin> after, LiftByQuantile(r2, c2));
  ASSERT_EQ(before.size(), 10u);
  int64_t total = 0;
  for (size_t b = 0; b < before.size(); ++b) {
    EXPECT_EQ(before[b].accounts, after[b].accounts);
    EXPECT_EQ(before[b].churned, after[b].churned);
    total += before[b].accounts;
    // Bins hold disjoint, descending risk ranges.
    if (b > 0 && before[b].accounts > 0 && before[b - 1].accounts > 0) {
      EXPECT_LT(before[b].max_risk, before[b - 1].min_risk);
    }
  }
  EXPECT_EQ(total, 503);
  EXPECT_DOUBLE_EQ(before.back().cumulative_churned_share, 1);
}

TEST(LiftByQuantileTest, Errors) {
  const std::vector<double> risk = {1, 2, 3};
  EXPECT_THAT(LiftByQuantile(risk, std::vector<uint8_t>{0, 0, 0}, 3),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("lift and gains are undefined for this "
                                 "sample: none of its 3 accounts churned")));
  EXPECT_THAT(LiftByQuantile(risk, std::vector<uint8_t>{0, 1, 0}, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bins is 4: need between 1 and the number of "
                                 "accounts (3)")));
  EXPECT_THAT(
      LiftByQuantile(risk, std::vector<uint8_t>{0, 1, 0}, 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bins is 0")));
  EXPECT_THAT(LiftByQuantile(std::vector<double>{std::nan("")},
                             std::vector<uint8_t>{1}, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk[0] is NaN")));
}

}  // namespace
}  // namespace healthscore::engine::stats
