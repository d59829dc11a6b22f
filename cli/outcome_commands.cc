// `healthscore backtest`, `healthscore tune` and `healthscore portfolio`: a
// model's scores checked against what the accounts did afterwards, its
// weights fitted to it, and the portfolio's revenue outcomes by tier.
//
// Both read the snapshots once through the engine (backtest::
// ScoreSnapshots), read the outcomes file and join the two (engine/
// outcomes); backtest measures (backtest::RunBacktest), tune fits
// (backtest::TuneWeights) and writes a new model version. This file only
// adapts flags, files and exit codes.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/input_options.h"
#include "cli/model_limits.h"
#include "cli/plugins.h"
#include "cli/precision.h"
#include "engine/backtest/backtest.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/backtest/tune.h"
#include "engine/common/json_text.h"
#include "engine/common/number_format.h"
#include "engine/eval/batch.h"
#include "engine/eval/worker_pool.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "engine/model/yaml_loader.h"
#include "engine/outcomes/join.h"
#include "engine/outcomes/outcomes.h"
#include "engine/outcomes/record_table.h"
#include "engine/portfolio/portfolio.h"
#include "engine/portfolio/portfolio_format.h"
#include "engine/portfolio/tiers.h"
#include "engine/report/html_report.h"
#include "engine/stats/delong.h"
#include "engine/stats/folds.h"

namespace healthscore::cli {
namespace {

namespace bt = engine::backtest;
namespace oc = engine::outcomes;

constexpr char kOutcomeHelp[] =
    R"(  --input FILE          account snapshots, JSON Lines or CSV (required)
  --input-format F      jsonl or csv (default: from the file extension)
  --outcomes FILE       what each account did, CSV or JSON Lines (required):
                        an id column and `churned` (true/false) or
                        `churn_date`; see docs/outcomes.md
  --outcomes-format F   jsonl or csv (default: from the file extension)
  --horizon N           count a churn only within N days ("180d") or weeks
                        ("26w") after the snapshot's as_of (default: the
                        churned column decides, whenever it happened)
  --observed-until DATE with --horizon: the day outcomes are known until;
                        a retained snapshot whose window ends later is
                        left out (default: every window is complete)
  --segment-by NAME     the string input whose value is each snapshot's
                        segment (default: `segment` when the model has it)
  --threads N           scoring threads (default: one per core)
  --batch-size N        snapshots read and scored at a time (default 65536)
  --max-snapshots N     refuse inputs of more snapshots (default 20000000):
                        every snapshot is kept in memory
)";

std::vector<FlagSpec> WithOutcomeFlags(std::vector<FlagSpec> flags) {
  for (const char* name :
       {"model", "outcomes", "outcomes-format", "horizon", "observed-until",
        "segment-by", "threads", "batch-size", "max-snapshots", "plugins",
        "format", "report"}) {
    flags.push_back({name, true});
  }
  flags.push_back({"help", false});
  return WithPrecisionFlag(WithModelLimitFlags(WithInputFlags(flags)));
}

// The format of file flag `flag` (--FLAG-format or the file's extension).
absl::StatusOr<engine::io::InputFormat> FileFormat(const Args& args,
                                                   const std::string& flag) {
  const std::string format_flag = absl::StrCat(flag, "-format");
  absl::StatusOr<engine::io::InputFormat> format =
      args.Has(format_flag)
          ? engine::io::ParseInputFormat(args.Get(format_flag))
          : engine::io::InputFormatFromPath(args.Get(flag));
  if (format.ok()) return format;
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", format.status().message(),
                   args.Has(format_flag)
                       ? ""
                       : absl::StrCat(" (pass --", format_flag, ")")));
}

// Everything both commands read and join.
struct Prepared {
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  engine::model::CompileOptions compile;
  std::string model_file;
  std::shared_ptr<const engine::model::CompiledModel> live;
  std::shared_ptr<const engine::model::CompiledModel> candidate;
  std::string input_path;
  std::string outcomes_path;
  bt::ScoredSnapshots snapshots;
  oc::JoinResult join;
  engine::common::NumberFormat numbers;
  int threads = 1;
};

// Reads the model(s), scores the snapshots, reads and joins the outcomes.
// Returns an exit code on failure (after writing why to `err`).
std::optional<int> Prepare(const std::string& command, const Args& args,
                           bool with_candidate, bool keep_signal_scores,
                           std::ostream& err, Prepared* p) {
  auto usage = [&](const absl::Status& s) {
    return UsageError(err, command, std::string(s.message()));
  };
  auto failure = [&](const std::string& message) {
    err << "healthscore " << command << ": " << message << "\n";
    return kExitFailure;
  };
  const int default_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto threads = args.GetInt("threads", default_threads, 1, 256);
  auto batch = args.GetInt("batch-size", 65536, 1, 1000000);
  auto max_snapshots =
      args.GetInt("max-snapshots", 20'000'000, 1, 2'000'000'000);
  for (const auto* v : {&threads, &batch, &max_snapshots}) {
    if (!v->ok()) return usage(v->status());
  }
  p->threads = static_cast<int>(*threads);
  auto input = InputFromArgs(args);
  if (!input.ok()) return usage(input.status());
  p->input_path = input->path;
  auto numbers = NumberFormatFromArgs(args);
  if (!numbers.ok()) return usage(numbers.status());
  p->numbers = *numbers;

  p->outcomes_path = args.Get("outcomes");
  if (p->outcomes_path == "-" && input->path == "-") {
    return usage(absl::InvalidArgumentError(
        "--input and --outcomes cannot both be standard input (\"-\")"));
  }
  absl::StatusOr<engine::io::InputFormat> outcomes_format =
      FileFormat(args, "outcomes");
  if (!outcomes_format.ok()) return usage(outcomes_format.status());
  oc::JoinOptions join_options;
  if (args.Has("horizon")) {
    absl::StatusOr<int32_t> days = oc::ParseHorizon(args.Get("horizon"));
    if (!days.ok()) {
      return usage(absl::InvalidArgumentError(
          absl::StrCat("--horizon: ", days.status().message())));
    }
    join_options.horizon_days = *days;
  }
  if (args.Has("observed-until")) {
    double day;
    if (!engine::eval::ParseIsoDate(args.Get("observed-until"), &day)) {
      return usage(absl::InvalidArgumentError(
          absl::StrCat("--observed-until: \"", args.Get("observed-until"),
                       "\" is not a date (YYYY-MM-DD)")));
    }
    join_options.observed_until = day;
  }

  auto compile = CompileOptionsFromArgs(args, &p->plugins);
  if (!compile.ok()) return usage(compile.status());
  p->compile = *compile;
  p->live = CompileModelArg(command, "model", args.Get("model"), p->compile,
                            err, &p->model_file);
  if (p->live == nullptr) return kExitFailure;
  if (with_candidate && args.Has("candidate")) {
    p->candidate = CompileModelArg(command, "candidate", args.Get("candidate"),
                                   p->compile, err);
    if (p->candidate == nullptr) return kExitFailure;
  }

  // The outcomes first: a bad outcomes file fails before the snapshots
  // are scored.
  oc::RecordReaderOptions record_options;
  record_options.reader = input->options;
  absl::StatusOr<oc::Outcomes> outcomes =
      oc::ReadOutcomesFile(p->outcomes_path, *outcomes_format, record_options);
  if (!outcomes.ok()) return failure(std::string(outcomes.status().message()));

  auto reader = engine::io::OpenSnapshotReader(input->path, input->format,
                                               input->options);
  if (!reader.ok()) return failure(std::string(reader.status().message()));
  bt::ScoreOptions score_options;
  score_options.segment_input = args.Get("segment-by");
  score_options.strict = input->options.strict;
  score_options.table_rows = static_cast<size_t>(*batch);
  score_options.max_snapshots = static_cast<size_t>(*max_snapshots);
  score_options.keep_signal_scores = keep_signal_scores;
  engine::eval::WorkerPool pool(p->threads - 1);
  absl::StatusOr<bt::ScoredSnapshots> scored =
      bt::ScoreSnapshots(**reader, p->live, p->candidate, score_options, &pool);
  if (!scored.ok()) {
    if (absl::IsInvalidArgument(scored.status()) && args.Has("segment-by") &&
        scored.status().message().find("--segment-by") != std::string::npos) {
      return usage(scored.status());
    }
    return failure(absl::StrCat(input->path, ": ", scored.status().message()));
  }
  p->snapshots = *std::move(scored);

  oc::SnapshotKeys keys;
  for (size_t r = 0; r < p->snapshots.size(); ++r) {
    const double as_of = p->snapshots.as_of[r];
    keys.Add(p->snapshots.id(r),
             std::isnan(as_of) ? std::nullopt : std::optional<double>(as_of));
  }
  absl::StatusOr<oc::JoinResult> join =
      oc::JoinOutcomes(keys, *outcomes, join_options);
  if (!join.ok()) return usage(join.status());
  p->join = *std::move(join);
  return std::nullopt;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::string Today() {
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

const std::string kBacktestHelp =
    R"(usage: healthscore backtest --model MODEL --input SNAPSHOTS --outcomes OUTCOMES [options]

Scores every snapshot with MODEL, joins it to what its account did
afterwards (OUTCOMES) and reports how well the score predicted churn:
ROC AUC with a 95% DeLong interval, KS, the Brier score of the score
calibrated to churn, churn per tier with Wilson intervals and whether the
tiers are ordered, lift and gains by decile, calibration by score band, the
tiers as churn alarms, playbooks, and all of it per segment. With
--candidate, both models side by side with DeLong's paired test of the AUC
difference and the tier migration. Every snapshot the join leaves out is
counted by reason. See docs/outcomes.md.

options:
  --model MODEL         the model to test (file, directory or versions)
  --candidate MODEL     a second model to compare with it
)" + std::string(kOutcomeHelp) +
    R"(  --format F            text (default) or json
  --report FILE         also write the report as one HTML file
)" + std::string(kPrecisionHelp) +
    std::string(kInputLimitsHelp) + std::string(kPluginsHelp) +
    std::string(kModelLimitsHelp) +
    R"(  -h, --help            show this help

exit codes:
  0  the backtest ran (whatever it found)
  1  a model has errors, a file cannot be read, or nothing can be
     measured (no churned or no retained snapshot)
  2  usage error
)";

const std::string kTuneHelp =
    R"(usage: healthscore tune --model MODEL --input SNAPSHOTS --outcomes OUTCOMES --output DIR [options]

Fits MODEL's group and signal weights to the outcomes, keeping everything
else (inputs, signals, normalisations, tiers, playbooks) as written, and
writes the result as a new numbered version in DIR: the model file with
only its weights and version changed and a header saying how it was
fitted. Weights are fitted with stratified k-fold cross-validation and a
pull towards the written weights; the figures reported are held out
(every snapshot scored by weights fitted without it). See docs/outcomes.md.

options:
  --model MODEL         the model to tune (file, directory or versions)
  --output DIR          where the new version directory goes (created if
                        needed): DIR/N/model.yaml, N one more than the
                        highest numbered version in DIR and the model's
)" + std::string(kOutcomeHelp) +
    R"(  --fit WHAT            what to fit, separated by commas: weights (always),
                        thresholds (bad/good of linear normalisations),
                        tiers (cut-offs that keep each tier's share of
                        accounts; refused when churn would not rise from
                        tier to tier). Default: weights
  --folds K             cross-validation folds (default 5)
  --seed N              the folds' seed (default 12)
  --pulls A,B,...       pull strengths to choose from (default
                        0.001,0.01,0.1)
  --format F            text (default) or json
  --report FILE         also write the backtest of the written and the
                        tuned model, on held-out scores, as one HTML file
)" + std::string(kPrecisionHelp) +
    std::string(kInputLimitsHelp) + std::string(kPluginsHelp) +
    std::string(kModelLimitsHelp) +
    R"(  -h, --help            show this help

exit codes:
  0  the tuned model was written
  1  a model has errors, a file cannot be read or written, or the
     outcomes cannot be fitted (too few churned or retained snapshots)
  2  usage error
)";

// The labels of the join, as tune takes them.
std::vector<int8_t> Labels(const oc::JoinResult& join) {
  std::vector<int8_t> label(join.rows.size(), bt::kNotLabelled);
  for (size_t r = 0; r < join.rows.size(); ++r) {
    if (join.rows[r].label == oc::Label::kChurned) label[r] = 1;
    if (join.rows[r].label == oc::Label::kRetained) label[r] = 0;
  }
  return label;
}

// The next version number in `dir`: one more than its highest numbered
// directory and than `version` when that is a number.
int64_t NextVersion(const std::string& dir, const std::string& version) {
  int64_t highest = 0;
  int64_t v;
  if (absl::SimpleAtoi(version, &v) && v > 0) highest = v;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (absl::SimpleAtoi(entry.path().filename().string(), &v) &&
        entry.is_directory(ec)) {
      highest = std::max(highest, v);
    }
  }
  return highest + 1;
}

}  // namespace

int RunBacktestCommand(const std::vector<std::string>& argv, std::ostream& out,
                       std::ostream& err) {
  int exit_code = kExitOk;
  std::vector<FlagSpec> flags = WithOutcomeFlags({{"candidate", true}});
  const std::optional<Args> args =
      ParseCommandLine({"backtest",
                        kBacktestHelp,
                        flags,
                        /*takes_paths=*/false,
                        {"model", "input", "outcomes"}},
                       argv, out, err, &exit_code);
  if (!args) return exit_code;
  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json") {
    return UsageError(
        err, "backtest",
        absl::StrCat("--format must be text or json, got \"", format, "\""));
  }
  Prepared p;
  if (std::optional<int> code =
          Prepare("backtest", *args, true, false, err, &p)) {
    return *code;
  }
  absl::StatusOr<bt::BacktestReport> report =
      bt::RunBacktest(p.snapshots, p.join);
  if (!report.ok()) {
    err << "healthscore backtest: " << report.status().message() << "\n";
    for (const std::string& line : oc::DescribeJoinReport(p.join.report)) {
      err << "  " << line << "\n";
    }
    return kExitFailure;
  }
  out << (format == "json" ? bt::BacktestJson(*report, p.numbers)
                           : bt::FormatBacktestText(*report, p.numbers));
  if (args->Has("report")) {
    std::vector<std::pair<std::string, std::string>> meta = {
        {"Model", absl::StrCat(p.live->name(), " version ", p.live->version(),
                               " (", p.live->hash().substr(0, 12), ")")},
        {"Snapshots", p.input_path},
        {"Outcomes", p.outcomes_path},
        {"Date", Today()}};
    if (p.join.report.horizon_days > 0) {
      meta.push_back(
          {"Horizon", absl::StrCat(p.join.report.horizon_days, " days")});
    }
    absl::StatusOr<std::string> html =
        engine::report::RenderHtml(bt::BacktestDocument(*report, meta));
    absl::Status written =
        html.ok() ? WriteFile(args->Get("report"), *html) : html.status();
    if (!written.ok()) {
      err << "healthscore backtest: --report: " << written.message() << "\n";
      return kExitFailure;
    }
  }
  return kExitOk;
}

int RunTuneCommand(const std::vector<std::string>& argv, std::ostream& out,
                   std::ostream& err) {
  int exit_code = kExitOk;
  std::vector<FlagSpec> flags = WithOutcomeFlags({{"output", true},
                                                  {"fit", true},
                                                  {"folds", true},
                                                  {"seed", true},
                                                  {"pulls", true}});
  const std::optional<Args> args =
      ParseCommandLine({"tune",
                        kTuneHelp,
                        flags,
                        /*takes_paths=*/false,
                        {"model", "input", "outcomes", "output"}},
                       argv, out, err, &exit_code);
  if (!args) return exit_code;
  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json") {
    return UsageError(
        err, "tune",
        absl::StrCat("--format must be text or json, got \"", format, "\""));
  }
  bool fit_tiers = false;
  bool fit_thresholds = false;
  for (absl::string_view what :
       absl::StrSplit(args->Get("fit", "weights"), ',')) {
    if (what == "tiers") {
      fit_tiers = true;
    } else if (what == "thresholds") {
      fit_thresholds = true;
    } else if (what != "weights") {
      return UsageError(err, "tune",
                        absl::StrCat("--fit ", what,
                                     ": give weights, thresholds and tiers, "
                                     "separated by commas"));
    }
  }
  bt::TuneOptions options;
  auto folds = args->GetInt("folds", 5, 2, 100);
  auto seed = args->GetInt("seed", engine::stats::kDefaultFoldSeed, 0,
                           std::numeric_limits<int64_t>::max());
  for (const auto* v : {&folds, &seed}) {
    if (!v->ok())
      return UsageError(err, "tune", std::string(v->status().message()));
  }
  options.folds = static_cast<int>(*folds);
  options.fit_tiers = fit_tiers;
  options.fit.fit_thresholds = fit_thresholds;
  options.seed = static_cast<uint64_t>(*seed);
  if (args->Has("pulls")) {
    options.pulls.clear();
    for (absl::string_view text : absl::StrSplit(args->Get("pulls"), ',')) {
      double pull;
      if (!absl::SimpleAtod(text, &pull) || !(pull >= 0) ||
          !std::isfinite(pull)) {
        return UsageError(err, "tune",
                          absl::StrCat("--pulls: \"", text,
                                       "\" is not a number of 0 or more"));
      }
      options.pulls.push_back(pull);
    }
  }

  Prepared p;
  if (std::optional<int> code = Prepare("tune", *args, false, true, err, &p)) {
    return *code;
  }
  const std::vector<int8_t> label = Labels(p.join);
  const bt::SignalScores scores{p.snapshots.live.signal_score.data(),
                                p.snapshots.size(), p.live->signals().size(),
                                p.snapshots.live.weight_row.empty()
                                    ? nullptr
                                    : p.snapshots.live.weight_row.data(),
                                p.snapshots.live.signal_raw.data()};
  absl::StatusOr<bt::TuneResult> tuned = bt::TuneWeights(
      *p.live, scores, p.snapshots.live.score.data(), label, options);
  if (!tuned.ok()) {
    err << "healthscore tune: " << tuned.status().message() << "\n";
    for (const std::string& line : oc::DescribeJoinReport(p.join.report)) {
      err << "  " << line << "\n";
    }
    return kExitFailure;
  }
  // Held out: both models on the same snapshots, each scored without
  // having seen them.
  absl::StatusOr<engine::stats::PairedAucTest> paired =
      engine::stats::DelongPairedTest(
          [&] {
            std::vector<double> risk;
            for (double s : tuned->written_score) risk.push_back(-s);
            return risk;
          }(),
          [&] {
            std::vector<double> risk;
            for (double s : tuned->held_out_score) risk.push_back(-s);
            return risk;
          }(),
          tuned->churned);
  if (!paired.ok()) {
    err << "healthscore tune: " << paired.status().message() << "\n";
    return kExitFailure;
  }

  // The new version.
  std::ifstream in(p.model_file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  engine::model::DiagnosticList diags;
  engine::model::ModelSpec spec =
      engine::model::LoadModelSpecFromString(text.str(), p.model_file, &diags);
  const std::string dir = args->Get("output");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err << "healthscore tune: --output: cannot create " << dir << ": "
        << ec.message() << "\n";
    return kExitFailure;
  }
  const int64_t version = NextVersion(dir, p.live->version());
  std::map<std::string, double> tier_min;
  if (tuned->tiers) {
    for (size_t t = 0; t < p.live->tiers().size(); ++t) {
      tier_min[p.live->tiers()[t].id] = tuned->tiers->min[t];
    }
  }
  uint64_t churned = 0;
  for (uint8_t c : tuned->churned) churned += c;
  const std::vector<std::string> header = {
      absl::StrCat("Tuned by `healthscore tune` on ", Today(), " from ",
                   p.live->name(), " version ", p.live->version(), " (",
                   p.live->hash().substr(0, 12), ")."),
      absl::StrCat(
          "Data: ", p.input_path, " joined to ", p.outcomes_path, ", ",
          tuned->rows.size(), " labelled snapshots, ", churned, " churned",
          p.join.report.horizon_days > 0
              ? absl::StrCat(", horizon ", p.join.report.horizon_days, " days")
              : "",
          "."),
      absl::StrCat("Fitted: group and signal weights",
                   fit_thresholds ? ", linear normalisation thresholds" : "",
                   tuned->tiers ? " and tier cut-offs (each tier keeping "
                                  "its share of accounts; the rest as "
                                  "written), "
                                : " (everything else as written), ",
                   options.folds, "-fold cross-validation, seed ", options.seed,
                   ", pull ", engine::common::FormatNumber(tuned->pull), "."),
      absl::StrCat("Held-out ROC AUC: ",
                   engine::common::FormatNumber(tuned->auc_before, {4}),
                   " as written, ",
                   engine::common::FormatNumber(tuned->held_out_auc_after, {4}),
                   " tuned (DeLong paired test, ",
                   engine::stats::FormatPValue(paired->p_value), ")."),
  };
  absl::StatusOr<std::string> model_text =
      bt::WriteTunedModel(text.str(), spec, tuned->after, absl::StrCat(version),
                          header, p.compile, tier_min);
  if (!model_text.ok()) {
    err << "healthscore tune: " << model_text.status().message() << "\n";
    return kExitFailure;
  }
  const std::string version_dir = absl::StrCat(dir, "/", version);
  std::filesystem::create_directories(version_dir, ec);
  const std::string model_path = absl::StrCat(version_dir, "/model.yaml");
  if (absl::Status s = ec ? absl::UnavailableError(ec.message())
                          : WriteFile(model_path, *model_text);
      !s.ok()) {
    err << "healthscore tune: " << model_path << ": " << s.message() << "\n";
    return kExitFailure;
  }

  if (args->Has("report")) {
    // The written and the tuned model side by side on held-out scores:
    // each snapshot scored by the weights fitted without its fold.
    engine::model::CompileResult compiled =
        engine::model::CompileString(*model_text, model_path, p.compile);
    absl::Status status =
        compiled.model == nullptr
            ? absl::InternalError(compiled.diagnostics.ToString())
            : absl::OkStatus();
    absl::StatusOr<bt::BacktestReport> report = absl::InternalError("not run");
    if (status.ok()) {
      report = bt::RunBacktest(
          bt::HeldOutSnapshots(p.snapshots, *tuned, compiled.model), p.join);
      status = report.status();
    }
    if (status.ok()) {
      std::vector<std::pair<std::string, std::string>> meta = {
          {"Tuned model", model_path},
          {"Snapshots", p.input_path},
          {"Outcomes", p.outcomes_path},
          {"Held out",
           absl::StrCat(
               "the candidate's scores are held out (", options.folds,
               "-fold cross-validation: each snapshot scored by weights "
               "fitted without it); its tiers follow its score and cut-offs "
               "only, and its playbooks are not evaluated")},
          {"Date", Today()}};
      absl::StatusOr<std::string> html =
          engine::report::RenderHtml(bt::BacktestDocument(*report, meta));
      status =
          html.ok() ? WriteFile(args->Get("report"), *html) : html.status();
    }
    if (!status.ok()) {
      err << "healthscore tune: --report: " << status.message() << "\n";
      return kExitFailure;
    }
  }

  if (format == "json") {
    std::string json = "{\"model\":";
    engine::common::AppendJsonString(model_path, &json);
    absl::StrAppend(
        &json, ",\"version\":", version, ",\"snapshots\":", tuned->rows.size(),
        ",\"churned\":", churned, ",\"folds\":", options.folds, ",\"pull\":");
    engine::common::AppendJsonNumber(tuned->pull, p.numbers, &json);
    json += ",\"held_out\":{\"written_auc\":";
    engine::common::AppendJsonNumber(tuned->auc_before, p.numbers, &json);
    json += ",\"tuned_auc\":";
    engine::common::AppendJsonNumber(tuned->held_out_auc_after, p.numbers,
                                     &json);
    json += ",\"p_value\":";
    engine::common::AppendJsonNumber(paired->p_value, p.numbers, &json);
    // The fitted weights as written to the file would be rounded; these
    // are the fit's own, scaled as in the file (groups and each group's
    // signals to their written sums).
    json += "},\"groups\":{";
    const auto& groups = p.live->groups();
    double written_total = 0, fitted_total = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      written_total += groups[g].weight;
      fitted_total += tuned->after.group[g];
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      if (g > 0) json += ",";
      engine::common::AppendJsonString(groups[g].id, &json);
      json += ":";
      engine::common::AppendJsonNumber(
          tuned->after.group[g] / fitted_total * written_total, p.numbers,
          &json);
    }
    json += "},\"signals\":{";
    const auto& signals = p.live->signals();
    for (size_t g = 0, k = 0; g < groups.size(); ++g) {
      double written = 0, fitted = 0;
      for (int s : groups[g].signals) {
        written += signals[static_cast<size_t>(s)].weight;
        fitted += tuned->after.signal[static_cast<size_t>(s)];
      }
      for (int s : groups[g].signals) {
        if (k++ > 0) json += ",";
        engine::common::AppendJsonString(signals[static_cast<size_t>(s)].id,
                                         &json);
        json += ":";
        engine::common::AppendJsonNumber(
            tuned->after.signal[static_cast<size_t>(s)] / fitted * written,
            p.numbers, &json);
      }
    }
    json += "}";
    if (tuned->tiers) {
      json += ",\"tiers\":[";
      for (size_t t = 0; t < p.live->tiers().size(); ++t) {
        json += t ? ",{\"tier\":" : "{\"tier\":";
        engine::common::AppendJsonString(p.live->tiers()[t].id, &json);
        json += ",\"min\":";
        engine::common::AppendJsonNumber(tuned->tiers->min[t], p.numbers,
                                         &json);
        json += ",\"held_out_churn\":";
        engine::common::AppendJsonNumber(tuned->tiers->churn[t], p.numbers,
                                         &json);
        json += "}";
      }
      json += "]";
    }
    json += "}\n";
    out << json;
  } else {
    out << "wrote " << model_path << "\n";
    for (const std::string& line : header) out << "  " << line << "\n";
    if (tuned->tiers) {
      out << "  tier cut-offs (held-out churn):";
      for (size_t t = 0; t < p.live->tiers().size(); ++t) {
        out << " " << p.live->tiers()[t].id << " from "
            << engine::common::FormatNumber(tuned->tiers->min[t]) << " ("
            << engine::common::FormatNumber(100 * tuned->tiers->churn[t], {3})
            << "%)";
      }
      out << "\n";
    }
    out << "  pull strengths tried (held-out ROC AUC):";
    for (const bt::PullFigure& f : tuned->pulls) {
      out << " " << engine::common::FormatNumber(f.pull) << " ("
          << engine::common::FormatNumber(f.held_out_auc, {4}) << ")";
    }
    out << "\n";
  }
  return kExitOk;
}

namespace {

namespace pf = engine::portfolio;

const std::string kPortfolioHelp =
    R"(usage: healthscore portfolio --revenue FILE --period A..B [options]

Portfolio outcomes over a period: net and gross revenue retention (NRR,
GRR), logo retention and churn, revenue churn and expansion of the accounts
that were customers at the period start; time to first value; cohort
retention curves by contract start month. With --by, every figure per
attribute of the revenue file; with --model and --input (snapshots as of the
period start) or --scores (an earlier `healthscore score` run), every figure
per health tier at the period start: does health predict revenue. Amounts
are summed exactly (cents stay cents). Every record left out is counted by
reason. Definitions and rules: docs/outcomes.md, "Portfolio metrics".

options:
  --revenue FILE        one record per account, CSV or JSON Lines (required):
                        start_arr, end_arr, and optionally expansion,
                        contraction, contract_start, churn_date, reactivated,
                        reactivation_date, first_value_date, currency, and
                        any attribute (segment, plan, region)
  --revenue-format F    jsonl or csv (default: from the file extension)
  --period A..B         the period, both days included (required), e.g.
                        2025-01-01..2025-12-31
  --by NAMES            attributes to break every figure down by, separated
                        by commas (e.g. segment,plan)
  --reactivated RULE    an account that churns and returns within the
                        period: retained (default) or churned (its return
                        is new business)
  --missing-end RULE    a record without end_arr: exclude (default), flat
                        (unchanged) or churned
  --zero-start-arr RULE a record with start_arr 0: exclude (default) or
                        logos (counted in the logo metrics only)
  --rates FILE          conversion rates, CSV or JSON Lines with columns
                        currency and rate (report currency per unit); needed
                        when the file holds several currencies
  --currency CODE       the report currency (default: the file's only one)
  --cohort-months N     longest cohort curve, in months (default 24)
  --max-groups N        most groups per --by column, by start ARR; the rest
                        are pooled in one group, (other) (default 200)
  --model MODEL         the model whose tiers to break down by: with --input
                        it scores the snapshots; with --scores it orders
                        and colours the tiers
  --input FILE          account snapshots as of the period start (the latest
                        snapshot on or before the start gives the tier)
  --input-format F      jsonl or csv (default: from the file extension)
  --scores FILE         results of `healthscore score` (id, status, tier,
                        score), taken as of the period start
  --scores-format F     jsonl or csv (default: from the file extension)
  --format F            text (default), json or csv
  --report FILE         also write the report as one HTML file
  --threads N           scoring threads (default: one per core)
  --batch-size N        snapshots read and scored at a time (default 65536)
  --max-snapshots N     refuse inputs of more snapshots (default 20000000)
)" + std::string(kPrecisionHelp) +
    std::string(kInputLimitsHelp) + std::string(kPluginsHelp) +
    std::string(kModelLimitsHelp) +
    R"(  -h, --help            show this help

exit codes:
  0  the figures were computed
  1  a file cannot be read, a model has errors, or the figures cannot be
     computed (e.g. several currencies without rates)
  2  usage error
)";

// The value of enumerated flag `flag`: the value paired with its name in
// `map` (the first pair's when the flag is not given).
template <typename T>
absl::StatusOr<T> EnumFlag(const Args& args, const std::string& flag,
                           const std::vector<std::pair<std::string, T>>& map) {
  if (!args.Has(flag)) return map.front().second;
  std::string names;
  for (const auto& [name, value] : map) {
    if (args.Get(flag) == name) return value;
    absl::StrAppend(&names, names.empty() ? "" : ", ", name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag, " must be one of ", names, ", got \"", args.Get(flag), "\""));
}

}  // namespace

int RunPortfolioCommand(const std::vector<std::string>& argv,
                        std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  std::vector<FlagSpec> flags;
  for (const char* name :
       {"revenue", "revenue-format", "period", "by", "reactivated",
        "missing-end", "zero-start-arr", "rates", "currency", "cohort-months",
        "max-groups",
        "model", "scores", "scores-format", "format", "report", "threads",
        "batch-size", "max-snapshots", "plugins"}) {
    flags.push_back({name, true});
  }
  flags.push_back({"help", false});
  flags = WithPrecisionFlag(WithModelLimitFlags(WithInputFlags(flags)));
  const std::optional<Args> args = ParseCommandLine(
      {"portfolio", kPortfolioHelp, flags, /*takes_paths=*/false,
       {"revenue", "period"}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;
  auto usage = [&](const absl::Status& s) {
    return UsageError(err, "portfolio", s.message());
  };
  auto failure = [&](absl::string_view message) {
    err << "healthscore portfolio: " << message << "\n";
    return kExitFailure;
  };

  const std::string format = args->Get("format", "text");
  if (format != "text" && format != "json" && format != "csv") {
    return usage(absl::InvalidArgumentError(absl::StrCat(
        "--format must be text, json or csv, got \"", format, "\"")));
  }
  pf::PortfolioOptions options;
  absl::StatusOr<pf::Period> period = pf::ParsePeriod(args->Get("period"));
  if (!period.ok()) {
    return usage(absl::InvalidArgumentError(
        absl::StrCat("--period: ", period.status().message())));
  }
  options.period = *period;
  if (args->Has("by")) {
    for (absl::string_view name : absl::StrSplit(args->Get("by"), ',')) {
      if (name.empty()) {
        return usage(absl::InvalidArgumentError(
            "--by: an empty attribute name (separate names with commas)"));
      }
      options.by.emplace_back(name);
    }
  }
  auto reactivation = EnumFlag<pf::ReactivationRule>(
      *args, "reactivated",
      {{"retained", pf::ReactivationRule::kRetained},
       {"churned", pf::ReactivationRule::kChurned}});
  auto missing_end = EnumFlag<pf::MissingEndRule>(
      *args, "missing-end",
      {{"exclude", pf::MissingEndRule::kExclude},
       {"flat", pf::MissingEndRule::kFlat},
       {"churned", pf::MissingEndRule::kChurned}});
  auto zero_start = EnumFlag<pf::ZeroStartRule>(
      *args, "zero-start-arr",
      {{"exclude", pf::ZeroStartRule::kExclude},
       {"logos", pf::ZeroStartRule::kLogosOnly}});
  if (!reactivation.ok()) return usage(reactivation.status());
  if (!missing_end.ok()) return usage(missing_end.status());
  if (!zero_start.ok()) return usage(zero_start.status());
  options.reactivation = *reactivation;
  options.missing_end = *missing_end;
  options.zero_start = *zero_start;
  auto cohort_months = args->GetInt("cohort-months", 24, 0, 1200);
  auto max_groups = args->GetInt("max-groups", 200, 1, 100000);
  const int default_threads =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto threads = args->GetInt("threads", default_threads, 1, 256);
  auto batch = args->GetInt("batch-size", 65536, 1, 1000000);
  auto max_snapshots =
      args->GetInt("max-snapshots", 20'000'000, 1, 2'000'000'000);
  for (const auto* v :
       {&cohort_months, &max_groups, &threads, &batch, &max_snapshots}) {
    if (!v->ok()) return usage(v->status());
  }
  options.cohort_months = static_cast<int>(*cohort_months);
  options.max_groups = static_cast<size_t>(*max_groups);
  auto numbers = NumberFormatFromArgs(*args);
  if (!numbers.ok()) return usage(numbers.status());
  absl::StatusOr<engine::io::ReaderOptions> reader_options =
      InputLimitsFromArgs(*args);
  if (!reader_options.ok()) return usage(reader_options.status());

  const bool with_snapshots = args->Has("input");
  const bool with_scores = args->Has("scores");
  if (with_snapshots && with_scores) {
    return usage(absl::InvalidArgumentError(
        "--input and --scores both give tiers: pass one of them"));
  }
  if (with_snapshots && !args->Has("model")) {
    return usage(absl::InvalidArgumentError(
        "--input needs --model (the model that scores the snapshots)"));
  }
  if (args->Has("model") && !with_snapshots && !with_scores) {
    return usage(absl::InvalidArgumentError(
        "--model needs --input (snapshots to score) or --scores"));
  }
  std::vector<std::string> stdin_users;
  for (const char* flag : {"revenue", "input", "scores", "rates"}) {
    if (args->Has(flag) && args->Get(flag) == "-") {
      stdin_users.push_back(absl::StrCat("--", flag));
    }
  }
  if (stdin_users.size() > 1) {
    return usage(absl::InvalidArgumentError(absl::StrCat(
        absl::StrJoin(stdin_users, " and "),
        " cannot all be standard input (\"-\")")));
  }
  absl::StatusOr<engine::io::InputFormat> revenue_format =
      FileFormat(*args, "revenue");
  if (!revenue_format.ok()) return usage(revenue_format.status());

  // The rates and the model first: they fail fast, before big files.
  if (args->Has("rates")) {
    absl::StatusOr<pf::CurrencyRates> rates =
        pf::ReadRates(args->Get("rates"), args->Get("currency"));
    if (!rates.ok()) return failure(rates.status().message());
    options.rates = *std::move(rates);
  } else {
    options.rates.report_currency = args->Get("currency");
  }
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  std::shared_ptr<const engine::model::CompiledModel> model;
  if (args->Has("model")) {
    auto compile = CompileOptionsFromArgs(*args, &plugins);
    if (!compile.ok()) return usage(compile.status());
    model = CompileModelArg("portfolio", "model", args->Get("model"), *compile,
                            err);
    if (model == nullptr) return kExitFailure;
  }

  oc::RecordReaderOptions record_options;
  record_options.reader = *reader_options;
  const std::string revenue_path = args->Get("revenue");
  absl::StatusOr<oc::RecordTable> revenue = oc::ReadRecordFile(
      revenue_path, *revenue_format, pf::RevenueSchema(), record_options);
  if (!revenue.ok()) return failure(revenue.status().message());

  std::optional<pf::TierColumn> tiers;
  if (with_snapshots) {
    absl::StatusOr<engine::io::InputFormat> input_format =
        InputFormatFromArgs(*args, args->Get("input"));
    if (!input_format.ok()) return usage(input_format.status());
    auto reader = engine::io::OpenSnapshotReader(
        args->Get("input"), *input_format, *reader_options);
    if (!reader.ok()) return failure(reader.status().message());
    bt::ScoreOptions score_options;
    score_options.strict = reader_options->strict;
    score_options.table_rows = static_cast<size_t>(*batch);
    score_options.max_snapshots = static_cast<size_t>(*max_snapshots);
    engine::eval::WorkerPool pool(static_cast<int>(*threads) - 1);
    absl::StatusOr<bt::ScoredSnapshots> scored =
        bt::ScoreSnapshots(**reader, model, nullptr, score_options, &pool);
    if (!scored.ok()) {
      return failure(absl::StrCat(args->Get("input"), ": ",
                                  scored.status().message()));
    }
    tiers = pf::TiersFromSnapshots(
        *scored, *revenue, options.period,
        absl::StrCat("model ", model->name(), " version ", model->version(),
                     " on ", args->Get("input")));
  } else if (with_scores) {
    absl::StatusOr<engine::io::InputFormat> scores_format =
        FileFormat(*args, "scores");
    if (!scores_format.ok()) return usage(scores_format.status());
    // `healthscore score` always writes the id as "id".
    oc::RecordReaderOptions scores_options = record_options;
    scores_options.reader.id_field = "id";
    absl::StatusOr<oc::RecordTable> scores =
        oc::ReadRecordFile(args->Get("scores"), *scores_format,
                           pf::ScoresSchema(), scores_options);
    if (!scores.ok()) return failure(scores.status().message());
    absl::StatusOr<pf::TierColumn> from_scores = pf::TiersFromScores(
        *scores, *revenue, model.get(), args->Get("scores"));
    if (!from_scores.ok()) return failure(from_scores.status().message());
    tiers = *std::move(from_scores);
  }

  absl::StatusOr<pf::PortfolioReport> report = pf::RunPortfolio(
      *revenue, options, tiers.has_value() ? &*tiers : nullptr);
  if (!report.ok()) {
    if (absl::IsInvalidArgument(report.status()) &&
        report.status().message().find("--by") != std::string::npos) {
      return usage(report.status());
    }
    return failure(absl::StrCat(revenue_path, ": ", report.status().message()));
  }
  if (format == "json") {
    out << pf::PortfolioJson(*report, *numbers);
  } else if (format == "csv") {
    out << pf::PortfolioCsv(*report, *numbers);
  } else {
    out << pf::FormatPortfolioText(*report);
  }
  if (args->Has("report")) {
    std::vector<std::pair<std::string, std::string>> meta = {
        {"Revenue", revenue_path}, {"Date", Today()}};
    if (tiers) meta.push_back({"Tiers", tiers->source});
    absl::StatusOr<std::string> html =
        engine::report::RenderHtml(pf::PortfolioDocument(*report, meta));
    absl::Status written =
        html.ok() ? WriteFile(args->Get("report"), *html) : html.status();
    if (!written.ok()) {
      return failure(absl::StrCat("--report: ", written.message()));
    }
  }
  return kExitOk;
}

}  // namespace healthscore::cli
