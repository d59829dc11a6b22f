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
#include "absl/strings/str_join.h"
#include "engine/common/json_text.h"
#include "engine/common/number_format.h"
#include "engine/common/status_macros.h"
#include "engine/eval/explain.h"
#include "engine/common/strings.h"

namespace healthscore::engine::io {
namespace {

using io_internal::Cat;

constexpr size_t kFlushBytes = size_t{1} << 20;

// As AppendJsonNumber, for a CSV cell: a non-finite value is an empty cell,
// as a missing one.
void AppendCsvNumber(double value, NumberFormat format, std::string* out) {
  if (std::isfinite(value)) AppendNumber(value, out, format);
}

// "key": with the comma that separates it from the previous member.
void Key(std::string_view key, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('"');
  out->append(key.data(), key.size());
  out->append("\":");
}

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

// Per-batch state shared by the rows of one batch: the model stamp and which
// rows have warnings.
class JsonRowFormatter {
 public:
  JsonRowFormatter(const Batch& batch, const BatchResult& result,
                   const WriterOptions& options, int64_t repository_version = 0)
      : batch_(batch), result_(result), options_(options) {
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
    model_json_.append("}}");
    // What every row repeats is escaped once per batch.
    for (int t = -1; t < static_cast<int>(model.tiers().size()); ++t) {
      tier_json_.emplace_back();
      AppendJsonString(model.TierId(t), &tier_json_.back());
    }
    for (const PlaybookInfo& info : model.playbooks()) {
      std::string& head = playbook_json_.emplace_back("{\"id\":");
      AppendJsonString(info.id, &head);
      head.append(",\"name\":");
      AppendJsonString(info.name, &head);
      head.append(",\"owner\":");
      AppendJsonString(info.owner, &head);
      head.append(",\"priority\":");
      head.append(std::to_string(info.priority));
      head.append(",\"reason\":");
    }
    if (!options.explain && (!batch.range_warnings().empty() ||
                             !batch.value_warnings().empty())) {
      has_warning_.assign(batch.size(), 0);
      for (const RangeWarning& w : batch.range_warnings()) {
        if (w.row < has_warning_.size()) has_warning_[w.row] = 1;
      }
      for (const ValueWarning& w : batch.value_warnings()) {
        if (w.row < has_warning_.size()) has_warning_[w.row] = 1;
      }
    }
  }

  void Append(size_t row, std::string* out) const;

 private:
  void AppendExplanation(const Explanation& e, std::string* out) const;

  const Batch& batch_;
  const BatchResult& result_;
  const WriterOptions& options_;
  std::string model_json_;
  // The JSON string of each tier id, insufficient data (-1) first.
  std::vector<std::string> tier_json_;
  // Each playbook's object up to its reason: {"id":...,"reason":
  std::vector<std::string> playbook_json_;
  std::vector<uint8_t> has_warning_;
};

void JsonRowFormatter::Append(size_t row, std::string* out) const {
  const CompiledModel& model = result_.model();
  out->append("{\"id\":");
  AppendJsonString(batch_.id(row), out);
  if (!result_.ok(row)) {
    out->append(",\"status\":\"error\",\"error\":");
    AppendJsonString(batch_.row_ok(row)
                         ? std::string_view("not scored")
                         : std::string_view(batch_.row_error(row)),
                     out);
    out->append(model_json_);
    return;
  }
  out->append(",\"status\":\"ok\"");
  if (result_.has_score(row)) {
    out->append(",\"score\":");
    AppendJsonNumber(result_.score(row), options_.numbers, out);
  }
  out->append(",\"tier\":");
  const int tier = result_.tier(row);
  if (tier >= -1 && tier + 1 < static_cast<int>(tier_json_.size())) {
    out->append(tier_json_[static_cast<size_t>(tier + 1)]);
  } else {
    AppendJsonString(model.TierId(tier), out);
  }
  out->append(",\"coverage\":");
  AppendJsonNumber(result_.coverage(row), options_.numbers, out);

  out->append(",\"groups\":{");
  bool first = true;
  for (size_t g = 0; g < model.groups().size(); ++g) {
    double score = result_.group_score(row, static_cast<int>(g));
    if (std::isnan(score)) continue;
    Key(model.groups()[g].id, &first, out);
    AppendJsonNumber(score, options_.numbers, out);
  }
  out->append("},\"playbooks\":[");
  if (result_.matched_count(row) > 0) {
    first = true;
    for (int p : MatchedPlaybooks(result_, row)) {
      const PlaybookInfo& info = model.playbooks()[p];
      if (!first) out->push_back(',');
      first = false;
      out->append(playbook_json_[static_cast<size_t>(p)]);
      AppendJsonString(
          PlaybookReason(batch_, result_, row, p, options_.numbers), out);
      if (!info.success.empty()) {
        out->append(result_.playbook_succeeded(row, p) ? ",\"success\":true"
                                                       : ",\"success\":false");
      }
      out->push_back('}');
    }
  }
  out->push_back(']');

  if (!std::isnan(result_.delta(row))) {
    out->append(",\"delta\":");
    AppendJsonNumber(result_.delta(row), options_.numbers, out);
  }
  bool had_previous_tier = batch_.previous_tier()[row] != kMissingString;
  if (had_previous_tier || result_.tier_changed(row) ||
      result_.tier_held(row)) {
    out->append(result_.tier_changed(row) ? ",\"tier_changed\":true"
                                          : ",\"tier_changed\":false");
    out->append(result_.tier_held(row) ? ",\"tier_held\":true"
                                       : ",\"tier_held\":false");
  }

  if (options_.explain) {
    Explanation e =
        Explain(batch_, result_, row, options_.top_drivers, options_.numbers);
    if (!e.warnings.empty()) {
      out->append(",\"warnings\":[");
      for (size_t i = 0; i < e.warnings.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJsonString(e.warnings[i], out);
      }
      out->push_back(']');
    }
    AppendExplanation(e, out);
  } else if (!has_warning_.empty() && has_warning_[row]) {
    Explanation e = Explain(batch_, result_, row, 0, options_.numbers);
    if (!e.warnings.empty()) {
      out->append(",\"warnings\":[");
      for (size_t i = 0; i < e.warnings.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJsonString(e.warnings[i], out);
      }
      out->push_back(']');
    }
  }
  out->append(model_json_);
}

void JsonRowFormatter::AppendExplanation(const Explanation& e,
                                         std::string* out) const {
  const CompiledModel& model = result_.model();
  out->append(",\"explanation\":{\"signals\":[");
  for (size_t i = 0; i < e.signals.size(); ++i) {
    const SignalExplanation& s = e.signals[i];
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

// How the rows of one batch fill the CSV columns: which of its model's
// groups each group column holds, and the cells naming the model when the
// output has them.
class CsvRowFormatter {
 public:
  // `groups`: the ids of the header's group columns, in order.
  CsvRowFormatter(const Batch& batch, const BatchResult& result,
                  const std::vector<std::string>& groups, bool model_columns,
                  int64_t repository_version, NumberFormat numbers)
      : batch_(batch), result_(result), numbers_(numbers) {
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

  void Append(size_t row, std::string* out) const;

 private:
  const Batch& batch_;
  const BatchResult& result_;
  const NumberFormat numbers_;
  std::vector<int> group_of_column_;  // the model's group, or -1
  std::string model_cells_;           // empty, or ",name,version"
  absl::Status status_;
};

void CsvRowFormatter::Append(size_t row, std::string* out) const {
  const CompiledModel& model = result_.model();
  AppendCsvCell(batch_.id(row), out);
  if (!result_.ok(row)) {
    out->append(",error,");
    AppendCsvCell(batch_.row_ok(row) ? std::string_view("not scored")
                                     : std::string_view(batch_.row_error(row)),
                  out);
    // score, tier, coverage, groups..., playbooks, delta, tier_changed
    out->append(group_of_column_.size() + 6, ',');
    out->append(model_cells_);
    out->append(",\n");  // no warnings: the error says it all
    return;
  }
  out->append(",ok,,");
  if (result_.has_score(row)) {
    AppendCsvNumber(result_.score(row), numbers_, out);
  }
  out->push_back(',');
  AppendCsvCell(model.TierId(result_.tier(row)), out);
  out->push_back(',');
  AppendCsvNumber(result_.coverage(row), numbers_, out);
  for (int g : group_of_column_) {
    out->push_back(',');
    if (g < 0) continue;
    double score = result_.group_score(row, g);
    if (!std::isnan(score)) AppendCsvNumber(score, numbers_, out);
  }
  out->push_back(',');
  if (result_.matched_count(row) > 0) {
    std::string ids;
    for (int p : MatchedPlaybooks(result_, row)) {
      if (!ids.empty()) ids.push_back(';');
      ids.append(model.playbooks()[p].id);
    }
    AppendCsvCell(ids, out);
  }
  out->push_back(',');
  if (!std::isnan(result_.delta(row))) {
    AppendCsvNumber(result_.delta(row), numbers_, out);
  }
  out->push_back(',');
  if (batch_.previous_tier()[row] != kMissingString ||
      result_.tier_changed(row)) {
    out->append(result_.tier_changed(row) ? "true" : "false");
  }
  out->append(model_cells_);
  out->push_back(',');
  const std::vector<std::string> warnings =
      RowWarnings(batch_, row, numbers_);
  if (!warnings.empty()) AppendCsvCell(absl::StrJoin(warnings, " | "), out);
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
  JsonRowFormatter(batch, result, options).Append(row, out);
}

std::string CsvHeader(const CompiledModel& model) {
  return CsvHeaderFor(GroupIds(model), /*model_columns=*/false);
}

void AppendCsvResult(const Batch& batch, const BatchResult& result, size_t row,
                     std::string* out, NumberFormat numbers) {
  CsvRowFormatter(batch, result, GroupIds(result.model()),
                  /*model_columns=*/false, 0, numbers)
      .Append(row, out);
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

absl::Status ResultRenderer::RenderBatch(
    const Batch& batch, const BatchResult& result, std::string* out,
    const std::function<absl::Status()>* after_row) const {
  if (format_ == OutputFormat::kCsv) {
    CsvRowFormatter formatter(batch, result, csv_groups_,
                              !options_.csv_models.empty(), 0,
                              options_.numbers);
    HEALTHSCORE_RETURN_IF_ERROR(formatter.status());
    for (size_t row = 0; row < result.size(); ++row) {
      formatter.Append(row, out);
      if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
    }
    return absl::OkStatus();
  }
  JsonRowFormatter formatter(batch, result, options_);
  for (size_t row = 0; row < result.size(); ++row) {
    formatter.Append(row, out);
    out->push_back('\n');
    if (after_row != nullptr) HEALTHSCORE_RETURN_IF_ERROR((*after_row)());
  }
  return absl::OkStatus();
}

absl::Status ResultRenderer::RenderParts(
    const std::vector<ScoredPart>& parts,
    const std::vector<std::pair<uint32_t, uint32_t>>& order, std::string* out,
    const std::function<absl::Status()>* after_row) const {
  for (const auto& [part, row] : order) {
    if (part >= parts.size() || row >= parts[part].result->size()) {
      return absl::InvalidArgumentError(
          Cat("no row ", row, " in part ", part, " of ", parts.size()));
    }
  }
  if (parts.empty()) return absl::OkStatus();
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
      formatters[part].Append(row, out);
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
    formatters[part].Append(row, out);
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

}  // namespace healthscore::engine::io
