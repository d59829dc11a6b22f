// The `--format json` output of `healthscore validate`, `lint` and `test`:
// one JSON object per run, for editors and CI (docs/cli.md, "Diagnostics as
// JSON", is the reference for its shape):
//
//   {"command":"validate","ok":false,
//    "diagnostics":[{"file":"m.yaml","line":3,"column":7,"severity":"error",
//                    "code":"model","message":"...","hint":"..."}],
//    "files":[{"file":"m.yaml","ok":false,"errors":1,"warnings":0}],
//    "summary":{"files":1,"failed":1,"errors":1,"warnings":0}}
//
// `line` and `column` are 1-based, 0 when unknown; `hint` is "" when there
// is none; `files[].model` and `files[].version` are present only for a
// model that compiled. `test` adds "passed" and "failed_cases" to the summary.
//
// Thread-safety: one report per thread.

#ifndef HEALTHSCORE_CLI_DIAGNOSTICS_JSON_H_
#define HEALTHSCORE_CLI_DIAGNOSTICS_JSON_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "engine/model/diagnostic.h"

namespace healthscore::cli {

// Help text for --format, to paste into a command's usage.
inline constexpr char kDiagnosticsFormatHelp[] =
    "  --format text|json    text (default): one finding per line; json: one\n"
    "                        JSON object with every diagnostic (file, line,\n"
    "                        column, severity, code, message, hint)\n";

// The `code` of a diagnostic: which stage of the check found it.
inline constexpr char kCodeModel[] = "model";        // YAML, schema, compile
inline constexpr char kCodeConfig[] = "config";      // repository config.yaml
inline constexpr char kCodeLint[] = "lint";          // lint findings
inline constexpr char kCodeTestFile[] = "test-file";  // a broken tests file
inline constexpr char kCodeTestFailed[] = "test-failed";  // a failed case
inline constexpr char kCodePath[] = "path";  // a PATH that is missing

// Whether --format asked for JSON. InvalidArgument naming the flag for a
// value other than "text" or "json".
absl::StatusOr<bool> WantsJson(const Args& args);

class DiagnosticsJson {
 public:
  explicit DiagnosticsJson(std::string command) : command_(std::move(command)) {}

  void Add(const engine::model::Diagnostic& d, std::string_view code);
  void AddAll(const engine::model::DiagnosticList& list, std::string_view code);
  // One checked file; `model`/`version` empty when it did not compile.
  void AddFile(std::string file, bool ok, int errors, int warnings,
               std::string model = "", std::string version = "");
  // For `test`: the cases that passed and failed.
  void SetCases(int passed, int failed) { cases_ = Cases{passed, failed}; }

  // The whole report, one line ending in '\n'; `ok` is the run's verdict
  // (exit code 0).
  std::string ToJson(bool ok) const;

 private:
  struct Item {
    engine::model::Diagnostic d;
    std::string code;
  };
  struct File {
    std::string file;
    bool ok;
    int errors;
    int warnings;
    std::string model;
    std::string version;
  };
  struct Cases {
    int passed;
    int failed;
  };
  std::string command_;
  std::vector<Item> items_;
  std::vector<File> files_;
  std::optional<Cases> cases_;
};

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_DIAGNOSTICS_JSON_H_
