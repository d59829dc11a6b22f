#include "engine/stats/proportion.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::stats {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(WilsonIntervalTest, TwoInTenByHand) {
  // k = 2, n = 10, p = 0.2, z = 1.959963984540054:
  //   z^2 = 3.8414588207, z^2/n = 0.38414588, denominator 1.38414588
  //   center = (0.2 + z^2/(2n)) / 1.38414588
  //          = (0.2 + 0.19207294) / 1.38414588 = 0.28325984
  //   half   = z * sqrt(0.2 * 0.8 / 10 + z^2 / 400) / 1.38414588
  //          = 1.959964 * sqrt(0.016 + 0.00960365) / 1.38414588
  //          = 1.959964 * 0.16001140 / 1.38414588 = 0.22657769
  //   interval = [0.05668215, 0.50983753]
  ASSERT_OK_AND_ASSIGN(Proportion p, WilsonInterval(2, 10));
  EXPECT_EQ(p.successes, 2);
  EXPECT_EQ(p.trials, 10);
  EXPECT_DOUBLE_EQ(p.rate, 0.2);
  EXPECT_NEAR(p.lower, 0.28325984 - 0.22657769, 1e-8);
  EXPECT_NEAR(p.upper, 0.28325984 + 0.22657769, 1e-8);
}

TEST(WilsonIntervalTest, NewcombeTableOne) {
  // Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3
  // (Wilson score interval without continuity correction), 95%:
  //   81/263 -> 0.2553, 0.3662     15/148 -> 0.0624, 0.1605
  //   0/20   -> 0.0000, 0.1611     1/29   -> 0.0061, 0.1718
  struct Row {
    int64_t k, n;
    double lower, upper;
  };
  for (const Row& r :
       {Row{81, 263, 0.2553, 0.3662}, Row{15, 148, 0.0624, 0.1605},
        Row{0, 20, 0.0, 0.1611}, Row{1, 29, 0.0061, 0.1718}}) {
    ASSERT_OK_AND_ASSIGN(Proportion p, WilsonInterval(r.k, r.n));
    EXPECT_NEAR(p.lower, r.lower, 5e-5) << r.k << "/" << r.n;
    EXPECT_NEAR(p.upper, r.upper, 5e-5) << r.k << "/" << r.n;
  }
}

TEST(WilsonIntervalTest, EdgesAndOtherLevels) {
  ASSERT_OK_AND_ASSIGN(Proportion none, WilsonInterval(0, 20));
  EXPECT_EQ(none.lower, 0);  // exactly
  ASSERT_OK_AND_ASSIGN(Proportion all, WilsonInterval(20, 20));
  EXPECT_EQ(all.upper, 1);  // exactly
  // Symmetry: k of n and n - k of n mirror each other.
  EXPECT_NEAR(all.lower, 1 - none.upper, 1e-15);
  ASSERT_OK_AND_ASSIGN(Proportion empty, WilsonInterval(0, 0));
  EXPECT_TRUE(std::isnan(empty.rate));
  EXPECT_EQ(empty.lower, 0);
  EXPECT_EQ(empty.upper, 1);
  // A 90% interval is inside the 95% one.
  ASSERT_OK_AND_ASSIGN(Proportion p95, WilsonInterval(30, 100));
  ASSERT_OK_AND_ASSIGN(Proportion p90,
                       WilsonInterval(30, 100, 1.6448536269514722));
  EXPECT_GT(p90.lower, p95.lower);
  EXPECT_LT(p90.upper, p95.upper);
}

TEST(WilsonIntervalTest, Errors) {
  EXPECT_THAT(
      WilsonInterval(3, 2),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("a proportion of 3 in 2 trials is impossible")));
  EXPECT_THAT(WilsonInterval(-1, 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("need 0 <= successes <= trials")));
  EXPECT_THAT(
      WilsonInterval(1, 2, -1),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("z is -1")));
}

TEST(ChurnRateByGroupTest, CountsRatesAndIntervals) {
  // Groups 0 (green), 1 (yellow), 2 (red), 3 (never used).
  //   green:  4 accounts, 0 churned    yellow: 3 accounts, 1 churned
  //   red:    3 accounts, 2 churned
  const std::vector<int32_t> group = {0, 0, 1, 2, 0, 1, 2, 2, 1, 0};
  const std::vector<uint8_t> churned = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0};
  ASSERT_OK_AND_ASSIGN(std::vector<Proportion> rates,
                       ChurnRateByGroup(group, churned, 4));
  ASSERT_EQ(rates.size(), 4u);
  EXPECT_EQ(rates[0].trials, 4);
  EXPECT_EQ(rates[0].successes, 0);
  EXPECT_EQ(rates[0].rate, 0);
  EXPECT_EQ(rates[1].trials, 3);
  EXPECT_EQ(rates[1].successes, 1);
  EXPECT_DOUBLE_EQ(rates[1].rate, 1.0 / 3);
  EXPECT_EQ(rates[2].successes, 2);
  EXPECT_DOUBLE_EQ(rates[2].rate, 2.0 / 3);
  EXPECT_EQ(rates[3].trials, 0);
  EXPECT_TRUE(std::isnan(rates[3].rate));
  // Each interval is WilsonInterval of the counts.
  ASSERT_OK_AND_ASSIGN(Proportion yellow, WilsonInterval(1, 3));
  EXPECT_EQ(rates[1].lower, yellow.lower);
  EXPECT_EQ(rates[1].upper, yellow.upper);
}

TEST(ChurnRateByGroupTest, Errors) {
  EXPECT_THAT(ChurnRateByGroup(std::vector<int32_t>{0, 3},
                               std::vector<uint8_t>{0, 1}, 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("group[1] is 3: group indices must be in "
                                 "[0, 3)")));
  EXPECT_THAT(
      ChurnRateByGroup(std::vector<int32_t>{0}, std::vector<uint8_t>{0, 1}, 3),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("group has 1 values but churned has 2")));
  EXPECT_THAT(
      ChurnRateByGroup({}, {}, 3),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no accounts")));
  EXPECT_THAT(
      ChurnRateByGroup(std::vector<int32_t>{0}, std::vector<uint8_t>{0}, 0),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("num_groups is 0")));
}

Proportion Rate(int64_t k, int64_t n) { return WilsonInterval(k, n).value(); }

TEST(CheckRateOrderTest, OrderedTiers) {
  // green 5/100, yellow 13/100, red 45/100: 0.05 < 0.13 < 0.45.
  const std::vector<Proportion> rates = {Rate(5, 100), Rate(13, 100),
                                         Rate(45, 100)};
  ASSERT_OK_AND_ASSIGN(RateOrder order,
                       CheckRateOrder(rates, std::vector<int32_t>{0, 1, 2}));
  EXPECT_TRUE(order.ordered);
  EXPECT_EQ(order.first_break, -1);
  ASSERT_EQ(order.pairs.size(), 2u);
  EXPECT_EQ(order.pairs[0].lower_group, 0);
  EXPECT_EQ(order.pairs[0].higher_group, 1);
  EXPECT_TRUE(order.pairs[0].holds);
  // 13/100: [0.0776, 0.2098]; 45/100: [0.3561, 0.5476]: apart.
  EXPECT_FALSE(order.pairs[1].intervals_overlap);
}

TEST(CheckRateOrderTest, NamesTheBrokenPair) {
  // Groups listed out of index order: order is {2, 0, 1} =
  // (green = 2, yellow = 0, red = 1). yellow 30/100 > red 20/100 breaks.
  const std::vector<Proportion> rates = {Rate(30, 100), Rate(20, 100),
                                         Rate(5, 100)};
  ASSERT_OK_AND_ASSIGN(RateOrder order,
                       CheckRateOrder(rates, std::vector<int32_t>{2, 0, 1}));
  EXPECT_FALSE(order.ordered);
  EXPECT_EQ(order.first_break, 1);
  const RateOrderPair& broken = order.pairs[1];
  EXPECT_EQ(broken.lower_group, 0);
  EXPECT_EQ(broken.higher_group, 1);
  EXPECT_DOUBLE_EQ(broken.lower_rate, 0.3);
  EXPECT_DOUBLE_EQ(broken.higher_rate, 0.2);
  EXPECT_FALSE(broken.holds);
  // 30/100: [0.2189, 0.3958]; 20/100: [0.1333, 0.2888]: may be chance.
  EXPECT_TRUE(broken.intervals_overlap);
}

TEST(CheckRateOrderTest, EqualRatesBreakStrictOrder) {
  const std::vector<Proportion> rates = {Rate(1, 3), Rate(2, 6)};
  ASSERT_OK_AND_ASSIGN(RateOrder order,
                       CheckRateOrder(rates, std::vector<int32_t>{0, 1}));
  EXPECT_FALSE(order.ordered);
  EXPECT_EQ(order.first_break, 0);
}

TEST(CheckRateOrderTest, EmptyGroupsAreSkippedAndListed) {
  const std::vector<Proportion> rates = {Rate(1, 10), Rate(0, 0), Rate(5, 10)};
  ASSERT_OK_AND_ASSIGN(RateOrder order,
                       CheckRateOrder(rates, std::vector<int32_t>{0, 1, 2}));
  EXPECT_TRUE(order.ordered);
  EXPECT_THAT(order.empty_groups, ElementsAre(1));
  ASSERT_EQ(order.pairs.size(), 1u);
  EXPECT_EQ(order.pairs[0].lower_group, 0);
  EXPECT_EQ(order.pairs[0].higher_group, 2);
  // One group with accounts: nothing to compare, so not "ordered".
  ASSERT_OK_AND_ASSIGN(RateOrder lone,
                       CheckRateOrder(rates, std::vector<int32_t>{1, 2}));
  EXPECT_FALSE(lone.ordered);
  EXPECT_TRUE(lone.pairs.empty());
  EXPECT_EQ(lone.first_break, -1);
}

TEST(CheckRateOrderTest, Errors) {
  const std::vector<Proportion> rates = {Rate(1, 10), Rate(5, 10)};
  EXPECT_THAT(CheckRateOrder(rates, std::vector<int32_t>{0, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("order[1] is 2: group indices must be in "
                                 "[0, 2)")));
  EXPECT_THAT(CheckRateOrder(rates, std::vector<int32_t>{1, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("order[1] repeats group 1")));
}

}  // namespace
}  // namespace healthscore::engine::stats
