#include "engine/portfolio/portfolio_format.h"

#include <string>
#include <utility>

#include "engine/report/html_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::portfolio {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PortfolioReport Portfolio(std::string csv, std::vector<std::string> by = {}) {
  auto table = outcomes::ReadRecords(io::StringSource(std::move(csv)),
                                     io::InputFormat::kCsv, RevenueSchema());
  EXPECT_TRUE(table.ok()) << table.status();
  PortfolioOptions options;
  options.period = *ParsePeriod("2025-01-01..2025-12-31");
  options.by = std::move(by);
  auto report = RunPortfolio(*table, options);
  EXPECT_TRUE(report.ok()) << report.status();
  return *std::move(report);
}

// Two accounts of a segment whose name needs quoting in CSV, amounts
// with cents: 0.10 + 0.20 = 0.30 exactly, kept as 0.3 in JSON and CSV
// and written 0.30 for people.
constexpr char kRevenue[] =
    "id,segment,start_arr,end_arr\n"
    "a,\"north, \"\"east\"\"\",0.10,0.20\n"
    "b,\"north, \"\"east\"\"\",0.20,0.10\n";

TEST(PortfolioFormatTest, JsonWritesAmountsExactlyAndEmptyRatiosAsNull) {
  const std::string json = PortfolioJson(Portfolio(kRevenue, {"segment"}));
  EXPECT_THAT(json, HasSubstr("\"start_arr\":0.3,\"expansion\":0.1,"
                              "\"contraction\":0.1,\"churned_arr\":0,"
                              "\"end_arr\":0.3,\"nrr\":1,\"grr\":"));
  EXPECT_THAT(json, HasSubstr("\"name\":\"north, \\\"east\\\"\""));
  // No account reached first value: the quartiles are not defined.
  EXPECT_THAT(json, HasSubstr("\"p25\":null,\"median\":null,\"p75\":null"));
  EXPECT_EQ(json.back(), '\n');

  // An empty cohort: every ratio is null, never NaN in JSON.
  const std::string empty =
      PortfolioJson(Portfolio("id,start_arr,end_arr,contract_start\n"
                              "n,,5,2025-06-01\n"));
  EXPECT_THAT(empty, HasSubstr("\"accounts\":0,"));
  EXPECT_THAT(empty, HasSubstr("\"nrr\":null,\"grr\":null"));
  EXPECT_THAT(empty, Not(HasSubstr("nan")));
}

TEST(PortfolioFormatTest, CsvQuotesNamesAndKeepsAmountsExact) {
  const std::string csv = PortfolioCsv(Portfolio(kRevenue, {"segment"}));
  EXPECT_THAT(csv, HasSubstr("\nall,all,2,2,0,0,1,1,0.3,0.1,0.1,0,0.3,1,"));
  EXPECT_THAT(csv, HasSubstr("\nsegment,\"north, \"\"east\"\"\",2,2,0,0,1,1,"
                             "0.3,0.1,0.1,0,0.3,1,"));
}

TEST(PortfolioFormatTest, TextRoundsForPeopleAndBoundsNames) {
  const std::string long_name(5000, 'x');
  const std::string text = FormatPortfolioText(
      Portfolio("id,segment,start_arr,end_arr\na," + long_name +
                    ",1234567.891,"
                    "1234567.891\n",
                {"segment"}));
  EXPECT_THAT(text, HasSubstr("start ARR 1,234,567.89 + expansion 0.00"));
  EXPECT_THAT(text, HasSubstr("NRR 100.0%   GRR 100.0%"));
  // The segment's name is cut for the table, not printed whole.
  EXPECT_THAT(text, HasSubstr("xxx…(5000 bytes)"));
  EXPECT_LT(text.size(), 4000u);
}

TEST(PortfolioFormatTest, TheDocumentRendersWithItsCharts) {
  const PortfolioReport report = Portfolio(
      "id,segment,contract_start,start_arr,end_arr,first_value_date\n"
      "a,smb,2024-01-10,100,120,2024-01-20\n"
      "b,ent,2024-02-10,200,150,2024-03-01\n",
      {"segment"});
  absl::StatusOr<std::string> html =
      report::RenderHtml(PortfolioDocument(report, {{"Revenue", "r.csv"}}));
  ASSERT_TRUE(html.ok()) << html.status();
  for (const char* chart :
       {"retention-by-0", "cohort-logos", "cohort-revenue", "ttv"}) {
    EXPECT_THAT(*html, HasSubstr(std::string("data-chart=\"") + chart + "\""));
  }
  // Amounts as written for people, in the tables.
  EXPECT_THAT(*html, HasSubstr("300.00"));
  EXPECT_THAT(*html, HasSubstr("Portfolio outcomes 2025-01-01..2025-12-31"));
}

}  // namespace
}  // namespace healthscore::engine::portfolio
