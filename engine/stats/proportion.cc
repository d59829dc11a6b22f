#include "engine/stats/proportion.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"

namespace healthscore::engine::stats {

absl::StatusOr<Proportion> WilsonInterval(int64_t successes, int64_t trials,
                                          double z) {
  if (successes < 0 || trials < 0 || successes > trials) {
    return absl::InvalidArgumentError(
        absl::StrCat("a proportion of ", successes, " in ", trials,
                     " trials is impossible: need 0 <= successes <= trials"));
  }
  if (!(std::isfinite(z) && z > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("z is ", z,
                     ": the interval's normal quantile must be finite and "
                     "positive (1.959963984540054 for 95%)"));
  }
  Proportion p;
  p.successes = successes;
  p.trials = trials;
  if (trials == 0) {
    p.rate = std::numeric_limits<double>::quiet_NaN();
    p.lower = 0;
    p.upper = 1;
    return p;
  }
  const double n = static_cast<double>(trials);
  const double rate = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double center = (rate + z2 / (2 * n)) / denom;
  const double half =
      z * std::sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / denom;
  p.rate = rate;
  // At k = 0 and k = n the bound is exactly 0 (or 1) in exact arithmetic;
  // say so rather than leave a rounding residue of 1e-17.
  p.lower = successes == 0 ? 0.0 : std::max(0.0, center - half);
  p.upper = successes == trials ? 1.0 : std::min(1.0, center + half);
  return p;
}

absl::StatusOr<std::vector<Proportion>> ChurnRateByGroup(
    absl::Span<const int32_t> group, absl::Span<const uint8_t> churned,
    int32_t num_groups, double z) {
  if (group.size() != churned.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "group has ", group.size(), " values but churned has ", churned.size(),
        ": pass one group and one label per account"));
  }
  if (num_groups < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_groups is ", num_groups, ": need at least 1"));
  }
  HEALTHSCORE_RETURN_IF_ERROR(ValidateLabels(churned));
  std::vector<int64_t> accounts(num_groups, 0);
  std::vector<int64_t> churners(num_groups, 0);
  for (size_t i = 0; i < group.size(); ++i) {
    const int32_t g = group[i];
    if (g < 0 || g >= num_groups) {
      return absl::InvalidArgumentError(
          absl::StrCat("group[", i, "] is ", g,
                       ": group indices must be in [0, ", num_groups, ")"));
    }
    ++accounts[g];
    churners[g] += churned[i];
  }
  std::vector<Proportion> out;
  out.reserve(num_groups);
  for (int32_t g = 0; g < num_groups; ++g) {
    HEALTHSCORE_ASSIGN_OR_RETURN(Proportion p,
                                 WilsonInterval(churners[g], accounts[g], z));
    out.push_back(p);
  }
  return out;
}

absl::StatusOr<RateOrder> CheckRateOrder(absl::Span<const Proportion> rates,
                                         absl::Span<const int32_t> order) {
  std::vector<bool> seen(rates.size(), false);
  for (size_t k = 0; k < order.size(); ++k) {
    const int32_t g = order[k];
    if (g < 0 || static_cast<size_t>(g) >= rates.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("order[", k, "] is ", g,
                       ": group indices must be in "
                       "[0, ",
                       rates.size(), ")"));
    }
    if (seen[g]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "order[", k, "] repeats group ", g, ": name each group once"));
    }
    seen[g] = true;
  }
  RateOrder result;
  int32_t previous = -1;
  for (int32_t g : order) {
    if (rates[g].trials == 0) {
      result.empty_groups.push_back(g);
      continue;
    }
    if (previous >= 0) {
      const Proportion& lo = rates[previous];
      const Proportion& hi = rates[g];
      RateOrderPair pair;
      pair.lower_group = previous;
      pair.higher_group = g;
      pair.lower_rate = lo.rate;
      pair.higher_rate = hi.rate;
      pair.holds = lo.rate < hi.rate;
      pair.intervals_overlap = lo.upper >= hi.lower && hi.upper >= lo.lower;
      if (!pair.holds && result.first_break < 0) {
        result.first_break = static_cast<int32_t>(result.pairs.size());
      }
      result.pairs.push_back(pair);
    }
    previous = g;
  }
  result.ordered = !result.pairs.empty() && result.first_break < 0;
  return result;
}

}  // namespace healthscore::engine::stats
