#include "server/histogram.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::testing::ElementsAre;

TEST(LatencyHistogramTest, EmptySnapshot) {
  LatencyHistogram h;
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.bounds_micros.front(), 100);
  EXPECT_EQ(s.bounds_micros.back(), 10000000);
  ASSERT_EQ(s.counts.size(), s.bounds_micros.size() + 1);
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.sum_micros, 0u);
}

TEST(LatencyHistogramTest, BoundsAreInclusive) {
  LatencyHistogram h;
  h.Observe(absl::Microseconds(-5));     // counts as 0
  h.Observe(absl::Microseconds(100));    // le=100us
  h.Observe(absl::Microseconds(101));    // le=200us
  h.Observe(absl::Microseconds(201));    // le=250us
  h.Observe(absl::Nanoseconds(250999));  // 250us, truncated
  h.Observe(absl::Seconds(10));          // the last bound
  h.Observe(absl::Seconds(11));          // +Inf
  HistogramSnapshot s = h.Snapshot();
  EXPECT_THAT(s.counts, ElementsAre(2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 1, 1));
  EXPECT_EQ(s.count(), 7u);
  EXPECT_EQ(s.sum_micros, 0u + 100 + 101 + 201 + 250 + 10000000 + 11000000);
}

TEST(LatencyHistogramTest, ConcurrentObservationsAllCount) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe(absl::Milliseconds(t));
    });
  }
  for (std::thread& t : threads) t.join();
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count(), 40000u);
  EXPECT_EQ(s.sum_micros, 10000u * (0 + 1000 + 2000 + 3000));
  EXPECT_EQ(s.counts[0], 10000u);  // 0ms
  EXPECT_EQ(s.counts[4], 10000u);  // 1ms: le=1000us
  EXPECT_EQ(s.counts[5], 10000u);  // 2ms: le=2500us
  EXPECT_EQ(s.counts[6], 10000u);  // 3ms: le=5000us
}

}  // namespace
}  // namespace healthscore::server
