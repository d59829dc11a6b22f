#include "engine/stats/delong.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/stats/roc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::stats {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

// DeLong et al. (1988) written out directly, O(P N): the structural
// components from their definition and the (co)variances from them. This is
// the reference the O(n log n) implementation must reproduce.
struct Direct {
  double auc_a = 0, auc_b = 0;
  double var_a = 0, var_b = 0, cov = 0;
};

// pROC's aSAH data set (Turck et al. 2010, Intensive Care Medicine
// 36(1):107-115), 113 patients: outcome (P =
// poor = the positive class, G = good), WFNS grade, S100B and NDKA. That
// every pROC value below is reproduced to 1e-12 also checks the
// transcription.
constexpr char kAsahOutcome[] =
    "GGGGPPGPGGPGPPGGPGPPPGPGGGGGGGGGPGGPPGPPGGGGGGGGGPPGGGPGGGPG"
    "PGGPPPGPPGPPPPGGGPPGPGGGGGGPGGGGGGGGGGGGPPPPPPGGGPGGG";
constexpr double kAsahWfns[] = {
    1, 1, 1, 1, 3, 2, 5, 4, 1, 2, 5, 2, 5, 5, 1, 2, 5, 2, 2, 5, 2, 1, 1,
    1, 1, 2, 1, 2, 1, 1, 3, 4, 2, 1, 4, 5, 4, 1, 4, 2, 5, 5, 1, 1, 2, 4,
    1, 1, 2, 5, 5, 2, 1, 2, 5, 1, 2, 2, 2, 1, 5, 1, 1, 2, 5, 2, 1, 4, 5,
    2, 4, 4, 1, 4, 1, 2, 1, 4, 2, 1, 2, 3, 2, 4, 2, 1, 4, 5, 1, 1, 5, 4,
    2, 2, 1, 1, 1, 3, 1, 2, 5, 2, 2, 5, 5, 5, 2, 4, 4, 5, 1, 1, 1};
constexpr double kAsahS100b[] = {
    0.13, 0.14, 0.1,  0.04, 0.13, 0.1,  0.47, 0.16, 0.18, 0.1,  0.12, 0.1,
    0.44, 0.71, 0.04, 0.08, 0.49, 0.04, 0.07, 0.33, 0.09, 0.09, 0.07, 0.11,
    0.07, 0.17, 0.07, 0.11, 0.13, 0.19, 0.05, 0.16, 0.41, 0.14, 0.34, 0.35,
    0.48, 0.09, 0.96, 0.25, 0.5,  0.46, 0.16, 0.07, 0.43, 0.45, 0.11, 0.08,
    0.09, 0.86, 0.52, 0.08, 0.06, 0.13, 2.07, 0.1,  0.14, 0.15, 0.07, 0.06,
    0.77, 0.05, 0.09, 0.3,  0.03, 0.09, 0.04, 0.23, 0.7,  0.09, 0.27, 0.71,
    0.08, 0.26, 0.08, 0.16, 0.09, 0.13, 0.1,  0.08, 0.11, 0.33, 0.11, 0.28,
    0.07, 0.1,  0.32, 0.22, 0.07, 0.05, 0.24, 0.38, 0.1,  0.15, 0.08, 0.14,
    0.1,  0.07, 0.04, 0.19, 0.56, 0.14, 0.58, 0.32, 0.82, 0.74, 0.15, 0.47,
    0.17, 0.44, 0.15, 0.5,  0.48};
constexpr double kAsahNdka[] = {
    3.01,  8.54,  8.09,  10.42, 17.4,   12.75, 6.0,   13.2,  15.54, 6.01,
    15.96, 17.86, 5.18,  8.9,   13.41,  20.75, 11.6,  16.11, 32.37, 54.82,
    32.41, 49.94, 40.34, 9.47,  6.29,   12.53, 6.54,  6.3,   80.3,  12.8,
    9.8,   9.81,  9.85,  18.21, 5.03,   14.04, 21.93, 8.02,  7.42,  8.38,
    6.59,  9.63,  13.12, 7.96,  14.34,  41.43, 7.63,  7.06,  12.59, 13.56,
    3.87,  9.44,  7.66,  12.98, 419.19, 27.19, 22.27, 9.95,  21.22, 11.73,
    10.4,  58.83, 6.39,  11.09, 12.22,  13.67, 17.21, 22.63, 12.9,  9.7,
    21.57, 8.23,  72.57, 15.54, 10.51,  10.6,  14.57, 5.19,  9.63,  4.61,
    21.48, 17.3,  12.71, 9.44,  11.07,  19.46, 10.83, 5.37,  11.97, 7.75,
    9.83,  10.55, 28.49, 8.53,  12.57,  12.9,  46.83, 11.68, 12.67, 9.01,
    9.57,  34.06, 11.72, 14.26, 47.61,  11.67, 24.58, 10.33, 13.87, 15.89,
    22.43, 6.79,  13.45};

double Psi(double x, double y) { return x > y ? 1.0 : x == y ? 0.5 : 0.0; }

Direct DirectDelong(const std::vector<double>& a, const std::vector<double>& b,
                    const std::vector<uint8_t>& churned) {
  std::vector<size_t> pos, neg;
  for (size_t i = 0; i < churned.size(); ++i) {
    (churned[i] ? pos : neg).push_back(i);
  }
  const double p = pos.size(), n = neg.size();
  std::vector<double> v10a, v10b, v01a, v01b;
  for (size_t i : pos) {
    double sa = 0, sb = 0;
    for (size_t j : neg) {
      sa += Psi(a[i], a[j]);
      sb += Psi(b[i], b[j]);
    }
    v10a.push_back(sa / n);
    v10b.push_back(sb / n);
  }
  for (size_t j : neg) {
    double sa = 0, sb = 0;
    for (size_t i : pos) {
      sa += Psi(a[i], a[j]);
      sb += Psi(b[i], b[j]);
    }
    v01a.push_back(sa / p);
    v01b.push_back(sb / p);
  }
  Direct d;
  for (double v : v10a) d.auc_a += v / p;
  for (double v : v10b) d.auc_b += v / p;
  auto cov = [](const std::vector<double>& x, double mx,
                const std::vector<double>& y, double my) {
    double s = 0;
    for (size_t k = 0; k < x.size(); ++k) s += (x[k] - mx) * (y[k] - my);
    return s / (x.size() - 1);
  };
  d.var_a = cov(v10a, d.auc_a, v10a, d.auc_a) / p +
            cov(v01a, d.auc_a, v01a, d.auc_a) / n;
  d.var_b = cov(v10b, d.auc_b, v10b, d.auc_b) / p +
            cov(v01b, d.auc_b, v01b, d.auc_b) / n;
  d.cov = cov(v10a, d.auc_a, v10b, d.auc_b) / p +
          cov(v01a, d.auc_a, v01b, d.auc_b) / n;
  return d;
}

TEST(DelongAucTest, ThreeByThreeByHand) {
  // Churned risks x = 2, 3, 3; retained y = 1, 2, 3 (roc_test's case),
  // AUC = 13/18.
  // V10(x) = (retained below + tied/2) / 3: x=2 -> 1.5/3 = 9/18,
  //   x=3 -> 2.5/3 = 15/18 (twice). Deviations from 13/18: -4, +2, +2
  //   (in 18ths): S10 = (16 + 4 + 4) / 324 / 2 = 1/27.
  // V01(y) = (churned above + tied/2) / 3: y=1 -> 1 = 18/18,
  //   y=2 -> 2.5/3 = 15/18, y=3 -> 1/3 = 6/18. Deviations: +5, +2, -7:
  //   S01 = (25 + 4 + 49) / 324 / 2 = 13/108.
  // Var = S10/3 + S01/3 = (4/108 + 13/108) / 3 = 17/324, SE = sqrt(17)/18
  //   = 0.2290614; 13/18 -+ 1.959964 * 0.2290614 = [0.273270, 1.171174],
  //   clipped to [0.273270, 1].
  const std::vector<double> risk = {2, 1, 3, 2, 3, 3};
  const std::vector<uint8_t> churned = {1, 0, 1, 0, 1, 0};
  ASSERT_OK_AND_ASSIGN(AucEstimate e, DelongAuc(risk, churned));
  EXPECT_DOUBLE_EQ(e.auc, 13.0 / 18);
  EXPECT_NEAR(e.variance, 17.0 / 324, 1e-15);
  EXPECT_NEAR(e.std_error, std::sqrt(17.0) / 18, 1e-15);
  EXPECT_NEAR(e.lower, 13.0 / 18 - kZ95 * std::sqrt(17.0) / 18, 1e-15);
  EXPECT_NEAR(e.lower, 0.273270, 1e-6);
  EXPECT_EQ(e.upper, 1.0);
  EXPECT_EQ(e.z, kZ95);
  EXPECT_EQ(e.counts.churned, 3);
  EXPECT_EQ(e.counts.retained, 3);
}

TEST(DelongAucTest, AucIsIdenticalToRocAuc) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise;
  std::vector<double> risk;
  std::vector<uint8_t> churned;
  for (int i = 0; i < 999; ++i) {
    churned.push_back(i % 3 == 0);
    risk.push_back(std::round(4 * (noise(rng) + churned.back())) / 4);
  }
  ASSERT_OK_AND_ASSIGN(AucEstimate e, DelongAuc(risk, churned));
  EXPECT_EQ(e.auc, Auc(risk, churned).value());
}

// Random risks for two correlated models; `grid` > 0 rounds them to
// multiples of 1/grid so that ties occur within and across classes.
void CorrelatedSample(uint64_t seed, int n, double grid, std::vector<double>* a,
                      std::vector<double>* b, std::vector<uint8_t>* churned) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise;
  std::bernoulli_distribution coin(0.27);
  a->clear();
  b->clear();
  churned->clear();
  for (int i = 0; i < n; ++i) {
    const uint8_t c = coin(rng);
    const double shared = noise(rng);
    double x = shared + 1.0 * c + 0.5 * noise(rng);
    double y = shared + 0.6 * c + 0.8 * noise(rng);
    if (grid > 0) {
      x = std::round(x * grid) / grid;
      y = std::round(y * grid) / grid;
    }
    a->push_back(x);
    b->push_back(y);
    churned->push_back(c);
  }
  (*churned)[0] = (*churned)[1] = 1;
  (*churned)[n - 1] = (*churned)[n - 2] = 0;
}

TEST(DelongAucTest, FastEqualsDirectOnRandomData) {
  for (int n : {4, 7, 50, 301, 1200}) {
    for (double grid : {0.0, 1.0, 4.0}) {
      std::vector<double> a, b;
      std::vector<uint8_t> churned;
      CorrelatedSample(1000 + n, n, grid, &a, &b, &churned);
      const Direct d = DirectDelong(a, b, churned);
      ASSERT_OK_AND_ASSIGN(AucEstimate e, DelongAuc(a, churned));
      EXPECT_NEAR(e.auc, d.auc_a, 1e-12) << "n " << n << " grid " << grid;
      EXPECT_NEAR(e.variance, d.var_a, 1e-12) << "n " << n << " grid " << grid;
      ASSERT_OK_AND_ASSIGN(PairedAucTest t, DelongPairedTest(a, b, churned));
      EXPECT_NEAR(t.auc_a, d.auc_a, 1e-12);
      EXPECT_NEAR(t.auc_b, d.auc_b, 1e-12);
      const double var = d.var_a + d.var_b - 2 * d.cov;
      EXPECT_NEAR(t.variance, var, 1e-12) << "n " << n << " grid " << grid;
      if (d.var_a > 0 && d.var_b > 0) {
        EXPECT_NEAR(t.correlation, d.cov / std::sqrt(d.var_a * d.var_b), 1e-9);
      } else {  // tiny samples can separate perfectly
        EXPECT_TRUE(std::isnan(t.correlation));
      }
      if (var == 0) continue;
      const double z = (d.auc_a - d.auc_b) / std::sqrt(var);
      EXPECT_NEAR(t.z_score, z, 1e-9 * std::max(1.0, std::fabs(z)));
      EXPECT_NEAR(t.p_value, std::erfc(std::fabs(z) / std::sqrt(2.0)), 1e-9);
    }
  }
}

TEST(DelongPairedTest, IdenticalRisksGiveNoDifference) {
  std::vector<double> a, b;
  std::vector<uint8_t> churned;
  CorrelatedSample(77, 500, 2.0, &a, &b, &churned);
  ASSERT_OK_AND_ASSIGN(PairedAucTest t, DelongPairedTest(a, a, churned));
  EXPECT_EQ(t.difference, 0);
  EXPECT_EQ(t.variance, 0);
  EXPECT_EQ(t.z_score, 0);
  EXPECT_EQ(t.p_value, 1);
  EXPECT_EQ(t.lower, 0);
  EXPECT_EQ(t.upper, 0);
  EXPECT_NEAR(t.correlation, 1, 1e-12);
  // An increasing transform ranks the accounts the same way: same result.
  std::vector<double> shifted;
  for (double r : a) shifted.push_back(2 * r + 5);
  ASSERT_OK_AND_ASSIGN(PairedAucTest u, DelongPairedTest(a, shifted, churned));
  EXPECT_EQ(u.difference, 0);
  EXPECT_EQ(u.p_value, 1);
}

TEST(DelongPairedTest, TwoByTwoByHand) {
  // Accounts c1, c2 churned; r1, r2 retained.
  //   a: c1=4, c2=3, r1=2, r2=1   perfect: V10a = {1, 1}, V01a = {1, 1},
  //      AUC_a = 1, Var_a = 0.
  //   b: c1=4, c2=1, r1=2, r2=3   V10b = {1, 0} (c1 above both, c2 below
  //      both), V01b = {1/2, 1/2} (only c1 above r1 and r2), AUC_b = 1/2.
  //      S10_bb = ((1/2)^2 + (1/2)^2) / 1 = 1/2, S01_bb = 0,
  //      Var_b = (1/2)/2 + 0 = 1/4.
  //   Cov: V10a is constant, so S10_ab = S01_ab = 0.
  //   Var(a - b) = 0 + 1/4 - 0 = 1/4, SE = 1/2, difference 1/2, Z = 1,
  //   p = erfc(1/sqrt(2)) = 0.31731050786291415 (two-sided normal tail at
  //   1 sigma). CI: 1/2 -+ 1.959964 * 1/2 = [-0.479982, 1.479982], clipped
  //   at 1. The correlation is undefined (Var_a = 0): NaN.
  const std::vector<double> a = {4, 3, 2, 1};
  const std::vector<double> b = {4, 1, 2, 3};
  const std::vector<uint8_t> churned = {1, 1, 0, 0};
  ASSERT_OK_AND_ASSIGN(PairedAucTest t, DelongPairedTest(a, b, churned));
  EXPECT_EQ(t.auc_a, 1);
  EXPECT_EQ(t.auc_b, 0.5);
  EXPECT_EQ(t.difference, 0.5);
  EXPECT_DOUBLE_EQ(t.variance, 0.25);
  EXPECT_DOUBLE_EQ(t.std_error, 0.5);
  EXPECT_DOUBLE_EQ(t.z_score, 1);
  EXPECT_NEAR(t.p_value, 0.31731050786291415, 1e-15);
  EXPECT_NEAR(t.lower, 0.5 - kZ95 / 2, 1e-15);
  EXPECT_EQ(t.upper, 1);
  EXPECT_TRUE(std::isnan(t.correlation));
  // Swapping the models flips the sign and keeps the p-value.
  ASSERT_OK_AND_ASSIGN(PairedAucTest s, DelongPairedTest(b, a, churned));
  EXPECT_EQ(s.difference, -0.5);
  EXPECT_DOUBLE_EQ(s.z_score, -1);
  EXPECT_NEAR(s.p_value, t.p_value, 1e-15);
}

TEST(DelongPairedTest, DifferentButEquallyPerfectRankings) {
  // Both risks separate the classes perfectly, in different orders: every
  // component is 1, so difference 0 with zero variance: Z 0, p 1.
  ASSERT_OK_AND_ASSIGN(PairedAucTest t,
                       DelongPairedTest(std::vector<double>{9, 8, 1, 2},
                                        std::vector<double>{8, 9, 2, 1},
                                        std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(t.difference, 0);
  EXPECT_EQ(t.z_score, 0);
  EXPECT_EQ(t.p_value, 1);
}

struct Asah {
  std::vector<uint8_t> poor;
  std::vector<double> wfns, s100b, ndka;
};

Asah LoadAsah() {
  Asah a;
  for (int i = 0; i < 113; ++i) {
    a.poor.push_back(kAsahOutcome[i] == 'P');
    a.wfns.push_back(kAsahWfns[i]);
    a.s100b.push_back(kAsahS100b[i]);
    a.ndka.push_back(kAsahNdka[i]);
  }
  return a;
}

TEST(DelongPublishedTest, ProcOnAsah) {
  // Reference values from pROC's own test suite (Robin et al. (2011), BMC
  // Bioinformatics 12:77; github.com/xrobin/pROC, tests/testthat):
  //   test-var.R:  var(r.wfns) = 0.00146991470882363,
  //                var(r.ndka) = 0.0031908105493913,
  //                var(r.s100b) = 0.00266868245717244   (method DeLong)
  //   test-cov.R:  cov(r.wfns, r.ndka) = -0.000532967856762438,
  //                cov(r.ndka, r.s100b) = -0.000756164938056579,
  //                cov(r.s100b, r.wfns) = 0.00119615567376754
  //   test-roc.test.R: roc.test(r.wfns, r.s100b) (paired DeLong):
  //                Z = 2.20898359144091, p = 0.0271757822291882,
  //                95% CI of the difference 0.0104061769564846 to
  //                0.174214419249478
  // where r.X = roc(aSAH$outcome, aSAH$X): "Poor" is the case class and
  // higher values point to it, i.e. risk = X, churned = (outcome == Poor).
  // The AUCs are 0.823678861788618 (wfns) and 0.611957994579946 (ndka).
  const Asah a = LoadAsah();
  ASSERT_OK_AND_ASSIGN(AucEstimate wfns, DelongAuc(a.wfns, a.poor));
  ASSERT_OK_AND_ASSIGN(AucEstimate ndka, DelongAuc(a.ndka, a.poor));
  ASSERT_OK_AND_ASSIGN(AucEstimate s100b, DelongAuc(a.s100b, a.poor));
  EXPECT_EQ(wfns.counts.churned, 41);
  EXPECT_EQ(wfns.counts.retained, 72);
  EXPECT_NEAR(wfns.auc, 0.823678861788618, 1e-12);
  EXPECT_NEAR(ndka.auc, 0.611957994579946, 1e-12);
  EXPECT_NEAR(wfns.variance, 0.00146991470882363, 1e-14);
  EXPECT_NEAR(ndka.variance, 0.0031908105493913, 1e-14);
  EXPECT_NEAR(s100b.variance, 0.00266868245717244, 1e-14);
  // pROC's ci.auc(method = "delong") is auc -+ qnorm(0.975) * sqrt(var),
  // clipped to [0, 1]: for ndka 0.611958 -+ 1.959964 * 0.0564873
  // = [0.501245, 0.722671].
  EXPECT_NEAR(ndka.lower,
              0.611957994579946 - kZ95 * std::sqrt(0.0031908105493913), 1e-12);
  EXPECT_NEAR(ndka.upper,
              0.611957994579946 + kZ95 * std::sqrt(0.0031908105493913), 1e-12);
  EXPECT_NEAR(ndka.lower, 0.501245, 1e-6);
  EXPECT_NEAR(ndka.upper, 0.722671, 1e-6);

  ASSERT_OK_AND_ASSIGN(PairedAucTest t,
                       DelongPairedTest(a.wfns, a.s100b, a.poor));
  EXPECT_NEAR(t.z_score, 2.20898359144091, 1e-12);
  EXPECT_NEAR(t.p_value, 0.0271757822291882, 1e-14);
  EXPECT_NEAR(t.lower, 0.0104061769564846, 1e-12);
  EXPECT_NEAR(t.upper, 0.174214419249478, 1e-12);
  // The covariances, through Var(a - b) = Var(a) + Var(b) - 2 Cov(a, b).
  struct Pair {
    const std::vector<double>* a;
    const std::vector<double>* b;
    double var_a, var_b, cov;
  };
  for (const Pair& p : {Pair{&a.wfns, &a.ndka, 0.00146991470882363,
                             0.0031908105493913, -0.000532967856762438},
                        Pair{&a.ndka, &a.s100b, 0.0031908105493913,
                             0.00266868245717244, -0.000756164938056579},
                        Pair{&a.s100b, &a.wfns, 0.00266868245717244,
                             0.00146991470882363, 0.00119615567376754}}) {
    ASSERT_OK_AND_ASSIGN(PairedAucTest u, DelongPairedTest(*p.a, *p.b, a.poor));
    EXPECT_NEAR(u.variance, p.var_a + p.var_b - 2 * p.cov, 1e-14);
    EXPECT_NEAR(u.correlation, p.cov / std::sqrt(p.var_a * p.var_b), 1e-10);
  }
}

TEST(DelongTest, Errors) {
  const std::vector<double> risk = {1, 2, 3};
  const std::vector<uint8_t> churned = {1, 0, 0};
  EXPECT_THAT(DelongAuc(risk, churned),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("DeLong's AUC variance is undefined for this "
                                 "sample: it needs at least 2 churned and 2 "
                                 "retained accounts, and has 1 churned")));
  EXPECT_THAT(DelongAuc(risk, churned, 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("z is 0: the interval's normal quantile")));
  EXPECT_THAT(DelongAuc(risk, churned, std::nan("")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be finite and positive")));
  EXPECT_THAT(DelongPairedTest(risk, std::vector<double>{1, 2}, churned),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk_a has 3 values but risk_b has 2")));
  EXPECT_THAT(DelongPairedTest(std::vector<double>{1, 2, 3, 4},
                               std::vector<double>{1, 2, std::nan(""), 4},
                               std::vector<uint8_t>{1, 1, 0, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("risk[2] is NaN")));
  EXPECT_THAT(DelongPairedTest(risk, risk, churned),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("DeLong's paired AUC test is undefined")));
  EXPECT_THAT(DelongAuc({}, {}), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("no accounts")));
}

TEST(FormatPValueTest, ThreeDigitsAndAFloorForUnderflow) {
  EXPECT_EQ(FormatPValue(1), "p = 1");
  EXPECT_EQ(FormatPValue(0.027175), "p = 0.0272");
  EXPECT_EQ(FormatPValue(3.5e-61), "p = 3.5e-61");
  // erfc underflows to 0 for |z| above about 37: never "p = 0".
  EXPECT_EQ(FormatPValue(0), "p < 1e-300");
  EXPECT_EQ(FormatPValue(std::erfc(40 / std::sqrt(2.0))), "p < 1e-300");
}

}  // namespace
}  // namespace healthscore::engine::stats
