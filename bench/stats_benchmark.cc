// Statistics benchmarks: what a backtest spends on ROC AUC with DeLong's
// interval, and on the paired test of two models, per number of accounts.
//
//   build/bench/stats_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//
// Items per second are accounts per second. Risks are scores rounded to
// 0.1 on 0-100 (as a health score is), so ties are as common as in a real
// backtest; about 27% of accounts churn.

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/stats/delong.h"
#include "engine/stats/roc.h"

namespace healthscore::bench {
namespace {

struct Sample {
  std::vector<double> risk_a;
  std::vector<double> risk_b;
  std::vector<uint8_t> churned;
};

Sample MakeSample(int64_t n) {
  std::mt19937_64 rng(12);
  std::normal_distribution<double> noise;
  std::bernoulli_distribution coin(0.27);
  Sample s;
  s.risk_a.reserve(n);
  s.risk_b.reserve(n);
  s.churned.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t c = coin(rng);
    const double shared = noise(rng);
    auto score = [&](double signal) {
      const double x = 50 + 15 * (shared + signal * c + 0.7 * noise(rng));
      return std::round(std::fmin(100, std::fmax(0, x)) * 10) / 10;
    };
    s.risk_a.push_back(score(1.0));
    s.risk_b.push_back(score(0.8));
    s.churned.push_back(c);
  }
  return s;
}

const Sample& SampleOf(int64_t n) {
  static auto* small = new Sample(MakeSample(100'000));
  static auto* large = new Sample(MakeSample(1'000'000));
  return n == 100'000 ? *small : *large;
}

void BM_Auc(benchmark::State& state) {
  const Sample& s = SampleOf(state.range(0));
  for (auto _ : state) {
    auto auc = engine::stats::Auc(s.risk_a, s.churned);
    benchmark::DoNotOptimize(auc);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Auc)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// What `backtest` reports for one model: AUC, DeLong variance and 95% CI.
void BM_DelongAuc(benchmark::State& state) {
  const Sample& s = SampleOf(state.range(0));
  for (auto _ : state) {
    auto e = engine::stats::DelongAuc(s.risk_a, s.churned);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DelongAuc)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

// `backtest --candidate`: both AUCs and the paired test.
void BM_DelongPairedTest(benchmark::State& state) {
  const Sample& s = SampleOf(state.range(0));
  for (auto _ : state) {
    auto t = engine::stats::DelongPairedTest(s.risk_a, s.risk_b, s.churned);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DelongPairedTest)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace healthscore::bench

BENCHMARK_MAIN();
