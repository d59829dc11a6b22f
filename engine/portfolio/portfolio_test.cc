#include "engine/portfolio/portfolio.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::portfolio {
namespace {

using ::healthscore::engine::common::Decimal;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::DoubleEq;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

outcomes::RecordTable Table(std::string csv) {
  auto table = outcomes::ReadRecords(io::StringSource(std::move(csv)),
                                     io::InputFormat::kCsv, RevenueSchema());
  EXPECT_TRUE(table.ok()) << table.status();
  return std::move(table).value();
}

Decimal Dec(const char* text) {
  Decimal d;
  EXPECT_TRUE(common::ParseDecimal(text, &d)) << text;
  return d;
}

Period Year2025() {
  auto p = ParsePeriod("2025-01-01..2025-12-31");
  EXPECT_TRUE(p.ok());
  return *p;
}

PortfolioOptions Options2025() {
  PortfolioOptions options;
  options.period = Year2025();
  return options;
}

uint64_t ClassCount(const GroupFigures& g, AccountClass c) {
  return g.classes[static_cast<size_t>(c)];
}

TEST(PortfolioTest, ParsesPeriods) {
  ASSERT_OK_AND_ASSIGN(Period p, ParsePeriod(" 2025-01-01..2025-12-31 "));
  EXPECT_EQ(FormatDay(p.start), "2025-01-01");
  EXPECT_EQ(FormatDay(p.end), "2025-12-31");
  // 2025-01-01 is day 20089 since 1970-01-01; 2025 has 365 days.
  EXPECT_EQ(p.start, 20089);
  EXPECT_EQ(p.end - p.start, 364);
  ASSERT_OK_AND_ASSIGN(Period one, ParsePeriod("2025-03-01..2025-03-01"));
  EXPECT_EQ(one.start, one.end);
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_THAT(ParsePeriod("2025-12-31..2025-01-01"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("it starts (2025-12-31) after it ends "
                                 "(2025-01-01)")));
  for (const char* bad :
       {"2025-01-01", "2025-01-01..", "2025-02-30..2025-03-01",
        "2025-1-1..2025-12-31", "a..b", ""}) {
    EXPECT_THAT(ParsePeriod(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("expected two dates as "
                                   "YYYY-MM-DD..YYYY-MM-DD")))
        << bad;
  }
}

TEST(PortfolioTest, TheSeedsNrrExample) {
  // "A cohort starts at $100k and ends at $110k: NRR 110%."
  // a: 60,000 -> 75,000: expansion 15,000.
  // b: 40,000 -> 35,000: contraction 5,000.
  // NRR = (start + expansion - contraction - churned) / start
  //     = (100,000 + 15,000 - 5,000 - 0) / 100,000 = 110%.
  // GRR = (100,000 - 5,000 - 0) / 100,000 = 95%.
  // Revenue churn = (5,000 + 0) / 100,000 = 5%; net revenue churn =
  // (5,000 + 0 - 15,000) / 100,000 = -10%. Expansion: 1 of 2 accounts
  // (50%), 15,000 / 100,000 = 15% of start ARR. Logo retention 2/2.
  const auto revenue = Table(
      "id,start_arr,end_arr\n"
      "a,60000,75000\n"
      "b,40000,35000\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  const Flows& f = r.overall.flows;
  EXPECT_EQ(f.accounts, 2u);
  EXPECT_EQ(f.start_arr, Decimal::FromInt(100000));
  EXPECT_EQ(f.expansion, Decimal::FromInt(15000));
  EXPECT_EQ(f.contraction, Decimal::FromInt(5000));
  EXPECT_TRUE(f.churned_arr.is_zero());
  EXPECT_EQ(f.end_arr, Decimal::FromInt(110000));
  EXPECT_DOUBLE_EQ(f.nrr(), 1.10);
  EXPECT_DOUBLE_EQ(f.grr(), 0.95);
  EXPECT_DOUBLE_EQ(f.revenue_churn(), 0.05);
  EXPECT_DOUBLE_EQ(f.net_revenue_churn(), -0.10);
  EXPECT_DOUBLE_EQ(f.expansion_logo_rate(), 0.5);
  EXPECT_DOUBLE_EQ(f.expansion_arr_rate(), 0.15);
  EXPECT_DOUBLE_EQ(f.logo_retention(), 1.0);
  EXPECT_DOUBLE_EQ(f.logo_churn(), 0.0);
  EXPECT_EQ(f.expanded_logos, 1u);
  EXPECT_EQ(f.contracted_logos, 1u);
  EXPECT_EQ(r.currency, "");  // no currency column: unitless
}

TEST(PortfolioTest, GrrIsNeverAboveOneHundredPercent) {
  // 100 -> 150: NRR = 150 / 100 = 150%, GRR = (100 - 0 - 0) / 100 = 100%
  // (expansion never counts in GRR).
  const auto revenue = Table("id,start_arr,end_arr\na,100,150\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_DOUBLE_EQ(r.overall.flows.nrr(), 1.5);
  EXPECT_DOUBLE_EQ(r.overall.flows.grr(), 1.0);
}

TEST(PortfolioTest, TheSeedsChurnRateExample) {
  // "500 customers, loses 25: churn rate 5%." Every account 100 ARR; 25
  // end at 0. Logo churn = 25 / 500 = 5%, logo retention 475 / 500 = 95%;
  // churned ARR 2,500 of 50,000: revenue churn 5%, NRR = GRR = 95%.
  std::string csv = "id,start_arr,end_arr\n";
  for (int i = 0; i < 500; ++i) {
    csv += "a" + std::to_string(i) + ",100," + (i < 25 ? "0" : "100") + "\n";
  }
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(csv), Options2025()));
  const Flows& f = r.overall.flows;
  EXPECT_EQ(f.accounts, 500u);
  EXPECT_EQ(f.churned_logos, 25u);
  EXPECT_DOUBLE_EQ(f.logo_churn(), 0.05);
  EXPECT_DOUBLE_EQ(f.logo_retention(), 0.95);
  EXPECT_EQ(f.churned_arr, Decimal::FromInt(2500));
  EXPECT_DOUBLE_EQ(f.revenue_churn(), 0.05);
  EXPECT_DOUBLE_EQ(f.nrr(), 0.95);
  EXPECT_DOUBLE_EQ(f.grr(), 0.95);
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kChurned), 25u);
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kRetained), 475u);
}

// One record per classification rule; the period is 2025.
constexpr char kEveryRule[] =
    "id,start_arr,end_arr,contract_start,churn_date,reactivated,"
    "reactivation_date\n"
    // retained: 100 -> 120, expansion 20.
    "ret,100,120,2024-01-01,,,\n"
    // bad_dates: churned before its contract started.
    "bad1,100,100,2024-06-01,2024-05-01,,\n"
    // bad_dates: a reactivation without a churn before it.
    "bad2,100,100,2024-01-01,,,2025-03-01\n"
    // new_in_period: started after the period start.
    "new,100,100,2025-02-01,,,\n"
    // churned_before: churned the day before the period.
    "before,100,0,2023-01-01,2024-12-31,,\n"
    // no_start_arr.
    "nostart,,100,2024-01-01,,,\n"
    // zero_start_arr: 0 -> 100.
    "zero,0,100,2024-01-01,,,\n"
    // negative_amount.
    "neg,100,-5,2024-01-01,,,\n"
    // churned: 100 -> 0 on 2025-06-01.
    "churn,100,0,2024-01-01,2025-06-01,,\n"
    // reactivated: churned 2025-03-01, back 2025-05-01 at 90:
    // contraction 10 (the default rule: retained).
    "react,100,90,2024-01-01,2025-03-01,,2025-05-01\n"
    // no_end_arr.
    "noend,100,,2024-01-01,,,\n"
    // retained: its churn date falls after the period.
    "late,100,100,2024-01-01,2026-02-01,,\n"
    // churned with end_arr 50 and no reactivation: churned, and counted
    // in end_arr_after_churn.
    "after,100,50,2024-01-01,2025-04-01,,\n";

TEST(PortfolioTest, EveryClassificationRuleWithTheDefaults) {
  // Cohort (default rules): ret, churn, react, late, after: 5 accounts.
  // Retained logos: ret, react, late (3); churned: churn, after (2).
  // start 500; expansion 20 (ret); contraction 10 (react); churned 200
  // (churn, after). NRR = (500 + 20 - 10 - 200) / 500 = 310 / 500 = 62%;
  // GRR = (500 - 10 - 200) / 500 = 290 / 500 = 58%.
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kEveryRule), Options2025()));
  const GroupFigures& g = r.overall;
  EXPECT_EQ(ClassCount(g, AccountClass::kRetained), 2u);
  EXPECT_EQ(ClassCount(g, AccountClass::kBadDates), 2u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNewInPeriod), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kChurnedBefore), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNoStartArr), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kZeroStartArr), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNegativeAmount), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kChurned), 2u);
  EXPECT_EQ(ClassCount(g, AccountClass::kReactivated), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNoEndArr), 1u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNoCurrency), 0u);
  EXPECT_EQ(ClassCount(g, AccountClass::kNoRate), 0u);
  EXPECT_THAT(r.classes[static_cast<size_t>(AccountClass::kBadDates)].ids,
              ElementsAre("bad1", "bad2"));
  EXPECT_THAT(r.end_arr_after_churn.ids, ElementsAre("after"));
  EXPECT_EQ(r.components_disagree.count, 0u);

  const Flows& f = g.flows;
  EXPECT_EQ(f.accounts, 5u);
  EXPECT_EQ(f.retained_logos, 3u);
  EXPECT_EQ(f.churned_logos, 2u);
  EXPECT_EQ(f.reactivated_logos, 1u);
  EXPECT_EQ(f.start_arr, Decimal::FromInt(500));
  EXPECT_EQ(f.expansion, Decimal::FromInt(20));
  EXPECT_EQ(f.contraction, Decimal::FromInt(10));
  EXPECT_EQ(f.churned_arr, Decimal::FromInt(200));
  EXPECT_EQ(f.end_arr, Decimal::FromInt(310));
  EXPECT_DOUBLE_EQ(f.nrr(), 0.62);
  EXPECT_DOUBLE_EQ(f.grr(), 0.58);
  EXPECT_DOUBLE_EQ(f.logo_retention(), 0.6);
  EXPECT_DOUBLE_EQ(f.logo_churn(), 0.4);
}

TEST(PortfolioTest, ReactivatedCountsAsChurnedWhenAsked) {
  // --reactivated churned: react is churned in full (churned ARR 100, its
  // contraction not counted). Churned 300, contraction 0:
  // NRR = (500 + 20 - 0 - 300) / 500 = 44%; logos: 2 retained, 3 churned.
  PortfolioOptions options = Options2025();
  options.reactivation = ReactivationRule::kChurned;
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kEveryRule), options));
  const Flows& f = r.overall.flows;
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kReactivated), 1u);
  EXPECT_EQ(f.retained_logos, 2u);
  EXPECT_EQ(f.churned_logos, 3u);
  EXPECT_EQ(f.reactivated_logos, 1u);
  EXPECT_EQ(f.churned_arr, Decimal::FromInt(300));
  EXPECT_TRUE(f.contraction.is_zero());
  EXPECT_DOUBLE_EQ(f.nrr(), 0.44);
  EXPECT_EQ(r.reactivation, ReactivationRule::kChurned);
}

TEST(PortfolioTest, AReactivatedFlagWithoutADateBringsTheAccountBack) {
  // x churned 2025-02-01 and is flagged reactivated, ending at 120:
  // retained with expansion 20. y is flagged too but ends at 0: churned
  // (end_arr 0 is not a customer at the end). z came back after the
  // period end (2026-01-15): churned in this period. w is back but has
  // no end_arr: no_end_arr (excluded by default), unless reactivated
  // accounts count as churned, which needs no end_arr.
  const auto revenue = Table(
      "id,start_arr,end_arr,churn_date,reactivated,reactivation_date\n"
      "x,100,120,2025-02-01,true,\n"
      "y,100,0,2025-02-01,yes,\n"
      "z,100,100,2025-02-01,,2026-01-15\n"
      "w,100,,2025-02-01,true,\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kReactivated), 1u);
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kChurned), 2u);
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kNoEndArr), 1u);
  EXPECT_EQ(r.overall.flows.accounts, 3u);
  EXPECT_EQ(r.overall.flows.expansion, Decimal::FromInt(20));
  EXPECT_EQ(r.overall.flows.churned_arr, Decimal::FromInt(200));
  EXPECT_THAT(r.end_arr_after_churn.ids, ElementsAre("z"));

  PortfolioOptions churned = Options2025();
  churned.reactivation = ReactivationRule::kChurned;
  ASSERT_OK_AND_ASSIGN(PortfolioReport c, RunPortfolio(revenue, churned));
  // x and w churned in full (reactivated), y and z churned: 400.
  EXPECT_EQ(ClassCount(c.overall, AccountClass::kReactivated), 2u);
  EXPECT_EQ(c.overall.flows.accounts, 4u);
  EXPECT_EQ(c.overall.flows.churned_arr, Decimal::FromInt(400));
  EXPECT_TRUE(c.overall.flows.expansion.is_zero());
}

TEST(PortfolioTest, ReactivationDatesAroundThePeriodStart) {
  // early: churned 2024-11-01, back 2025-01-01 (the period's first day):
  // a customer at the start, retained 100 -> 100. gone: churned
  // 2024-11-01, back 2025-02-01: not a customer at the start
  // (churned_before; its return is new business). same: back on its churn
  // day: not after it, so bad_dates.
  const auto revenue = Table(
      "id,start_arr,end_arr,churn_date,reactivation_date\n"
      "early,100,100,2024-11-01,2025-01-01\n"
      "gone,0,100,2024-11-01,2025-02-01\n"
      "same,100,100,2025-03-01,2025-03-01\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_THAT(r.classes[static_cast<size_t>(AccountClass::kRetained)].ids,
              ElementsAre("early"));
  EXPECT_THAT(
      r.classes[static_cast<size_t>(AccountClass::kChurnedBefore)].ids,
      ElementsAre("gone"));
  EXPECT_THAT(r.classes[static_cast<size_t>(AccountClass::kBadDates)].ids,
              ElementsAre("same"));
  EXPECT_EQ(r.overall.flows.accounts, 1u);
}

TEST(PortfolioTest, MissingEndRules) {
  // The 5 cohort accounts of kEveryRule plus noend (100, no end_arr).
  PortfolioOptions options = Options2025();
  // flat: noend unchanged: start 600, NRR = (600 + 20 - 10 - 200) / 600
  // = 410 / 600; 4 retained logos of 6.
  options.missing_end = MissingEndRule::kFlat;
  ASSERT_OK_AND_ASSIGN(PortfolioReport flat,
                       RunPortfolio(Table(kEveryRule), options));
  EXPECT_EQ(flat.overall.flows.accounts, 6u);
  EXPECT_EQ(flat.overall.flows.retained_logos, 4u);
  EXPECT_EQ(flat.overall.flows.start_arr, Decimal::FromInt(600));
  EXPECT_DOUBLE_EQ(flat.overall.flows.nrr(), 410.0 / 600.0);
  EXPECT_EQ(ClassCount(flat.overall, AccountClass::kNoEndArr), 1u);
  // churned: churned ARR 300: NRR = (600 + 20 - 10 - 300) / 600
  // = 310 / 600; 3 churned logos of 6.
  options.missing_end = MissingEndRule::kChurned;
  ASSERT_OK_AND_ASSIGN(PortfolioReport churned,
                       RunPortfolio(Table(kEveryRule), options));
  EXPECT_EQ(churned.overall.flows.churned_logos, 3u);
  EXPECT_EQ(churned.overall.flows.churned_arr, Decimal::FromInt(300));
  EXPECT_DOUBLE_EQ(churned.overall.flows.nrr(), 310.0 / 600.0);
  EXPECT_EQ(ClassCount(churned.overall, AccountClass::kNoEndArr), 1u);
  EXPECT_EQ(churned.missing_end, MissingEndRule::kChurned);
}

TEST(PortfolioTest, ZeroStartRules) {
  // exclude (default): zero is in no figure. logos: zero (0 -> 100) is a
  // retained logo, 6 accounts, 4 retained; revenue figures unchanged
  // (start 500, NRR 62%).
  PortfolioOptions options = Options2025();
  ASSERT_OK_AND_ASSIGN(PortfolioReport excluded,
                       RunPortfolio(Table(kEveryRule), options));
  EXPECT_EQ(excluded.overall.flows.accounts, 5u);
  options.zero_start = ZeroStartRule::kLogosOnly;
  ASSERT_OK_AND_ASSIGN(PortfolioReport logos,
                       RunPortfolio(Table(kEveryRule), options));
  EXPECT_EQ(logos.overall.flows.accounts, 6u);
  EXPECT_EQ(logos.overall.flows.retained_logos, 4u);
  EXPECT_EQ(logos.overall.flows.start_arr, Decimal::FromInt(500));
  EXPECT_DOUBLE_EQ(logos.overall.flows.nrr(), 0.62);
  EXPECT_DOUBLE_EQ(logos.overall.flows.logo_retention(), 4.0 / 6.0);
  EXPECT_EQ(ClassCount(logos.overall, AccountClass::kZeroStartArr), 1u);
  // A zero-start account that churns is a churned logo.
  const auto revenue = Table(
      "id,start_arr,end_arr,churn_date\n"
      "z,0,0,2025-05-01\n"
      "a,100,100,\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, options));
  EXPECT_EQ(r.overall.flows.accounts, 2u);
  EXPECT_EQ(r.overall.flows.churned_logos, 1u);
  EXPECT_DOUBLE_EQ(r.overall.flows.nrr(), 1.0);
}

TEST(PortfolioTest, GivenComponentsAreUsedAndDisagreementCounted) {
  // a: 100 -> 130 with expansion 30 (agrees); b: 100 -> 90 with
  // contraction 10 (agrees); c: 100 -> 100 with expansion 20 and
  // contraction 10 (100 + 20 - 10 = 110 != 100: used, counted).
  // expansion 50, contraction 20: NRR = (300 + 50 - 20) / 300 = 110%,
  // GRR = (300 - 20) / 300.
  const auto revenue = Table(
      "id,start_arr,end_arr,expansion,contraction\n"
      "a,100,130,30,\n"
      "b,100,90,,10\n"
      "c,100,100,20,10\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_EQ(r.overall.flows.expansion, Decimal::FromInt(50));
  EXPECT_EQ(r.overall.flows.contraction, Decimal::FromInt(20));
  EXPECT_DOUBLE_EQ(r.overall.flows.nrr(), 1.1);
  EXPECT_DOUBLE_EQ(r.overall.flows.grr(), 280.0 / 300.0);
  EXPECT_THAT(r.components_disagree.ids, ElementsAre("c"));
  EXPECT_EQ(r.overall.flows.expanded_logos, 2u);
  EXPECT_EQ(r.overall.flows.contracted_logos, 2u);
}

constexpr char kCurrencies[] =
    "id,start_arr,end_arr,currency\n"
    "u,100.10,110.20,USD\n"
    "e,200.00,180.00,EUR\n"
    "g,50,0,GBP\n";

TEST(PortfolioTest, SeveralCurrenciesWithoutRatesAreRefused) {
  EXPECT_THAT(
      RunPortfolio(Table(kCurrencies), Options2025()),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("the revenue file holds 3 currencies (EUR, GBP, "
                         "USD) and amounts in different currencies cannot "
                         "be added; give conversion rates (--rates FILE)")));
}

TEST(PortfolioTest, CurrenciesAreConvertedExactly) {
  // USD report; EUR at 1.1, GBP at 1.25:
  //   u: 100.10 -> 110.20 USD: expansion 10.10
  //   e: 200 EUR = 220.00 -> 180 EUR = 198.00: contraction 22.00
  //   g: 50 GBP = 62.50 -> 0: churned 62.50
  // start = 100.10 + 220.00 + 62.50 = 382.60; end = 382.60 + 10.10
  // - 22.00 - 62.50 = 308.20.
  PortfolioOptions options = Options2025();
  options.rates.report_currency = "USD";
  options.rates.rates = {{"EUR", Dec("1.1")}, {"GBP", Dec("1.25")}};
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kCurrencies), options));
  EXPECT_EQ(r.currency, "USD");
  EXPECT_THAT(r.currencies, ElementsAre("EUR", "GBP", "USD"));
  const Flows& f = r.overall.flows;
  EXPECT_EQ(f.start_arr, Dec("382.60"));
  EXPECT_EQ(f.expansion, Dec("10.10"));
  EXPECT_EQ(f.contraction, Dec("22"));
  EXPECT_EQ(f.churned_arr, Dec("62.5"));
  EXPECT_EQ(f.end_arr, Dec("308.20"));
  EXPECT_EQ(f.end_arr.ToFixed(2), "308.20");

  // Without a GBP rate, g is no_rate; a record without a currency is
  // no_currency: start = 100.10 + 220.00 = 320.10.
  options.rates.rates.erase("GBP");
  ASSERT_OK_AND_ASSIGN(
      PortfolioReport partial,
      RunPortfolio(Table(std::string(kCurrencies) + "n,10,10,\n"), options));
  EXPECT_EQ(partial.overall.flows.start_arr, Dec("320.10"));
  EXPECT_THAT(partial.classes[static_cast<size_t>(AccountClass::kNoRate)].ids,
              ElementsAre("g"));
  EXPECT_THAT(
      partial.classes[static_cast<size_t>(AccountClass::kNoCurrency)].ids,
      ElementsAre("n"));
}

TEST(PortfolioTest, OneCurrencyIsTheReportCurrency) {
  const auto revenue = Table(
      "id,start_arr,end_arr,currency\n"
      "a,100,100,EUR\n"
      "b,100,100,EUR\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_EQ(r.currency, "EUR");
  EXPECT_EQ(r.overall.flows.start_arr, Decimal::FromInt(200));
}

TEST(PortfolioTest, CentsDoNotDrift) {
  // 10,000 accounts at 0.10 sum to exactly 1,000.00 (doubles would give
  // 1000.0000000001588).
  std::string csv = "id,start_arr,end_arr\n";
  for (int i = 0; i < 10000; ++i) {
    csv += "a" + std::to_string(i) + ",0.10,0.10\n";
  }
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(csv), Options2025()));
  EXPECT_EQ(r.overall.flows.start_arr, Decimal::FromInt(1000));
  EXPECT_EQ(r.overall.flows.start_arr.ToFixed(2), "1000.00");
  EXPECT_DOUBLE_EQ(r.overall.flows.nrr(), 1.0);
  // 0.1 + 0.2 is exactly 0.3.
  ASSERT_OK_AND_ASSIGN(
      PortfolioReport small,
      RunPortfolio(Table("id,start_arr,end_arr\na,0.1,0.1\nb,0.2,0.2\n"),
                   Options2025()));
  EXPECT_EQ(small.overall.flows.start_arr, Dec("0.3"));
}

TEST(PortfolioTest, TimeToValueQuartilesAndWaitingAccounts) {
  // Reached (days from contract_start to first_value_date): 10, 20, 40,
  // 70 (from 2025-01-01: 01-11, 01-21, 02-10, 03-12). numpy's linear
  // quartiles of [10, 20, 40, 70]:
  //   p25: position 0.25 * 3 = 0.75 -> 10 + 0.75 * (20 - 10) = 17.5
  //   median: position 1.5 -> 20 + 0.5 * (40 - 20) = 30
  //   p75: position 2.25 -> 40 + 0.25 * (70 - 40) = 47.5
  // Waiting at 2025-12-31: since 2025-12-01 (30 days), since 2025-11-21
  // (40 days), and since 2025-12-21 with a first value only on
  // 2026-01-10 (10 days): median of [10, 30, 40] = 30.
  // bad: first value before its contract start; later: started after
  // the period, not counted.
  const auto revenue = Table(
      "id,start_arr,end_arr,contract_start,first_value_date\n"
      "r1,1,1,2025-01-01,2025-01-11\n"
      "r2,1,1,2025-01-01,2025-01-21\n"
      "r3,1,1,2025-01-01,2025-02-10\n"
      "r4,1,1,2025-01-01,2025-03-12\n"
      "w1,1,1,2025-12-01,\n"
      "w2,1,1,2025-11-21,\n"
      "w3,1,1,2025-12-21,2026-01-10\n"
      "bad,1,1,2025-03-01,2025-02-01\n"
      "later,1,1,2026-01-05,2026-01-06\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  const TimeToValue& t = r.overall.ttv;
  EXPECT_EQ(t.reached, 4u);
  EXPECT_EQ(t.waiting, 3u);
  EXPECT_EQ(t.bad_dates, 1u);
  EXPECT_DOUBLE_EQ(t.p25, 17.5);
  EXPECT_DOUBLE_EQ(t.median, 30);
  EXPECT_DOUBLE_EQ(t.p75, 47.5);
  EXPECT_DOUBLE_EQ(t.waiting_median, 30);
}

TEST(PortfolioTest, TimeToValueOfOneAndOfNone) {
  // One value: every quartile is that value. None: NaN.
  const auto revenue = Table(
      "id,start_arr,end_arr,contract_start,first_value_date\n"
      "a,1,1,2024-01-01,2024-01-08\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_DOUBLE_EQ(r.overall.ttv.p25, 7);
  EXPECT_DOUBLE_EQ(r.overall.ttv.p75, 7);
  EXPECT_TRUE(std::isnan(r.overall.ttv.waiting_median));
  ASSERT_OK_AND_ASSIGN(
      PortfolioReport none,
      RunPortfolio(Table("id,start_arr,end_arr\na,1,1\n"), Options2025()));
  EXPECT_EQ(none.overall.ttv.reached, 0u);
  EXPECT_TRUE(std::isnan(none.overall.ttv.median));
}

// Cohorts for a period ending 2025-06-15.
constexpr char kCohorts[] =
    "id,start_arr,end_arr,contract_start,churn_date,reactivated,"
    "reactivation_date\n"
    "a,100,100,2025-01-31,,,\n"
    "b,300,0,2025-01-15,2025-03-20,,\n"
    "c,100,100,2025-01-10,2025-02-01,,2025-04-05\n"
    "d,50,50,2025-03-31,,,\n"
    "e,150,0,2025-03-01,2025-04-15,,\n"
    "f,80,80,2025-02-10,2025-03-01,true,\n"
    "late,10,10,2025-07-01,,,\n";

TEST(PortfolioTest, CohortCurvesWithCensoringAndAReactivationGap) {
  // 2025-01 (a, b, c; ARR 500). Month k is contract_start + k calendar
  // months: a 01-31 -> 02-28, 03-31, 04-30, 05-31 (k=4), 06-30 is past
  // 06-15: a is seen 4 months; b (01-15) and c (01-10) 5 months. The
  // curve stops at k=4 (censoring: every account seen).
  //   k=0: a b c active                 logos 3/3, ARR 500/500
  //   k=1 (02-xx): a, b; c churned 02-01 logos 2/3, ARR 400/500 = 0.8
  //   k=2 (03-xx): a, b (churns 03-20)  logos 2/3, ARR 0.8
  //   k=3 (04-xx): a, c (back 04-05)    logos 2/3, ARR 200/500 = 0.4
  //   k=4 (05-xx): a, c                 logos 2/3, ARR 0.4
  // 2025-02 (f: churned 03-01, reactivated without a date: active
  // throughout): 02-10 + 4 = 06-10, seen 4 months: five 1s.
  // 2025-03 (d 03-31: 04-30, 05-31, 06-30 past: seen 2; e 03-01: seen 3;
  // ARR 200): k=0 2/2; k=1 (04-30, 04-01) 2/2; k=2 (05-31, 05-01; e
  // churned 04-15) 1/2, ARR 50/200 = 0.25.
  // late started after the period end: no cohort.
  PortfolioOptions options;
  ASSERT_OK_AND_ASSIGN(options.period, ParsePeriod("2025-01-01..2025-06-15"));
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kCohorts), options));
  ASSERT_EQ(r.cohorts.size(), 3u);
  const CohortCurve& jan = r.cohorts[0];
  EXPECT_EQ(jan.month, "2025-01");
  EXPECT_EQ(jan.accounts, 3u);
  EXPECT_EQ(jan.arr, Decimal::FromInt(500));
  EXPECT_THAT(jan.logo_share,
              ElementsAre(DoubleEq(1), DoubleEq(2.0 / 3), DoubleEq(2.0 / 3),
                          DoubleEq(2.0 / 3), DoubleEq(2.0 / 3)));
  EXPECT_THAT(jan.revenue_share,
              ElementsAre(DoubleEq(1), DoubleEq(0.8), DoubleEq(0.8),
                          DoubleEq(0.4), DoubleEq(0.4)));
  const CohortCurve& feb = r.cohorts[1];
  EXPECT_EQ(feb.month, "2025-02");
  EXPECT_THAT(feb.logo_share, ElementsAre(1, 1, 1, 1, 1));
  const CohortCurve& mar = r.cohorts[2];
  EXPECT_EQ(mar.month, "2025-03");
  EXPECT_THAT(mar.logo_share, ElementsAre(1, 1, 0.5));
  EXPECT_THAT(mar.revenue_share, ElementsAre(1, 1, 0.25));

  // --cohort-months 2: at most months 0..2.
  options.cohort_months = 2;
  ASSERT_OK_AND_ASSIGN(PortfolioReport short_curves,
                       RunPortfolio(Table(kCohorts), options));
  EXPECT_EQ(short_curves.cohorts[0].logo_share.size(), 3u);
  options.cohort_months = -1;
  EXPECT_THAT(RunPortfolio(Table(kCohorts), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--cohort-months -1")));
}

TEST(PortfolioTest, CalendarMonthsClampTheDay) {
  // 2024-01-31 + 1 month = 2024-02-29 (leap year): an account started
  // 01-31 and churned 03-01 is active at k=1 (02-29) and gone at k=2
  // (03-31). The period ends 2024-03-31: seen 2 months.
  PortfolioOptions options;
  ASSERT_OK_AND_ASSIGN(options.period, ParsePeriod("2024-01-01..2024-03-31"));
  const auto revenue = Table(
      "id,start_arr,end_arr,contract_start,churn_date\n"
      "a,10,0,2024-01-31,2024-03-01\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, options));
  ASSERT_EQ(r.cohorts.size(), 1u);
  EXPECT_THAT(r.cohorts[0].logo_share, ElementsAre(1, 1, 0));
}

constexpr char kSegments[] =
    "id,start_arr,end_arr,segment\n"
    "a,100,110,smb\n"
    "b,300,300,ent\n"
    "c,200,100,mid\n"
    "d,50,50,\n"
    "e,10,0,ent\n";

TEST(PortfolioTest, BreakdownByAttributeWithNoneAndOther) {
  // Start ARR by segment: ent 310, mid 200, smb 100. With max_groups 2,
  // ent and mid are kept, smb is pooled in "(other)"; d has no segment.
  //   ent: 310 -> 300 (e churned 10): NRR = 300 / 310; logos 1/2
  //   mid: 200 -> 100: NRR = GRR = 50%
  //   (none): 50 -> 50: 100%
  //   (other): 100 -> 110: NRR 110%, GRR 100%
  PortfolioOptions options = Options2025();
  options.by = {"segment"};
  options.max_groups = 2;
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kSegments), options));
  ASSERT_EQ(r.breakdowns.size(), 1u);
  const Breakdown& b = r.breakdowns[0];
  EXPECT_EQ(b.by, "segment");
  EXPECT_FALSE(b.tiers);
  EXPECT_EQ(b.pooled_values, 1u);
  ASSERT_EQ(b.groups.size(), 4u);
  EXPECT_EQ(b.groups[0].name, "ent");
  EXPECT_EQ(b.groups[1].name, "mid");
  EXPECT_EQ(b.groups[2].name, "(none)");
  EXPECT_EQ(b.groups[3].name, "(other)");
  EXPECT_DOUBLE_EQ(b.groups[0].flows.nrr(), 300.0 / 310.0);
  EXPECT_DOUBLE_EQ(b.groups[0].flows.logo_churn(), 0.5);
  EXPECT_DOUBLE_EQ(b.groups[1].flows.nrr(), 0.5);
  EXPECT_DOUBLE_EQ(b.groups[1].flows.grr(), 0.5);
  EXPECT_DOUBLE_EQ(b.groups[2].flows.nrr(), 1.0);
  EXPECT_DOUBLE_EQ(b.groups[3].flows.nrr(), 1.1);
  EXPECT_DOUBLE_EQ(b.groups[3].flows.grr(), 1.0);
  // The overall figures are the sum: (660 - 10 + 10 - 100) / 660... i.e.
  // start 660, expansion 10, contraction 100, churned 10: end 560.
  EXPECT_EQ(r.overall.flows.end_arr, Decimal::FromInt(560));

  // Without the cap every value is its own group, by start ARR.
  options.max_groups = 200;
  ASSERT_OK_AND_ASSIGN(PortfolioReport all,
                       RunPortfolio(Table(kSegments), options));
  ASSERT_EQ(all.breakdowns[0].groups.size(), 4u);
  EXPECT_EQ(all.breakdowns[0].groups[2].name, "smb");
  EXPECT_EQ(all.breakdowns[0].pooled_values, 0u);
}

TEST(PortfolioTest, ByAColumnTheFileDoesNotHaveIsAnError) {
  PortfolioOptions options = Options2025();
  options.by = {"region"};
  EXPECT_THAT(RunPortfolio(Table(kSegments), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--by region: the revenue file has no such "
                                 "text column (it has: segment)")));
}

TEST(PortfolioTest, BreakdownByHealthTier) {
  // Tiers at the period start: a green, b red, c none, d green, e yellow.
  //   green: a 100 -> 110, d 50 -> 50: start 150, end 160
  //   yellow: e 10 -> 0 (churned): NRR 0
  //   red: b 300 -> 300: 100%
  //   (no tier): c 200 -> 100: 50%
  TierColumn tiers;
  tiers.source = "model test";
  tiers.names = {"green", "yellow", "red"};
  tiers.colors = {"#0a0", "#aa0", "#a00"};
  tiers.row_tier = {0, 2, -1, 0, 1};
  ASSERT_OK_AND_ASSIGN(PortfolioReport r,
                       RunPortfolio(Table(kSegments), Options2025(), &tiers));
  ASSERT_EQ(r.breakdowns.size(), 1u);
  const Breakdown& b = r.breakdowns[0];
  EXPECT_EQ(b.by, "tier");
  EXPECT_TRUE(b.tiers);
  EXPECT_EQ(r.tier_source, "model test");
  EXPECT_EQ(r.without_tier, 1u);
  ASSERT_EQ(b.groups.size(), 4u);
  EXPECT_EQ(b.groups[0].name, "green");
  EXPECT_EQ(b.groups[0].color, "#0a0");
  EXPECT_EQ(b.groups[0].flows.start_arr, Decimal::FromInt(150));
  EXPECT_EQ(b.groups[0].flows.end_arr, Decimal::FromInt(160));
  EXPECT_EQ(b.groups[1].name, "yellow");
  EXPECT_DOUBLE_EQ(b.groups[1].flows.nrr(), 0.0);
  EXPECT_EQ(b.groups[2].name, "red");
  EXPECT_DOUBLE_EQ(b.groups[2].flows.nrr(), 1.0);
  EXPECT_EQ(b.groups[3].name, "(no tier)");
  EXPECT_DOUBLE_EQ(b.groups[3].flows.nrr(), 0.5);

  tiers.row_tier.pop_back();
  EXPECT_THAT(RunPortfolio(Table(kSegments), Options2025(), &tiers),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the tier column has 4 entries for 5 "
                                 "revenue records")));
}

TEST(PortfolioTest, AFileWithoutStartOrEndArrIsAnError) {
  EXPECT_THAT(RunPortfolio(Table("id,start_arr\na,1\n"), Options2025()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the revenue file has no end_arr column")));
}

TEST(PortfolioTest, SumsPastTheDecimalRangeAreOutOfRange) {
  // Each 1e26 fits; their sum 2e26 passes about 1.7e26.
  EXPECT_THAT(
      RunPortfolio(Table("id,start_arr,end_arr\na,1e26,1e26\nb,1e26,1e26\n"),
                   Options2025()),
      StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("exact decimal")));
}

TEST(PortfolioTest, ReadingProblemsAreReported) {
  const auto revenue = Table(
      "id,start_arr,end_arr\n"
      "a,12x,1\n"
      "b,0.0000000000001,1\n");
  ASSERT_OK_AND_ASSIGN(PortfolioReport r, RunPortfolio(revenue, Options2025()));
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.bad_values, 1u);
  EXPECT_EQ(r.rounded_values, 1u);
  EXPECT_EQ(r.problem_examples.size(), 2u);
  // a's start_arr is unusable: no_start_arr; b's rounds to 0: zero.
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kNoStartArr), 1u);
  EXPECT_EQ(ClassCount(r.overall, AccountClass::kZeroStartArr), 1u);
}

TEST(PortfolioTest, ClassNamesAndDescriptions) {
  for (size_t i = 0; i < kAccountClassCount; ++i) {
    const auto c = static_cast<AccountClass>(i);
    EXPECT_FALSE(AccountClassName(c).empty());
    EXPECT_FALSE(AccountClassDescription(c).empty());
  }
  EXPECT_EQ(AccountClassName(AccountClass::kNewInPeriod), "new_in_period");
  EXPECT_EQ(AccountClassName(AccountClass::kNoEndArr), "no_end_arr");
}

TEST(PortfolioTest, RatiosOfAnEmptyCohortAreNan) {
  Flows f;
  EXPECT_TRUE(std::isnan(f.nrr()));
  EXPECT_TRUE(std::isnan(f.grr()));
  EXPECT_TRUE(std::isnan(f.logo_retention()));
  EXPECT_TRUE(std::isnan(f.expansion_arr_rate()));
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

TEST(PortfolioTest, ReadsRates) {
  const std::string dir = common::testing::ScratchDir("rates");
  const std::string good = dir + "/rates.csv";
  WriteFile(good, "currency,rate\nEUR,1.0825\nGBP,1.25\nUSD,1\n");
  ASSERT_OK_AND_ASSIGN(CurrencyRates rates, ReadRates(good, "USD"));
  EXPECT_EQ(rates.report_currency, "USD");
  ASSERT_EQ(rates.rates.size(), 2u);  // USD's own rate is not kept
  EXPECT_EQ(rates.rates.at("EUR"), Dec("1.0825"));

  const std::string jsonl = dir + "/rates.jsonl";
  WriteFile(jsonl, "{\"currency\": \"EUR\", \"rate\": \"1.08\"}\n");
  ASSERT_OK_AND_ASSIGN(CurrencyRates from_json, ReadRates(jsonl, "USD"));
  EXPECT_EQ(from_json.rates.at("EUR"), Dec("1.08"));

  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {"currency,rate\nEUR,\n", "line 2: currency EUR has no rate"},
           {"currency,rate\nEUR,0\n", "line 2: currency EUR: the rate 0 is "
                                      "not positive"},
           {"currency,rate\nEUR,-1.5\n", "the rate -1.5 is not positive"},
           {"currency,rate\nEUR,abc\n",
            "line 2: rate: \"abc\" is not a decimal number; every rate must "
            "be exact"},
           {"currency,rate\nEUR,1.0000000000001\n",
            "has more than 12 decimals"},
           {"currency,rate\nEUR,1.1\nEUR,1.2\n",
            "currency id \"EUR\" is given by 2 records"},
           {"currency,rate\nUSD,2\n", "is the report currency, whose rate is "
                                      "1, not 2"}}) {
    const std::string path = dir + "/bad.csv";
    WriteFile(path, c.text);
    EXPECT_THAT(ReadRates(path, "USD"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(c.error)))
        << c.text;
  }
  EXPECT_THAT(ReadRates(good, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("need a report currency (--currency CODE)")));
}

}  // namespace
}  // namespace healthscore::engine::portfolio
