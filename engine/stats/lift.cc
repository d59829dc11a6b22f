#include "engine/stats/lift.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/stats/internal/risk_groups.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {

absl::StatusOr<std::vector<LiftBin>> LiftByQuantile(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned,
    int32_t bins) {
  LabelCounts counts;
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk, churned, &counts));
  if (bins < 1 || bins > counts.total()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bins is ", bins,
                     ": need between 1 and the number of "
                     "accounts (",
                     counts.total(), ")"));
  }
  if (counts.churned == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lift and gains are undefined for this sample: none of its ",
        counts.total(), " accounts churned"));
  }
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<LiftBin> out(bins);
  for (int32_t b = 0; b < bins; ++b) {
    out[b].bin = b + 1;
    out[b].min_risk = kNaN;
    out[b].max_risk = kNaN;
  }
  const std::vector<internal::RiskGroup> groups =
      internal::GroupByRisk(risk, churned, counts);
  const int64_t n = counts.total();
  int64_t start = 0;  // rank of the group's first account, highest first
  for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
    const int64_t size = g->churned + g->retained;
    const int64_t end = start + size;
    // Integer arithmetic: (s + e - 1) * bins < 2 n * bins fits easily.
    const int64_t b = (start + end - 1) * bins / (2 * n);
    LiftBin& bin = out[b];
    if (bin.accounts == 0) bin.max_risk = g->risk;  // groups come descending
    bin.min_risk = g->risk;
    bin.accounts += size;
    bin.churned += g->churned;
    start = end;
  }
  const double base_rate = static_cast<double>(counts.churned) / n;
  int64_t cum_accounts = 0;
  int64_t cum_churned = 0;
  for (LiftBin& bin : out) {
    cum_accounts += bin.accounts;
    cum_churned += bin.churned;
    bin.rate = bin.accounts == 0
                   ? kNaN
                   : static_cast<double>(bin.churned) / bin.accounts;
    bin.lift = bin.rate / base_rate;  // NaN stays NaN
    bin.cumulative_accounts_share = static_cast<double>(cum_accounts) / n;
    bin.cumulative_churned_share =
        static_cast<double>(cum_churned) / counts.churned;
    bin.cumulative_lift = cum_accounts == 0 ? kNaN
                                            : bin.cumulative_churned_share /
                                                  bin.cumulative_accounts_share;
  }
  return out;
}

}  // namespace healthscore::engine::stats
