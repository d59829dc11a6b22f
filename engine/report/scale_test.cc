#include "engine/report/scale.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::report {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

TEST(NiceTicksTest, ExpandsToNiceBounds) {
  // Span 0.94 -> nice 1; 1 / 4 = 0.25 rounds to 0.2; floor(0.03 / 0.2) = 0
  // and ceil(0.97 / 0.2) = 5: ticks 0, 0.2, ..., 1.
  const Ticks t = NiceTicks(0.03, 0.97, 5);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  EXPECT_DOUBLE_EQ(t.min, 0);
  EXPECT_DOUBLE_EQ(t.max, 1);
  ASSERT_THAT(t.values, SizeIs(6));
  EXPECT_DOUBLE_EQ(t.values[3],
                   0.6000000000000001);  // 3 * 0.2, not 0.2+0.2+0.2
  EXPECT_EQ(t.values[3], 3 * 0.2);
}

TEST(NiceTicksTest, HandWorkedRanges) {
  // Span 87 -> nice 100; 100 / 4 = 25 rounds to 20 (25 < 30): 0..100 by 20.
  Ticks t = NiceTicks(13, 100, 5);
  EXPECT_DOUBLE_EQ(t.step, 20);
  EXPECT_THAT(t.values, ElementsAre(0, 20, 40, 60, 80, 100));
  // Span 4 -> nice 5; 5 / 4 = 1.25 rounds to 1: -2..2 by 1.
  t = NiceTicks(-2, 2, 5);
  EXPECT_THAT(t.values, ElementsAre(-2, -1, 0, 1, 2));
  // Span 1234 -> nice 2000; 2000 / 5 = 400 rounds to 500.
  t = NiceTicks(0, 1234, 6);
  EXPECT_DOUBLE_EQ(t.step, 500);
  EXPECT_THAT(t.values, ElementsAre(0, 500, 1000, 1500));
}

TEST(NiceTicksTest, FixedAxisKeepsBoundsAndTicksInside) {
  // [0.05, 0.95], span 0.9 -> nice 1 -> step 0.2; multiples inside: 0.2..0.8.
  const Ticks t = NiceTicks(0.05, 0.95, 5, /*expand=*/false);
  EXPECT_DOUBLE_EQ(t.min, 0.05);
  EXPECT_DOUBLE_EQ(t.max, 0.95);
  ASSERT_THAT(t.values, SizeIs(4));
  EXPECT_DOUBLE_EQ(t.values.front(), 0.2);
  EXPECT_DOUBLE_EQ(t.values.back(), 0.8);
  // Bounds on ticks count as ticks, despite binary noise.
  const Ticks u = NiceTicks(0, 1, 5, false);
  EXPECT_THAT(u.values, SizeIs(6));
}

TEST(NiceTicksTest, DegenerateInputIsDrawable) {
  Ticks t = NiceTicks(0, 0);
  EXPECT_LT(t.min, t.max);
  EXPECT_LE(t.min, 0);
  EXPECT_GE(t.max, 1);
  t = NiceTicks(50, 50);  // widened by 10% each side: 45..55
  EXPECT_LE(t.min, 45);
  EXPECT_GE(t.max, 55);
  t = NiceTicks(1, -1);  // swapped
  EXPECT_DOUBLE_EQ(t.min, -1);
  EXPECT_DOUBLE_EQ(t.max, 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  t = NiceTicks(nan, 3);
  EXPECT_DOUBLE_EQ(t.min, 0);
  EXPECT_DOUBLE_EQ(t.max, 1);
  t = NiceTicks(-1e308, 1e308);
  EXPECT_LT(t.min, t.max);
  EXPECT_LE(t.values.size(), 64u);
  EXPECT_GE(t.values.size(), 2u);
  // Tiny spans far from zero still give a few ticks.
  t = NiceTicks(1e17, 1e17 + 16);  // step 5: k + 1 == k near k = 2e16
  EXPECT_GE(t.values.size(), 1u);
  EXPECT_LE(t.values.size(), 64u);
  t = NiceTicks(1e15, 1e15 + 1);
  EXPECT_GE(t.values.size(), 2u);
  EXPECT_LE(t.values.size(), 64u);
}

TEST(FormatTickTest, RoundsToTheStep) {
  EXPECT_EQ(FormatTick(3 * 0.1, 0.1, false), "0.3");
  EXPECT_EQ(FormatTick(0.6000000000000001, 0.2, false), "0.6");
  EXPECT_EQ(FormatTick(100, 20, false), "100");
  EXPECT_EQ(FormatTick(1500, 500, false), "1500");
  EXPECT_EQ(FormatTick(0, 0.2, false), "0");
  EXPECT_EQ(FormatTick(-0.0, 0.2, false), "0");
  EXPECT_EQ(FormatTick(0.025, 0.025, false), "0.025");
  EXPECT_EQ(FormatTick(-1, 1, false), "-1");
  EXPECT_EQ(FormatTick(1e21, 1e20, false), "1e+21");
}

TEST(FormatTickTest, Percent) {
  EXPECT_EQ(FormatTick(0.25, 0.05, true), "25%");
  EXPECT_EQ(FormatTick(3 * 0.1, 0.1, true), "30%");
  EXPECT_EQ(FormatTick(0.005, 0.005, true), "0.5%");
  EXPECT_EQ(FormatTick(1, 0.2, true), "100%");
}

std::vector<Point> Roc(size_t n) {
  // A concave curve from (0,0) to (1,1): y = sqrt(x).
  std::vector<Point> p;
  for (size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i) / static_cast<double>(n - 1);
    p.push_back({x, std::sqrt(x)});
  }
  return p;
}

TEST(DecimateLttbTest, ShortSeriesAreUnchanged) {
  const std::vector<Point> p = Roc(10);
  const std::vector<Point> d = DecimateLttb(p, 10);
  ASSERT_EQ(d.size(), 10u);
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(d[i].x, p[i].x);
    EXPECT_EQ(d[i].y, p[i].y);
  }
  EXPECT_TRUE(DecimateLttb({}, 5).empty());
}

TEST(DecimateLttbTest, KeepsEndpointsOrderAndBound) {
  const std::vector<Point> p = Roc(1000000);
  const std::vector<Point> d = DecimateLttb(p, 2000);
  ASSERT_EQ(d.size(), 2000u);
  EXPECT_EQ(d.front().x, 0);
  EXPECT_EQ(d.front().y, 0);
  EXPECT_EQ(d.back().x, 1);
  EXPECT_EQ(d.back().y, 1);
  for (size_t i = 1; i < d.size(); ++i) ASSERT_LT(d[i - 1].x, d[i].x) << i;
  // Every kept point is one of the input's (on the curve).
  for (const Point& q : d) EXPECT_DOUBLE_EQ(q.y, std::sqrt(q.x));
}

TEST(DecimateLttbTest, KeepsAPeak) {
  // Flat but for one spike at index 500: the triangle test must pick it.
  std::vector<Point> p;
  for (int i = 0; i < 1000; ++i) p.push_back({double(i), i == 500 ? 100.0 : 0});
  const std::vector<Point> d = DecimateLttb(p, 20);
  ASSERT_EQ(d.size(), 20u);
  bool peak = false;
  for (const Point& q : d) peak = peak || (q.x == 500 && q.y == 100);
  EXPECT_TRUE(peak);
}

TEST(DecimateLttbTest, BoundBelowThreeIsThree) {
  const std::vector<Point> d = DecimateLttb(Roc(100), 0);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.front().x, 0);
  EXPECT_EQ(d.back().x, 1);
}

}  // namespace
}  // namespace healthscore::engine::report
