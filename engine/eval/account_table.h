// AccountTable: accounts as a reader found them, before any model.
//
// Every reader (JSON Lines, CSV, YAML test snapshots, the server's map and
// columnar request forms) parses its input once into an AccountTable.
// A reader whose values have places in a file (YAML test snapshots: the
// line and column of each key and value) may attach them to the values
// (TableBuilder::SetValueLocation); binding then puts the place in front
// of every message about the value. They are kept apart from the cells,
// only for the values that have one: a table filled without them pays
// nothing.
// Any number of models then bind to the same table (TableBinder), each
// getting a Batch of the inputs it declares: segment routing, shadow
// comparison, `healthscore diff` and everything else that scores one set
// of accounts with several models read the input once.
//
// The table keeps each value as it was written (a number, a typed string,
// untyped text, a boolean, a list of numbers, a day count, or a value the
// reader could not take apart), because what a value means depends on the
// declared type of the input it lands in, and two models may declare one
// name differently. Binding applies the rules (BatchBuilder::Put*, see
// engine/eval/batch.h): a table holds no model's interpretation.
//
// Columns are field names as written: a (section, name) pair such as
// ("metrics", "dau_mau") or ("", "as_of"), numbered in the order they were
// first seen. A table's columns survive Clear (up to kMaxKeptColumns), so
// the tables a reader fills one after another share one shape and a binder
// resolves each column to a model input once, not per account. Within a row, values are kept in the
// order the record gave them: that order decides which of two values for
// one input is "given twice" and the order of the account's warnings, as
// it did when readers filled batches directly.
//
// Thread-safety: a table is not synchronised. Filling is single-threaded;
// a filled table may be bound by many threads at once.

#ifndef HEALTHSCORE_ENGINE_EVAL_ACCOUNT_TABLE_H_
#define HEALTHSCORE_ENGINE_EVAL_ACCOUNT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/common/large_memory.h"
#include "engine/common/text_buffer.h"
#include "engine/eval/batch.h"
#include "engine/model/compiled_model.h"

namespace healthscore::engine::eval {

class AccountTable {
 public:
  AccountTable();
  AccountTable(const AccountTable&) = delete;
  AccountTable& operator=(const AccountTable&) = delete;
  AccountTable(AccountTable&&) = default;
  AccountTable& operator=(AccountTable&&) = default;

  size_t size() const { return rows_.size(); }
  // Removes every row; keeps allocated capacity and, up to
  // kMaxKeptColumns of them, the columns. A table that has seen more
  // column names (an input that invents names, which a hostile one may do
  // without end) forgets them all and takes a new uid(), so memory stays
  // bounded by what one fill holds.
  void Clear();
  static constexpr size_t kMaxKeptColumns = 4096;
  // Sections get small numbers so that a reader asks for its guess by
  // number (TableBuilder::GuessName) instead of comparing the section's
  // name at every key. Readers use a handful; a table that sees more
  // numbers the first kMaxSections and reads the rest without guesses.
  static constexpr size_t kMaxSections = 16;
  static constexpr uint32_t kUnknownSection = ~uint32_t{0};

  // Memory held by the rows (cells, text, series points), for readers
  // that bound a table by size.
  size_t bytes() const {
    return text_.size() + id_text_.size() + cells_.size() * sizeof(Cell) +
           points_.size() * sizeof(double) + lines_.size() * sizeof(uint64_t) +
           rows_.size() * (sizeof(Row) + sizeof(uint64_t));
  }

  size_t column_count() const { return columns_.size(); }
  // Column `c`'s field name. The views stay valid for the table's life.
  FieldName column(size_t c) const {
    return {columns_[c].section, columns_[c].name};
  }
  // Identifies the table's columns for per-shape caches (binders, the CSV
  // reader): unique per table object, kept by Clear unless it forgets the
  // columns.
  uint64_t uid() const { return uid_; }

  std::string_view id(size_t row) const {
    const uint64_t begin = row == 0 ? 0 : id_ends_[row - 1];
    return std::string_view(id_text_.data() + begin, id_ends_[row] - begin);
  }
  // Whether the reader could not read row `row` (see TableBuilder::FailRow).
  bool row_failed(size_t row) const {
    return RowFailure(rows_[row]) != nullptr;
  }
  std::string_view row_error(size_t row) const {
    const RowDetail* failure = RowFailure(rows_[row]);
    return failure == nullptr ? std::string_view() : Text(failure->error);
  }
  // How many values carry a location (TableBuilder::SetValueLocation).
  size_t located_values() const { return located_.size(); }
  // The text the reader put before the messages of row `row`, e.g.
  // "line 7: " (TableBuilder::SetRowLocation or SetRowLine); empty if none.
  std::string row_location(size_t row) const;

  // How a value was written (see TableBuilder's Put functions).
  enum class Kind : uint8_t {
    kNumber,         // payload: the double
    kString,         // payload: text
    kText,           // payload: text
    kBool,           // payload: 0 or 1
    kSeries,         // payload: offset into points_, size points
    kDateDays,       // payload: the double
    kUnusable,       // payload: text, the problem
    kWrongKind,      // payload: text, what the value was
    kObject,         // an object; `size` cells inside it follow; payload 1
                     // when it had a "values" key
    kRecordWarning,  // payload: text; about the record, not an input
    kScalar,         // payload: text (BatchBuilder::PutScalar)
  };

  // A value of a row as the reader wrote it, for callers that apply their
  // own schema instead of binding a model (engine/outcomes reads outcome
  // files through the snapshot readers). The views stay valid until the
  // table is cleared or changed.
  struct RowValue {
    uint32_t column = 0;
    Kind kind = Kind::kNumber;
    double number = 0;      // kNumber, kDateDays
    bool flag = false;      // kBool
    std::string_view text;  // kString, kText, kUnusable, kWrongKind,
                            // kRecordWarning, kScalar
    uint32_t points = 0;    // kSeries: how many numbers
    const double* series = nullptr;  // kSeries: the numbers
  };
  // Replaces `values` with row `row`'s values in record order. An object
  // is one value of kind kObject (the entries inside it are not listed);
  // values put as runs (columnar input) are not listed.
  void RowValues(size_t row, std::vector<RowValue>* values) const;

 private:
  friend class TableBuilder;
  friend class TableBinder;

  struct Span {
    uint64_t offset = 0;
    uint32_t size = 0;
  };
  struct Cell {
    uint32_t column;
    uint32_t size;
    Kind kind;
    uint64_t payload;
  };
  struct Column {
    std::string section;
    std::string name;
    // The name has no '"' and no '\\': raw JSON key bytes equal to it are
    // that very name (TableBuilder::GuessName).
    bool plain_name = false;
    // The section's place in sections_, kUnknownSection past kMaxSections.
    uint32_t section_id = kUnknownSection;
  };
  // A row is 8 bytes: most rows have no location and no failure, and a
  // table of a million accounts is written row by row; those few rows keep
  // theirs in details_.
  static constexpr uint32_t kNoDetail = ~uint32_t{0};
  struct Row {
    uint32_t cells_begin = 0;
    uint32_t detail = kNoDetail;  // index into details_
  };
  struct RowDetail {
    Span location;
    Span error;
    bool failed = false;
  };

  // Values of one column for consecutive rows, in arrays the filler owns
  // (TableBuilder::Put*Run).
  enum class RunKind : uint8_t { kNumbers, kDateDays, kCodes, kSeries, kStrings };
  struct Run {
    uint32_t column = 0;
    RunKind kind = RunKind::kNumbers;
    uint32_t first_row = 0;
    uint32_t rows = 0;
    const double* numbers = nullptr;    // kNumbers, kDateDays; kSeries: points
    const int32_t* codes = nullptr;     // kCodes; kSeries: lengths
    const uint64_t* offsets = nullptr;  // kSeries: each row's first point
    const std::string_view* dictionary = nullptr;  // kCodes
    uint32_t dictionary_size = 0;
    // kStrings: one text per row, or, when null, `constant` for every row.
    const std::string* const* strings = nullptr;
    Span constant;
  };

  std::string_view Text(Span s) const {
    return std::string_view(text_.data() + s.offset, s.size);
  }
  std::string_view CellText(const Cell& c) const {
    return std::string_view(text_.data() + c.payload, c.size);
  }
  double CellNumber(const Cell& c) const {
    double d;
    std::memcpy(&d, &c.payload, sizeof d);
    return d;
  }
  uint32_t cells_end(size_t row) const {
    return row + 1 < rows_.size() ? rows_[row + 1].cells_begin
                                  : static_cast<uint32_t>(cells_.size());
  }
  // Row r's location (empty when none) and failure (null when none).
  std::string_view RowLocation(const Row& r) const {
    return r.detail == kNoDetail ? std::string_view()
                                 : Text(details_[r.detail].location);
  }
  const RowDetail* RowFailure(const Row& r) const {
    return r.detail != kNoDetail && details_[r.detail].failed
               ? &details_[r.detail]
               : nullptr;
  }
  // Row `row`'s line (TableBuilder::SetRowLine), 0 when none.
  uint64_t RowLine(size_t row) const {
    return row < lines_.size() ? lines_[row] : 0;
  }
  // Whether row `row` holds only its id: no cells, location or failure.
  bool row_bare(size_t row) const {
    const Row& r = rows_[row];
    return r.cells_begin == cells_end(row) && RowLine(row) == 0 &&
           (r.detail == kNoDetail || (details_[r.detail].location.size == 0 &&
                                      !details_[r.detail].failed));
  }

  uint64_t uid_;
  std::vector<Column> columns_;
  // The distinct sections of columns_, in order of first use (at most
  // kMaxSections); cleared with columns_.
  std::vector<std::string> sections_;
  // section + '\0' + name -> column.
  absl::flat_hash_map<std::string, uint32_t> column_index_;
  std::vector<Row> rows_;
  std::vector<RowDetail> details_;
  // Row r's line (TableBuilder::SetRowLine), 0 for none; as long as rows_
  // up to the last row given one, empty when none is.
  std::vector<uint64_t> lines_;
  // The rows' ids, one after another; row r's ends at id_ends_[r]. Apart
  // from text_ so that the ids of consecutive rows are one slice (binding
  // copies a run of bare rows' ids at once).
  std::string id_text_;
  std::vector<uint64_t> id_ends_;
  // A block's cells run to a megabyte or more, and the table is reused:
  // huge pages (common/large_memory.h).
  std::vector<Cell, common::LargeAllocator<Cell>> cells_;
  std::vector<Run> runs_;
  // The values' text. A TextBuffer appends inline: a string value per
  // field through std::string::append was a library call each.
  common::TextBuffer text_;
  std::vector<double> points_;

  // Where a value is written (TableBuilder::SetValueLocation): the cell,
  // where its name is and where the value is. Sorted by cell.
  struct Located {
    uint32_t cell;
    Span name_at;
    Span value_at;
  };
  std::vector<Located> located_;
};

// Fills an AccountTable row by row, as readers filled batches: BeginRow,
// the values, EndRow. Column resolves a field name once; the Put functions
// record a value as written (see BatchBuilder's functions of the same
// names for what each kind means; the rules are applied when binding).
class TableBuilder {
 public:
  // `table` must outlive the builder. Rows are appended to what it holds.
  explicit TableBuilder(AccountTable* table);

  void BeginRow(std::string_view id);
  void SetId(std::string_view id);
  // BeginRow(ids[i]) then EndRow() for each of the n ids: rows whose values
  // come later as runs (columnar input), added in one step.
  void AddBareRows(const std::string_view* ids, size_t n);
  // Text put before the messages of the row's failure (see
  // BatchBuilder::SetRowLocation).
  void SetRowLocation(std::string_view location);
  // SetRowLocation("line <line>: ") for a reader that numbers its rows by
  // line (line > 0), kept as the number (BatchBuilder::SetRowLine): most
  // rows never have a message, and a text per row cost JSON Lines and CSV
  // reading a formatted number, a copy and a row detail per account. A
  // location text set for the row takes precedence.
  void SetRowLine(uint64_t line);
  // The row is unreadable; the first message wins (BatchBuilder::FailRow).
  void FailRow(std::string_view message);
  void EndRow();

  // The column for `field`, added when new.
  int Column(const FieldName& field);
  // For a reader that can compare a key where it lies more cheaply than it
  // can decode it (JSON Lines): the name of the column the row's next
  // field most likely is (the one that followed the previous field in
  // earlier records) when that column is in section `section` (a number
  // from SectionId) and its name is plain (no '"' or '\\'), else null.
  // When the key is that name, the reader calls TakeGuess() instead of
  // Column(); either gives the same column.
  const std::string* GuessName(uint32_t section) const {
    if (shape_pos_ >= shape_.size() ||
        section == AccountTable::kUnknownSection) {
      return nullptr;
    }
    const AccountTable::Column& c = table_->columns_[shape_[shape_pos_]];
    return c.plain_name && c.section_id == section ? &c.name : nullptr;
  }
  // The number of `section` for GuessName: once per section of a record,
  // not per key. AccountTable::kUnknownSection (never guessed) for a
  // section no column has yet, or one past AccountTable::kMaxSections.
  uint32_t SectionId(std::string_view section) const;
  int TakeGuess() { return static_cast<int>(shape_[shape_pos_++]); }

  void PutNumber(int column, double value);
  void PutString(int column, std::string_view text);
  void PutText(int column, std::string_view text);
  // For readers whose values are slices of one record (CSV cells): keeps
  // `record` in the table once, then PutTextSlice(column, offset, size)
  // puts [offset, offset + size) of the record kept last as PutText
  // would, without copying each cell.
  void KeepRecordText(std::string_view record);
  void PutTextSlice(int column, size_t offset, size_t size);
  void PutBool(int column, bool value);
  void PutSeries(int column, const double* values, size_t n);
  // PutSeries for a reader that learns the points one at a time: they go
  // straight into the table. BeginPoints, AddPoint per point, then either
  // EndPoints(column) (the points are the column's value, as PutSeries) or
  // DropPoints() (forgotten, e.g. to put an unusable value instead). No
  // other Put* call may come between BeginPoints and its end.
  void BeginPoints() { points_begin_ = table_->points_.size(); }
  void AddPoint(double value) { table_->points_.push_back(value); }
  void EndPoints(int column);
  void DropPoints() { table_->points_.resize(points_begin_); }
  void PutDateDays(int column, double days);
  void PutUnusable(int column, std::string_view problem);
  void PutWrongKind(int column, std::string_view what);
  // An object given for `column`. The values put until EndObject are its
  // "values" entries (the {"values": [...]} form of a series), for the same
  // column; `had_values` says whether it had any such key. An object
  // means a series when the column's input is one and is a wrong kind
  // otherwise; only binding can tell.
  void BeginObject(int column);
  void EndObject(bool had_values);
  // A problem with the record itself (a section that is not an object),
  // named by `column`; bound as a warning whatever the model.
  void PutRecordWarning(int column, std::string_view problem);
  // A scalar of a format whose scalars carry no type (YAML): its text,
  // read by the declared type of its input (BatchBuilder::PutScalar).
  void PutScalar(int column, std::string_view text);
  // Where the value put next is written, e.g. "tests.yaml:7:20": `name_at`
  // for its name (put in front of "the model declares no input" messages,
  // see TableBinder::set_unknown_names_fail), `value_at` for the value
  // (put in front of the messages the value causes when bound). Call it
  // right before the Put it is for; a second call before that Put
  // replaces the first. Stored only for the values that have one.
  void SetValueLocation(std::string_view name_at, std::string_view value_at);

  // Columnar input. The rows are added first (BeginRow, EndRow); then each
  // Put*Run gives one column's values for rows [first_row, first_row +
  // rows) as an array the caller owns and keeps unchanged until the table
  // is cleared or destroyed: nothing is copied. A row's run values are
  // bound after its own values, in the order the runs were put. Missing
  // values: NaN numbers and day counts, code -1, a negative series length,
  // empty text; other negative codes, and codes past the dictionary, are
  // unusable values.
  size_t rows() const { return table_->rows_.size(); }
  void PutNumberRun(int column, size_t first_row, const double* values,
                    size_t rows);
  void PutDateDaysRun(int column, size_t first_row, const double* days,
                      size_t rows);
  void PutCodeRun(int column, size_t first_row, const int32_t* codes,
                  size_t rows, const std::string_view* dictionary,
                  size_t dictionary_size);
  // Row first_row + i has lengths[i] points from points + offsets[i].
  void PutSeriesRun(int column, size_t first_row, const int32_t* lengths,
                    const uint64_t* offsets, const double* points,
                    size_t rows);
  // Row first_row + i has the string *strings[i].
  void PutStringRun(int column, size_t first_row,
                    const std::string* const* strings, size_t rows);
  // Every row of the run has `text` (copied into the table).
  void PutConstantStringRun(int column, size_t first_row,
                            std::string_view text, size_t rows);

  // Shorthands for callers that hold names and typed values (tests, tools):
  // the field under its JSON Lines section, then Put.
  void SetAsOf(std::string_view date);
  void SetMetric(std::string_view name, double value);
  void SetAttribute(std::string_view name, std::string_view value);
  void SetDate(std::string_view name, std::string_view date);
  void SetSeries(std::string_view name, const double* values, size_t n);
  void SetPreviousScore(double score);
  void SetPreviousTier(std::string_view tier);

 private:
  uint64_t AddText(std::string_view text);
  // The location and failure of the row begun last, made on first use.
  AccountTable::RowDetail& Detail();
  // Column without the previous row's guess: the hash lookup.
  int LookUpColumn(const FieldName& field);
  void Add(int column, AccountTable::Kind kind, uint32_t size,
           uint64_t payload);
  AccountTable::Run& AddRun(int column, AccountTable::RunKind kind,
                            size_t first_row, size_t rows);

  AccountTable* table_;
  std::string key_;
  std::vector<size_t> open_objects_;
  uint64_t record_text_ = 0;  // where KeepRecordText put the record
  size_t points_begin_ = 0;   // where BeginPoints found the points
  // The fields of the rows so far in the order records give them (column
  // numbers), and where the current row is in that order. Records of one
  // input name much the same fields in the same order, leaving some out,
  // so Column looks for a field a few places after the previous one before
  // it asks the hash map (key building and hashing were a third of JSON
  // Lines reading). At most kMaxShapeFields are kept.
  static constexpr size_t kMaxShapeFields = 256;
  static constexpr size_t kShapeLookahead = 8;
  std::vector<uint32_t> shape_;
  size_t shape_pos_ = 0;
};

// Binds tables to one model: fills Batches of the model from table rows,
// resolving each column to an input once per table shape.
//
// Thread-safety: a binder is used by one thread at a time (it caches the
// resolved columns); use one binder per thread and model.
class TableBinder {
 public:
  explicit TableBinder(std::shared_ptr<const model::CompiledModel> model);

  const std::shared_ptr<const model::CompiledModel>& model() const {
    return model_;
  }
  // In strict mode a value that does not fit its input fails the account
  // (BatchBuilder::set_strict).
  void set_strict(bool strict) { strict_ = strict; }
  // When set, a value whose name the model does not declare fails its
  // account with `<field>: the model declares no <type> input "<name>"`
  // and a "did you mean" (for hand-written accounts, such as test cases,
  // where such a name is a typo), after the name's location when the value
  // has one (else the row's location). Either way it is counted as ignored
  // (ignored_fields()).
  void set_unknown_names_fail(bool fail) { unknown_names_fail_ = fail; }

  // Clears `batch` (a batch of model()) and adds every row of `table`.
  void Bind(const AccountTable& table, Batch* batch);
  // Clears `batch` and adds the rows `rows` of `table`, in that order.
  void Bind(const AccountTable& table, const std::vector<uint32_t>& rows,
            Batch* batch);
  // Adds rows [begin, end) of `table` to the batch `builder` fills. When
  // `ignored_per_row` is not null, (*ignored_per_row)[r - begin] is set to
  // row r's count of values the model does not declare.
  void AddRows(const AccountTable& table, size_t begin, size_t end,
               BatchBuilder* builder,
               std::vector<uint32_t>* ignored_per_row = nullptr);

  // The values of the string input `input` (an index into the model's
  // inputs) in every row of `table`, when one run of dictionary codes gives
  // them and binding puts that run column by column, so that none of its
  // values has a warning or fails a row: codes[r] is row r's entry of
  // `dictionary` (-1 for none), and stored[e] the code a Batch of the model
  // stores for entry e (Batch::string_codes; an entry with empty text is
  // missing). Lets a caller act on those values before binding (a router
  // decides routes from them). The pointers are valid until the binder
  // binds or is asked again, or the table changes.
  struct StringColumn {
    const int32_t* codes = nullptr;
    const std::string_view* dictionary = nullptr;
    const int32_t* stored = nullptr;
    size_t entries = 0;
  };
  // Returns false when the input's values come otherwise (cells, several
  // runs, text runs, values that would warn, no run at all).
  bool FindStringColumn(const AccountTable& table, int input,
                        StringColumn* column);

  // Values the model does not declare, over every row bound so far, and
  // over the rows of the last Bind or AddRows call.
  uint64_t ignored_fields() const { return ignored_; }
  uint64_t last_ignored() const { return last_ignored_; }
  // Their names ("metrics.nps", or a CSV column), with counts; at most 64
  // names.
  std::map<std::string, uint64_t> ignored_names() const;
  // Forgets the counts.
  void ResetIgnored();

 private:
  // Resolves the columns `table` added since the last call.
  void Resolve(const AccountTable& table);
  // Decides how each run of `table` is bound for rows [begin, end)
  // (run_plans_): after Resolve. `by_column`: the rows are bound in one
  // contiguous call (AddRows), so whole columns may be put at once.
  // Returns whether some are.
  bool PlanRuns(const AccountTable& table, size_t begin, size_t end,
                bool by_column);
  // Bind(table, rows, batch) column by column: the rows first, then each
  // run's values of `rows` gathered into one array and put whole. Returns
  // false, having added nothing, unless every run bound so gives every row
  // of the table (the columnar forms' tables).
  bool BindGathered(const AccountTable& table,
                    const std::vector<uint32_t>& rows, BatchBuilder* builder);
  // Adds row `row`; returns its count of ignored values.
  uint32_t AddRow(const AccountTable& table, size_t row,
                  BatchBuilder* builder);
  // Whether row `i` of `run` has a value (missing: NaN, code -1, a negative
  // series length, empty text).
  static bool RunValueGiven(const AccountTable& table,
                            const AccountTable::Run& run, size_t i);
  // How many of the run's values i = rows[j] (or first + j when `rows` is
  // null), j < n, are given: RunValueGiven counted with one loop per kind.
  static uint64_t CountGiven(const AccountTable& table,
                             const AccountTable::Run& run,
                             const uint32_t* rows, size_t first, size_t n);
  // Puts value `i` of run `k`; returns 1 if the model does not declare it.
  uint32_t AddRunValue(const AccountTable& table, size_t k, size_t i,
                       BatchBuilder* builder);
  int SlotFor(const FieldName& field) const;
  // Fails the row `builder` fills for `field`, which the model does not
  // declare (set_unknown_names_fail); `prefix` says where ("t.yaml:2:11: ",
  // or the row's location).
  void FailUnknownName(const FieldName& field, std::string_view prefix,
                       BatchBuilder* builder) const;

  std::shared_ptr<const model::CompiledModel> model_;
  bool strict_ = false;
  uint64_t table_uid_ = 0;
  // Per column: the slot (an input index or a BatchBuilder::k*Slot), or
  // -1 when the model does not declare it.
  std::vector<int> slots_;
  // Per column: the type of its slot when that is an input, which picks
  // BatchBuilder's Put*Input for its cells (the slot's type looked up once
  // per table shape, not per value); kNotAnInput otherwise.
  static constexpr int8_t kNotAnInput = -1;
  std::vector<int8_t> input_types_;
  // Per column: values bound to no input. Kept across tables of one shape.
  std::vector<uint64_t> column_ignored_;
  std::vector<std::string> column_names_;  // "section.name"
  std::map<std::string, uint64_t> other_ignored_;  // from earlier shapes
  // Per run of the table being bound: numbers for a number input, and
  // dictionary codes for a string input, go straight to the builder's
  // PutNumberInput and PutStringInput (the slot's type checked, and each
  // dictionary entry's model code looked up, once per call instead of once
  // per value).
  // Column kinds, put column by column after the rows (AddRows), which is
  // kinder to the cache than value by value; only for a slot that this run
  // alone gives in the rows bound (no other run, no cell), so no value can
  // be given twice:
  // kNumberColumn: numbers for a number input or previous_score
  // (BatchBuilder::PutNumberColumn);
  // kDateColumn: day counts for a date input or as_of, when every one is a
  // supported date (PutDateDaysColumn);
  // kCodeColumn: dictionary codes for a string input or previous_tier, when
  // every code is -1 or in the dictionary (PutCodeColumn);
  // kDateCodeColumn: dictionary codes for a date input or as_of (dates
  // written as text), each entry parsed once, when every code is -1 or an
  // entry that is empty or a date (PutDateDaysColumn);
  // kSeriesColumn: series for a series input, when the run gives the rows
  // through the last bound (PutSeriesColumn appends in row order);
  // kStringDateColumn: texts for a date input or as_of, one per row (the
  // gRPC columnar form's as_of), a text equal to the row before's parsed
  // once, when every text is empty or a date (PutDateDaysColumn);
  // kIgnoredColumn: a column the model does not declare, counted column
  // by column. Column kinds come last: the row loop skips them. A value
  // that would have a warning of its own (an unsupported day, an invalid
  // code) keeps its run value by value, where the warning finds its place.
  struct RunPlan {
    enum How : uint8_t {
      kGeneral,
      kNumberInput,
      kStringInput,
      kNumberColumn,
      kDateColumn,
      kCodeColumn,
      kDateCodeColumn,
      kSeriesColumn,
      kStringDateColumn,
      kIgnoredColumn
    } how = kGeneral;
    // kStringInput, kCodeColumn: what each entry stores
    // (BatchBuilder::StringCodeFor).
    std::vector<int32_t> codes;
    // kDateCodeColumn: each entry's day count (NaN for an empty entry).
    // kStringDateColumn: each row's (of the rows planned), NaN for an empty
    // text.
    std::vector<double> days;
  };
  std::vector<RunPlan> run_plans_;
  // The runs AddRow puts value by value (the kinds before kNumberColumn),
  // in run order.
  std::vector<uint32_t> row_runs_;
  // One run's values for the rows bound (days of kDateCodeColumn, values
  // gathered by BindGathered).
  std::vector<double> days_;
  std::vector<int32_t> codes_;
  std::vector<uint64_t> offsets_;  // series offsets gathered by BindGathered
  std::vector<int> put_whole_;  // AddRows: slots whose columns it writes whole
  // Per input: the index of the run that gives it (-1 when cells give it,
  // which are put first), for putting range warnings back in the order
  // values are put (kNumberColumn).
  std::vector<int32_t> input_rank_;
  // Per slot + 4 (as BatchBuilder numbers them): how many runs give it,
  // and whether a cell of the rows bound does.
  std::vector<uint32_t> slot_runs_;
  std::vector<uint8_t> slot_in_cells_;
  uint64_t ignored_ = 0;
  uint64_t last_ignored_ = 0;
  bool unknown_names_fail_ = false;
};

// The Put functions readers call per value, inline: they only append.

inline uint64_t TableBuilder::AddText(std::string_view text) {
  const uint64_t at = table_->text_.size();
  table_->text_.append(text.data(), text.size());
  return at;
}

inline void TableBuilder::Add(int column, AccountTable::Kind kind,
                              uint32_t size, uint64_t payload) {
  // Written field by field where the cell lives: a Cell built on the stack
  // and copied is stored in four parts and read back in 16-byte loads the
  // CPU cannot forward from those stores (a stall per value, 4% of JSON
  // Lines scoring in a profile).
  AccountTable::Cell& cell = table_->cells_.emplace_back();
  cell.column = static_cast<uint32_t>(column);
  cell.size = size;
  cell.kind = kind;
  cell.payload = payload;
}

inline void TableBuilder::PutNumber(int column, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  Add(column, AccountTable::Kind::kNumber, 0, bits);
}

inline void TableBuilder::PutString(int column, std::string_view text) {
  Add(column, AccountTable::Kind::kString, static_cast<uint32_t>(text.size()),
      AddText(text));
}

inline void TableBuilder::PutDateDays(int column, double days) {
  uint64_t bits;
  std::memcpy(&bits, &days, sizeof bits);
  Add(column, AccountTable::Kind::kDateDays, 0, bits);
}

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_ACCOUNT_TABLE_H_
