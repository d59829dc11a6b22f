#include "engine/report/scale.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/common/number_format.h"

namespace healthscore::engine::report {
namespace {

constexpr int kMaxTicks = 64;

// Heckbert's nicenum: 1, 2, 5 or 10 times a power of ten near `x`;
// rounded to the nearest when `round`, else the smallest not below `x`.
double NiceNumber(double x, bool round) {
  const double exponent = std::floor(std::log10(x));
  const double power = std::pow(10.0, exponent);
  const double fraction = x / power;
  double nice;
  if (round) {
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  } else {
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  }
  return nice * power;
}

}  // namespace

Ticks NiceTicks(double low, double high, int target, bool expand) {
  target = std::clamp(target, 2, 20);
  if (!std::isfinite(low) || !std::isfinite(high)) {
    low = 0;
    high = 1;
  }
  if (low > high) std::swap(low, high);
  if (low == high) {
    if (low == 0) {
      high = 1;
    } else {
      const double pad = std::abs(low) * 0.1;
      low -= pad;
      high += pad;
    }
  }
  // A span beyond the largest double (-1e308..1e308) is halved: the ticks
  // only need to cover it, not to reach its exact ends.
  double span = high - low;
  if (!std::isfinite(span)) {
    low /= 2;
    high /= 2;
    span = high - low;
  }
  const double step = NiceNumber(NiceNumber(span, false) / (target - 1), true);
  Ticks t;
  t.step = step;
  double first_k;
  double last_k;
  if (expand) {
    first_k = std::floor(low / step);
    last_k = std::ceil(high / step);
  } else {
    // A bound within a hair of a tick (0.30000000000000004) counts as on it.
    const double eps = 1e-9;
    first_k = std::ceil(low / step - eps);
    last_k = std::floor(high / step + eps);
  }
  // Counted by an integer: far from zero (1e17) adding 1 to k may not
  // change it.
  for (int i = 0; i < kMaxTicks && first_k + i <= last_k; ++i) {
    const double v = (first_k + i) * step;
    if (!t.values.empty() && v <= t.values.back()) continue;
    t.values.push_back(v == 0 ? 0.0 : v);  // never -0
  }
  if (expand && !t.values.empty()) {
    t.min = t.values.front();
    t.max = t.values.back();
  } else {
    t.min = low;
    t.max = high;
  }
  if (!(t.min < t.max)) {
    t.min = low;
    t.max = high;
  }
  return t;
}

std::string FormatTick(double value, double step, bool percent) {
  double shown = value;
  double shown_step = step;
  if (percent) {
    shown *= 100;
    shown_step *= 100;
  }
  // Rounded to the step's last decimal, then written with 15 significant
  // digits: enough for any tick, few enough to hide the binary noise of
  // k * step (3 * 0.1 is 0.30000000000000004) and never an exponent for
  // a round 100.
  if (std::isfinite(shown) && std::isfinite(shown_step) && shown_step > 0) {
    // The fewest decimals that write the step exactly (0.025 needs 3).
    int decimals = 0;
    double scale = 1;
    while (decimals < 15) {
      const double scaled = shown_step * scale;
      if (std::abs(scaled - std::round(scaled)) <= 1e-9 * scaled) break;
      ++decimals;
      scale *= 10;
    }
    const double rounded = std::round(shown * scale) / scale;
    if (std::isfinite(rounded)) shown = rounded;
  }
  std::string out = common::FormatNumber(shown, common::NumberFormat{15});
  if (percent) out.push_back('%');
  return out;
}

std::vector<Point> DecimateLttb(const std::vector<Point>& points,
                                size_t max_points) {
  max_points = std::max<size_t>(max_points, 3);
  const size_t n = points.size();
  if (n <= max_points) return points;
  std::vector<Point> out;
  out.reserve(max_points);
  out.push_back(points.front());
  const double every =
      static_cast<double>(n - 2) / static_cast<double>(max_points - 2);
  size_t a = 0;
  for (size_t i = 0; i + 2 < max_points; ++i) {
    // The average of the next bucket stands in for the point not yet chosen.
    size_t avg_start = static_cast<size_t>(std::floor((i + 1) * every)) + 1;
    size_t avg_end = static_cast<size_t>(std::floor((i + 2) * every)) + 1;
    avg_end = std::min(avg_end, n);
    if (avg_start >= avg_end) {
      avg_start = n - 1;
      avg_end = n;
    }
    double avg_x = 0;
    double avg_y = 0;
    for (size_t j = avg_start; j < avg_end; ++j) {
      avg_x += points[j].x;
      avg_y += points[j].y;
    }
    const double count = static_cast<double>(avg_end - avg_start);
    avg_x /= count;
    avg_y /= count;
    const size_t from = static_cast<size_t>(std::floor(i * every)) + 1;
    const size_t to =
        std::min(static_cast<size_t>(std::floor((i + 1) * every)) + 1, n - 1);
    size_t chosen = from;
    double best = -1;
    for (size_t j = from; j < to; ++j) {
      const double area =
          std::abs((points[a].x - avg_x) * (points[j].y - points[a].y) -
                   (points[a].x - points[j].x) * (avg_y - points[a].y));
      if (area > best) {
        best = area;
        chosen = j;
      }
    }
    out.push_back(points[chosen]);
    a = chosen;
  }
  out.push_back(points.back());
  return out;
}

}  // namespace healthscore::engine::report
