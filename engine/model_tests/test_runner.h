// Test runner: the test cases of a model (`tests.yaml` beside `model.yaml`).
//
// A test file lists cases; each builds one account from `account` (the JSON
// Lines snapshot shape, in YAML) and states what scoring it must give under
// `expect`:
//
//   cases:
//     - name: healthy enterprise account
//       account: {id: a1, as_of: 2026-11-01, metrics: {dau_mau: 0.5}}
//       expect:
//         tier: green
//         score: 91.5              # within 0.01; null: no score at all
//         score_between: [85, 95]  # inclusive
//         coverage: 1.0            # within 0.01
//         playbooks: [expansion]   # exactly these, in priority order
//         playbooks_include: [expansion]
//         playbooks_exclude: [rescue]
//         groups: {usage: 90}      # each within 0.01
//         tier_changed: false
//         error: "no id"           # the account must fail with this text
//
// RunTestFile compiles the model once, scores every selected case in one
// batch and compares each `expect` key. A case fails on the first problem of
// each key, with one line per key in the form "<key>: expected X, got Y";
// for playbooks the line also names the missing and unexpected ids. An
// account that fails to build or score fails every case that does not expect
// `error`. Unknown keys (in a case, its account or its expect) and ids the
// model does not have (tiers, playbooks, groups) fail the case with a
// "did you mean". Problems with the file as a whole (YAML syntax, no
// `cases` list, a model that does not compile) are file errors and count as
// one failure per case (at least one).
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_MODEL_TESTS_TEST_RUNNER_H_
#define HEALTHSCORE_ENGINE_MODEL_TESTS_TEST_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/load_budget.h"
#include "engine/common/number_format.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/diagnostic.h"
#include "engine/plugin_host/plugin_host.h"

namespace healthscore::engine::model_tests {

struct TestRunOptions {
  // ECMAScript regular expression; only cases whose name contains a match
  // run (like `go test -run`). Empty runs every case.
  std::string name_filter;
  // Path of the model to test; empty means "model.yaml" beside the tests.
  std::string model_path;
  // Where the model's plugins are loaded from; may be null (see
  // CompileOptions). Must outlive the run.
  plugin_host::PluginHost* plugins = nullptr;
  // Bounds on reading the tests file and the model (as CompileOptions).
  common::YamlLimits yaml;
  // Checked while reading, per case and while compiling the model.
  common::LoadBudget budget;
  // How failure messages write numbers (the score got, the one expected);
  // the default is exact (shortest round-trip).
  common::NumberFormat numbers;
};

struct TestCaseResult {
  std::string name;
  model::SourceLocation location;  // the case in the tests file
  bool passed = false;
  // One line per failed expectation or problem with the case, e.g.
  // "tier: expected green, got yellow (score 72.4)".
  std::vector<std::string> failures;
};

struct TestFileResult {
  std::string tests_path;
  std::string model_path;
  // Problems with the file as a whole (see the file comment); when not
  // empty, `cases` holds no results.
  model::DiagnosticList file_errors;
  // Number of cases in the file that the filter selected (counted even when
  // a file error stopped them from running).
  int selected = 0;
  std::vector<TestCaseResult> cases;  // in file order, selected only

  int passed() const;
  // Failed cases; with file errors, every selected case (at least 1).
  int failed() const;
};

// Runs the cases of `tests_path`. Errors: NotFound when the tests file
// cannot be read; InvalidArgument for a bad name_filter; DeadlineExceeded
// or Cancelled when options.budget runs out. Everything else (including a
// file over options.yaml.max_bytes, an alias bomb or a recursive alias in
// it) is reported in the result as a file error.
absl::StatusOr<TestFileResult> RunTestFile(const std::string& tests_path,
                                           const TestRunOptions& options = {});

// Human-readable report of one file: a "--- FAIL: file:line: name" block
// with indented failure lines per failed case, file errors as diagnostics,
// and with `verbose` a "--- PASS: ..." line per passed case.
std::string FormatTestFileResult(const TestFileResult& result, bool verbose);

}  // namespace healthscore::engine::model_tests

#endif  // HEALTHSCORE_ENGINE_MODEL_TESTS_TEST_RUNNER_H_
