// `healthscore test`: run the test cases of models.

#include <optional>
#include <ostream>
#include <regex>
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
#include "cli/precision.h"
#include "engine/model_tests/test_runner.h"

namespace healthscore::cli {
namespace {

const std::string kHelp =
    R"(usage: healthscore test [options] PATH...

Runs model test cases. PATH is a tests.yaml file, a model.yaml (its
tests.yaml is run), or a directory searched recursively for files named
tests.yaml; each is run against the model.yaml beside it. Failed cases are printed with what was expected and what the
model gave; the last line is always "N passed, N failed".

options:
  --run REGEX       run only cases whose name matches REGEX (ECMAScript
                    syntax, matched anywhere in the name)
  --fail-on-empty   fail (exit 1) when no test case ran
  --verbose         also list the cases that passed
)" + std::string(kPrecisionHelp) +
    std::string(kPluginsHelp) +
    std::string(kModelLimitsHelp) + std::string(kDiagnosticsFormatHelp) +
    R"(  -h, --help        show this help

exit codes:
  0  every case passed
  1  a case failed, a test file or its model is broken, a PATH does not
     exist, or (with --fail-on-empty) nothing ran
  2  usage error (including a bad --run expression)
)";

// A tests file's outcome as JSON diagnostics: its file errors, and one
// diagnostic per failed expectation at the case's location.
void AddToReport(const std::string& file,
                 const absl::StatusOr<engine::model_tests::TestFileResult>& result,
                 DiagnosticsJson* report) {
  if (!result.ok()) {
    engine::model::Diagnostic d;
    d.location.file = file;
    d.message = std::string(result.status().message());
    report->Add(d, kCodeTestFile);
    report->AddFile(file, false, 1, 0);
    return;
  }
  report->AddAll(result->file_errors, kCodeTestFile);
  int errors = result->file_errors.error_count();
  for (const engine::model_tests::TestCaseResult& c : result->cases) {
    if (c.passed) continue;
    std::vector<std::string> failures = c.failures;
    if (failures.empty()) failures.push_back("failed");
    for (const std::string& failure : failures) {
      engine::model::Diagnostic d;
      d.location = c.location;
      d.message = absl::StrCat("case '", c.name, "': ", failure);
      report->Add(d, kCodeTestFailed);
      ++errors;
    }
  }
  report->AddFile(file, result->failed() == 0, errors, 0);
}

}  // namespace

int RunTest(const std::vector<std::string>& argv, std::ostream& out,
            std::ostream& err) {
  int exit_code = kExitOk;
  const std::optional<Args> args = ParseCommandLine(
      {"test", kHelp,
       WithPrecisionFlag(WithModelLimitFlags(
           {{"help", false},
            {"run", true},
            {"fail-on-empty", false},
            {"verbose", false},
            {"format", true},
            {"plugins", true}})),
       /*takes_paths=*/true,
       {}},
      argv, out, err, &exit_code);
  if (!args) return exit_code;
  engine::model_tests::TestRunOptions options;
  options.name_filter = args->Get("run");
  if (!options.name_filter.empty()) {
    try {
      std::regex check(options.name_filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      err << "healthscore test: bad --run expression \"" << options.name_filter
          << "\": " << e.what() << "\n";
      return kExitUsage;
    }
  }
  const bool verbose = args->Has("verbose");
  auto plugins = OpenPluginHost(*args);
  if (!plugins.ok()) {
    err << "healthscore test: " << plugins.status().message() << "\n";
    return kExitUsage;
  }
  options.plugins = plugins->get();
  auto limits = ModelLimits(*args);
  if (!limits.ok()) {
    err << "healthscore test: " << limits.status().message() << "\n";
    return kExitUsage;
  }
  options.yaml = *limits;
  auto numbers = NumberFormatFromArgs(*args);
  if (!numbers.ok()) {
    err << "healthscore test: " << numbers.status().message()
        << "\nrun `healthscore test --help` for usage\n";
    return kExitUsage;
  }
  options.numbers = *numbers;
  auto json = WantsJson(*args);
  if (!json.ok()) {
    err << "healthscore test: " << json.status().message() << "\n";
    return kExitUsage;
  }
  DiagnosticsJson report("test");

  bool problems = false;
  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const std::string& path : args->positional()) {
    auto found = FindTestFiles(path);
    if (!found.ok()) {
      err << "healthscore test: " << found.status().message() << "\n";
      problems = true;
      continue;
    }
    if (found->empty()) {
      err << "healthscore test: no tests.yaml found under " << path << "\n";
    }
    for (const std::string& f : *found) {
      if (seen.insert(f).second) files.push_back(f);
    }
  }

  int passed = 0;
  int failed = 0;
  for (const std::string& file : files) {
    auto result = engine::model_tests::RunTestFile(file, options);
    if (*json) {
      AddToReport(file, result, &report);
      if (result.ok()) {
        passed += result->passed();
        failed += result->failed();
      } else {
        ++failed;
      }
      continue;
    }
    if (!result.ok()) {
      out << "--- FAIL: " << file << "\n    " << result.status().message()
          << "\n";
      ++failed;
      continue;
    }
    out << engine::model_tests::FormatTestFileResult(*result, verbose);
    passed += result->passed();
    failed += result->failed();
  }
  int code = failed > 0 || problems ? kExitFailure : kExitOk;
  const bool empty_run = args->Has("fail-on-empty") && passed + failed == 0;
  if (empty_run) code = kExitFailure;
  if (*json) {
    report.SetCases(passed, failed);
    out << report.ToJson(code == kExitOk);
  } else {
    out << passed << " passed, " << failed << " failed\n";
  }
  if (empty_run) err << "healthscore test: no test case ran\n";
  return code;
}

}  // namespace healthscore::cli
