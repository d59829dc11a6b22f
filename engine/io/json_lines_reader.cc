// JSON Lines reader (simdjson On-Demand). Each value goes into the
// AccountTable as it is found; binding applies the declared type (the rules
// every reader shares).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/io/line_blocks.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiled_model.h"
#include "simdjson.h"

namespace healthscore::engine::io {

using common::Cat;
using common::TruncateForDisplay;
using eval::AccountTable;
using eval::TableBuilder;

namespace {

using common::Cat;
using common::Trim;

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

class JsonLinesReader::Impl {
 public:
  Impl(JsonLinesReader* owner, std::unique_ptr<ByteSource> source,
       const ReaderOptions& options)
      : owner_(owner),
        source_(std::move(source)),
        options_(options),
        flat_(options.flat_records) {
    options_.block_size = std::max<size_t>(options_.block_size, 1);
  }

  absl::StatusOr<size_t> ReadTable(AccountTable* table, size_t max_rows) {
    table->Clear();
    TableBuilder builder(table);
    builder_ = &builder;
    size_t rows = 0;
    while (rows < max_rows && table->bytes() < options_.max_table_bytes) {
      Line line;
      HEALTHSCORE_ASSIGN_OR_RETURN(bool more, NextLine(&line));
      if (!more) break;
      if (AddLine(line)) ++rows;
    }
    builder_ = nullptr;
    return rows;
  }

  size_t ParseBlock(const LineBlock& block, AccountTable* table) {
    table->Clear();
    TableBuilder builder(table);
    builder_ = &builder;
    owner_->line_ = block.first_line - 1;
    size_t rows = 0;
    if (block.overlong > 0) {
      Line line;
      line.overlong = block.overlong;
      if (AddLine(line)) ++rows;
    }
    const char* data = block.data.get();
    for (size_t pos = 0; pos < block.size;) {
      const char* nl = static_cast<const char*>(
          std::memchr(data + pos, '\n', block.size - pos));
      const size_t length =
          nl == nullptr ? block.size - pos : static_cast<size_t>(nl - data) - pos;
      Line line;
      if (length > options_.max_line_bytes) {
        line.overlong = length;
      } else {
        line.text = std::string_view(data + pos, length);
        line.padded = block.readable(pos);
      }
      if (AddLine(line)) ++rows;
      pos += length + 1;
    }
    builder_ = nullptr;
    return rows;
  }

 private:
  // One line of the input, without its '\n'.
  struct Line;

  // Counts `line` and adds its account (or its error) to builder_; false
  // for a blank line, which adds no row.
  bool AddLine(const Line& line) {
    ++owner_->line_;
    if (line.overlong > 0) {
      builder_->BeginRow({});
      builder_->FailRow(Cat("line ", owner_->line_, ": the line is ",
                            line.overlong, " bytes long, more than the limit of ",
                            options_.max_line_bytes,
                            " bytes for one record (--max-line-bytes); it was "
                            "skipped. JSON Lines needs one account object per "
                            "line"));
      builder_->EndRow();
      return true;
    }
    std::string_view text = line.text;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (IsBlank(text)) return false;
    ParseLine(text, line.padded);
    return true;
  }

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
  // Puts `value` (of JSON type `type`) in `column` as it is written.
  bool PutValue(int column, simdjson::ondemand::value& value,
                simdjson::ondemand::json_type type);
  bool PutPoints(int column, simdjson::ondemand::array& array);
  bool PutObject(int column, simdjson::ondemand::value& value);
  bool DropPointsAndFail(simdjson::error_code error) {
    builder_->DropPoints();  // the row fails: its points are not kept
    return FailSyntax(error);
  }
  bool FailSyntax(simdjson::error_code error) {
    builder_->FailRow(Cat("line ", owner_->line_,
                          ": invalid JSON: ", simdjson::error_message(error)));
    return false;
  }

  JsonLinesReader* owner_;
  std::unique_ptr<ByteSource> source_;
  ReaderOptions options_;
  const bool flat_;  // ReaderOptions::flat_records
  std::unique_ptr<char[]> buf_;
  size_t capacity_ = 0;   // usable bytes; SIMDJSON_PADDING more are allocated
  size_t pos_ = 0;        // first unread byte
  size_t lines_end_ = 0;  // one past the last '\n' of the buffer, or 0
  size_t end_ = 0;        // bytes of data in the buffer
  bool eof_ = false;
  bool at_start_ = true;
  simdjson::ondemand::parser parser_;
  TableBuilder* builder_ = nullptr;  // during ReadTable
  // The current line's id (a view into the line or the parser's string
  // buffer) and the problem that keeps it from being one.
  std::string_view id_;
  std::string id_problem_;
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

// Whether a key as it lies in the line (after its opening quote) is `name`,
// which has no quote and no backslash (TableBuilder::GuessName). This is
// simdjson's unsafe_is_equal with the bytes compared inline instead of by a
// call to memcmp, which cost more than the comparison of a name this short
// (bench/README.md, issue 11). Like unsafe_is_equal it reads name.size() + 1
// bytes from the key: past its closing quote when `name` is longer, which
// the line's padding (SIMDJSON_PADDING bytes) covers for names no longer
// than that.
bool RawKeyIs(simdjson::ondemand::raw_json_string key,
              const std::string& name) {
  if (name.size() > simdjson::SIMDJSON_PADDING) {
    return key.unsafe_is_equal(name);
  }
  const char* raw = key.raw();
  return raw[name.size()] == '"' &&
         common::SameBytes(raw, name.data(), name.size());
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
  TableBuilder& b = *builder_;
  b.BeginRow({});
  b.SetRowLine(owner_->line_);
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
  TableBuilder& b = *builder_;
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
        const std::string_view raw = common::Trim(value.raw_json_token());
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
    if (bit == 0 || bit == kIdBit || (bit >= kMetricsBit && flat_)) {
      if (flat_) {
        // A flat record's keys are all columns; the test sits off the
        // path snapshot keys take.
        if (!PutValue(b.Column({"", key}), value, type)) return false;
        continue;
      }
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
        b.PutRecordWarning(b.Column({"", key}),
                           Cat("expected an object of inputs, got ",
                               JsonTypeName(type)));
        continue;
      }
      if (!ParseSection(value, key)) return false;
      continue;
    }
    // as_of, previous_score, previous_tier or their protobuf JSON names.
    if (!PutValue(b.Column({"", key}), value, type)) return false;
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
  TableBuilder& b = *builder_;
  const uint32_t section_id = b.SectionId(section);
  for (auto field_result : object) {
    if ((error = field_result.error())) return FailSyntax(error);
    od::field& field = field_result.value_unsafe();  // see NextField
    // Records of one export name their fields in one order: the key is
    // compared where it lies with the name the builder expects, and
    // decoded (parse_string) and looked up only when it is another.
    int column;
    const std::string* guess = b.GuessName(section_id);
    if (guess != nullptr && RawKeyIs(field.key(), *guess)) {
      column = b.TakeGuess();
    } else {
      std::string_view name;
      if ((error = field.unescaped_key().get(name))) return FailSyntax(error);
      column = b.Column({section, name});
    }
    od::value& v = field.value();
    json_type type;
    if ((error = v.type().get(type))) return FailSyntax(error);
    if (!PutValue(column, v, type)) return false;
  }
  return true;
}

bool JsonLinesReader::Impl::PutValue(int slot,
                                     simdjson::ondemand::value& value,
                                     simdjson::ondemand::json_type type) {
  using simdjson::ondemand::json_type;
  TableBuilder& b = *builder_;
  simdjson::error_code error;
  switch (type) {
    case json_type::null:
      return true;  // missing
    case json_type::number: {
      double number;
      if ((error = value.get_double().get(number))) {
        b.PutUnusable(slot,
                      Cat("invalid number: ", simdjson::error_message(error)));
        return true;
      }
      b.PutNumber(slot, number);
      return true;
    }
    case json_type::string: {
      std::string_view text;
      if ((error = value.get_string().get(text))) return FailSyntax(error);
      b.PutString(slot, text);
      return true;
    }
    case json_type::boolean: {
      bool flag;
      if ((error = value.get_bool().get(flag))) return FailSyntax(error);
      b.PutBool(slot, flag);
      return true;
    }
    case json_type::array: {
      simdjson::ondemand::array array;
      if ((error = value.get_array().get(array))) return FailSyntax(error);
      return PutPoints(slot, array);
    }
    case json_type::object:
      return PutObject(slot, value);
  }
  return true;
}

// An object: the protobuf JSON form of a series, {"values": [...]}, when
// its column turns out to be a series input (binding decides), otherwise a
// value of the wrong kind. Its "values" entries are kept either way.
bool JsonLinesReader::Impl::PutObject(int slot,
                                      simdjson::ondemand::value& value) {
  using simdjson::ondemand::json_type;
  namespace od = simdjson::ondemand;
  od::object object;
  simdjson::error_code error = value.get_object().get(object);
  if (error) return FailSyntax(error);
  builder_->BeginObject(slot);
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
    if (type == json_type::object) {
      // Never a series, and reading into it would recurse once per level
      // of a hostile {"values": {"values": ...}}, past the end of the
      // stack; simdjson skips it without recursing.
      builder_->PutWrongKind(slot, "an object in \"values\"");
      continue;
    }
    if (!PutValue(slot, v, type)) return false;
  }
  builder_->EndObject(seen);
  return true;
}

bool JsonLinesReader::Impl::PutPoints(int slot,
                                      simdjson::ondemand::array& array) {
  using simdjson::ondemand::json_type;
  builder_->BeginPoints();
  std::string problem;
  size_t index = 0;
  for (auto element : array) {
    ++index;
    simdjson::ondemand::value v;
    simdjson::error_code error = std::move(element).get(v);
    json_type type;
    if (error || (error = v.type().get(type))) return DropPointsAndFail(error);
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
      if ((error = v.get_string().get(text))) return DropPointsAndFail(error);
      if (!eval::IsNonFiniteNumberWord(text)) {
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
    builder_->AddPoint(number);
  }
  if (!problem.empty()) {
    builder_->DropPoints();
    builder_->PutUnusable(slot, problem);
  } else {
    builder_->EndPoints(slot);
  }
  return true;
}

JsonLinesReader::JsonLinesReader(std::unique_ptr<ByteSource> source,
                                 const ReaderOptions& options)
    : SnapshotReader(options),
      impl_(std::make_unique<Impl>(this, std::move(source), options)) {}

JsonLinesReader::~JsonLinesReader() = default;

JsonLinesReader::JsonLinesReader(const ReaderOptions& options)
    : JsonLinesReader(StringSource(""), options) {}

absl::StatusOr<size_t> JsonLinesReader::ReadTable(AccountTable* table,
                                                  size_t max_rows) {
  return impl_->ReadTable(table, max_rows);
}

size_t JsonLinesReader::ParseBlock(const LineBlock& block,
                                   AccountTable* table) {
  return impl_->ParseBlock(block, table);
}

static_assert(kLineBlockPadding >= simdjson::SIMDJSON_PADDING,
              "line blocks must be padded for simdjson");


}  // namespace healthscore::engine::io
