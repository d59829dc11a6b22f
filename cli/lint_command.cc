// `healthscore lint`: compile models, then look for the scoring mistakes a
// compiler cannot see (engine/lint/lint.h).

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/model_limits.h"
#include "cli/paths.h"
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
  --plugins DIRS        directories of plugin libraries (':'-separated), for
                        models with a `plugins:` section
)" + std::string(kModelLimitsHelp) +
    R"(  --quiet               print only findings and the summary line
  -h, --help            show this help

exit codes:
  0  no errors (warnings allowed)
  1  a model has errors (or warnings, with --warnings-as-errors), a PATH
     does not exist or holds no model.yaml
  2  usage error
)";

std::string Plural(int n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
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
  engine::model::CompileOptions compile_options;
  compile_options.yaml = *limits;
  engine::model::ModelLoadOptions load_options;
  load_options.yaml = *limits;
  std::unique_ptr<engine::plugin_host::PluginHost> plugins;
  if (args->Has("plugins")) {
    engine::plugin_host::PluginHostOptions host_options;
    host_options.directories =
        absl::StrSplit(args->Get("plugins"), ':', absl::SkipEmpty());
    auto host = engine::plugin_host::PluginHost::Create(host_options);
    if (!host.ok()) {
      err << "healthscore lint: --plugins: " << host.status().message()
          << "\n";
      return kExitUsage;
    }
    plugins = *std::move(host);
    compile_options.plugins = plugins.get();
  }

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
        if (reported.insert(d.ToString()).second) diags.Add(d);
      }
      diags.Append(engine::lint::LintModel(*spec, *model, context));
    }
    diags.SortByLocation();
    for (const engine::model::Diagnostic& d : diags.items()) {
      out << d.ToString() << "\n";
    }
    const int errors = diags.error_count();
    const int warnings = diags.warning_count();
    total_errors += errors;
    total_warnings += warnings;
    const bool failed = errors > 0 || (strict && warnings > 0);
    if (failed) ++failed_models;
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
