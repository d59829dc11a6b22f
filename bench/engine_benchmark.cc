// Engine benchmarks: compiling models and scoring batches.
//
//   build/bench/engine_benchmark --benchmark_repetitions=5
//     --benchmark_report_aggregates_only=true
//
// Items per second are accounts per second. Results and analysis are in
// bench/README.md.

#include <cmath>
#include <fstream>
#include <iterator>
#include <utility>
#include <string>
#include <string_view>
#include <vector>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/eval/testing/synthetic_accounts.h"
#include "benchmark/benchmark.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/scorer.h"
#include "engine/eval/worker_pool.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine/model/compiler.h"
#include "engine/repository/score_table.h"
#include "engine/routing/routing.h"
#include "engine/shadow/shadow.h"

namespace healthscore::bench {
namespace {

using engine::eval::Batch;
using engine::eval::BatchResult;
using engine::eval::Scorer;
using engine::eval::testing::AddSyntheticAccounts;

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

// The columns as a client sends them: NaN for missing numbers, codes into
// a small dictionary for strings; `numbers` and `codes` hold the arrays
// the table's runs borrow.
void FillColumnarTable(size_t n, engine::eval::AccountTable* table,
                       std::vector<std::vector<double>>* numbers,
                       std::vector<std::vector<int32_t>>* codes) {
  Batch source(DefaultModel());
  AddSyntheticAccounts(&source, n);
  const auto& inputs = DefaultModel()->inputs();
  static const std::vector<std::string_view> dictionary = {
      "smb", "mid_market", "enterprise"};
  std::vector<std::string> ids;
  for (size_t r = 0; r < n; ++r) ids.push_back(absl::StrCat("acct-", r));
  engine::eval::TableBuilder builder(table);
  for (size_t r = 0; r < n; ++r) {
    builder.BeginRow(ids[r]);
    builder.EndRow();
  }
  numbers->reserve(inputs.size());
  codes->reserve(inputs.size());
  for (const auto& in : inputs) {
    if (in.type == engine::model::InputType::kNumber) {
      auto& column = numbers->emplace_back(n);
      for (size_t r = 0; r < n; ++r) {
        column[r] = source.number_valid(in.column)[r]
                        ? source.number(in.column)[r]
                        : std::nan("");
      }
      builder.PutNumberRun(builder.Column({"metrics", in.id}), 0,
                           column.data(), n);
    } else if (in.type == engine::model::InputType::kString) {
      auto& column = codes->emplace_back(n);
      for (size_t r = 0; r < n; ++r) column[r] = static_cast<int32_t>(r % 3);
      builder.PutCodeRun(builder.Column({"attributes", in.id}), 0,
                         column.data(), n, dictionary.data(),
                         dictionary.size());
    }
  }
}

// A columnar table of `n` accounts with the arrays its runs borrow.
struct ColumnarTable {
  explicit ColumnarTable(size_t n) {
    FillColumnarTable(n, &table, &numbers, &codes);
  }
  engine::eval::AccountTable table;
  std::vector<std::vector<double>> numbers;
  std::vector<std::vector<int32_t>> codes;
};

// Binding a columnar table (the columnar form of a request: one run per
// input, numbers and dictionary-coded strings) to the default model.
void BM_BindColumnarTable(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const ColumnarTable columnar(n);
  const engine::eval::AccountTable& table = columnar.table;
  engine::eval::TableBinder binder(DefaultModel());
  Batch batch(DefaultModel());
  for (auto _ : state) {
    binder.Bind(table, &batch);
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BindColumnarTable)->Arg(1024);

// Binding every other row of such a table (Bind with a row list: the rows
// a route sends to another model); items are the rows bound.
void BM_BindColumnarTableRows(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const ColumnarTable columnar(n);
  const engine::eval::AccountTable& table = columnar.table;
  std::vector<uint32_t> rows;
  for (size_t r = 0; r < n; r += 2) rows.push_back(static_cast<uint32_t>(r));
  engine::eval::TableBinder binder(DefaultModel());
  Batch batch(DefaultModel());
  for (auto _ : state) {
    binder.Bind(table, rows, &batch);
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(rows.size()));
}
BENCHMARK(BM_BindColumnarTableRows)->Arg(2048);

// A shadow request's comparison (ShadowComparison::AddScores) of the
// default model against a candidate whose green tier starts at 70, both
// having scored the same columnar table of `n` accounts (ScoreTable with a
// shadow candidate, outside the timing); items are the accounts compared.
void BM_ShadowCompare(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const ColumnarTable columnar(n);
  const engine::eval::AccountTable& table = columnar.table;
  std::ifstream in(HEALTHSCORE_SOURCE_DIR "/rules/default/1/model.yaml");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"    max: 80\n", "    max: 70\n"},
        std::pair<std::string, std::string>{"    min: 80\n", "    min: 70\n"}}) {
    const size_t at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  engine::model::CompileResult candidate =
      engine::model::CompileString(text, "candidate.yaml");
  if (!candidate.model) {
    state.SkipWithError(candidate.diagnostics.ToString().c_str());
    return;
  }
  engine::repository::TableRequest request;
  request.model = {"default", 1, DefaultModel(), nullptr};
  request.ignore_routes = true;
  const engine::repository::ModelRef shadow = {"candidate", 1,
                                               candidate.model, nullptr};
  request.shadow = &shadow;
  request.signal_values = false;
  engine::repository::TableScores scores;
  if (!engine::repository::ScoreTable(request, table, nullptr, &scores).ok()) {
    state.SkipWithError("scoring failed");
    return;
  }
  for (auto _ : state) {
    engine::shadow::ShadowComparison comparison(DefaultModel(),
                                                candidate.model);
    if (!comparison.AddScores(scores).ok()) state.SkipWithError("compare");
    benchmark::DoNotOptimize(comparison.Report().compared);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ShadowCompare)->Arg(1024)->Arg(16384);

// ScoreTable (the engine's entry point for a request) on a columnar table
// of `n` accounts of the default model, whose segments are smb,
// mid_market and enterprise in turn: with range(1) = 1, the default
// model's route `segment == "enterprise"` sends a third of them to a
// second model (the default model compiled again); with 0 the request
// ignores routes. The two give the cost routing adds per account: the
// route decision, grouping the rows, binding the routed ones again, and
// keeping the rest in the requested model's batch (issue 11).
void BM_ScoreTableRouted(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const bool routed = state.range(1) != 0;
  const ColumnarTable columnar(n);
  auto target = engine::model::LoadModel(HEALTHSCORE_SOURCE_DIR
                                         "/rules/default/1/model.yaml");
  if (!target.ok()) {
    state.SkipWithError("the target model does not load");
    return;
  }
  engine::routing::RouteSpec route;
  route.when.text = "segment == \"enterprise\"";
  route.model = "enterprise";
  engine::model::DiagnosticList diags;
  const std::unique_ptr<const engine::routing::Router> router =
      engine::routing::Router::Create(
          {route}, *DefaultModel(),
          [&target](const engine::routing::RouteSpec&)
              -> absl::StatusOr<engine::routing::RouteTarget> {
            return engine::routing::RouteTarget{"enterprise", 1, *target};
          },
          &diags);
  if (router == nullptr) {
    state.SkipWithError(diags.ToString().c_str());
    return;
  }
  engine::repository::TableRequest request;
  request.model = {"default", 1, DefaultModel(), router.get()};
  request.ignore_routes = !routed;
  request.signal_values = false;
  engine::repository::TableScores scores;
  for (auto _ : state) {
    if (!engine::repository::ScoreTable(request, columnar.table, nullptr,
                                        &scores)
             .ok()) {
      state.SkipWithError("scoring failed");
      return;
    }
    benchmark::DoNotOptimize(scores.routed().parts.size());
  }
  if (routed && scores.routed().parts.size() != 2) {
    state.SkipWithError("the route took no account");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreTableRouted)
    ->Args({1024, 0})
    ->Args({1024, 1})
    ->Args({16384, 0})
    ->Args({16384, 1});

}  // namespace
}  // namespace healthscore::bench

BENCHMARK_MAIN();
