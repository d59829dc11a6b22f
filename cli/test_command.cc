// `healthscore test`: run the test cases of models.

#include <optional>
#include <ostream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
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
    std::string(kModelLimitsHelp) +
    R"(  -h, --help        show this help

exit codes:
  0  every case passed
  1  a case failed, a test file or its model is broken, a PATH does not
     exist, or (with --fail-on-empty) nothing ran
  2  usage error (including a bad --run expression)
)";

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
  out << passed << " passed, " << failed << " failed\n";
  if (args->Has("fail-on-empty") && passed + failed == 0) {
    err << "healthscore test: no test case ran\n";
    return kExitFailure;
  }
  return failed > 0 || problems ? kExitFailure : kExitOk;
}

}  // namespace healthscore::cli
