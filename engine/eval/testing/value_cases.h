// The value rules as one table, for tests only.
//
// Every reader (JSON Lines, CSV, the server's map form and columnar form)
// hands values to BatchBuilder::Put*, which alone decides what a value
// means for its input's declared type (engine/eval/batch.h). This table
// states those rules once, as cases: a value, the declared type of the
// input it is sent for, the section it is sent under, and what must come of
// it. Each reader's test drives every case its format can express through
// the real reader and checks the batch with Observe(), so the four paths
// cannot drift apart again.
//
// CSV cells are untyped text, read by the declared type, so a case states
// the cell that carries its value in CSV and what comes of that cell (it
// differs from the typed formats exactly where typing matters: the JSON
// string "0.42" is not a number, the CSV cell 0.42 is).

#ifndef HEALTHSCORE_ENGINE_EVAL_TESTING_VALUE_CASES_H_
#define HEALTHSCORE_ENGINE_EVAL_TESTING_VALUE_CASES_H_

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/model/compiler.h"

namespace healthscore::engine::eval::testing {

// The model every case is read for: one input of each type.
inline constexpr char kValueCasesModel[] = R"yaml(name: value_cases
version: "1"
inputs:
  - {id: n, type: number}
  - {id: s, type: string}
  - {id: d, type: date}
  - {id: ser, type: series}
derived:
  - {id: uses, expr: "(s == \"x\" ? 1 : 0) + days_between(d, d) + count(ser)"}
groups:
  - id: g
    weight: 1
    signals:
      - {id: from_n, source: n, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
      - {id: from_all, source: uses, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

inline std::shared_ptr<const model::CompiledModel> ValueCasesModel() {
  static const std::shared_ptr<const model::CompiledModel> model =
      model::CompileString(kValueCasesModel, "value_cases.yaml").model;
  return model;
}

// The input of each declared type in ValueCasesModel().
inline const char* InputFor(model::InputType type) {
  switch (type) {
    case model::InputType::kNumber:
      return "n";
    case model::InputType::kString:
      return "s";
    case model::InputType::kDate:
      return "d";
    case model::InputType::kSeries:
      return "ser";
  }
  return "";
}

// A value as a typed client sends it.
struct Value {
  enum Kind {
    kNull,     // JSON null; absent from a map; NaN / -1 in a column
    kNumber,   // a JSON number, a protobuf double
    kString,   // a JSON string, a protobuf string
    kBool,     // a JSON boolean (JSON Lines only)
    kPoints,   // a list of numbers (NaN written "NaN" in JSON)
    kJson,     // raw JSON text only JSON Lines can carry
  };
  Kind kind = kNull;
  double number = 0;
  std::string text;  // kString; kJson: the JSON text
  std::vector<double> points;
  bool flag = false;
};

// What must come of a value.
struct Outcome {
  enum What {
    kStored,   // the input holds the value below
    kMissing,  // the input is missing, silently (null, NaN, empty)
    kDropped,  // missing, with a warning holding `warning`; in strict mode
               // the account fails naming it
    kNotExpressible,  // the format cannot carry this value
  };
  What what = kNotExpressible;
  double number = 0;  // number; date as days since 1970-01-01
  std::string text;   // string
  std::vector<double> points;
  std::string warning;
};

struct ValueCase {
  std::string name;
  model::InputType type;  // declared type of the input the value is for
  std::string section;  // metrics, attributes, dates or series
  Value value;
  Outcome typed;        // JSON Lines, gRPC map and columnar forms
  const char* csv_cell;  // the CSV cell carrying the value; nullptr: none
  Outcome csv;
};

inline Value Num(double v) {
  Value x;
  x.kind = Value::kNumber;
  x.number = v;
  return x;
}
inline Value Str(std::string v) {
  Value x;
  x.kind = Value::kString;
  x.text = std::move(v);
  return x;
}
inline Value Bool(bool v) {
  Value x;
  x.kind = Value::kBool;
  x.flag = v;
  return x;
}
inline Value Points(std::vector<double> v) {
  Value x;
  x.kind = Value::kPoints;
  x.points = std::move(v);
  return x;
}
inline Value Json(std::string json) {
  Value x;
  x.kind = Value::kJson;
  x.text = std::move(json);
  return x;
}
inline Value Null() { return Value(); }

inline Outcome StoredNumber(double v) {
  Outcome o;
  o.what = Outcome::kStored;
  o.number = v;
  return o;
}
inline Outcome StoredText(std::string v) {
  Outcome o;
  o.what = Outcome::kStored;
  o.text = std::move(v);
  return o;
}
inline Outcome StoredPoints(std::vector<double> v) {
  Outcome o;
  o.what = Outcome::kStored;
  o.points = std::move(v);
  return o;
}
inline Outcome Missing() {
  Outcome o;
  o.what = Outcome::kMissing;
  return o;
}
inline Outcome Dropped(std::string warning) {
  Outcome o;
  o.what = Outcome::kDropped;
  o.warning = std::move(warning);
  return o;
}
inline Outcome NotExpressible() { return Outcome(); }

inline double Days(const char* date) {
  double days = 0;
  eval::ParseIsoDate(date, &days);
  return days;
}

// The rules. Add a case here and every reader is tested against it.
inline const std::vector<ValueCase>& ValueCases() {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  using T = model::InputType;
  static const auto* cases = new std::vector<ValueCase>{
      // Numbers.
      {"number", T::kNumber, "metrics", Num(0.42), StoredNumber(0.42), "0.42",
       StoredNumber(0.42)},
      {"tiny number", T::kNumber, "metrics", Num(1e-300), StoredNumber(1e-300),
       "1e-300", StoredNumber(1e-300)},
      {"NaN is missing", T::kNumber, "metrics", Str("NaN"), Missing(), "NaN",
       Missing()},
      {"Infinity is missing", T::kNumber, "metrics", Str("Infinity"),
       Missing(), "Infinity", Missing()},
      {"-Infinity is missing", T::kNumber, "metrics", Str("-Infinity"),
       Missing(), "-Infinity", Missing()},
      {"a number as a string", T::kNumber, "metrics", Str("0.42"),
       Dropped("n: expected a number, got the string \"0.42\""), "0.42",
       StoredNumber(0.42)},
      {"not a number", T::kNumber, "metrics", Str("high"),
       Dropped("n: expected a number, got the string \"high\""), "high",
       Dropped("n: \"high\" is not a number")},
      {"a boolean for a number", T::kNumber, "metrics", Bool(true),
       Dropped("n: expected a number, got true"), "true",
       Dropped("n: \"true\" is not a number")},
      {"null number", T::kNumber, "metrics", Null(), Missing(), "",
       Missing()},
      {"a number under attributes", T::kNumber, "attributes", Num(3),
       StoredNumber(3), "3", StoredNumber(3)},
      {"a list for a number", T::kNumber, "metrics", Points({1, 2}),
       Dropped("n: expected a number, got a list of 2 numbers"), "1;2",
       Dropped("n: \"1;2\" is not a number")},
      {"a number too large for a double", T::kNumber, "metrics",
       Json("1e999"), Dropped("n: invalid number"), nullptr,
       NotExpressible()},
      // Strings.
      {"string", T::kString, "attributes", Str("smb"), StoredText("smb"),
       "smb", StoredText("smb")},
      {"empty string is missing", T::kString, "attributes", Str(""),
       Missing(), "", Missing()},
      {"a number for a string", T::kString, "metrics", Num(3),
       Dropped("s: expected a string, got the number 3"), "3",
       StoredText("3")},
      {"a boolean for a string", T::kString, "attributes", Bool(false),
       Dropped("s: expected a string, got false"), "false",
       StoredText("false")},
      // Dates.
      {"date", T::kDate, "dates", Str("2027-01-31"),
       StoredNumber(Days("2027-01-31")), "2027-01-31",
       StoredNumber(Days("2027-01-31"))},
      {"a date under attributes", T::kDate, "attributes", Str("2027-01-31"),
       StoredNumber(Days("2027-01-31")), "2027-01-31",
       StoredNumber(Days("2027-01-31"))},
      {"a date with a time", T::kDate, "dates", Str("2027-01-31T10:00:00Z"),
       StoredNumber(Days("2027-01-31")), "2027-01-31T10:00:00Z",
       StoredNumber(Days("2027-01-31"))},
      {"an impossible date", T::kDate, "dates", Str("2026-02-30"),
       Dropped("d: \"2026-02-30\" is not a date (YYYY-MM-DD)"), "2026-02-30",
       Dropped("d: \"2026-02-30\" is not a date (YYYY-MM-DD)")},
      {"NaN is not a date", T::kDate, "dates", Str("NaN"),
       Dropped("d: \"NaN\" is not a date (YYYY-MM-DD)"), "NaN",
       Dropped("d: \"NaN\" is not a date (YYYY-MM-DD)")},
      {"a number for a date", T::kDate, "metrics", Num(20758),
       Dropped("d: expected a date (YYYY-MM-DD), got the number 20758"),
       "20758", Dropped("d: \"20758\" is not a date (YYYY-MM-DD)")},
      // Series.
      {"series", T::kSeries, "series", Points({1, 2.5}),
       StoredPoints({1, 2.5}), "1;2.5", StoredPoints({1, 2.5})},
      {"empty series", T::kSeries, "series", Points({}), StoredPoints({}),
       nullptr, NotExpressible()},
      {"a NaN point", T::kSeries, "series", Points({1, kNaN}),
       StoredPoints({1, kNaN}), "1;NaN", StoredPoints({1, kNaN})},
      {"a non-numeric point", T::kSeries, "series", Json("[1, \"x\"]"),
       Dropped("ser: point 2 is not a number"), "1;x",
       Dropped("ser: point 2 (\"x\") is not a number")},
      {"a null point", T::kSeries, "series", Json("[1, null]"),
       Dropped("ser: point 2 is not a number (got null)"), "1;",
       Dropped("ser: point 2 (\"\") is not a number")},
      {"a number for a series", T::kSeries, "metrics", Num(5),
       Dropped("ser: expected a list of numbers, got the number 5"), "5",
       StoredPoints({5})},
      {"a string for a series", T::kSeries, "series", Str("1;2"),
       Dropped("ser: expected a list of numbers, got the string \"1;2\""),
       nullptr, NotExpressible()},
  };
  return *cases;
}

// What a reader made of the value of `input` in row `row`.
struct Observed {
  bool row_ok = true;
  std::string error;
  bool valid = false;
  double number = 0;
  std::string text;
  std::vector<double> points;
  std::vector<std::string> warnings;  // RowWarnings
  size_t dropped = 0;
};

inline Observed Observe(const eval::Batch& batch, size_t row,
                        const char* name) {
  const model::CompiledModel& m = batch.model();
  const model::InputInfo& in = m.inputs()[m.FindInput(name)];
  Observed o;
  o.row_ok = batch.row_ok(row);
  if (!o.row_ok) o.error = batch.row_error(row);
  o.warnings = eval::RowWarnings(batch, row);
  o.dropped = batch.dropped_values(row);
  switch (in.type) {
    case model::InputType::kNumber:
    case model::InputType::kDate:
      o.valid = batch.number_valid(in.column)[row] != 0;
      o.number = batch.number(in.column)[row];
      break;
    case model::InputType::kString:
      o.valid = batch.string_codes(in.column)[row] != model::kMissingString;
      o.text = std::string(batch.string_text(in.column, row));
      break;
    case model::InputType::kSeries: {
      o.valid = batch.series_valid(in.column)[row] != 0;
      const uint32_t* offsets = batch.series_offsets(in.column);
      const double* values = batch.series_values(in.column);
      o.points.assign(values + offsets[row], values + offsets[row + 1]);
      break;
    }
  }
  return o;
}

// Same bits, so that NaN points compare equal to NaN points.
inline bool SameDoubles(const std::vector<double>& a,
                        const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) return false;
  }
  return true;
}

// "" when `o` (read leniently, or strictly when `strict`) is what `want`
// says for an input of `type`; otherwise what differs.
inline std::string Mismatch(const Observed& o, const Outcome& want,
                            model::InputType type, bool strict) {
  auto contains = [](const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
  };
  if (want.what == Outcome::kDropped) {
    if (strict) {
      if (o.row_ok) return "strict: the account should have failed";
      if (!contains(o.error, want.warning)) {
        return "strict: the error does not name the problem: " + o.error;
      }
      return "";
    }
    if (!o.row_ok) return "the account failed: " + o.error;
    if (o.valid) return "the value was kept";
    if (o.dropped != 1 || o.warnings.size() != 1 ||
        !contains(o.warnings[0], want.warning) ||
        !contains(o.warnings[0], "; used as missing")) {
      std::string all;
      for (const std::string& w : o.warnings) all += "[" + w + "] ";
      return "expected one warning with \"" + want.warning + "\", got " + all;
    }
    return "";
  }
  if (!o.row_ok) return "the account failed: " + o.error;
  if (!o.warnings.empty() || o.dropped != 0) {
    return "unexpected warning: " + o.warnings.front();
  }
  if (want.what == Outcome::kMissing) {
    return o.valid ? "the value should be missing" : "";
  }
  if (!o.valid) return "the value is missing";
  switch (type) {
    case model::InputType::kNumber:
    case model::InputType::kDate:
      return std::memcmp(&o.number, &want.number, sizeof(double)) == 0
                 ? ""
                 : "stored " + std::to_string(o.number);
    case model::InputType::kString:
      return o.text == want.text ? "" : "stored \"" + o.text + "\"";
    case model::InputType::kSeries:
      return SameDoubles(o.points, want.points) ? "" : "stored other points";
  }
  return "";
}

}  // namespace healthscore::engine::eval::testing

#endif  // HEALTHSCORE_ENGINE_EVAL_TESTING_VALUE_CASES_H_
