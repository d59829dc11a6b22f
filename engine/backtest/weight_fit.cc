#include "engine/backtest/weight_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/expr/program.h"
#include "engine/model/model_plan.h"

namespace healthscore::engine::backtest {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Sigmoid(double z) {
  return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
}

}  // namespace

WeightSet ModelWeights(const model::CompiledModel& model) {
  WeightSet w;
  for (const model::GroupInfo& g : model.groups()) w.group.push_back(g.weight);
  const model::ModelPlan& plan = model.plan();
  for (size_t s = 0; s < model.signals().size(); ++s) {
    w.signal.push_back(model.signals()[s].weight);
    const bool linear = s < plan.signal_normalization.size() &&
                        plan.signal_normalization[s].kind ==
                            expr::Normalization::Kind::kLinear &&
                        !plan.signal_normalization_per_segment[s];
    w.bad.push_back(linear ? plan.signal_normalization[s].bad : kNaN);
    w.good.push_back(linear ? plan.signal_normalization[s].good : kNaN);
  }
  return w;
}

namespace {

// Whether signal s is scored from its raw value under `weights`' own
// thresholds, rather than taken as the engine normalised it.
bool Renormalised(const model::CompiledModel& model, const WeightSet& weights,
                  size_t s) {
  if (s >= weights.bad.size() || std::isnan(weights.bad[s])) return false;
  const expr::Normalization& n = model.plan().signal_normalization[s];
  return weights.bad[s] != n.bad || weights.good[s] != n.good;
}

// The engine's linear normalisation (expr::Normalization::Apply).
double Linear(double x, double bad, double good) {
  if (std::isnan(x)) return kNaN;
  return 100.0 * std::clamp((x - bad) / (good - bad), 0.0, 1.0);
}

}  // namespace

std::vector<std::vector<double>> SignalWeightRows(
    const model::CompiledModel& model, const WeightSet& weights) {
  std::vector<std::vector<double>> rows = model.plan().signal_weight;
  const std::vector<model::SignalInfo>& signals = model.signals();
  for (std::vector<double>& row : rows) {
    for (size_t s = 0; s < row.size() && s < weights.signal.size(); ++s) {
      if (weights.signal[s] == signals[s].weight) continue;  // as written
      row[s] = row[s] == signals[s].weight
                   ? weights.signal[s]
                   : row[s] * (weights.signal[s] / signals[s].weight);
    }
  }
  return rows;
}

namespace {

// ScoreWithWeights over the rows `row_at(i)` for i < n, into out[i].
template <typename RowAt>
void ScoreRows(const model::CompiledModel& model, const WeightSet& weights,
               const SignalScores& scores, size_t n, RowAt row_at,
               double* out) {
  const std::vector<model::GroupInfo>& groups = model.groups();
  const std::vector<std::vector<double>> weight_rows =
      SignalWeightRows(model, weights);
  std::vector<uint8_t> renormalised(scores.signals, 0);
  for (size_t s = 0; s < scores.signals; ++s) {
    renormalised[s] = scores.raw != nullptr && Renormalised(model, weights, s);
  }
  for (size_t i = 0; i < n; ++i) {
    const size_t r = row_at(i);
    const std::vector<double>& signal_weight =
        weight_rows[scores.weight_row == nullptr
                        ? 0
                        : static_cast<size_t>(scores.weight_row[r])];
    // The engine's kMean: weighted sum and weight sum over present
    // members, in member order, then one division.
    double total = 0;
    double total_weight = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      double sum = 0;
      double weight_sum = 0;
      for (int s : groups[g].signals) {
        const size_t k = static_cast<size_t>(s);
        const double x = renormalised[k]
                             ? Linear(scores.raw[r * scores.signals + k],
                                      weights.bad[k], weights.good[k])
                             : scores.At(r, k);
        const bool present = !std::isnan(x);
        const double w = present ? signal_weight[k] : 0.0;
        sum += w * (present ? x : 0.0);
        weight_sum += w;
      }
      const bool present = weight_sum > 0;
      const double group_score = present ? sum / weight_sum : 0.0;
      const double w = present ? weights.group[g] : 0.0;
      total += w * group_score;
      total_weight += w;
    }
    out[i] = total_weight > 0 ? total / total_weight : kNaN;
  }
}

}  // namespace

void ScoreWithWeights(const model::CompiledModel& model,
                      const WeightSet& weights, const SignalScores& scores,
                      double* out) {
  ScoreRows(
      model, weights, scores, scores.rows, [](size_t i) { return i; }, out);
}

void ScoreWithWeights(const model::CompiledModel& model,
                      const WeightSet& weights, const SignalScores& scores,
                      const std::vector<uint32_t>& rows, double* out) {
  ScoreRows(
      model, weights, scores, rows.size(),
      [&rows](size_t i) { return static_cast<size_t>(rows[i]); }, out);
}

namespace {

// The objective of FitWeights and its gradient: the mean negative log
// likelihood of the logistic link over `rows`, plus the pull.
// Parameters: log group weights, log signal weights, then the link's
// intercept a and slope b (on (score - 50) / 50, which keeps a and b of
// order one).
class Objective {
 public:
  // A fitted linear normalisation: signal, written centre, half-width and
  // direction. Its parameters are u (shift of the centre, in written
  // half-widths) and v (log of the width against the written one):
  //   bad  = c0 + h0 u - dir h0 e^v,  good = c0 + h0 u + dir h0 e^v.
  struct Threshold {
    size_t signal;
    double c0, h0, dir;
  };

  Objective(const model::CompiledModel& model, const SignalScores& scores,
            const uint8_t* churned, const std::vector<uint32_t>& rows,
            std::vector<double> anchor, double pull,
            std::vector<Threshold> thresholds)
      : thresholds_(std::move(thresholds)),
        groups_(model.groups()),
        scores_(scores),
        churned_(churned),
        rows_(rows),
        anchor_(std::move(anchor)),
        pull_(pull),
        num_groups_(groups_.size()),
        num_signals_(scores.signals),
        w_group_(num_groups_),
        w_signal_(num_signals_),
        group_score_(num_groups_),
        group_weight_(num_groups_),
        group_sum_w_(num_groups_) {
    // Each weight row's signal weights as multiples of the signal's own:
    // a per-segment weight moves with it (SignalWeightRows).
    const std::vector<model::SignalInfo>& signals = model.signals();
    for (const std::vector<double>& row : model.plan().signal_weight) {
      std::vector<double>& f = factor_.emplace_back(num_signals_, 1.0);
      for (size_t s = 0; s < num_signals_ && s < row.size(); ++s) {
        f[s] = row[s] / signals[s].weight;
      }
    }
    row_weight_.resize(factor_.size(), std::vector<double>(num_signals_));
    threshold_of_.assign(num_signals_, -1);
    for (size_t j = 0; j < thresholds_.size(); ++j) {
      threshold_of_[thresholds_[j].signal] = static_cast<int>(j);
    }
    xs_.resize(num_signals_);
    ts_.resize(num_signals_);
    bad_.resize(thresholds_.size());
    span_.resize(thresholds_.size());
  }

  size_t size() const {
    return num_groups_ + num_signals_ + 2 + 2 * thresholds_.size();
  }
  // The index of threshold j's u; its v follows.
  size_t ThresholdParam(size_t j) const {
    return num_groups_ + num_signals_ + 2 + 2 * j;
  }
  const std::vector<Threshold>& thresholds() const { return thresholds_; }

  double Evaluate(const std::vector<double>& param, std::vector<double>* grad) {
    const size_t ia = num_groups_ + num_signals_;
    const size_t ib = ia + 1;
    for (size_t g = 0; g < num_groups_; ++g) w_group_[g] = std::exp(param[g]);
    for (size_t s = 0; s < num_signals_; ++s) {
      w_signal_[s] = std::exp(param[num_groups_ + s]);
      for (size_t k = 0; k < factor_.size(); ++k) {
        row_weight_[k][s] = w_signal_[s] * factor_[k][s];
      }
    }
    for (size_t j = 0; j < thresholds_.size(); ++j) {
      const Threshold& t = thresholds_[j];
      const double u = param[ThresholdParam(j)];
      const double v = param[ThresholdParam(j) + 1];
      bad_[j] = t.c0 + t.h0 * u - t.dir * t.h0 * std::exp(v);
      span_[j] = 2 * t.dir * t.h0 * std::exp(v);  // good - bad
    }
    grad->assign(size(), 0.0);
    std::vector<double>& d = *grad;
    const double a = param[ia];
    const double b = param[ib];
    const double inv_n = 1.0 / static_cast<double>(rows_.size());
    double loss = 0;
    for (uint32_t r : rows_) {
      const double* row_scores =
          scores_.scores + static_cast<size_t>(r) * num_signals_;
      const double* row_raw =
          scores_.raw == nullptr
              ? nullptr
              : scores_.raw + static_cast<size_t>(r) * num_signals_;
      // The row's signal scores, fitted normalisations applied; ts_ keeps
      // where each fitted one falls between its thresholds.
      double* x = xs_.data();
      for (size_t s = 0; s < num_signals_; ++s) {
        const int j = threshold_of_[s];
        if (j < 0) {
          x[s] = row_scores[s];
          continue;
        }
        const double raw = row_raw[s];
        if (std::isnan(raw)) {
          x[s] = raw;
          continue;
        }
        const double t = (raw - bad_[j]) / span_[j];
        ts_[s] = t;
        x[s] = 100.0 * std::clamp(t, 0.0, 1.0);
      }
      const std::vector<double>& w_signal =
          row_weight_[scores_.weight_row == nullptr
                          ? 0
                          : static_cast<size_t>(scores_.weight_row[r])];
      double total = 0, total_weight = 0;
      for (size_t g = 0; g < num_groups_; ++g) {
        double sum = 0, weight_sum = 0;
        for (int s : groups_[g].signals) {
          const double v = x[s];
          if (std::isnan(v)) continue;
          sum += w_signal[static_cast<size_t>(s)] * v;
          weight_sum += w_signal[static_cast<size_t>(s)];
        }
        group_sum_w_[g] = weight_sum;
        if (weight_sum > 0) {
          group_score_[g] = sum / weight_sum;
          group_weight_[g] = w_group_[g];
          total += w_group_[g] * group_score_[g];
          total_weight += w_group_[g];
        } else {
          group_weight_[g] = 0;
        }
      }
      if (!(total_weight > 0)) continue;  // no score: not part of the fit
      const double score = total / total_weight;
      const double t = (score - 50) / 50;
      const double z = a + b * t;
      const bool y = churned_[r] != 0;
      // log(1 + exp(z)) - y z, computed without overflow.
      loss += (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) -
              (y ? z : 0.0);
      const double residual = (Sigmoid(z) - (y ? 1.0 : 0.0)) * inv_n;
      d[ia] += residual;
      d[ib] += residual * t;
      const double d_score = residual * b / 50;
      for (size_t g = 0; g < num_groups_; ++g) {
        if (group_weight_[g] == 0) continue;
        const double share = group_weight_[g] / total_weight;
        d[g] += d_score * share * (group_score_[g] - score);
        const double d_group = d_score * share / group_sum_w_[g];
        for (int s : groups_[g].signals) {
          const double v = x[s];
          if (std::isnan(v)) continue;
          d[num_groups_ + static_cast<size_t>(s)] +=
              d_group * w_signal[static_cast<size_t>(s)] *
              (v - group_score_[g]);
          const int j = threshold_of_[static_cast<size_t>(s)];
          const double t = ts_[static_cast<size_t>(s)];
          if (j >= 0 && t > 0 && t < 1) {
            // dx/du = 100 dt/du = -100 / (2 dir e^v) = -100 h0 / span;
            // dx/dv = -100 (t - 1/2).
            const double d_x = d_group * w_signal[static_cast<size_t>(s)];
            const Threshold& th = thresholds_[static_cast<size_t>(j)];
            d[ThresholdParam(static_cast<size_t>(j))] +=
                d_x * (-100.0 * th.h0 / span_[static_cast<size_t>(j)]);
            d[ThresholdParam(static_cast<size_t>(j)) + 1] +=
                d_x * (-100.0 * (t - 0.5));
          }
        }
      }
    }
    loss *= inv_n;
    for (size_t k = 0; k < anchor_.size(); ++k) {
      const double delta = param[k] - anchor_[k];
      loss += pull_ * delta * delta;
      d[k] += 2 * pull_ * delta;
    }
    for (size_t j = 0; j < thresholds_.size(); ++j) {
      for (size_t k = ThresholdParam(j); k < ThresholdParam(j) + 2; ++k) {
        loss += pull_ * param[k] * param[k];
        d[k] += 2 * pull_ * param[k];
      }
    }
    return loss;
  }

 private:
  const std::vector<Threshold> thresholds_;
  std::vector<int> threshold_of_;   // per signal: index into thresholds_
  std::vector<double> bad_, span_;  // per threshold, this evaluation
  std::vector<double> xs_, ts_;     // per signal, this row
  const std::vector<model::GroupInfo>& groups_;
  const SignalScores& scores_;
  const uint8_t* churned_;
  const std::vector<uint32_t>& rows_;
  const std::vector<double> anchor_;
  const double pull_;
  const size_t num_groups_;
  const size_t num_signals_;
  std::vector<double> w_group_, w_signal_;
  std::vector<std::vector<double>> factor_;      // [weight row][signal]
  std::vector<std::vector<double>> row_weight_;  // [weight row][signal]
  std::vector<double> group_score_, group_weight_, group_sum_w_;
};

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

absl::StatusOr<WeightSet> FitWeights(const model::CompiledModel& model,
                                     const SignalScores& scores,
                                     const uint8_t* churned,
                                     const std::vector<uint32_t>& rows,
                                     const WeightSet& start,
                                     const FitOptions& options) {
  const size_t num_groups = model.groups().size();
  const size_t num_signals = model.signals().size();
  if (scores.signals != num_signals || start.group.size() != num_groups ||
      start.signal.size() != num_signals) {
    return absl::InvalidArgumentError(
        "weight fit: signal scores or weights do not match the model");
  }
  size_t positives = 0;
  for (uint32_t r : rows) {
    if (r >= scores.rows) {
      return absl::InvalidArgumentError("weight fit: row out of range");
    }
    positives += churned[r] != 0;
  }
  if (positives == 0 || positives == rows.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weight fit: the accounts must include churned and retained ones (",
        positives, " of ", rows.size(), " churned)"));
  }
  std::vector<double> anchor(num_groups + num_signals);
  for (size_t g = 0; g < num_groups; ++g) anchor[g] = std::log(start.group[g]);
  for (size_t s = 0; s < num_signals; ++s) {
    anchor[num_groups + s] = std::log(start.signal[s]);
  }
  std::vector<Objective::Threshold> thresholds;
  if (options.fit_thresholds) {
    if (scores.raw == nullptr) {
      return absl::InvalidArgumentError(
          "weight fit: fitting thresholds needs the signals' raw values");
    }
    for (size_t s = 0; s < num_signals && s < start.bad.size(); ++s) {
      const double bad = start.bad[s], good = start.good[s];
      if (!std::isfinite(bad) || !std::isfinite(good) || bad == good) continue;
      thresholds.push_back({s, (bad + good) / 2, std::abs(good - bad) / 2,
                            good > bad ? 1.0 : -1.0});
    }
  }
  Objective objective(model, scores, churned, rows, anchor, options.pull,
                      thresholds);
  std::vector<double> x = anchor;
  const double base = static_cast<double>(positives) / rows.size();
  x.push_back(std::log(base / (1 - base)));  // a: the base rate
  x.push_back(0);                            // b
  x.resize(objective.size(), 0.0);  // thresholds start as written (u = v = 0)

  // L-BFGS with a backtracking (Armijo) line search: the objective is
  // smooth and has a few dozen parameters, so a few dozen iterations reach
  // what hundreds of plain gradient steps would.
  constexpr size_t kMemory = 8;
  std::vector<std::vector<double>> s_hist, y_hist;
  std::vector<double> rho_hist;
  std::vector<double> grad;
  double f = objective.Evaluate(x, &grad);
  std::vector<double> dir(x.size()), x_new(x.size()), grad_new;
  std::vector<double> alpha(kMemory);
  for (int it = 0; it < options.iterations; ++it) {
    // Two-loop recursion: dir = -H grad.
    std::vector<double> q = grad;
    for (size_t k = s_hist.size(); k-- > 0;) {
      alpha[k] = rho_hist[k] * Dot(s_hist[k], q);
      for (size_t i = 0; i < q.size(); ++i) q[i] -= alpha[k] * y_hist[k][i];
    }
    double gamma = 1;
    if (!s_hist.empty()) {
      gamma =
          Dot(s_hist.back(), y_hist.back()) / Dot(y_hist.back(), y_hist.back());
    }
    for (double& v : q) v *= gamma;
    for (size_t k = 0; k < s_hist.size(); ++k) {
      const double beta = rho_hist[k] * Dot(y_hist[k], q);
      for (size_t i = 0; i < q.size(); ++i)
        q[i] += s_hist[k][i] * (alpha[k] - beta);
    }
    for (size_t i = 0; i < q.size(); ++i) dir[i] = -q[i];
    double slope = Dot(dir, grad);
    if (!(slope < 0)) {  // not a descent direction: restart along -grad
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      for (size_t i = 0; i < dir.size(); ++i) dir[i] = -grad[i];
      slope = Dot(dir, grad);
    }
    double step = 1;
    double f_new = f;
    bool moved = false;
    for (int tries = 0; tries < 40; ++tries, step *= 0.5) {
      for (size_t i = 0; i < x.size(); ++i) x_new[i] = x[i] + step * dir[i];
      f_new = objective.Evaluate(x_new, &grad_new);
      if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
        moved = true;
        break;
      }
    }
    if (!moved) break;
    std::vector<double> sv(x.size()), yv(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      sv[i] = x_new[i] - x[i];
      yv[i] = grad_new[i] - grad[i];
    }
    const double sy = Dot(sv, yv);
    if (sy > 1e-12) {
      if (s_hist.size() == kMemory) {
        s_hist.erase(s_hist.begin());
        y_hist.erase(y_hist.begin());
        rho_hist.erase(rho_hist.begin());
      }
      s_hist.push_back(std::move(sv));
      y_hist.push_back(std::move(yv));
      rho_hist.push_back(1 / sy);
    }
    const double decrease = f - f_new;
    x.swap(x_new);
    grad.swap(grad_new);
    f = f_new;
    if (decrease <= options.tolerance * std::max(1.0, std::abs(f))) break;
  }

  WeightSet out;
  out.group.resize(num_groups);
  out.signal.resize(num_signals);
  for (size_t g = 0; g < num_groups; ++g) out.group[g] = std::exp(x[g]);
  for (size_t s = 0; s < num_signals; ++s) {
    out.signal[s] = std::exp(x[num_groups + s]);
  }
  out.bad = start.bad;
  out.good = start.good;
  for (size_t t = 0; t < thresholds.size(); ++t) {
    const Objective::Threshold& th = thresholds[t];
    const double u = x[objective.ThresholdParam(t)];
    const double v = x[objective.ThresholdParam(t) + 1];
    out.bad[th.signal] = th.c0 + th.h0 * u - th.dir * th.h0 * std::exp(v);
    out.good[th.signal] = th.c0 + th.h0 * u + th.dir * th.h0 * std::exp(v);
  }
  return out;
}

}  // namespace healthscore::engine::backtest
