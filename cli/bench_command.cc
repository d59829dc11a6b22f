// `healthscore bench`: what a model costs on given data, stage by stage.
//
// The command adds no reading, scoring or writing of its own: it times the
// engine's snapshot readers, engine::Scorer and the result writer, the very
// code `healthscore score` runs, on one thread. The input is held in memory
// so that no stage waits for the disk, and each stage is timed alone over
// already-prepared inputs (bind over the tables parse read, score over the
// batches bind built, write over the results score produced), so the rates
// add up to what one core spends per account.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_options.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
#include "cli/plugins.h"
#include "engine/common/display.h"
#include "engine/common/json_text.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/result_writer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"

namespace healthscore::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kDefaultMaxAccounts = 1000000;
constexpr int64_t kDefaultMaxInputBytes = int64_t{1} << 30;
constexpr int64_t kDefaultRepetitions = 5;
constexpr int64_t kDefaultBatchSize = 65536;

const std::string kHelp = absl::StrCat(
    R"(usage: healthscore bench --model MODEL --input FILE [options]

Measures what MODEL costs on the accounts in FILE, stage by stage, on one
thread: the same readers, scorer and writers `healthscore score` uses. FILE
(JSON Lines or CSV, as for `score`; "-" is standard input) is read into
memory once, then each stage is timed alone, --repetitions times:

  parse        the reader turns the bytes into account tables (values as
               written, no model involved)
  bind         MODEL binds to the tables: its declared types applied,
               batches of its columns built
  score        engine scoring of those batches
  write jsonl  results written as JSON Lines, into memory
  write csv    results written as CSV, into memory

For each stage it prints the median time of the repetitions, the time per
account and the accounts per second one core handles. Nothing is written
to disk. MODEL alone is measured, even when its repository declares
routes. Numbers vary with the machine and its load: compare runs made side
by side.

options:
  --model PATH          model file or directory (required)
  --input FILE          accounts to measure with (required)
  --input-format F      jsonl or csv (default: from the file extension)
  --format F            text or json (default text)
  --repetitions N       times each stage is run (default )",
    kDefaultRepetitions, R"(, at most 1000)
  --max-accounts N      refuse an input holding more than N accounts
                        (default )",
    kDefaultMaxAccounts, R"(); the input is held in memory
  --max-input-bytes N   refuse an input longer than N bytes (default
                        )",
    kDefaultMaxInputBytes, R"(, 1 GiB)
  --batch-size N        accounts per batch (default )",
    kDefaultBatchSize, R"(, as `score`)
)",
    kInputLimitsHelp, kPluginsHelp, kModelLimitsHelp,
    R"(  -h, --help            show this help

exit codes:
  0  the measurement completed
  1  the model has errors, or the input cannot be read or is too large
  2  usage error
)");

int Usage(std::ostream& err, absl::string_view message) {
  return UsageError(err, "bench", message);
}

int Failure(std::ostream& err, absl::string_view message) {
  err << "healthscore bench: " << message << "\n";
  return kExitFailure;
}

// A source that keeps a copy of every byte it passes on, so the first read
// of the input also loads it into memory. ResourceExhausted past
// `max_bytes`.
class RecordingSource : public engine::io::ByteSource {
 public:
  RecordingSource(std::unique_ptr<engine::io::ByteSource> source,
                  size_t max_bytes, std::string* copy)
      : source_(std::move(source)), max_bytes_(max_bytes), copy_(copy) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    absl::StatusOr<size_t> got = source_->Read(buf, n);
    if (!got.ok()) return got;
    if (copy_->size() + *got > max_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the input is longer than ", max_bytes_,
          " bytes (--max-input-bytes); pass a larger --max-input-bytes or "
          "measure with a sample of the file"));
    }
    copy_->append(buf, *got);
    return got;
  }

 private:
  std::unique_ptr<engine::io::ByteSource> source_;
  size_t max_bytes_;
  std::string* copy_;
};

std::unique_ptr<engine::io::SnapshotReader> MakeReader(
    std::unique_ptr<engine::io::ByteSource> source,
    engine::io::InputFormat format, const engine::io::ReaderOptions& options) {
  if (format == engine::io::InputFormat::kCsv) {
    return std::make_unique<engine::io::CsvReader>(std::move(source), options);
  }
  return std::make_unique<engine::io::JsonLinesReader>(std::move(source),
                                                       options);
}

// Reads every account of `reader` into `*tables` (reusing their storage),
// at most `max_rows` per table. Returns the number of accounts, or
// ResourceExhausted once more than `max_accounts` have been read.
absl::StatusOr<size_t> ReadAll(
    engine::io::SnapshotReader* reader, size_t max_rows, size_t max_accounts,
    std::vector<engine::eval::AccountTable>* tables) {
  size_t accounts = 0;
  for (size_t k = 0;; ++k) {
    if (k == tables->size()) tables->emplace_back();
    absl::StatusOr<size_t> rows = reader->ReadTable(&(*tables)[k], max_rows);
    if (!rows.ok()) return rows.status();
    if (*rows == 0) {
      tables->erase(tables->begin() + k, tables->end());
      return accounts;
    }
    accounts += *rows;
    if (accounts > max_accounts) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the input holds more than ", max_accounts,
          " accounts (--max-accounts); pass a larger --max-accounts or "
          "measure with a sample of the file"));
    }
  }
}

struct Stage {
  std::string name;
  double median_ns = 0;  // one whole pass over the accounts
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Runs `prepare` then, timed, `pass`, `repetitions` times, and returns the
// median wall time of `pass` in ns. `pass` returns an error to stop the
// measurement.
template <typename Prepare, typename Pass>
absl::StatusOr<double> TimeMedian(int64_t repetitions, Prepare prepare,
                                  Pass pass) {
  std::vector<double> ns;
  for (int64_t r = 0; r < repetitions; ++r) {
    prepare();
    const Clock::time_point start = Clock::now();
    absl::Status status = pass();
    const Clock::time_point end = Clock::now();
    if (!status.ok()) return status;
    ns.push_back(std::chrono::duration<double, std::nano>(end - start).count());
  }
  // At least 1 ns, so that a rate is never a division by zero on a clock
  // too coarse for a tiny input.
  return std::max(1.0, Median(std::move(ns)));
}

// "12.3 ms", "850.0 us", "651 ns", "1.20 s"
std::string Duration(double ns) {
  if (ns >= 1e9) return absl::StrFormat("%.2f s", ns / 1e9);
  if (ns >= 1e6) return absl::StrFormat("%.1f ms", ns / 1e6);
  if (ns >= 1e3) return absl::StrFormat("%.1f us", ns / 1e3);
  return absl::StrFormat("%.0f ns", ns);
}

}  // namespace

int RunBench(const std::vector<std::string>& argv, std::ostream& out,
             std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"bench", kHelp,
       WithModelLimitFlags(WithInputFlags({{"help", false},
                                           {"plugins", true},
                                           {"model", true},
                                           {"format", true},
                                           {"repetitions", true},
                                           {"max-accounts", true},
                                           {"max-input-bytes", true},
                                           {"batch-size", true}})),
       /*takes_paths=*/false,
       {"model", "input"}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;

  auto repetitions = args->GetInt("repetitions", kDefaultRepetitions, 1, 1000);
  auto max_accounts =
      args->GetInt("max-accounts", kDefaultMaxAccounts, 1, int64_t{1} << 40);
  auto max_input_bytes = args->GetInt("max-input-bytes", kDefaultMaxInputBytes,
                                      1, int64_t{1} << 40);
  auto batch_size = args->GetInt("batch-size", kDefaultBatchSize, 1, 1000000);
  for (const auto* v :
       {&repetitions, &max_accounts, &max_input_bytes, &batch_size}) {
    if (!v->ok()) return Usage(err, v->status().message());
  }
  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json") {
    return Usage(err, absl::StrCat("--format must be text or json, not \"",
                                   format, "\""));
  }
  auto input_args = InputFromArgs(*args);
  if (!input_args.ok()) return Usage(err, input_args.status().message());
  const std::string& input_path = input_args->path;
  const engine::io::InputFormat input_format = input_args->format;
  const engine::io::ReaderOptions* const reader_options = &input_args->options;

  // The model, compiled as `score` compiles it.
  auto model_path = ResolveModelPath(args->Get("model"));
  if (!model_path.ok()) return Failure(err, model_path.status().message());
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  auto compile_options = CompileOptionsFromArgs(*args, &plugins);
  if (!compile_options.ok()) {
    return Usage(err, compile_options.status().message());
  }
  engine::model::CompileResult compiled =
      engine::model::CompileFile(*model_path, *compile_options);
  if (compiled.model == nullptr) {
    PrintErrors(compiled.diagnostics, err);
    return Failure(
        err, absl::StrCat(*model_path, " has errors; nothing was measured"));
  }
  const std::shared_ptr<const engine::model::CompiledModel>& model =
      compiled.model;

  // The input: its first read, bounded, keeps the bytes for the timed ones.
  auto file = engine::io::OpenFileSource(input_path);
  if (!file.ok()) return Failure(err, file.status().message());
  std::string input;
  const size_t max_rows = static_cast<size_t>(*batch_size);
  std::vector<engine::eval::AccountTable> tables;
  std::vector<engine::eval::Batch> batches;
  // Binds every table to the model, one batch each.
  auto bind_all = [&] {
    engine::eval::TableBinder binder(model);
    binder.set_strict(reader_options->strict);
    batches.resize(tables.size(), engine::eval::Batch(model));
    for (size_t k = 0; k < tables.size(); ++k) {
      binder.Bind(tables[k], &batches[k]);
    }
  };
  size_t accounts = 0;
  {
    std::unique_ptr<engine::io::SnapshotReader> reader = MakeReader(
        std::make_unique<RecordingSource>(
            *std::move(file), static_cast<size_t>(*max_input_bytes), &input),
        input_format, *reader_options);
    auto read = ReadAll(reader.get(), max_rows,
                        static_cast<size_t>(*max_accounts), &tables);
    if (!read.ok()) {
      return Failure(err,
                     absl::StrCat(input_path, ": ", read.status().message()));
    }
    accounts = *read;
  }
  bind_all();
  if (accounts == 0) {
    return Failure(err,
                   absl::StrCat(input_path, ": no accounts to measure with"));
  }
  size_t failed = 0;
  for (const engine::eval::Batch& b : batches) failed += b.error_count();

  std::vector<Stage> stages;
  // parse. The source's copy of the text is made before the clock
  // starts; the reader's work on it is what is timed.
  // The timed reads take the input in blocks no larger than itself: a
  // reader allocates a whole block up front, which for a small input would
  // be most of what is timed, and is not what reading a file costs.
  engine::io::ReaderOptions timed_options = *reader_options;
  timed_options.block_size =
      std::min(timed_options.block_size, std::max<size_t>(input.size(), 1));
  std::unique_ptr<engine::io::ByteSource> source;
  auto copy_input = [&] { source = engine::io::StringSource(input); };
  absl::StatusOr<double> parse_ns = TimeMedian(*repetitions, copy_input, [&] {
    std::unique_ptr<engine::io::SnapshotReader> reader =
        MakeReader(std::move(source), input_format, timed_options);
    auto read = ReadAll(reader.get(), max_rows,
                        static_cast<size_t>(*max_accounts), &tables);
    if (!read.ok()) return read.status();
    if (*read != accounts) {
      return absl::InternalError(absl::StrCat("the input read as ", *read,
                                              " accounts, then as ", accounts));
    }
    return absl::OkStatus();
  });
  if (!parse_ns.ok()) return Failure(err, parse_ns.status().message());
  stages.push_back({"parse", *parse_ns});

  // bind.
  absl::StatusOr<double> bind_ns = TimeMedian(*repetitions, [] {}, [&] {
    bind_all();
    return absl::OkStatus();
  });
  if (!bind_ns.ok()) return Failure(err, bind_ns.status().message());
  stages.push_back({"bind", *bind_ns});

  // score: on the calling thread (no worker pool).
  std::vector<engine::eval::BatchResult> results(batches.size());
  auto nothing = [] {};
  absl::StatusOr<double> score_ns = TimeMedian(*repetitions, nothing, [&] {
    for (size_t k = 0; k < batches.size(); ++k) {
      absl::Status s =
          engine::eval::Scorer::Score(batches[k], &results[k], nullptr);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
  if (!score_ns.ok()) return Failure(err, score_ns.status().message());
  stages.push_back({"score", *score_ns});

  // write: into memory, the buffer's storage reused between repetitions.
  std::string written;
  for (const auto& [name, output_format] :
       {std::pair<const char*, engine::io::OutputFormat>{
            "write jsonl", engine::io::OutputFormat::kJsonLines},
        {"write csv", engine::io::OutputFormat::kCsv}}) {
    absl::StatusOr<double> write_ns = TimeMedian(
        *repetitions, [&] { written.clear(); },
        [&] {
          engine::io::ResultWriter writer(engine::io::StringSink(&written),
                                          output_format);
          for (size_t k = 0; k < batches.size(); ++k) {
            absl::Status s = writer.Write(batches[k], results[k]);
            if (!s.ok()) return s;
          }
          return writer.Close();
        });
    if (!write_ns.ok()) return Failure(err, write_ns.status().message());
    stages.push_back({name, *write_ns});
  }

  const std::string short_hash = model->hash().substr(0, 12);
  if (format == "json") {
    std::string json = "{\"model\":{\"path\":";
    engine::common::AppendJsonString(*model_path, &json);
    json.append(",\"name\":");
    engine::common::AppendJsonString(model->name(), &json);
    json.append(",\"version\":");
    engine::common::AppendJsonString(model->version(), &json);
    json.append(",\"hash\":");
    engine::common::AppendJsonString(model->hash(), &json);
    absl::StrAppend(
        &json, "},\"accounts\":", accounts, ",\"failed_accounts\":", failed,
        ",\"repetitions\":", *repetitions, ",\"threads\":1,\"stages\":[");
    for (size_t i = 0; i < stages.size(); ++i) {
      const Stage& s = stages[i];
      json.append(i > 0 ? ",{\"stage\":" : "{\"stage\":");
      engine::common::AppendJsonString(s.name, &json);
      absl::StrAppendFormat(&json,
                            ",\"median_ns\":%.0f,\"ns_per_account\":%.1f,"
                            "\"accounts_per_second_per_core\":%.0f}",
                            s.median_ns, s.median_ns / accounts,
                            accounts * 1e9 / s.median_ns);
    }
    json.append("]}\n");
    out << json;
    return kExitOk;
  }
  out << "healthscore bench: " << model->name() << " version "
      << model->version() << " (hash " << short_hash << "), "
      << engine::common::WithThousandsSeparators(accounts)
      << (accounts == 1 ? " account" : " accounts");
  if (failed > 0)
    out << " (" << engine::common::WithThousandsSeparators(failed)
        << " failed to read)";
  out << ", " << *repetitions
      << (*repetitions == 1 ? " repetition" : " repetitions") << ", 1 thread\n";
  out << absl::StrFormat("%-12s %10s  %12s  %20s\n", "stage", "median",
                         "per account", "accounts/s per core");
  for (const Stage& s : stages) {
    out << absl::StrFormat(
        "%-12s %10s  %12s  %20s\n", s.name, Duration(s.median_ns),
        Duration(s.median_ns / accounts),
        engine::common::WithThousandsSeparators(
            static_cast<uint64_t>(accounts * 1e9 / s.median_ns)));
  }
  return kExitOk;
}

}  // namespace healthscore::cli
