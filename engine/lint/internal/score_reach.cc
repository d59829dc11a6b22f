// Which scores a model can give: the reachability analysis behind lint's
// findings (see score_reach.h).

#include "engine/lint/internal/score_reach.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace healthscore::engine::lint::internal {

using model::NormalizeSpec;

// The scores a normalisation can output.
Range NormRange(const NormalizeSpec& n) {
  using Kind = NormalizeSpec::Kind;
  Range r;
  switch (n.kind) {
    case Kind::kSteps:
      if (!n.steps.empty()) {
        r.lo = kInf;
        r.hi = -kInf;
        for (const auto& s : n.steps) {
          r.lo = std::min(r.lo, s.score);
          r.hi = std::max(r.hi, s.score);
        }
      }
      break;
    case Kind::kPiecewise:
      if (!n.points.empty()) {
        r.lo = kInf;
        r.hi = -kInf;
        for (const auto& p : n.points) {
          r.lo = std::min(r.lo, p.score);
          r.hi = std::max(r.hi, p.score);
        }
      }
      break;
    default:
      break;
  }
  r.lo = std::clamp(r.lo, 0.0, 100.0);
  r.hi = std::clamp(r.hi, 0.0, 100.0);
  return r;
}

ReachAnalysis::ReachAnalysis(const model::ModelSpec& spec,
                             const model::CompiledModel& model)
    : spec_(spec), model_(model) {
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    for (const model::SignalSpec& s : spec.groups[g].signals) {
      signals_.push_back({&s, g});
    }
  }
  std::set<std::string> segments;
  for (const FlatSignal& f : signals_) {
    for (const auto& o : f.spec->overrides) segments.insert(o.segment);
  }
  views_.push_back(MakeView(""));
  for (const std::string& s : segments) views_.push_back(MakeView(s));
  ComputeReach();
}

double ReachAnalysis::Share(const View& view, size_t i) const {
  double group_sum = 0;
  for (size_t k = 0; k < signals_.size(); ++k) {
    if (signals_[k].group == signals_[i].group) group_sum += view.weight[k];
  }
  double total_group = 0;
  for (const model::GroupSpec& g : spec_.groups) total_group += g.weight;
  if (group_sum <= 0 || total_group <= 0) return 0;
  return view.weight[i] / group_sum *
         spec_.groups[signals_[i].group].weight / total_group;
}

Range ReachAnalysis::SignalRange(size_t i) const {
  Range r{kInf, -kInf};
  for (const View& v : views_) {
    r.lo = std::min(r.lo, v.range[i].lo);
    r.hi = std::max(r.hi, v.range[i].hi);
  }
  return r;
}

Range ReachAnalysis::GroupRange(size_t g) const {
  Range r{kInf, -kInf};
  for (size_t i = 0; i < signals_.size(); ++i) {
    if (signals_[i].group != g) continue;
    Range s = SignalRange(i);
    r.lo = std::min(r.lo, s.lo);
    r.hi = std::max(r.hi, s.hi);
  }
  if (r.lo > r.hi) return Range{0, 100};
  return r;
}

View ReachAnalysis::MakeView(const std::string& segment) const {
  View v;
  v.segment = segment;
  for (const FlatSignal& f : signals_) {
    double weight = f.spec->weight;
    const NormalizeSpec* norm = &f.spec->normalize;
    for (const auto& o : f.spec->overrides) {
      if (o.segment != segment) continue;
      if (o.weight) weight = *o.weight;
      if (o.normalize) norm = &*o.normalize;
    }
    v.weight.push_back(weight);
    v.range.push_back(NormRange(*norm));
  }
  return v;
}

void ReachAnalysis::Include(double lo, double hi) {
  reach_.min = std::min(reach_.min, lo);
  reach_.max = std::max(reach_.max, hi);
  const auto& tiers = model_.tiers();
  for (size_t t = 0; t < tiers.size(); ++t) {
    const bool top = t == 0;
    const bool hit = hi >= tiers[t].min - kEps &&
                     (top ? lo <= 100 + kEps : lo < tiers[t].max - kEps);
    if (hit) reach_.tier[t] = true;
  }
}

void ReachAnalysis::ComputeReach() {
  reach_.tier.assign(model_.tiers().size(), false);
  const size_t n = signals_.size();
  if (n == 0) return;
  if (n > kMaxEnumeratedSignals) {
    // Any weighted mean lies between the smallest and largest signal
    // score: a sound, coarser bound.
    for (const View& v : views_) {
      for (size_t i = 0; i < n; ++i) Include(v.range[i].lo, v.range[i].hi);
    }
    return;
  }
  const size_t groups = spec_.groups.size();
  for (const View& v : views_) {
    std::vector<double> share(n);
    for (size_t i = 0; i < n; ++i) share[i] = Share(v, i);
    std::vector<double> sw(groups), slo(groups), shi(groups);
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
      double coverage = 0;
      std::fill(sw.begin(), sw.end(), 0.0);
      std::fill(slo.begin(), slo.end(), 0.0);
      std::fill(shi.begin(), shi.end(), 0.0);
      for (size_t i = 0; i < n; ++i) {
        if ((mask & (1u << i)) == 0) continue;
        coverage += share[i];
        const size_t g = signals_[i].group;
        sw[g] += v.weight[i];
        slo[g] += v.weight[i] * v.range[i].lo;
        shi[g] += v.weight[i] * v.range[i].hi;
      }
      if (coverage < spec_.min_coverage - kEps) continue;
      double total = 0, lo = 0, hi = 0;
      for (size_t g = 0; g < groups; ++g) {
        if (sw[g] <= 0) continue;
        const double gw = spec_.groups[g].weight;
        total += gw;
        lo += gw * slo[g] / sw[g];
        hi += gw * shi[g] / sw[g];
      }
      if (total <= 0) continue;
      Include(lo / total, hi / total);
    }
  }
}

}  // namespace healthscore::engine::lint::internal
