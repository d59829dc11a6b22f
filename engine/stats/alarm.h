// A yes/no churn alarm (e.g. "tier is red") against what happened.
//
//   precision = tp / (tp + fp)   share of alarms that churned
//   recall    = tp / (tp + fn)   share of churners the alarm caught
//   F1        = 2 tp / (2 tp + fp + fn)
//
// 0/0 cases are quiet NaN, never 0 or 1: precision is NaN when no alarm
// was raised, recall when nobody churned, F1 when both (tp + fp + fn = 0).
// Where precision and recall are both defined, F1 is their harmonic mean
// (0 when tp = 0). The counts are always given, so a caller can show
// "no alarms" instead of a number.
//
// `alarm` and `churned` are 0/1 (engine/stats/sample.h), same length, not
// empty: InvalidArgument otherwise. Pure function, thread-safe, O(n).

#ifndef HEALTHSCORE_ENGINE_STATS_ALARM_H_
#define HEALTHSCORE_ENGINE_STATS_ALARM_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace healthscore::engine::stats {

struct AlarmMetrics {
  int64_t tp = 0;  // alarm and churned
  int64_t fp = 0;  // alarm, retained
  int64_t fn = 0;  // no alarm, churned
  int64_t tn = 0;  // no alarm, retained
  double precision = 0;
  double recall = 0;
  double f1 = 0;
};

absl::StatusOr<AlarmMetrics> EvaluateAlarm(absl::Span<const uint8_t> alarm,
                                           absl::Span<const uint8_t> churned);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_ALARM_H_
