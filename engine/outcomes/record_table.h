// Keyed records: a CSV or JSON Lines file with one record per account
// (outcome files, revenue files), read into typed columns by a declared
// schema.
//
// The bytes are read by the snapshot readers of engine/io, so a keyed file
// is read exactly as a snapshot file is: RFC 4180 CSV with its header,
// quoted fields spanning lines and the recovery from a stray quote; JSON
// Lines with one flat object per line (ReaderOptions::flat_records); a
// UTF-8 byte order mark, CRLF line ends and blank lines; the id under
// ReaderOptions::id_field (`--id-field`), a JSON number id kept as written;
// the limits ReaderOptions::max_line_bytes (`--max-line-bytes`) and
// max_record_lines (`--max-record-lines`). This file adds only the typed
// reading of each value:
//
//   bool    CSV: true/false, yes/no (any case) or a number equal to 1 or 0
//           ("1", "0", "1.0" as pandas writes a column with gaps).
//           JSON: true/false, or the numbers 1 and 0.
//   number  CSV: a decimal or scientific number. JSON: a number. Both:
//           "NaN", "Infinity", "-Infinity" (any case) are missing, as for
//           snapshot inputs (engine/eval/batch.h).
//   decimal An exact amount (common::Decimal, 12 decimals): CSV: decimal
//           text read by common::ParseDecimal ("1234.56", "1.5e3").
//           JSON: a number, read by Decimal::FromDouble (exact as written
//           up to 15 significant digits), or a string of decimal text (so
//           that longer amounts arrive exactly). "NaN", "Infinity",
//           "-Infinity" are missing. Digits past the 12th decimal are
//           rounded half to even and counted in rounded_values(); a value
//           out of Decimal's range (about 1.7e26) is bad.
//   date    "YYYY-MM-DD", optionally with an RFC 3339 time (checked, then
//           ignored), read by eval::ParseIsoDate; kept as days since
//           1970-01-01.
//   string  CSV: the cell as written. JSON: a string, or a number or
//           boolean kept as its JSON text (numbers in their shortest form).
//
// An empty CSV cell (or one of blanks) and a JSON null are missing, not
// bad. Bad input costs as little as possible, never the file:
//   - a value that does not fit its column (a bool column holding "maybe",
//     a date that is not a date, a JSON object or list, a key given twice
//     in one record) is missing in its record and counted in bad_values(),
//     with a text naming the line, the column and the value; with
//     ReaderOptions::strict the record is dropped instead (bad_records());
//   - a record that cannot be read (not valid JSON, not an object, a CSV
//     record of the wrong shape, no id, longer than max_line_bytes) is
//     dropped and counted in bad_records(), with the reader's text ("line
//     7: invalid JSON: ...");
//   - an id given by several records is ambiguous: every record with that
//     id is dropped, and the id is counted in duplicate_ids() (with the
//     lines of its records). FindRow does not find it; IsDuplicateId does.
// Only problems with the file as a whole are errors: it cannot be opened
// or read, or its CSV header has no id column, names a column twice or is
// malformed.
//
// Columns the schema does not declare are kept as string columns when
// RecordSchema::keep_other_columns is set (except a column without a name,
// such as the index column pandas writes), else ignored; either way at most
// RecordReaderOptions::max_columns columns are kept, and every value of a
// column not kept is counted by name in ignored_columns().
//
// Memory: the table holds every kept record (ids, one cell per column per
// record; strings are dictionary-coded per column). While reading, at
// most about one reader block plus ReaderOptions::max_table_bytes of
// records are held besides the table.
//
// Thread-safety: reading is single-threaded; a RecordTable once read is
// immutable and may be read from many threads.

#ifndef HEALTHSCORE_ENGINE_OUTCOMES_RECORD_TABLE_H_
#define HEALTHSCORE_ENGINE_OUTCOMES_RECORD_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/common/decimal.h"
#include "engine/io/byte_source.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::engine::outcomes {

enum class ColumnType : uint8_t { kBool, kNumber, kDate, kString, kDecimal };

// "bool", "number", "date", "string", "decimal".
std::string_view ColumnTypeName(ColumnType type);

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kString;
};

struct RecordSchema {
  // The declared columns, each name once (and not the id field). They are
  // the table's first columns, in this order, whether or not the file has
  // them.
  std::vector<ColumnSpec> columns;
  // Keep the columns the schema does not declare as string columns (after
  // the declared ones, in the order the file first names them) instead of
  // ignoring them.
  bool keep_other_columns = false;
};

struct RecordReaderOptions {
  // How the bytes are read: id_field, max_line_bytes, max_record_lines,
  // block_size, max_table_bytes and strict as for snapshot files.
  // flat_records is always set.
  io::ReaderOptions reader;
  // The most columns the table keeps, declared ones included (the declared
  // ones are always kept). Further columns are ignored and counted, so an
  // input that invents a new key on every line cannot grow the table
  // without bound.
  size_t max_columns = 256;
  // The most texts each ProblemList keeps; every problem is counted.
  size_t max_problem_texts = 100;
};

// Problems of one kind: how many there were, and the texts of the first
// ones (each names its line, e.g. `line 7: churned: "maybe" is not a
// boolean ...`).
struct ProblemList {
  uint64_t count = 0;
  std::vector<std::string> texts;

  // Counts a problem and keeps `text` if fewer than `max_texts` are kept.
  void Add(std::string text, size_t max_texts);
};

class RecordTable {
 public:
  // Whether a record had a usable value for a column.
  enum class Cell : uint8_t {
    kMissing,  // not given (absent, empty, null, NaN)
    kPresent,  // given and usable
    kBad,      // given but unusable: counted in bad_values(), read as missing
  };

  RecordTable() = default;
  RecordTable(RecordTable&&) = default;
  RecordTable& operator=(RecordTable&&) = default;
  RecordTable(const RecordTable&) = delete;
  RecordTable& operator=(const RecordTable&) = delete;

  // Records kept (bad and duplicated ones are not), in file order.
  size_t size() const { return lines_.size(); }
  std::string_view id(size_t row) const {
    return std::string_view(ids_->data() + id_spans_[row].first,
                            id_spans_[row].second);
  }
  // The line (from 1) on which record `row` starts.
  uint64_t line(size_t row) const { return lines_[row]; }
  // The row of the record with `id`, or -1 when no record kept has it.
  int64_t FindRow(std::string_view id) const;
  // Whether `id` was given by several records (all of them dropped).
  bool IsDuplicateId(std::string_view id) const {
    return duplicates_.contains(absl::string_view(id.data(), id.size()));
  }

  size_t column_count() const { return columns_.size(); }
  const std::string& column_name(size_t c) const { return columns_[c].name; }
  ColumnType column_type(size_t c) const { return columns_[c].type; }
  // Whether column `c` was declared by the schema (else it was kept from
  // the file by RecordSchema::keep_other_columns).
  bool column_declared(size_t c) const { return columns_[c].declared; }
  // Whether the file names column `c`: in its CSV header, or as a key of
  // at least one JSON Lines record.
  bool column_in_file(size_t c) const { return columns_[c].in_file; }
  // The column named `name`, or -1.
  int FindColumn(std::string_view name) const;

  Cell cell(size_t c, size_t row) const {
    return static_cast<Cell>(columns_[c].cells[row]);
  }
  bool has(size_t c, size_t row) const {
    return cell(c, row) == Cell::kPresent;
  }
  // The value of a present cell of a bool column.
  bool flag(size_t c, size_t row) const {
    return columns_[c].numbers[row] != 0;
  }
  // The value of a present cell of a number column, of a date column
  // (days since 1970-01-01), or of a decimal column (the double nearest to
  // the decimal, for ratios and charts).
  double number(size_t c, size_t row) const { return columns_[c].numbers[row]; }
  // The exact value of a present cell of a decimal column (zero when
  // missing).
  common::Decimal decimal(size_t c, size_t row) const {
    return columns_[c].decimals[row];
  }
  // The value of a present cell of a string column (empty when missing).
  std::string_view text(size_t c, size_t row) const;
  // A string column's values as codes into string_dictionary(c) (-1 when
  // not present): for grouping records by a column without comparing text.
  int32_t string_code(size_t c, size_t row) const {
    return columns_[c].codes[row];
  }
  const std::vector<std::string>& string_dictionary(size_t c) const {
    return columns_[c].dictionary;
  }

  // Records dropped: unreadable, without an id, or (strict) with a bad
  // value.
  const ProblemList& bad_records() const { return bad_records_; }
  // Values read as missing because they did not fit their column.
  const ProblemList& bad_values() const { return bad_values_; }
  // Decimal values with digits past the 12th decimal, rounded (half to
  // even) and kept; each text names the line, the column and the value as
  // written. Counted for the records read (a record later dropped as a
  // duplicate keeps its count).
  const ProblemList& rounded_values() const { return rounded_values_; }
  // Ids given by several records: count is the number of such ids, each
  // text names the id and the lines of its records.
  const ProblemList& duplicate_ids() const { return duplicate_ids_; }
  // The records dropped because their id was given more than once.
  uint64_t duplicate_records() const { return duplicate_records_; }
  // Columns neither declared nor kept, with how many values each had (at
  // most 64 names).
  const std::map<std::string, uint64_t>& ignored_columns() const {
    return ignored_columns_;
  }
  // Physical lines read, the CSV header and blank lines included.
  uint64_t lines_read() const { return lines_read_; }

 private:
  friend class RecordTableBuilder;

  struct Column {
    std::string name;
    ColumnType type = ColumnType::kString;
    bool declared = false;
    bool in_file = false;
    std::vector<uint8_t> cells;   // Cell per row
    std::vector<double> numbers;  // bool (0/1), number, date, decimal
    std::vector<common::Decimal> decimals;  // decimal columns
    std::vector<int32_t> codes;   // string columns
    std::vector<std::string> dictionary;
    absl::flat_hash_map<std::string, int32_t> dictionary_index;
  };

  std::vector<Column> columns_;
  // Every id read, dropped records' included. Held by pointer so that the
  // views below stay valid when the table is moved.
  std::unique_ptr<std::string> ids_ = std::make_unique<std::string>();
  std::vector<std::pair<uint64_t, uint32_t>> id_spans_;  // (offset, size)
  std::vector<uint64_t> lines_;
  // Views into *ids_, which no longer changes once the table is read.
  absl::flat_hash_map<absl::string_view, uint32_t> index_;
  absl::flat_hash_set<absl::string_view> duplicates_;
  ProblemList bad_records_;
  ProblemList bad_values_;
  ProblemList rounded_values_;
  ProblemList duplicate_ids_;
  uint64_t duplicate_records_ = 0;
  std::map<std::string, uint64_t> ignored_columns_;
  uint64_t lines_read_ = 0;
};

// Reads every record of `source` (in `format`) into a table of `schema`'s
// columns. Errors: the source's read errors; InvalidArgument for a file
// unreadable as a whole (see the file comment) and for a schema that
// names a column twice, names the id field, or has a column with an empty
// name.
absl::StatusOr<RecordTable> ReadRecords(
    std::unique_ptr<io::ByteSource> source, io::InputFormat format,
    const RecordSchema& schema, const RecordReaderOptions& options = {});

// Opens `path` ("-" for standard input) and reads it (ReadRecords). Errors
// also those of io::OpenFileSource; a message names the path.
absl::StatusOr<RecordTable> ReadRecordFile(
    const std::string& path, io::InputFormat format, const RecordSchema& schema,
    const RecordReaderOptions& options = {});

}  // namespace healthscore::engine::outcomes

#endif  // HEALTHSCORE_ENGINE_OUTCOMES_RECORD_TABLE_H_
