#include "engine/common/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace healthscore::engine::common {

void AppendNumber(double value, std::string* out, NumberFormat format) {
  if (std::isnan(value)) {
    out->append("nan");
    return;
  }
  if (std::isinf(value)) {
    out->append(value < 0 ? "-inf" : "inf");
    return;
  }
  if (value == 0) {  // -0 is written 0
    out->push_back('0');
    return;
  }
  // Whole numbers (counts, ages, days, coverage 1) are common in results,
  // and an integer conversion costs a fraction of a shortest-form double
  // conversion. It writes the same text whenever that text is the plain
  // digits: with the default format, when the number has fewer than four
  // trailing zeros (then the exponent form, at least the significant
  // digits plus "e+XX", is longer, so to_chars picks the fixed form); with
  // a precision, when the number has no more digits than the precision.
  // Below 1e15 every such double is an exact int64.
  if (std::fabs(value) < 1e15 && value == std::trunc(value)) {
    const int64_t n = static_cast<int64_t>(value);
    const int64_t magnitude = n < 0 ? -n : n;
    bool plain;
    if (format.precision >= 1 && format.precision <= kMaxNumberPrecision) {
      int digits = 1;
      for (int64_t m = magnitude; m >= 10; m /= 10) ++digits;
      plain = digits <= format.precision;
    } else {
      plain = magnitude % 10000 != 0;
    }
    if (plain) {
      char digits[24];
      const std::to_chars_result r =
          std::to_chars(digits, digits + sizeof(digits), n);
      out->append(digits, r.ptr - digits);
      return;
    }
  }
  // The longest shortest-form double is 24 characters
  // (-2.2250738585072014e-308); %.17g is no longer.
  char buf[32];
  std::to_chars_result r;
  if (format.precision >= 1 && format.precision <= kMaxNumberPrecision) {
    r = std::to_chars(buf, buf + sizeof(buf), value,
                      std::chars_format::general, format.precision);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), value);
  }
  out->append(buf, r.ptr - buf);
}

std::string FormatNumber(double value, NumberFormat format) {
  std::string out;
  AppendNumber(value, &out, format);
  return out;
}

}  // namespace healthscore::engine::common
