// Exact decimal amounts: money that sums without drift.
//
// A Decimal is a signed fixed-point number with kDecimalPlaces (12)
// digits after the point, held in a 128-bit integer (absl::int128): about
// +-1.7e26 units, far beyond any revenue, and exact for every amount
// written with up to 12 decimals. Sums and differences are exact;
// Multiply (a currency rate) rounds its product half to even at the 12th
// decimal; ToDouble is for ratios and charts only.
//
// Reading: ParseDecimal takes decimal text as a person or a program writes
// it ("1234.56", "-0.5", "+3", "1.5e3", "1_000" is refused); digits past the
// 12th decimal are rounded half to even and reported (*rounded). From a
// JSON number, which arrives as a double, FromDouble takes the shortest text
// that reads back to the same double (common::FormatNumber), so any amount
// written with up to 15 significant digits is read exactly as written.
//
// Thread-safety: a plain value.

#ifndef HEALTHSCORE_ENGINE_COMMON_DECIMAL_H_
#define HEALTHSCORE_ENGINE_COMMON_DECIMAL_H_

#include <string>
#include <string_view>

#include "absl/numeric/int128.h"

namespace healthscore::engine::common {

inline constexpr int kDecimalPlaces = 12;

class Decimal {
 public:
  constexpr Decimal() = default;

  // From a count of 10^-12 units.
  static Decimal FromUnits(absl::int128 units) {
    Decimal d;
    d.units_ = units;
    return d;
  }
  static Decimal FromInt(int64_t whole);
  // False (and *out unchanged) for NaN, infinities and magnitudes past the
  // range; *rounded (may be null) set when digits were rounded away.
  static bool FromDouble(double value, Decimal* out, bool* rounded = nullptr);

  absl::int128 units() const { return units_; }
  bool is_zero() const { return units_ == 0; }
  bool is_negative() const { return units_ < 0; }

  // Exact; false on overflow (then *this is unchanged).
  bool Add(const Decimal& other);
  bool Subtract(const Decimal& other);
  // *this times `rate`, rounded half to even at the 12th decimal; false on
  // overflow.
  bool Multiply(const Decimal& rate);

  double ToDouble() const;
  // The exact value with as few decimals as it needs ("1234.56", "0",
  // "-0.5"): a valid JSON number.
  std::string ToString() const;
  // Rounded half to even to `decimals` (0..12) places, always written with
  // that many ("1234.50" for 2).
  std::string ToFixed(int decimals) const;

  friend bool operator==(const Decimal& a, const Decimal& b) {
    return a.units_ == b.units_;
  }
  friend bool operator!=(const Decimal& a, const Decimal& b) {
    return a.units_ != b.units_;
  }
  friend bool operator<(const Decimal& a, const Decimal& b) {
    return a.units_ < b.units_;
  }

 private:
  absl::int128 units_ = 0;
};

// Reads decimal text (see the file comment; leading and trailing blanks
// allowed). False when `text` is not a decimal number or is out of range;
// *rounded (may be null) is set when digits past the 12th decimal were
// rounded away.
bool ParseDecimal(std::string_view text, Decimal* out, bool* rounded = nullptr);

// a / b as a double (NaN when b is zero), computed so that the ratio of
// two exact amounts is the double nearest to it where long double allows.
double Ratio(const Decimal& a, const Decimal& b);

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_DECIMAL_H_
