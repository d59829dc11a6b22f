// Synthetic accounts whose churn follows known weights, for tests of
// weight fitting and tuning: a model of two groups of two signals written
// with weights far from those the outcomes follow.

#ifndef HEALTHSCORE_ENGINE_BACKTEST_TESTING_SYNTHETIC_H_
#define HEALTHSCORE_ENGINE_BACKTEST_TESTING_SYNTHETIC_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "engine/backtest/weight_fit.h"
#include "engine/model/compiler.h"
#include "gtest/gtest.h"

namespace healthscore::engine::backtest::testing {

inline constexpr char kTwoByTwoModel[] = R"yaml(name: fit
version: "1"
inputs:
  - {id: a, type: number}
  - {id: b, type: number}
  - {id: c, type: number}
  - {id: d, type: number}
groups:
  - id: g1
    weight: 1
    signals:
      - {id: sa, source: a, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
      - {id: sb, source: b, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
  - id: g2
    weight: 1
    signals:
      - {id: sc, source: c, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
      - {id: sd, source: d, weight: 3, normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

inline std::shared_ptr<const model::CompiledModel> TwoByTwoModel() {
  model::CompileResult r = model::CompileString(kTwoByTwoModel, "fit.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

// The weights the synthetic outcomes follow: shares 0.15, 0.6, 1/6, 1/12.
inline WeightSet TrueWeights() { return {{3, 1}, {1, 4, 2, 1}, {}, {}}; }

struct SyntheticAccounts {
  std::vector<double> signal_scores;  // rows x 4, row-major
  std::vector<double> true_score;
  std::vector<uint8_t> churned;
  SignalScores scores() const {
    return {signal_scores.data(), churned.size(), 4};
  }
};

// `n` accounts with uniform signal scores (every ninth missing signal c)
// that churn with probability 1 / (1 + exp((true score - 50) / 6)).
inline SyntheticAccounts MakeAccounts(const model::CompiledModel& model,
                                      size_t n, uint64_t seed) {
  SyntheticAccounts a;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  a.signal_scores.resize(n * 4);
  for (double& v : a.signal_scores) v = 100 * unit(rng);
  for (size_t r = 0; r < n; r += 9) a.signal_scores[r * 4 + 2] = NAN;
  a.churned.resize(n);  // before scores(), which counts rows by it
  a.true_score.resize(n);
  ScoreWithWeights(model, TrueWeights(), a.scores(), a.true_score.data());
  for (size_t r = 0; r < n; ++r) {
    const double p = 1 / (1 + std::exp((a.true_score[r] - 50) / 6));
    a.churned[r] = unit(rng) < p;
  }
  return a;
}

// The share of the whole score each signal has when all are present.
inline std::vector<double> Shares(const model::CompiledModel& m,
                                  const WeightSet& w) {
  double total = 0;
  for (double g : w.group) total += g;
  std::vector<double> shares(w.signal.size());
  for (size_t g = 0; g < m.groups().size(); ++g) {
    double sum = 0;
    for (int s : m.groups()[g].signals) sum += w.signal[static_cast<size_t>(s)];
    for (int s : m.groups()[g].signals) {
      shares[static_cast<size_t>(s)] =
          w.signal[static_cast<size_t>(s)] / sum * w.group[g] / total;
    }
  }
  return shares;
}

}  // namespace healthscore::engine::backtest::testing

#endif  // HEALTHSCORE_ENGINE_BACKTEST_TESTING_SYNTHETIC_H_
