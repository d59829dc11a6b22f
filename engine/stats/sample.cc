#include "engine/stats/sample.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace healthscore::engine::stats {

absl::Status ValidateLabels(absl::Span<const uint8_t> labels,
                            const char* what) {
  if (labels.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no accounts: ", what, " is empty"));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "[", i, "] is ", static_cast<int>(labels[i]),
                       ": labels must be 0 (no) or 1 (yes)"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSample(absl::Span<const double> risk,
                            absl::Span<const uint8_t> churned,
                            LabelCounts* counts) {
  if (risk.size() != churned.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "risk has ", risk.size(), " values but churned has ", churned.size(),
        ": pass one risk value and one label per account"));
  }
  absl::Status labels = ValidateLabels(churned);
  if (!labels.ok()) return labels;
  int64_t positives = 0;
  for (size_t i = 0; i < risk.size(); ++i) {
    if (std::isnan(risk[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "risk[", i,
          "] is NaN: leave accounts without a score out of the sample (and "
          "count them) before computing statistics"));
    }
    positives += churned[i];
  }
  counts->churned = positives;
  counts->retained = static_cast<int64_t>(churned.size()) - positives;
  return absl::OkStatus();
}

absl::Status RequireBothClasses(const LabelCounts& counts, int64_t min_each,
                                const char* statistic) {
  if (counts.churned >= min_each && counts.retained >= min_each) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      statistic, " is undefined for this sample: it needs at least ", min_each,
      " churned and ", min_each, " retained accounts, and has ", counts.churned,
      " churned and ", counts.retained, " retained"));
}

}  // namespace healthscore::engine::stats
