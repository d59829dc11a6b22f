// `healthscore validate`: compile models and print every diagnostic.

#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/diagnostics_json.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
#include "cli/plugins.h"
#include "engine/model/compiler.h"

namespace healthscore::cli {
namespace {

const std::string kHelp =
    R"(usage: healthscore validate [options] PATH...

Checks health model files and reports every problem at once, one per line:
  FILE:LINE:COL: error: MESSAGE (hint: ...)
PATH is a model file (.yaml) or a directory, searched recursively for
files named model.yaml.

options:
  --warnings-as-errors  fail (exit 1) when a model has warnings
)" + std::string(kPluginsHelp) +
    std::string(kModelLimitsHelp) + R"(
  --quiet               print only diagnostics and the summary line
)" + std::string(kDiagnosticsFormatHelp) + R"(  -h, --help            show this help

exit codes:
  0  every model is valid (warnings allowed)
  1  a model has errors, a PATH does not exist or holds no model.yaml
  2  usage error
)";

std::string Plural(int n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}

}  // namespace

int RunValidate(const std::vector<std::string>& argv, std::ostream& out,
                std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"validate", kHelp,
       WithModelLimitFlags(
           {{"help", false},
            {"warnings-as-errors", false},
            {"quiet", false},
            {"format", true},
            {"plugins", true}}),
       /*takes_paths=*/true,
       {}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;
  const bool quiet = args->Has("quiet");
  const bool strict = args->Has("warnings-as-errors");
  auto limits = ModelLimits(*args);
  if (!limits.ok()) {
    err << "healthscore validate: " << limits.status().message() << "\n";
    return kExitUsage;
  }
  auto json = WantsJson(*args);
  if (!json.ok()) {
    err << "healthscore validate: " << json.status().message() << "\n";
    return kExitUsage;
  }
  DiagnosticsJson report("validate");
  auto plugins = OpenPluginHost(*args);
  if (!plugins.ok()) {
    err << "healthscore validate: " << plugins.status().message() << "\n";
    return kExitUsage;
  }

  exit_code = kExitOk;
  auto files = CollectModelFiles(args->positional(), "validate", err, &exit_code);
  if (!files.ok()) {
    err << "healthscore validate: " << files.status().message() << "\n";
    return kExitUsage;
  }

  int failed_models = 0;
  int total_errors = 0;
  int total_warnings = 0;
  for (const std::string& file : *files) {
    engine::model::CompileOptions options;
    options.plugins = plugins->get();
    options.yaml = *limits;
    engine::model::CompileResult result =
        engine::model::CompileFile(file, options);
    int errors = result.diagnostics.error_count();
    int warnings = result.diagnostics.warning_count();
    total_errors += errors;
    total_warnings += warnings;
    bool failed = errors > 0 || (strict && warnings > 0);
    if (failed) ++failed_models;
    if (*json) {
      report.AddAll(result.diagnostics, kCodeModel);
      const bool compiled = result.model != nullptr;
      report.AddFile(file, !failed, errors, warnings,
                     compiled ? result.model->name() : "",
                     compiled ? result.model->version() : "");
      continue;
    }
    for (const engine::model::Diagnostic& d : result.diagnostics.items()) {
      out << d.ToString() << "\n";
    }
    if (quiet) continue;
    if (result.model != nullptr && !failed) {
      out << "ok: " << file << " (model " << result.model->name()
          << ", version " << result.model->version();
      if (warnings > 0) out << ", " << Plural(warnings, "warning");
      out << ")\n";
    } else {
      out << "FAILED: " << file << " (" << Plural(errors, "error") << ", "
          << Plural(warnings, "warning") << ")\n";
    }
  }
  if (failed_models > 0) exit_code = kExitFailure;
  if (*json) {
    out << report.ToJson(exit_code == kExitOk);
    return exit_code;
  }
  if (!files->empty()) {
    out << Plural(static_cast<int>(files->size()), "model")
        << " checked: " << static_cast<int>(files->size()) - failed_models
        << " ok, " << failed_models << " failed; "
        << Plural(total_errors, "error") << ", "
        << Plural(total_warnings, "warning") << "\n";
  }
  if (failed_models > 0) exit_code = kExitFailure;
  return exit_code;
}

}  // namespace healthscore::cli
