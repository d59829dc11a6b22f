// Calibration: turning a risk into a churn probability and checking how
// well probabilities match what happened.
//
//   - IsotonicCalibration: isotonic regression of churn on risk by the
//     pool-adjacent-violators algorithm (PAV; Ayer, Brunk, Ewing, Reid &
//     Silverman (1955), "An empirical distribution function for sampling
//     with incomplete information", Ann. Math. Statist. 26(4):641-647;
//     used for calibration by Zadrozny & Elkan (2002), "Transforming
//     classifier scores into accurate multiclass probability estimates",
//     KDD). The fitted map is the non-decreasing step function of risk
//     that minimises the squared error to the labels; fit it on training
//     folds and Apply() it to held-out ones.
//   - BrierScore: mean squared error of probabilities against labels
//     (Brier (1950), Monthly Weather Review 78(1):1-3).
//   - CalibrationByBand: per band of a value (e.g. score 0-10, 10-20, ...):
//     accounts, churned, observed rate with its Wilson interval, and the
//     mean predicted probability, for a calibration plot or table.
//
// Conventions and errors as in engine/stats/sample.h. Pure functions and
// immutable objects: thread-safe. Fitting is O(n log n), Apply O(log k)
// for k knots.

#ifndef HEALTHSCORE_ENGINE_STATS_CALIBRATION_H_
#define HEALTHSCORE_ENGINE_STATS_CALIBRATION_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/stats/proportion.h"
#include "engine/stats/sample.h"

namespace healthscore::engine::stats {

class IsotonicCalibration {
 public:
  // A point of the fitted map.
  struct Knot {
    double risk = 0;
    double probability = 0;
  };

  // Fits the map on a sample (no class requirement: a sample without
  // churners gives the constant map 0). Risks must be finite here
  // (InvalidArgument naming the first infinite one); Apply() takes any. Accounts with equal risk are pooled
  // first, so they always get the same probability. Each block of pooled
  // accounts contributes a knot at its smallest and at its largest risk
  // (one knot if those are equal), with the block's churn rate.
  static absl::StatusOr<IsotonicCalibration> Fit(
      absl::Span<const double> risk, absl::Span<const uint8_t> churned);

  // Rebuilds a map from its knots (e.g. saved by an earlier fit).
  // InvalidArgument unless there is at least one knot, risks are finite
  // and strictly increasing, and probabilities are in [0, 1] and
  // non-decreasing.
  static absl::StatusOr<IsotonicCalibration> FromKnots(std::vector<Knot> knots);

  // The probability for a risk value: the knot's probability at a knot,
  // linear interpolation between adjacent knots (as scikit-learn's
  // IsotonicRegression does), the first or last knot's probability below
  // or above the fitted range. On the fitting sample this equals the PAV
  // fit exactly. NaN for NaN.
  double Apply(double risk) const;

  // Apply() for each value: out[i] = Apply(risk[i]). InvalidArgument if the
  // sizes differ or a risk is NaN (naming its index).
  absl::Status ApplyAll(absl::Span<const double> risk,
                        absl::Span<double> out) const;

  // Knots in increasing risk, for plotting or saving.
  const std::vector<Knot>& knots() const { return knots_; }

 private:
  explicit IsotonicCalibration(std::vector<Knot> knots)
      : knots_(std::move(knots)) {}

  std::vector<Knot> knots_;
};

// Mean of (probability_i - churned_i)^2, in [0, 1]; 0 is perfect.
// InvalidArgument for mismatched lengths, an empty sample, a bad label, or
// a probability outside [0, 1] or NaN (naming its index).
absl::StatusOr<double> BrierScore(absl::Span<const double> probability,
                                  absl::Span<const uint8_t> churned);

struct CalibrationBand {
  double lower = 0;  // band is [lower, upper); the last band is [lower, upper]
  double upper = 0;
  // accounts (trials), churned (successes), observed rate and its Wilson
  // interval; rate NaN for an empty band.
  Proportion observed;
  // Mean predicted probability of the band's accounts; NaN when empty.
  double mean_predicted = 0;
};

// Bands accounts by `band_value` (e.g. the score) at `edges`, which must be
// at least two strictly increasing non-NaN values (infinities allowed):
// band b holds edges[b] <= value < edges[b + 1], the last band also its
// upper edge. A value outside [edges.front(), edges.back()] is
// InvalidArgument naming its index (widen the edges; nothing is dropped).
// `probability` must be in [0, 1] like BrierScore's; all three spans the
// same length. Returns edges.size() - 1 bands. O(n log bands).
absl::StatusOr<std::vector<CalibrationBand>> CalibrationByBand(
    absl::Span<const double> band_value, absl::Span<const double> probability,
    absl::Span<const uint8_t> churned, absl::Span<const double> edges,
    double z = kZ95);

}  // namespace healthscore::engine::stats

#endif  // HEALTHSCORE_ENGINE_STATS_CALIBRATION_H_
