// Batch: account snapshots laid out as columns for one CompiledModel.
//
// A Batch is built by a BatchBuilder for a specific model: each input the
// model declares has a column (numbers and dates as doubles with a validity
// byte, strings as dictionary codes, series as a flat array with offsets).
// Inputs the model does not declare are dropped at ingest. Missing values
// are tracked by validity, never by sentinel numbers; NaN and infinities are
// stored as missing.
//
// Every reader (JSON Lines, CSV, YAML test snapshots, the server's map and
// columnar request forms) hands each value to the builder as it found it
// (a number, a typed string, untyped text, a boolean, a list of numbers, a
// day count) and the builder alone decides what it means for the input's
// declared type: the rules of docs/model-format.md, "How values are read",
// are implemented in BatchBuilder::Put* and nowhere else.
//
// A value that does not fit its input (a number sent as a string, a date
// that is not a date, a series with a non-numeric point) costs that value
// only: the input is missing for that account, the account gets a warning
// naming the field, the value and why (value_warnings()), and the loss is
// counted (dropped_values()). In strict mode (BatchBuilder::set_strict) the
// account fails instead, listing every such problem. An account fails only
// when it cannot be identified (no id) or its record is unreadable (the
// reader calls FailRow); the rest of the batch is unaffected.
//
// Thread-safety: a Batch is not synchronised. Building is single-threaded;
// once built it may be read from many threads at once (scoring does).
// Reusing a Batch (Clear) keeps its capacity, so a steady stream of batches
// allocates nothing after warm-up.

#ifndef HEALTHSCORE_ENGINE_EVAL_BATCH_H_
#define HEALTHSCORE_ENGINE_EVAL_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/common/text_buffer.h"
#include "engine/model/compiled_model.h"

namespace healthscore::engine::eval {

// A range-check warning: row `row`'s value of input `input` lies outside the
// input's declared range.
struct RangeWarning {
  uint32_t row;
  int32_t input;
  double value;
};

// Values that did not fit their input and were used as missing: row
// `row`'s warning text, e.g. `dates.renewal_date: "31/01/2027" is not a
// date (YYYY-MM-DD); used as missing`, for `count` values. A row keeps at
// most kMaxRowValueWarnings texts of one value each; past that, one last
// warning counts the rest ("... and 99,990 more values were used as
// missing"), so a hostile record cannot make a row's warnings grow without
// bound.
struct ValueWarning {
  uint32_t row;
  std::string text;
  uint64_t count = 1;
};
inline constexpr size_t kMaxRowValueWarnings = 20;

// A std::allocator whose resize without a value leaves new elements
// default-initialised, so uninitialised for doubles and bytes: the columns a
// builder writes whole (BatchBuilder::PrepareRows) are not zeroed first.
// Resize with a value, push_back and the rest behave as usual.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

class Batch {
 public:
  explicit Batch(std::shared_ptr<const model::CompiledModel> model);

  const model::CompiledModel& model() const { return *model_; }
  const std::shared_ptr<const model::CompiledModel>& model_ptr() const {
    return model_;
  }
  size_t size() const { return rows_; }

  // Removes every row; keeps allocated capacity.
  void Clear();

  // Keeps rows rows[0], ..., rows[n - 1] and drops the others: row k of the
  // batch is then what row rows[k] was, with its id, error, values and
  // warnings, and the error and dropped-value counts are those of the rows
  // kept. Costs one pass over each column of the rows kept, less than
  // binding them again (a routed request keeps, in the requested model's
  // batch, only the accounts no route took). REQUIRES: rows ascending, each
  // below size(). Keeps allocated capacity.
  void KeepRows(const uint32_t* rows, size_t n);

  // Valid until the batch next changes.
  std::string_view id(size_t row) const {
    const size_t begin = row == 0 ? 0 : id_ends_[row - 1];
    return std::string_view(id_text_).substr(begin, id_ends_[row] - begin);
  }
  bool row_ok(size_t row) const { return errors_[row].empty(); }
  const std::string& row_error(size_t row) const { return errors_[row]; }
  size_t error_count() const { return error_count_; }

  // Days since 1970-01-01 of the snapshot's as-of date; invalid if absent.
  const double* as_of() const { return as_of_.data(); }
  const uint8_t* as_of_valid() const { return as_of_valid_.data(); }
  const double* previous_score() const { return prev_score_.data(); }
  const uint8_t* previous_score_valid() const {
    return prev_score_valid_.data();
  }
  // Tier index in model().tiers(); tiers().size() for insufficient_data;
  // kMissingString when absent; kUnknownString when not a tier of this
  // model (it then never equals any tier).
  const int32_t* previous_tier() const { return prev_tier_.data(); }

  const double* number(int column) const { return num_[column].data(); }
  const uint8_t* number_valid(int column) const {
    return num_valid_[column].data();
  }
  // kMissingString, kUnknownString or a code from model().StringCode().
  const int32_t* string_codes(int column) const {
    return str_code_[column].data();
  }
  // The text as sent (empty when missing).
  std::string_view string_text(int column, size_t row) const;
  // Series values of all rows back to back; row r's values are
  // [offsets[r], offsets[r+1]). offsets has size()+1 entries.
  const double* series_values(int column) const {
    return series_values_[column].data();
  }
  const uint32_t* series_offsets(int column) const {
    return series_offsets_[column].data();
  }
  const uint8_t* series_valid(int column) const {
    return series_valid_[column].data();
  }

  const std::vector<RangeWarning>& range_warnings() const {
    return range_warnings_;
  }
  // Values used as missing because they did not fit their input, sorted by
  // row; only rows that did not fail have them.
  const std::vector<ValueWarning>& value_warnings() const {
    return value_warnings_;
  }
  // How many values were used as missing (the counts of value_warnings()),
  // over the rows that did not fail.
  size_t dropped_values() const { return dropped_; }
  // How many of row `row`'s values were used as missing.
  size_t dropped_values(size_t row) const;

 private:
  friend class BatchBuilder;

  std::shared_ptr<const model::CompiledModel> model_;
  size_t rows_ = 0;
  // The ids, one after another: row r's ends at id_ends_[r], where row
  // r - 1's ended. One text for all rows, not a string per row. The ends
  // are written as rows are added, so growing them zeroes nothing.
  std::string id_text_;
  std::vector<size_t, DefaultInitAllocator<size_t>> id_ends_;
  // Reused across Clear(): the strings keep their capacity.
  std::vector<std::string> errors_;
  size_t error_count_ = 0;
  // Number and date columns: values and validity bytes.
  using Numbers = std::vector<double, DefaultInitAllocator<double>>;
  using Valid = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;
  Numbers as_of_;
  Valid as_of_valid_;
  Numbers prev_score_;
  Valid prev_score_valid_;
  std::vector<int32_t> prev_tier_;
  std::vector<Numbers> num_;
  std::vector<Valid> num_valid_;
  std::vector<std::vector<int32_t>> str_code_;
  // Raw string text: one arena per column with (offset, length) per row.
  std::vector<std::string> str_arena_;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> str_span_;
  std::vector<std::vector<double>> series_values_;
  std::vector<std::vector<uint32_t>> series_offsets_;
  std::vector<std::vector<uint8_t>> series_valid_;
  std::vector<RangeWarning> range_warnings_;
  std::vector<ValueWarning> value_warnings_;
  size_t dropped_ = 0;
};

// Names a value in messages: "section.name" ("metrics.dau_mau"), or just
// `name` when section is empty (a CSV column, a top-level key). Passed by
// reference: built at the call site and copied by value, it cost the JSON
// Lines reader 10% in stalled store forwarding (bench/README.md, issue 10).
struct FieldName {
  std::string_view section;
  std::string_view name;
};

// Fills a Batch row by row: BeginRow, then the values, then EndRow.
//
// Readers resolve a name once (ResolveInput, or the slots for the fields
// every account has) and hand each value to a Put function that says how
// the value was written; the builder applies the declared type (see the
// file comment). Resolving is per batch in the columnar form and per
// account in the map form; either way no Put function looks a name up.
//
// The Set functions are shorthands for callers that hold names and typed
// values (tests, benchmarks, hand-built batches): they resolve the name
// (counting it as ignored when the model does not declare it) and Put the
// value. The *At functions store an already checked value of the input's
// own type and apply no rules.
class BatchBuilder {
 public:
  // The fields of an account that are not inputs, as slots for Put. An
  // input's slot is its index from ResolveInput.
  static constexpr int kAsOfSlot = -2;           // a date
  static constexpr int kPreviousScoreSlot = -3;  // a number
  static constexpr int kPreviousTierSlot = -4;   // a string (a tier id)

  // `batch` must outlive the builder.
  explicit BatchBuilder(Batch* batch);

  // In strict mode a value that does not fit fails its account (listing
  // every such problem of the account) instead of being used as missing.
  void set_strict(bool strict) { strict_ = strict; }
  bool strict() const { return strict_; }

  // Makes room for the next `rows` rows at once, so that BeginRow writes
  // each row's empty cells instead of appending them column by column (for
  // binders that know how many rows follow). Exactly `rows` BeginRow/EndRow
  // pairs must follow before the batch is read.
  //
  // `put_whole` lists number and date slots (an input index, kAsOfSlot or
  // kPreviousScoreSlot) whose cells in all of these rows the caller will
  // write with PutNumberColumn or PutDateDaysColumn before the batch is
  // read: their cells are left unwritten here instead of emptied (a
  // binder's whole-column puts would overwrite them at once).
  void PrepareRows(size_t rows, const std::vector<int>& put_whole = {});
  // Begins a row; `id` may be empty and set later with SetId (a reader may
  // meet the id after the values).
  void BeginRow(std::string_view id);
  void SetId(std::string_view id);
  // Text put before the messages of the row's failure, e.g. "line 7: " (the
  // builder copies it). Empty by default.
  void SetRowLocation(std::string_view location);
  // SetRowLocation("line <line>: ") for a reader that numbers its rows by
  // line (line > 0), kept as the number: the text is made only for a
  // failure message, which most rows never have. A location text set
  // for the row takes precedence.
  void SetRowLine(uint64_t line);
  // Where the values put from now on are written, e.g. "tests.yaml:7:20"
  // (the builder copies it): a value that does not fit is reported as
  // "<location>: <field>: <problem>", as a warning or, in strict mode, in
  // the row's failure. Empty (the default, and after BeginRow) for none.
  void SetValueLocation(std::string_view location);
  // Marks the current row unreadable (not an object, not valid JSON, a
  // record of the wrong shape). The row keeps its id when it has one. The
  // first message wins; an empty id is reported at EndRow only if nothing
  // else failed the row.
  void FailRow(std::string_view message);
  void EndRow();
  // BeginRow(id) then EndRow() with nothing between: a row whose values
  // come later by column (the Put*Column functions), as columnar binders
  // add most rows. Cheaper than the pair when the rows were prepared.
  void AddBareRow(std::string_view id);
  // AddBareRow for n rows whose ids lie one after another in `text`: id i
  // is text[ends[i - 1], ends[i]), with ends[-1] taken as `begin` (an
  // account table's id text and end offsets). One copy of the ids when
  // the rows were prepared.
  void AddBareRows(const char* text, const uint64_t* ends, uint64_t begin,
                   size_t n);
  // AddBareRow for the rows rows[0, n) of an account table, in that order:
  // row r's id is text[ends[r - 1], ends[r]), with ends[-1] taken as 0
  // (chosen rows of a table, as TableBinder binds a route's accounts).
  void AddGatheredBareRows(const char* text, const uint64_t* ends,
                           const uint32_t* rows, size_t n);

  // The slot for a name in the model's inputs, or -1 when the model does
  // not declare it. Resolve once, then Put by slot for every row.
  int ResolveInput(std::string_view name) const;

  // Values as the reader found them, for `slot` (an input index or one of
  // the k*Slot constants). A null or absent value is simply not put.
  //
  // A number (JSON number, protobuf double). NaN and infinities are missing.
  void PutNumber(int slot, const FieldName& field, double value);
  // A typed string (JSON string, protobuf string). Fits string and date
  // inputs (a date as "YYYY-MM-DD", optionally with an RFC 3339 time);
  // for a number input only "NaN", "Infinity" and "-Infinity" (any case;
  // protobuf's JSON spelling of non-finite doubles) fit, as missing. Empty
  // text is missing.
  void PutString(int slot, const FieldName& field, std::string_view text);
  // Untyped text (a CSV cell): parsed by the declared type
  // (a number, a date, numbers separated by ';' for a series). Blank text
  // is missing.
  void PutText(int slot, const FieldName& field, std::string_view text);
  // A JSON boolean: fits no input type.
  void PutBool(int slot, const FieldName& field, bool value);
  // A list of numbers, oldest first: fits series inputs. NaN points are
  // kept (series functions skip them).
  void PutSeries(int slot, const FieldName& field, const double* values,
                 size_t n);
  // A date as days since 1970-01-01 (the columnar form's DateColumn): fits
  // date inputs and as_of. NaN and infinities are missing; a day outside
  // the supported dates does not fit.
  void PutDateDays(int slot, const FieldName& field, double days);
  // A value the reader could not take apart (an object, a list holding
  // something other than numbers, a number beyond double's range, a key
  // given twice): it fits nothing. `problem` says what is wrong with it,
  // e.g. `point 3 is a string, not a number`.
  // Slot -1 is for a value that belongs to no input (a section that is not
  // an object): only the warning.
  void PutUnusable(int slot, const FieldName& field, std::string_view problem);
  // A value of a kind no input type takes (`what`: "an object"): "expected
  // <the slot's type>, got <what>".
  void PutWrongKind(int slot, const FieldName& field, std::string_view what);
  // A scalar of a format whose scalars carry no type (YAML): read by the
  // declared type, the way a YAML reader would read it. A number (also
  // YAML's .inf and .nan, which are missing), any text for a string (empty
  // text is missing), a date as "YYYY-MM-DD"; a series takes no scalar.
  // Such a format locates its values (SetValueLocation), so the value is
  // not repeated: one that does not fit is reported as what was expected
  // ("expected a number").
  void PutScalar(int slot, const FieldName& field, std::string_view text);

  // Shorthands (see the class comment): resolve `name`, then Put.
  void SetAsOf(std::string_view date);
  void SetMetric(std::string_view name, double value);
  void SetAttribute(std::string_view name, std::string_view value);
  void SetDate(std::string_view name, std::string_view date);
  void SetSeries(std::string_view name, const double* values, size_t n);
  void SetPreviousScore(double score);
  void SetPreviousTier(std::string_view tier);

  // For binders that resolved a slot once: PutNumber for `input`, a number
  // input (not one of the k*Slot constants), and PutString for `input`, a
  // string input, with `code` its model code (CompiledModel::StringCode of
  // the input's column), known beforehand. The same rules and results as
  // PutNumber and PutString, without looking the slot's type or the code up
  // per value.
  void PutNumberInput(int input, const FieldName& field, double value);
  void PutStringInput(int input, const FieldName& field, std::string_view text,
                      int32_t code);
  // PutString for `input`, a date input: the same rules and results.
  void PutDateInput(int input, const FieldName& field, std::string_view text);
  // A whole column at once, for binders of columnar input: the numbers
  // `values[0, n)` for `input` (a number input) in rows [first_row,
  // first_row + n) of the batch, which must have begun (rows prepared and
  // begun, possibly ended). The same rules as PutNumberInput; the caller
  // guarantees that nothing else gives `input` in those rows (so no value
  // can be given twice), and that the range warnings are put back in row
  // order (SortRangeWarnings) before the batch is read.
  void PutNumberColumn(int input, size_t first_row, const double* values,
                       size_t n);
  // Whole columns of the other kinds, with the same contract as
  // PutNumberColumn (rows begun; nothing else gives `slot` in those rows):
  //
  // PutNumberColumn also takes kPreviousScoreSlot (no range to check).
  //
  // Days since 1970-01-01 for `slot`, a date input or kAsOfSlot, as
  // PutDateDays puts them one by one: non-finite values are missing. Every
  // finite value must be a supported date (DaysColumnFits): one that is
  // not has a warning of its own, which only value by value can place.
  void PutDateDaysColumn(int slot, size_t first_row, const double* days,
                         size_t n);
  // Dictionary codes for `slot`, a string input or kPreviousTierSlot, as
  // PutString puts dictionary[codes[i]] one by one: code -1 and empty
  // entries are missing. Every code must be -1 or an index into the
  // dictionary (a code that is not has a warning of its own).
  // `entry_codes[d]` is what entry d stores: StringCodeFor(slot,
  // dictionary[d]), computed once per dictionary by the caller.
  void PutCodeColumn(int slot, size_t first_row, const int32_t* codes,
                     size_t n, const std::string_view* dictionary,
                     const int32_t* entry_codes);
  // Series for `input`, a series input, as PutSeries puts them one by one:
  // row first_row + i has lengths[i] points from points + offsets[i], and a
  // negative length is missing. The rows must be the batch's last (first_row
  // + n == rows()), with no points of `input` yet, so the points are
  // appended in row order.
  void PutSeriesColumn(int input, size_t first_row, const int32_t* lengths,
                       const uint64_t* offsets, const double* points,
                       size_t n);
  // The code a string value stores for `slot` (a string input of `model`
  // or kPreviousTierSlot): the model's StringCode for an input, the tier's
  // index (tiers().size() for insufficient_data, kUnknownString for no tier
  // of the model) for the previous tier.
  static int32_t StringCodeFor(const model::CompiledModel& model, int slot,
                               std::string_view text);
  // Range warnings from the `from`-th on, stably sorted by row and then by
  // `rank[input]`: the order values are put in row by row.
  void SortRangeWarnings(size_t from, const std::vector<int32_t>& rank);
  size_t range_warning_count() const { return batch_->range_warnings_.size(); }
  // Rows begun so far.
  size_t rows() const { return batch_->rows_; }

  // Store a checked value of the input's own type (no rules applied).
  void SetNumberAt(int input, double value);     // number inputs
  // Date inputs, as days since 1970-01-01. NaN and infinities are missing;
  // a finite value outside the supported dates (IsSupportedDateDays) does
  // not fit (as PutDateDays).
  void SetDateDaysAt(int input, double days);
  void SetStringAt(int input, std::string_view value);
  void SetSeriesAt(int input, const double* values, size_t n);

  size_t ignored_fields() const { return ignored_fields_; }

 private:
  // The declared type of a slot.
  model::InputType SlotType(int slot) const;
  // Records that the value for `slot` did not fit: the slot becomes missing
  // and the row gets a warning "field: problem; used as missing" (or, in
  // strict mode, a problem that fails it).
  void Reject(int slot, const FieldName& field, std::string_view problem);
  // Makes `slot` missing for the current row.
  void Clear(int slot);
  void Fail(std::string message);
  // Marks `slot` as given in the current row. A value given twice in one
  // record (a repeated key, one input under two sections) is ambiguous: the
  // second time the slot is rejected and false returned. Missing values
  // (null, NaN, empty text) are not given.
  bool Given(int slot, const FieldName& field);
  // Stores a checked date (days) in `slot` (a date input or as_of).
  void StoreDate(int slot, const FieldName& field, double days);
  int Resolve(std::string_view name);
  // SetStringAt with the value's model code known.
  void StoreString(int input, std::string_view value, int32_t code);

  Batch* batch_;
  // The last as_of text parsed and its day count: the accounts of one
  // input mostly share their as_of, so it is mostly parsed once.
  std::string as_of_text_;
  double as_of_days_ = 0;
  size_t row_ = 0;
  bool in_row_ = false;
  bool strict_ = false;
  size_t ignored_fields_ = 0;
  std::string location_;
  uint64_t line_ = 0;           // SetRowLine
  std::string value_location_;  // SetValueLocation
  // Strict mode: the current row's first problems, joined into its error at
  // EndRow, and how many there were.
  std::vector<std::string> problems_;
  size_t problem_count_ = 0;
  // The current row's values used as missing, including those past
  // kMaxRowValueWarnings (which have no text of their own).
  size_t row_dropped_ = 0;
  // Where the current row's value warnings start in value_warnings_.
  size_t row_warnings_begin_ = 0;
  std::vector<double> points_;  // PutText of a series
  // Per slot + 4: the row_stamp_ of the row that gave it a value.
  std::vector<uint32_t> given_;
  std::vector<uint8_t> fill_column_;  // PrepareRows: per number column
  uint32_t row_stamp_ = 0;
  // Per input, what the Set/Put paths read of its InputInfo, side by side:
  // the column, and the range with an absent bound as an infinity (a finite
  // value is never outside it). A number binds a dozen times per account.
  struct NumberSlot {
    int column;
    double low;
    double high;
  };
  std::vector<NumberSlot> number_slots_;
};

// Whether `text` is a word for a non-finite number: "NaN", "Infinity",
// "-Infinity" (protobuf's JSON spelling), also "inf" and a sign, in any
// case. Such a string is a missing number wherever a number is expected.
bool IsNonFiniteNumberWord(std::string_view text);

// Parses a number written as text (a CSV cell, a series point): decimal or
// scientific notation with surrounding whitespace allowed, as
// absl::SimpleAtod reads it. False for blank or malformed text. NaN and
// infinity words parse (to NaN and infinities): callers treat them as
// missing.
bool ParseNumberText(std::string_view text, double* out);

// The dates the engine handles, as days since 1970-01-01: years 0000 to
// 9999, what "YYYY-MM-DD" can write (0000-01-01 and 9999-12-31).
inline constexpr double kMinDateDays = -719528;
inline constexpr double kMaxDateDays = 2932896;
// Whether `days` falls on a supported date (kMinDateDays up to the end of
// kMaxDateDays; fractions of a day allowed). False for NaN and infinities.
bool IsSupportedDateDays(double days);
// Whether every finite value of days[0, n) IsSupportedDateDays (what
// BatchBuilder::PutDateDaysColumn requires).
bool DaysColumnFits(const double* days, size_t n);

// Parses "YYYY-MM-DD" to days since 1970-01-01, optionally followed by a
// time part: 'T' (or 't' or a space) then HH:MM[:SS[.fraction]] and an
// optional 'Z' or +HH:MM / -HH:MM offset (RFC 3339), each field in range.
// The time part is checked, then ignored: the result is the calendar date
// as written, with no time-zone conversion. False on malformed or
// impossible dates and on any malformed time part ("2026-11-01T25:99").
bool ParseIsoDate(std::string_view text, double* days);
// The inverse: days since 1970-01-01 as "YYYY-MM-DD" (fractions of a day
// dropped). A value that IsSupportedDateDays refuses, which no batch
// holds, is written as the number ("1e+300 days since 1970-01-01").
std::string FormatIsoDate(double days);
// As FormatIsoDate, appended to `out`.
void AppendIsoDate(double days, std::string* out);
void AppendIsoDate(double days, common::TextBuffer* out);

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_BATCH_H_
