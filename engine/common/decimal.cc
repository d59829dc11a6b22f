// Exact decimals. Magnitudes are handled as absl::uint128 so that the most
// negative int128 needs no special case until the sign is put back; the
// product of Multiply needs 256 bits, kept as four 64-bit limbs.

#include "engine/common/decimal.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "engine/common/number_format.h"
#include "engine/common/strings.h"

namespace healthscore::engine::common {

namespace {

constexpr uint64_t kUnitsPerOne = 1000000000000ULL;  // 10^12

const absl::uint128 kMaxMagnitude =
    static_cast<absl::uint128>(std::numeric_limits<absl::int128>::max());

absl::uint128 Magnitude(absl::int128 v) {
  // Two's complement: -v as unsigned is right even for the minimum.
  return v < 0 ? -static_cast<absl::uint128>(v) : static_cast<absl::uint128>(v);
}

// The signed value of a magnitude, or false when it does not fit. (The
// minimum int128 is refused too: every Decimal then has a negation.)
bool Signed(absl::uint128 magnitude, bool negative, absl::int128* out) {
  if (magnitude > kMaxMagnitude) return false;
  const absl::int128 v = static_cast<absl::int128>(magnitude);
  *out = negative ? -v : v;
  return true;
}

absl::uint128 Pow10(int n) {
  absl::uint128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// Rounds magnitude / divisor half to even.
absl::uint128 DivideHalfEven(absl::uint128 magnitude, absl::uint128 divisor) {
  absl::uint128 q = magnitude / divisor;
  const absl::uint128 r = magnitude % divisor;
  const absl::uint128 twice = r * 2;  // r < divisor <= 10^12: no overflow
  if (twice > divisor || (twice == divisor && (q & 1) != 0)) ++q;
  return q;
}

// The decimal digits of a magnitude.
std::string Digits(absl::uint128 v) {
  if (v == 0) return "0";
  char buffer[48];
  int n = 0;
  while (v != 0) {
    buffer[n++] = static_cast<char>('0' + static_cast<int>(
                                               static_cast<uint64_t>(v % 10)));
    v /= 10;
  }
  std::string out;
  out.reserve(n);
  while (n > 0) out.push_back(buffer[--n]);
  return out;
}

// "int.frac" of a magnitude in units, with exactly `decimals` decimals
// (the units already rounded to that many).
std::string Format(absl::uint128 magnitude, bool negative, int decimals,
                   bool trim) {
  const absl::uint128 whole = magnitude / kUnitsPerOne;
  const uint64_t frac = static_cast<uint64_t>(magnitude % kUnitsPerOne);
  std::string out;
  if (negative && magnitude != 0) out.push_back('-');
  out.append(Digits(whole));
  if (decimals == 0) return out;
  std::string f = Digits(frac);
  f.insert(0, static_cast<size_t>(kDecimalPlaces) - f.size(), '0');
  f.resize(static_cast<size_t>(decimals));
  if (trim) {
    while (!f.empty() && f.back() == '0') f.pop_back();
  }
  if (!f.empty()) {
    out.push_back('.');
    out.append(f);
  }
  return out;
}

}  // namespace

Decimal Decimal::FromInt(int64_t whole) {
  return FromUnits(static_cast<absl::int128>(whole) *
                   static_cast<absl::int128>(kUnitsPerOne));
}

bool Decimal::FromDouble(double value, Decimal* out, bool* rounded) {
  if (!std::isfinite(value)) return false;
  // The shortest text that reads back to `value` is what a person wrote
  // (up to 15 significant digits), not the binary fraction nearest to it.
  return ParseDecimal(FormatNumber(value), out, rounded);
}

bool Decimal::Add(const Decimal& other) {
  const absl::int128 a = units_, b = other.units_;
  const absl::int128 max = std::numeric_limits<absl::int128>::max();
  // Keep within [-max, max], the range Signed allows.
  if ((b > 0 && a > max - b) || (b < 0 && a < -max - b)) return false;
  units_ = a + b;
  return true;
}

bool Decimal::Subtract(const Decimal& other) {
  if (other.units_ == std::numeric_limits<absl::int128>::min()) return false;
  return Add(FromUnits(-other.units_));
}

bool Decimal::Multiply(const Decimal& rate) {
  const bool negative = (units_ < 0) != (rate.units_ < 0);
  const absl::uint128 a = Magnitude(units_), b = Magnitude(rate.units_);
  // 256-bit product of two 128-bit magnitudes, little-endian 64-bit limbs.
  const uint64_t x[2] = {absl::Uint128Low64(a), absl::Uint128High64(a)};
  const uint64_t y[2] = {absl::Uint128Low64(b), absl::Uint128High64(b)};
  uint64_t p[4] = {0, 0, 0, 0};
  for (int i = 0; i < 2; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < 2; ++j) {
      const absl::uint128 t = static_cast<absl::uint128>(x[i]) * y[j] +
                              p[i + j] + carry;
      p[i + j] = absl::Uint128Low64(t);
      carry = absl::Uint128High64(t);
    }
    p[i + 2] = carry;
  }
  // Divide by 10^12 (fits in 64 bits), most significant limb first.
  uint64_t q[4];
  uint64_t remainder = 0;
  for (int i = 3; i >= 0; --i) {
    const absl::uint128 cur = absl::MakeUint128(remainder, p[i]);
    q[i] = static_cast<uint64_t>(cur / kUnitsPerOne);
    remainder = static_cast<uint64_t>(cur % kUnitsPerOne);
  }
  if (q[3] != 0 || q[2] != 0) return false;
  absl::uint128 magnitude = absl::MakeUint128(q[1], q[0]);
  const uint64_t twice = remainder * 2;  // remainder < 10^12
  if (twice > kUnitsPerOne || (twice == kUnitsPerOne && (q[0] & 1) != 0)) {
    if (magnitude == std::numeric_limits<absl::uint128>::max()) return false;
    ++magnitude;
  }
  absl::int128 result;
  if (!Signed(magnitude, negative, &result)) return false;
  units_ = result;
  return true;
}

double Decimal::ToDouble() const {
  // strtod rounds the exact decimal text correctly; converting the units
  // and dividing by 10^12 would round twice.
  const std::string text = ToString();
  return std::strtod(text.c_str(), nullptr);
}

std::string Decimal::ToString() const {
  return Format(Magnitude(units_), units_ < 0, kDecimalPlaces, /*trim=*/true);
}

std::string Decimal::ToFixed(int decimals) const {
  if (decimals < 0) decimals = 0;
  if (decimals > kDecimalPlaces) decimals = kDecimalPlaces;
  const absl::uint128 step = Pow10(kDecimalPlaces - decimals);
  // The magnitude is at most 2^127, so the rounded multiple of `step`
  // still fits an unsigned 128-bit integer.
  const absl::uint128 magnitude =
      DivideHalfEven(Magnitude(units_), step) * step;
  return Format(magnitude, units_ < 0, decimals, /*trim=*/false);
}

bool ParseDecimal(std::string_view text, Decimal* out, bool* rounded) {
  const std::string_view t = Trim(text);
  size_t i = 0;
  bool negative = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    negative = t[i] == '-';
    ++i;
  }
  // The mantissa's digits, leading zeros dropped, and how many of them
  // (of all, zeros included) follow the point.
  std::string_view int_digits, frac_digits;
  const size_t int_begin = i;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  int_digits = t.substr(int_begin, i - int_begin);
  if (i < t.size() && t[i] == '.') {
    ++i;
    const size_t frac_begin = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    frac_digits = t.substr(frac_begin, i - frac_begin);
  }
  if (int_digits.empty() && frac_digits.empty()) return false;
  // The exponent, capped: past the cap every nonzero value is out of
  // range and every digit is rounded away either way.
  constexpr int64_t kExponentCap = 100000;
  int64_t exponent = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      exp_negative = t[i] == '-';
      ++i;
    }
    const size_t exp_begin = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (exponent < kExponentCap) exponent = exponent * 10 + (t[i] - '0');
      ++i;
    }
    if (i == exp_begin) return false;
    if (exp_negative) exponent = -exponent;
  }
  if (i != t.size()) return false;

  // value = M * 10^(exponent - |frac_digits|), M the mantissa's digits;
  // units = M * 10^scale.
  const int64_t scale = exponent - static_cast<int64_t>(frac_digits.size()) +
                        kDecimalPlaces;
  // Digits of M with leading zeros skipped, read through an index.
  const size_t total = int_digits.size() + frac_digits.size();
  auto digit = [&](size_t k) -> int {
    return k < int_digits.size() ? int_digits[k] - '0'
                                 : frac_digits[k - int_digits.size()] - '0';
  };
  size_t first = 0;
  while (first < total && digit(first) == 0) ++first;
  const int64_t significant = static_cast<int64_t>(total - first);
  // Digits of M kept in the units, and what is rounded away.
  const int64_t kept = scale >= 0 ? significant : significant + scale;
  if (kept > 39) return false;  // 40 digits pass 2^128
  absl::uint128 magnitude = 0;
  const absl::uint128 limit = std::numeric_limits<absl::uint128>::max() / 10;
  for (int64_t k = 0; k < kept; ++k) {
    if (magnitude > limit) return false;
    magnitude = magnitude * 10 + static_cast<uint64_t>(digit(first + k));
  }
  bool lost = false;
  if (scale > 0 && significant > 0) {
    if (scale > 40) return false;
    for (int64_t s = 0; s < scale; ++s) {
      if (magnitude > limit) return false;
      magnitude *= 10;
    }
  } else if (kept < significant) {
    // Round half to even on the dropped digits.
    const int64_t from = kept < 0 ? 0 : kept;
    int half = 0;  // -1 below half, 0 exactly half, 1 above half
    if (kept < 0) {
      half = -1;  // a leading zero was dropped first: below half
    } else {
      const int d = digit(first + from);
      bool rest_nonzero = false;
      for (int64_t k = from + 1; k < significant; ++k) {
        if (digit(first + k) != 0) {
          rest_nonzero = true;
          break;
        }
      }
      half = d > 5 ? 1 : d < 5 ? -1 : (rest_nonzero ? 1 : 0);
    }
    for (int64_t k = from; k < significant && !lost; ++k) {
      lost = digit(first + k) != 0;
    }
    if (half > 0 || (half == 0 && (magnitude & 1) != 0)) ++magnitude;
  }
  absl::int128 units;
  if (!Signed(magnitude, negative, &units)) return false;
  *out = Decimal::FromUnits(units);
  if (rounded != nullptr) *rounded = lost;
  return true;
}

double Ratio(const Decimal& a, const Decimal& b) {
  if (b.is_zero()) return std::nan("");
  // Amounts are mostly whole or in cents, so their units end in many
  // zeros: dropping the zeros both share keeps them exact as long doubles
  // (64-bit mantissa on x86: exact below 2^64, about 1.8e19) far more
  // often; then one division, rounded to double.
  absl::int128 x = a.units(), y = b.units();
  for (const int64_t step : {int64_t{1000000}, int64_t{1000}, int64_t{10}}) {
    while (x % step == 0 && y % step == 0) {
      x /= step;
      y /= step;
    }
  }
  return static_cast<double>(static_cast<long double>(x) /
                             static_cast<long double>(y));
}

}  // namespace healthscore::engine::common
