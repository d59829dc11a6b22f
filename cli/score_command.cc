// `healthscore score`: score a file of account snapshots.
//
// The input is processed in batches with the next batch read on a helper
// thread while the current one is scored (on the worker pool) and written,
// so parsing, the slowest stage, runs without pause.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/paths.h"
#include "cli/plugins.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/worker_pool.h"
#include "engine/io/result_writer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"

namespace healthscore::cli {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kHelp =
    R"(usage: healthscore score --model MODEL --input FILE [options]

Scores every account snapshot in FILE with MODEL and writes one result per
account, in input order. MODEL is a model file or a directory holding a
model.yaml. FILE is JSON Lines (.jsonl, .ndjson, .json) or CSV (.csv); "-"
reads standard input (JSON Lines unless --input-format says otherwise).
Accounts with bad data are written with "status": "error" and a message
naming the line and field; they do not stop the run.

options:
  --model PATH          model file or directory (required)
  --input FILE          snapshots to score (required)
  --input-format F      jsonl or csv (default: from the file extension)
  --output FILE         where to write results (default "-": standard output)
  --format F            jsonl or csv (default: csv for a .csv output, else
                        jsonl)
  --explain             add the per-signal explanation to each result
                        (jsonl only)
  --top-drivers N       signals listed as top drivers with --explain
                        (default 3)
  --threads N           scoring threads (default: one per core)
  --batch-size N        accounts read and scored at a time (default 65536)
  --quiet               no progress or summary on standard error
)" + std::string(kPluginsHelp) + R"(  -h, --help            show this help

Progress (accounts, accounts/s) is shown on standard error about once a
second for runs longer than a second, then a summary line with the count
per tier and the number of accounts that failed.

exit codes:
  0  the run completed (even if some accounts failed)
  1  the model has errors, or the input or output cannot be read or written
  2  usage error
)";

std::string WithCommas(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (size_t i = digits.size(); i > 0; --i) {
    out.push_back(digits[i - 1]);
    if (++count % 3 == 0 && i > 1) out.push_back(',');
  }
  std::reverse(out.begin(), out.end());
  return out;
}

int Usage(std::ostream& err, const std::string& message) {
  err << "healthscore score: " << message
      << "\nrun `healthscore score --help` for usage\n";
  return kExitUsage;
}

int Failure(std::ostream& err, const std::string& message) {
  err << "healthscore score: " << message << "\n";
  return kExitFailure;
}

}  // namespace

int RunScore(const std::vector<std::string>& argv, std::ostream& out,
             std::ostream& err) {
  auto args = Args::Parse(argv, {{"help", false},
                                 {"plugins", true},
                                 {"model", true},
                                 {"input", true},
                                 {"input-format", true},
                                 {"output", true},
                                 {"format", true},
                                 {"explain", false},
                                 {"top-drivers", true},
                                 {"threads", true},
                                 {"batch-size", true},
                                 {"quiet", false}});
  if (!args.ok()) return Usage(err, std::string(args.status().message()));
  if (args->Has("help")) {
    out << kHelp;
    return kExitOk;
  }
  if (!args->positional().empty()) {
    return Usage(err, absl::StrCat("unexpected argument \"",
                                   args->positional()[0], "\""));
  }
  if (!args->Has("model")) return Usage(err, "--model is required");
  if (!args->Has("input")) return Usage(err, "--input is required");

  const std::string input_path = args->Get("input");
  const std::string output_path = args->Get("output", "-");
  const bool quiet = args->Has("quiet");
  int default_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto threads = args->GetInt("threads", default_threads, 1, 256);
  auto batch_size = args->GetInt("batch-size", 65536, 1, 1000000);
  auto top_drivers = args->GetInt("top-drivers", 3, 0, 1000);
  for (const auto* v : {&threads, &batch_size, &top_drivers}) {
    if (!v->ok()) return Usage(err, std::string(v->status().message()));
  }

  engine::io::InputFormat input_format;
  if (args->Has("input-format")) {
    auto f = engine::io::ParseInputFormat(args->Get("input-format"));
    if (!f.ok()) return Usage(err, std::string(f.status().message()));
    input_format = *f;
  } else if (input_path == "-") {
    input_format = engine::io::InputFormat::kJsonLines;
  } else {
    auto f = engine::io::InputFormatFromPath(input_path);
    if (!f.ok()) {
      return Usage(err, absl::StrCat(f.status().message(),
                                     "; pass --input-format jsonl|csv"));
    }
    input_format = *f;
  }
  engine::io::OutputFormat output_format =
      engine::io::OutputFormatFromPath(output_path);
  if (args->Has("format")) {
    auto f = engine::io::ParseOutputFormat(args->Get("format"));
    if (!f.ok()) return Usage(err, std::string(f.status().message()));
    output_format = *f;
  }
  engine::io::WriterOptions writer_options;
  writer_options.explain = args->Has("explain");
  writer_options.top_drivers = static_cast<int>(*top_drivers);
  if (writer_options.explain &&
      output_format == engine::io::OutputFormat::kCsv) {
    return Usage(err,
                 "--explain needs JSON Lines output (--format jsonl); CSV "
                 "has no room for per-signal explanations");
  }

  // The model.
  auto model_path = ResolveModelPath(args->Get("model"));
  if (!model_path.ok()) {
    return Failure(err, std::string(model_path.status().message()));
  }
  auto plugins = OpenPluginHost(*args);
  if (!plugins.ok()) return Usage(err, std::string(plugins.status().message()));
  engine::CompileResult compiled = engine::CompileFile(
      *model_path, engine::CompileOptions{plugins->get()});
  if (compiled.model == nullptr) {
    for (const engine::Diagnostic& d : compiled.diagnostics.items()) {
      if (d.severity == engine::Severity::kError) err << d.ToString() << "\n";
    }
    return Failure(
        err, absl::StrCat(*model_path, " has errors; nothing was scored"));
  }
  std::shared_ptr<const engine::CompiledModel> model = compiled.model;
  if (!quiet && compiled.diagnostics.warning_count() > 0) {
    err << "healthscore score: note: " << *model_path << " has "
        << compiled.diagnostics.warning_count()
        << " warning(s); run `healthscore validate " << *model_path
        << "` to see them\n";
  }

  // Input and output.
  auto reader = engine::io::OpenSnapshotReader(input_path, input_format);
  if (!reader.ok()) return Failure(err, std::string(reader.status().message()));
  auto writer =
      engine::io::OpenResultWriter(output_path, output_format, writer_options);
  if (!writer.ok()) return Failure(err, std::string(writer.status().message()));

  engine::WorkerPool pool(static_cast<int>(*threads) - 1);
  engine::Batch batches[2] = {engine::Batch(model), engine::Batch(model)};
  engine::Batch* current = &batches[0];
  engine::Batch* next = &batches[1];
  engine::BatchResult result;
  const size_t max_rows = static_cast<size_t>(*batch_size);

  const Clock::time_point start = Clock::now();
  Clock::time_point last_progress = start;
  const bool tty = isatty(STDERR_FILENO) != 0;
  bool progress_shown = false;
  uint64_t accounts = 0;
  std::vector<uint64_t> tier_counts(model->tiers().size() + 1, 0);

  absl::StatusOr<size_t> rows = (*reader)->ReadBatch(current, max_rows);
  while (rows.ok() && *rows > 0) {
    std::future<absl::StatusOr<size_t>> ahead =
        std::async(std::launch::async, [&reader, next, max_rows] {
          return (*reader)->ReadBatch(next, max_rows);
        });
    absl::Status status = engine::Scorer::Score(*current, &result, &pool);
    if (status.ok()) status = (*writer)->Write(*current, result);
    if (!status.ok()) {
      ahead.wait();
      return Failure(err, std::string(status.message()));
    }
    accounts += current->size();
    std::vector<size_t> counts = result.TierCounts();
    for (size_t i = 0; i < counts.size() && i < tier_counts.size(); ++i) {
      tier_counts[i] += counts[i];
    }
    rows = ahead.get();
    std::swap(current, next);

    Clock::time_point now = Clock::now();
    if (!quiet && now - start >= std::chrono::seconds(1) &&
        now - last_progress >= std::chrono::seconds(1)) {
      double seconds = std::chrono::duration<double>(now - start).count();
      err << (tty ? "\r" : "") << "healthscore score: " << WithCommas(accounts)
          << " accounts, "
          << WithCommas(static_cast<uint64_t>(accounts / seconds))
          << " accounts/s" << (tty ? "" : "\n") << std::flush;
      last_progress = now;
      progress_shown = true;
    }
  }
  if (progress_shown && tty) err << "\n";
  if (!rows.ok()) {
    (*writer)->Close().IgnoreError();
    return Failure(err,
                   absl::StrCat(input_path, ": ", rows.status().message()));
  }
  absl::Status closed = (*writer)->Close();
  if (!closed.ok()) return Failure(err, std::string(closed.message()));

  if (!quiet) {
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    uint64_t scored = 0;
    for (uint64_t c : tier_counts) scored += c;
    err << "healthscore score: " << WithCommas(accounts) << " accounts in "
        << absl::StrFormat("%.2f", seconds) << " s";
    if (seconds > 0 && accounts > 0) {
      err << " (" << WithCommas(static_cast<uint64_t>(accounts / seconds))
          << " accounts/s)";
    }
    err << ":";
    for (size_t t = 0; t < model->tiers().size(); ++t) {
      err << " " << model->tiers()[t].id << " "
          << WithCommas(tier_counts[t + 1]) << ",";
    }
    err << " " << engine::kInsufficientDataTierId << " "
        << WithCommas(tier_counts[0]) << "; errors "
        << WithCommas(accounts - scored) << "\n";

    const auto& ignored = (*reader)->ignored_names();
    if (!ignored.empty()) {
      std::vector<std::string> inputs;
      for (const engine::InputInfo& in : model->inputs()) {
        inputs.push_back(in.id);
      }
      err << "healthscore score: note: ignored names the model does not "
             "declare:";
      bool first = true;
      for (const auto& [name, count] : ignored) {
        std::string bare = name.substr(name.find('.') + 1);
        std::string hint = engine::DidYouMean(bare, inputs);
        err << (first ? " " : "; ") << name;
        if (count > 1 || !hint.empty()) {
          err << " (";
          if (count > 1) err << WithCommas(count) << " times";
          if (count > 1 && !hint.empty()) err << ", ";
          err << hint << ")";
        }
        first = false;
      }
      err << "\n";
    }
  }
  return kExitOk;
}

}  // namespace healthscore::cli
