// How numbers are written to people and files.
//
// Every double the engine, the CLI or the server writes for someone to read
// or reconcile (scores, coverage, group and signal scores, deltas, raw
// values, explanation numbers, tier bounds and ranges in messages, test
// failures, lint findings, shadow reports) goes through AppendNumber, so a
// value is written the same way everywhere.
//
// By default a number is written as the shortest text that reads back
// (strtod, std::from_chars, any correct JSON or CSV reader) as the very
// same double: 80, 79.999996, 0.30000000000000004, 1e-07, 1e+21 (the
// shortest of the fixed and the exponent form, as std::to_chars writes
// it). A reader therefore gets the engine's number to the last bit. With a
// precision of N (1..17), a number is rounded to at most N significant
// digits, as printf's "%.Ng" rounds it (trailing zeros dropped): for people
// who want short numbers and accept that they no longer reconcile exactly.
//
// Zero is written "0" whatever its sign: -0 compares equal to 0 and a
// "-0" in a report reads as a mistake. Non-finite values are written
// "nan", "inf" and "-inf"; they are not JSON numbers, so writers of JSON
// leave such values out (or write null) rather than pass them here.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_COMMON_NUMBER_FORMAT_H_
#define HEALTHSCORE_ENGINE_COMMON_NUMBER_FORMAT_H_

#include <string>

#include "engine/common/text_buffer.h"

namespace healthscore::engine::common {

// The most significant digits a precision may ask for: 17 digits tell any
// two doubles apart.
inline constexpr int kMaxNumberPrecision = 17;

struct NumberFormat {
  // 0: the shortest text that reads back to the same double (exact).
  // 1..kMaxNumberPrecision: at most this many significant digits. Other
  // values are treated as 0.
  int precision = 0;
};

// Appends `value` as `format` says.
void AppendNumber(double value, std::string* out,
                  NumberFormat format = NumberFormat());
void AppendNumber(double value, TextBuffer* out,
                  NumberFormat format = NumberFormat());

// `value` as `format` says.
std::string FormatNumber(double value, NumberFormat format = NumberFormat());

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_NUMBER_FORMAT_H_
