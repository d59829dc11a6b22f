#include "engine/eval/batch.h"

#include "absl/strings/str_cat.h"

#include "engine/eval/explain.h"

#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/testing/one_of_each.h"
#include "engine/model/compiler.h"
#include "gtest/gtest.h"

namespace healthscore::engine::eval {
namespace {

std::shared_ptr<const model::CompiledModel> Model() {
  return testing::OneOfEachModel();
}

// Day counts come from callers as doubles (the columnar API): every one of
// them, however large, NaN or infinite, is checked before it can reach an
// integer conversion (undefined behaviour, which printed impossible dates).
// Out of range costs that value (a warning; in strict mode the account
// fails); NaN and infinities are missing, like any non-finite number.
TEST(BatchBuilderTest, DateDaysOutsideTheSupportedRangeDoNotFit) {
  auto model = Model();
  const int date = model->FindInput("renewal_date");
  const int column = model->inputs()[date].column;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double two63 = 9223372036854775808.0;
  struct Case {
    double days;
    const char* error;  // "" for a good row
    bool valid;
    const char* formatted;
  };
  const Case cases[] = {
      {20758, "", true, "2026-11-01"},
      {kMinDateDays, "", true, "0000-01-01"},
      {kMaxDateDays, "", true, "9999-12-31"},
      {kMaxDateDays + 0.75, "", true, "9999-12-31"},
      {nan, "", false, nullptr},
      {inf, "", false, nullptr},
      {-inf, "", false, nullptr},
      {kMaxDateDays + 1,
       "dates.renewal_date: 2932897 days since 1970-01-01 is not a "
       "supported date (0000-01-01 to 9999-12-31)",
       false, nullptr},
      {kMinDateDays - 0.5,
       "dates.renewal_date: -719528.5 days since 1970-01-01 is not a supported "
       "date (0000-01-01 to 9999-12-31)",
       false, nullptr},
      {1e300,
       "dates.renewal_date: 1e+300 days since 1970-01-01 is not a supported "
       "date (0000-01-01 to 9999-12-31)",
       false, nullptr},
      {-1e300,
       "dates.renewal_date: -1e+300 days since 1970-01-01 is not a supported "
       "date (0000-01-01 to 9999-12-31)",
       false, nullptr},
      {two63,
       "dates.renewal_date: 9223372036854775808 days since 1970-01-01 is not a "
       "supported date (0000-01-01 to 9999-12-31)",
       false, nullptr},
      {-two63,
       "dates.renewal_date: -9223372036854775808 days since 1970-01-01 is not a "
       "supported date (0000-01-01 to 9999-12-31)",
       false, nullptr},
  };
  // What a column of days must hold to be put whole
  // (BatchBuilder::PutDateDaysColumn): only the values without a warning.
  std::vector<double> fitting;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.days);
    const bool fits = *c.error == '\0';
    EXPECT_EQ(DaysColumnFits(&c.days, 1), fits);
    if (fits) fitting.push_back(c.days);
    std::vector<double> with = fitting;
    with.push_back(c.days);
    EXPECT_EQ(DaysColumnFits(with.data(), with.size()), fits);
  }
  EXPECT_TRUE(DaysColumnFits(fitting.data(), fitting.size()));
  for (const bool strict : {false, true}) {
    SCOPED_TRACE(strict ? "strict" : "lenient");
    Batch batch(model);
    BatchBuilder b(&batch);
    b.set_strict(strict);
    for (const Case& c : cases) {
      b.BeginRow("acct");
      b.SetDateDaysAt(date, c.days);
      b.EndRow();
    }
    for (size_t r = 0; r < std::size(cases); ++r) {
      const Case& c = cases[r];
      SCOPED_TRACE(c.days);
      const std::string problem = c.error;
      if (strict) {
        EXPECT_EQ(batch.row_ok(r) ? "" : batch.row_error(r), problem);
      } else {
        EXPECT_TRUE(batch.row_ok(r));
        EXPECT_EQ(batch.dropped_values(r), problem.empty() ? 0u : 1u);
        if (!problem.empty()) {
          EXPECT_EQ(RowWarnings(batch, r),
                    std::vector<std::string>{problem + "; used as missing"});
        }
      }
      EXPECT_EQ(batch.number_valid(column)[r] != 0, c.valid);
      if (c.valid) {
        EXPECT_EQ(FormatIsoDate(batch.number(column)[r]), c.formatted);
      }
    }
    BatchResult result;
    EXPECT_OK(Scorer::Score(batch, &result));
  }
}

// FormatIsoDate takes any double without converting an out-of-range one
// to an integer.
// An as_of equal to the previous row's is not parsed again; one that
// differs, or does not parse, is read for itself.
TEST(BatchBuilderTest, EachRowGetsItsOwnAsOf) {
  auto model = Model();
  Batch batch(model);
  BatchBuilder b(&batch);
  const char* as_of[] = {"2026-11-01", "2026-11-01", "2026-11-02",
                         "2026-13-01", "2026-11-02T10:00:00Z", "2026-11-01"};
  for (const char* text : as_of) {
    b.BeginRow("a");
    b.SetAsOf(text);
    b.PutString(model->FindInput("renewal_date"), {"dates", "renewal_date"},
                "2027-01-31");
    b.EndRow();
  }
  double nov1 = 0, nov2 = 0;
  ASSERT_TRUE(ParseIsoDate("2026-11-01", &nov1));
  ASSERT_TRUE(ParseIsoDate("2026-11-02", &nov2));
  const double want[] = {nov1, nov1, nov2, 0, nov2, nov1};
  for (size_t r = 0; r < 6; ++r) {
    SCOPED_TRACE(as_of[r]);
    EXPECT_EQ(batch.as_of_valid()[r], r == 3 ? 0 : 1);
    if (r != 3) {
      EXPECT_EQ(batch.as_of()[r], want[r]);
    }
  }
  EXPECT_EQ(RowWarnings(batch, 3).size(), 1u);
}

// ParseIsoDate reads back every date FormatIsoDate writes (years 0 to
// 9999, leap days included) and refuses a date with any of its eight digits
// replaced by a byte that is not one (just below '0', just above '9', and
// others), or a day the month does not have.
TEST(DateTest, ParseIsoDateReadsEveryDayAndOnlyDigits) {
  for (double days = -719528; days < 2932897; days += 1) {
    // Every day of 1900-2100; one day in 97 elsewhere (a prime step, so
    // every month and day of the month comes up).
    const bool dense = days >= -25567 && days < 47482;
    if (!dense && static_cast<int64_t>(days) % 97 != 0) continue;
    const std::string text = FormatIsoDate(days);
    double back = -1;
    ASSERT_TRUE(ParseIsoDate(text, &back)) << text;
    ASSERT_EQ(back, days) << text;
  }
  const size_t digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9};
  for (size_t at : digit_at) {
    for (char c : {'/', ':', 'a', ' ', '-', '\0', '\x7f', '\xff'}) {
      std::string text = "2024-02-29";
      text[at] = c;
      double days = 0;
      EXPECT_FALSE(ParseIsoDate(text, &days)) << at << " " << int{c};
    }
  }
  double days = 0;
  EXPECT_TRUE(ParseIsoDate("2024-02-29", &days));
  EXPECT_FALSE(ParseIsoDate("2023-02-29", &days));
  EXPECT_FALSE(ParseIsoDate("2024-04-31", &days));
  EXPECT_FALSE(ParseIsoDate("2024-13-01", &days));
  EXPECT_FALSE(ParseIsoDate("2024-00-10", &days));
  EXPECT_FALSE(ParseIsoDate("2024-01-00", &days));
  EXPECT_FALSE(ParseIsoDate("2024-1-01", &days));
}

TEST(DateTest, FormatIsoDateTakesAnyDouble) {
  EXPECT_EQ(FormatIsoDate(0), "1970-01-01");
  EXPECT_EQ(FormatIsoDate(-0.5), "1969-12-31");
  EXPECT_EQ(FormatIsoDate(1e300), "1e+300 days since 1970-01-01");
  EXPECT_EQ(FormatIsoDate(-1e300), "-1e+300 days since 1970-01-01");
  EXPECT_EQ(FormatIsoDate(9223372036854775808.0),
            "9223372036854775808 days since 1970-01-01");
  EXPECT_EQ(FormatIsoDate(std::numeric_limits<double>::infinity()),
            "inf days since 1970-01-01");
  EXPECT_EQ(FormatIsoDate(std::numeric_limits<double>::quiet_NaN()),
            "nan days since 1970-01-01");
  double days = 0;
  ASSERT_TRUE(ParseIsoDate("0000-01-01", &days));
  EXPECT_EQ(days, kMinDateDays);
  ASSERT_TRUE(ParseIsoDate("9999-12-31", &days));
  EXPECT_EQ(days, kMaxDateDays);
}

// The digits are written by hand: every width of year, month and day, and
// the first and last supported days, read back as they were written.
TEST(DateTest, FormatIsoDateWritesEveryDigit) {
  for (const char* text : {"0000-01-01", "0009-02-28", "0099-10-10",
                           "0999-12-31", "2024-02-29", "2026-11-01",
                           "9999-12-31"}) {
    double days = 0;
    ASSERT_TRUE(ParseIsoDate(text, &days)) << text;
    EXPECT_EQ(FormatIsoDate(days), text);
    std::string appended = "as_of=";
    AppendIsoDate(days + 0.75, &appended);
    EXPECT_EQ(appended, std::string("as_of=") + text);
  }
  EXPECT_EQ(FormatIsoDate(kMinDateDays - 1), "-719529 days since 1970-01-01");
}

// A time part after the date is checked in full (RFC 3339), then ignored.
TEST(DateTest, TimePartIsCheckedInFull) {
  double expected = 0;
  ASSERT_TRUE(ParseIsoDate("2026-11-01", &expected));
  for (const char* good :
       {"2026-11-01T10:00", "2026-11-01T00:00:00", "2026-11-01T23:59:59",
        "2026-11-01T23:59:60Z", "2026-11-01T10:00:00.5",
        "2026-11-01T10:00:00,5", "2026-11-01T10:00:00.123456789+05:30",
        "2026-11-01T10:00-08:00", "2026-11-01 10:00:00Z", "2026-11-01t10:00z",
        "2026-11-01T10:00:00+23:59"}) {
    double days = 0;
    EXPECT_TRUE(ParseIsoDate(good, &days)) << good;
    EXPECT_EQ(days, expected) << good;
  }
  for (const char* bad : {"2026-11-01T25:99",
                          "2026-11-01T24:00",
                          "2026-11-01T10:60",
                          "2026-11-01T",
                          "2026-11-01T10",
                          "2026-11-01T10:",
                          "2026-11-01T1:00",
                          "2026-11-01T10:00:61",
                          "2026-11-01T10:00:5",
                          "2026-11-01T10:00:00.",
                          "2026-11-01T10:00:00.1234567890",
                          "2026-11-01T10:00Z junk",
                          "2026-11-01T10:00ZZ",
                          "2026-11-01T10:00+0530",
                          "2026-11-01T10:00+24:00",
                          "2026-11-01T10:00+05:60",
                          "2026-11-01T10:00+05",
                          "2026-11-01X10:00",
                          "2026-11-01T10:00:00.5.5",
                          "2026-11-01T-1:00",
                          "2026-11-01 "}) {
    double days = 0;
    EXPECT_FALSE(ParseIsoDate(bad, &days)) << bad;
  }
}

// A hostile record (a million repeated keys on one line) cannot make a
// row's warnings or a strict row's error grow without bound; every loss is
// still counted.
// A bare row (AddBareRow) is a BeginRow/EndRow pair with nothing between,
// whether the rows were prepared or not: the same id, the same "no id"
// failure, and no series points, also right after a row that had some.
TEST(BatchBuilderTest, BareRowsAreRowsWithoutValues) {
  auto model = Model();
  const int wau = model->FindInput("wau");
  const int series = model->inputs()[wau].column;
  const double points[] = {3, 4, 5};
  // The rows: a bare row, one with a series, bare ones (one without id).
  // Bare rows are added as BeginRow/EndRow pairs, one AddBareRow each, or
  // AddBareRows for each run of them (ids in one text with end offsets,
  // after some text that is not theirs).
  enum class How { kPairs, kOneByOne, kRuns };
  const std::string text = "xxfirstlast";
  const uint64_t ends[] = {7, 7, 11};  // "first", "", "last"
  auto fill = [&](BatchBuilder& b, How how) {
    auto empty_row = [&](std::string_view id) {
      if (how == How::kOneByOne) {
        b.AddBareRow(id);
      } else {
        b.BeginRow(id);
        b.EndRow();
      }
    };
    if (how == How::kRuns) {
      b.AddBareRows(text.data(), ends, 2, 1);
    } else {
      empty_row("first");
    }
    b.BeginRow("with-points");
    b.PutSeries(wau, {"series", "wau"}, points, 3);
    b.EndRow();
    if (how == How::kRuns) {
      b.AddBareRows(text.data(), ends + 1, 7, 2);
    } else {
      empty_row("");
      empty_row("last");
    }
  };
  for (const bool prepared : {false, true}) {
    for (const How how : {How::kOneByOne, How::kRuns}) {
      SCOPED_TRACE(absl::StrCat(prepared ? "prepared" : "not prepared",
                                how == How::kRuns ? ", runs" : ", one by one"));
      Batch pairs(model), bare(model);
      BatchBuilder pb(&pairs), bb(&bare);
      if (prepared) {
        pb.PrepareRows(4);
        bb.PrepareRows(4);
      }
      fill(pb, How::kPairs);
      fill(bb, how);
      ASSERT_EQ(bare.size(), 4u);
      EXPECT_EQ(bare.error_count(), 1u);
      EXPECT_EQ(bare.row_error(2), "account has no id");
      for (size_t r = 0; r < 4; ++r) {
        SCOPED_TRACE(r);
        EXPECT_EQ(bare.id(r), pairs.id(r));
        EXPECT_EQ(bare.row_error(r), pairs.row_error(r));
        EXPECT_EQ(bare.series_offsets(series)[r + 1],
                  pairs.series_offsets(series)[r + 1]);
        EXPECT_EQ(bare.series_valid(series)[r],
                  pairs.series_valid(series)[r]);
      }
      EXPECT_EQ(bare.id(0), "first");
      EXPECT_EQ(bare.id(3), "last");
      // The bare rows after the series have none of its points.
      EXPECT_EQ(bare.series_offsets(series)[2], 3u);
      EXPECT_EQ(bare.series_offsets(series)[4], 3u);
    }
  }
}

// PrepareRows leaves the cells of the columns the caller writes whole as
// they were (a reused batch holds the last chunk's values there) and
// empties every other column's, however dirty the reused memory.
TEST(BatchBuilderTest, PreparedRowsEmptyEveryColumnNotPutWhole) {
  auto model = Model();
  const int number = model->FindInput("dau_mau");
  const int date = model->FindInput("renewal_date");
  const int number_column = model->inputs()[number].column;
  const int date_column = model->inputs()[date].column;
  constexpr size_t kRows = 300;
  Batch batch(model);
  // A first chunk gives every number and date column a value in every row.
  {
    BatchBuilder b(&batch);
    b.PrepareRows(kRows);
    for (size_t r = 0; r < kRows; ++r) b.AddBareRow(absl::StrCat("a", r));
    std::vector<double> ones(kRows, 0.5), days(kRows, 20000);
    b.PutNumberColumn(number, 0, ones.data(), kRows);
    b.PutNumberColumn(BatchBuilder::kPreviousScoreSlot, 0, ones.data(), kRows);
    b.PutDateDaysColumn(date, 0, days.data(), kRows);
    b.PutDateDaysColumn(BatchBuilder::kAsOfSlot, 0, days.data(), kRows);
  }
  for (int whole : {number, date, BatchBuilder::kAsOfSlot,
                    BatchBuilder::kPreviousScoreSlot}) {
    SCOPED_TRACE(whole);
    batch.Clear();
    BatchBuilder b(&batch);
    b.PrepareRows(kRows, {whole});
    for (size_t r = 0; r < kRows; ++r) b.AddBareRow(absl::StrCat("b", r));
    std::vector<double> values(kRows);
    for (size_t r = 0; r < kRows; ++r) {
      values[r] = r % 3 == 0 ? std::nan("") : 0.25;
    }
    if (whole == number || whole == BatchBuilder::kPreviousScoreSlot) {
      b.PutNumberColumn(whole, 0, values.data(), kRows);
    } else {
      b.PutDateDaysColumn(whole, 0, values.data(), kRows);
    }
    auto column = [&](int slot) -> std::pair<const double*, const uint8_t*> {
      if (slot == number) {
        return {batch.number(number_column), batch.number_valid(number_column)};
      }
      if (slot == date) {
        return {batch.number(date_column), batch.number_valid(date_column)};
      }
      if (slot == BatchBuilder::kAsOfSlot) {
        return {batch.as_of(), batch.as_of_valid()};
      }
      return {batch.previous_score(), batch.previous_score_valid()};
    };
    for (int slot : {number, date, BatchBuilder::kAsOfSlot,
                     BatchBuilder::kPreviousScoreSlot}) {
      const auto [v, valid] = column(slot);
      for (size_t r = 0; r < kRows; ++r) {
        if (slot == whole) {
          // Written: the value, or missing (0 and 0) for NaN.
          ASSERT_EQ(valid[r], r % 3 == 0 ? 0 : 1) << slot << " row " << r;
          ASSERT_EQ(v[r], r % 3 == 0 ? 0.0 : 0.25) << slot << " row " << r;
        } else {
          // Not given: empty, not the first chunk's 0.5 or 20000.
          ASSERT_EQ(valid[r], 0) << slot << " row " << r;
          ASSERT_EQ(v[r], 0.0) << slot << " row " << r;
        }
      }
    }
  }
}

TEST(BatchBuilderTest, WarningsOfOneRowAreBoundedButCounted) {
  auto model = Model();
  const int number = model->FindInput("dau_mau");
  ASSERT_GE(number, 0);
  constexpr size_t kBad = 100000;
  for (const bool strict : {false, true}) {
    SCOPED_TRACE(strict ? "strict" : "lenient");
    Batch batch(model);
    BatchBuilder b(&batch);
    b.set_strict(strict);
    b.BeginRow("a");
    for (size_t i = 0; i < kBad; ++i) {
      b.PutString(number, {"metrics", "dau_mau"}, "many");
    }
    b.EndRow();
    b.BeginRow("b");
    b.PutNumber(number, {"metrics", "dau_mau"}, 0.5);
    b.EndRow();
    if (strict) {
      ASSERT_FALSE(batch.row_ok(0));
      EXPECT_THAT(batch.row_error(0),
                  ::testing::EndsWith(absl::StrCat(
                      "; and ", kBad - 10, " more problems")));
      EXPECT_LT(batch.row_error(0).size(), 2000u);
      EXPECT_EQ(batch.dropped_values(), 0u);
    } else {
      ASSERT_TRUE(batch.row_ok(0));
      EXPECT_EQ(batch.value_warnings().size(), kMaxRowValueWarnings + 1);
      EXPECT_EQ(batch.value_warnings().back().text,
                absl::StrCat("and ", kBad - kMaxRowValueWarnings,
                             " more values were used as missing"));
      EXPECT_EQ(batch.dropped_values(), kBad);
      EXPECT_EQ(batch.dropped_values(0), kBad);
      EXPECT_EQ(batch.dropped_values(1), 0u);
    }
    EXPECT_TRUE(batch.row_ok(1));
  }
}

}  // namespace
}  // namespace healthscore::engine::eval
