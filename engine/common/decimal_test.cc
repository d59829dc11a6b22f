#include "engine/common/decimal.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

// 10^12 units make one.
constexpr int64_t kOne = 1000000000000;

Decimal Parse(std::string_view text) {
  Decimal d;
  EXPECT_TRUE(ParseDecimal(text, &d)) << text;
  return d;
}

TEST(DecimalTest, ParsesPlainText) {
  EXPECT_EQ(Parse("1234.56").units(), absl::int128(1234560000000000));
  EXPECT_EQ(Parse("-0.5").units(), absl::int128(-kOne / 2));
  EXPECT_EQ(Parse("+3").units(), absl::int128(3 * kOne));
  EXPECT_EQ(Parse("  7.25\t").units(), absl::int128(7250000000000));
  EXPECT_EQ(Parse(".5").units(), absl::int128(kOne / 2));
  EXPECT_EQ(Parse("5.").units(), absl::int128(5 * kOne));
  EXPECT_EQ(Parse("000012.500").units(), absl::int128(12500000000000));
  EXPECT_TRUE(Parse("-0").is_zero());
  // The 12th decimal is the last unit.
  EXPECT_EQ(Parse("0.000000000001").units(), absl::int128(1));
}

TEST(DecimalTest, ParsesExponentForms) {
  // 1.5e3 = 1500; 25E-2 = 0.25; 1e+0 = 1; 0.001e3 = 1.
  EXPECT_EQ(Parse("1.5e3"), Decimal::FromInt(1500));
  EXPECT_EQ(Parse("25E-2"), Parse("0.25"));
  EXPECT_EQ(Parse("1e+0"), Decimal::FromInt(1));
  EXPECT_EQ(Parse("0.001e3"), Decimal::FromInt(1));
  // 1e-12 is one unit; 0e999999999 is zero however large the exponent.
  EXPECT_EQ(Parse("1e-12").units(), absl::int128(1));
  EXPECT_TRUE(Parse("0e999999999").is_zero());
}

TEST(DecimalTest, RefusesWhatIsNotADecimal) {
  for (const char* text :
       {"", " ", "1_000", "1,000", "abc", ".", "+", "-", "e5", "1e", "1e+",
        "1.2.3", "inf", "NaN", "0x10", "1 000", "--1", "1e5.5"}) {
    Decimal d = Decimal::FromInt(9);
    EXPECT_FALSE(ParseDecimal(text, &d)) << text;
    EXPECT_EQ(d, Decimal::FromInt(9)) << "unchanged after " << text;
  }
}

TEST(DecimalTest, RefusesOverflow) {
  // int128's maximum is about 1.7e38 units, i.e. 1.7e26 whole units.
  Decimal d;
  EXPECT_TRUE(ParseDecimal("100000000000000000000000000", &d));  // 1e26
  EXPECT_FALSE(ParseDecimal("1000000000000000000000000000", &d));  // 1e27
  EXPECT_FALSE(ParseDecimal("1e27", &d));
  EXPECT_FALSE(ParseDecimal("-1e27", &d));
  EXPECT_FALSE(ParseDecimal("1e999999999999", &d));
  // A tiny value is not an overflow: it rounds to zero.
  bool rounded = false;
  EXPECT_TRUE(ParseDecimal("1e-999999999999", &d, &rounded));
  EXPECT_TRUE(d.is_zero());
  EXPECT_TRUE(rounded);
}

TEST(DecimalTest, RoundsHalfToEvenAtTheThirteenthDecimal) {
  bool rounded = true;
  // 12 decimals: exact, nothing rounded.
  EXPECT_EQ(Parse("0.123456789012").units(), absl::int128(123456789012));
  Decimal d;
  ASSERT_TRUE(ParseDecimal("0.123456789012", &d, &rounded));
  EXPECT_FALSE(rounded);
  // ...0125 -> the 13th digit is 5 with nothing after: half, to even (2).
  ASSERT_TRUE(ParseDecimal("0.0000000000125", &d, &rounded));
  EXPECT_EQ(d.units(), absl::int128(12));
  EXPECT_TRUE(rounded);
  // ...0135 -> half, to even (14).
  ASSERT_TRUE(ParseDecimal("0.0000000000135", &d, &rounded));
  EXPECT_EQ(d.units(), absl::int128(14));
  // ...01250001 -> above half: 13.
  ASSERT_TRUE(ParseDecimal("0.00000000001250001", &d, &rounded));
  EXPECT_EQ(d.units(), absl::int128(13));
  // ...0124999 -> below half: 12.
  ASSERT_TRUE(ParseDecimal("0.0000000000124999", &d, &rounded));
  EXPECT_EQ(d.units(), absl::int128(12));
  // Negative values round their magnitude: -0.0000000000125 -> -12 units.
  ASSERT_TRUE(ParseDecimal("-0.0000000000125", &d, &rounded));
  EXPECT_EQ(d.units(), absl::int128(-12));
  // Trailing zeros past the 12th decimal lose nothing.
  ASSERT_TRUE(ParseDecimal("1.50000000000000000", &d, &rounded));
  EXPECT_EQ(d, Parse("1.5"));
  EXPECT_FALSE(rounded);
  // 0.0000000000005 is half a unit: to even, 0.
  ASSERT_TRUE(ParseDecimal("0.0000000000005", &d, &rounded));
  EXPECT_TRUE(d.is_zero());
  EXPECT_TRUE(rounded);
}

TEST(DecimalTest, FormatsRoundTrip) {
  for (const char* text :
       {"0", "1", "-1", "1234.56", "-0.5", "0.000000000001", "100",
        "99999999999999999999999999.999999999999", "123456789.123456789012"}) {
    EXPECT_EQ(Parse(text).ToString(), text);
  }
  EXPECT_EQ(Parse("1.50").ToString(), "1.5");
  EXPECT_EQ(Parse("-0").ToString(), "0");
  EXPECT_EQ(Parse("1e3").ToString(), "1000");
}

TEST(DecimalTest, ToFixedRoundsHalfToEven) {
  EXPECT_EQ(Parse("1234.5").ToFixed(2), "1234.50");
  EXPECT_EQ(Parse("0.125").ToFixed(2), "0.12");   // half: to even
  EXPECT_EQ(Parse("0.135").ToFixed(2), "0.14");   // half: to even
  EXPECT_EQ(Parse("0.1251").ToFixed(2), "0.13");  // above half
  EXPECT_EQ(Parse("2.5").ToFixed(0), "2");
  EXPECT_EQ(Parse("3.5").ToFixed(0), "4");
  EXPECT_EQ(Parse("-2.675").ToFixed(2), "-2.68");  // exact, above even
  EXPECT_EQ(Parse("-0.001").ToFixed(2), "0.00");   // no "-0.00"
  EXPECT_EQ(Parse("7").ToFixed(12), "7.000000000000");
}

TEST(DecimalTest, SumsKeepCentsExact) {
  // 0.1 + 0.2 == 0.3, which doubles get wrong (0.30000000000000004).
  Decimal sum = Parse("0.1");
  ASSERT_TRUE(sum.Add(Parse("0.2")));
  EXPECT_EQ(sum, Parse("0.3"));
  EXPECT_EQ(sum.ToString(), "0.3");
  // 10,000 times 0.10 is exactly 1000.00.
  Decimal total;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(total.Add(Parse("0.10")));
  EXPECT_EQ(total, Decimal::FromInt(1000));
  EXPECT_EQ(total.ToFixed(2), "1000.00");
  // 1000.00 - 999.99 = 0.01 exactly.
  Decimal diff = Decimal::FromInt(1000);
  ASSERT_TRUE(diff.Subtract(Parse("999.99")));
  EXPECT_EQ(diff.ToString(), "0.01");
}

TEST(DecimalTest, AddAndSubtractRefuseOverflow) {
  const Decimal max =
      Decimal::FromUnits(std::numeric_limits<absl::int128>::max());
  Decimal d = max;
  EXPECT_FALSE(d.Add(Decimal::FromUnits(1)));
  EXPECT_EQ(d, max);  // unchanged
  Decimal n = Decimal::FromUnits(-std::numeric_limits<absl::int128>::max());
  EXPECT_FALSE(n.Subtract(Decimal::FromUnits(1)));
  EXPECT_TRUE(n.Add(Decimal::FromUnits(1)));
}

TEST(DecimalTest, MultiplyRoundsHalfToEven) {
  // 100 EUR at 1.0825 USD/EUR = 108.25 USD, exactly.
  Decimal d = Decimal::FromInt(100);
  ASSERT_TRUE(d.Multiply(Parse("1.0825")));
  EXPECT_EQ(d.ToString(), "108.25");
  // 0.000000000001 * 0.5 = half a unit: to even, 0.
  d = Decimal::FromUnits(1);
  ASSERT_TRUE(d.Multiply(Parse("0.5")));
  EXPECT_TRUE(d.is_zero());
  // 3 units * 0.5 = 1.5 units: to even, 2 units.
  d = Decimal::FromUnits(3);
  ASSERT_TRUE(d.Multiply(Parse("0.5")));
  EXPECT_EQ(d.units(), absl::int128(2));
  // 5 units * 0.5 = 2.5 units: to even, 2 units.
  d = Decimal::FromUnits(5);
  ASSERT_TRUE(d.Multiply(Parse("0.5")));
  EXPECT_EQ(d.units(), absl::int128(2));
  // 1/3 as a rate: 10 * 0.333333333333 = 3.33333333333 exactly.
  d = Decimal::FromInt(10);
  ASSERT_TRUE(d.Multiply(Parse("0.333333333333")));
  EXPECT_EQ(d.ToString(), "3.33333333333");
  // 0.333333333333 * 0.333333333333 = 0.111111111110888888888889
  // -> 12 decimals: 0.111111111111 (the 13th digit is 8: up).
  d = Parse("0.333333333333");
  ASSERT_TRUE(d.Multiply(Parse("0.333333333333")));
  EXPECT_EQ(d.ToString(), "0.111111111111");
  // Signs: -2.5 * 4 = -10; -2 * -3 = 6.
  d = Parse("-2.5");
  ASSERT_TRUE(d.Multiply(Decimal::FromInt(4)));
  EXPECT_EQ(d, Decimal::FromInt(-10));
  d = Decimal::FromInt(-2);
  ASSERT_TRUE(d.Multiply(Decimal::FromInt(-3)));
  EXPECT_EQ(d, Decimal::FromInt(6));
  // Large but in range: 1e20 * 1e5 = 1e25 (the product of the units
  // needs more than 128 bits before the division by 10^12).
  d = Parse("1e20");
  ASSERT_TRUE(d.Multiply(Parse("1e5")));
  EXPECT_EQ(d, Parse("1e25"));
  // Overflow refused, *this unchanged.
  d = Parse("1e20");
  EXPECT_FALSE(d.Multiply(Parse("1e10")));
  EXPECT_EQ(d, Parse("1e20"));
}

TEST(DecimalTest, FromDoubleReadsTheShortestText) {
  Decimal d;
  bool rounded = true;
  // 0.1 as a double is 0.1000000000000000055...; its shortest text is
  // "0.1", which is what was written.
  ASSERT_TRUE(Decimal::FromDouble(0.1, &d, &rounded));
  EXPECT_EQ(d, Parse("0.1"));
  EXPECT_FALSE(rounded);
  // 123456789012.34 (14 significant digits) reads exactly.
  ASSERT_TRUE(Decimal::FromDouble(123456789012.34, &d));
  EXPECT_EQ(d.ToString(), "123456789012.34");
  // 1e-13 (shortest "1e-13") rounds to 0 units: counted as rounded.
  ASSERT_TRUE(Decimal::FromDouble(1e-13, &d, &rounded));
  EXPECT_TRUE(d.is_zero());
  EXPECT_TRUE(rounded);
  // 1e21 is written "1e+21": read as 10^21.
  ASSERT_TRUE(Decimal::FromDouble(1e21, &d));
  EXPECT_EQ(d.ToString(), "1000000000000000000000");
  d = Decimal::FromInt(4);
  EXPECT_FALSE(Decimal::FromDouble(NAN, &d));
  EXPECT_FALSE(Decimal::FromDouble(INFINITY, &d));
  EXPECT_FALSE(Decimal::FromDouble(1e30, &d));
  EXPECT_EQ(d, Decimal::FromInt(4));
}

TEST(DecimalTest, ToDoubleIsTheNearestDouble) {
  EXPECT_EQ(Parse("0.1").ToDouble(), 0.1);
  EXPECT_EQ(Parse("0.3").ToDouble(), 0.3);
  EXPECT_EQ(Parse("-1234.56").ToDouble(), -1234.56);
  EXPECT_EQ(Decimal().ToDouble(), 0.0);
}

TEST(DecimalTest, Ratio) {
  // A cohort starts at $100k and ends at $110k: 110000 / 100000 = 1.1.
  EXPECT_EQ(Ratio(Parse("110000"), Parse("100000")), 1.1);
  // 25 / 500 = 0.05.
  EXPECT_EQ(Ratio(Decimal::FromInt(25), Decimal::FromInt(500)), 0.05);
  // 1 / 3: the double nearest to one third.
  EXPECT_EQ(Ratio(Decimal::FromInt(1), Decimal::FromInt(3)), 1.0 / 3.0);
  EXPECT_EQ(Ratio(Parse("-0.3"), Parse("0.1")), -3.0);
  EXPECT_TRUE(std::isnan(Ratio(Decimal::FromInt(1), Decimal())));
  // Amounts in the hundreds of billions with cents: their units pass
  // 2^64, but without their shared zeros (12345678901234 and
  // 98765432109876 cents) they are exact, and the ratio is the double
  // nearest to it, as double division of the two exact cent counts gives.
  EXPECT_EQ(Ratio(Parse("123456789012.34"), Parse("987654321098.76")),
            12345678901234.0 / 98765432109876.0);
  EXPECT_EQ(Ratio(Decimal(), Parse("5")), 0.0);
}

}  // namespace
}  // namespace healthscore::engine::common
