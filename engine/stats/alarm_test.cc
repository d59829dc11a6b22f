#include "engine/stats/alarm.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::stats {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

TEST(EvaluateAlarmTest, CountsAndRatiosByHand) {
  // alarm   1 1 0 0 1 0
  // churned 1 0 1 0 1 0   -> tp 2, fp 1, fn 1, tn 2
  // precision 2/3, recall 2/3, F1 = 4 / (4 + 1 + 1) = 2/3.
  ASSERT_OK_AND_ASSIGN(AlarmMetrics m,
                       EvaluateAlarm(std::vector<uint8_t>{1, 1, 0, 0, 1, 0},
                                     std::vector<uint8_t>{1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(m.tp, 2);
  EXPECT_EQ(m.fp, 1);
  EXPECT_EQ(m.fn, 1);
  EXPECT_EQ(m.tn, 2);
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.f1, 2.0 / 3);
  // alarm 1 1 1 1, churned 1 0 0 0: precision 1/4, recall 1,
  // F1 = 2 / (2 + 3 + 0) = 0.4 = 2 * (1/4 * 1) / (1/4 + 1).
  ASSERT_OK_AND_ASSIGN(AlarmMetrics all,
                       EvaluateAlarm(std::vector<uint8_t>{1, 1, 1, 1},
                                     std::vector<uint8_t>{1, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(all.precision, 0.25);
  EXPECT_DOUBLE_EQ(all.recall, 1);
  EXPECT_DOUBLE_EQ(all.f1, 0.4);
}

TEST(EvaluateAlarmTest, ZeroOverZeroIsNaN) {
  // No alarm raised, one churner: precision 0/0 = NaN, recall 0/1 = 0,
  // F1 = 0 / (0 + 0 + 1) = 0.
  ASSERT_OK_AND_ASSIGN(
      AlarmMetrics silent,
      EvaluateAlarm(std::vector<uint8_t>{0, 0}, std::vector<uint8_t>{1, 0}));
  EXPECT_TRUE(std::isnan(silent.precision));
  EXPECT_EQ(silent.recall, 0);
  EXPECT_EQ(silent.f1, 0);
  // No alarm and nobody churned: all three 0/0.
  ASSERT_OK_AND_ASSIGN(
      AlarmMetrics quiet,
      EvaluateAlarm(std::vector<uint8_t>{0, 0}, std::vector<uint8_t>{0, 0}));
  EXPECT_TRUE(std::isnan(quiet.precision));
  EXPECT_TRUE(std::isnan(quiet.recall));
  EXPECT_TRUE(std::isnan(quiet.f1));
  EXPECT_EQ(quiet.tn, 2);
  // Alarms but nobody churned: precision 0, recall NaN, F1 0.
  ASSERT_OK_AND_ASSIGN(
      AlarmMetrics wrong,
      EvaluateAlarm(std::vector<uint8_t>{1, 0}, std::vector<uint8_t>{0, 0}));
  EXPECT_EQ(wrong.precision, 0);
  EXPECT_TRUE(std::isnan(wrong.recall));
  EXPECT_EQ(wrong.f1, 0);
}

TEST(EvaluateAlarmTest, Errors) {
  EXPECT_THAT(
      EvaluateAlarm(std::vector<uint8_t>{1}, std::vector<uint8_t>{1, 0}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("alarm has 1 values but churned has 2")));
  EXPECT_THAT(
      EvaluateAlarm(std::vector<uint8_t>{1, 3}, std::vector<uint8_t>{1, 0}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("alarm[1] is 3: labels must be 0 (no) or 1")));
  EXPECT_THAT(EvaluateAlarm({}, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no accounts: alarm is empty")));
}

}  // namespace
}  // namespace healthscore::engine::stats
