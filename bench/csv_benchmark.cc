// Throughput of `healthscore score`'s stages on CSV input: parsing alone,
// parsing + scoring, and parsing + scoring + writing CSV. The CSV twin of
// jsonl_benchmark.cc, over the same accounts (100,000 of the engine/io test
// model, every input present, 12 weeks of usage history and one undeclared
// column), generated in memory; nothing is read from or written to disk.
//
//   build/bench/csv_benchmark --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

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
namespace {

constexpr int kAccounts = 100000;
constexpr size_t kBatchRows = 16384;

std::shared_ptr<const model::CompiledModel> Model() {
  return testing::BasicModel();
}

// The accounts of jsonl_benchmark.cc's input (same seed and draws), as CSV:
// `nps` is the undeclared column, the series is ';'-separated.
const std::string& Input() {
  static const std::string* text = [] {
    auto* out = new std::string(
        "id,as_of,dau_mau,csat,open_tickets,nps,segment,renewal_date,"
        "weekly_active_users,previous_score,previous_tier\n");
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> unit(0, 1);
    const char* segments[] = {"smb", "mid_market", "enterprise"};
    for (int i = 0; i < kAccounts; ++i) {
      absl::StrAppend(
          out, "acct-", i, ",2026-11-01,",
          absl::StrFormat("%.4f,%.2f,", unit(rng), 1 + 4 * unit(rng)),
          static_cast<int>(15 * unit(rng)), ",",
          static_cast<int>(11 * unit(rng)), ",", segments[i % 3], ",2027-0",
          1 + i % 9, "-15,");
      double users = 50 + 500 * unit(rng);
      for (int w = 0; w < 12; ++w) {
        users *= 0.9 + 0.2 * unit(rng);
        absl::StrAppend(out, w ? ";" : "", static_cast<int>(users));
      }
      absl::StrAppend(out, ",", static_cast<int>(100 * unit(rng)), ",yellow\n");
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
  eval::Batch batch(model);
  eval::BatchResult result;
  size_t written = 0;
  size_t rows = 0;
  size_t failed = 0;
  for (auto _ : state) {
    CsvReader reader(std::make_unique<ViewSource>(text));
    std::unique_ptr<ResultWriter> writer;
    if (stage == Stage::kParseScoreWrite) {
      writer = std::make_unique<ResultWriter>(
          std::make_unique<CountingSink>(&written), OutputFormat::kCsv);
    }
    for (;;) {
      auto n = reader.ReadBatch(&batch, kBatchRows);
      if (!n.ok()) {
        state.SkipWithError("read");
        break;
      }
      if (*n == 0) break;
      rows += *n;
      for (size_t r = 0; r < batch.size(); ++r) {
        if (!batch.row_ok(r)) failed++;
      }
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
  if (rows != static_cast<size_t>(state.iterations()) * kAccounts ||
      failed != 0) {
    state.SkipWithError("not every account was read and scored");
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * kAccounts);
  if (written > 0) {
    state.counters["output_bytes_per_account"] =
        static_cast<double>(written) / state.iterations() / kAccounts;
  }
}

void BM_CsvParse(benchmark::State& state) { Run(state, Stage::kParse); }
void BM_CsvParseScore(benchmark::State& state) {
  Run(state, Stage::kParseScore);
}
void BM_CsvParseScoreWrite(benchmark::State& state) {
  Run(state, Stage::kParseScoreWrite);
}

BENCHMARK(BM_CsvParse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvParseScore)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvParseScoreWrite)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace healthscore::engine::io

BENCHMARK_MAIN();
