// Axis scales and point decimation for the report's charts.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_REPORT_SCALE_H_
#define HEALTHSCORE_ENGINE_REPORT_SCALE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "engine/report/document.h"

namespace healthscore::engine::report {

// The ticks of an axis: `values` run from `min` to `max` by `step`, a
// "nice" number (1, 2 or 5 times a power of ten).
struct Ticks {
  double min = 0;
  double max = 1;
  double step = 0.2;
  std::vector<double> values;
};

// Ticks for data in [low, high], about `target` of them (2..20, clamped),
// after Heckbert, "Nice numbers for graph labels", Graphics Gems (1990):
//  - with `expand`, the axis grows to the nearest ticks outside the data
//    (0.03..0.97 becomes 0..1 by 0.2), so min and max are ticks;
//  - without, the axis is exactly [low, high] and the ticks are the nice
//    multiples of the step inside it (for axes fixed by the caller).
// Tick values are computed as integer multiples of the step, so 0.3 is
// 3 * 0.1 and never the sum of three 0.1s. Degenerate input is made
// drawable: low > high is swapped, low == high is widened around the value
// (to [0, 1] for 0), non-finite bounds give [0, 1]. At most 64 ticks.
Ticks NiceTicks(double low, double high, int target = 5, bool expand = true);

// The label of tick `value` on an axis of ticks `step` apart: rounded to
// the digits the step shows (12 significant digits at most, so 0.1 * 3 reads
// "0.3"), as a percentage of a fraction ("25%") when `percent`.
std::string FormatTick(double value, double step, bool percent);

// At most `max_points` of `points` (and all of them when there are not
// more), chosen by Largest-Triangle-Three-Buckets (Steinarsson, "Downsampling
// Time Series for Visual Representation", 2013): the first and the last
// point are always kept, and in each of max_points - 2 buckets of the rest
// the point spanning the largest triangle with its neighbours' choices, so
// peaks, corners and the curve's ends survive. Pass coordinates on the
// scale they are drawn at (pixels): the triangles are measured there.
// max_points below 3 is taken as 3. O(n), one allocation.
std::vector<Point> DecimateLttb(const std::vector<Point>& points,
                                size_t max_points);

}  // namespace healthscore::engine::report

#endif  // HEALTHSCORE_ENGINE_REPORT_SCALE_H_
