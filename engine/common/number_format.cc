#include "engine/common/number_format.h"

#include <charconv>
#include <cmath>

namespace healthscore::engine {

void AppendNumber(double value, std::string* out, NumberFormat format) {
  if (std::isnan(value)) {
    out->append("nan");
    return;
  }
  if (std::isinf(value)) {
    out->append(value < 0 ? "-inf" : "inf");
    return;
  }
  if (value == 0) value = 0;  // -0 is written 0
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

}  // namespace healthscore::engine
