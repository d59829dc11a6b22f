#include "server/histogram.h"

#include <algorithm>

namespace healthscore::server {

uint64_t HistogramSnapshot::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

void LatencyHistogram::Observe(absl::Duration d) {
  const int64_t micros = std::max<int64_t>(0, absl::ToInt64Microseconds(d));
  // The first bound >= micros: `le` is inclusive. Past the end is the last
  // (+Inf) bucket.
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kLatencyBoundsMicros.begin(),
                                           kLatencyBoundsMicros.end(), micros) -
                          kLatencyBoundsMicros.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(micros),
                        std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds_micros.assign(kLatencyBoundsMicros.begin(),
                         kLatencyBoundsMicros.end());
  s.counts.reserve(counts_.size());
  for (const std::atomic<uint64_t>& c : counts_) {
    s.counts.push_back(c.load(std::memory_order_relaxed));
  }
  s.sum_micros = sum_micros_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace healthscore::server
