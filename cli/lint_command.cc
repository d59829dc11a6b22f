// `healthscore lint`: compile models, then look for the scoring mistakes a
// compiler cannot see (engine/lint/lint.h).

#include <memory>
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
#include "engine/lint/lint.h"
#include "engine/lint/lint_context.h"
#include "engine/model/compiler.h"
#include "engine/model/yaml_loader.h"
#include "engine/plugin_host/plugin_host.h"

namespace healthscore::cli {
namespace {

const std::string kHelp =
    R"(usage: healthscore lint [options] PATH...

Checks health model files like `healthscore validate`, then looks for
scoring mistakes that compile fine:
  - a tier no score can reach (the normalisations cap the scores),
  - a playbook no account can trigger,
  - a signal whose share of the score rounds to nothing (< 0.5%),
  - a segment override no account gets because of routing,
  - a route in the model's config.yaml that does not compile.
Each finding is printed as FILE:LINE:COL: error|warning: MESSAGE (hint: ...).
PATH is a model file or a directory searched recursively for model.yaml.
A model laid out as ROOT/NAME/VERSION/model.yaml is checked with the routes
of the repository ROOT (ROOT/*/config.yaml).

options:
  --warnings-as-errors  fail (exit 1) when a model has warnings
)" + std::string(kPluginsHelp) + std::string(kModelLimitsHelp) +
    R"(  --quiet               print only findings and the summary line
)" + std::string(kDiagnosticsFormatHelp) + R"(  -h, --help            show this help

exit codes:
  0  no errors (warnings allowed)
  1  a model has errors (or warnings, with --warnings-as-errors), a PATH
     does not exist or holds no model.yaml
  2  usage error
)";

std::string Plural(int n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}

bool Contains(const engine::model::DiagnosticList& list,
              const engine::model::Diagnostic& d) {
  for (const engine::model::Diagnostic& x : list.items()) {
    if (x.severity == d.severity && x.message == d.message &&
        x.location.file == d.location.file &&
        x.location.line == d.location.line &&
        x.location.column == d.location.column) {
      return true;
    }
  }
  return false;
}

}  // namespace

int RunLint(const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"lint", kHelp,
       WithModelLimitFlags(
           {{"help", false},
            {"warnings-as-errors", false},
            {"plugins", true},
            {"format", true},
            {"quiet", false}}),
       /*takes_paths=*/true,
       {}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;
  const bool quiet = args->Has("quiet");
  const bool strict = args->Has("warnings-as-errors");

  auto limits = ModelLimits(*args);
  if (!limits.ok()) {
    err << "healthscore lint: " << limits.status().message() << "\n";
    return kExitUsage;
  }
  auto json = WantsJson(*args);
  if (!json.ok()) {
    err << "healthscore lint: " << json.status().message() << "\n";
    return kExitUsage;
  }
  DiagnosticsJson report("lint");
  engine::model::CompileOptions compile_options;
  compile_options.yaml = *limits;
  engine::model::ModelLoadOptions load_options;
  load_options.yaml = *limits;
  auto plugins = OpenPluginHost(*args);
  if (!plugins.ok()) {
    err << "healthscore lint: " << plugins.status().message() << "\n";
    return kExitUsage;
  }
  compile_options.plugins = plugins->get();

  exit_code = kExitOk;
  auto files = CollectModelFiles(args->positional(), "lint", err, &exit_code);
  if (!files.ok()) {
    err << "healthscore lint: " << files.status().message() << "\n";
    return kExitUsage;
  }

  int failed_models = 0;
  int total_errors = 0;
  int total_warnings = 0;
  // A config.yaml shared by several models is reported once.
  std::set<std::string> reported;
  for (const std::string& file : *files) {
    engine::model::DiagnosticList diags;
    // The JSON report names the stage that found each diagnostic; the text
    // output needs only the merged, sorted list.
    engine::model::DiagnosticList config_found;
    engine::model::DiagnosticList lint_found;
    absl::StatusOr<engine::model::ModelSpec> spec =
        engine::model::LoadModelSpecFromFile(file, &diags, load_options);
    if (!spec.ok()) {
      diags.Error(engine::model::SourceLocation{file, 0, 0},
                  std::string(spec.status().message()));
    }
    std::shared_ptr<const engine::model::CompiledModel> model;
    if (spec.ok()) {
      engine::model::CompileResult compiled =
          engine::model::Compile(*spec, compile_options);
      diags.Append(compiled.diagnostics);
      model = compiled.model;
    }
    if (model != nullptr && !diags.has_errors()) {
      engine::model::DiagnosticList config_diags;
      engine::lint::LintContext context =
          engine::lint::LintContextForFile(file, &config_diags);
      for (const engine::model::Diagnostic& d : config_diags.items()) {
        if (reported.insert(d.ToString()).second) {
          diags.Add(d);
          config_found.Add(d);
        }
      }
      lint_found = engine::lint::LintModel(*spec, *model, context);
      diags.Append(lint_found);
    }
    diags.SortByLocation();
    const int errors = diags.error_count();
    const int warnings = diags.warning_count();
    total_errors += errors;
    total_warnings += warnings;
    const bool failed = errors > 0 || (strict && warnings > 0);
    if (failed) ++failed_models;
    if (*json) {
      for (const engine::model::Diagnostic& d : diags.items()) {
        // Findings in the repository's config.yaml (its routes) are
        // "config" whichever stage found them.
        const bool in_config = d.location.file != file ||
                               Contains(config_found, d);
        report.Add(d, in_config                  ? kCodeConfig
                      : Contains(lint_found, d) ? kCodeLint
                                                : kCodeModel);
      }
      report.AddFile(file, !failed, errors, warnings,
                     model != nullptr ? model->name() : "",
                     model != nullptr ? model->version() : "");
      continue;
    }
    for (const engine::model::Diagnostic& d : diags.items()) {
      out << d.ToString() << "\n";
    }
    if (quiet) continue;
    if (model != nullptr && !failed) {
      out << "ok: " << file << " (model " << model->name() << ", version "
          << model->version();
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
        << " linted: " << static_cast<int>(files->size()) - failed_models
        << " ok, " << failed_models << " failed; "
        << Plural(total_errors, "error") << ", "
        << Plural(total_warnings, "warning") << "\n";
  }
  if (failed_models > 0) exit_code = kExitFailure;
  return exit_code;
}

}  // namespace healthscore::cli
