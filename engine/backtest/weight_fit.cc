#include "engine/backtest/weight_fit.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

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

void ScoreWithWeights(const model::CompiledModel& model,
                      const WeightSet& weights, const SignalScores& scores,
                      double* out) {
  const std::vector<model::GroupInfo>& groups = model.groups();
  for (size_t r = 0; r < scores.rows; ++r) {
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
        const double w = present ? weights.signal[static_cast<size_t>(s)] : 0.0;
        sum += w * (present ? x : 0.0);
        weight_sum += w;
      }
      const bool present = weight_sum > 0;
      const double group_score = present ? sum / weight_sum : 0.0;
      const double w = present ? weights.group[g] : 0.0;
      total += w * group_score;
      total_weight += w;
    }
    out[r] = total_weight > 0 ? total / total_weight : kNaN;
  }
}

absl::StatusOr<WeightSet> FitWeights(const model::CompiledModel& model,
                                     const SignalScores& scores,
                                     const uint8_t* churned,
                                     const std::vector<uint32_t>& rows,
                                     const WeightSet& start,
                                     const FitOptions& options) {
  const std::vector<model::GroupInfo>& groups = model.groups();
  const size_t num_groups = groups.size();
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

  // Parameters: log group weights, log signal weights, then the link's
  // intercept a and slope b (on (score - 50) / 50, which keeps a and b of
  // order one).
  const size_t num_params = num_groups + num_signals + 2;
  std::vector<double> param(num_params, 0.0);
  std::vector<double> anchor(num_groups + num_signals, 0.0);
  for (size_t g = 0; g < num_groups; ++g) {
    anchor[g] = param[g] = std::log(start.group[g]);
  }
  for (size_t s = 0; s < num_signals; ++s) {
    anchor[num_groups + s] = param[num_groups + s] = std::log(start.signal[s]);
  }
  const size_t ia = num_groups + num_signals;
  const size_t ib = ia + 1;
  const double base = static_cast<double>(positives) / rows.size();
  param[ia] = std::log(base / (1 - base));
  param[ib] = 0;

  std::vector<double> grad(num_params);
  std::vector<double> m(num_params, 0.0), v(num_params, 0.0);
  std::vector<double> w_group(num_groups), w_signal(num_signals);
  std::vector<double> group_score(num_groups), group_weight(num_groups);
  std::vector<double> group_sum_w(num_groups);
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  double beta1_t = 1, beta2_t = 1;
  const double inv_n = 1.0 / static_cast<double>(rows.size());

  for (int it = 0; it < options.iterations; ++it) {
    for (size_t g = 0; g < num_groups; ++g) w_group[g] = std::exp(param[g]);
    for (size_t s = 0; s < num_signals; ++s) {
      w_signal[s] = std::exp(param[num_groups + s]);
    }
    std::fill(grad.begin(), grad.end(), 0.0);
    const double a = param[ia];
    const double b = param[ib];
    for (uint32_t r : rows) {
      double total = 0, total_weight = 0;
      for (size_t g = 0; g < num_groups; ++g) {
        double sum = 0, weight_sum = 0;
        for (int s : groups[g].signals) {
          const double x = scores.At(r, static_cast<size_t>(s));
          if (std::isnan(x)) continue;
          sum += w_signal[static_cast<size_t>(s)] * x;
          weight_sum += w_signal[static_cast<size_t>(s)];
        }
        group_sum_w[g] = weight_sum;
        if (weight_sum > 0) {
          group_score[g] = sum / weight_sum;
          group_weight[g] = w_group[g];
          total += w_group[g] * group_score[g];
          total_weight += w_group[g];
        } else {
          group_weight[g] = 0;
        }
      }
      if (!(total_weight > 0)) continue;  // no score: not part of the fit
      const double score = total / total_weight;
      const double t = (score - 50) / 50;
      const double residual = (Sigmoid(a + b * t) - churned[r]) * inv_n;
      grad[ia] += residual;
      grad[ib] += residual * t;
      const double d_score = residual * b / 50;
      for (size_t g = 0; g < num_groups; ++g) {
        if (group_weight[g] == 0) continue;
        const double share = group_weight[g] / total_weight;
        grad[g] += d_score * share * (group_score[g] - score);
        const double d_group = d_score * share / group_sum_w[g];
        for (int s : groups[g].signals) {
          const double x = scores.At(r, static_cast<size_t>(s));
          if (std::isnan(x)) continue;
          grad[num_groups + static_cast<size_t>(s)] +=
              d_group * w_signal[static_cast<size_t>(s)] * (x - group_score[g]);
        }
      }
    }
    for (size_t k = 0; k < anchor.size(); ++k) {
      grad[k] += 2 * options.pull * (param[k] - anchor[k]);
    }
    beta1_t *= kBeta1;
    beta2_t *= kBeta2;
    for (size_t k = 0; k < num_params; ++k) {
      m[k] = kBeta1 * m[k] + (1 - kBeta1) * grad[k];
      v[k] = kBeta2 * v[k] + (1 - kBeta2) * grad[k] * grad[k];
      const double m_hat = m[k] / (1 - beta1_t);
      const double v_hat = v[k] / (1 - beta2_t);
      param[k] -= options.learning_rate * m_hat / (std::sqrt(v_hat) + kEps);
    }
  }

  WeightSet out;
  out.group.resize(num_groups);
  out.signal.resize(num_signals);
  for (size_t g = 0; g < num_groups; ++g) out.group[g] = std::exp(param[g]);
  for (size_t s = 0; s < num_signals; ++s) {
    out.signal[s] = std::exp(param[num_groups + s]);
  }
  return out;
}

}  // namespace healthscore::engine::backtest
