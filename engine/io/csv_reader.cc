// RFC 4180 CSV reader. Each cell goes into the AccountTable as text;
// binding applies the column's declared type (the rules every reader
// shares).

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::engine::io {

using common::Cat;
using common::Trim;
using eval::TableBuilder;

using common::Cat;
using common::Trim;

class CsvReader::Impl {
 public:
  Impl(CsvReader* owner, std::unique_ptr<ByteSource> source,
       const ReaderOptions& options)
      : owner_(owner), source_(std::move(source)), options_(options) {
    options_.block_size = std::max<size_t>(options_.block_size, 1);
    buf_.resize(options_.block_size);
  }

  absl::StatusOr<size_t> ReadTable(eval::AccountTable* table, size_t max_rows) {
    table->Clear();
    TableBuilder builder(table);
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
    if (resolved_for_ != table->uid()) {
      HEALTHSCORE_RETURN_IF_ERROR(ResolveHeader(&builder));
      resolved_for_ = table->uid();
    }
    size_t rows = 0;
    while (rows < max_rows && table->bytes() < options_.max_table_bytes) {
      HEALTHSCORE_ASSIGN_OR_RETURN(bool any, NextRecord());
      if (!any) break;
      AddRecord(&builder);
      ++rows;
    }
    return rows;
  }

 private:
  // A CSV column is the id or the table column its cells are put in.
  static constexpr int kIdColumn = -10;

  std::string_view Field(size_t i) const {
    return std::string_view(record_.data() + fields_[i].first,
                            fields_[i].second);
  }

  absl::Status ResolveHeader(TableBuilder* builder) {
    columns_.assign(header_.size(), kIdColumn);
    id_column_ = -1;
    // A hash map, not a scan of the names before each one: a hostile header
    // may hold millions of names (up to max_line_bytes).
    absl::flat_hash_map<absl::string_view, size_t> seen;
    seen.reserve(header_.size());
    for (size_t i = 0; i < header_.size(); ++i) {
      const std::string& name = header_[i];
      if (!name.empty()) {
        auto [it, inserted] = seen.try_emplace(name, i);
        if (!inserted) {
          return absl::InvalidArgumentError(
              Cat("CSV header (line ", header_line_, "): column \"", name,
                  "\" appears twice (columns ", it->second + 1, " and ",
                  i + 1, ")"));
        }
      }
      int& c = columns_[i];
      if (name == options_.id_field) {
        c = kIdColumn;
        id_column_ = static_cast<int>(i);
      } else {
        c = builder->Column({"", name});
      }
    }
    if (id_column_ < 0) {
      return absl::InvalidArgumentError(
          Cat("CSV header (line ", header_line_, ") has no \"",
              options_.id_field, "\" column",
              options_.id_field == "id" ? "" : " (--id-field)",
              "; columns: ", common::JoinForDisplay(header_)));
    }
    return absl::OkStatus();
  }

  void AddRecord(TableBuilder* builder) {
    TableBuilder& b = *builder;
    b.BeginRow(fields_.size() > static_cast<size_t>(id_column_)
                   ? Trim(Field(id_column_))
                   : std::string_view());
    b.SetRowLine(record_line_);
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
      b.KeepRecordText(std::string_view(record_.data(), record_.size()));
      for (size_t i = 0; i < columns_.size(); ++i) {
        const int slot = columns_[i];
        // An empty cell is missing whatever the column's type: not kept.
        if (slot == kIdColumn || fields_[i].second == 0) continue;
        b.PutTextSlice(slot, fields_[i].first, fields_[i].second);
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
  // The end of the run of bytes at `p` that are plain text outside quotes
  // (no ',', '"', CR or LF) or inside quotes (no '"' or LF).
  static const char* PlainRunEnd(const char* p, const char* end) {
    while (p < end && *p != ',' && *p != '"' && *p != '\n' && *p != '\r') ++p;
    return p;
  }
  static const char* QuotedRunEnd(const char* p, const char* end) {
    while (p < end && *p != '"' && *p != '\n') ++p;
    return p;
  }
  // Text outside quotes in a field that started with a quote.
  void NoteTextAfterQuote(bool was_quoted) {
    if (was_quoted && record_error_.empty()) {
      record_error_ =
          Cat("malformed quoted field ", fields_.size() + 1,
              " (text after the closing quote; write \"\" for a quote)");
    }
  }

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
        // Most bytes are plain field text: take a run of them from the
        // buffer at once instead of byte by byte (the byte loop below
        // handles every byte that means something, and a run that would
        // pass the record's size limit, exactly as before).
        if (pos_ < end_) {
          const char* begin = buf_.data() + pos_;
          const char* run =
              quoted ? QuotedRunEnd(begin, buf_.data() + end_)
                     : PlainRunEnd(begin, buf_.data() + end_);
          const size_t k = static_cast<size_t>(run - begin);
          if (k > 0 && bytes + k <= options_.max_line_bytes) {
            any = true;
            last = static_cast<unsigned char>(run[-1]);
            bytes += k;
            if (!quoted) NoteTextAfterQuote(was_quoted);
            record_.append(begin, k);
            if (capturing_) raw_.append(begin, k);
            pos_ += k;
            continue;
          }
        }
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
        NoteTextAfterQuote(was_quoted);
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
  std::vector<int> columns_;  // per CSV column: a table column or kIdColumn
  int id_column_ = -1;
  uint64_t resolved_for_ = 0;  // the table columns_ refers to (its uid)

  std::string record_;
  std::vector<std::pair<size_t, size_t>> fields_;  // (offset, length)
  uint64_t record_line_ = 0;
  std::string record_error_;
};

CsvReader::CsvReader(std::unique_ptr<ByteSource> source,
                     const ReaderOptions& options)
    : SnapshotReader(options),
      impl_(std::make_unique<Impl>(this, std::move(source), options)) {}

CsvReader::~CsvReader() = default;

absl::StatusOr<size_t> CsvReader::ReadTable(eval::AccountTable* table,
                                            size_t max_rows) {
  return impl_->ReadTable(table, max_rows);
}

}  // namespace healthscore::engine::io
