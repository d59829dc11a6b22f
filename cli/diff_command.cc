// `healthscore diff`: shadow-score a file of accounts with a live and a
// candidate model and report what would change.
//
// The input is read once, table by table (engine/eval/account_table.h), so
// memory stays flat whatever the size of the input; engine::ScoreTable
// scores each table with the live model and the candidate as a shadow.

#include <algorithm>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_options.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
#include "cli/plugins.h"
#include "cli/precision.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/worker_pool.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/repository/score_table.h"
#include "engine/shadow/shadow.h"

namespace healthscore::cli {
namespace {

const std::string kHelp =
    R"(usage: healthscore diff --live MODEL --candidate MODEL --input FILE [options]

Scores every account in FILE with both models and reports what would change
if the candidate replaced the live model:
  - how many accounts change tier, as a table from live tier to candidate
    tier (insufficient_data included),
  - per playbook, on how many accounts it newly fires or stops firing,
  - the score delta (candidate - live): min, p5, p25, median, p75, p95,
    max and mean,
  - the first accounts that change tier, with both scores.
MODEL is a model file, a directory holding model.yaml, or a directory of
numbered versions (the highest is used). FILE is JSON Lines or CSV as for
`healthscore score`; "-" reads standard input.

options:
  --live MODEL          the model serving today (required)
  --candidate MODEL     the model to compare with it (required)
  --input FILE          account snapshots (required)
  --input-format F      jsonl or csv (default: from the file extension)
  --format F            text (default) or json
  --examples N          accounts changing tier to list (default )" +
    std::to_string(engine::shadow::kDefaultShadowExamples) + ")\n" +
    std::string(kPrecisionHelp) +
    R"(  --threads N           scoring threads (default: one per core)
  --batch-size N        accounts read and scored at a time (default 65536)
)" + std::string(kInputLimitsHelp) +
    std::string(kPluginsHelp) +
    R"(  --max-model-bytes N   refuse model files longer than N bytes (default
                        4194304, 4 MiB)
  --max-yaml-nodes N    refuse YAML holding more than N nodes once
                        aliases are expanded (default 1000000)
  -h, --help            show this help

exit codes:
  0  the comparison completed (whatever it found)
  1  a model has errors, or the input cannot be read
  2  usage error
)";

int Usage(std::ostream& err, const std::string& message) {
  return UsageError(err, "diff", message);
}

int Failure(std::ostream& err, const std::string& message) {
  err << "healthscore diff: " << message << "\n";
  return kExitFailure;
}

}  // namespace

int RunDiff(const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"diff", kHelp,
       WithPrecisionFlag(WithModelLimitFlags(WithInputFlags(
           {{"help", false},
            {"live", true},
            {"candidate", true},
            {"format", true},
            {"examples", true},
            {"threads", true},
            {"batch-size", true},
            {"plugins", true}}))),
       /*takes_paths=*/false,
       {"live", "candidate", "input"}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;
  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json") {
    return Usage(err, absl::StrCat("--format must be text or json, got \"",
                                   format, "\""));
  }
  const int default_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto threads = args->GetInt("threads", default_threads, 1, 256);
  auto batch_size = args->GetInt("batch-size", 65536, 1, 1000000);
  auto examples = args->GetInt(
      "examples", static_cast<int64_t>(engine::shadow::kDefaultShadowExamples),
      0, 1000000);
  for (const auto* v : {&threads, &batch_size, &examples}) {
    if (!v->ok()) return Usage(err, std::string(v->status().message()));
  }
  auto input = InputFromArgs(*args);
  if (!input.ok()) return Usage(err, std::string(input.status().message()));
  const std::string& input_path = input->path;
  const engine::io::ReaderOptions* const reader_options = &input->options;
  auto numbers = NumberFormatFromArgs(*args);
  if (!numbers.ok()) return Usage(err, std::string(numbers.status().message()));

  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  auto compile_options_or = CompileOptionsFromArgs(*args, &plugins);
  if (!compile_options_or.ok()) {
    return Usage(err, std::string(compile_options_or.status().message()));
  }
  const engine::model::CompileOptions& compile_options = *compile_options_or;
  auto live = CompileModelArg("diff", "live", args->Get("live"), compile_options, err);
  if (live == nullptr) return kExitFailure;
  auto candidate =
      CompileModelArg("diff", "candidate", args->Get("candidate"),
                      compile_options, err);
  if (candidate == nullptr) return kExitFailure;

  auto reader = engine::io::OpenSnapshotReader(input_path, input->format,
                                               *reader_options);
  if (!reader.ok()) return Failure(err, std::string(reader.status().message()));

  engine::eval::WorkerPool pool(static_cast<int>(*threads) - 1);
  engine::shadow::ShadowOptions options;
  options.max_examples = static_cast<size_t>(*examples);
  engine::shadow::ShadowComparison comparison(live, candidate, options);
  engine::repository::TableRequest request;
  request.model.name = live->name();
  request.model.model = live;
  request.strict = reader_options->strict;
  engine::repository::ModelRef shadow;
  shadow.name = candidate->name();
  shadow.model = candidate;
  request.shadow = &shadow;
  engine::repository::TableScores scores;
  engine::eval::AccountTable table;
  const size_t max_rows = static_cast<size_t>(*batch_size);
  for (;;) {
    absl::StatusOr<size_t> rows = (*reader)->ReadTable(&table, max_rows);
    if (!rows.ok()) {
      return Failure(err,
                     absl::StrCat(input_path, ": ", rows.status().message()));
    }
    if (*rows == 0) break;
    absl::Status status =
        engine::repository::ScoreTable(request, table, &pool, &scores);
    if (status.ok()) status = comparison.AddScores(scores);
    if (!status.ok()) return Failure(err, std::string(status.message()));
  }

  const engine::shadow::ShadowReport report = comparison.Report();
  out << (format == "json"
              ? engine::shadow::ShadowReportJson(report, *numbers)
              : engine::shadow::FormatShadowReport(report, *numbers));
  return kExitOk;
}

}  // namespace healthscore::cli
