// Plugin benchmarks: what a plugin signal costs above the same computation
// built in.
//
//   build/bench/plugin_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//
// The nps plugin (plugins/nps/nps.c, loaded from its .so) against the same
// loop compiled into the engine, both as one step of a scoring program over
// chunks of 256 accounts with ten 0-10 answers each:
//
//   BM_NpsBuiltinStep  the loop as an in-process expr::ExternalFunction:
//                      what a built-in series function costs
//   BM_NpsPluginStep   the plugin through the host (PluginSignal): C batch
//                      view, output pre-fill, evaluate_batch through the
//                      table, row statuses to validity, counters
//   BM_ScoreNpsModel   a whole model scoring NPS with the plugin, for scale
//
// The difference of the first two, per account, is the plugin overhead
// (bench/README.md, "Plugin signals"). Items per second are accounts per
// second. Plugins are read from <build>/plugins/lib (found from this
// program's path) or $HEALTHSCORE_PLUGIN_DIR.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/eval/batch.h"
#include "engine/eval/scorer.h"
#include "engine/expr/program.h"
#include "engine/model/compiler.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/plugin_host/plugin_library.h"

namespace healthscore::bench {
namespace {

constexpr int kAnswers = 10;

std::string PluginDir() {
  if (const char* env = std::getenv("HEALTHSCORE_PLUGIN_DIR")) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path().parent_path() / "plugins" / "lib").string();
}

engine::plugin_host::PluginHost& Host() {
  static engine::plugin_host::PluginHost* host = [] {
    engine::plugin_host::PluginHostOptions options;
    options.directories = {PluginDir()};
    auto h = engine::plugin_host::PluginHost::Create(std::move(options));
    if (!h.ok()) {
      std::fprintf(stderr, "%s (set HEALTHSCORE_PLUGIN_DIR)\n",
                   std::string(h.status().message()).c_str());
      std::abort();
    }
    return h->release();
  }();
  return *host;
}

std::shared_ptr<engine::plugin_host::PluginSignal> NpsPlugin() {
  auto lib = Host().Load("nps");
  if (!lib.ok()) {
    std::fprintf(stderr, "%s\n", std::string(lib.status().message()).c_str());
    std::abort();
  }
  return *(*(*lib)->Instantiate({}))->CreateSignal("nps", 1, {});
}

// The nps plugin's loop (min_responses 1, no window), compiled in.
class BuiltinNps : public engine::expr::ExternalFunction {
 public:
  void EvaluateChunk(const engine::expr::ExternalColumn* in, size_t, size_t n,
                     double* out, uint8_t* valid) const override {
    const engine::expr::ExternalColumn& answers = in[0];
    for (size_t i = 0; i < n; ++i) {
      const uint32_t begin = answers.offsets[i];
      const uint32_t end = answers.offsets[i + 1];
      uint32_t promoters = 0, detractors = 0, bad = 0;
      if (!answers.valid[i] || end == begin) {
        valid[i] = 0;
        continue;
      }
      for (uint32_t j = begin; j < end; ++j) {
        const double x = answers.values[j];
        bad |= !(x >= 0.0 && x <= 10.0);
        promoters += x >= 9.0;
        detractors += x < 7.0;
      }
      out[i] =
          100.0 *
          (static_cast<double>(promoters) - static_cast<double>(detractors)) /
          static_cast<double>(end - begin);
      valid[i] = !bad;
    }
  }
};

// `rows` accounts of kAnswers answers each, as one series column.
struct Answers {
  std::vector<double> values;
  std::vector<uint32_t> offsets{0};
  std::vector<uint8_t> valid;

  explicit Answers(size_t rows) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> answer(0, 10);
    for (size_t r = 0; r < rows; ++r) {
      for (int j = 0; j < kAnswers; ++j) values.push_back(answer(rng));
      offsets.push_back(static_cast<uint32_t>(values.size()));
      valid.push_back(1);
    }
  }
};

// Runs one program holding the step over `rows` accounts, chunk by chunk,
// as Scorer does.
void RunStep(benchmark::State& state,
             std::shared_ptr<const engine::expr::ExternalFunction> fn) {
  using engine::expr::Operand;
  const size_t rows = static_cast<size_t>(state.range(0));
  engine::expr::ProgramBuilder builder;
  const int slot = builder.AddSlot(engine::expr::ValueKind::kSeries);
  const Operand out = builder.External(std::move(fn), {Operand::Slot(slot)});
  std::unique_ptr<engine::expr::Program> program = builder.Build();
  Answers answers(rows);
  engine::expr::SlotView slots;
  slots.num.assign(1, nullptr);
  slots.num_valid.assign(1, nullptr);
  slots.str.assign(1, nullptr);
  slots.series.assign(1, {});
  engine::expr::Scratch scratch;
  double sum = 0;
  for (auto _ : state) {
    for (size_t start = 0; start < rows; start += engine::expr::kChunkRows) {
      const size_t n = std::min<size_t>(engine::expr::kChunkRows, rows - start);
      slots.series[slot] = {answers.values.data(),
                            answers.offsets.data() + start,
                            answers.valid.data() + start};
      program->Run(slots, n, &scratch);
      sum += program->Num(out, slots, scratch)[0];
    }
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * rows);
  // The inverted rate of accounts: seconds per account, printed as e.g.
  // "15.6ns".
  state.counters["per_account"] = benchmark::Counter(
      static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate |
                                     benchmark::Counter::kInvert);
}

void BM_NpsBuiltinStep(benchmark::State& state) {
  RunStep(state, std::make_shared<BuiltinNps>());
}
BENCHMARK(BM_NpsBuiltinStep)->Arg(256)->Arg(1024)->Arg(16384);

void BM_NpsPluginStep(benchmark::State& state) { RunStep(state, NpsPlugin()); }
BENCHMARK(BM_NpsPluginStep)->Arg(256)->Arg(1024)->Arg(16384);

constexpr char kNpsModel[] = R"yaml(
name: nps_bench
version: 1
plugins:
  - {id: survey, library: nps}
inputs:
  - {id: answers, type: series}
  - {id: csat, type: number}
derived:
  - {id: nps, plugin: survey, signal: nps, inputs: [answers]}
groups:
  - id: sentiment
    weight: 1
    signals:
      - {id: nps, source: nps, weight: 0.5, normalize: {linear: {bad: -50, good: 50}}}
      - {id: csat, source: csat, weight: 0.5, normalize: {linear: {bad: 3, good: 4.6}}}
tiers:
  - {id: green, min: 80}
  - {id: red, min: 0}
)yaml";

void BM_ScoreNpsModel(benchmark::State& state) {
  const size_t rows = static_cast<size_t>(state.range(0));
  engine::model::CompileOptions options;
  options.plugins = &Host();
  engine::model::CompileResult compiled =
      engine::model::CompileString(kNpsModel, "nps_bench.yaml", options);
  if (compiled.model == nullptr) {
    state.SkipWithError(compiled.diagnostics.ToString().c_str());
    return;
  }
  engine::eval::Batch batch(compiled.model);
  engine::eval::BatchBuilder b(&batch);
  Answers answers(rows);
  for (size_t r = 0; r < rows; ++r) {
    b.BeginRow("a" + std::to_string(r));
    b.SetSeries("answers", answers.values.data() + answers.offsets[r],
                kAnswers);
    b.SetMetric("csat", 3 + (r % 17) / 10.0);
    b.EndRow();
  }
  engine::eval::BatchResult result;
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine::eval::Scorer::Score(batch, &result));
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(BM_ScoreNpsModel)->Arg(1024);

}  // namespace
}  // namespace healthscore::bench

BENCHMARK_MAIN();
