// The scores a model can give, as lint reasons about them (lint.h): each
// normalisation's output range, combined through the weights for every set
// of present signals whose coverage meets min_coverage, per segment. Sound
// in one direction: reachability is over-estimated (discrete steps are
// treated as ranges; correlations between signals are ignored).
//
// Thread-safety: a ReachAnalysis is immutable once built.

#ifndef HEALTHSCORE_ENGINE_LINT_INTERNAL_SCORE_REACH_H_
#define HEALTHSCORE_ENGINE_LINT_INTERNAL_SCORE_REACH_H_

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "engine/model/compiled_model.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::lint::internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kEps = 1e-9;
// Exact enumeration of present-signal sets up to this many signals; above
// it, a coarser (still sound) bound.
inline constexpr size_t kMaxEnumeratedSignals = 16;

struct Range {
  double lo = 0;
  double hi = 100;
};

// The scores a normalisation can output.
Range NormRange(const model::NormalizeSpec& n);

// The model's signals, flattened, with their weights and ranges for one
// segment ("" for accounts without an override).
struct View {
  std::string segment;
  std::vector<double> weight;
  std::vector<Range> range;
};

struct FlatSignal {
  const model::SignalSpec* spec;
  size_t group;
};

struct Reach {
  double min = kInf;   // lowest reachable score (coverage >= min_coverage)
  double max = -kInf;  // highest
  std::vector<bool> tier;  // per CompiledModel tier
};

// The reach of one model; `spec` and `model` must outlive it.
class ReachAnalysis {
 public:
  ReachAnalysis(const model::ModelSpec& spec,
                const model::CompiledModel& model);

  const std::vector<FlatSignal>& signals() const { return signals_; }
  const std::vector<View>& views() const { return views_; }
  const Reach& reach() const { return reach_; }

  // Share of signal i in `view` (all signals present).
  double Share(const View& view, size_t i) const;
  // Bounds of signal i's normalised score over every segment.
  Range SignalRange(size_t i) const;
  // Bounds of group g's score (a mean of any of its signals).
  Range GroupRange(size_t g) const;

 private:
  View MakeView(const std::string& segment) const;
  void Include(double lo, double hi);
  void ComputeReach();

  const model::ModelSpec& spec_;
  const model::CompiledModel& model_;
  std::vector<FlatSignal> signals_;
  std::vector<View> views_;
  Reach reach_;
};

}  // namespace healthscore::engine::lint::internal

#endif  // HEALTHSCORE_ENGINE_LINT_INTERNAL_SCORE_REACH_H_
