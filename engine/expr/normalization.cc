// Normalization: how a raw value becomes a 0-100 score, one value at a time
// (Apply) and over a column (ApplyColumn, written to vectorise).

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/expr/internal/program_step.h"
#include "engine/expr/program.h"

namespace healthscore::engine::expr {

using internal::kNaN;

double Normalization::Apply(double x) const {
  switch (kind) {
    case Kind::kLinear: {
      double t = (x - bad) / (good - bad);
      return 100.0 * std::clamp(t, 0.0, 1.0);
    }
    case Kind::kSteps: {
      size_t i = 0;
      while (i < below.size() && !(x < below[i])) ++i;
      return step_scores[i];
    }
    case Kind::kPiecewise: {
      if (x <= xs.front()) return ys.front();
      if (x >= xs.back()) return ys.back();
      size_t i = std::upper_bound(xs.begin(), xs.end(), x) - xs.begin();
      double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
      return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }
    case Kind::kLogistic:
      return 100.0 / (1.0 + std::exp(-(x - midpoint) / scale));
    case Kind::kIdentity:
      return std::clamp(x, 0.0, 100.0);
  }
  return kNaN;
}

namespace {

// ApplyColumn's loops, written once and inlined into one function per
// column kernel (internal/program_step.h).
HEALTHSCORE_ALWAYS_INLINE void ApplyColumnLoops(const Normalization& nz,
                                                const double* __restrict x,
                                                double* __restrict out,
                                                size_t n) {
  using Kind = Normalization::Kind;
  const double bad = nz.bad, good = nz.good;
  const std::vector<double>& below = nz.below;
  const std::vector<double>& step_scores = nz.step_scores;
  const std::vector<double>& xs = nz.xs;
  const std::vector<double>& ys = nz.ys;
  switch (nz.kind) {
    case Kind::kLinear: {
      const double inv = 1.0 / (good - bad);
      const double b = bad;
      for (size_t i = 0; i < n; ++i) {
        double t = (x[i] - b) * inv;
        t = std::min(std::max(t, 0.0), 1.0);
        out[i] = 100.0 * t;
      }
      return;
    }
    case Kind::kSteps: {
      // The first step's score plus every rise whose threshold the value
      // has reached: a sum instead of a search, so it vectorises.
      const double first = step_scores[0];
      for (size_t i = 0; i < n; ++i) out[i] = first;
      for (size_t j = 0; j < below.size(); ++j) {
        const double rise = step_scores[j + 1] - step_scores[j];
        const double at = below[j];
        for (size_t i = 0; i < n; ++i) out[i] += x[i] >= at ? rise : 0.0;
      }
      return;
    }
    case Kind::kPiecewise: {
      // The interpolation as a sum of clamped ramps, one per segment.
      const double first = ys[0];
      for (size_t i = 0; i < n; ++i) out[i] = first;
      for (size_t j = 0; j + 1 < xs.size(); ++j) {
        const double x0 = xs[j];
        const double inv = 1.0 / (xs[j + 1] - xs[j]);
        const double rise = ys[j + 1] - ys[j];
        for (size_t i = 0; i < n; ++i) {
          double t = (x[i] - x0) * inv;
          t = std::min(std::max(t, 0.0), 1.0);
          out[i] += rise * t;
        }
      }
      return;
    }
    case Kind::kLogistic:
      for (size_t i = 0; i < n; ++i) out[i] = nz.Apply(x[i]);
      return;
    case Kind::kIdentity:
      for (size_t i = 0; i < n; ++i) {
        out[i] = std::min(std::max(x[i], 0.0), 100.0);
      }
      return;
  }
}

void ApplyColumnBaseline(const Normalization& nz, const double* __restrict x,
                         double* __restrict out, size_t n) {
  ApplyColumnLoops(nz, x, out, n);
}

#if HEALTHSCORE_HAVE_AVX2_KERNEL
HEALTHSCORE_TARGET_AVX2
void ApplyColumnAvx2(const Normalization& nz, const double* __restrict x,
                     double* __restrict out, size_t n) {
  ApplyColumnLoops(nz, x, out, n);
}
#endif

}  // namespace

void Normalization::ApplyColumn(const double* x, double* out,
                                size_t n) const {
#if HEALTHSCORE_HAVE_AVX2_KERNEL
  if (internal::UseAvx2Kernel()) {
    ApplyColumnAvx2(*this, x, out, n);
    return;
  }
#endif
  ApplyColumnBaseline(*this, x, out, n);
}

std::string Normalization::ToString() const {
  switch (kind) {
    case Kind::kLinear:
      return absl::StrFormat("linear bad=%g good=%g", bad, good);
    case Kind::kSteps: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < below.size(); ++i) {
        parts.push_back(absl::StrFormat("<%g:%g", below[i], step_scores[i]));
      }
      parts.push_back(absl::StrFormat("else:%g", step_scores.back()));
      return absl::StrCat("steps ", absl::StrJoin(parts, " "));
    }
    case Kind::kPiecewise: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < xs.size(); ++i) {
        parts.push_back(absl::StrFormat("(%g,%g)", xs[i], ys[i]));
      }
      return absl::StrCat("piecewise ", absl::StrJoin(parts, " "));
    }
    case Kind::kLogistic:
      return absl::StrFormat("logistic midpoint=%g scale=%g", midpoint, scale);
    case Kind::kIdentity:
      return "identity";
  }
  return "";
}

}  // namespace healthscore::engine::expr
