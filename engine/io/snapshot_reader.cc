// Snapshot readers.
//
// The file readers (JSON Lines, CSV) hand each value to the BatchBuilder as
// they find it and let the builder apply the declared type (the rules every
// reader shares). The YAML test-snapshot parser checks values itself, so
// that a problem names the node's file:line:col, collects one account into
// a PendingRow and only then hands it to the builder.

#include "engine/io/snapshot_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/io/internal/strings.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "simdjson.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::io {
namespace {

using io_internal::Cat;
using io_internal::Trim;

constexpr size_t kMaxIgnoredNames = 64;

// ---------------------------------------------------------------------------
// Byte sources.

class FdSource : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string path)
      : fd_(fd), owned_(owned), path_(std::move(path)) {}
  ~FdSource() override {
    if (owned_) close(fd_);
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t got = read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return absl::DataLossError(
          Cat("cannot read ", path_, ": ", std::strerror(errno)));
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string path_;
};

class StringByteSource : public ByteSource {
 public:
  explicit StringByteSource(std::string text) : text_(std::move(text)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  std::string text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// One account, parsed and checked, waiting to be added to the batch.

struct PendingRow {
  struct SeriesRef {
    int input;
    size_t begin;
    size_t end;
  };

  std::string_view id;
  std::string_view as_of;
  bool has_as_of = false;
  double previous_score = 0;
  bool has_previous_score = false;
  std::string_view previous_tier;
  bool has_previous_tier = false;
  std::vector<std::pair<int, double>> numbers;
  std::vector<std::pair<int, double>> dates;
  std::vector<std::pair<int, std::string_view>> strings;
  std::vector<SeriesRef> series;
  std::vector<double> points;
  std::string error;

  void Clear() {
    id = {};
    as_of = {};
    has_as_of = has_previous_score = has_previous_tier = false;
    previous_tier = {};
    numbers.clear();
    dates.clear();
    strings.clear();
    series.clear();
    points.clear();
    error.clear();
  }

  bool failed() const { return !error.empty(); }

  // Keeps the first problem only: it is usually the cause of the others.
  template <typename... Args>
  void Fail(const Args&... parts) {
    if (error.empty()) error = io_internal::Cat(parts...);
  }
};

void EmitRow(const PendingRow& row, BatchBuilder* builder) {
  builder->BeginRow(row.id);
  if (row.failed()) {
    builder->FailRow(row.error);
    builder->EndRow();
    return;
  }
  if (row.has_as_of) builder->SetAsOf(row.as_of);
  for (const auto& [input, value] : row.numbers) {
    builder->SetNumberAt(input, value);
  }
  for (const auto& [input, days] : row.dates) {
    builder->SetDateDaysAt(input, days);
  }
  for (const auto& [input, text] : row.strings) {
    builder->SetStringAt(input, text);
  }
  for (const PendingRow::SeriesRef& s : row.series) {
    builder->SetSeriesAt(s.input, row.points.data() + s.begin, s.end - s.begin);
  }
  if (row.has_previous_score) builder->SetPreviousScore(row.previous_score);
  if (row.has_previous_tier) builder->SetPreviousTier(row.previous_tier);
  builder->EndRow();
}

enum class Section { kMetrics, kAttributes, kDates, kSeries };

InputType SectionType(Section s) {
  switch (s) {
    case Section::kMetrics:
      return InputType::kNumber;
    case Section::kAttributes:
      return InputType::kString;
    case Section::kDates:
      return InputType::kDate;
    case Section::kSeries:
      return InputType::kSeries;
  }
  return InputType::kNumber;
}

const char* SectionName(Section s) { return InputSectionName(SectionType(s)); }

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Formats and factories.

absl::StatusOr<InputFormat> ParseInputFormat(std::string_view name) {
  std::string lower(name);
  absl::AsciiStrToLower(&lower);
  if (lower == "jsonl" || lower == "ndjson" || lower == "json") {
    return InputFormat::kJsonLines;
  }
  if (lower == "csv") return InputFormat::kCsv;
  return absl::InvalidArgumentError(
      Cat("unknown input format \"", name, "\" (expected jsonl or csv)"));
}

absl::StatusOr<InputFormat> InputFormatFromPath(std::string_view path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  if (dot == std::string_view::npos ||
      (slash != std::string_view::npos && dot < slash)) {
    return absl::InvalidArgumentError(
        Cat("cannot tell the format of \"", path,
            "\" from its name (expected .jsonl, .ndjson, .json or .csv)"));
  }
  auto format = ParseInputFormat(path.substr(dot + 1));
  if (!format.ok()) {
    return absl::InvalidArgumentError(
        Cat("cannot tell the format of \"", path,
            "\" from its name (expected .jsonl, .ndjson, .json or .csv)"));
  }
  return format;
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<ByteSource>(
        new FdSource(STDIN_FILENO, /*owned=*/false, "standard input"));
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = Cat("cannot open ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        Cat("cannot read ", path, ": it is a directory"));
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<ByteSource>(new FdSource(fd, /*owned=*/true, path));
}

std::unique_ptr<ByteSource> StringSource(std::string text) {
  return std::make_unique<StringByteSource>(std::move(text));
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> OpenSnapshotReader(
    const std::string& path, InputFormat format, const ReaderOptions& options) {
  HEALTHSCORE_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source,
                               OpenFileSource(path));
  if (format == InputFormat::kCsv) {
    return std::unique_ptr<SnapshotReader>(
        new CsvReader(std::move(source), options));
  }
  return std::unique_ptr<SnapshotReader>(
      new JsonLinesReader(std::move(source), options));
}

void SnapshotReader::NoteIgnored(std::string_view name) {
  auto it = ignored_names_.find(std::string(name));
  if (it != ignored_names_.end()) {
    ++it->second;
  } else if (ignored_names_.size() < kMaxIgnoredNames) {
    ignored_names_.emplace(std::string(name), 1);
  }
}

// ---------------------------------------------------------------------------
// JSON Lines.

class JsonLinesReader::Impl {
 public:
  Impl(JsonLinesReader* owner, std::unique_ptr<ByteSource> source,
       const ReaderOptions& options)
      : owner_(owner), source_(std::move(source)), options_(options) {
    options_.block_size = std::max<size_t>(options_.block_size, 1);
  }

  absl::StatusOr<size_t> ReadBatch(Batch* batch, size_t max_rows) {
    batch->Clear();
    BatchBuilder builder(batch);
    builder.set_strict(options_.strict);
    builder_ = &builder;
    model_ = &batch->model();
    size_t rows = 0;
    while (rows < max_rows) {
      Line line;
      HEALTHSCORE_ASSIGN_OR_RETURN(bool more, NextLine(&line));
      if (!more) break;
      ++owner_->line_;
      if (line.overlong > 0) {
        builder.BeginRow({});
        builder.FailRow(Cat("line ", owner_->line_, ": the line is ",
                            line.overlong, " bytes long, more than the limit of ",
                            options_.max_line_bytes,
                            " bytes for one record (--max-line-bytes); it was "
                            "skipped. JSON Lines needs one account object per "
                            "line"));
        builder.EndRow();
        ++rows;
        continue;
      }
      std::string_view text = line.text;
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      if (IsBlank(text)) continue;
      ParseLine(text, line.padded);
      ++rows;
    }
    builder_ = nullptr;
    return rows;
  }

 private:
  // One line of the input, without its '\n'.
  struct Line {
    std::string_view text;
    // How many bytes may be read from text.data() (the line plus at least
    // SIMDJSON_PADDING).
    size_t padded = 0;
    // > 0 for a line longer than max_line_bytes: its length. `text` is then
    // empty (the line was not kept).
    uint64_t overlong = 0;
  };

  // The next line; false at the end of the input.
  absl::StatusOr<bool> NextLine(Line* line) {
    *line = Line();
    for (;;) {
      if (pos_ < lines_end_) {
        const char* start = buf_.get() + pos_;
        const char* nl = static_cast<const char*>(
            std::memchr(start, '\n', lines_end_ - pos_));
        Take(static_cast<size_t>(nl - start), line);
        pos_ = nl + 1 - buf_.get();
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        Take(end_ - pos_, line);
        pos_ = end_;
        return true;
      }
      if (end_ - pos_ > options_.max_line_bytes) {
        // The unfinished line is already too long: drop it and what is
        // left of it in the source, so that memory stays bounded.
        HEALTHSCORE_ASSIGN_OR_RETURN(line->overlong, SkipLine());
        return true;
      }
      HEALTHSCORE_RETURN_IF_ERROR(Refill());
    }
  }

  // The `length` bytes at pos_ as *line, or as an over-long line.
  void Take(size_t length, Line* line) {
    if (length > options_.max_line_bytes) {
      line->overlong = length;
      return;
    }
    line->text = std::string_view(buf_.get() + pos_, length);
    line->padded = capacity_ + simdjson::SIMDJSON_PADDING - pos_;
  }

  // Discards the unfinished line at pos_ and the rest of it in the source,
  // up to and including its '\n', reading block by block into the buffer
  // without growing it. Leaves the bytes after that '\n' in the buffer and
  // returns the line's length.
  absl::StatusOr<uint64_t> SkipLine() {
    uint64_t skipped = end_ - pos_;
    pos_ = end_ = lines_end_ = 0;
    for (;;) {
      HEALTHSCORE_ASSIGN_OR_RETURN(size_t got,
                                   source_->Read(buf_.get(), capacity_));
      if (got == 0) {
        eof_ = true;
        return skipped;
      }
      const char* nl =
          static_cast<const char*>(std::memchr(buf_.get(), '\n', got));
      if (nl == nullptr) {
        skipped += got;
        continue;
      }
      skipped += static_cast<uint64_t>(nl - buf_.get());
      pos_ = nl + 1 - buf_.get();
      end_ = got;
      std::memset(buf_.get() + end_, 0, simdjson::SIMDJSON_PADDING);
      for (size_t i = end_; i > pos_; --i) {
        if (buf_[i - 1] == '\n') {
          lines_end_ = i;
          break;
        }
      }
      return skipped;
    }
  }

  // Moves the unfinished line to the front of the buffer and reads one more
  // block after it, then finds the last complete line. The unfinished line
  // is at most max_line_bytes long (NextLine skips longer ones), so the
  // buffer never exceeds max_line_bytes + block_size.
  absl::Status Refill() {
    size_t rest = end_ - pos_;
    // Grow only for a line longer than half the buffer, so that a short
    // unfinished line does not cost a reallocation per block.
    if (capacity_ < options_.block_size || rest > capacity_ / 2) {
      size_t want = rest + options_.block_size;
      std::unique_ptr<char[]> bigger(
          new char[want + simdjson::SIMDJSON_PADDING]);
      if (rest > 0) std::memcpy(bigger.get(), buf_.get() + pos_, rest);
      buf_ = std::move(bigger);
      capacity_ = want;
    } else if (rest > 0 && pos_ > 0) {
      std::memmove(buf_.get(), buf_.get() + pos_, rest);
    }
    pos_ = 0;
    end_ = rest;
    lines_end_ = 0;
    while (end_ < capacity_) {
      HEALTHSCORE_ASSIGN_OR_RETURN(
          size_t got, source_->Read(buf_.get() + end_, capacity_ - end_));
      if (got == 0) {
        eof_ = true;
        break;
      }
      end_ += got;
    }
    std::memset(buf_.get() + end_, 0, simdjson::SIMDJSON_PADDING);
    if (at_start_) {
      at_start_ = false;
      if (end_ >= 3 && std::memcmp(buf_.get(), "\xEF\xBB\xBF", 3) == 0) {
        pos_ = 3;
      }
    }
    for (size_t i = end_; i > rest; --i) {
      if (buf_[i - 1] == '\n') {
        lines_end_ = i;
        break;
      }
    }
    return absl::OkStatus();
  }

  // Adds the account on `line` to builder_ (always exactly one row).
  void ParseLine(std::string_view line, size_t padded);
  // The fields of the current line: each returns false on a syntax error
  // (the row has failed), after which the document may not be used again.
  bool ParseFields(simdjson::ondemand::object object);
  bool ParseSection(simdjson::ondemand::value& value, std::string_view section);
  // Puts `value` (of JSON type `type`) for `slot` as the builder's rules
  // say.
  bool PutValue(int slot, const FieldName& field,
                simdjson::ondemand::value& value,
                simdjson::ondemand::json_type type);
  bool PutPoints(int slot, const FieldName& field,
                 simdjson::ondemand::array& array);
  bool PutSeriesObject(int slot, const FieldName& field,
                       simdjson::ondemand::value& value);
  bool FailSyntax(simdjson::error_code error) {
    builder_->FailRow(Cat("line ", owner_->line_,
                          ": invalid JSON: ", simdjson::error_message(error)));
    return false;
  }

  JsonLinesReader* owner_;
  std::unique_ptr<ByteSource> source_;
  ReaderOptions options_;
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;   // usable bytes; SIMDJSON_PADDING more are allocated
  size_t pos_ = 0;        // first unread byte
  size_t lines_end_ = 0;  // one past the last '\n' of the buffer, or 0
  size_t end_ = 0;        // bytes of data in the buffer
  bool eof_ = false;
  bool at_start_ = true;
  simdjson::ondemand::parser parser_;
  BatchBuilder* builder_ = nullptr;  // during ReadBatch
  const CompiledModel* model_ = nullptr;
  std::string field_scratch_;
  std::string location_scratch_;
  // The current line's id (a view into the line or the parser's string
  // buffer) and the problem that keeps it from being one.
  std::string_view id_;
  std::string id_problem_;
  std::vector<double> points_;
};

namespace {

// The sections come last: bit >= kMetricsBit is a section.
constexpr uint32_t kIdBit = 1;
constexpr uint32_t kAsOfBit = 2;
constexpr uint32_t kPreviousScoreBit = 4;
constexpr uint32_t kPreviousTierBit = 8;
constexpr uint32_t kMetricsBit = 16;
constexpr uint32_t kAttributesBit = 32;
constexpr uint32_t kDatesBit = 64;
constexpr uint32_t kSeriesBit = 128;

// One bit per top-level key the reader knows (both spellings of a key share
// it), 0 for any other key.
uint32_t TopLevelKeyBit(std::string_view key) {
  if (key == "id") return kIdBit;
  if (key == "as_of" || key == "asOf") return kAsOfBit;
  if (key == "previous_score" || key == "previousScore") {
    return kPreviousScoreBit;
  }
  if (key == "previous_tier" || key == "previousTier") return kPreviousTierBit;
  if (key == "metrics") return kMetricsBit;
  if (key == "attributes") return kAttributesBit;
  if (key == "dates") return kDatesBit;
  if (key == "series") return kSeriesBit;
  return 0;
}

// The field an object iterator produced, and its unescaped key. The field is
// left where the iterator put it (in `result`) and used through a pointer.
// Copying it out (simdjson_result::get, or a copy of field.value()) lets GCC
// write a value_iterator in two stores and read it back in one 16-byte load,
// which the CPU cannot forward from the stores: a stall of about a dozen
// cycles per key, 8% of JSON Lines parsing (bench/README.md, issue 10).
simdjson::error_code NextField(
    simdjson::simdjson_result<simdjson::ondemand::field>& result,
    simdjson::ondemand::field** field, std::string_view* key) {
  if (simdjson::error_code error = result.error()) return error;
  *field = &result.value_unsafe();
  return (*field)->unescaped_key().get(*key);
}

const char* JsonTypeName(simdjson::ondemand::json_type type) {
  using simdjson::ondemand::json_type;
  switch (type) {
    case json_type::array:
      return "array";
    case json_type::object:
      return "object";
    case json_type::number:
      return "number";
    case json_type::string:
      return "string";
    case json_type::boolean:
      return "boolean";
    case json_type::null:
      return "null";
  }
  return "value";
}

}  // namespace

void JsonLinesReader::Impl::ParseLine(std::string_view line, size_t padded) {
  using simdjson::ondemand::json_type;
  namespace od = simdjson::ondemand;
  BatchBuilder& b = *builder_;
  b.BeginRow({});
  location_scratch_.clear();
  absl::StrAppend(&location_scratch_, "line ", owner_->line_, ": ");
  b.SetRowLocation(location_scratch_);
  id_ = {};
  id_problem_.clear();

  od::document doc;
  simdjson::error_code error = parser_
                                   .iterate(simdjson::padded_string_view(
                                       line.data(), line.size(), padded))
                                   .get(doc);
  json_type root_type;
  if (error || (error = doc.type().get(root_type))) {
    FailSyntax(error);
    b.EndRow();
    return;
  }
  if (root_type != json_type::object) {
    // type() only peeks at the first byte: make sure a scalar is real JSON
    // before calling the line "a number" or "null".
    switch (root_type) {
      case json_type::null: {
        bool is_null = false;
        error = doc.is_null().get(is_null);
        if (!error && !is_null) error = simdjson::N_ATOM_ERROR;
        break;
      }
      case json_type::number:
        error = doc.get_double().error();
        break;
      case json_type::boolean:
        error = doc.get_bool().error();
        break;
      case json_type::string:
        error = doc.get_string().error();
        break;
      default:
        break;
    }
    b.FailRow(error ? Cat("line ", owner_->line_,
                          ": invalid JSON: expected an object per line")
                    : Cat("line ", owner_->line_,
                          ": expected a JSON object, got ",
                          JsonTypeName(root_type)));
    b.EndRow();
    return;
  }
  od::object object;
  if ((error = doc.get_object().get(object))) {
    FailSyntax(error);
    b.EndRow();
    return;
  }
  if (ParseFields(object)) {
    // The object is done; anything after it on the line is garbage.
    const char* location = nullptr;
    if (!doc.current_location().get(location)) {
      b.FailRow(Cat("line ", owner_->line_,
                    ": invalid JSON: unexpected content after the object"));
    } else if (!id_problem_.empty()) {
      b.FailRow(id_problem_);
    } else if (id_.empty()) {
      b.FailRow(Cat("line ", owner_->line_, ": no id (\"", options_.id_field,
                    "\" is missing or empty)"));
    }
  }
  // A row that failed keeps its id when the line had one.
  b.SetId(id_);
  b.EndRow();
}

bool JsonLinesReader::Impl::ParseFields(simdjson::ondemand::object object) {
  using simdjson::ondemand::json_type;
  namespace od = simdjson::ondemand;
  BatchBuilder& b = *builder_;
  bool id_seen = false;
  for (auto field_result : object) {
    // The field is used where the iterator put it, never copied: see
    // NextField.
    od::field* field;
    std::string_view key;
    simdjson::error_code error = NextField(field_result, &field, &key);
    if (error) return FailSyntax(error);
    od::value& value = field->value();
    json_type type;
    if ((error = value.type().get(type))) return FailSyntax(error);

    if (key == options_.id_field) {
      if (id_seen) {
        id_problem_ = Cat("line ", owner_->line_, ": ", key,
                          ": the key appears twice in one record, so the "
                          "account cannot be identified");
        continue;
      }
      id_seen = true;
      if (type == json_type::string) {
        if ((error = value.get_string().get(id_))) return FailSyntax(error);
      } else if (type == json_type::number) {
        // An export's numeric id, as written.
        // Kept as written (no trip through a double), once it is known to
        // be a number.
        const std::string_view raw = Trim(value.raw_json_token());
        double unused;
        if (value.get_double().get(unused)) {
          id_problem_ = Cat("line ", owner_->line_, ": ", key,
                            ": invalid number");
        } else {
          id_ = raw;
        }
      } else if (type != json_type::null) {
        id_problem_ = Cat("line ", owner_->line_, ": ", key,
                          ": expected a string or a number, got ",
                          JsonTypeName(type));
      }
      continue;
    }
    const uint32_t bit = TopLevelKeyBit(key);
    if (bit == 0 || bit == kIdBit) {
      // Not part of the snapshot (e.g. a request's model name, or "id" when
      // another field is the id).
      owner_->NoteIgnored(key);
      continue;
    }
    if (bit >= kMetricsBit) {
      // A section given twice is read twice: an input in both is given
      // twice, which the builder reports.
      if (type == json_type::null) continue;
      if (type != json_type::object) {
        b.PutUnusable(-1, {"", key},
                      Cat("expected an object of inputs, got ",
                          JsonTypeName(type)));
        continue;
      }
      if (!ParseSection(value, key)) return false;
      continue;
    }
    const int slot = bit == kAsOfBit            ? BatchBuilder::kAsOfSlot
                     : bit == kPreviousScoreBit ? BatchBuilder::kPreviousScoreSlot
                                                : BatchBuilder::kPreviousTierSlot;
    if (!PutValue(slot, {"", key}, value, type)) return false;
  }
  return true;
}

bool JsonLinesReader::Impl::ParseSection(simdjson::ondemand::value& value,
                                         std::string_view section) {
  using simdjson::ondemand::json_type;
  namespace od = simdjson::ondemand;
  od::object object;
  simdjson::error_code error = value.get_object().get(object);
  if (error) return FailSyntax(error);
  for (auto field_result : object) {
    od::field* field;
    std::string_view name;
    if ((error = NextField(field_result, &field, &name))) {
      return FailSyntax(error);
    }
    od::value& v = field->value();
    json_type type;
    if ((error = v.type().get(type))) return FailSyntax(error);
    const int input = builder_->ResolveInput(name);
    if (input < 0) {
      field_scratch_.assign(section.data(), section.size())
          .append(".")
          .append(name.data(), name.size());
      owner_->NoteIgnored(field_scratch_);
      continue;
    }
    if (!PutValue(input, {section, name}, v, type)) return false;
  }
  return true;
}

bool JsonLinesReader::Impl::PutValue(int slot, const FieldName& field,
                                     simdjson::ondemand::value& value,
                                     simdjson::ondemand::json_type type) {
  using simdjson::ondemand::json_type;
  BatchBuilder& b = *builder_;
  simdjson::error_code error;
  switch (type) {
    case json_type::null:
      return true;  // missing
    case json_type::number: {
      double number;
      if ((error = value.get_double().get(number))) {
        b.PutUnusable(slot, field,
                      Cat("invalid number: ", simdjson::error_message(error)));
        return true;
      }
      b.PutNumber(slot, field, number);
      return true;
    }
    case json_type::string: {
      std::string_view text;
      if ((error = value.get_string().get(text))) return FailSyntax(error);
      b.PutString(slot, field, text);
      return true;
    }
    case json_type::boolean: {
      bool flag;
      if ((error = value.get_bool().get(flag))) return FailSyntax(error);
      b.PutBool(slot, field, flag);
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array array;
      if ((error = value.get_array().get(array))) return FailSyntax(error);
      return PutPoints(slot, field, array);
    }
    case json_type::object:
      if (slot >= 0 && model_->inputs()[slot].type == InputType::kSeries) {
        return PutSeriesObject(slot, field, value);
      }
      b.PutWrongKind(slot, field, "an object");
      return true;
  }
  return true;
}

// The protobuf JSON form of a series: {"values": [...]}.
bool JsonLinesReader::Impl::PutSeriesObject(int slot, const FieldName& field,
                                            simdjson::ondemand::value& value) {
  using simdjson::ondemand::json_type;
  namespace od = simdjson::ondemand;
  od::object object;
  simdjson::error_code error = value.get_object().get(object);
  if (error) return FailSyntax(error);
  bool seen = false;
  for (auto field_result : object) {
    od::field* f;
    std::string_view key;
    if ((error = NextField(field_result, &f, &key))) return FailSyntax(error);
    if (key != "values") continue;  // other keys are not part of a series
    seen = true;  // a second "values" is given twice, as any key
    od::value& v = f->value();
    json_type type;
    if ((error = v.type().get(type))) return FailSyntax(error);
    if (!PutValue(slot, field, v, type)) return false;
  }
  if (!seen) {
    builder_->PutUnusable(
        slot, field, "expected a list of numbers or {\"values\": [...]}");
  }
  return true;
}

bool JsonLinesReader::Impl::PutPoints(int slot, const FieldName& field,
                                      simdjson::ondemand::array& array) {
  using simdjson::ondemand::json_type;
  points_.clear();
  std::string problem;
  size_t index = 0;
  for (auto element : array) {
    ++index;
    simdjson::ondemand::value v;
    simdjson::error_code error = std::move(element).get(v);
    json_type type;
    if (error || (error = v.type().get(type))) return FailSyntax(error);
    if (!problem.empty()) continue;  // read on: the line must still parse
    double number = 0;
    if (type == json_type::number) {
      if ((error = v.get_double().get(number))) {
        problem = Cat("point ", index, " is not a valid number (",
                      simdjson::error_message(error), ")");
        continue;
      }
    } else if (type == json_type::string) {
      std::string_view text;
      if ((error = v.get_string().get(text))) return FailSyntax(error);
      if (!IsNonFiniteNumberWord(text)) {
        problem = Cat("point ", index, " is not a number (got the string \"",
                      TruncateForDisplay(text), "\")");
        continue;
      }
      number = std::numeric_limits<double>::quiet_NaN();
    } else {
      problem = Cat("point ", index, " is not a number (got ",
                    JsonTypeName(type), ")");
      continue;
    }
    points_.push_back(number);
  }
  if (!problem.empty()) {
    builder_->PutUnusable(slot, field, problem);
  } else {
    builder_->PutSeries(slot, field, points_.data(), points_.size());
  }
  return true;
}

JsonLinesReader::JsonLinesReader(std::unique_ptr<ByteSource> source,
                                 const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(this, std::move(source), options)) {}

JsonLinesReader::~JsonLinesReader() = default;

absl::StatusOr<size_t> JsonLinesReader::ReadBatch(Batch* batch,
                                                  size_t max_rows) {
  return impl_->ReadBatch(batch, max_rows);
}

// ---------------------------------------------------------------------------
// CSV.

namespace {


}  // namespace

class CsvReader::Impl {
 public:
  Impl(CsvReader* owner, std::unique_ptr<ByteSource> source,
       const ReaderOptions& options)
      : owner_(owner), source_(std::move(source)), options_(options) {
    options_.block_size = std::max<size_t>(options_.block_size, 1);
    buf_.resize(options_.block_size);
  }

  absl::StatusOr<size_t> ReadBatch(Batch* batch, size_t max_rows) {
    batch->Clear();
    BatchBuilder builder(batch);
    if (!header_read_) {
      header_read_ = true;
      HEALTHSCORE_ASSIGN_OR_RETURN(bool any, NextRecord());
      if (!any) return 0;  // an empty file has no accounts
      header_line_ = record_line_;
      if (!record_error_.empty()) {
        return absl::InvalidArgumentError(
            Cat("CSV header (line ", header_line_, "): ", record_error_));
      }
      header_.clear();
      for (size_t i = 0; i < fields_.size(); ++i) {
        std::string_view name = Trim(Field(i));
        if (i == 0 && name.substr(0, 3) == "\xEF\xBB\xBF") {
          name.remove_prefix(3);
        }
        header_.emplace_back(name);
      }
      have_header_ = true;
    }
    if (resolved_for_ != &batch->model()) {
      HEALTHSCORE_RETURN_IF_ERROR(ResolveHeader(builder));
      resolved_for_ = &batch->model();
    }
    builder.set_strict(options_.strict);
    size_t rows = 0;
    while (rows < max_rows) {
      HEALTHSCORE_ASSIGN_OR_RETURN(bool any, NextRecord());
      if (!any) break;
      AddRecord(&builder);
      ++rows;
    }
    return rows;
  }

 private:
  // A column is the id, ignored, or the slot its cells are put in.
  static constexpr int kIdColumn = -10;
  static constexpr int kIgnoredColumn = -11;

  std::string_view Field(size_t i) const {
    return std::string_view(record_.data() + fields_[i].first,
                            fields_[i].second);
  }

  absl::Status ResolveHeader(const BatchBuilder& builder) {
    columns_.assign(header_.size(), kIgnoredColumn);
    id_column_ = -1;
    for (size_t i = 0; i < header_.size(); ++i) {
      const std::string& name = header_[i];
      for (size_t j = 0; j < i; ++j) {
        if (header_[j] == name && !name.empty()) {
          return absl::InvalidArgumentError(
              Cat("CSV header (line ", header_line_, "): column \"", name,
                  "\" appears twice (columns ", j + 1, " and ", i + 1, ")"));
        }
      }
      int& c = columns_[i];
      if (name == options_.id_field) {
        c = kIdColumn;
        id_column_ = static_cast<int>(i);
      } else if (name == "as_of" || name == "asOf") {
        c = BatchBuilder::kAsOfSlot;
      } else if (name == "previous_score" || name == "previousScore") {
        c = BatchBuilder::kPreviousScoreSlot;
      } else if (name == "previous_tier" || name == "previousTier") {
        c = BatchBuilder::kPreviousTierSlot;
      } else {
        c = builder.ResolveInput(name);
        if (c < 0) {
          c = kIgnoredColumn;
          owner_->NoteIgnored(name);
        }
      }
    }
    if (id_column_ < 0) {
      return absl::InvalidArgumentError(
          Cat("CSV header (line ", header_line_, ") has no \"",
              options_.id_field, "\" column",
              options_.id_field == "id" ? "" : " (--id-field)",
              "; columns: ", absl::StrJoin(header_, ", ")));
    }
    return absl::OkStatus();
  }

  void AddRecord(BatchBuilder* builder) {
    BatchBuilder& b = *builder;
    b.BeginRow(fields_.size() > static_cast<size_t>(id_column_)
                   ? Trim(Field(id_column_))
                   : std::string_view());
    location_scratch_.clear();
    absl::StrAppend(&location_scratch_, "line ", record_line_, ": ");
    b.SetRowLocation(location_scratch_);
    if (!record_error_.empty()) {
      b.FailRow(Cat("line ", record_line_, ": ", record_error_));
    } else if (fields_.size() != columns_.size()) {
      b.FailRow(Cat("line ", record_line_, ": ", fields_.size(),
                    fields_.size() == 1 ? " field" : " fields",
                    ", but the header has ", columns_.size(), " columns"));
    } else if (Trim(Field(id_column_)).empty()) {
      b.FailRow(Cat("line ", record_line_, ": no id (the \"",
                    options_.id_field, "\" cell is empty)"));
    } else {
      for (size_t i = 0; i < columns_.size(); ++i) {
        const int slot = columns_[i];
        if (slot == kIdColumn || slot == kIgnoredColumn) continue;
        b.PutText(slot, {"", header_[i]}, Field(i));
      }
    }
    b.EndRow();
  }

  // Next byte of the input (consumed), or -1 at the end. While capturing_,
  // every byte consumed is also appended to raw_.
  absl::StatusOr<int> Get() {
    if (pos_ == end_) {
      HEALTHSCORE_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return -1;
    }
    const int c = static_cast<unsigned char>(buf_[pos_++]);
    if (capturing_) raw_.push_back(static_cast<char>(c));
    return c;
  }
  // The next byte without consuming it, or -1 at the end.
  absl::StatusOr<int> Peek() {
    if (pos_ == end_) {
      HEALTHSCORE_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return -1;
    }
    return static_cast<unsigned char>(buf_[pos_]);
  }
  // Reads the next block once the buffer is used up. False at the end of
  // the input.
  absl::StatusOr<bool> Fill() {
    if (eof_) return false;
    // A recovery may have left a larger buffer (see Recover).
    if (buf_.size() != options_.block_size) {
      std::vector<char>(options_.block_size).swap(buf_);
    }
    HEALTHSCORE_ASSIGN_OR_RETURN(end_, source_->Read(buf_.data(), buf_.size()));
    pos_ = 0;
    if (end_ == 0) eof_ = true;
    return end_ > 0;
  }

  // " (\"name\")" for 1-based field `k` once the header is known.
  std::string ColumnName(size_t k) const {
    if (!have_header_ || k == 0 || k > header_.size()) return "";
    return Cat(" (\"", header_[k - 1], "\")");
  }

  // The current record, which holds line breaks inside a quoted field, is
  // bad for reason `why`. It becomes one error naming the lines it spans,
  // and the lines after its first line are pushed back to be read again as
  // records, with quoted fields confined to their line (strict_until_), so
  // every byte is read at most twice. `line_done` says whether the last
  // byte consumed ended a line (already counted in line_). Returns whether
  // lines were pushed back; if not (nothing after the first line was
  // consumed, or this is the header, which fails the whole input anyway),
  // only record_error_ is set.
  bool Recover(std::string why, bool line_done) {
    capturing_ = false;
    if (raw_.empty() || !have_header_) {
      record_error_ = std::move(why);
      raw_.clear();
      return false;
    }
    const uint64_t last_line = line_done ? owner_->line_ : owner_->line_ + 1;
    record_error_ = Cat(
        why, "; the record spans lines ", record_line_, "-", last_line, " (",
        last_line - record_line_ + 1, " lines), so it is skipped and lines ",
        record_line_ + 1, "-", last_line, " are read again as records");
    // The bytes to read again go in front of the unread rest of the block.
    raw_.append(buf_.data() + pos_, end_ - pos_);
    buf_.assign(raw_.begin(), raw_.end());
    pos_ = 0;
    end_ = buf_.size();
    raw_.clear();
    recovered_line_ = record_line_;
    strict_until_ = std::max(strict_until_, last_line);
    owner_->line_ = record_line_;
    return true;
  }

  // Consumes the rest of the current physical line (through its line
  // break) without keeping it; returns the bytes skipped before the break.
  absl::StatusOr<uint64_t> SkipRestOfLine() {
    capturing_ = false;
    raw_.clear();
    uint64_t skipped = 0;
    for (;;) {
      HEALTHSCORE_ASSIGN_OR_RETURN(int c, Get());
      if (c < 0) {
        ++owner_->line_;  // the line had bytes but no final line break
        return skipped;
      }
      if (c == '\n' || c == '\r') {
        ++owner_->line_;
        if (c == '\r') {
          HEALTHSCORE_ASSIGN_OR_RETURN(int next, Peek());
          if (next == '\n') HEALTHSCORE_RETURN_IF_ERROR(Get().status());
        }
        return skipped;
      }
      ++skipped;
    }
  }

  // Reads the next non-blank record into record_/fields_ (record_error_
  // says what is wrong with it, if anything). False at the end.
  absl::StatusOr<bool> NextRecord() {
    const uint64_t max_lines = std::max<size_t>(options_.max_record_lines, 1);
    for (;;) {
      record_.clear();
      fields_.clear();
      record_error_.clear();
      raw_.clear();
      capturing_ = false;
      record_line_ = owner_->line_ + 1;
      // Lines read again after a recovery: a quoted field may not span.
      const bool strict = record_line_ <= strict_until_;
      size_t field_start = 0;
      bool quoted = false;      // inside a quoted field
      bool was_quoted = false;  // the current field started with a quote
      bool any = false;         // the record has at least one byte
      int last = -1;            // the previous byte
      uint64_t bytes = 0;       // the record's bytes, without its line break
      uint64_t breaks = 0;      // line breaks inside quoted fields
      size_t open_field = 0;    // 1-based field holding the first such break
      for (;;) {
        HEALTHSCORE_ASSIGN_OR_RETURN(int c, Get());
        if (c < 0) {
          if (!any) return false;
          if (quoted && breaks > 0 &&
              Recover(Cat("unterminated quoted field ", open_field,
                          ColumnName(open_field),
                          " (no closing '\"' before the end of the input)"),
                      last == '\n')) {
            return true;
          }
          if (quoted && record_error_.empty()) {
            record_error_ = "unterminated quoted field (missing closing '\"')";
          }
          if (last != '\n') ++owner_->line_;  // no final line break
          break;
        }
        any = true;
        last = c;
        const bool ends_record = !quoted && (c == '\n' || c == '\r');
        if (!ends_record && ++bytes > options_.max_line_bytes) {
          // Too long: the record is dropped without keeping more of it. A
          // line break just read inside quotes ends the line here.
          if (c == '\n') ++owner_->line_;
          if (breaks > 0 &&
              Recover(Cat("the record is longer than the limit of ",
                          options_.max_line_bytes,
                          " bytes for one record (--max-line-bytes)"),
                      c == '\n')) {
            return true;
          }
          uint64_t rest = 0;
          if (c != '\n') {
            HEALTHSCORE_ASSIGN_OR_RETURN(rest, SkipRestOfLine());
          }
          record_error_ = Cat("the record is ", bytes + rest,
                              " bytes long, more than the limit of ",
                              options_.max_line_bytes,
                              " bytes for one record (--max-line-bytes); it "
                              "was skipped");
          return true;
        }
        if (quoted) {
          if (c == '"') {
            HEALTHSCORE_ASSIGN_OR_RETURN(int next, Peek());
            if (next == '"') {
              record_.push_back('"');
              HEALTHSCORE_RETURN_IF_ERROR(Get().status());
              ++bytes;
            } else {
              quoted = false;
            }
            continue;
          }
          if (c == '\n') {
            ++owner_->line_;
            if (strict) {
              record_error_ =
                  Cat("unterminated quoted field ", fields_.size() + 1,
                      ColumnName(fields_.size() + 1),
                      " (missing closing '\"' on its line; lines ",
                      recovered_line_ + 1, "-", strict_until_,
                      " are read again after the bad record at line ",
                      recovered_line_,
                      ", so a quoted field there may not span "
                      "lines)");
              fields_.emplace_back(field_start, record_.size() - field_start);
              return true;
            }
            if (++breaks == 1) {
              open_field = fields_.size() + 1;
              capturing_ = true;  // from the first byte of the next line
            }
            if (breaks + 1 > max_lines) {
              if (!Recover(
                      Cat("quoted field ", open_field, ColumnName(open_field),
                          " is still open after ", max_lines,
                          " lines, the limit for one record "
                          "(--max-record-lines)"),
                      /*line_done=*/true)) {
                fields_.emplace_back(field_start, record_.size() - field_start);
              }
              return true;
            }
          }
          record_.push_back(static_cast<char>(c));
          continue;
        }
        if (c == ',') {
          fields_.emplace_back(field_start, record_.size() - field_start);
          field_start = record_.size();
          was_quoted = false;
          continue;
        }
        if (ends_record) {
          ++owner_->line_;
          if (c == '\r') {
            HEALTHSCORE_ASSIGN_OR_RETURN(int next, Peek());
            if (next == '\n') {
              HEALTHSCORE_RETURN_IF_ERROR(Get().status());
              last = '\n';
            }
          }
          break;
        }
        if (c == '"' && record_.size() == field_start && !was_quoted) {
          quoted = was_quoted = true;
          continue;
        }
        if (was_quoted && record_error_.empty()) {
          record_error_ =
              Cat("malformed quoted field ", fields_.size() + 1,
                  " (text after the closing quote; write \"\" for a quote)");
        }
        record_.push_back(static_cast<char>(c));
      }
      fields_.emplace_back(field_start, record_.size() - field_start);
      if (breaks > 0 && have_header_) {
        // A record whose quoted field held line breaks and that is
        // malformed was most likely opened by a stray quote.
        std::string why = record_error_;
        if (why.empty() && fields_.size() != header_.size()) {
          why = Cat(fields_.size(), " fields, but the header has ",
                    header_.size(), " columns");
        }
        if (!why.empty()) {
          Recover(std::move(why), /*line_done=*/true);
          return true;
        }
      }
      capturing_ = false;
      raw_.clear();
      bool blank = fields_.size() == 1 && record_.empty() && !was_quoted &&
                   record_error_.empty();
      if (!blank) return true;
      if (!any) return false;
    }
  }

  CsvReader* owner_;
  std::unique_ptr<ByteSource> source_;
  ReaderOptions options_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  // Recovery (see Recover): the bytes of the current record after its first
  // line (kept only once a quoted field spans lines), the bad record's line
  // and the last line read again.
  std::string raw_;
  bool capturing_ = false;
  uint64_t recovered_line_ = 0;
  uint64_t strict_until_ = 0;

  bool header_read_ = false;
  bool have_header_ = false;
  uint64_t header_line_ = 0;
  std::vector<std::string> header_;
  std::vector<int> columns_;  // per column: a slot, kIdColumn or kIgnoredColumn
  int id_column_ = -1;
  const CompiledModel* resolved_for_ = nullptr;

  std::string record_;
  std::vector<std::pair<size_t, size_t>> fields_;  // (offset, length)
  uint64_t record_line_ = 0;
  std::string record_error_;
  std::string location_scratch_;
};

CsvReader::CsvReader(std::unique_ptr<ByteSource> source,
                     const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(this, std::move(source), options)) {}

CsvReader::~CsvReader() = default;

absl::StatusOr<size_t> CsvReader::ReadBatch(Batch* batch, size_t max_rows) {
  return impl_->ReadBatch(batch, max_rows);
}

// ---------------------------------------------------------------------------
// YAML.

namespace {

std::string YamlWhere(std::string_view file, const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return std::string(file);
  return Cat(file, ":", mark.line + 1, ":", mark.column + 1);
}

const char* YamlKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

bool YamlNumber(const YAML::Node& node, double* out) {
  return node.IsScalar() && YAML::convert<double>::decode(node, *out);
}

class YamlRowParser {
 public:
  YamlRowParser(std::string_view file, const CompiledModel& model,
                BatchBuilder* builder, PendingRow* row)
      : file_(file), model_(model), builder_(builder), row_(row) {}

  void Parse(const YAML::Node& node) {
    if (!node.IsMap()) {
      Fail(node, "account", Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    static const std::vector<std::string> kKeys = {
        "id",    "as_of",         "metrics",        "attributes",
        "dates", "series",        "previous_score", "previous_tier",
        "asOf",  "previousScore", "previousTier"};
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        Fail(kv.first, "account", "keys must be plain names");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      const YAML::Node& value = kv.second;
      if (key == "id") {
        if (!value.IsScalar()) {
          Fail(value, key, Cat("expected a string, got ", YamlKind(value)));
        } else {
          row_->id = value.Scalar();
        }
      } else if (key == "as_of" || key == "asOf") {
        if (value.IsNull()) continue;
        double days;
        if (!value.IsScalar() || !ParseIsoDate(value.Scalar(), &days)) {
          Fail(value, key, "expected a date (YYYY-MM-DD)");
          continue;
        }
        row_->as_of = value.Scalar();
        row_->has_as_of = true;
      } else if (key == "previous_score" || key == "previousScore") {
        if (value.IsNull()) continue;
        if (!YamlNumber(value, &row_->previous_score)) {
          Fail(value, key, "expected a number");
          continue;
        }
        row_->has_previous_score = true;
      } else if (key == "previous_tier" || key == "previousTier") {
        if (value.IsNull()) continue;
        if (!value.IsScalar()) {
          Fail(value, key, "expected a tier id");
          continue;
        }
        row_->previous_tier = value.Scalar();
        row_->has_previous_tier = true;
      } else if (key == "metrics") {
        ParseSection(value, Section::kMetrics);
      } else if (key == "attributes") {
        ParseSection(value, Section::kAttributes);
      } else if (key == "dates") {
        ParseSection(value, Section::kDates);
      } else if (key == "series") {
        ParseSection(value, Section::kSeries);
      } else {
        std::string hint = DidYouMean(key, kKeys);
        Fail(kv.first, key,
             Cat("unknown key", hint.empty() ? "" : " (", hint,
                 hint.empty() ? "" : ")"));
      }
    }
    if (row_->id.empty()) {
      row_->Fail(YamlWhere(file_, node),
                 ": no id (\"id\" is missing or empty)");
    }
  }

 private:
  void Fail(const YAML::Node& at, std::string_view field,
            std::string_view message) {
    row_->Fail(YamlWhere(file_, at), ": ", field, ": ", message);
  }

  void ParseSection(const YAML::Node& node, Section section) {
    const char* section_name = SectionName(section);
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      Fail(node, section_name, Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    const CompiledModel& model = model_;
    for (const auto& kv : node) {
      std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      std::string field = Cat(section_name, ".", name);
      const YAML::Node& value = kv.second;
      int input = builder_->ResolveInput(name);
      if (input < 0) {
        std::vector<std::string> declared;
        for (const InputInfo& info : model.inputs()) {
          if (info.type == SectionType(section)) declared.push_back(info.id);
        }
        std::string hint = DidYouMean(name, declared);
        Fail(kv.first, field,
             Cat("the model declares no ", InputTypeName(SectionType(section)),
                 " input \"", name, "\"", hint.empty() ? "" : " (", hint,
                 hint.empty() ? "" : ")"));
        continue;
      }
      // The declared type decides, not the section (as in every reader).
      const InputType declared = model.inputs()[input].type;
      if (value.IsNull()) continue;
      switch (declared) {
        case InputType::kNumber: {
          double number;
          if (!YamlNumber(value, &number)) {
            Fail(value, field, "expected a number");
            continue;
          }
          row_->numbers.emplace_back(input, number);
          break;
        }
        case InputType::kString:
          if (!value.IsScalar()) {
            Fail(value, field, Cat("expected a string, got ", YamlKind(value)));
            continue;
          }
          row_->strings.emplace_back(input, value.Scalar());
          break;
        case InputType::kDate: {
          double days;
          if (!value.IsScalar() || !ParseIsoDate(value.Scalar(), &days)) {
            Fail(value, field, "expected a date (YYYY-MM-DD)");
            continue;
          }
          row_->dates.emplace_back(input, days);
          break;
        }
        case InputType::kSeries: {
          YAML::Node points = value;
          if (value.IsMap()) {
            points = value["values"];
            if (!points) {
              Fail(value, field,
                   "expected a list of numbers or {values: [...]}");
              continue;
            }
          }
          if (!points.IsSequence()) {
            Fail(value, field, "expected a list of numbers");
            continue;
          }
          size_t begin = row_->points.size();
          bool ok = true;
          for (size_t i = 0; i < points.size() && ok; ++i) {
            double number;
            if (!YamlNumber(points[i], &number)) {
              Fail(points[i], Cat(field, "[", i, "]"), "expected a number");
              ok = false;
              continue;
            }
            row_->points.push_back(number);
          }
          if (ok) row_->series.push_back({input, begin, row_->points.size()});
          break;
        }
      }
    }
  }

  std::string_view file_;
  const CompiledModel& model_;
  BatchBuilder* builder_;
  PendingRow* row_;
};

}  // namespace

void AddYamlSnapshot(const YAML::Node& node, std::string_view file,
                     const CompiledModel& model, BatchBuilder* builder) {
  PendingRow row;
  YamlRowParser(file, model, builder, &row).Parse(node);
  EmitRow(row, builder);
}

}  // namespace healthscore::engine::io
