#include "cli/input_options.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
#include "cli/plugins.h"

namespace healthscore::cli {

absl::StatusOr<engine::io::ReaderOptions> InputLimitsFromArgs(
    const Args& args) {
  engine::io::ReaderOptions options;
  auto bytes = args.GetInt("max-line-bytes",
                           static_cast<int64_t>(options.max_line_bytes), 1,
                           int64_t{1} << 30);
  if (!bytes.ok()) return bytes.status();
  auto lines =
      args.GetInt("max-record-lines",
                  static_cast<int64_t>(options.max_record_lines), 1, 1000000);
  if (!lines.ok()) return lines.status();
  options.max_line_bytes = static_cast<size_t>(*bytes);
  options.max_record_lines = static_cast<size_t>(*lines);
  if (args.Has("id-field")) {
    options.id_field = args.Get("id-field");
    if (options.id_field.empty()) {
      return absl::InvalidArgumentError("--id-field needs a name");
    }
  }
  options.strict = args.Has("strict");
  return options;
}

absl::StatusOr<engine::io::InputFormat> InputFormatFromArgs(
    const Args& args, const std::string& path) {
  if (args.Has("input-format")) {
    return engine::io::ParseInputFormat(args.Get("input-format"));
  }
  if (path == "-") return engine::io::InputFormat::kJsonLines;
  auto format = engine::io::InputFormatFromPath(path);
  if (!format.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        format.status().message(), "; pass --input-format jsonl|csv"));
  }
  return format;
}

std::vector<FlagSpec> WithInputFlags(std::vector<FlagSpec> flags) {
  flags.push_back({"input", true});
  flags.push_back({"input-format", true});
  flags.insert(flags.end(), kInputLimitFlags.begin(), kInputLimitFlags.end());
  return flags;
}

absl::StatusOr<InputArgs> InputFromArgs(const Args& args) {
  InputArgs input;
  input.path = args.Get("input");
  absl::StatusOr<engine::io::ReaderOptions> options = InputLimitsFromArgs(args);
  if (!options.ok()) return options.status();
  input.options = *std::move(options);
  absl::StatusOr<engine::io::InputFormat> format =
      InputFormatFromArgs(args, input.path);
  if (!format.ok()) return format.status();
  input.format = *format;
  return input;
}

absl::StatusOr<engine::model::CompileOptions> CompileOptionsFromArgs(
    const Args& args,
    std::unique_ptr<engine::plugin_host::PluginHost>* plugins) {
  absl::StatusOr<std::unique_ptr<engine::plugin_host::PluginHost>> host =
      OpenPluginHost(args);
  if (!host.ok()) return host.status();
  absl::StatusOr<engine::common::YamlLimits> limits = ModelLimits(args);
  if (!limits.ok()) return limits.status();
  *plugins = *std::move(host);
  engine::model::CompileOptions options;
  options.plugins = plugins->get();
  options.yaml = *limits;
  return options;
}

std::shared_ptr<const engine::model::CompiledModel> CompileModelArg(
    const std::string& command, const std::string& flag,
    const std::string& path, const engine::model::CompileOptions& options,
    std::ostream& err, std::string* resolved) {
  absl::StatusOr<std::string> file = ResolveModelPath(path);
  if (!file.ok()) {
    err << "healthscore " << command << ": --" << flag << ": "
        << file.status().message() << "\n";
    return nullptr;
  }
  if (resolved != nullptr) *resolved = *file;
  engine::model::CompileResult compiled =
      engine::model::CompileFile(*file, options);
  if (compiled.model == nullptr) {
    PrintErrors(compiled.diagnostics, err);
    err << "healthscore " << command << ": --" << flag << ": " << *file
        << " has errors\n";
  }
  return compiled.model;
}

void PrintErrors(const engine::model::DiagnosticList& diagnostics,
                 std::ostream& err) {
  for (const engine::model::Diagnostic& d : diagnostics.items()) {
    if (d.severity == engine::model::Severity::kError)
      err << d.ToString() << "\n";
  }
}

}  // namespace healthscore::cli
