#include "engine/backtest/weight_fit.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
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
  for (const model::SignalInfo& s : model.signals()) {
    w.signal.push_back(s.weight);
  }
  return w;
}

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
        const double x = scores.At(r, static_cast<size_t>(s));
        const bool present = !std::isnan(x);
        const double w = present ? signal_weight[static_cast<size_t>(s)] : 0.0;
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
  Objective(const model::CompiledModel& model, const SignalScores& scores,
            const uint8_t* churned, const std::vector<uint32_t>& rows,
            std::vector<double> anchor, double pull)
      : groups_(model.groups()),
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
  }

  size_t size() const { return num_groups_ + num_signals_ + 2; }

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
    grad->assign(size(), 0.0);
    std::vector<double>& d = *grad;
    const double a = param[ia];
    const double b = param[ib];
    const double inv_n = 1.0 / static_cast<double>(rows_.size());
    double loss = 0;
    for (uint32_t r : rows_) {
      const double* x = scores_.scores + static_cast<size_t>(r) * num_signals_;
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
        }
      }
    }
    loss *= inv_n;
    for (size_t k = 0; k < anchor_.size(); ++k) {
      const double delta = param[k] - anchor_[k];
      loss += pull_ * delta * delta;
      d[k] += 2 * pull_ * delta;
    }
    return loss;
  }

 private:
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
  Objective objective(model, scores, churned, rows, anchor, options.pull);
  std::vector<double> x = anchor;
  const double base = static_cast<double>(positives) / rows.size();
  x.push_back(std::log(base / (1 - base)));  // a: the base rate
  x.push_back(0);                            // b

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
  return out;
}

}  // namespace healthscore::engine::backtest
