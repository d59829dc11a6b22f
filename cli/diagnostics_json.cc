#include "cli/diagnostics_json.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/json_writer.h"

namespace healthscore::cli {

absl::StatusOr<bool> WantsJson(const Args& args) {
  const std::string format = args.Get("format", "text");
  if (format == "text") return false;
  if (format == "json") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("--format must be text or json, got \"", format, "\""));
}

void DiagnosticsJson::Add(const engine::model::Diagnostic& d,
                          std::string_view code) {
  items_.push_back(Item{d, std::string(code)});
}

void DiagnosticsJson::AddAll(const engine::model::DiagnosticList& list,
                             std::string_view code) {
  for (const engine::model::Diagnostic& d : list.items()) Add(d, code);
}

void DiagnosticsJson::AddFile(std::string file, bool ok, int errors,
                              int warnings, std::string model,
                              std::string version) {
  files_.push_back(File{std::move(file), ok, errors, warnings,
                        std::move(model), std::move(version)});
}

std::string DiagnosticsJson::ToJson(bool ok) const {
  engine::common::JsonWriter j;
  j.Open('{');
  j.StringField("command", command_);
  j.Key("ok");
  j.Bool(ok);
  j.Key("diagnostics");
  j.Open('[');
  int errors = 0;
  int warnings = 0;
  for (const Item& item : items_) {
    const bool is_error = item.d.severity == engine::model::Severity::kError;
    (is_error ? errors : warnings) += 1;
    j.Open('{');
    j.StringField("file", item.d.location.file);
    j.IntField("line", item.d.location.line);
    j.IntField("column", item.d.location.column);
    j.StringField("severity", is_error ? "error" : "warning");
    j.StringField("code", item.code);
    j.StringField("message", item.d.message);
    j.StringField("hint", item.d.hint);
    j.Close('}');
  }
  j.Close(']');
  j.Key("files");
  j.Open('[');
  int failed = 0;
  for (const File& f : files_) {
    if (!f.ok) ++failed;
    j.Open('{');
    j.StringField("file", f.file);
    j.Key("ok");
    j.Bool(f.ok);
    j.IntField("errors", f.errors);
    j.IntField("warnings", f.warnings);
    if (!f.model.empty()) {
      j.StringField("model", f.model);
      j.StringField("version", f.version);
    }
    j.Close('}');
  }
  j.Close(']');
  j.Key("summary");
  j.Open('{');
  j.IntField("files", static_cast<int64_t>(files_.size()));
  j.IntField("failed", failed);
  // Counted from the files when they say more than the kept diagnostics (a
  // DiagnosticList keeps at most kMaxKept; its counts cover all).
  int file_errors = 0;
  int file_warnings = 0;
  for (const File& f : files_) {
    file_errors += f.errors;
    file_warnings += f.warnings;
  }
  j.IntField("errors", std::max(errors, file_errors));
  j.IntField("warnings", std::max(warnings, file_warnings));
  if (cases_) {
    j.IntField("passed", cases_->passed);
    j.IntField("failed_cases", cases_->failed);
  }
  j.Close('}');
  j.Close('}');
  std::string out = j.Take();
  out.push_back('\n');
  return out;
}

}  // namespace healthscore::cli
