// `healthscore score`: score a file of account snapshots.
//
// Parsing and formatting results cost far more than scoring, so both run
// on every worker (see Pipeline): JSON Lines input is cut into blocks of
// lines that the workers parse, score and render in parallel, and the main
// thread writes the rendered blocks in input order. CSV (and a single
// thread) is read in order on the main thread; the workers score and render
// its tables.
//
// Segment routing: when the model file is version VERSION of model NAME in
// a repository ROOT (ROOT/NAME/VERSION/model.yaml) and ROOT/NAME/config.yaml
// declares routes, the repository is loaded with engine::ModelRepository
// and every batch is scored with engine::ScoreRouted, so each account is
// scored by the model its route sends it to, exactly as the server would.
// Either way the input is read once, into account tables
// (engine/eval/account_table.h); each model that scores binds to the table.
// Without routes that is one binding and one Scorer::Score per table.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_options.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
#include "cli/plugins.h"
#include "cli/precision.h"
#include "cli/routes.h"
#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/common/text_buffer.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/line_blocks.h"
#include "engine/io/result_writer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "engine/lint/lint.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/model_set.h"
#include "engine/repository/repository_config.h"
#include "engine/repository/score_table.h"

namespace healthscore::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The size of the JSON Lines blocks the workers parse: small enough that
// the workers stay busy to the end of the input and the blocks in flight
// (Pipeline) cost little memory, large enough that the per-block costs
// (binding, waking a worker) do not show.
constexpr int64_t kBlockBytes = int64_t{1} << 20;
// The most accounts of a table read in order (CSV, or one thread), for the
// same reasons: about as many as a block of JSON Lines holds.
constexpr size_t kTableRows = 4096;
// Slots in flight beyond two per worker. The main thread both reads blocks
// and writes results, and a write can stall in the kernel for several
// blocks' time (a new file's page cache pages, which a virtual machine's
// host may have to supply afresh); with only two slots per worker the
// workers then ran out of queued blocks and a core idled. Four more let
// them parse ahead through such a stall: 1,000,000 accounts to a file in a
// median 1.01 s against 1.10 s (bench/README.md, issue 11).
constexpr int kSpareSlots = 4;

const std::string kHelp =
    R"(usage: healthscore score --model MODEL --input FILE [options]

Scores every account snapshot in FILE with MODEL and writes one result per
account, in input order. MODEL is a model file or a directory holding a
model.yaml. FILE is JSON Lines (.jsonl, .ndjson, .json) or CSV (.csv); "-"
reads standard input (JSON Lines unless --input-format says otherwise).
Accounts with bad data are written with "status": "error" and a message
naming the line and field; they do not stop the run. Neither does a line
longer than --max-line-bytes or a CSV record broken by a stray quote: each
is one error result, and the accounts around it are scored.

When MODEL is laid out as ROOT/NAME/VERSION/model.yaml and ROOT/NAME/
config.yaml declares routes, each account is scored by the model its route
sends it to (the repository ROOT is loaded as the server loads it, without
running tests.yaml); every result names the model that scored it, and CSV
output gets `model` and `repository_version` columns. --no-routes scores
every account with MODEL alone.

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
                        (default )" +
    std::to_string(engine::eval::kDefaultTopDrivers) + ")\n" +
    std::string(kPrecisionHelp) +
    R"(  --threads N           worker threads (default: one per core); with JSON
                        Lines input and more than one, they parse too
  --batch-size N        most accounts read and scored at a time (default
                        65536)
  --no-routes           ignore the routes of MODEL's repository
  --quiet               no progress or summary on standard error
)" + std::string(kInputLimitsHelp) +
    std::string(kPluginsHelp) + std::string(kModelLimitsHelp) +
    R"(  -h, --help            show this help

Progress (accounts, accounts/s) is shown on standard error about once a
second for runs longer than a second, then a summary line with the count
per tier and the number of accounts that failed (and, with routes, how many
accounts each model scored).

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

// Whether an ignored top-level key or column is probably the account id
// under another name ("account_id", "AccountId", "customer id").
bool LooksLikeId(std::string_view name) {
  std::string lower(name);
  absl::AsciiStrToLower(&lower);
  if (lower == "id" || lower == "uuid" || lower == "key") return true;
  if (lower.size() < 3) return false;
  const std::string_view tail = std::string_view(lower).substr(lower.size() - 2);
  const char before = lower[lower.size() - 3];
  const bool id_word = tail == "id" && (before == '_' || before == ' ' ||
                                        before == '-' || before == '.' ||
                                        name[name.size() - 2] == 'I');
  return id_word;
}

int Usage(std::ostream& err, const std::string& message) {
  return UsageError(err, "score", message);
}

int Failure(std::ostream& err, const std::string& message) {
  err << "healthscore score: " << message << "\n";
  return kExitFailure;
}

// A model a run scores with.
struct ScoringModel {
  std::shared_ptr<const engine::model::CompiledModel> model;
  // Its name and version directory in the repository (version 0 when the
  // run has no routes).
  std::string name;
  int64_t version = 0;
};

// Index of `model` in `models`, or models.size().
size_t IndexOf(const std::vector<ScoringModel>& models,
               const engine::model::CompiledModel* model) {
  size_t k = 0;
  while (k < models.size() && models[k].model.get() != model) ++k;
  return k;
}

// What the summary reports: accounts per tier id over every model that
// scored (the first model's tiers first, then each further model's new
// ones, so the order does not depend on the data), and accounts per model.
class RunTally {
 public:
  explicit RunTally(const std::vector<ScoringModel>& models)
      : accounts_(models.size(), 0) {
    for (const ScoringModel& m : models) {
      for (const engine::model::TierInfo& t : m.model->tiers()) {
        if (std::find(tiers_.begin(), tiers_.end(), t.id) == tiers_.end()) {
          tiers_.push_back(t.id);
        }
      }
    }
    tier_counts_.assign(tiers_.size(), 0);
  }

  // Counts the accounts one part of a table scored (engine::ScoreTable
  // counted them: a whole batch also holds accounts routed elsewhere).
  void Add(size_t k, const engine::repository::RoutedPart& part) {
    Add(k, part.model.model->tiers(), part.rows.size(), part.tier_counts);
    dropped_ += part.dropped_values;
  }

  // Adds the counts of `other`, a tally of the same models.
  void Merge(const RunTally& other) {
    for (size_t t = 0; t < tier_counts_.size(); ++t) {
      tier_counts_[t] += other.tier_counts_[t];
    }
    for (size_t k = 0; k < accounts_.size(); ++k) {
      accounts_[k] += other.accounts_[k];
    }
    insufficient_ += other.insufficient_;
    dropped_ += other.dropped_;
  }

  // Accounts that scored (any tier).
  uint64_t scored() const {
    uint64_t n = insufficient_;
    for (uint64_t c : tier_counts_) n += c;
    return n;
  }
  // Accounts models[k] scored or failed.
  uint64_t accounts(size_t k) const { return accounts_[k]; }
  // Values used as missing (did not fit their input) in accounts that
  // scored.
  uint64_t dropped() const { return dropped_; }

  // " green 12, yellow 10, red 7, insufficient_data 3"
  std::string Tiers() const {
    std::string out;
    for (size_t t = 0; t < tiers_.size(); ++t) {
      absl::StrAppend(&out, " ", tiers_[t], " ", WithCommas(tier_counts_[t]),
                      ",");
    }
    absl::StrAppend(&out, " ",
                    std::string(engine::model::kInsufficientDataTierId), " ",
                    WithCommas(insufficient_));
    return out;
  }

 private:
  // `counts` as RoutedPart::tier_counts: insufficient_data, then each tier.
  void Add(size_t k, const std::vector<engine::model::TierInfo>& tiers,
           size_t accounts, const std::vector<uint64_t>& counts) {
    if (k < accounts_.size()) accounts_[k] += accounts;
    insufficient_ += counts[0];
    for (size_t t = 0; t < tiers.size() && t + 1 < counts.size(); ++t) {
      auto it = std::find(tiers_.begin(), tiers_.end(), tiers[t].id);
      if (it == tiers_.end()) continue;  // not a model of the run
      tier_counts_[it - tiers_.begin()] += counts[t + 1];
    }
  }

  std::vector<std::string> tiers_;
  std::vector<uint64_t> tier_counts_;
  uint64_t insufficient_ = 0;
  uint64_t dropped_ = 0;
  std::vector<uint64_t> accounts_;
};

// Merges `from` into `*into`, keeping at most kMaxIgnoredNames distinct
// names as the engine's lists do.
void MergeIgnored(const std::map<std::string, uint64_t>& from,
                  std::map<std::string, uint64_t>* into) {
  constexpr size_t kMaxIgnoredNames = 64;
  for (const auto& [name, count] : from) {
    auto it = into->find(name);
    if (it != into->end()) {
      it->second += count;
    } else if (into->size() < kMaxIgnoredNames) {
      into->emplace(name, count);
    }
  }
}

// What every worker of a run shares (read only).
struct RunSetup {
  const std::vector<ScoringModel>* models = nullptr;
  // What engine::ScoreTable is asked for every table.
  const engine::repository::TableRequest* request = nullptr;
  bool routed = false;  // the request's routes apply
  const engine::io::ResultRenderer* renderer = nullptr;
  engine::io::ReaderOptions reader_options;
};

// One unit of input in flight: a block of lines to parse, or a table the
// main thread read, and what the worker made of it.
struct Slot {
  engine::io::LineBlock block;
  engine::eval::AccountTable table;
  engine::common::TextBuffer out;  // the rendered results
  absl::Status status;
  size_t rows = 0;
  bool done = false;  // guarded by Pipeline::mu_
};

// Scores slots on --threads workers. Each worker parses its slot's block
// (when the input is cut into blocks), binds, scores and renders it; the
// main thread reads the input into free slots and writes finished slots
// strictly in input order, so the output is the same whatever the number
// of workers and whichever finishes first. At most 2 x workers +
// kSpareSlots slots are in flight, which bounds memory.
class Pipeline {
 public:
  Pipeline(const RunSetup& setup, int workers, bool blocks)
      : setup_(setup), blocks_(blocks) {
    for (int i = 0; i < workers; ++i) {
      worker_state_.push_back(std::make_unique<Worker>(setup));
    }
    for (int i = 0; i < 2 * workers + kSpareSlots; ++i) {
      slots_.push_back(std::make_unique<Slot>());
    }
    for (auto& w : worker_state_) {
      threads_.emplace_back([this, w = w.get()] { Work(w); });
    }
  }
  ~Pipeline() { Stop(); }

  size_t slots() const { return slots_.size(); }
  Slot* slot(uint64_t n) { return slots_[n % slots_.size()].get(); }

  // Hands a filled slot to the workers.
  void Submit(Slot* slot) {
    slot->out.clear();
    slot->status = absl::OkStatus();
    slot->rows = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      slot->done = false;
      queue_.push_back(slot);
    }
    work_cv_.notify_one();
  }
  // Waits until a worker has finished `slot`.
  void Wait(Slot* slot) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [slot] { return slot->done; });
  }

  // Stops and joins the workers (queued slots are dropped). Then the
  // workers' counts may be read.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  // After Stop: the counts of every worker.
  void Totals(RunTally* tally, std::map<std::string, uint64_t>* reader_names,
              std::map<std::string, uint64_t>* binder_names) const {
    for (const auto& w : worker_state_) {
      tally->Merge(w->tally);
      MergeIgnored(w->reader.ignored_names(), reader_names);
      // The first model binds every account (with routes, to decide them:
      // the tables of JSON Lines and CSV hold cells, never the one column
      // ScoreTable decides routes from), so its ignored names are the
      // input's.
      MergeIgnored(
          w->scores.Binder((*setup_.models)[0].model)->ignored_names(),
          binder_names);
    }
  }

 private:
  struct Worker {
    explicit Worker(const RunSetup& setup)
        : reader(setup.reader_options), tally(*setup.models) {}
    engine::io::JsonLinesReader reader;  // for blocks
    engine::eval::AccountTable table;    // a block's accounts
    engine::repository::TableScores scores;  // reused for every table
    RunTally tally;
  };

  void Work(Worker* w) {
    for (;;) {
      Slot* slot;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        slot = queue_.front();
        queue_.pop_front();
      }
      const engine::eval::AccountTable* table = &slot->table;
      if (blocks_) {
        slot->rows = w->reader.ParseBlock(slot->block, &w->table);
        table = &w->table;
      } else {
        slot->rows = table->size();
      }
      slot->status = Score(*table, w, &slot->out);
      {
        std::lock_guard<std::mutex> lock(mu_);
        slot->done = true;
      }
      done_cv_.notify_all();
    }
  }

  // Scores `table` (engine::ScoreTable), renders its results into `out`
  // and counts them.
  absl::Status Score(const engine::eval::AccountTable& table, Worker* w,
                     engine::common::TextBuffer* out) {
    const std::vector<ScoringModel>& models = *setup_.models;
    HEALTHSCORE_RETURN_IF_ERROR(engine::repository::ScoreTable(
        *setup_.request, table, nullptr, &w->scores));
    const engine::repository::RoutedResult& scored = w->scores.routed();
    for (const engine::repository::RoutedPart& part : scored.parts) {
      w->tally.Add(IndexOf(models, part.model.model.get()), part);
    }
    if (scored.parts.empty()) return absl::OkStatus();  // no accounts
    if (!setup_.routed) {
      // One part, every account in order.
      const engine::repository::RoutedPart& part = scored.parts[0];
      return setup_.renderer->Render(*part.batch, part.result, out);
    }
    std::vector<engine::io::ScoredPart> parts;
    for (const engine::repository::RoutedPart& part : scored.parts) {
      parts.push_back({part.batch.get(), &part.result, part.model.version});
    }
    return setup_.renderer->Render(parts, scored.where, out);
  }

  const RunSetup& setup_;
  const bool blocks_;
  std::vector<std::unique_ptr<Worker>> worker_state_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Slot*> queue_;
  bool stop_ = false;
};

}  // namespace

int RunScore(const std::vector<std::string>& argv, std::ostream& out,
             std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"score", kHelp,
       WithPrecisionFlag(WithModelLimitFlags(WithInputFlags(
           {{"help", false},
            {"plugins", true},
            {"model", true},
            {"output", true},
            {"format", true},
            {"explain", false},
            {"top-drivers", true},
            {"threads", true},
            {"batch-size", true},
            {"no-routes", false},
            {"quiet", false},
            {"read-block-bytes", true}}))),
       /*takes_paths=*/false,
       {"model", "input"}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;

  const std::string output_path = args->Get("output", "-");
  const bool quiet = args->Has("quiet");
  int default_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto threads = args->GetInt("threads", default_threads, 1, 256);
  auto batch_size = args->GetInt("batch-size", 65536, 1, 1000000);
  auto top_drivers =
      args->GetInt("top-drivers", engine::eval::kDefaultTopDrivers, 0,
                   engine::eval::kMaxTopDrivers);
  // Undocumented, for tests: the bytes read at a time (the size of a
  // JSON Lines block).
  auto read_block_bytes =
      args->GetInt("read-block-bytes", kBlockBytes, 1, int64_t{1} << 30);
  for (const auto* v : {&threads, &batch_size, &top_drivers,
                        &read_block_bytes}) {
    if (!v->ok()) return Usage(err, std::string(v->status().message()));
  }
  auto input = InputFromArgs(*args);
  if (!input.ok()) return Usage(err, std::string(input.status().message()));
  const std::string& input_path = input->path;
  const engine::io::InputFormat input_format = input->format;
  engine::io::ReaderOptions* const reader_options = &input->options;
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
  auto numbers = NumberFormatFromArgs(*args);
  if (!numbers.ok()) return Usage(err, std::string(numbers.status().message()));
  writer_options.numbers = *numbers;
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
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  auto compile_options = CompileOptionsFromArgs(*args, &plugins);
  if (!compile_options.ok()) {
    return Usage(err, std::string(compile_options.status().message()));
  }
  engine::model::CompileResult compiled =
      engine::model::CompileFile(*model_path, *compile_options);
  if (compiled.model == nullptr) {
    PrintErrors(compiled.diagnostics, err);
    return Failure(
        err, absl::StrCat(*model_path, " has errors; nothing was scored"));
  }
  if (!quiet && compiled.diagnostics.warning_count() > 0) {
    err << "healthscore score: note: " << *model_path << " has "
        << compiled.diagnostics.warning_count()
        << " warning(s); run `healthscore validate " << *model_path
        << "` to see them\n";
  }

  // The models: MODEL alone, or, with routes, MODEL as its repository
  // serves it followed by every route target (once each).
  Routes routes;
  if (!args->Has("no-routes")) {
    absl::Status loaded =
        LoadRoutes(*model_path, plugins.get(), compile_options->yaml,
                   &routes);
    if (!loaded.ok()) {
      return Failure(err, absl::StrCat(loaded.message(),
                                       " (pass --no-routes to score every "
                                       "account with ",
                                       *model_path, " alone)"));
    }
  }
  const engine::routing::Router* router = routes.requested.router;
  std::vector<ScoringModel> models;
  if (router == nullptr) {
    models.push_back({compiled.model, compiled.model->name(), 0});
  } else {
    models.push_back({routes.requested.model, routes.requested.name,
                      routes.requested.version});
    for (size_t r = 0; r < router->size(); ++r) {
      const engine::routing::RouteTarget& target = router->target(r);
      if (IndexOf(models, target.model.get()) == models.size()) {
        models.push_back({target.model, target.name, target.version});
      }
    }
  }
  std::vector<std::shared_ptr<const engine::model::CompiledModel>>
      compiled_models;
  for (const ScoringModel& m : models) compiled_models.push_back(m.model);
  if (router != nullptr) writer_options.csv_models = compiled_models;

  // Input and output. JSON Lines is cut into blocks that the workers parse
  // in parallel; CSV (whose quoted fields may hold line breaks) and a
  // single thread read tables in order on this thread.
  const int workers = static_cast<int>(*threads);
  const bool blocks =
      input_format == engine::io::InputFormat::kJsonLines && workers > 1;
  const size_t max_rows =
      blocks ? static_cast<size_t>(*batch_size)
             : std::min(static_cast<size_t>(*batch_size), kTableRows);
  engine::io::ReaderOptions block_options = *reader_options;
  block_options.block_size = static_cast<size_t>(*read_block_bytes);
  std::unique_ptr<engine::io::LineSplitter> splitter;
  std::unique_ptr<engine::io::SnapshotReader> reader;
  if (blocks) {
    auto source = engine::io::OpenFileSource(input_path);
    if (!source.ok()) {
      return Failure(err, std::string(source.status().message()));
    }
    splitter = std::make_unique<engine::io::LineSplitter>(
        *std::move(source), block_options, max_rows);
  } else {
    if (args->Has("read-block-bytes")) *reader_options = block_options;
    auto opened = engine::io::OpenSnapshotReader(input_path, input_format,
                                                 *reader_options);
    if (!opened.ok()) {
      return Failure(err, std::string(opened.status().message()));
    }
    reader = *std::move(opened);
  }
  auto sink = engine::io::OpenFileSink(output_path);
  if (!sink.ok()) return Failure(err, std::string(sink.status().message()));
  const engine::io::ResultRenderer renderer(output_format, writer_options,
                                            *models[0].model);

  engine::repository::TableRequest request;
  if (router != nullptr) {
    request.model = routes.requested;
  } else {
    request.model.name = models[0].name;
    request.model.model = models[0].model;
    request.ignore_routes = true;
  }
  request.strict = reader_options->strict;
  RunSetup setup;
  setup.models = &models;
  setup.request = &request;
  setup.routed = router != nullptr;
  setup.renderer = &renderer;
  setup.reader_options = *reader_options;
  Pipeline pipeline(setup, workers, blocks);

  const Clock::time_point start = Clock::now();
  Clock::time_point last_progress = start;
  const bool tty = isatty(STDERR_FILENO) != 0;
  bool progress_shown = false;
  uint64_t accounts = 0;
  bool header_written = false;
  absl::Status read_status;
  bool input_done = false;
  uint64_t next_read = 0;   // slots filled
  uint64_t next_write = 0;  // slots written
  for (;;) {
    while (!input_done && next_read - next_write < pipeline.slots()) {
      Slot* slot = pipeline.slot(next_read);
      bool more;
      if (blocks) {
        absl::StatusOr<bool> got = splitter->Next(&slot->block);
        read_status = got.status();
        more = got.ok() && *got;
      } else {
        absl::StatusOr<size_t> got = reader->ReadTable(&slot->table, max_rows);
        read_status = got.status();
        more = got.ok() && *got > 0;
      }
      if (!more) {
        input_done = true;
        break;
      }
      pipeline.Submit(slot);
      ++next_read;
    }
    if (next_write == next_read) break;
    Slot* slot = pipeline.slot(next_write);
    pipeline.Wait(slot);
    if (!slot->status.ok()) {
      pipeline.Stop();
      (*sink)->Close().IgnoreError();
      return Failure(err, std::string(slot->status.message()));
    }
    absl::Status written;
    if (!header_written && slot->rows > 0) {
      header_written = true;
      written = (*sink)->Write(renderer.header());
    }
    if (written.ok()) written = (*sink)->Write(slot->out.view());
    if (!written.ok()) {
      pipeline.Stop();
      (*sink)->Close().IgnoreError();
      return Failure(err, std::string(written.message()));
    }
    accounts += slot->rows;
    ++next_write;

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
  pipeline.Stop();
  RunTally tally(models);
  std::map<std::string, uint64_t> ignored;  // names no model can read
  std::map<std::string, uint64_t> binder_ignored;
  pipeline.Totals(&tally, &ignored, &binder_ignored);
  if (reader != nullptr) MergeIgnored(reader->ignored_names(), &ignored);

  if (progress_shown && tty) err << "\n";
  if (!read_status.ok()) {
    (*sink)->Close().IgnoreError();
    return Failure(err, absl::StrCat(input_path, ": ", read_status.message()));
  }
  absl::Status closed = (*sink)->Close();
  if (!closed.ok()) return Failure(err, std::string(closed.message()));

  if (!quiet) {
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    err << "healthscore score: " << WithCommas(accounts)
        << (accounts == 1 ? " account in " : " accounts in ")
        << absl::StrFormat("%.2f", seconds) << " s";
    if (seconds > 0 && accounts > 0) {
      err << " (" << WithCommas(static_cast<uint64_t>(accounts / seconds))
          << " accounts/s)";
    }
    err << ":" << tally.Tiers() << "; errors "
        << WithCommas(accounts - tally.scored()) << "\n";
    if (tally.dropped() > 0) {
      err << "healthscore score: note: " << WithCommas(tally.dropped())
          << (tally.dropped() == 1 ? " value" : " values")
          << " did not fit " << (tally.dropped() == 1 ? "its" : "their")
          << " input and " << (tally.dropped() == 1 ? "was" : "were")
          << " used as missing; each account's warnings name them "
             "(--strict fails such accounts instead)\n";
    }
    if (router != nullptr) {
      err << "healthscore score: routed:";
      for (size_t k = 1; k < models.size(); ++k) {
        err << (k > 1 ? ", " : " ") << models[k].name << " v"
            << models[k].version << " " << WithCommas(tally.accounts(k));
      }
      err << "; not routed: " << models[0].name << " v" << models[0].version
          << " " << WithCommas(tally.accounts(0)) << "\n";
    }

    // Names no model of the run declares: the first model's ignored names
    // that no other model declares, and the top-level keys the reader
    // could not place.
    for (const auto& [name, count] : binder_ignored) {
      const std::string bare = name.substr(name.find('.') + 1);
      bool declared = false;
      for (size_t k = 1; k < models.size(); ++k) {
        declared = declared || models[k].model->FindInput(bare) >= 0;
      }
      if (!declared) ignored[name] += count;
    }
    if (!ignored.empty()) {
      std::vector<std::string> inputs;
      for (const ScoringModel& m : models) {
        for (const engine::model::InputInfo& in : m.model->inputs()) {
          inputs.push_back(in.id);
        }
      }
      err << "healthscore score: note: ignored names "
          << (models.size() > 1 ? "none of the models declares:"
                                : "the model does not declare:");
      // Input files name these: each is shown short and the list is
      // capped.
      constexpr size_t kMaxNames = 20;
      size_t shown = 0;
      for (const auto& [name, count] : ignored) {
        if (shown == kMaxNames) {
          err << "; … and " << WithCommas(ignored.size() - shown) << " more";
          break;
        }
        const bool first = shown++ == 0;
        std::string bare = name.substr(name.find('.') + 1);
        std::string hint = engine::model::DidYouMean(bare, inputs);
        if (name.find('.') == std::string::npos && LooksLikeId(name)) {
          hint = absl::StrCat("pass --id-field ", name,
                              " if it holds the account id");
        }
        err << (first ? " " : "; ") << engine::common::TruncateForDisplay(name);
        if (count > 1 || !hint.empty()) {
          err << " (";
          if (count > 1) err << WithCommas(count) << " times";
          if (count > 1 && !hint.empty()) err << ", ";
          err << hint << ")";
        }
      }
      err << "\n";
    }
  }
  return kExitOk;
}

}  // namespace healthscore::cli
