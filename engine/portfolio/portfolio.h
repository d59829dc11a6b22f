// Portfolio outcomes: net and gross revenue retention, logo retention,
// churn and expansion over a period, time to first value and cohort
// retention curves; overall, by any attribute of the revenue file
// (segment, plan, region) and by the health tier each account had at the
// period start (tiers.h).
//
// Definitions (docs/outcomes.md, "Portfolio metrics"; the SaaS Metrics
// Standards Board's by default). The cohort is the accounts that were
// customers at the period start; for them, over the period:
//
//   NRR  = (start ARR + expansion - contraction - churned ARR) / start ARR
//   GRR  = (start ARR - contraction - churned ARR) / start ARR   (<= 100%)
//   logo retention   = cohort accounts still customers at the end / cohort
//   logo churn       = cohort accounts lost / cohort
//   revenue churn    = (contraction + churned ARR) / start ARR   (gross)
//   net revenue churn = (contraction + churned ARR - expansion) / start ARR
//   expansion rate   = cohort accounts that expanded / cohort, and
//                      expansion ARR / start ARR
//
// Each revenue record is classified once (AccountClass), in this order; the
// first rule that applies decides:
//   bad_dates           churn_date (or reactivation_date) before
//                       contract_start, or a reactivation_date without a
//                       churn_date before it: excluded, counted.
//   new_in_period       contract_start after the period start: not in the
//                       cohort (new business), counted.
//   churned_before      churn_date before the period start (and no
//                       reactivation_date on or before the start): not a
//                       customer at the start, counted.
//   no_start_arr        start_arr missing: excluded, counted.
//   zero_start_arr      start_arr == 0: excluded from every metric
//                       (ZeroStartRule::kExclude), or in the logo metrics
//                       only (kLogosOnly); counted either way.
//   negative_amount     a negative start_arr, end_arr, expansion or
//                       contraction: excluded, counted.
//   no_currency / no_rate
//                       the file has a currency column and the record has
//                       no currency / its currency has no rate: excluded,
//                       counted. (Several currencies without rates are an
//                       error of the whole run; see PortfolioOptions.)
//   churned             churn_date within the period, or end_arr == 0, and
//                       not reactivated within the period. Churned ARR =
//                       start ARR; no expansion or contraction.
//   reactivated         churned within the period and back (reactivated
//                       true, or a reactivation_date after the churn_date
//                       and within the period; never with end_arr == 0,
//                       which is not a customer at the end): retained,
//                       with expansion or contraction from start to end ARR
//                       (ReactivationRule::kRetained, the default), or
//                       churned in full, its returned revenue being new
//                       business (kChurned). Retained without an end_arr,
//                       it is no_end_arr instead.
//   no_end_arr          end_arr missing (and not churned by its date):
//                       excluded and counted (MissingEndRule::kExclude),
//                       taken as unchanged (kFlat) or as churned
//                       (kChurned).
//   retained            otherwise. Expansion and contraction are the given
//                       columns when the file has either (a missing one is
//                       0), else derived: end - start when positive is
//                       expansion, start - end when positive is
//                       contraction. When given components do not add up
//                       to the end ARR (start + expansion - contraction !=
//                       end), they are used and the record is counted in
//                       components_disagree (a warning, not an exclusion).
// A churn_date after the period end does not churn the account in this
// period. A churned account with end_arr > 0 and no reactivation is
// counted in end_arr_after_churn (a warning) and churned.
//
// Amounts are exact decimals (common::Decimal): sums never drift, cents
// stay cents. With several currencies, each amount is converted to the
// report currency by its rate (PortfolioOptions::rates) exactly; a run
// whose file holds several currencies without rates fails with a message
// naming them.
//
// Time to first value: days from contract_start to first_value_date over
// every record with a contract_start on or before the period end (not only
// the cohort): quartiles by linear interpolation between order statistics
// (numpy's default, R's type 7); records without a first_value_date are
// counted as waiting, never dropped, with their days waiting so far (to the
// period end; a first_value_date after the period end is still waiting at
// it); a first_value_date before contract_start is counted in the group's
// TimeToValue::bad_dates and left out.
//
// Cohort retention curves: records grouped by the calendar month of
// contract_start (every record with one, not only the period's cohort);
// for month k = 0, 1, ... after the start, the share of the month's
// accounts still active k months after their own contract_start (an
// account is inactive from its churn_date until its reactivation_date, if
// any; a reactivated account without a date is active throughout), and the
// same weighted by each account's ARR (start_arr when positive, else
// end_arr). Month k is given for a cohort only when every account of it
// has been observed k months (contract_start + k months <= period end),
// so the curves are never cut by censoring. contract_start + k months is
// calendar arithmetic, the day clamped to the month's length (2024-01-31
// + 1 month = 2024-02-29). Left out of the curves: records with
// contract_start after the period end, bad_dates records, and records
// whose weight is negative or cannot be converted (no currency, no rate).
//
// Thread-safety: RunPortfolio is a pure function of its arguments.

#ifndef HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_H_
#define HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/decimal.h"
#include "engine/outcomes/record_table.h"

namespace healthscore::engine::portfolio {

// The declared columns of a revenue file, their index in the RecordTable
// (RevenueSchema's order). Amounts are ColumnType::kDecimal.
enum RevenueColumn : int {
  kStartArrColumn = 0,      // decimal
  kEndArrColumn,            // decimal
  kExpansionColumn,         // decimal
  kContractionColumn,       // decimal
  kContractStartColumn,     // date
  kChurnDateColumn,         // date
  kReactivatedColumn,       // bool
  kReactivationDateColumn,  // date
  kFirstValueDateColumn,    // date
  kCurrencyColumn,          // string
};
inline constexpr int kRevenueColumnCount = 10;

// The revenue schema: the columns above in that order, other columns kept
// as string attributes (keep_other_columns) for --by.
outcomes::RecordSchema RevenueSchema();

// A period, both days inclusive, as days since 1970-01-01.
struct Period {
  int32_t start = 0;
  int32_t end = 0;
};

// "2025-01-01..2025-12-31": two ISO dates, the first not after the second.
// InvalidArgument otherwise, saying what was expected.
absl::StatusOr<Period> ParsePeriod(std::string_view text);

// "YYYY-MM-DD" of a day since 1970-01-01.
std::string FormatDay(int32_t day);

enum class ReactivationRule : uint8_t { kRetained, kChurned };
enum class MissingEndRule : uint8_t { kExclude, kFlat, kChurned };
enum class ZeroStartRule : uint8_t { kExclude, kLogosOnly };

// Conversion rates to the report currency: report units per one unit of
// each currency (the report currency's own rate is 1 and need not be
// given).
struct CurrencyRates {
  std::string report_currency;
  std::map<std::string, common::Decimal> rates;
};

// Reads a rates file (CSV or JSON Lines, through outcomes::ReadRecordFile):
// columns `currency` (the id) and `rate` (decimal, > 0). InvalidArgument
// for a rate that is missing, bad, zero or negative (naming the line), and
// for a duplicated currency.
absl::StatusOr<CurrencyRates> ReadRates(const std::string& path,
                                        std::string report_currency);

struct PortfolioOptions {
  Period period;
  // Attribute columns of the revenue file to break every figure down by
  // (`--by segment,plan`); each must be a column of the file (else
  // InvalidArgument naming the columns it has).
  std::vector<std::string> by;
  // --reactivated, --missing-end and --zero-start-arr.
  ReactivationRule reactivation = ReactivationRule::kRetained;
  MissingEndRule missing_end = MissingEndRule::kExclude;
  ZeroStartRule zero_start = ZeroStartRule::kExclude;
  // Empty report_currency: the file must hold at most one currency, which
  // is the report currency (or none: amounts are unitless).
  CurrencyRates rates;
  // Longest cohort curve, in months after the start (`--cohort-months`).
  int cohort_months = 24;
  // The most groups one breakdown keeps; further values are pooled in
  // "(other)" and counted.
  size_t max_groups = 200;
  // Example ids kept per exclusion or warning.
  size_t max_examples = 10;
};

// The health tiers of the records at the period start, from tiers.h: per
// revenue row, an index into `names` or -1 (no tier known).
struct TierColumn {
  std::string source;  // e.g. "model default v3 on snapshots.jsonl"
  std::vector<std::string> names;   // top (healthiest) first
  std::vector<std::string> colors;  // CSS colours, parallel; may be empty
  std::vector<int32_t> row_tier;    // one per revenue row
  // What was left out on the way, for people ("3 snapshots dated after the
  // period start were not used").
  std::vector<std::string> notes;
};

// How each revenue record counts.
enum class AccountClass : uint8_t {
  kRetained,
  kReactivated,
  kChurned,
  kBadDates,
  kNewInPeriod,
  kChurnedBefore,
  kNoStartArr,
  kZeroStartArr,
  kNegativeAmount,
  kNoCurrency,
  kNoRate,
  kNoEndArr,
};
inline constexpr size_t kAccountClassCount = 12;
// Stable names for JSON and tables: "retained", "new_in_period", ...
std::string_view AccountClassName(AccountClass c);
// What it means, for people.
std::string_view AccountClassDescription(AccountClass c);

// Revenue flows of a group's cohort, in the report currency.
struct Flows {
  uint64_t accounts = 0;          // in the cohort (logo denominator)
  uint64_t retained_logos = 0;    // retained or reactivated (per rule)
  uint64_t churned_logos = 0;
  uint64_t expanded_logos = 0;    // with expansion > 0
  uint64_t contracted_logos = 0;  // with contraction > 0
  uint64_t reactivated_logos = 0;
  // Revenue figures are over the accounts with a positive start ARR (with
  // ZeroStartRule::kLogosOnly, zero-ARR accounts count in the logos only).
  common::Decimal start_arr;
  common::Decimal expansion;
  common::Decimal contraction;
  common::Decimal churned_arr;
  common::Decimal end_arr;  // start + expansion - contraction - churned

  // NaN when the denominator is zero.
  double nrr() const;
  double grr() const;
  double logo_retention() const;
  double logo_churn() const;
  double revenue_churn() const;
  double net_revenue_churn() const;
  double expansion_logo_rate() const;
  double expansion_arr_rate() const;
};

struct TimeToValue {
  uint64_t reached = 0;  // with a first_value_date by the period end
  uint64_t waiting = 0;  // without one
  // With a first_value_date before contract_start: left out.
  uint64_t bad_dates = 0;
  // Days to first value of those that reached it (NaN when none).
  double p25 = NAN, median = NAN, p75 = NAN;
  // Days waited so far (to the period end) of those waiting (NaN when
  // none).
  double waiting_median = NAN;
};

struct GroupFigures {
  std::string name;   // the attribute's value, the tier's name, "(none)"
  std::string color;  // the tier's colour; empty otherwise
  Flows flows;
  TimeToValue ttv;
  // Records of the group per AccountClass.
  std::array<uint64_t, kAccountClassCount> classes{};
};

struct Breakdown {
  std::string by;     // the attribute, or "tier"
  bool tiers = false;  // groups are the tier column's, top first, then
                       // "(no tier)"
  // Attribute groups: by descending start ARR, then name; "(none)" (no
  // value) and "(other)" (past max_groups) last.
  std::vector<GroupFigures> groups;
  uint64_t pooled_values = 0;  // distinct values pooled in "(other)"
};

struct CohortCurve {
  std::string month;  // "2024-03"
  uint64_t accounts = 0;
  common::Decimal arr;  // the weights' sum
  // Index k: month k after the start; at most cohort_months + 1 entries.
  std::vector<double> logo_share;
  std::vector<double> revenue_share;
};

// Records of one class or warning: how many and the first ids.
struct Examples {
  uint64_t count = 0;
  std::vector<std::string> ids;
};

struct PortfolioReport {
  Period period;
  std::string currency;  // the report currency; empty when unitless
  std::vector<std::string> currencies;  // those in the file, converted
  ReactivationRule reactivation = ReactivationRule::kRetained;
  MissingEndRule missing_end = MissingEndRule::kExclude;
  ZeroStartRule zero_start = ZeroStartRule::kExclude;

  GroupFigures overall;
  // One per PortfolioOptions::by, in order, then the tiers when given.
  std::vector<Breakdown> breakdowns;
  std::vector<CohortCurve> cohorts;  // by month, oldest first

  // Per AccountClass, over every record (overall.classes, with ids).
  std::array<Examples, kAccountClassCount> classes;
  Examples components_disagree;
  Examples end_arr_after_churn;

  // The revenue file's reading problems (RecordTable's counts).
  uint64_t records = 0;  // records kept
  uint64_t bad_records = 0;
  uint64_t bad_values = 0;
  uint64_t rounded_values = 0;
  uint64_t duplicate_ids = 0;
  std::vector<std::string> problem_examples;  // first texts of the above

  // With tiers: revenue records without a tier, and the tier source.
  std::string tier_source;
  std::vector<std::string> tier_notes;  // TierColumn::notes
  uint64_t without_tier = 0;

  // Days to first value of every record that reached it, ascending (for
  // the distribution in reports).
  std::vector<double> ttv_days;
};

// Computes every figure of `revenue` (read with RevenueSchema()) for
// `options`, with the tier breakdown when `tiers` is not null (its
// row_tier must have one entry per revenue row). Errors: InvalidArgument
// for a --by column the file does not have, for tiers of the wrong size,
// for several currencies without rates (naming them) and for a file
// without start_arr or end_arr columns; OutOfRange when a sum overflows
// common::Decimal's range.
absl::StatusOr<PortfolioReport> RunPortfolio(
    const outcomes::RecordTable& revenue, const PortfolioOptions& options,
    const TierColumn* tiers = nullptr);

}  // namespace healthscore::engine::portfolio

#endif  // HEALTHSCORE_ENGINE_PORTFOLIO_PORTFOLIO_H_
