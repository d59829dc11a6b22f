// Batch: account snapshots laid out as columns for one CompiledModel.
//
// A Batch is built by a BatchBuilder for a specific model: each input the
// model declares has a column (numbers and dates as doubles with a validity
// byte, strings as dictionary codes, series as a flat array with offsets).
// Inputs the model does not declare are dropped at ingest. Missing values
// are tracked by validity, never by sentinel numbers; NaN and infinities are
// stored as missing.
//
// A bad account (no id, a value of the wrong type, an unparseable date) is
// marked with its own error and skipped by scoring; the rest of the batch is
// unaffected.
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
#include <vector>

#include "engine/model/compiled_model.h"

namespace healthscore::engine {

// A range-check warning: row `row`'s value of input `input` lies outside the
// input's declared range.
struct RangeWarning {
  uint32_t row;
  int32_t input;
  double value;
};

class Batch {
 public:
  explicit Batch(std::shared_ptr<const CompiledModel> model);

  const CompiledModel& model() const { return *model_; }
  const std::shared_ptr<const CompiledModel>& model_ptr() const {
    return model_;
  }
  size_t size() const { return rows_; }

  // Removes every row; keeps allocated capacity.
  void Clear();

  std::string_view id(size_t row) const;
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

 private:
  friend class BatchBuilder;

  std::shared_ptr<const CompiledModel> model_;
  size_t rows_ = 0;
  // Reused across Clear(): the strings keep their capacity.
  std::vector<std::string> ids_;
  std::vector<std::string> errors_;
  size_t error_count_ = 0;
  std::vector<double> as_of_;
  std::vector<uint8_t> as_of_valid_;
  std::vector<double> prev_score_;
  std::vector<uint8_t> prev_score_valid_;
  std::vector<int32_t> prev_tier_;
  std::vector<std::vector<double>> num_;
  std::vector<std::vector<uint8_t>> num_valid_;
  std::vector<std::vector<int32_t>> str_code_;
  // Raw string text: one arena per column with (offset, length) per row.
  std::vector<std::string> str_arena_;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> str_span_;
  std::vector<std::vector<double>> series_values_;
  std::vector<std::vector<uint32_t>> series_offsets_;
  std::vector<std::vector<uint8_t>> series_valid_;
  std::vector<RangeWarning> range_warnings_;
};

// Fills a Batch row by row (the map form: names per account) or by
// resolved column (the columnar form: names once per batch).
//
// Row form: BeginRow, then any setters, then EndRow. Setters look names up
// in the model; a name the model does not declare is ignored (counted in
// ignored_fields()); a name declared with another type fails the row with a
// message naming the field and why. Series must be set in row order.
class BatchBuilder {
 public:
  // `batch` must outlive the builder.
  explicit BatchBuilder(Batch* batch);

  void BeginRow(std::string_view id);
  // "YYYY-MM-DD". An unparseable date fails the row.
  void SetAsOf(std::string_view date);
  void SetMetric(std::string_view name, double value);
  void SetAttribute(std::string_view name, std::string_view value);
  void SetDate(std::string_view name, std::string_view date);
  void SetSeries(std::string_view name, const double* values, size_t n);
  void SetPreviousScore(double score);
  void SetPreviousTier(std::string_view tier);
  // Marks the current row bad (e.g. the reader found a value of the wrong
  // JSON type). The first message is kept; an empty id is reported at
  // EndRow only if nothing else failed the row.
  void FailRow(std::string_view message);
  void EndRow();

  // Appends row `row` of `from` as one new row, exactly as it was built:
  // id, as_of, previous score and tier, every input value, the row's error
  // and its range warnings. Used to split a batch into parts (one per model
  // under segment routing) without reading the accounts again.
  // REQUIRES: `from` is a batch of the same CompiledModel as this builder's
  // batch, is not this builder's batch, and no row is open.
  void CopyRow(const Batch& from, size_t row);

  // Columnar helpers: the input index (into model().inputs()) for `name`,
  // or -1. Resolve once, then set by index for every row.
  int ResolveInput(std::string_view name) const;
  void SetNumberAt(int input, double value);     // number inputs
  // Date inputs, as days since 1970-01-01. NaN and infinities are missing;
  // a finite value outside the supported dates (IsSupportedDateDays) fails
  // the row, naming the input and the value.
  void SetDateDaysAt(int input, double days);
  void SetStringAt(int input, std::string_view value);
  void SetSeriesAt(int input, const double* values, size_t n);

  size_t ignored_fields() const { return ignored_fields_; }

 private:
  void Fail(std::string message);
  // The input index of `name` when it is declared with type `want`; -1 when
  // it is not declared (counted as ignored) or declared with another type
  // (the row fails, naming the field).
  int Lookup(std::string_view name, InputType want);
  Batch* batch_;
  size_t row_ = 0;
  bool in_row_ = false;
  size_t ignored_fields_ = 0;
};

// The dates the engine handles, as days since 1970-01-01: years 0000 to
// 9999, what "YYYY-MM-DD" can write (0000-01-01 and 9999-12-31).
inline constexpr double kMinDateDays = -719528;
inline constexpr double kMaxDateDays = 2932896;
// Whether `days` falls on a supported date (kMinDateDays up to the end of
// kMaxDateDays; fractions of a day allowed). False for NaN and infinities.
bool IsSupportedDateDays(double days);

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

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_EVAL_BATCH_H_
