#include "engine/stats/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/status_macros.h"
#include "engine/stats/internal/risk_groups.h"

namespace healthscore::engine::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

absl::Status ValidateProbabilities(absl::Span<const double> probability,
                                   absl::Span<const uint8_t> churned) {
  if (probability.size() != churned.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "probability has ", probability.size(), " values but churned has ",
        churned.size(), ": pass one probability and one label per account"));
  }
  HEALTHSCORE_RETURN_IF_ERROR(ValidateLabels(churned));
  for (size_t i = 0; i < probability.size(); ++i) {
    const double p = probability[i];
    if (!(p >= 0 && p <= 1)) {  // also catches NaN
      return absl::InvalidArgumentError(absl::StrCat(
          "probability[", i, "] is ", p, ": probabilities must be in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IsotonicCalibration> IsotonicCalibration::Fit(
    absl::Span<const double> risk, absl::Span<const uint8_t> churned) {
  LabelCounts counts;
  HEALTHSCORE_RETURN_IF_ERROR(ValidateSample(risk, churned, &counts));
  // An infinite knot would make the interpolation between it and its
  // neighbour inf / inf.
  for (size_t i = 0; i < risk.size(); ++i) {
    if (std::isinf(risk[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "risk[", i, "] is ", risk[i],
          ": the calibration map is fitted on finite risk values only"));
    }
  }
  const std::vector<internal::RiskGroup> groups =
      internal::GroupByRisk(risk, churned, counts);
  // PAV over the tie groups, as a stack of blocks. Merging while the last
  // block's mean is not below the new one's keeps the block means strictly
  // increasing, so every knot is needed. Means are compared as
  // cross-multiplied integers to avoid rounding between equal rates.
  struct Block {
    int64_t churned;
    int64_t accounts;
    double first_risk;
    double last_risk;
  };
  std::vector<Block> blocks;
  blocks.reserve(groups.size());
  for (const internal::RiskGroup& g : groups) {
    Block b{g.churned, g.churned + g.retained, g.risk, g.risk};
    while (!blocks.empty() &&
           static_cast<double>(blocks.back().churned) * b.accounts >=
               static_cast<double>(b.churned) * blocks.back().accounts) {
      b.churned += blocks.back().churned;
      b.accounts += blocks.back().accounts;
      b.first_risk = blocks.back().first_risk;
      blocks.pop_back();
    }
    blocks.push_back(b);
  }
  std::vector<Knot> knots;
  knots.reserve(2 * blocks.size());
  for (const Block& b : blocks) {
    const double p = static_cast<double>(b.churned) / b.accounts;
    knots.push_back({b.first_risk, p});
    if (b.last_risk != b.first_risk) knots.push_back({b.last_risk, p});
  }
  return IsotonicCalibration(std::move(knots));
}

absl::StatusOr<IsotonicCalibration> IsotonicCalibration::FromKnots(
    std::vector<Knot> knots) {
  if (knots.empty()) {
    return absl::InvalidArgumentError(
        "an isotonic map needs at least one knot");
  }
  for (size_t i = 0; i < knots.size(); ++i) {
    const Knot& k = knots[i];
    if (!std::isfinite(k.risk) || !(k.probability >= 0 && k.probability <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("knot ", i, " is (", k.risk, ", ", k.probability,
                       "): risk must be finite and probability in [0, 1]"));
    }
    if (i > 0 && !(knots[i - 1].risk < k.risk &&
                   knots[i - 1].probability <= k.probability)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "knot ", i, " (", k.risk, ", ", k.probability,
          ") does not follow knot ", i - 1, " (", knots[i - 1].risk, ", ",
          knots[i - 1].probability,
          "): risks must increase strictly and probabilities must not "
          "decrease"));
    }
  }
  return IsotonicCalibration(std::move(knots));
}

double IsotonicCalibration::Apply(double risk) const {
  if (std::isnan(risk)) return kNaN;
  if (risk <= knots_.front().risk) return knots_.front().probability;
  if (risk >= knots_.back().risk) return knots_.back().probability;
  // First knot with a risk above `risk`; its predecessor is at or below.
  auto hi =
      std::upper_bound(knots_.begin(), knots_.end(), risk,
                       [](double r, const Knot& k) { return r < k.risk; });
  auto lo = hi - 1;
  if (lo->risk == risk || lo->probability == hi->probability) {
    return lo->probability;
  }
  const double t = (risk - lo->risk) / (hi->risk - lo->risk);
  return lo->probability + t * (hi->probability - lo->probability);
}

absl::Status IsotonicCalibration::ApplyAll(absl::Span<const double> risk,
                                           absl::Span<double> out) const {
  if (risk.size() != out.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "risk has ", risk.size(), " values but out has room for ", out.size()));
  }
  for (size_t i = 0; i < risk.size(); ++i) {
    if (std::isnan(risk[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("risk[", i,
                       "] is NaN: leave accounts without a score "
                       "out before applying the calibration"));
    }
    out[i] = Apply(risk[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> BrierScore(absl::Span<const double> probability,
                                  absl::Span<const uint8_t> churned) {
  HEALTHSCORE_RETURN_IF_ERROR(ValidateProbabilities(probability, churned));
  double sum = 0;
  for (size_t i = 0; i < probability.size(); ++i) {
    const double d = probability[i] - churned[i];
    sum += d * d;
  }
  return sum / static_cast<double>(probability.size());
}

absl::StatusOr<std::vector<CalibrationBand>> CalibrationByBand(
    absl::Span<const double> band_value, absl::Span<const double> probability,
    absl::Span<const uint8_t> churned, absl::Span<const double> edges,
    double z) {
  if (band_value.size() != churned.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "band_value has ", band_value.size(), " values but churned has ",
        churned.size(), ": pass one value and one label per account"));
  }
  HEALTHSCORE_RETURN_IF_ERROR(ValidateProbabilities(probability, churned));
  if (edges.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration bands need at least 2 edges, got ", edges.size()));
  }
  for (size_t b = 0; b < edges.size(); ++b) {
    if (std::isnan(edges[b]) || (b > 0 && !(edges[b - 1] < edges[b]))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "edges[", b, "] is ", edges[b],
          ": band edges must be numbers in strictly increasing order"));
    }
  }
  const size_t num_bands = edges.size() - 1;
  std::vector<int64_t> accounts(num_bands, 0);
  std::vector<int64_t> churners(num_bands, 0);
  std::vector<double> predicted(num_bands, 0);
  for (size_t i = 0; i < band_value.size(); ++i) {
    const double v = band_value[i];
    if (!(v >= edges.front() && v <= edges.back())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "band_value[", i, "] is ", v, ": outside the band edges [",
          edges.front(), ", ", edges.back(),
          "]; widen the edges (infinite edges are allowed)"));
    }
    // The band whose lower edge is the last edge <= v; the top edge itself
    // belongs to the last band.
    size_t b =
        std::upper_bound(edges.begin(), edges.end(), v) - edges.begin() - 1;
    if (b == num_bands) b = num_bands - 1;
    ++accounts[b];
    churners[b] += churned[i];
    predicted[b] += probability[i];
  }
  std::vector<CalibrationBand> bands(num_bands);
  for (size_t b = 0; b < num_bands; ++b) {
    bands[b].lower = edges[b];
    bands[b].upper = edges[b + 1];
    HEALTHSCORE_ASSIGN_OR_RETURN(bands[b].observed,
                                 WilsonInterval(churners[b], accounts[b], z));
    bands[b].mean_predicted =
        accounts[b] == 0 ? kNaN
                         : predicted[b] / static_cast<double>(accounts[b]);
  }
  return bands;
}

}  // namespace healthscore::engine::stats
