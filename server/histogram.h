// LatencyHistogram: a fixed-bucket histogram of durations, updated without
// locks, for the server's Prometheus metrics (metrics.h).
//
// The buckets are Prometheus' usual 1-2.5-5 series from 100us to 10s
// (kLatencyBoundsMicros); a last bucket takes everything slower. A bucket's
// bound is inclusive, as Prometheus' `le` is. Durations are counted in whole
// microseconds; negative ones count as zero.
//
//   runtime->latency.Observe(absl::Now() - arrived);   // any thread
//   HistogramSnapshot s = runtime->latency.Snapshot();  // any thread
//
// Thread-safety: Observe and Snapshot may be called concurrently from any
// thread. Observe is a few relaxed atomic additions. A Snapshot taken while
// observations land may count an observation in `counts` but not yet in
// `sum_micros` (or the reverse); every observation is in both once its
// Observe returned.

#ifndef HEALTHSCORE_SERVER_HISTOGRAM_H_
#define HEALTHSCORE_SERVER_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace healthscore::server {

// Upper bounds of the buckets, in microseconds, ascending. 200 us tells
// whether single-account calls meet their goal (bench/README.md).
inline constexpr std::array<int64_t, 17> kLatencyBoundsMicros = {
    100,   200,    250,    500,    1000,    2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

// A copy of a histogram's counts at one moment.
struct HistogramSnapshot {
  // Upper bounds in microseconds, ascending.
  std::vector<int64_t> bounds_micros;
  // Observations per bucket (not cumulative): bounds_micros.size() + 1
  // entries, the last one for observations above every bound.
  std::vector<uint64_t> counts;
  // Sum of every observation, in microseconds.
  uint64_t sum_micros = 0;

  // Every observation: the sum of `counts`.
  uint64_t count() const;
};

class LatencyHistogram {
 public:
  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void Observe(absl::Duration d);
  HistogramSnapshot Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBoundsMicros.size() + 1> counts_{};
  std::atomic<uint64_t> sum_micros_{0};
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_HISTOGRAM_H_
