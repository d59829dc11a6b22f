// The usage_anomaly plugin, loaded from its real shared library.

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/plugin_host/testing/signal_harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::plugin_testing {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::healthscore::engine::plugin_host::testing::BuildTreeHost;
using ::healthscore::engine::plugin_host::testing::MakeSignal;
using ::healthscore::engine::plugin_host::testing::Output;
using ::healthscore::engine::plugin_host::testing::RunSignal;
using ::healthscore::engine::plugin_host::testing::SeriesColumn;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Median 10, MAD 1 (sorted: 8 9 9 10 10 11 11 12; |x - 10| sorted:
// 0 0 1 1 1 1 2 2).
const std::vector<double> kHistory = {8, 9, 10, 11, 12, 9, 10, 11};

std::vector<double> With(std::vector<double> history,
                         const std::vector<double>& recent) {
  history.insert(history.end(), recent.begin(), recent.end());
  return history;
}

class UsageAnomalyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = BuildTreeHost();
    ASSERT_NE(host_, nullptr);
  }
  std::unique_ptr<engine::plugin_host::PluginHost> host_;
};

TEST_F(UsageAnomalyTest, RobustZScoreOfTheLatestPoint) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "usage_anomaly",
                                               "usage_anomaly", 1));
  EXPECT_EQ(signal->instance().library().threading(), HS_THREADING_PER_SIGNAL);
  SeriesColumn usage;
  usage.Add(With(kHistory, {4}));    // a sudden drop
  usage.Add(With(kHistory, {10}));   // usual
  usage.Add(With(kHistory, {11}));   // a little up
  usage.Add(With(kHistory, {100}));  // far beyond the cap
  Output out = RunSignal(*signal, {usage});
  EXPECT_THAT(out.valid, ElementsAre(1, 1, 1, 1));
  EXPECT_THAT(out.value,
              ElementsAre(DoubleNear(-6 / 1.4826, 1e-12), DoubleNear(0, 0),
                          DoubleNear(1 / 1.4826, 1e-12), DoubleNear(10, 0)));
}

TEST_F(UsageAnomalyTest, RecentPeriodAndHistoryWindow) {
  ASSERT_OK_AND_ASSIGN(
      auto signal,
      MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1,
                 {{"recent", "2"}, {"history", "8"}, {"min_history", "8"}}));
  SeriesColumn usage;
  // Old points beyond the history window do not count.
  usage.Add(With(With({1000, -1000, 5000}, kHistory), {4, 6}));
  Output out = RunSignal(*signal, {usage});
  ASSERT_THAT(out.valid, ElementsAre(1));
  EXPECT_NEAR(out.value[0], -5 / 1.4826, 1e-12);
}

TEST_F(UsageAnomalyTest, FlatHistoryFallsBack) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "usage_anomaly",
                                               "usage_anomaly", 1));
  const std::vector<double> flat(8, 5.0);
  std::vector<double> one_off = flat;
  one_off.back() = 9;  // MAD 0, mean absolute deviation 0.5
  SeriesColumn usage;
  usage.Add(With(flat, {5}));
  usage.Add(With(flat, {6}));
  usage.Add(With(flat, {4}));
  usage.Add(With(one_off, {6}));
  Output out = RunSignal(*signal, {usage});
  EXPECT_THAT(out.valid, ElementsAre(1, 1, 1, 1));
  EXPECT_THAT(out.value, ElementsAre(DoubleNear(0, 0), DoubleNear(10, 0),
                                     DoubleNear(-10, 0),
                                     DoubleNear(1 / (1.2533 * 0.5), 1e-12)));
}

TEST_F(UsageAnomalyTest, ShortOrMissingSeriesAreMissingAndNanIsAnError) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "usage_anomaly",
                                               "usage_anomaly", 1));
  const auto& counters = signal->instance().library().counters();
  const uint64_t errors_before = counters.row_errors.load();
  SeriesColumn usage;
  usage.AddMissing();
  usage.Add(kHistory);  // 8 points: 7 of history after the recent one
  usage.Add(With(kHistory, {std::numeric_limits<double>::quiet_NaN()}));
  Output out = RunSignal(*signal, {usage});
  EXPECT_THAT(out.valid, ElementsAre(0, 0, 0));
  EXPECT_EQ(counters.row_errors.load() - errors_before, 1u);
}

TEST_F(UsageAnomalyTest, ConfigSetsDefaultsThatParamsOverride) {
  SeriesColumn usage;
  usage.Add(With(kHistory, {100}));
  ASSERT_OK_AND_ASSIGN(
      auto capped, MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1,
                              {}, {{"cap", "3"}}));
  EXPECT_EQ(RunSignal(*capped, {usage}).value[0], 3);
  ASSERT_OK_AND_ASSIGN(auto overridden,
                       MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly",
                                  1, {{"cap", "5"}}, {{"cap", "3"}}));
  EXPECT_EQ(RunSignal(*overridden, {usage}).value[0], 5);
}

TEST_F(UsageAnomalyTest, RejectsBadSettings) {
  EXPECT_THAT(MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1,
                         {{"recnt", "2"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("unknown setting 'recnt' (known: recent, "
                                 "history, min_history, cap)")));
  EXPECT_THAT(MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1,
                         {{"recent", "0"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'recent' must be at least 1")));
  EXPECT_THAT(MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1,
                         {{"cap", "lots"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'cap' must be a finite number, got 'lots'")));
  EXPECT_THAT(MakeSignal(host_.get(), "usage_anomaly", "usage_anomaly", 1, {},
                         {{"min_history", "1"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("failed to initialise: 'min_history' must "
                                 "be at least 2 (INVALID_ARGUMENT)")));
}

}  // namespace
}  // namespace healthscore::plugin_testing
