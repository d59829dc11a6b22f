// DeLong's nonparametric variance of the AUC, its confidence interval, and
// the paired test of two AUCs measured on the same accounts.
//
// Method: DeLong, DeLong & Clarke-Pearson (1988), "Comparing the areas under
// two or more correlated receiver operating characteristic curves: a
// nonparametric approach", Biometrics 44(3):837-845, computed in
// O(n log n) as Sun & Xu (2014), "Fast implementation of DeLong's algorithm
// for comparing the areas under correlated receiver operating characteristic
// curves", IEEE Signal Processing Letters 21(11):1389-1393.
//
// With P churned accounts (risks x_i) and N retained ones (risks y_j), and
// psi(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise, the structural
// components (placement values) are
//
//   V10(x_i) = (1/N) sum_j psi(x_i, y_j)     (share of retained below x_i)
//   V01(y_j) = (1/P) sum_i psi(x_i, y_j)     (share of churned above y_j)
//
// and AUC = mean_i V10 = mean_j V01. Sun & Xu write V10(x_i) as
// (R_i - R^X_i) / N with midranks R in the pooled sample and R^X among the
// churned. Here the same numbers come from one sort per class: for one
// AUC, V10 and V01 depend only on the risk value, so they are computed
// once per distinct risk while merging the sorted classes; the paired
// test, which needs them per account, looks each account's value up among
// the distinct risks by binary search. Both are O(n log n). Then
//
//   S10 = sum_i (V10(x_i) - AUC)^2 / (P - 1),
//   S01 = sum_j (V01(y_j) - AUC)^2 / (N - 1),
//   Var(AUC) = S10 / P + S01 / N,
//
// and for two risks a and b on the same accounts, with S10_ab the sample
// covariance of V10_a and V10_b over churned accounts (likewise S01_ab),
//
//   Var(AUC_a - AUC_b) = (S10_aa + S10_bb - 2 S10_ab) / P
//                      + (S01_aa + S01_bb - 2 S01_ab) / N.
//
// Confidence intervals are plain (no logit transform), AUC +- z * SE
// clipped to [0, 1], as R's pROC computes ci.auc(method = "delong"); the
// paired difference's interval is d +- z * SE clipped to [-1, 1]. The
// two-sided p-value is erfc(|Z| / sqrt(2)).
//
// Conventions and errors as in engine/stats/sample.h; FailedPrecondition
// unless the sample has at least 2 churned and 2 retained accounts (the
// sample variances divide by P - 1 and N - 1). Pure functions, thread-safe,
// O(n log n) time, O(n) scratch.

#ifndef HEALTHSCORE_ENGINE_STATS_DELONG_H_
#define HEALTHSCORE_ENGINE_STATS_DELONG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {

struct AucEstimate {
  double auc = 0;        // as Auc() in roc.h
  double variance = 0;   // DeLong's Var(AUC)
  double std_error = 0;  // sqrt(variance)
  double lower = 0;      // max(0, auc - z * std_error)
  double upper = 0;      // min(1, auc + z * std_error)
  double z = 0;          // the z the interval was built with
  LabelCounts counts;
};

// The AUC with DeLong's variance and a plain interval at `z` (kZ95 = 95%).
// InvalidArgument if z is not finite and positive.
absl::StatusOr<AucEstimate> DelongAuc(absl::Span<const double> risk,
                                      absl::Span<const uint8_t> churned,
                                      double z = kZ95);

struct PairedAucTest {
  double auc_a = 0;
  double auc_b = 0;
  double difference = 0;  // auc_a - auc_b
  double variance = 0;    // Var(auc_a - auc_b)
  double std_error = 0;
  double lower = 0;  // max(-1, difference - z * std_error)
  double upper = 0;  // min(1, difference + z * std_error)
  // difference / std_error. When std_error is 0: 0 if the difference is 0
  // (identical rankings: p_value 1, as pROC), else +-infinity (p_value 0).
  double z_score = 0;
  double p_value = 1;  // two-sided, erfc(|z_score| / sqrt(2))
  // Correlation of the two AUC estimates, DeLong's
  // Cov(a, b) / sqrt(Var(a) Var(b)); NaN when either variance is 0.
  double correlation = 0;
  double z = 0;  // the z the interval was built with
  LabelCounts counts;
};

// DeLong's test for two correlated AUCs: `risk_a` and `risk_b` are two
// risks (e.g. a live and a candidate model) of the same accounts, whose
// labels are `churned`. All three spans must have the same length.
absl::StatusOr<PairedAucTest> DelongPairedTest(
    absl::Span<const double> risk_a, absl::Span<const double> risk_b,
    absl::Span<const uint8_t> churned, double z = kZ95);

// A p-value for people: "p = " and three significant digits, or
// "p < 1e-300" for one so small that it underflows (the normal tail of |z|
// above about 37).
std::string FormatPValue(double p_value);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_DELONG_H_
