#include "engine/common/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// What strtod reads back from `text`, which must be all number.
double ReadBack(const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  EXPECT_EQ(*end, '\0') << text;
  return v;
}

TEST(NumberFormatTest, ShortestTextThatReadsBack) {
  EXPECT_EQ(FormatNumber(80), "80");
  EXPECT_EQ(FormatNumber(79.999996), "79.999996");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(66.857142857142861), "66.85714285714286");
  EXPECT_EQ(FormatNumber(0.1), "0.1");
  EXPECT_EQ(FormatNumber(100), "100");
  EXPECT_EQ(FormatNumber(1e-7), "1e-07");
  EXPECT_EQ(FormatNumber(1e21), "1e+21");
  EXPECT_EQ(FormatNumber(1234567.891), "1234567.891");
  EXPECT_EQ(FormatNumber(-12.5), "-12.5");
  EXPECT_EQ(FormatNumber(std::nextafter(80.0, 0.0)), "79.99999999999999");
}

TEST(NumberFormatTest, ZeroHasNoSign) {
  EXPECT_EQ(FormatNumber(0.0), "0");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(-0.0, {3}), "0");
}

TEST(NumberFormatTest, NonFiniteValuesAreWords) {
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::infinity(), {4}), "inf");
}

TEST(NumberFormatTest, EveryFiniteDoubleReadsBackBitForBit) {
  const double specials[] = {
      79.999996,
      0.1 + 0.2,
      1e-300,
      std::numeric_limits<double>::denorm_min(),
      -std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::min(),
      std::nextafter(std::numeric_limits<double>::min(), 0.0),  // denormal
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::epsilon(),
      9007199254740993.0,
      123456789012345678.0,
      std::nextafter(100.0, 0.0),
      std::nextafter(100.0, 200.0),
      1.0 / 3,
  };
  for (double v : specials) {
    const std::string text = FormatNumber(v);
    EXPECT_EQ(Bits(ReadBack(text)), Bits(v)) << text;
  }
  // Random bit patterns cover every exponent, denormals included.
  std::mt19937_64 rng(20240610);
  int checked = 0;
  while (checked < 200000) {
    const uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v) || v == 0) continue;
    const std::string text = FormatNumber(v);
    ASSERT_EQ(Bits(ReadBack(text)), bits) << text;
    ++checked;
  }
}

// The text std::to_chars writes for `v` (the shortest form).
std::string ToChars(double v) {
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

TEST(NumberFormatTest, ShortestTextIsStdToCharsText) {
  // AppendNumber writes its own digits (fmt's Dragonbox) and lays them out
  // itself; std::to_chars is the reference for every kind of value: every
  // exponent (random bits), scores and ratios, short decimals around
  // every power of ten (where the fixed and the exponent form trade
  // places, and ties go to the fixed form), whole numbers up to 2^64 and
  // beyond (written exactly in the fixed form), and the extremes.
  std::mt19937_64 rng(20261205);
  std::vector<double> values = {
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::min(),
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::epsilon(),
      1e15, 1e16, 1e21, 1e22, 1e23, 123456789012345678.0,
      18446744073709551616.0, 18446744073709549568.0,
      9999999999999999999999.0, 0.001, 0.0001, 0.00012, 0.0012345,
      1e-5, 1.5e-300, 1e100, 1e-100, 12.5, 100000, 120000};
  for (int i = 0; i < 300000; ++i) {
    const uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    values.push_back(v);
  }
  std::uniform_real_distribution<double> score(0, 100);
  for (int i = 0; i < 100000; ++i) values.push_back(score(rng));
  for (int e = -325; e <= 310; ++e) {
    for (int m : {1, 2, 5, 12, 125, 999, 1001, 123456}) {
      values.push_back(m * std::pow(10.0, e));
      values.push_back(-m * std::pow(10.0, e));
    }
  }
  for (int shift = 0; shift < 64; ++shift) {
    for (int i = 0; i < 200; ++i) {
      values.push_back(static_cast<double>(rng() >> shift));
    }
  }
  int compared = 0;
  for (double v : values) {
    if (!std::isfinite(v) || v == 0) continue;
    ASSERT_EQ(FormatNumber(v), ToChars(v)) << Bits(v);
    ++compared;
  }
  EXPECT_GT(compared, 400000);
}

// Significant digits of a number's text.
int SignificantDigits(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c == 'e') break;
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  digits.erase(0, digits.find_first_not_of('0'));
  digits.erase(digits.find_last_not_of('0') + 1);
  return static_cast<int>(digits.size());
}

TEST(NumberFormatTest, ShortestIsNeverLongerThanNeeded) {
  // No shorter text reads back: one significant digit fewer names another
  // double.
  const double values[] = {79.999996, 0.1 + 0.2, 1e-300, 66.85714285714286,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max()};
  for (double v : values) {
    const std::string text = FormatNumber(v);
    const int digits = SignificantDigits(text);
    if (digits <= 1) continue;
    char shorter[400];
    std::snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v);
    EXPECT_NE(ReadBack(shorter), v) << text << " vs " << shorter;
  }
}

TEST(NumberFormatTest, PrecisionRoundsAsPrintfG) {
  EXPECT_EQ(FormatNumber(79.999996, {6}), "80");
  EXPECT_EQ(FormatNumber(79.999996, {8}), "79.999996");
  EXPECT_EQ(FormatNumber(66.857142857142861, {6}), "66.8571");
  EXPECT_EQ(FormatNumber(72.5, {6}), "72.5");
  EXPECT_EQ(FormatNumber(72.5, {1}), "7e+01");
  EXPECT_EQ(FormatNumber(0.1 + 0.2, {17}), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(0.000123456789, {6}), "0.000123457");
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> score(-100, 100);
  for (int i = 0; i < 20000; ++i) {
    const double v = score(rng) * std::pow(10.0, static_cast<int>(i % 40) - 20);
    for (int p = 1; p <= kMaxNumberPrecision; ++p) {
      char expected[400];
      std::snprintf(expected, sizeof expected, "%.*g", p, v);
      ASSERT_EQ(FormatNumber(v, {p}), expected) << p;
    }
  }
}

TEST(NumberFormatTest, PrecisionOutsideOneToSeventeenIsShortest) {
  EXPECT_EQ(FormatNumber(0.1 + 0.2, {0}), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(0.1 + 0.2, {-3}), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(0.1 + 0.2, {18}), "0.30000000000000004");
}

TEST(NumberFormatTest, AppendNumberAppends) {
  std::string out = "score=";
  AppendNumber(79.999996, &out);
  out.push_back(',');
  AppendNumber(79.999996, &out, {3});
  EXPECT_EQ(out, "score=79.999996,80");
}

// Whole numbers take a faster path; it must write exactly what the general
// conversion writes, for every count of digits and trailing zeros, both
// signs, and every precision.
TEST(NumberFormatTest, WholeNumbersAreWrittenAsTheGeneralConversionWrites) {
  auto reference = [](double v, int precision) {
    char buf[64];
    std::to_chars_result r =
        precision >= 1 && precision <= kMaxNumberPrecision
            ? std::to_chars(buf, buf + sizeof(buf), v,
                            std::chars_format::general, precision)
            : std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
  };
  std::vector<double> values;
  for (double base : {1.0, 7.0, 12.0, 123.0, 4567.0, 98765.0, 123456789.0}) {
    for (double scale = 1; scale <= 1e16; scale *= 10) {
      values.push_back(base * scale);
      values.push_back(base * scale + 1);
    }
  }
  values.push_back(999999999999999.0);
  values.push_back(1e15);
  values.push_back(9007199254740993.0);
  for (double v : values) {
    for (double sign : {1.0, -1.0}) {
      for (int precision : {0, 1, 2, 3, 4, 6, 15, 16, 17}) {
        EXPECT_EQ(FormatNumber(sign * v, {precision}),
                  reference(sign * v, precision))
            << sign * v << " precision " << precision;
      }
    }
  }
}

}  // namespace
}  // namespace healthscore::engine::common
