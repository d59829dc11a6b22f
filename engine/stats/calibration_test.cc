#include "engine/stats/calibration.h"

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
using Knot = IsotonicCalibration::Knot;

constexpr double kInf = std::numeric_limits<double>::infinity();

void ExpectKnots(const IsotonicCalibration& map,
                 const std::vector<Knot>& expected) {
  ASSERT_EQ(map.knots().size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(map.knots()[k].risk, expected[k].risk) << "knot " << k;
    EXPECT_DOUBLE_EQ(map.knots()[k].probability, expected[k].probability)
        << "knot " << k;
  }
}

TEST(IsotonicCalibrationTest, PoolAdjacentViolatorsByHand) {
  // Risks 1..6 with labels 0 1 0 0 1 1 (given shuffled below).
  //   push 1:{0}                                   blocks: [0]
  //   push 2:{1}                                   [0] [1]
  //   push 3:{0}: 1 >= 0, pool 2-3 -> 1/2          [0] [1/2]
  //   push 4:{0}: 1/2 >= 0, pool 2-4 -> 1/3        [0] [1/3]
  //   push 5:{1}                                   [0] [1/3] [1]
  //   push 6:{1}: 1 >= 1, pool 5-6 -> 1            [0] [1/3] [1]
  // Fit: 0, 1/3, 1/3, 1/3, 1, 1 (mean 3/6 = label mean). Knots at each
  // block's ends: (1, 0), (2, 1/3), (4, 1/3), (5, 1), (6, 1).
  const std::vector<double> risk = {4, 1, 6, 2, 5, 3};
  const std::vector<uint8_t> churned = {0, 0, 1, 1, 1, 0};
  ASSERT_OK_AND_ASSIGN(IsotonicCalibration map,
                       IsotonicCalibration::Fit(risk, churned));
  ExpectKnots(map, {{1, 0}, {2, 1.0 / 3}, {4, 1.0 / 3}, {5, 1}, {6, 1}});
  EXPECT_EQ(map.Apply(1), 0);
  EXPECT_DOUBLE_EQ(map.Apply(3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(map.Apply(3.7), 1.0 / 3);  // inside a block: flat
  // Between blocks, linear: 4.5 is halfway from (4, 1/3) to (5, 1): 2/3.
  EXPECT_DOUBLE_EQ(map.Apply(4.5), 2.0 / 3);
  EXPECT_EQ(map.Apply(-10), 0);  // below the range: first knot
  EXPECT_EQ(map.Apply(99), 1);   // above: last knot
  EXPECT_EQ(map.Apply(kInf), 1);
  EXPECT_TRUE(std::isnan(map.Apply(std::nan(""))));
}

TEST(IsotonicCalibrationTest, EqualRisksGetOneProbability) {
  // Risk 1: labels 1, 0 (rate 1/2); risk 2: labels 0, 0 (rate 0).
  // 1/2 >= 0 violates: pool all four -> 1/4, one block from 1 to 2.
  ASSERT_OK_AND_ASSIGN(
      IsotonicCalibration map,
      IsotonicCalibration::Fit(std::vector<double>{1, 1, 2, 2},
                               std::vector<uint8_t>{1, 0, 0, 0}));
  ExpectKnots(map, {{1, 0.25}, {2, 0.25}});
  // No churners at all: the constant map 0, one knot per block.
  ASSERT_OK_AND_ASSIGN(IsotonicCalibration zero,
                       IsotonicCalibration::Fit(std::vector<double>{3, 1, 2},
                                                std::vector<uint8_t>{0, 0, 0}));
  ExpectKnots(zero, {{1, 0}, {3, 0}});
}

TEST(IsotonicCalibrationTest, FitIsMonotoneAndKeepsTheMean) {
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> noise;
    std::vector<double> risk;
    std::vector<uint8_t> churned;
    double label_sum = 0;
    for (int i = 0; i < 2000; ++i) {
      const double r = std::round(noise(rng) * 8) / 8;  // ties
      const double p = 1 / (1 + std::exp(-2 * r));
      churned.push_back(std::uniform_real_distribution<double>()(rng) < p);
      risk.push_back(r);
      label_sum += churned.back();
    }
    ASSERT_OK_AND_ASSIGN(IsotonicCalibration map,
                         IsotonicCalibration::Fit(risk, churned));
    std::vector<double> fitted(risk.size());
    ASSERT_OK(map.ApplyAll(risk, absl::MakeSpan(fitted)));
    double fitted_sum = 0;
    for (size_t i = 0; i < risk.size(); ++i) {
      fitted_sum += fitted[i];
      for (size_t j : {size_t{0}, risk.size() / 2, risk.size() - 1}) {
        if (risk[i] < risk[j]) {
          EXPECT_LE(fitted[i], fitted[j]);
        }
        if (risk[i] == risk[j]) {
          EXPECT_EQ(fitted[i], fitted[j]);
        }
      }
    }
    EXPECT_NEAR(fitted_sum / risk.size(), label_sum / risk.size(), 1e-12);
    for (size_t k = 1; k < map.knots().size(); ++k) {
      EXPECT_LT(map.knots()[k - 1].risk, map.knots()[k].risk);
      EXPECT_LE(map.knots()[k - 1].probability, map.knots()[k].probability);
    }
    // A held-out grid is non-decreasing too.
    double previous = -1;
    for (double r = -4; r <= 4; r += 0.01) {
      EXPECT_GE(map.Apply(r), previous);
      previous = map.Apply(r);
    }
  }
}

TEST(IsotonicCalibrationTest, FromKnotsRoundTripsAndValidates) {
  ASSERT_OK_AND_ASSIGN(
      IsotonicCalibration fitted,
      IsotonicCalibration::Fit(std::vector<double>{1, 2, 3, 4},
                               std::vector<uint8_t>{0, 1, 0, 1}));
  ASSERT_OK_AND_ASSIGN(IsotonicCalibration copy,
                       IsotonicCalibration::FromKnots(fitted.knots()));
  for (double r = 0; r <= 5; r += 0.25)
    EXPECT_EQ(copy.Apply(r), fitted.Apply(r));
  EXPECT_THAT(IsotonicCalibration::FromKnots({}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one knot")));
  EXPECT_THAT(IsotonicCalibration::FromKnots({{1, 0.2}, {1, 0.3}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("knot 1 (1, 0.3) does not follow knot 0")));
  EXPECT_THAT(IsotonicCalibration::FromKnots({{1, 0.5}, {2, 0.3}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("probabilities must not decrease")));
  EXPECT_THAT(IsotonicCalibration::FromKnots({{1, 1.5}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("probability in [0, 1]")));
  EXPECT_THAT(IsotonicCalibration::FromKnots({{kInf, 0.5}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk must be finite")));
}

TEST(IsotonicCalibrationTest, Errors) {
  EXPECT_THAT(IsotonicCalibration::Fit(std::vector<double>{1, std::nan("")},
                                       std::vector<uint8_t>{0, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk[1] is NaN")));
  EXPECT_THAT(IsotonicCalibration::Fit(std::vector<double>{1, -kInf},
                                       std::vector<uint8_t>{0, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk[1] is -inf: the calibration map is "
                                 "fitted on finite risk values only")));
  EXPECT_THAT(
      IsotonicCalibration::Fit({}, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no accounts")));
  ASSERT_OK_AND_ASSIGN(IsotonicCalibration map,
                       IsotonicCalibration::Fit(std::vector<double>{1, 2},
                                                std::vector<uint8_t>{0, 1}));
  std::vector<double> out(1);
  EXPECT_THAT(map.ApplyAll(std::vector<double>{1, 2}, absl::MakeSpan(out)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk has 2 values but out has room for 1")));
  EXPECT_THAT(
      map.ApplyAll(std::vector<double>{std::nan("")}, absl::MakeSpan(out)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("risk[0] is NaN")));
}

TEST(BrierScoreTest, ByHand) {
  // (0.1 - 0)^2 + (0.9 - 1)^2 + (0.5 - 1)^2 + (0 - 0)^2
  //   = 0.01 + 0.01 + 0.25 + 0 = 0.27, over 4 accounts = 0.0675.
  ASSERT_OK_AND_ASSIGN(double brier,
                       BrierScore(std::vector<double>{0.1, 0.9, 0.5, 0.0},
                                  std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_NEAR(brier, 0.0675, 1e-15);
  EXPECT_EQ(
      BrierScore(std::vector<double>{1, 0}, std::vector<uint8_t>{0, 1}).value(),
      1.0);
}

TEST(BrierScoreTest, Errors) {
  EXPECT_THAT(
      BrierScore(std::vector<double>{0.5, 1.5}, std::vector<uint8_t>{0, 1}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("probability[1] is 1.5: probabilities must "
                         "be in [0, 1]")));
  EXPECT_THAT(
      BrierScore(std::vector<double>{std::nan("")}, std::vector<uint8_t>{0}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("probability[0] is nan")));
  EXPECT_THAT(
      BrierScore(std::vector<double>{0.5}, std::vector<uint8_t>{0, 1}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("probability has 1 values but churned has 2")));
  EXPECT_THAT(BrierScore({}, {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("no accounts")));
}

TEST(CalibrationByBandTest, BandsAndEdges) {
  // Edges 0, 50, 100: band 0 = [0, 50), band 1 = [50, 100] (top closed).
  //   score 10 (p 0.2, churned), 49.9 (p 0.4, retained) -> band 0:
  //     2 accounts, 1 churned, rate 1/2, mean predicted 0.3
  //   score 50 (p 0.1), 60 (p 0.3), 100 (p 0.5), all retained -> band 1:
  //     3 accounts, 0 churned, mean predicted 0.3
  const std::vector<double> score = {10, 50, 60, 100, 49.9};
  const std::vector<double> prob = {0.2, 0.1, 0.3, 0.5, 0.4};
  const std::vector<uint8_t> churned = {1, 0, 0, 0, 0};
  ASSERT_OK_AND_ASSIGN(
      std::vector<CalibrationBand> bands,
      CalibrationByBand(score, prob, churned, std::vector<double>{0, 50, 100}));
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_EQ(bands[0].lower, 0);
  EXPECT_EQ(bands[0].upper, 50);
  EXPECT_EQ(bands[0].observed.trials, 2);
  EXPECT_EQ(bands[0].observed.successes, 1);
  EXPECT_EQ(bands[0].observed.rate, 0.5);
  EXPECT_DOUBLE_EQ(bands[0].mean_predicted, 0.3);
  ASSERT_OK_AND_ASSIGN(Proportion half, WilsonInterval(1, 2));
  EXPECT_EQ(bands[0].observed.lower, half.lower);
  EXPECT_EQ(bands[1].observed.trials, 3);
  EXPECT_EQ(bands[1].observed.successes, 0);
  EXPECT_DOUBLE_EQ(bands[1].mean_predicted, 0.3);
}

TEST(CalibrationByBandTest, EmptyBandsAndInfiniteEdges) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<CalibrationBand> bands,
      CalibrationByBand(std::vector<double>{-500, 7}, std::vector<double>{0, 1},
                        std::vector<uint8_t>{0, 1},
                        std::vector<double>{-kInf, 0, 5, kInf}));
  ASSERT_EQ(bands.size(), 3u);
  EXPECT_EQ(bands[0].observed.trials, 1);
  EXPECT_EQ(bands[1].observed.trials, 0);
  EXPECT_TRUE(std::isnan(bands[1].observed.rate));
  EXPECT_TRUE(std::isnan(bands[1].mean_predicted));
  EXPECT_EQ(bands[2].observed.trials, 1);
}

TEST(CalibrationByBandTest, Errors) {
  const std::vector<double> prob = {0.5};
  const std::vector<uint8_t> churned = {1};
  EXPECT_THAT(CalibrationByBand(std::vector<double>{100.5}, prob, churned,
                                std::vector<double>{0, 50, 100}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("band_value[0] is 100.5: outside the band "
                                 "edges [0, 100]")));
  EXPECT_THAT(CalibrationByBand(std::vector<double>{1}, prob, churned,
                                std::vector<double>{0, 50, 50}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("edges[2] is 50: band edges must be numbers "
                                 "in strictly increasing order")));
  EXPECT_THAT(CalibrationByBand(std::vector<double>{1}, prob, churned,
                                std::vector<double>{0}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least 2 edges, got 1")));
  EXPECT_THAT(CalibrationByBand(std::vector<double>{std::nan("")}, prob,
                                churned, std::vector<double>{0, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("band_value[0] is nan")));
  EXPECT_THAT(CalibrationByBand(std::vector<double>{1, 2}, prob, churned,
                                std::vector<double>{0, 1}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("band_value has 2 values but churned has 1")));
}

}  // namespace
}  // namespace healthscore::engine::stats
