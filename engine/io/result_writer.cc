// Result writers.
//
// Formatting is done by hand into one growing string per batch: rows are
// small, numerous and regular, so a JSON library's DOM would cost more than
// it brings. Strings and numbers are written by engine/common/json_text.h,
// so every line is valid JSON (invalid UTF-8 in CSV input becomes U+FFFD).

#include "engine/io/result_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "engine/common/json_text.h"
#include "engine/common/number_format.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/eval/explain.h"
#include "engine/eval/outcome.h"

namespace healthscore::engine::io {

using common::AppendJsonNumber;
using common::AppendJsonString;
using common::Cat;
using common::NumberFormat;
using eval::Batch;
using eval::BatchResult;
using eval::FillRowOutcome;
using eval::RowOutcome;
using model::CompiledModel;
using model::GroupInfo;

namespace {

using common::Cat;

constexpr size_t kFlushBytes = size_t{1} << 20;

// As AppendJsonNumber, for a CSV cell: a non-finite value is an empty cell,
// as a missing one.
void AppendCsvNumber(double value, NumberFormat format, std::string* out) {
  if (std::isfinite(value)) common::AppendNumber(value, out, format);
}

// "key": with the comma that separates it from the previous member.
template <typename Out>
void Key(std::string_view key, bool* first, Out* out) {
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('"');
  out->append(key.data(), key.size());
  out->append("\":");
}


// What a renderer reuses from row to row while it renders one call's rows:
// the outcome and scratch texts. One per Render call, so a renderer stays
// read-only and may render on several threads at once.
struct RowScratch {
  RowOutcome outcome;
  std::string text;
  std::string line;  // a CSV line rendered for a TextBuffer
  // A JSON row is written here in its forty-odd pieces, then appended to
  // the output at once (text_buffer.h says why).
  common::TextBuffer row;
};

// The JSON Lines rendering of a RowOutcome. Per batch, it escapes once what
// every row repeats: the model stamp, tier ids, group keys, and each
// playbook's fixed members up to and including its condition text, the
// start of its reason.
class JsonRowFormatter {
 public:
  // `masked`: OutcomeOptions::masked (decision records); must outlive the
  // formatter.
  JsonRowFormatter(const Batch& batch, const BatchResult& result,
                   const WriterOptions& options, int64_t repository_version = 0,
                   const std::vector<std::string>* masked = nullptr)
      : batch_(batch), result_(result), options_(options) {
    outcome_options_.masked = masked;
    outcome_options_.numbers = options.numbers;
    outcome_options_.reasons = true;
    outcome_options_.explain = options.explain;
    outcome_options_.top_drivers = options.top_drivers;
    const CompiledModel& model = result.model();
    model_json_ = ",\"model\":{\"name\":";
    AppendJsonString(model.name(), &model_json_);
    model_json_.append(",\"version\":");
    AppendJsonString(model.version(), &model_json_);
    model_json_.append(",\"hash\":");
    AppendJsonString(model.hash(), &model_json_);
    if (repository_version > 0) {
      model_json_.append(",\"repository_version\":");
      model_json_.append(std::to_string(repository_version));
    }
    model_json_.append("}");
    for (int t = -1; t < static_cast<int>(model.tiers().size()); ++t) {
      std::string& tier = tier_json_.emplace_back(",\"tier\":");
      AppendJsonString(model.TierId(t), &tier);
      tier.append(",\"coverage\":");
    }
    for (const GroupInfo& g : model.groups()) {
      std::string& key = group_key_json_.emplace_back(",\"");
      key.append(g.id);  // an identifier: nothing to escape
      key.append("\":");
    }
    for (const model::PlaybookInfo& info : model.playbooks()) {
      std::string& head = playbook_json_.emplace_back(",{\"id\":");
      AppendJsonString(info.id, &head);
      head.append(",\"name\":");
      AppendJsonString(info.name, &head);
      head.append(",\"owner\":");
      AppendJsonString(info.owner, &head);
      head.append(",\"priority\":");
      head.append(std::to_string(info.priority));
      head.append(",\"reason\":\"");
      common::AppendJsonEscaped(info.when, &head);
    }
  }

  // Appends the object of `row` (no line break), filling scratch->outcome.
  // Out is std::string or common::TextBuffer.
  template <typename Out>
  void Append(size_t row, RowScratch* scratch, Out* out) const {
    AppendOpen(row, {}, scratch, out);
    out->push_back('}');
  }
  // The object of `row` without its closing brace, `lead` (JSON members)
  // first, for a caller that adds members after the model stamp. Returns
  // whether the row scored (an ok outcome).
  bool AppendOpen(size_t row, std::string_view lead, RowScratch* scratch,
                  std::string* out) const;
  // The same, written in place.
  bool AppendOpen(size_t row, std::string_view lead, RowScratch* scratch,
                  common::TextBuffer* out) const {
    FillRowOutcome(batch_, result_, row, outcome_options_, &scratch->outcome);
    return WriteOpen(lead, scratch->outcome, out);
  }

 private:
  bool WriteOpen(std::string_view lead, const RowOutcome& o,
                 common::TextBuffer* out) const;
  void AppendExplanation(const eval::Explanation& e,
                         common::TextBuffer* out) const;

  const Batch& batch_;
  const BatchResult& result_;
  const WriterOptions& options_;
  eval::OutcomeOptions outcome_options_;
  std::string model_json_;  // ,"model":{...} before the row's closing brace
  // ,"tier":"<id>","coverage": by tier + 1 (insufficient_data first).
  std::vector<std::string> tier_json_;
  std::vector<std::string> group_key_json_;  // ,"<id>": by group
  // ,{"id":...,"reason":"<escaped when> by playbook; the row's values and
  // the closing quote follow.
  std::vector<std::string> playbook_json_;
};

bool JsonRowFormatter::AppendOpen(size_t row, std::string_view lead,
                                  RowScratch* scratch,
                                  std::string* out) const {
  RowOutcome& o = scratch->outcome;
  FillRowOutcome(batch_, result_, row, outcome_options_, &o);
  common::TextBuffer& text = scratch->row;
  text.clear();
  const bool ok = WriteOpen(lead, o, &text);
  out->append(text.view().data(), text.size());
  return ok;
}

bool JsonRowFormatter::WriteOpen(std::string_view lead, const RowOutcome& o,
                                 common::TextBuffer* out) const {
  out->push_back('{');
  if (!lead.empty()) {
    out->append(lead.data(), lead.size());
    out->push_back(',');
  }
  out->append("\"id\":");
  AppendJsonString(o.id(), out);
  if (!o.ok()) {
    out->append(",\"status\":\"error\",\"error\":");
    AppendJsonString(o.error(), out);
    out->append(model_json_);
    return false;
  }
  if (o.has_score()) {
    out->append(",\"status\":\"ok\",\"score\":");
    AppendJsonNumber(o.score(), options_.numbers, out);
  } else {
    out->append(",\"status\":\"ok\"");
  }
  const int tier = o.tier();
  if (tier >= -1 && tier + 1 < static_cast<int>(tier_json_.size())) {
    out->append(tier_json_[static_cast<size_t>(tier + 1)]);
  } else {
    out->append(",\"tier\":");
    AppendJsonString(o.tier_id(), out);
    out->append(",\"coverage\":");
  }
  AppendJsonNumber(o.coverage(), options_.numbers, out);

  out->append(",\"groups\":{");
  for (size_t i = 0; i < o.groups().size(); ++i) {
    const eval::GroupOutcome& g = o.groups()[i];
    const std::string& key = group_key_json_[static_cast<size_t>(g.group)];
    // The key's leading comma separates it from the previous member.
    out->append(std::string_view(key).substr(i == 0 ? 1 : 0));
    AppendJsonNumber(g.score, options_.numbers, out);
  }
  out->append("},\"playbooks\":[");
  for (size_t i = 0; i < o.playbooks().size(); ++i) {
    const eval::PlaybookOutcome& p = o.playbooks()[i];
    const std::string& head = playbook_json_[static_cast<size_t>(p.playbook)];
    out->append(std::string_view(head).substr(i == 0 ? 1 : 0));
    // The reason's condition text is in the head, escaped once per batch.
    common::AppendJsonEscaped(p.reason_values, out);
    if (!p.has_success) {
      out->append("\"}");
    } else {
      out->append(p.succeeded ? "\",\"success\":true}"
                              : "\",\"success\":false}");
    }
  }
  out->push_back(']');

  if (o.has_delta()) {
    out->append(",\"delta\":");
    AppendJsonNumber(o.delta(), options_.numbers, out);
  }
  if (o.show_tier_change()) {
    out->append(o.tier_changed() ? ",\"tier_changed\":true"
                                 : ",\"tier_changed\":false");
    out->append(o.tier_held() ? ",\"tier_held\":true"
                              : ",\"tier_held\":false");
  }
  if (!o.warnings().empty()) {
    out->append(",\"warnings\":[");
    for (size_t i = 0; i < o.warnings().size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString(o.warnings()[i], out);
    }
    out->push_back(']');
  }
  if (o.explanation() != nullptr) AppendExplanation(*o.explanation(), out);
  out->append(model_json_);
  return true;
}

void JsonRowFormatter::AppendExplanation(const eval::Explanation& e,
                                         common::TextBuffer* out) const {
  const CompiledModel& model = result_.model();
  out->append(",\"explanation\":{\"signals\":[");
  for (size_t i = 0; i < e.signals.size(); ++i) {
    const eval::SignalExplanation& s = e.signals[i];
    if (i > 0) out->push_back(',');
    bool first = true;
    out->push_back('{');
    Key("id", &first, out);
    AppendJsonString(model.signals()[s.signal].id, out);
    if (!std::isnan(s.raw) && std::isfinite(s.raw)) {
      Key("raw", &first, out);
      AppendJsonNumber(s.raw, options_.numbers, out);
    }
    if (s.present) {
      Key("score", &first, out);
      AppendJsonNumber(s.score, options_.numbers, out);
    }
    Key("weight", &first, out);
    AppendJsonNumber(s.weight, options_.numbers, out);
    Key("effective_weight", &first, out);
    AppendJsonNumber(s.effective_weight, options_.numbers, out);
    if (s.present) {
      Key("points", &first, out);
      AppendJsonNumber(s.points, options_.numbers, out);
      Key("points_lost", &first, out);
      AppendJsonNumber(s.points_lost, options_.numbers, out);
    }
    Key("present", &first, out);
    out->append(s.present ? "true" : "false");
    out->push_back('}');
  }
  out->append("],\"top_drivers\":[");
  for (size_t i = 0; i < e.top_drivers.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(model.signals()[e.top_drivers[i]].id, out);
  }
  out->append("],\"missing\":[");
  for (size_t i = 0; i < e.missing_signals.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(model.signals()[e.missing_signals[i]].id, out);
  }
  out->append("],\"tier_rule\":");
  AppendJsonString(e.tier_rule, out);
  out->push_back('}');
}

// The CSV rendering of a RowOutcome: which of its model's groups each group
// column holds, and the cells naming the model when the output has them.
class CsvRowFormatter {
 public:
  // `groups`: the ids of the header's group columns, in order.
  CsvRowFormatter(const Batch& batch, const BatchResult& result,
                  const std::vector<std::string>& groups, bool model_columns,
                  int64_t repository_version, NumberFormat numbers)
      : batch_(batch), result_(result), numbers_(numbers) {
    outcome_options_.numbers = numbers;
    outcome_options_.reasons = false;  // CSV has no reason column
    const std::vector<GroupInfo>& own = result.model().groups();
    group_of_column_.assign(groups.size(), -1);
    size_t placed = 0;
    for (size_t c = 0; c < groups.size(); ++c) {
      for (size_t g = 0; g < own.size(); ++g) {
        if (own[g].id != groups[c]) continue;
        group_of_column_[c] = static_cast<int>(g);
        ++placed;
        break;
      }
    }
    if (placed < own.size()) {
      for (const GroupInfo& g : own) {
        if (std::find(groups.begin(), groups.end(), g.id) != groups.end()) {
          continue;
        }
        status_ = absl::FailedPreconditionError(Cat(
            "CSV output: group '", g.id, "' of model '", result.model().name(),
            "' has no column; the header was written for the groups of "
            "other models"));
        break;
      }
    }
    if (model_columns) {
      model_cells_.push_back(',');
      AppendCsvCell(result.model().name(), &model_cells_);
      model_cells_.push_back(',');
      if (repository_version > 0) {
        model_cells_.append(std::to_string(repository_version));
      }
    }
  }

  // FailedPrecondition when the model has a group the header lacks.
  const absl::Status& status() const { return status_; }

  // Appends the line of `row` (with "\n"), filling scratch->outcome.
  void Append(size_t row, RowScratch* scratch, std::string* out) const;

 private:
  const Batch& batch_;
  const BatchResult& result_;
  const NumberFormat numbers_;
  eval::OutcomeOptions outcome_options_;
  std::vector<int> group_of_column_;  // the model's group, or -1
  std::string model_cells_;           // empty, or ",name,version"
  absl::Status status_;
};

void CsvRowFormatter::Append(size_t row, RowScratch* scratch,
                             std::string* out) const {
  RowOutcome& o = scratch->outcome;
  FillRowOutcome(batch_, result_, row, outcome_options_, &o);
  const CompiledModel& model = o.model();
  AppendCsvCell(o.id(), out);
  if (!o.ok()) {
    out->append(",error,");
    AppendCsvCell(o.error(), out);
    // score, tier, coverage, groups..., playbooks, delta, tier_changed
    out->append(group_of_column_.size() + 6, ',');
    out->append(model_cells_);
    out->append(",\n");  // no warnings: the error says it all
    return;
  }
  out->append(",ok,,");
  if (o.has_score()) AppendCsvNumber(o.score(), numbers_, out);
  out->push_back(',');
  AppendCsvCell(o.tier_id(), out);
  out->push_back(',');
  AppendCsvNumber(o.coverage(), numbers_, out);
  for (int g : group_of_column_) {
    out->push_back(',');
    // A model has a handful of groups: a scan beats an index per row.
    for (const eval::GroupOutcome& present : o.groups()) {
      if (present.group != g) continue;
      AppendCsvNumber(present.score, numbers_, out);
      break;
    }
  }
  out->push_back(',');
  if (!o.playbooks().empty()) {
    std::string& ids = scratch->text;
    ids.clear();
    for (const eval::PlaybookOutcome& p : o.playbooks()) {
      if (!ids.empty()) ids.push_back(';');
      ids.append(model.playbooks()[p.playbook].id);
    }
    AppendCsvCell(ids, out);
  }
  out->push_back(',');
  if (o.has_delta()) AppendCsvNumber(o.delta(), numbers_, out);
  out->push_back(',');
  if (o.show_tier_change()) out->append(o.tier_changed() ? "true" : "false");
  out->append(model_cells_);
  out->push_back(',');
  if (!o.warnings().empty()) {
    std::string& joined = scratch->text;
    joined.clear();
    for (size_t i = 0; i < o.warnings().size(); ++i) {
      if (i > 0) joined.append(" | ");
      joined.append(o.warnings()[i]);
    }
    AppendCsvCell(joined, out);
  }
  out->push_back('\n');
}

std::vector<std::string> GroupIds(const CompiledModel& model) {
  std::vector<std::string> ids;
  for (const GroupInfo& g : model.groups()) ids.push_back(g.id);
  return ids;
}

std::string CsvHeaderFor(const std::vector<std::string>& groups,
                         bool model_columns) {
  std::string out = "id,status,error,score,tier,coverage";
  for (const std::string& g : groups) {
    out.push_back(',');
    AppendCsvCell(g, &out);
  }
  out.append(",playbooks,delta,tier_changed");
  if (model_columns) out.append(",model,repository_version");
  out.append(",warnings\n");
  return out;
}

// ---------------------------------------------------------------------------
// Sinks.

class FdSink : public ByteSink {
 public:
  FdSink(int fd, bool owned, std::string path)
      : fd_(fd), owned_(owned), path_(std::move(path)) {}
  ~FdSink() override {
    if (owned_ && fd_ >= 0) close(fd_);
  }

  absl::Status Write(std::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError("sink is closed");
    while (!data.empty()) {
      ssize_t n = write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::DataLossError(
            Cat("cannot write ", path_, ": ", std::strerror(errno)));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int fd = fd_;
    fd_ = -1;
    if (owned_ && close(fd) != 0) {
      return absl::DataLossError(
          Cat("cannot write ", path_, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

 private:
  int fd_;
  bool owned_;
  std::string path_;
};

class StringByteSink : public ByteSink {
 public:
  explicit StringByteSink(std::string* out) : out_(out) {}
  absl::Status Write(std::string_view data) override {
    out_->append(data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  std::string* out_;
};

}  // namespace

void AppendCsvCell(std::string_view cell, std::string* out) {
  bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) {
    out->append(cell.data(), cell.size());
    return;
  }
  out->push_back('"');
  for (char c : cell) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name) {
  std::string lower(name);
  absl::AsciiStrToLower(&lower);
  if (lower == "jsonl" || lower == "ndjson" || lower == "json") {
    return OutputFormat::kJsonLines;
  }
  if (lower == "csv") return OutputFormat::kCsv;
  return absl::InvalidArgumentError(
      Cat("unknown output format \"", name, "\" (expected jsonl or csv)"));
}

OutputFormat OutputFormatFromPath(std::string_view path) {
  if (path.size() >= 4) {
    std::string ext(path.substr(path.size() - 4));
    absl::AsciiStrToLower(&ext);
    if (ext == ".csv") return OutputFormat::kCsv;
  }
  return OutputFormat::kJsonLines;
}

void AppendJsonResult(const Batch& batch, const BatchResult& result, size_t row,
                      const WriterOptions& options, std::string* out) {
  RowScratch scratch;
  JsonRowFormatter(batch, result, options).Append(row, &scratch, out);
}

std::string CsvHeader(const CompiledModel& model) {
  return CsvHeaderFor(GroupIds(model), /*model_columns=*/false);
}

void AppendCsvResult(const Batch& batch, const BatchResult& result, size_t row,
                     std::string* out, NumberFormat numbers) {
  RowScratch scratch;
  CsvRowFormatter(batch, result, GroupIds(result.model()),
                  /*model_columns=*/false, 0, numbers)
      .Append(row, &scratch, out);
}

absl::StatusOr<std::unique_ptr<ByteSink>> OpenFileSink(
    const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<ByteSink>(
        new FdSink(STDOUT_FILENO, /*owned=*/false, "standard output"));
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    int err = errno;
    std::string message = Cat("cannot create ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES || err == EROFS) {
      return absl::PermissionDeniedError(message);
    }
    if (err == EISDIR) return absl::FailedPreconditionError(message);
    return absl::UnavailableError(message);
  }
  return std::unique_ptr<ByteSink>(new FdSink(fd, /*owned=*/true, path));
}

std::unique_ptr<ByteSink> StringSink(std::string* out) {
  return std::make_unique<StringByteSink>(out);
}

ResultRenderer::ResultRenderer(OutputFormat format,
                               const WriterOptions& options,
                               const CompiledModel& first_model)
    : format_(format), options_(options) {
  if (format_ != OutputFormat::kCsv) return;
  const bool model_columns = !options_.csv_models.empty();
  if (model_columns) {
    for (const auto& m : options_.csv_models) {
      for (const GroupInfo& g : m->groups()) {
        if (std::find(csv_groups_.begin(), csv_groups_.end(), g.id) ==
            csv_groups_.end()) {
          csv_groups_.push_back(g.id);
        }
      }
    }
  } else {
    csv_groups_ = GroupIds(first_model);
  }
  header_ = CsvHeaderFor(csv_groups_, model_columns);
}

absl::Status ResultRenderer::Render(const Batch& batch,
                                    const BatchResult& result,
                                    std::string* out) const {
  return RenderBatch(batch, result, out, nullptr);
}

absl::Status ResultRenderer::Render(
    const std::vector<ScoredPart>& parts,
    const std::vector<std::pair<uint32_t, uint32_t>>& order,
    std::string* out) const {
  return RenderParts(parts, order, out, nullptr);
}

absl::Status ResultRenderer::Render(const Batch& batch,
                                    const BatchResult& result,
                                    common::TextBuffer* out) const {
  return RenderBatch(batch, result, out, nullptr);
}

absl::Status ResultRenderer::Render(
    const std::vector<ScoredPart>& parts,
    const std::vector<std::pair<uint32_t, uint32_t>>& order,
    common::TextBuffer* out) const {
  return RenderParts(parts, order, out, nullptr);
}

namespace {

// A CSV line onto either kind of output: a TextBuffer gets it through the
// scratch line (CSV rows are written as a std::string).
void AppendCsvRow(const CsvRowFormatter& formatter, size_t row,
                  RowScratch* scratch, std::string* out) {
  formatter.Append(row, scratch, out);
}
void AppendCsvRow(const CsvRowFormatter& formatter, size_t row,
                  RowScratch* scratch, common::TextBuffer* out) {
  scratch->line.clear();
  formatter.Append(row, scratch, &scratch->line);
  out->append(scratch->line);
}

}  // namespace

template <typename Out>
absl::Status ResultRenderer::RenderBatch(
    const Batch& batch, const BatchResult& result, Out* out,
    const std::function<absl::Status()>* after_row) const {
  RowScratch scratch;
  if (format_ == OutputFormat::kCsv) {
    CsvRowFormatter formatter(batch, result, csv_groups_,
                              !options_.csv_models.empty(), 0,
                              options_.numbers);
    HEALTHSCORE_RETURN_IF_ERROR(formatter.status());
    for (size_t row = 0; row < result.size(); ++row) {
      AppendCsvRow(formatter, row, &scratch, out);
      if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
    }
    return absl::OkStatus();
  }
  JsonRowFormatter formatter(batch, result, options_);
  for (size_t row = 0; row < result.size(); ++row) {
    formatter.Append(row, &scratch, out);
    out->push_back('\n');
    if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
  }
  return absl::OkStatus();
}

template <typename Out>
absl::Status ResultRenderer::RenderParts(
    const std::vector<ScoredPart>& parts,
    const std::vector<std::pair<uint32_t, uint32_t>>& order, Out* out,
    const std::function<absl::Status()>* after_row) const {
  for (const auto& [part, row] : order) {
    if (part >= parts.size() || row >= parts[part].result->size()) {
      return absl::InvalidArgumentError(
          Cat("no row ", row, " in part ", part, " of ", parts.size()));
    }
  }
  if (parts.empty()) return absl::OkStatus();
  RowScratch scratch;
  if (format_ == OutputFormat::kCsv) {
    std::vector<CsvRowFormatter> formatters;
    formatters.reserve(parts.size());
    for (const ScoredPart& p : parts) {
      formatters.emplace_back(*p.batch, *p.result, csv_groups_,
                              !options_.csv_models.empty(),
                              p.repository_version, options_.numbers);
      HEALTHSCORE_RETURN_IF_ERROR(formatters.back().status());
    }
    for (const auto& [part, row] : order) {
      AppendCsvRow(formatters[part], row, &scratch, out);
      if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
    }
    return absl::OkStatus();
  }
  std::vector<JsonRowFormatter> formatters;
  formatters.reserve(parts.size());
  for (const ScoredPart& p : parts) {
    formatters.emplace_back(*p.batch, *p.result, options_,
                            p.repository_version);
  }
  for (const auto& [part, row] : order) {
    formatters[part].Append(row, &scratch, out);
    out->push_back('\n');
    if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
  }
  return absl::OkStatus();
}

ResultWriter::ResultWriter(std::unique_ptr<ByteSink> sink, OutputFormat format,
                           const WriterOptions& options)
    : sink_(std::move(sink)),
      format_(format),
      options_(options),
      flush_([this] { return FlushIfLarge(); }) {}

ResultWriter::~ResultWriter() {
  if (!closed_) Close().IgnoreError();
}

const ResultRenderer& ResultWriter::Renderer(const CompiledModel& first_model) {
  if (renderer_ == nullptr) {
    renderer_ =
        std::make_unique<ResultRenderer>(format_, options_, first_model);
    buffer_.append(renderer_->header());
  }
  return *renderer_;
}

absl::Status ResultWriter::Write(const Batch& batch,
                                 const BatchResult& result) {
  if (closed_) return absl::FailedPreconditionError("writer is closed");
  return Renderer(result.model()).RenderBatch(batch, result, &buffer_, &flush_);
}

absl::Status ResultWriter::Write(
    const std::vector<ScoredPart>& parts,
    const std::vector<std::pair<uint32_t, uint32_t>>& order) {
  if (closed_) return absl::FailedPreconditionError("writer is closed");
  for (const auto& [part, row] : order) {
    if (part >= parts.size() || row >= parts[part].result->size()) {
      return absl::InvalidArgumentError(
          Cat("no row ", row, " in part ", part, " of ", parts.size()));
    }
  }
  if (parts.empty()) return absl::OkStatus();
  return Renderer(parts[0].result->model())
      .RenderParts(parts, order, &buffer_, &flush_);
}

absl::Status ResultWriter::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status s = buffer_.empty() ? absl::OkStatus() : sink_->Write(buffer_);
  buffer_.clear();
  absl::Status c = sink_->Close();
  return s.ok() ? c : s;
}

absl::Status ResultWriter::FlushIfLarge() {
  if (buffer_.size() < kFlushBytes) return absl::OkStatus();
  absl::Status s = sink_->Write(buffer_);
  buffer_.clear();
  return s;
}

absl::StatusOr<std::unique_ptr<ResultWriter>> OpenResultWriter(
    const std::string& path, OutputFormat format,
    const WriterOptions& options) {
  auto sink = OpenFileSink(path);
  if (!sink.ok()) return sink.status();
  return std::make_unique<ResultWriter>(*std::move(sink), format, options);
}

// ---------------------------------------------------------------------------
// Decision records.

// The inputs of a record, planned once per batch: for each section of the
// snapshot format, its inputs with their keys escaped and whether each is
// masked.
struct DecisionRecordRenderer::Impl {
  struct Input {
    int input = -1;
    std::string key;  // "<id>": (an identifier: nothing to escape)
    bool masked = false;
  };
  struct Section {
    std::string key;  // "metrics":{
    std::vector<Input> inputs;
  };

  Impl(const Batch& batch, const BatchResult& result,
       const WriterOptions& options, const std::vector<std::string>& mask,
       int64_t repository_version)
      : batch(batch),
        numbers(options.numbers),
        options(options),
        mask(WithImplied(mask)),
        formatter(batch, result, this->options, repository_version,
                  &this->mask) {
    auto masked = [&mask](std::string_view id) {
      return std::find(mask.begin(), mask.end(), id) != mask.end();
    };
    as_of_masked = masked("as_of");
    previous_score_masked = masked("previous_score");
    previous_tier_masked = masked("previous_tier");
    const model::InputType order[] = {
        model::InputType::kNumber, model::InputType::kString,
        model::InputType::kDate, model::InputType::kSeries};
    const std::vector<model::InputInfo>& inputs = batch.model().inputs();
    for (model::InputType type : order) {
      Section section;
      section.key = Cat("\"", model::InputSectionName(type), "\":{");
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (inputs[i].type != type) continue;
        section.inputs.push_back(
            Input{static_cast<int>(i), Cat("\"", inputs[i].id, "\":"),
                  masked(inputs[i].id)});
      }
      if (!section.inputs.empty()) sections.push_back(std::move(section));
    }
  }

  // `mask` and the names of conditions that give a masked value away:
  // score_delta for previous_score, tier_changed for previous_tier.
  static std::vector<std::string> WithImplied(std::vector<std::string> mask) {
    auto has = [&mask](std::string_view id) {
      return std::find(mask.begin(), mask.end(), id) != mask.end();
    };
    if (has("previous_score")) mask.emplace_back("score_delta");
    if (has("previous_tier")) mask.emplace_back("tier_changed");
    return mask;
  }

  // Whether `input` has a value in `row`.
  bool Present(const model::InputInfo& info, size_t row) const {
    switch (info.type) {
      case model::InputType::kNumber:
      case model::InputType::kDate:
        return batch.number_valid(info.column)[row] != 0;
      case model::InputType::kString:
        return batch.string_codes(info.column)[row] != model::kMissingString;
      case model::InputType::kSeries:
        return batch.series_valid(info.column)[row] != 0;
    }
    return false;
  }

  void AppendValue(const model::InputInfo& info, size_t row,
                   std::string* out) const {
    switch (info.type) {
      case model::InputType::kNumber:
        AppendJsonNumber(batch.number(info.column)[row], numbers, out);
        return;
      case model::InputType::kDate:
        out->push_back('"');
        eval::AppendIsoDate(batch.number(info.column)[row], out);
        out->push_back('"');
        return;
      case model::InputType::kString:
        AppendJsonString(batch.string_text(info.column, row), out);
        return;
      case model::InputType::kSeries: {
        const uint32_t* offsets = batch.series_offsets(info.column);
        const double* values = batch.series_values(info.column);
        out->push_back('[');
        for (uint32_t i = offsets[row]; i < offsets[row + 1]; ++i) {
          if (i > offsets[row]) out->push_back(',');
          AppendJsonNumber(values[i], numbers, out);
        }
        out->push_back(']');
        return;
      }
    }
  }

  void AppendInputs(size_t row, std::string* out) const {
    const model::CompiledModel& model = batch.model();
    out->append(",\"inputs\":{");
    bool first = true;
    if (batch.as_of_valid()[row] != 0) {
      Key("as_of", &first, out);
      if (as_of_masked) {
        AppendJsonString(eval::kMaskedValue, out);
      } else {
        out->push_back('"');
        eval::AppendIsoDate(batch.as_of()[row], out);
        out->push_back('"');
      }
    }
    for (const Section& section : sections) {
      bool opened = false;
      for (const Input& input : section.inputs) {
        const model::InputInfo& info =
            model.inputs()[static_cast<size_t>(input.input)];
        if (!Present(info, row)) continue;
        if (!opened) {
          if (!first) out->push_back(',');
          first = false;
          out->append(section.key);
          opened = true;
        } else {
          out->push_back(',');
        }
        out->append(input.key);
        if (input.masked) {
          AppendJsonString(eval::kMaskedValue, out);
        } else {
          AppendValue(info, row, out);
        }
      }
      if (opened) out->push_back('}');
    }
    if (batch.previous_score_valid()[row] != 0) {
      Key("previous_score", &first, out);
      if (previous_score_masked) {
        AppendJsonString(eval::kMaskedValue, out);
      } else {
        AppendJsonNumber(batch.previous_score()[row], numbers, out);
      }
    }
    const int32_t tier = batch.previous_tier()[row];
    const int32_t tiers = static_cast<int32_t>(model.tiers().size());
    if (tier >= 0 && tier <= tiers) {
      Key("previous_tier", &first, out);
      if (previous_tier_masked) {
        AppendJsonString(eval::kMaskedValue, out);
      } else {
        AppendJsonString(
            model.TierId(tier == tiers ? model::kInsufficientDataTier : tier),
            out);
      }
    }
    out->push_back('}');
  }

  const Batch& batch;
  NumberFormat numbers;
  const WriterOptions options;  // the formatter keeps a reference
  const std::vector<std::string> mask;  // and a pointer
  JsonRowFormatter formatter;
  RowScratch scratch;
  std::vector<Section> sections;
  bool as_of_masked = false;
  bool previous_score_masked = false;
  bool previous_tier_masked = false;
};

DecisionRecordRenderer::DecisionRecordRenderer(
    const Batch& batch, const BatchResult& result, const WriterOptions& options,
    const std::vector<std::string>& mask, int64_t repository_version)
    : impl_(std::make_unique<Impl>(batch, result, options, mask,
                                   repository_version)) {}

DecisionRecordRenderer::~DecisionRecordRenderer() = default;

void DecisionRecordRenderer::Append(size_t row, std::string_view lead,
                                    std::string* out) {
  if (impl_->formatter.AppendOpen(row, lead, &impl_->scratch, out)) {
    impl_->AppendInputs(row, out);
  }
  out->append("}\n");
}

}  // namespace healthscore::engine::io
