// `healthscore portfolio` as a CS leader's analyst runs it: the real binary
// on revenue files small enough to compute by hand (the figures in the
// comments), and on examples/churn's synthetic portfolio for the report.
// tests/portfolio_reference.py checks the same figures against pandas on
// the whole example.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

fs::path Write(const std::string& name, const std::string& text) {
  const fs::path path = TempPath(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

// The JSON value (number, string or null) after `"key":` in the first
// place it appears after `after`.
std::string JsonValue(const std::string& json, const std::string& after,
                      const std::string& key) {
  const size_t start = json.find(after);
  if (start == std::string::npos) return "(no " + after + ")";
  std::smatch m;
  const std::string rest = json.substr(start);
  if (!std::regex_search(
          rest, m,
          std::regex("\"" + key + "\":(null|\"[^\"]*\"|-?[0-9.eE+-]+)"))) {
    return "(no " + key + ")";
  }
  return m[1];
}
double JsonNumber(const std::string& json, const std::string& after,
                  const std::string& key) {
  const std::string value = JsonValue(json, after, key);
  return value.empty() || value[0] == '(' || value == "null" ? NAN
                                                             : std::stod(value);
}

// Six accounts over 2025:
//   a  smb  customer since 2023, 1000.10 -> 1200.10: expansion 200.00
//   b  smb  customer since 2024, 2000.20 -> 1500.20: contraction 500.00
//   c  ent  customer since 2022, 10000.00, churned 2025-06-30
//   d  ent  customer since 2021, 5000.00 -> 5000.00, no first value yet
//   e  smb  started 2025-03-01: new business, not in the cohort
//   f  smb  churned 2024-05-01: not a customer at the start
// Cohort a-d, 4 accounts; start ARR 18000.30, end ARR
// 18000.30 + 200.00 - 500.00 - 10000.00 = 7700.30.
constexpr char kRevenue[] =
    "id,segment,contract_start,start_arr,end_arr,churn_date,first_value_date\n"
    "a,smb,2023-05-10,1000.10,1200.10,,2023-05-20\n"
    "b,smb,2024-02-01,2000.20,1500.20,,2024-02-11\n"
    "c,ent,2022-01-15,10000.00,0,2025-06-30,2022-03-01\n"
    "d,ent,2021-07-01,5000.00,5000.00,,\n"
    "e,smb,2025-03-01,,800.00,,2025-03-21\n"
    "f,smb,2022-01-01,,0,2024-05-01,2022-02-01\n";

constexpr char kPeriod[] = " --period 2025-01-01..2025-12-31";

TEST(CliPortfolioTest, FiguresOfAHandComputedPortfolio) {
  const fs::path revenue = Write("revenue.csv", kRevenue);
  CliResult r =
      RunCli(absl::StrCat("portfolio --format json --revenue ",
                          revenue.string(), kPeriod, " --by segment"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string overall = "\"overall\":";
  EXPECT_EQ(JsonValue(r.out, overall, "accounts"), "4");
  // Amounts exactly as the sums of the cents written.
  EXPECT_EQ(JsonValue(r.out, overall, "start_arr"), "18000.3");
  EXPECT_EQ(JsonValue(r.out, overall, "expansion"), "200");
  EXPECT_EQ(JsonValue(r.out, overall, "contraction"), "500");
  EXPECT_EQ(JsonValue(r.out, overall, "churned_arr"), "10000");
  EXPECT_EQ(JsonValue(r.out, overall, "end_arr"), "7700.3");
  // NRR = 7700.30 / 18000.30; GRR = (18000.30 - 500 - 10000) / 18000.30.
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, overall, "nrr"), 7700.30 / 18000.30);
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, overall, "grr"), 7500.30 / 18000.30);
  // 3 of 4 still customers; 1 of 4 lost (the seeds' churn rate).
  EXPECT_EQ(JsonNumber(r.out, overall, "logo_retention"), 0.75);
  EXPECT_EQ(JsonNumber(r.out, overall, "logo_churn"), 0.25);
  // 1 of 4 expanded, by 200.00 of 18000.30.
  EXPECT_EQ(JsonNumber(r.out, overall, "expansion_logo_rate"), 0.25);
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, overall, "expansion_arr_rate"),
                   200.0 / 18000.30);
  // Time to first value over a, b, c, e, f: 10, 10, 45, 20, 31 days;
  // sorted 10 10 20 31 45: quartiles 10, 20, 31. d waits, since 2021-07-01:
  // 1644 days to the period end.
  const std::string ttv = "\"time_to_value\":";
  EXPECT_EQ(JsonNumber(r.out, ttv, "reached"), 5);
  EXPECT_EQ(JsonNumber(r.out, ttv, "p25"), 10);
  EXPECT_EQ(JsonNumber(r.out, ttv, "median"), 20);
  EXPECT_EQ(JsonNumber(r.out, ttv, "p75"), 31);
  EXPECT_EQ(JsonNumber(r.out, ttv, "waiting"), 1);
  EXPECT_EQ(JsonNumber(r.out, ttv, "waiting_median"), 1644);
  // Left out, by reason, with the ids.
  EXPECT_THAT(r.out, HasSubstr("\"new_in_period\":{\"count\":1,"
                               "\"examples\":[\"e\"]}"));
  EXPECT_THAT(r.out, HasSubstr("\"churned_before\":{\"count\":1,"
                               "\"examples\":[\"f\"]}"));
  // By segment: smb (a, b) 3000.30 -> 2700.30; ent (c, d) 15000 -> 5000.
  // ent has the larger start ARR, so it comes first.
  EXPECT_LT(r.out.find("\"name\":\"ent\""), r.out.find("\"name\":\"smb\""));
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"name\":\"smb\"", "nrr"),
                   2700.30 / 3000.30);
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"name\":\"smb\"", "grr"),
                   2500.30 / 3000.30);
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"name\":\"ent\"", "nrr"), 1.0 / 3);
  EXPECT_EQ(JsonValue(r.out, "\"name\":\"ent\"", "churned_logos"), "1");

  // --max-groups 1: the larger segment (ent) kept, smb pooled.
  CliResult pooled =
      RunCli(absl::StrCat("portfolio --format json --max-groups 1 --revenue ",
                          revenue.string(), kPeriod, " --by segment"));
  ASSERT_EQ(pooled.exit_code, 0) << pooled.err;
  EXPECT_THAT(pooled.out, HasSubstr("\"pooled_values\":1,"));
  EXPECT_THAT(pooled.out, HasSubstr("\"name\":\"(other)\""));
  EXPECT_THAT(pooled.out, Not(HasSubstr("\"name\":\"smb\"")));

  // The text says the same for people.
  CliResult text = RunCli(absl::StrCat("portfolio --revenue ", revenue.string(),
                                       kPeriod, " --by segment"));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Portfolio 2025-01-01..2025-12-31\n"));
  EXPECT_THAT(text.out, HasSubstr("NRR 42.8%   GRR 41.7%   logo retention "
                                  "75.0%   logo churn 25.0%"));
  EXPECT_THAT(text.out,
              HasSubstr("start ARR 18,000.30 + expansion 200.00 - contraction "
                        "500.00 - churned 10,000.00 = end ARR 7,700.30"));
  EXPECT_THAT(text.out, HasSubstr("By segment\n"));

  // CSV: the overall row and one per segment, amounts exact.
  CliResult csv =
      RunCli(absl::StrCat("portfolio --format csv --revenue ", revenue.string(),
                          kPeriod, " --by segment"));
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("\nall,all,4,3,1,0,1,1,18000.3,200,500,"
                                 "10000,7700.3,"));
  EXPECT_THAT(csv.out, HasSubstr("\nsegment,smb,2,2,0,0,1,1,3000.3,200,500,0,"
                                 "2700.3,"));
}

TEST(CliPortfolioTest, ByTierFromScoresOrderedAsTheModelNamesThem) {
  const fs::path revenue = Write("revenue_tiers.csv", kRevenue);
  // As `healthscore score` writes them; e has no revenue cohort (new).
  const fs::path scores = Write(
      "scores.jsonl",
      "{\"id\":\"b\",\"status\":\"ok\",\"score\":60,\"tier\":\"yellow\"}\n"
      "{\"id\":\"a\",\"status\":\"ok\",\"score\":85,\"tier\":\"green\"}\n"
      "{\"id\":\"c\",\"status\":\"ok\",\"score\":30,\"tier\":\"red\"}\n"
      "{\"id\":\"d\",\"status\":\"ok\",\"score\":90,\"tier\":\"green\"}\n"
      "{\"id\":\"zz\",\"status\":\"ok\",\"score\":90,\"tier\":\"green\"}\n");
  CliResult r = RunCli(
      absl::StrCat("portfolio --format json --model rules/default --revenue ",
                   revenue.string(), kPeriod, " --scores ", scores.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // green (a, d): 6000.10 -> 6200.10; yellow (b): 2000.20 -> 1500.20;
  // red (c): 10000 -> 0. Top tier first, as the model orders them.
  const size_t green = r.out.find("\"name\":\"green\"");
  const size_t yellow = r.out.find("\"name\":\"yellow\"");
  const size_t red = r.out.find("\"name\":\"red\"");
  ASSERT_NE(green, std::string::npos) << r.out;
  EXPECT_LT(green, yellow);
  EXPECT_LT(yellow, red);
  EXPECT_EQ(JsonValue(r.out, "\"name\":\"green\"", "start_arr"), "6000.1");
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"name\":\"green\"", "nrr"),
                   6200.10 / 6000.10);
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"name\":\"yellow\"", "nrr"),
                   1500.20 / 2000.20);
  EXPECT_EQ(JsonNumber(r.out, "\"name\":\"red\"", "nrr"), 0);
  EXPECT_EQ(JsonNumber(r.out, "\"name\":\"red\"", "logo_churn"), 1);
  // The model's tier colours go with the tiers.
  EXPECT_THAT(r.out, HasSubstr("\"name\":\"green\",\"color\":\""));
  // e and f have no score; zz has no revenue record.
  EXPECT_EQ(JsonNumber(r.out, "\"tiers\":{", "without_tier"), 2);
  EXPECT_THAT(r.out, HasSubstr("1 score of accounts not in the revenue file"));
}

TEST(CliPortfolioTest, CurrenciesAreConvertedOrRefusedNeverMixed) {
  const fs::path revenue = Write("revenue_fx.csv",
                                 "id,currency,start_arr,end_arr\n"
                                 "us,USD,100.00,110.00\n"
                                 "eu,EUR,100.00,100.00\n");
  CliResult refused =
      RunCli(absl::StrCat("portfolio --revenue ", revenue.string(), kPeriod));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("EUR"));
  EXPECT_THAT(refused.err, HasSubstr("USD"));
  EXPECT_THAT(refused.err, HasSubstr("--rates"));

  const fs::path rates = Write("rates.csv", "currency,rate\nEUR,1.0843\n");
  CliResult r = RunCli(
      absl::StrCat("portfolio --format json --currency USD --rates ",
                   rates.string(), " --revenue ", revenue.string(), kPeriod));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 100.00 USD + 100.00 EUR * 1.0843 = 208.43 USD at the start; 218.43 at
  // the end: NRR 218.43 / 208.43.
  EXPECT_EQ(JsonValue(r.out, "\"overall\":", "start_arr"), "208.43");
  EXPECT_EQ(JsonValue(r.out, "\"overall\":", "end_arr"), "218.43");
  EXPECT_DOUBLE_EQ(JsonNumber(r.out, "\"overall\":", "nrr"), 218.43 / 208.43);
  EXPECT_EQ(JsonValue(r.out, "{", "currency"), "\"USD\"");
}

TEST(CliPortfolioTest, RulesAreFlags) {
  // r churned in March and came back in May at 80.00; m has no end value.
  const fs::path revenue =
      Write("revenue_rules.csv",
            "id,start_arr,end_arr,churn_date,reactivation_date\n"
            "r,100.00,80.00,2025-03-01,2025-05-01\n"
            "m,100.00,,,\n"
            "k,100.00,100.00,,\n");
  const std::string base = absl::StrCat("portfolio --format json --revenue ",
                                        revenue.string(), kPeriod);
  // Defaults: r retained with a contraction of 20; m left out.
  CliResult d = RunCli(base);
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(JsonValue(d.out, "\"overall\":", "accounts"), "2");
  EXPECT_EQ(JsonValue(d.out, "\"overall\":", "contraction"), "20");
  EXPECT_EQ(JsonValue(d.out, "\"overall\":", "reactivated_logos"), "1");
  EXPECT_THAT(d.out, HasSubstr("\"no_end_arr\":{\"count\":1,"));
  // --reactivated churned: r is lost in full; --missing-end flat: m counts,
  // unchanged.
  CliResult c = RunCli(base + " --reactivated churned --missing-end flat");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(JsonValue(c.out, "\"overall\":", "accounts"), "3");
  EXPECT_EQ(JsonValue(c.out, "\"overall\":", "churned_arr"), "100");
  EXPECT_EQ(JsonValue(c.out, "\"overall\":", "end_arr"), "200");
  EXPECT_THAT(c.out, HasSubstr("\"reactivated\":\"churned\""));
  EXPECT_THAT(c.out, HasSubstr("\"missing_end\":\"flat\""));
  // --missing-end churned: m is lost too.
  CliResult mc = RunCli(base + " --missing-end churned");
  ASSERT_EQ(mc.exit_code, 0) << mc.err;
  EXPECT_EQ(JsonValue(mc.out, "\"overall\":", "churned_logos"), "1");
}

TEST(CliPortfolioTest, UsageErrorsSayWhatToDo) {
  const fs::path revenue = Write("revenue_usage.csv", kRevenue);
  const std::string base =
      absl::StrCat("portfolio --revenue ", revenue.string());
  struct Case {
    std::string args;
    std::string message;
  } cases[] = {
      {base, "--period is required"},
      {base + " --period 2025-12-31..2025-01-01", "--period"},
      {base + " --period 2025-01-01", "--period"},
      {base + kPeriod + " --reactivated maybe",
       "--reactivated must be one of retained, churned"},
      {base + kPeriod + " --missing-end zero",
       "--missing-end must be one of exclude, flat, churned"},
      {base + kPeriod + " --format xml", "--format must be text, json or csv"},
      {base + kPeriod + " --input x.jsonl --scores y.jsonl",
       "pass one of them"},
      {base + kPeriod + " --input x.jsonl", "--input needs --model"},
      {base + kPeriod + " --by region", "region"},
  };
  for (const Case& c : cases) {
    CliResult r = RunCli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
  }
  CliResult missing = RunCli(absl::StrCat(
      "portfolio --revenue ", TempPath("nope.csv").string(), kPeriod));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv"));
}

TEST(CliPortfolioTest, ExampleByTierFromSnapshotsWithTheReport) {
  const fs::path dir = TempPath("portfolio_example");
  if (!fs::exists(dir / "revenue.csv")) {
    const std::string command = absl::StrCat(
        "cd '", HEALTHSCORE_SOURCE_DIR,
        "' && python3 examples/churn/make_data.py --accounts 3000 --out '",
        dir.string(), "'");
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  const fs::path report = TempPath("portfolio.html");
  const std::string common = absl::StrCat(
      "portfolio --revenue ", (dir / "revenue.csv").string(), kPeriod,
      " --rates ", (dir / "rates.csv").string(),
      " --currency USD --by segment --model rules/default --input ",
      (dir / "snapshots.jsonl").string());
  CliResult r = RunCli(common + " --report " + report.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("By health tier at the period start\n"));
  EXPECT_THAT(r.out, HasSubstr("amounts in USD (converted from EUR, USD)"));
  // Health predicts revenue in this data: green keeps more than red.
  CliResult json = RunCli(common + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const size_t tiers = json.out.find("\"by\":\"tier\"");
  ASSERT_NE(tiers, std::string::npos);
  const std::string by_tier = json.out.substr(tiers);
  EXPECT_GT(JsonNumber(by_tier, "\"name\":\"green\"", "nrr"),
            JsonNumber(by_tier, "\"name\":\"red\"", "nrr") + 0.1);
  EXPECT_GT(JsonNumber(by_tier, "\"name\":\"green\"", "logo_retention"),
            JsonNumber(by_tier, "\"name\":\"red\"", "logo_retention"));
  const std::string html = engine::common::testing::ReadFile(report);
  for (const char* chart : {"retention-by-tier", "retention-by-0",
                            "cohort-logos", "cohort-revenue", "ttv"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("data-chart=\"", chart, "\"")));
  }
  EXPECT_THAT(html, Not(HasSubstr("<script")));
}

}  // namespace
}  // namespace healthscore::testing
