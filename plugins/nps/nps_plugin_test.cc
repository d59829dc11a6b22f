// The nps plugin, loaded from its real shared library.

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
using ::testing::AllOf;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = BuildTreeHost();
    ASSERT_NE(host_, nullptr);
  }
  std::unique_ptr<engine::plugin_host::PluginHost> host_;
};

TEST_F(NpsTest, DescribesItself) {
  ASSERT_OK_AND_ASSIGN(auto lib, host_->Load("nps"));
  EXPECT_EQ(lib->name(), "nps");
  EXPECT_EQ(lib->version(), "1.0.0");
  EXPECT_EQ(lib->threading(), HS_THREADING_CONCURRENT);
  ASSERT_EQ(lib->signals().size(), 1u);
  EXPECT_EQ(lib->signals()[0].Signature(), "nps(answers: series)");
}

TEST_F(NpsTest, PromotersMinusDetractors) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "nps", "nps", 1));
  SeriesColumn answers;
  answers.Add({10, 9, 9, 8, 7, 6, 0, 10, 9, 3});  // 5 promoters, 3 detractors
  answers.Add({10, 10, 9});                       // all promoters
  answers.Add({0, 1, 2, 6});                      // all detractors
  answers.Add({7, 8, 7.5});                       // all passives
  answers.Add({6.9, 9.0, 8.99});                  // fractions: 1 - 1
  Output out = RunSignal(*signal, {answers});
  EXPECT_THAT(out.valid, ElementsAre(1, 1, 1, 1, 1));
  EXPECT_THAT(out.value, ElementsAre(DoubleEq(20), DoubleEq(100),
                                     DoubleEq(-100), DoubleEq(0), DoubleEq(0)));
}

TEST_F(NpsTest, MissingAndTooFewAnswersAreMissing) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "nps", "nps", 1,
                                               {{"min_responses", "3"}}));
  SeriesColumn answers;
  answers.AddMissing();
  answers.Add({});
  answers.Add({10, 10});
  answers.Add({10, 10, 0});
  Output out = RunSignal(*signal, {answers});
  EXPECT_THAT(out.valid, ElementsAre(0, 0, 0, 1));
  EXPECT_NEAR(out.value[3], 100.0 / 3, 1e-12);
  // Missing rows are not errors.
  EXPECT_EQ(signal->instance().library().counters().row_errors.load(), 0u);
}

TEST_F(NpsTest, WindowKeepsTheLatestAnswers) {
  ASSERT_OK_AND_ASSIGN(
      auto signal, MakeSignal(host_.get(), "nps", "nps", 1, {{"window", "2"}}));
  SeriesColumn answers;
  answers.Add({0, 0, 0, 10, 9});  // the last two: promoters
  answers.Add({10});              // shorter than the window
  Output out = RunSignal(*signal, {answers});
  EXPECT_THAT(out.valid, ElementsAre(1, 1));
  EXPECT_THAT(out.value, ElementsAre(DoubleEq(100), DoubleEq(100)));
}

TEST_F(NpsTest, AnswersOutsideTheScaleAreRowErrors) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "nps", "nps", 1));
  const uint64_t before =
      signal->instance().library().counters().row_errors.load();
  SeriesColumn answers;
  answers.Add({10, 11});
  answers.Add({-1});
  answers.Add({9});
  Output out = RunSignal(*signal, {answers});
  EXPECT_THAT(out.valid, ElementsAre(0, 0, 1));
  EXPECT_EQ(signal->instance().library().counters().row_errors.load() - before,
            2u);
}

TEST_F(NpsTest, ManyChunksGiveTheSameAnswerPerRow) {
  ASSERT_OK_AND_ASSIGN(auto signal, MakeSignal(host_.get(), "nps", "nps", 1));
  SeriesColumn answers;
  for (int i = 0; i < 1000; ++i) answers.Add({static_cast<double>(i % 11)});
  Output out = RunSignal(*signal, {answers});
  for (int i = 0; i < 1000; ++i) {
    const int a = i % 11;
    const double want = a >= 9 ? 100 : (a <= 6 ? -100 : 0);
    ASSERT_TRUE(out.valid[i]) << i;
    ASSERT_EQ(out.value[i], want) << i;
  }
}

TEST_F(NpsTest, RejectsConfigAndUnknownOrBadParams) {
  EXPECT_THAT(MakeSignal(host_.get(), "nps", "nps", 1, {}, {{"scale", "5"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("nps takes no config, got 'scale'"),
                             HasSubstr("libhs_nps.so"))));
  EXPECT_THAT(MakeSignal(host_.get(), "nps", "nps", 1, {{"windw", "3"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("unknown param 'windw' (known: window, "
                                 "min_responses)")));
  EXPECT_THAT(MakeSignal(host_.get(), "nps", "nps", 1, {{"window", "-2"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'window' must be an integer from 0 to "
                                 "1000000, got '-2'")));
}

}  // namespace
}  // namespace healthscore::plugin_testing
