// Keyed records: the snapshot readers (flat records) fill an AccountTable a
// few thousand rows at a time; each row's values are typed into the
// RecordTable's columns here.

#include "engine/outcomes/record_table.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/match.h"
#include "engine/common/display.h"
#include "engine/common/number_format.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"

namespace healthscore::engine::outcomes {

using common::Cat;
using common::ToAbsl;
using common::TruncateForDisplay;
using eval::AccountTable;

namespace {

// Rows per AccountTable fill: enough to amortise the call, few enough that
// the table stays small (ReaderOptions::max_table_bytes bounds it too).
constexpr size_t kRowsPerRead = 4096;
constexpr size_t kMaxIgnoredNames = 64;
// Lines named per duplicated id.
constexpr size_t kMaxDuplicateLines = 10;

std::string Quoted(std::string_view text) {
  return Cat("\"", TruncateForDisplay(text), "\"");
}

const char* Expected(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return "expected a boolean (true/false, yes/no, 1/0)";
    case ColumnType::kNumber:
      return "expected a number";
    case ColumnType::kDate:
      return "expected a date (YYYY-MM-DD)";
    case ColumnType::kString:
      return "expected a string";
    case ColumnType::kDecimal:
      return "expected a decimal number";
  }
  return "expected a value";
}

// The number N of a reader's row location "line N: ", or 0.
uint64_t LineOf(std::string_view location) {
  if (!absl::StartsWith(ToAbsl(location), "line ")) return 0;
  uint64_t line = 0;
  for (size_t i = 5; i < location.size(); ++i) {
    const char c = location[i];
    if (c < '0' || c > '9') break;
    line = line * 10 + static_cast<uint64_t>(c - '0');
  }
  return line;
}

// A bool written as text: true/false, yes/no (any case), or a number equal
// to 1 or 0. False if `text` is none of these.
bool ParseBoolText(std::string_view text, bool* value) {
  const absl::string_view t = ToAbsl(text);
  if (absl::EqualsIgnoreCase(t, "true") || absl::EqualsIgnoreCase(t, "yes")) {
    *value = true;
    return true;
  }
  if (absl::EqualsIgnoreCase(t, "false") || absl::EqualsIgnoreCase(t, "no")) {
    *value = false;
    return true;
  }
  double number = 0;
  if (eval::ParseNumberText(text, &number) && (number == 0 || number == 1)) {
    *value = number == 1;
    return true;
  }
  return false;
}

}  // namespace

void ProblemList::Add(std::string text, size_t max_texts) {
  ++count;
  if (texts.size() < max_texts) texts.push_back(std::move(text));
}

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kNumber:
      return "number";
    case ColumnType::kDate:
      return "date";
    case ColumnType::kString:
      return "string";
    case ColumnType::kDecimal:
      return "decimal";
  }
  return "value";
}

int64_t RecordTable::FindRow(std::string_view id) const {
  auto it = index_.find(ToAbsl(id));
  return it == index_.end() ? -1 : static_cast<int64_t>(it->second);
}

int RecordTable::FindColumn(std::string_view name) const {
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (columns_[c].name == name) return static_cast<int>(c);
  }
  return -1;
}

std::string_view RecordTable::text(size_t c, size_t row) const {
  const Column& column = columns_[c];
  const int32_t code = column.codes[row];
  return code < 0 ? std::string_view() : column.dictionary[code];
}

// Fills a RecordTable from AccountTables of flat records.
class RecordTableBuilder {
 public:
  RecordTableBuilder(const RecordSchema& schema,
                     const RecordReaderOptions& options, RecordTable* table)
      : options_(options), keep_other_(schema.keep_other_columns), t_(*table) {
    for (const ColumnSpec& spec : schema.columns) {
      RecordTable::Column& column = t_.columns_.emplace_back();
      column.name = spec.name;
      column.type = spec.type;
      column.declared = true;
      by_name_.emplace(spec.name, static_cast<int>(t_.columns_.size() - 1));
    }
    stamps_.assign(t_.columns_.size(), 0);
  }

  // Adds every row of `in`.
  void AddRows(const AccountTable& in) {
    if (in.uid() != uid_) {
      // A new table, or one that forgot its columns: resolve them again.
      uid_ = in.uid();
      map_.clear();
      ignored_.clear();
    }
    while (map_.size() < in.column_count()) {
      map_.push_back(Resolve(in.column(map_.size()).name));
      ignored_.push_back(0);
    }
    for (size_t row = 0; row < in.size(); ++row) AddRow(in, row);
    // Now, while `in` still knows the names (its next fill may forget
    // them).
    FlushIgnored(in);
  }

  // Sets aside the records of duplicated ids and builds the index.
  void Finish(uint64_t lines_read) {
    t_.lines_read_ = lines_read;
    for (RecordTable::Column& column : t_.columns_) {
      column.dictionary_index = {};  // only needed while reading
    }
    DropDuplicates();
  }

 private:
  // Column for a name of the file: a declared column, a kept one (added
  // now if there is room), or -1 (ignored).
  int Resolve(std::string_view name) {
    auto it = by_name_.find(ToAbsl(name));
    if (it != by_name_.end()) {
      t_.columns_[it->second].in_file = true;
      return it->second;
    }
    // A column without a name (pandas writes its index that way) is
    // ignored, never kept.
    if (!keep_other_ || name.empty() ||
        t_.columns_.size() >= options_.max_columns) {
      return -1;
    }
    RecordTable::Column& column = t_.columns_.emplace_back();
    column.name = std::string(name);
    column.type = ColumnType::kString;
    column.in_file = true;
    // Missing for the records read before the column was first named.
    column.cells.assign(t_.lines_.size(),
                        static_cast<uint8_t>(RecordTable::Cell::kMissing));
    column.codes.assign(t_.lines_.size(), -1);
    const int c = static_cast<int>(t_.columns_.size() - 1);
    by_name_.emplace(column.name, c);
    stamps_.push_back(0);
    return c;
  }

  void FlushIgnored(const AccountTable& in) {
    for (size_t i = 0; i < ignored_.size(); ++i) {
      if (ignored_[i] == 0) continue;
      const std::string name(in.column(i).name);
      auto it = t_.ignored_columns_.find(name);
      if (it != t_.ignored_columns_.end()) {
        it->second += ignored_[i];
      } else if (t_.ignored_columns_.size() < kMaxIgnoredNames) {
        t_.ignored_columns_.emplace(name, ignored_[i]);
      }
    }
    std::fill(ignored_.begin(), ignored_.end(), 0);
  }

  void AddRow(const AccountTable& in, size_t row) {
    if (in.row_failed(row)) {
      t_.bad_records_.Add(std::string(in.row_error(row)),
                          options_.max_problem_texts);
      return;
    }
    const std::string location = in.row_location(row);
    const size_t r = t_.lines_.size();
    const uint64_t stamp = ++stamp_;
    const size_t ids_size = t_.ids_->size();
    const std::string_view id = in.id(row);
    t_.id_spans_.emplace_back(ids_size, static_cast<uint32_t>(id.size()));
    t_.ids_->append(id.data(), id.size());
    t_.lines_.push_back(LineOf(location));
    for (RecordTable::Column& column : t_.columns_) {
      column.cells.push_back(static_cast<uint8_t>(RecordTable::Cell::kMissing));
      if (column.type == ColumnType::kString) {
        column.codes.push_back(-1);
      } else {
        column.numbers.push_back(0);
        if (column.type == ColumnType::kDecimal) column.decimals.emplace_back();
      }
    }
    problems_.clear();
    rounded_.clear();
    location_ = location;
    in.RowValues(row, &values_);
    for (const AccountTable::RowValue& v : values_) {
      const int c = map_[v.column];
      if (c < 0) {
        ++ignored_[v.column];
        continue;
      }
      RecordTable::Column& column = t_.columns_[c];
      if (stamps_[c] == stamp) {
        // JSON leaves the meaning of a repeated key open: neither is used.
        column.cells[r] = static_cast<uint8_t>(RecordTable::Cell::kBad);
        problems_.push_back(Cat(TruncateForDisplay(column.name),
                                ": given twice in one record"));
        continue;
      }
      stamps_[c] = stamp;
      std::string problem;
      Put(&column, r, v, &problem);
      if (!problem.empty()) {
        column.cells[r] = static_cast<uint8_t>(RecordTable::Cell::kBad);
        problems_.push_back(
            Cat(TruncateForDisplay(column.name), ": ", problem));
      }
    }
    if (problems_.empty()) {
      FlushRounded();
      return;
    }
    if (options_.reader.strict) {
      // The record fails: take it back out.
      std::string text(location);
      for (size_t i = 0; i < problems_.size(); ++i) {
        text.append(i == 0 ? "" : "; ");
        text.append(problems_[i]);
      }
      t_.bad_records_.Add(std::move(text), options_.max_problem_texts);
      t_.ids_->resize(ids_size);
      t_.id_spans_.pop_back();
      t_.lines_.pop_back();
      for (RecordTable::Column& column : t_.columns_) {
        column.cells.pop_back();
        if (column.type == ColumnType::kString) {
          column.codes.pop_back();
        } else {
          column.numbers.pop_back();
          if (column.type == ColumnType::kDecimal) column.decimals.pop_back();
        }
      }
      return;
    }
    FlushRounded();
    for (const std::string& p : problems_) {
      t_.bad_values_.Add(Cat(location, p, "; used as missing"),
                         options_.max_problem_texts);
    }
  }

  // Stores value `v` in row `r` of `column`, or says in *problem why it
  // does not fit. A missing value leaves the cell missing.
  void Put(RecordTable::Column* column, size_t r,
           const AccountTable::RowValue& v, std::string* problem) {
    using Kind = AccountTable::Kind;
    const ColumnType type = column->type;
    switch (v.kind) {
      case Kind::kNumber:
      case Kind::kDateDays:
        if (!std::isfinite(v.number)) return;  // missing
        if (type == ColumnType::kDecimal && v.kind == Kind::kNumber) {
          common::Decimal d;
          bool rounded = false;
          if (!common::Decimal::FromDouble(v.number, &d, &rounded)) {
            *problem = Cat("the number ", common::FormatNumber(v.number),
                           " is out of range for a decimal amount");
          } else {
            SetDecimal(column, r, d, rounded, common::FormatNumber(v.number),
                       v.number);
          }
        } else if (type == ColumnType::kNumber ||
            (type == ColumnType::kDate && v.kind == Kind::kDateDays &&
             eval::IsSupportedDateDays(v.number)) ||
            (type == ColumnType::kBool && (v.number == 0 || v.number == 1))) {
          SetNumber(column, r, v.number);
        } else if (type == ColumnType::kString) {
          SetString(column, r, common::FormatNumber(v.number));
        } else {
          *problem = Cat(Expected(type), ", got the number ",
                         common::FormatNumber(v.number));
        }
        return;
      case Kind::kBool:
        if (type == ColumnType::kBool) {
          SetNumber(column, r, v.flag ? 1 : 0);
        } else if (type == ColumnType::kString) {
          SetString(column, r, v.flag ? "true" : "false");
        } else {
          *problem = Cat(Expected(type), ", got ", v.flag ? "true" : "false");
        }
        return;
      case Kind::kString:
        PutString(column, r, v.text, /*typed=*/true, problem);
        return;
      case Kind::kText:
      case Kind::kScalar:
        PutString(column, r, v.text, /*typed=*/false, problem);
        return;
      case Kind::kSeries:
        *problem = Cat(Expected(type), ", got a list");
        return;
      case Kind::kObject:
        *problem = Cat(Expected(type), ", got an object");
        return;
      case Kind::kWrongKind:
        *problem = Cat(Expected(type), ", got ", v.text);
        return;
      case Kind::kUnusable:
      case Kind::kRecordWarning:
        *problem = Cat(Expected(type), ", got a value that cannot be read (",
                       v.text, ")");
        return;
    }
  }

  // Text: a JSON string (`typed`) or a CSV cell.
  void PutString(RecordTable::Column* column, size_t r, std::string_view text,
                 bool typed, std::string* problem) {
    const ColumnType type = column->type;
    const std::string_view trimmed = common::Trim(text);
    if (trimmed.empty()) return;  // missing
    switch (type) {
      case ColumnType::kString:
        SetString(column, r, text);
        return;
      case ColumnType::kNumber: {
        if (eval::IsNonFiniteNumberWord(trimmed)) return;  // missing
        double number = 0;
        if (typed) {
          *problem = Cat(Expected(type), ", got the string ", Quoted(text));
        } else if (!eval::ParseNumberText(trimmed, &number)) {
          *problem = Cat(Quoted(text), " is not a number");
        } else if (!std::isfinite(number)) {
          *problem = Cat(Quoted(text), " is too large for a number");
        } else {
          SetNumber(column, r, number);
        }
        return;
      }
      case ColumnType::kDate: {
        double days = 0;
        if (!eval::ParseIsoDate(trimmed, &days)) {
          *problem = Cat(Quoted(text), " is not a date (YYYY-MM-DD)");
        } else {
          SetNumber(column, r, days);
        }
        return;
      }
      case ColumnType::kDecimal: {
        if (eval::IsNonFiniteNumberWord(trimmed)) return;  // missing
        // A JSON string is accepted too: it carries amounts past the 15
        // significant digits a JSON number (a double) keeps exactly.
        common::Decimal d;
        bool rounded = false;
        double number = 0;
        if (common::ParseDecimal(trimmed, &d, &rounded)) {
          // The text's own double is the decimal's unless digits were
          // rounded away (SetDecimal then asks the decimal).
          if (!eval::ParseNumberText(trimmed, &number)) number = NAN;
          SetDecimal(column, r, d, rounded, trimmed, number);
        } else if (eval::ParseNumberText(trimmed, &number)) {
          *problem = Cat(Quoted(text),
                         " is out of range for a decimal amount (at most "
                         "about 1.7e26)");
        } else {
          *problem = Cat(Quoted(text), " is not a decimal number");
        }
        return;
      }
      case ColumnType::kBool: {
        bool flag = false;
        if (typed) {
          *problem = Cat(Expected(type), ", got the string ", Quoted(text));
        } else if (!ParseBoolText(trimmed, &flag)) {
          *problem =
              Cat(Quoted(text), " is not a boolean (true/false, yes/no, 1/0)");
        } else {
          SetNumber(column, r, flag ? 1 : 0);
        }
        return;
      }
    }
  }

  static void SetNumber(RecordTable::Column* column, size_t r, double value) {
    column->cells[r] = static_cast<uint8_t>(RecordTable::Cell::kPresent);
    column->numbers[r] = value;
  }

  // Stores a decimal; a rounded one is counted once its record is kept.
  // `number` is the double of the text as written (NaN if unknown): the
  // decimal's own double when nothing was rounded, and cheaper to get.
  void SetDecimal(RecordTable::Column* column, size_t r,
                  const common::Decimal& d, bool rounded,
                  std::string_view written, double number) {
    column->cells[r] = static_cast<uint8_t>(RecordTable::Cell::kPresent);
    column->decimals[r] = d;
    column->numbers[r] =
        rounded || !std::isfinite(number) ? d.ToDouble() : number;
    if (rounded) {
      rounded_.push_back(Cat(location_, TruncateForDisplay(column->name), ": ",
                             Quoted(written),
                             " has more than 12 decimals; rounded to ",
                             d.ToString()));
    }
  }

  void FlushRounded() {
    for (std::string& text : rounded_) {
      t_.rounded_values_.Add(std::move(text), options_.max_problem_texts);
    }
    rounded_.clear();
  }

  static void SetString(RecordTable::Column* column, size_t r,
                        std::string_view text) {
    auto it = column->dictionary_index.find(ToAbsl(text));
    int32_t code;
    if (it != column->dictionary_index.end()) {
      code = it->second;
    } else {
      code = static_cast<int32_t>(column->dictionary.size());
      column->dictionary.emplace_back(text);
      column->dictionary_index.emplace(column->dictionary.back(), code);
    }
    column->cells[r] = static_cast<uint8_t>(RecordTable::Cell::kPresent);
    column->codes[r] = code;
  }

  void DropDuplicates() {
    const size_t n = t_.lines_.size();
    // Ids given more than once, in the order they first appear.
    std::vector<absl::string_view> order;
    absl::flat_hash_map<absl::string_view, std::vector<uint64_t>> lines;
    t_.index_.reserve(n);
    for (size_t r = 0; r < n; ++r) {
      const absl::string_view id = ToAbsl(t_.id(r));
      auto [it, inserted] = t_.index_.try_emplace(id, static_cast<uint32_t>(r));
      if (inserted) continue;
      auto [dup, first] = lines.try_emplace(id);
      if (first) {
        order.push_back(id);
        dup->second.push_back(t_.lines_[it->second]);
      }
      dup->second.push_back(t_.lines_[r]);
    }
    if (order.empty()) return;
    for (absl::string_view id : order) {
      const std::vector<uint64_t>& at = lines[id];
      std::string text =
          Cat("id ", Quoted(std::string_view(id.data(), id.size())),
              " is given by ", at.size(), " records (lines ");
      for (size_t i = 0; i < at.size() && i < kMaxDuplicateLines; ++i) {
        text.append(i == 0 ? "" : ", ");
        text.append(std::to_string(at[i]));
      }
      if (at.size() > kMaxDuplicateLines) {
        text.append(Cat(" and ", at.size() - kMaxDuplicateLines, " more"));
      }
      text.append("); all of them are dropped");
      t_.duplicate_ids_.Add(std::move(text), options_.max_problem_texts);
      t_.duplicate_records_ += at.size();
      t_.duplicates_.insert(id);
    }
    // Keep the other records, in order, and index them again.
    size_t kept = 0;
    for (size_t r = 0; r < n; ++r) {
      if (t_.duplicates_.contains(ToAbsl(t_.id(r)))) continue;
      if (kept != r) {
        t_.id_spans_[kept] = t_.id_spans_[r];
        t_.lines_[kept] = t_.lines_[r];
        for (RecordTable::Column& column : t_.columns_) {
          column.cells[kept] = column.cells[r];
          if (column.type == ColumnType::kString) {
            column.codes[kept] = column.codes[r];
          } else {
            column.numbers[kept] = column.numbers[r];
            if (column.type == ColumnType::kDecimal) {
              column.decimals[kept] = column.decimals[r];
            }
          }
        }
      }
      ++kept;
    }
    t_.id_spans_.resize(kept);
    t_.lines_.resize(kept);
    for (RecordTable::Column& column : t_.columns_) {
      column.cells.resize(kept);
      if (column.type == ColumnType::kString) {
        column.codes.resize(kept);
      } else {
        column.numbers.resize(kept);
        if (column.type == ColumnType::kDecimal) column.decimals.resize(kept);
      }
    }
    t_.index_.clear();
    for (size_t r = 0; r < kept; ++r) {
      t_.index_.emplace(ToAbsl(t_.id(r)), static_cast<uint32_t>(r));
    }
  }

  const RecordReaderOptions& options_;
  const bool keep_other_;
  RecordTable& t_;
  absl::flat_hash_map<std::string, int> by_name_;  // kept columns
  // Per column of the AccountTable being read (uid_): the RecordTable
  // column, or -1, and how many values it had that were ignored.
  uint64_t uid_ = 0;
  std::vector<int> map_;
  std::vector<uint64_t> ignored_;
  // Per RecordTable column: the stamp of the record that gave it a value.
  std::vector<uint64_t> stamps_;
  uint64_t stamp_ = 0;
  std::vector<AccountTable::RowValue> values_;
  std::vector<std::string> problems_;
  // The current record's rounded decimals and its location ("line 7: ").
  std::vector<std::string> rounded_;
  std::string location_;
};

namespace {

absl::Status CheckSchema(const RecordSchema& schema,
                         const RecordReaderOptions& options) {
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    const std::string& name = schema.columns[i].name;
    if (name.empty()) {
      return absl::InvalidArgumentError(
          Cat("record schema: column ", i + 1, " has an empty name"));
    }
    if (name == options.reader.id_field) {
      return absl::InvalidArgumentError(Cat("record schema: column \"",
                                            TruncateForDisplay(name),
                                            "\" is the id field"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (schema.columns[j].name == name) {
        return absl::InvalidArgumentError(Cat("record schema: column \"",
                                              TruncateForDisplay(name),
                                              "\" is declared twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecordTable> ReadRecords(std::unique_ptr<io::ByteSource> source,
                                        io::InputFormat format,
                                        const RecordSchema& schema,
                                        const RecordReaderOptions& options) {
  HEALTHSCORE_RETURN_IF_ERROR(CheckSchema(schema, options));
  io::ReaderOptions reader_options = options.reader;
  reader_options.flat_records = true;
  std::unique_ptr<io::SnapshotReader> reader;
  if (format == io::InputFormat::kCsv) {
    reader = std::make_unique<io::CsvReader>(std::move(source), reader_options);
  } else {
    reader = std::make_unique<io::JsonLinesReader>(std::move(source),
                                                   reader_options);
  }
  RecordTable table;
  RecordTableBuilder builder(schema, options, &table);
  AccountTable rows;
  for (;;) {
    HEALTHSCORE_ASSIGN_OR_RETURN(size_t n,
                                 reader->ReadTable(&rows, kRowsPerRead));
    // A CSV header names its columns even when no record follows.
    builder.AddRows(rows);
    if (n == 0) break;
  }
  builder.Finish(reader->lines_read());
  return table;
}

absl::StatusOr<RecordTable> ReadRecordFile(const std::string& path,
                                           io::InputFormat format,
                                           const RecordSchema& schema,
                                           const RecordReaderOptions& options) {
  auto source = io::OpenFileSource(path);
  if (!source.ok()) return source.status();
  auto table = ReadRecords(*std::move(source), format, schema, options);
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        Cat(TruncateForDisplay(path), ": ",
                            std::string(table.status().message())));
  }
  return table;
}

}  // namespace healthscore::engine::outcomes
