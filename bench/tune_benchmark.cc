// What `healthscore tune` costs: TuneWeights (five folds, three pull
// strengths, then the final fit) on synthetic accounts of a 13-signal
// model in three groups, whose churn follows weights unlike the written
// ones. The goal: 100,000 accounts in under 10 seconds on one core.
//
//   build/bench/tune_benchmark --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true  (one line)

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/backtest/tune.h"
#include "engine/model/compiler.h"

namespace healthscore::engine::backtest {
namespace {

std::shared_ptr<const model::CompiledModel> Model() {
  std::string text = "name: bench\nversion: \"1\"\ninputs:\n";
  for (int s = 0; s < 13; ++s) {
    absl::StrAppend(&text, "  - {id: x", s, ", type: number}\n");
  }
  absl::StrAppend(&text, "groups:\n");
  const int sizes[] = {5, 4, 4};
  int s = 0;
  for (int g = 0; g < 3; ++g) {
    absl::StrAppend(&text, "  - id: g", g, "\n    weight: 1\n    signals:\n");
    for (int k = 0; k < sizes[g]; ++k, ++s) {
      absl::StrAppend(&text, "      - {id: s", s, ", source: x", s,
                      ", weight: 1, normalize: {linear: {bad: 0, good: 1}}}\n");
    }
  }
  absl::StrAppend(&text,
                  "tiers:\n  - {id: green, min: 50}\n  - {id: red, min: 0}\n");
  model::CompileResult r = model::CompileString(text, "bench.yaml");
  return r.model;
}

void BM_TuneWeights(benchmark::State& state) {
  auto model = Model();
  const size_t n = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> x(n * 13);
  for (double& v : x) v = unit(rng) < 0.1 ? NAN : 100 * unit(rng);
  WeightSet truth = ModelWeights(*model);
  for (size_t g = 0; g < truth.group.size(); ++g) truth.group[g] = 1 + g;
  for (size_t k = 0; k < truth.signal.size(); ++k) {
    truth.signal[k] = 1 + (k * 7) % 5;
  }
  const SignalScores scores{x.data(), n, 13};
  std::vector<double> true_score(n), written(n);
  ScoreWithWeights(*model, truth, scores, true_score.data());
  ScoreWithWeights(*model, ModelWeights(*model), scores, written.data());
  std::vector<int8_t> label(n);
  for (size_t r = 0; r < n; ++r) {
    label[r] = unit(rng) < 1 / (1 + std::exp((true_score[r] - 50) / 8));
  }
  double gain = 0;
  for (auto _ : state) {
    auto t = TuneWeights(*model, scores, written.data(), label, TuneOptions());
    if (!t.ok()) {
      state.SkipWithError(std::string(t.status().message()).c_str());
      break;
    }
    gain = t->held_out_auc_after - t->auc_before;
  }
  state.counters["held_out_auc_gain"] = gain;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(n));
}
BENCHMARK(BM_TuneWeights)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace healthscore::engine::backtest

BENCHMARK_MAIN();
