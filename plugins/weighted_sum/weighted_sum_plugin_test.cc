// The weighted_sum plugin, loaded from its real shared library.

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
using ::healthscore::engine::plugin_host::testing::NumberColumn;
using ::healthscore::engine::plugin_host::testing::Output;
using ::healthscore::engine::plugin_host::testing::RunSignal;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class WeightedSumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = BuildTreeHost();
    ASSERT_NE(host_, nullptr);
    a_.Add(10).Add(10).AddMissing().AddMissing();
    b_.Add(20).AddMissing().Add(40).AddMissing();
    c_.Add(40).Add(30).Add(0).AddMissing();
  }
  std::unique_ptr<engine::plugin_host::PluginHost> host_;
  NumberColumn a_, b_, c_;
};

TEST_F(WeightedSumTest, WeightedMeanSkipsMissingInputs) {
  ASSERT_OK_AND_ASSIGN(
      auto signal, MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 3,
                              {{"weights", "0.5,0.25,0.25"}}));
  Output out = RunSignal(*signal, {a_, b_, c_});
  EXPECT_THAT(out.valid, ElementsAre(1, 1, 1, 0));
  // (5 + 5 + 10) / 1; (5 + 7.5) / 0.75; (10 + 0) / 0.5.
  EXPECT_THAT(std::vector<double>(out.value.begin(), out.value.begin() + 3),
              ElementsAre(DoubleEq(20), DoubleEq(12.5 / 0.75), DoubleEq(20)));
}

TEST_F(WeightedSumTest, RequireAllAndPlainSum) {
  ASSERT_OK_AND_ASSIGN(
      auto signal, MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 3,
                              {{"weights", "1, 2, 3"},
                               {"missing", "require"},
                               {"normalize", "false"}}));
  Output out = RunSignal(*signal, {a_, b_, c_});
  EXPECT_THAT(out.valid, ElementsAre(1, 0, 0, 0));
  EXPECT_EQ(out.value[0], 10 + 40 + 120);
}

TEST_F(WeightedSumTest, ChecksParamsAgainstTheBoundInputs) {
  EXPECT_THAT(MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 2,
                         {{"weights", "1,2,3"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'weights' has 3 entries for 2 inputs")));
  EXPECT_THAT(MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 1, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("missing required key 'weights'")));
  EXPECT_THAT(MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 1,
                         {{"weights", "1"}, {"missing", "ignore"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'missing' must be skip or require, got "
                                 "'ignore'")));
  // Variadic: at least one input.
  EXPECT_THAT(MakeSignal(host_.get(), "weighted_sum", "weighted_sum", 0,
                         {{"weights", "1"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("signal weighted_sum(value: number, ...) of "
                                 "plugin 'weighted_sum' takes at least 1 "
                                 "input, got 0")));
}

}  // namespace
}  // namespace healthscore::plugin_testing
