#include "engine/common/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

// fmt's Dragonbox (Debian 12's libfmt-dev, used header-only through
// fmt::fmt-header-only, so nothing is linked at run time) finds the shortest
// digits of a double in about 20 ns where libstdc++'s to_chars takes about 47
// (bench/README.md, issue 11). fmt keeps it in its detail namespace;
// number_format_test holds every text written here to std::to_chars's, so a
// change of fmt's would fail it.
#include "fmt/format.h"

namespace healthscore::engine::common {

namespace {

// The shortest text is at most 24 characters (-2.2250738585072014e-308);
// WriteShortest copies in fixed blocks of 24 and may write past the text's
// end, never past this.
constexpr size_t kNumberRoom = 80;

constexpr char kDigitPairs[] =
    "0001020304050607080910111213141516171819202122232425262728293031323334"
    "3536373839404142434445464748495051525354555657585960616263646566676869"
    "707172737475767778798081828384858687888990919293949596979899";

void WritePair(char* p, uint32_t v) { std::memcpy(p, kDigitPairs + 2 * v, 2); }

// The decimal digits of n, written so that they end at `end`; returns where
// they start. Eight digits at a time (independent divisions), then pairs.
char* DigitsEndingAt(uint64_t n, char* end) {
  while (n >= 100000000) {
    const uint32_t low = static_cast<uint32_t>(n % 100000000);
    n /= 100000000;
    end -= 8;
    const uint32_t hi = low / 10000;
    const uint32_t lo = low % 10000;
    WritePair(end, hi / 100);
    WritePair(end + 2, hi % 100);
    WritePair(end + 4, lo / 100);
    WritePair(end + 6, lo % 100);
  }
  uint32_t m = static_cast<uint32_t>(n);
  while (m >= 100) {
    end -= 2;
    WritePair(end, m % 100);
    m /= 100;
  }
  if (m >= 10) {
    end -= 2;
    WritePair(end, m);
  } else {
    *--end = static_cast<char>('0' + m);
  }
  return end;
}

// Writes finite, nonzero `value` as std::to_chars(first, last, value) does
// (the shortest digits that read back; the fixed form unless the exponent
// form is shorter; a whole number in the fixed form is written exactly, as
// every text of that length is as short) into `out`, which has
// kNumberRoom bytes. Returns the end of the text. Variable-length
// copies would be library calls; the copies here are of fixed size.
char* WriteShortest(double value, char* out) {
  const auto decimal = fmt::detail::dragonbox::to_decimal(value);
  // Dragonbox drops trailing zeros: value = significand * 10^exponent.
  char scratch[48];
  char* const digits_end = scratch + 24;
  const char* digits = DigitsEndingAt(decimal.significand, digits_end);
  const int n = static_cast<int>(digits_end - digits);
  const int exponent = decimal.exponent;
  const int point = n + exponent;  // digits before the decimal point
  const int exp10 = point - 1;     // the exponent form's
  const int abs_exp10 = exp10 < 0 ? -exp10 : exp10;
  const int exponent_length =
      n + (n > 1 ? 1 : 0) + 2 + (abs_exp10 >= 100 ? 3 : 2);
  int fixed_length;
  if (exponent >= 0) {
    fixed_length = point;
  } else if (point > 0) {
    fixed_length = n + 1;
  } else {
    fixed_length = 2 - point + n;
  }
  *out = '-';
  out += std::signbit(value) ? 1 : 0;
  if (fixed_length <= exponent_length) {  // a tie goes to the fixed form
    if (exponent >= 0) {
      // A whole number of at most 22 digits (else the exponent form is
      // shorter): below 2^64 as an integer, above in 128 bits.
      const double magnitude = std::fabs(value);
      if (magnitude < 18446744073709551616.0) {
        const char* first =
            DigitsEndingAt(static_cast<uint64_t>(magnitude), digits_end);
        std::memcpy(out, first, 24);
        return out + (digits_end - first);
      }
      unsigned __int128 whole = static_cast<unsigned __int128>(magnitude);
      char* first = scratch + sizeof(scratch);
      while (whole > 0) {
        *--first = static_cast<char>('0' + static_cast<int>(whole % 10));
        whole /= 10;
      }
      const size_t length =
          static_cast<size_t>(scratch + sizeof(scratch) - first);
      std::memcpy(out, first, length);
      return out + length;
    }
    if (point > 0) {  // 12.5: the fraction's digits move right by one
      std::memcpy(out, digits, 24);
      std::memcpy(out + point + 1, digits + point, 24);
      out[point] = '.';
      return out + n + 1;
    }
    // 0.00125: fixed is no longer than the exponent form only when there
    // are at most three zeros after the point.
    out[0] = '0';
    out[1] = '.';
    std::memset(out + 2, '0', 8);
    std::memcpy(out + 2 - point, digits, 24);
    return out + 2 - point + n;
  }
  out[0] = digits[0];
  out[1] = '.';
  std::memcpy(out + 2, digits + 1, 24);
  out += n > 1 ? n + 1 : 1;
  out[0] = 'e';
  out[1] = exp10 < 0 ? '-' : '+';
  out += 2;
  if (abs_exp10 >= 100) *out++ = static_cast<char>('0' + abs_exp10 / 100);
  WritePair(out, static_cast<uint32_t>(abs_exp10 % 100));
  return out + 2;
}

// Writes `value` as `format` says at `out`, which has kNumberRoom bytes;
// returns the end of the text.
char* WriteNumber(double value, char* out, NumberFormat format) {
  if (std::isnan(value)) {
    std::memcpy(out, "nan", 3);
    return out + 3;
  }
  if (std::isinf(value)) {
    if (value < 0) *out++ = '-';
    std::memcpy(out, "inf", 3);
    return out + 3;
  }
  if (value == 0) {  // -0 is written 0
    *out = '0';
    return out + 1;
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
    if (plain) return std::to_chars(out, out + kNumberRoom, n).ptr;
  }
  if (format.precision >= 1 && format.precision <= kMaxNumberPrecision) {
    // %.17g is at most 24 characters (-2.2250738585072014e-308).
    return std::to_chars(out, out + kNumberRoom, value,
                         std::chars_format::general, format.precision)
        .ptr;
  }
  return WriteShortest(value, out);
}

}  // namespace

void AppendNumber(double value, std::string* out, NumberFormat format) {
  char buf[kNumberRoom];
  out->append(buf, WriteNumber(value, buf, format) - buf);
}

void AppendNumber(double value, TextBuffer* out, NumberFormat format) {
  out->Advance(WriteNumber(value, out->Room(kNumberRoom), format));
}

std::string FormatNumber(double value, NumberFormat format) {
  std::string out;
  AppendNumber(value, &out, format);
  return out;
}

}  // namespace healthscore::engine::common
