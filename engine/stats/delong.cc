#include "engine/stats/delong.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status_macros.h"
#include "engine/stats/internal/risk_groups.h"

namespace healthscore::engine::stats {
namespace {

absl::Status CheckZ(double z) {
  if (std::isfinite(z) && z > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("z is ", z,
                   ": the interval's normal quantile must be finite and "
                   "positive (1.959963984540054 for 95%)"));
}

// The structural components of one risk, in account order within each
// class: v10 has one value per churned account, v01 one per retained.
// They depend on the risk value only, so they are computed once per
// distinct value (while merging the sorted classes) and each account looks
// its value up by binary search over the distinct values, which a score
// rounded to 0.1 keeps to ~1,000 entries. Returns twice the Mann-Whitney U
// (exact in a double), so the AUC here is bit-identical to Auc() in roc.h.
double Placements(absl::Span<const double> risk,
                  absl::Span<const uint8_t> churned, const LabelCounts& counts,
                  std::vector<double>* v10, std::vector<double>* v01) {
  const std::vector<internal::RiskGroup> groups =
      internal::GroupByRisk(risk, churned, counts);
  const double p = static_cast<double>(counts.churned);
  const double n = static_cast<double>(counts.retained);
  std::vector<double> values(groups.size());
  std::vector<double> group10(groups.size());
  std::vector<double> group01(groups.size());
  double twice_u = 0;
  int64_t retained_below = 0;
  int64_t churned_above = counts.churned;
  for (size_t k = 0; k < groups.size(); ++k) {
    const internal::RiskGroup& g = groups[k];
    churned_above -= g.churned;
    values[k] = g.risk;
    group10[k] = (retained_below + 0.5 * g.retained) / n;
    group01[k] = (churned_above + 0.5 * g.churned) / p;
    twice_u += static_cast<double>(g.churned) *
               static_cast<double>(2 * retained_below + g.retained);
    retained_below += g.retained;
  }
  v10->resize(counts.churned);
  v01->resize(counts.retained);
  size_t i10 = 0;
  size_t i01 = 0;
  for (size_t a = 0; a < risk.size(); ++a) {
    // Every risk is one of `values` (they were built from it).
    const size_t k = std::lower_bound(values.begin(), values.end(), risk[a]) -
                     values.begin();
    if (churned[a]) {
      (*v10)[i10++] = group10[k];
    } else {
      (*v01)[i01++] = group01[k];
    }
  }
  return twice_u;
}

// Sample covariance of (a - mean_a) and (b - mean_b), divided by m - 1.
double Covariance(const std::vector<double>& a, double mean_a,
                  const std::vector<double>& b, double mean_b) {
  double sum = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    sum += (a[k] - mean_a) * (b[k] - mean_b);
  }
  return sum / static_cast<double>(a.size() - 1);
}

}  // namespace

absl::StatusOr<AucEstimate> DelongAuc(absl::Span<const double> risk,
                                      absl::Span<const uint8_t> churned,
                                      double z) {
  HEALTHSCORE_RETURN_IF_ERROR(CheckZ(z));
  AucEstimate e;
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk, churned, &e.counts));
  HEALTHSCORE_RETURN_IF_ERROR(
      RequireBothClasses(e.counts, 2, "DeLong's AUC variance"));
  // One AUC needs no per-account components: V10 and V01 depend on the
  // risk value alone, so the sums of squares run over the tie groups
  // (weighted by their counts) and the cost is the sort, as for Auc().
  const std::vector<internal::RiskGroup> groups =
      internal::GroupByRisk(risk, churned, e.counts);
  const double p = static_cast<double>(e.counts.churned);
  const double n = static_cast<double>(e.counts.retained);
  double twice_u = 0;
  int64_t retained_below = 0;
  for (const internal::RiskGroup& g : groups) {
    twice_u += static_cast<double>(g.churned) *
               static_cast<double>(2 * retained_below + g.retained);
    retained_below += g.retained;
  }
  e.auc = twice_u / (2.0 * p * n);
  double ss10 = 0;
  double ss01 = 0;
  retained_below = 0;
  int64_t churned_above = e.counts.churned;
  for (const internal::RiskGroup& g : groups) {
    churned_above -= g.churned;
    const double v10 = (retained_below + 0.5 * g.retained) / n - e.auc;
    const double v01 = (churned_above + 0.5 * g.churned) / p - e.auc;
    ss10 += g.churned * v10 * v10;
    ss01 += g.retained * v01 * v01;
    retained_below += g.retained;
  }
  e.variance = ss10 / (p - 1) / p + ss01 / (n - 1) / n;
  e.std_error = std::sqrt(e.variance);
  e.z = z;
  e.lower = std::max(0.0, e.auc - z * e.std_error);
  e.upper = std::min(1.0, e.auc + z * e.std_error);
  return e;
}

absl::StatusOr<PairedAucTest> DelongPairedTest(
    absl::Span<const double> risk_a, absl::Span<const double> risk_b,
    absl::Span<const uint8_t> churned, double z) {
  HEALTHSCORE_RETURN_IF_ERROR(CheckZ(z));
  if (risk_a.size() != risk_b.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "risk_a has ", risk_a.size(), " values but risk_b has ", risk_b.size(),
        ": the paired test needs both risks of the same accounts"));
  }
  PairedAucTest t;
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk_a, churned, &t.counts));
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk_b, churned, &t.counts));
  HEALTHSCORE_RETURN_IF_ERROR(
      RequireBothClasses(t.counts, 2, "DeLong's paired AUC test"));
  const double p = static_cast<double>(t.counts.churned);
  const double n = static_cast<double>(t.counts.retained);
  std::vector<double> v10a, v01a, v10b, v01b;
  t.auc_a = Placements(risk_a, churned, t.counts, &v10a, &v01a) / (2.0 * p * n);
  t.auc_b = Placements(risk_b, churned, t.counts, &v10b, &v01b) / (2.0 * p * n);
  const double var_a = Covariance(v10a, t.auc_a, v10a, t.auc_a) / p +
                       Covariance(v01a, t.auc_a, v01a, t.auc_a) / n;
  const double var_b = Covariance(v10b, t.auc_b, v10b, t.auc_b) / p +
                       Covariance(v01b, t.auc_b, v01b, t.auc_b) / n;
  const double cov_ab = Covariance(v10a, t.auc_a, v10b, t.auc_b) / p +
                        Covariance(v01a, t.auc_a, v01b, t.auc_b) / n;
  t.difference = t.auc_a - t.auc_b;
  // var_a + var_b - 2 cov_ab can come out a few ulps below zero when the two
  // rankings agree; it is a variance.
  t.variance = std::max(0.0, var_a + var_b - 2 * cov_ab);
  t.std_error = std::sqrt(t.variance);
  t.z = z;
  t.lower = std::max(-1.0, t.difference - z * t.std_error);
  t.upper = std::min(1.0, t.difference + z * t.std_error);
  if (t.std_error > 0) {
    t.z_score = t.difference / t.std_error;
  } else if (t.difference == 0) {
    t.z_score = 0;
  } else {
    t.z_score =
        std::copysign(std::numeric_limits<double>::infinity(), t.difference);
  }
  t.p_value = std::erfc(std::fabs(t.z_score) / std::sqrt(2.0));
  t.correlation = (var_a > 0 && var_b > 0)
                      ? cov_ab / std::sqrt(var_a * var_b)
                      : std::numeric_limits<double>::quiet_NaN();
  return t;
}

std::string FormatPValue(double p_value) {
  if (p_value < 1e-300) return "p < 1e-300";
  return absl::StrFormat("p = %.3g", p_value);
}

}  // namespace healthscore::engine::stats
