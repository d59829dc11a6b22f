#include "engine/stats/alarm.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {
namespace {

double Ratio(int64_t num, int64_t den) {
  return den == 0 ? std::numeric_limits<double>::quiet_NaN()
                  : static_cast<double>(num) / static_cast<double>(den);
}

}  // namespace

absl::StatusOr<AlarmMetrics> EvaluateAlarm(absl::Span<const uint8_t> alarm,
                                           absl::Span<const uint8_t> churned) {
  if (alarm.size() != churned.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "alarm has ", alarm.size(), " values but churned has ", churned.size(),
        ": pass one alarm and one label per account"));
  }
  HEALTHSCORE_RETURN_IF_ERROR(ValidateLabels(alarm, "alarm"));
  HEALTHSCORE_RETURN_IF_ERROR(ValidateLabels(churned));
  AlarmMetrics m;
  for (size_t i = 0; i < alarm.size(); ++i) {
    if (alarm[i]) {
      ++(churned[i] ? m.tp : m.fp);
    } else {
      ++(churned[i] ? m.fn : m.tn);
    }
  }
  m.precision = Ratio(m.tp, m.tp + m.fp);
  m.recall = Ratio(m.tp, m.tp + m.fn);
  m.f1 = Ratio(2 * m.tp, 2 * m.tp + m.fp + m.fn);
  return m;
}

}  // namespace healthscore::engine::stats
