// Engine benchmarks: compiling models and scoring batches.
//
//   build/bench/engine_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//
// Items per second are accounts per second. Results and analysis are in
// bench/README.md.

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "bench/synthetic.h"
#include "benchmark/benchmark.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/scorer.h"
#include "engine/eval/worker_pool.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine/model/compiler.h"

namespace healthscore::bench {
namespace {

using engine::eval::Batch;
using engine::eval::BatchResult;
using engine::eval::Scorer;

std::shared_ptr<const engine::model::CompiledModel> DefaultModel() {
  static auto* model = [] {
    auto m = engine::model::LoadModel(HEALTHSCORE_SOURCE_DIR
                                      "/rules/default/1/model.yaml");
    if (!m.ok()) {
      fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
      abort();
    }
    return new std::shared_ptr<const engine::model::CompiledModel>(*m);
  }();
  return *model;
}

// A model with `signals` signals over as many inputs, in 10 groups, with a
// derived value and a playbook per group.
std::string LargeModel(int signals) {
  std::string y = "name: large\nversion: 1\ninputs:\n";
  for (int i = 0; i < signals; ++i) {
    absl::StrAppend(&y, "  - {id: m", i, ", type: number, range: [0, 100]}\n");
  }
  y += "derived:\n";
  for (int g = 0; g < 10; ++g) {
    absl::StrAppend(&y, "  - {id: d", g, ", expr: \"m", g, " * 2 + max(m",
                    g + 1, ", m", g + 2, ")\"}\n");
  }
  y += "groups:\n";
  const int per_group = signals / 10;
  for (int g = 0; g < 10; ++g) {
    absl::StrAppend(&y, "  - id: g", g, "\n    weight: 0.1\n    signals:\n");
    for (int s = g * per_group; s < (g + 1) * per_group; ++s) {
      absl::StrAppend(&y, "      - {id: s", s, ", source: m", s,
                      ", weight: 1, normalize: {linear: {bad: 10, good: 90}}}\n");
    }
  }
  y += "tiers:\n  - {id: green, min: 80}\n  - {id: yellow, min: 50}\n"
       "  - {id: red, min: 0}\nplaybooks:\n";
  for (int g = 0; g < 10; ++g) {
    absl::StrAppend(&y, "  - {id: p", g, ", name: P", g,
                    ", owner: csm, priority: ", g + 1, ", when: 'groups.g", g,
                    " < 40 && d", g, " > 10'}\n");
  }
  return y;
}

void BM_Compile1000SignalModel(benchmark::State& state) {
  const std::string text = LargeModel(1000);
  for (auto _ : state) {
    engine::model::CompileResult r =
        engine::model::CompileString(text, "large.yaml");
    if (!r.model) state.SkipWithError(r.diagnostics.ToString().c_str());
    benchmark::DoNotOptimize(r.model);
  }
}
BENCHMARK(BM_Compile1000SignalModel)->Unit(benchmark::kMillisecond);

void BM_CompileDefaultModel(benchmark::State& state) {
  for (auto _ : state) {
    auto r = engine::model::CompileFile(HEALTHSCORE_SOURCE_DIR
                                        "/rules/default/1/model.yaml");
    benchmark::DoNotOptimize(r.model);
  }
}
BENCHMARK(BM_CompileDefaultModel)->Unit(benchmark::kMicrosecond);

// Score, tier and playbooks for the default model, one thread.
void BM_ScoreDefault(benchmark::State& state) {
  Batch batch(DefaultModel());
  AddSyntheticAccounts(&batch, state.range(0));
  BatchResult result;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Scorer::Score(batch, &result));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreDefault)->Arg(1)->Arg(64)->Arg(1024)->Arg(16384);

// The same over every core (the pool plus the calling thread).
void BM_ScoreDefaultAllThreads(benchmark::State& state) {
  static engine::eval::WorkerPool pool(
      std::max(1u, std::thread::hardware_concurrency()) - 1);
  Batch batch(DefaultModel());
  AddSyntheticAccounts(&batch, state.range(0));
  BatchResult result;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        Scorer::Score(batch, &result, &pool, {.rows_per_task = 1024}));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreDefaultAllThreads)
    ->Arg(1)->Arg(64)->Arg(1024)->Arg(16384)->UseRealTime();

// Explanations and playbook reasons, formatted for every account.
void BM_ExplainDefault(benchmark::State& state) {
  Batch batch(DefaultModel());
  AddSyntheticAccounts(&batch, state.range(0));
  BatchResult result;
  if (!Scorer::Score(batch, &result).ok()) state.SkipWithError("score");
  for (auto _ : state) {
    for (size_t r = 0; r < batch.size(); ++r) {
      engine::eval::Explanation e = engine::eval::Explain(
          batch, result, r, engine::eval::kDefaultTopDrivers);
      benchmark::DoNotOptimize(e);
      for (int p : engine::eval::MatchedPlaybooks(result, r)) {
        benchmark::DoNotOptimize(
            engine::eval::PlaybookReason(batch, result, r, p));
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ExplainDefault)->Arg(1024);

// Building a batch row by row by name (the map form of a request).
void BM_BuildBatchByName(benchmark::State& state) {
  Batch source(DefaultModel());
  AddSyntheticAccounts(&source, state.range(0));
  Batch batch(DefaultModel());
  const auto& inputs = DefaultModel()->inputs();
  for (auto _ : state) {
    batch.Clear();
    engine::eval::BatchBuilder b(&batch);
    for (size_t r = 0; r < source.size(); ++r) {
      b.BeginRow(source.id(r));
      for (const auto& in : inputs) {
        if (in.type == engine::model::InputType::kNumber &&
            source.number_valid(in.column)[r]) {
          b.SetMetric(in.id, source.number(in.column)[r]);
        }
      }
      b.EndRow();
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildBatchByName)->Arg(1024);

}  // namespace
}  // namespace healthscore::bench

BENCHMARK_MAIN();
