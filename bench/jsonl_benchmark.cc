// Throughput of `healthscore score`'s stages on JSON Lines input: parsing
// alone, parsing + scoring, and parsing + scoring + writing JSON Lines, plus
// scoring alone over batches parsed in advance. Comparing them shows where
// the time of an offline run goes (parsing dominates).
//
// The input (100,000 accounts of the engine/io test model, about 30 MB) is
// generated in memory; nothing is read from or written to disk.
//
//   build/bench/jsonl_benchmark --benchmark_counters_tabular=true

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/result_writer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/io/testing/basic_model.h"
#include "engine/model/compiler.h"

namespace healthscore::engine::io {

using eval::Batch;

namespace {

constexpr int kAccounts = 100000;
constexpr size_t kBatchRows = 16384;

std::shared_ptr<const model::CompiledModel> Model() {
  return testing::BasicModel();
}

// Snapshots shaped like a nightly export: every input present, 12 weeks of
// usage history, and one undeclared metric per line.
const std::string& Input() {
  static const std::string* text = [] {
    auto* out = new std::string;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> unit(0, 1);
    const char* segments[] = {"smb", "mid_market", "enterprise"};
    for (int i = 0; i < kAccounts; ++i) {
      absl::StrAppend(out, "{\"id\":\"acct-", i, "\",\"as_of\":\"2026-11-01\",",
                      "\"metrics\":{",
                      absl::StrFormat("\"dau_mau\":%.4f,\"csat\":%.2f,",
                                      unit(rng), 1 + 4 * unit(rng)),
                      "\"open_tickets\":", static_cast<int>(15 * unit(rng)),
                      ",\"nps\":", static_cast<int>(11 * unit(rng)), "},",
                      "\"attributes\":{\"segment\":\"", segments[i % 3], "\"},",
                      "\"dates\":{\"renewal_date\":\"2027-0", 1 + i % 9,
                      "-15\"},", "\"series\":{\"weekly_active_users\":[");
      double users = 50 + 500 * unit(rng);
      for (int w = 0; w < 12; ++w) {
        users *= 0.9 + 0.2 * unit(rng);
        absl::StrAppend(out, w ? "," : "", static_cast<int>(users));
      }
      absl::StrAppend(
          out, "]},\"previous_score\":", static_cast<int>(100 * unit(rng)),
          ",\"previous_tier\":\"yellow\"}\n");
    }
    return out;
  }();
  return *text;
}

// Serves a string without copying it.
class ViewSource : public ByteSource {
 public:
  explicit ViewSource(std::string_view text) : text_(text) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min(n, text_.size());
    std::memcpy(buf, text_.data(), take);
    text_.remove_prefix(take);
    return take;
  }

 private:
  std::string_view text_;
};

// Counts bytes and drops them, as a fast disk would.
class CountingSink : public ByteSink {
 public:
  explicit CountingSink(size_t* bytes) : bytes_(bytes) {}
  absl::Status Write(std::string_view data) override {
    *bytes_ += data.size();
    return absl::OkStatus();
  }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  size_t* bytes_;
};

enum class Stage { kParse, kParseScore, kParseScoreWrite };

void Run(benchmark::State& state, Stage stage) {
  const std::string& text = Input();
  auto model = Model();
  Batch batch(model);
  eval::BatchResult result;
  size_t written = 0;
  for (auto _ : state) {
    JsonLinesReader reader(std::make_unique<ViewSource>(text));
    std::unique_ptr<ResultWriter> writer;
    if (stage == Stage::kParseScoreWrite) {
      writer = std::make_unique<ResultWriter>(
          std::make_unique<CountingSink>(&written), OutputFormat::kJsonLines);
    }
    for (;;) {
      auto n = reader.ReadBatch(&batch, kBatchRows);
      if (!n.ok() || *n == 0) break;
      if (stage == Stage::kParse) continue;
      if (!eval::Scorer::Score(batch, &result).ok())
        state.SkipWithError("score");
      if (writer && !writer->Write(batch, result).ok()) {
        state.SkipWithError("write");
      }
    }
    if (writer && !writer->Close().ok()) state.SkipWithError("close");
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * kAccounts);
  if (written > 0) {
    state.counters["output_bytes_per_account"] =
        static_cast<double>(written) / state.iterations() / kAccounts;
  }
}

void BM_JsonLinesParse(benchmark::State& state) { Run(state, Stage::kParse); }
void BM_JsonLinesParseScore(benchmark::State& state) {
  Run(state, Stage::kParseScore);
}
void BM_JsonLinesParseScoreWrite(benchmark::State& state) {
  Run(state, Stage::kParseScoreWrite);
}

// Scoring alone, over the same accounts parsed once up front.
void BM_ScoreOnly(benchmark::State& state) {
  auto model = Model();
  std::vector<std::unique_ptr<Batch>> batches;
  JsonLinesReader reader(std::make_unique<ViewSource>(Input()));
  for (;;) {
    auto batch = std::make_unique<Batch>(model);
    auto n = reader.ReadBatch(batch.get(), kBatchRows);
    if (!n.ok() || *n == 0) break;
    batches.push_back(std::move(batch));
  }
  eval::BatchResult result;
  for (auto _ : state) {
    for (const auto& batch : batches) {
      if (!eval::Scorer::Score(*batch, &result).ok())
        state.SkipWithError("score");
    }
    benchmark::DoNotOptimize(result.size());
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(Input().size()));
  state.SetItemsProcessed(state.iterations() * kAccounts);
}

BENCHMARK(BM_JsonLinesParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonLinesParseScore)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonLinesParseScoreWrite)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScoreOnly)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace healthscore::engine::io

BENCHMARK_MAIN();
