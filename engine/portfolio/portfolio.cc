// Portfolio outcomes. Each revenue record is classified once into an
// Outcome (its class and its converted, exact amounts); the overall
// figures, every breakdown and the cohort curves are then sums over the
// outcomes, so a figure and its breakdowns can never disagree on a record.

#include "engine/portfolio/portfolio.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/eval/batch.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::engine::portfolio {

using common::Cat;
using common::Decimal;
using common::TruncateForDisplay;
using outcomes::ColumnType;
using outcomes::RecordTable;

namespace {

// The longest cohort curve accepted (--cohort-months): a century.
constexpr int kMaxCohortMonths = 1200;

constexpr int64_t kNoDate = INT64_MIN;

// Calendar arithmetic on days since 1970-01-01 (H. Hinnant's civil
// algorithms), for FormatDay's inverse and contract_start + k months.
struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  if (month != 2) return kDays[month - 1];
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return leap ? 29 : 28;
}

// numpy.percentile's default (linear interpolation between order
// statistics, R's type 7) of sorted values.
double Quantile(const std::vector<int32_t>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double position = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(position));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(lo);
  return sorted[lo] + fraction * (static_cast<double>(sorted[hi]) - sorted[lo]);
}

double Share(uint64_t part, uint64_t whole) {
  return whole == 0 ? NAN
                    : static_cast<double>(part) / static_cast<double>(whole);
}

absl::Status SumOverflow() {
  return absl::OutOfRangeError(
      "revenue sums pass the range of exact decimal amounts (about 1.7e26); "
      "check the revenue file for runaway values");
}

// How one record counts, in the report currency.
struct Outcome {
  AccountClass cls = AccountClass::kRetained;
  bool in_logos = false;    // in the cohort's logo figures
  bool in_revenue = false;  // in the revenue figures
  bool churned = false;
  bool reactivated = false;
  Decimal start;
  Decimal expansion;
  Decimal contraction;
  Decimal churned_arr;
  // For the cohort curves: whether the record is in them, its weight.
  bool in_curves = false;
  Decimal weight;
};

// Adds one outcome to a group's figures; false on overflow.
bool AddOutcome(const Outcome& o, GroupFigures* g) {
  ++g->classes[static_cast<size_t>(o.cls)];
  Flows& f = g->flows;
  if (o.in_logos) {
    ++f.accounts;
    if (o.churned) {
      ++f.churned_logos;
    } else {
      ++f.retained_logos;
    }
    if (o.reactivated) ++f.reactivated_logos;
  }
  if (!o.in_revenue) return true;
  if (!o.expansion.is_zero()) ++f.expanded_logos;
  if (!o.contraction.is_zero()) ++f.contracted_logos;
  return f.start_arr.Add(o.start) && f.expansion.Add(o.expansion) &&
         f.contraction.Add(o.contraction) && f.churned_arr.Add(o.churned_arr);
}

// end_arr = start + expansion - contraction - churned.
bool FinishFlows(Flows* f) {
  Decimal end = f->start_arr;
  if (!end.Add(f->expansion) || !end.Subtract(f->contraction) ||
      !end.Subtract(f->churned_arr)) {
    return false;
  }
  f->end_arr = end;
  return true;
}

// Days to first value of a group's records, gathered then summarised.
struct TtvDays {
  std::vector<int32_t> reached;
  std::vector<int32_t> waiting;
  uint64_t bad_dates = 0;

  void Summarise(TimeToValue* t) {
    std::sort(reached.begin(), reached.end());
    std::sort(waiting.begin(), waiting.end());
    t->reached = reached.size();
    t->waiting = waiting.size();
    t->bad_dates = bad_dates;
    t->p25 = Quantile(reached, 0.25);
    t->median = Quantile(reached, 0.5);
    t->p75 = Quantile(reached, 0.75);
    t->waiting_median = Quantile(waiting, 0.5);
  }
};

// A record's time-to-value entry: kind 0 none, 1 reached, 2 waiting,
// 3 bad dates; `days` for 1 and 2.
struct TtvEntry {
  uint8_t kind = 0;
  int32_t days = 0;
};

void AddTtv(const TtvEntry& e, TtvDays* t) {
  switch (e.kind) {
    case 1:
      t->reached.push_back(e.days);
      break;
    case 2:
      t->waiting.push_back(e.days);
      break;
    case 3:
      ++t->bad_dates;
      break;
    default:
      break;
  }
}

void AddExample(const RecordTable& revenue, size_t row, size_t max,
                Examples* e) {
  ++e->count;
  if (e->ids.size() < max) e->ids.emplace_back(revenue.id(row));
}

// The names of the columns a --by may name, for messages.
std::string AttributeColumns(const RecordTable& revenue) {
  std::string out;
  for (size_t c = 0; c < revenue.column_count(); ++c) {
    if (revenue.column_type(c) != ColumnType::kString ||
        !revenue.column_in_file(c)) {
      continue;
    }
    out.append(out.empty() ? "" : ", ");
    out.append(TruncateForDisplay(revenue.column_name(c)));
  }
  return out.empty() ? "none" : out;
}

absl::Status CheckSchema(const RecordTable& revenue) {
  const outcomes::RecordSchema schema = RevenueSchema();
  if (revenue.column_count() < schema.columns.size()) {
    return absl::InvalidArgumentError(
        "the revenue table was not read with the revenue schema");
  }
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    if (revenue.column_name(c) != schema.columns[c].name ||
        revenue.column_type(c) != schema.columns[c].type) {
      return absl::InvalidArgumentError(
          "the revenue table was not read with the revenue schema");
    }
  }
  for (int c : {kStartArrColumn, kEndArrColumn}) {
    if (!revenue.column_in_file(c)) {
      return absl::InvalidArgumentError(
          Cat("the revenue file has no ", revenue.column_name(c),
              " column; it needs start_arr and end_arr (the recurring "
              "revenue at the period start and end)"));
    }
  }
  return absl::OkStatus();
}

// The rate of each code of the currency column (-1: no rate), and the
// report's currency fields.
absl::Status ResolveCurrencies(const RecordTable& revenue,
                               const PortfolioOptions& options,
                               std::vector<Decimal>* rate_of_code,
                               std::vector<bool>* has_rate,
                               PortfolioReport* report) {
  const CurrencyRates& rates = options.rates;
  if (rates.report_currency.empty() && !rates.rates.empty()) {
    return absl::InvalidArgumentError(
        "conversion rates need a report currency (--currency CODE)");
  }
  const std::vector<std::string>& dictionary =
      revenue.string_dictionary(kCurrencyColumn);
  std::vector<bool> used(dictionary.size(), false);
  for (size_t row = 0; row < revenue.size(); ++row) {
    const int32_t code = revenue.string_code(kCurrencyColumn, row);
    if (code >= 0) used[static_cast<size_t>(code)] = true;
  }
  for (size_t i = 0; i < dictionary.size(); ++i) {
    if (used[i]) report->currencies.push_back(dictionary[i]);
  }
  std::sort(report->currencies.begin(), report->currencies.end());
  rate_of_code->assign(dictionary.size(), Decimal::FromInt(1));
  has_rate->assign(dictionary.size(), true);
  if (rates.report_currency.empty()) {
    if (report->currencies.size() > 1) {
      std::string names;
      for (const std::string& c : report->currencies) {
        names.append(names.empty() ? "" : ", ");
        names.append(TruncateForDisplay(c));
      }
      return absl::InvalidArgumentError(
          Cat("the revenue file holds ", report->currencies.size(),
              " currencies (", names,
              ") and amounts in different currencies cannot be added; give "
              "conversion rates (--rates FILE) and the report currency "
              "(--currency CODE)"));
    }
    report->currency =
        report->currencies.empty() ? "" : report->currencies.front();
    return absl::OkStatus();
  }
  report->currency = rates.report_currency;
  for (size_t i = 0; i < dictionary.size(); ++i) {
    if (dictionary[i] == rates.report_currency) continue;
    auto it = rates.rates.find(dictionary[i]);
    if (it == rates.rates.end()) {
      (*has_rate)[i] = false;
    } else {
      (*rate_of_code)[i] = it->second;
    }
  }
  return absl::OkStatus();
}

// A date cell as whole days, or kNoDate.
int64_t DateOf(const RecordTable& t, int column, size_t row) {
  return t.has(column, row)
             ? static_cast<int64_t>(std::floor(t.number(column, row)))
             : kNoDate;
}

// One group per attribute value (by descending start ARR, then name, the
// first max_groups), "(none)" and "(other)". Returns, per row, the group.
std::vector<int32_t> AttributeGroups(const RecordTable& revenue, int column,
                                     const std::vector<Outcome>& outcomes,
                                     size_t max_groups, Breakdown* b) {
  const std::vector<std::string>& dictionary =
      revenue.string_dictionary(static_cast<size_t>(column));
  struct Value {
    int32_t code;
    Decimal start;
    bool used = false;
  };
  std::vector<Value> values(dictionary.size());
  for (size_t i = 0; i < values.size(); ++i) {
    values[i].code = static_cast<int32_t>(i);
  }
  bool has_none = false;
  for (size_t row = 0; row < revenue.size(); ++row) {
    const int32_t code = revenue.string_code(static_cast<size_t>(column), row);
    if (code < 0) {
      has_none = true;
      continue;
    }
    Value& v = values[static_cast<size_t>(code)];
    v.used = true;
    // Ranking only: an overflow here is caught by the sums themselves.
    if (outcomes[row].in_revenue) v.start.Add(outcomes[row].start);
  }
  values.erase(std::remove_if(values.begin(), values.end(),
                              [](const Value& v) { return !v.used; }),
               values.end());
  std::sort(values.begin(), values.end(),
            [&](const Value& a, const Value& b) {
              if (a.start != b.start) return b.start < a.start;
              return dictionary[a.code] < dictionary[b.code];
            });
  std::vector<int32_t> group_of_code(dictionary.size(), -1);
  const size_t kept = std::min(values.size(), max_groups);
  for (size_t i = 0; i < kept; ++i) {
    group_of_code[values[i].code] = static_cast<int32_t>(b->groups.size());
    b->groups.emplace_back().name = dictionary[values[i].code];
  }
  int32_t none = -1, other = -1;
  if (has_none) {
    none = static_cast<int32_t>(b->groups.size());
    b->groups.emplace_back().name = "(none)";
  }
  if (values.size() > kept) {
    other = static_cast<int32_t>(b->groups.size());
    b->groups.emplace_back().name = "(other)";
    b->pooled_values = values.size() - kept;
  }
  std::vector<int32_t> group(revenue.size());
  for (size_t row = 0; row < revenue.size(); ++row) {
    const int32_t code = revenue.string_code(static_cast<size_t>(column), row);
    if (code < 0) {
      group[row] = none;
    } else {
      const int32_t g = group_of_code[static_cast<size_t>(code)];
      group[row] = g >= 0 ? g : other;
    }
  }
  return group;
}

}  // namespace

outcomes::RecordSchema RevenueSchema() {
  outcomes::RecordSchema schema;
  schema.columns = {{"start_arr", ColumnType::kDecimal},
                    {"end_arr", ColumnType::kDecimal},
                    {"expansion", ColumnType::kDecimal},
                    {"contraction", ColumnType::kDecimal},
                    {"contract_start", ColumnType::kDate},
                    {"churn_date", ColumnType::kDate},
                    {"reactivated", ColumnType::kBool},
                    {"reactivation_date", ColumnType::kDate},
                    {"first_value_date", ColumnType::kDate},
                    {"currency", ColumnType::kString}};
  schema.keep_other_columns = true;
  return schema;
}

absl::StatusOr<Period> ParsePeriod(std::string_view text) {
  const std::string_view t = common::Trim(text);
  const size_t dots = t.find("..");
  const std::string expected =
      Cat("--period \"", TruncateForDisplay(text),
          "\": expected two dates as YYYY-MM-DD..YYYY-MM-DD, e.g. "
          "2025-01-01..2025-12-31");
  if (dots == std::string_view::npos) {
    return absl::InvalidArgumentError(expected);
  }
  const std::string_view a = common::Trim(t.substr(0, dots));
  const std::string_view b = common::Trim(t.substr(dots + 2));
  double start = 0, end = 0;
  if (a.size() != 10 || b.size() != 10 || !eval::ParseIsoDate(a, &start) ||
      !eval::ParseIsoDate(b, &end)) {
    return absl::InvalidArgumentError(expected);
  }
  if (start > end) {
    return absl::InvalidArgumentError(
        Cat("--period \"", TruncateForDisplay(text), "\": it starts (", a,
            ") after it ends (", b, "); give the earlier date first"));
  }
  Period p;
  p.start = static_cast<int32_t>(start);
  p.end = static_cast<int32_t>(end);
  return p;
}

std::string FormatDay(int32_t day) { return eval::FormatIsoDate(day); }

absl::StatusOr<CurrencyRates> ReadRates(const std::string& path,
                                        std::string report_currency) {
  const std::string where = Cat("rates file ", TruncateForDisplay(path));
  if (report_currency.empty()) {
    return absl::InvalidArgumentError(
        Cat(where, ": conversion rates need a report currency "
                   "(--currency CODE)"));
  }
  HEALTHSCORE_ASSIGN_OR_RETURN(io::InputFormat format,
                               io::InputFormatFromPath(path));
  outcomes::RecordSchema schema;
  schema.columns = {{"rate", ColumnType::kDecimal}};
  outcomes::RecordReaderOptions options;
  options.reader.id_field = "currency";
  HEALTHSCORE_ASSIGN_OR_RETURN(
      RecordTable table,
      outcomes::ReadRecordFile(path, format, schema, options));
  // A rate that cannot be read would silently drop every amount in its
  // currency: each problem fails the file.
  for (const outcomes::ProblemList* problems :
       {&table.bad_records(), &table.bad_values(), &table.rounded_values()}) {
    if (problems->count == 0) continue;
    std::string text = problems->texts.empty() ? std::string("a bad record")
                                               : problems->texts.front();
    // Nothing is used as missing here: the whole file is refused.
    constexpr std::string_view kMissing = "; used as missing";
    if (text.size() >= kMissing.size() &&
        text.compare(text.size() - kMissing.size(), kMissing.size(),
                     kMissing) == 0) {
      text.resize(text.size() - kMissing.size());
    }
    return absl::InvalidArgumentError(
        Cat(where, ": ", text, "; every rate must be exact"));
  }
  if (table.duplicate_ids().count > 0) {
    return absl::InvalidArgumentError(
        Cat(where, ": currency ", table.duplicate_ids().texts.front()));
  }
  CurrencyRates rates;
  rates.report_currency = std::move(report_currency);
  for (size_t row = 0; row < table.size(); ++row) {
    const std::string currency(table.id(row));
    const std::string at = Cat(where, ": line ", table.line(row),
                               ": currency ", TruncateForDisplay(currency));
    if (!table.has(0, row)) {
      return absl::InvalidArgumentError(
          Cat(at, " has no rate; give report units per one ",
              TruncateForDisplay(currency)));
    }
    const Decimal rate = table.decimal(0, row);
    if (rate.is_negative() || rate.is_zero()) {
      return absl::InvalidArgumentError(
          Cat(at, ": the rate ", rate.ToString(), " is not positive"));
    }
    if (currency == rates.report_currency) {
      if (rate != Decimal::FromInt(1)) {
        return absl::InvalidArgumentError(
            Cat(at, " is the report currency, whose rate is 1, not ",
                rate.ToString()));
      }
      continue;
    }
    rates.rates.emplace(currency, rate);
  }
  return rates;
}

std::string_view AccountClassName(AccountClass c) {
  switch (c) {
    case AccountClass::kRetained:
      return "retained";
    case AccountClass::kReactivated:
      return "reactivated";
    case AccountClass::kChurned:
      return "churned";
    case AccountClass::kBadDates:
      return "bad_dates";
    case AccountClass::kNewInPeriod:
      return "new_in_period";
    case AccountClass::kChurnedBefore:
      return "churned_before";
    case AccountClass::kNoStartArr:
      return "no_start_arr";
    case AccountClass::kZeroStartArr:
      return "zero_start_arr";
    case AccountClass::kNegativeAmount:
      return "negative_amount";
    case AccountClass::kNoCurrency:
      return "no_currency";
    case AccountClass::kNoRate:
      return "no_rate";
    case AccountClass::kNoEndArr:
      return "no_end_arr";
  }
  return "unknown";
}

std::string_view AccountClassDescription(AccountClass c) {
  switch (c) {
    case AccountClass::kRetained:
      return "customers at the start still customers at the end";
    case AccountClass::kReactivated:
      return "churned within the period and back by its end";
    case AccountClass::kChurned:
      return "customers at the start lost within the period";
    case AccountClass::kBadDates:
      return "dates out of order (churn or reactivation before the contract "
             "start, a reactivation without an earlier churn): excluded";
    case AccountClass::kNewInPeriod:
      return "contract started after the period start: new business, not "
             "in the cohort";
    case AccountClass::kChurnedBefore:
      return "churned before the period start: not customers at the start";
    case AccountClass::kNoStartArr:
      return "no start_arr: excluded";
    case AccountClass::kZeroStartArr:
      return "start_arr of 0: excluded, or in the logo figures only "
             "(--zero-start-arr)";
    case AccountClass::kNegativeAmount:
      return "a negative start_arr, end_arr, expansion or contraction: "
             "excluded";
    case AccountClass::kNoCurrency:
      return "no currency in a file with a currency column: excluded";
    case AccountClass::kNoRate:
      return "a currency without a conversion rate: excluded";
    case AccountClass::kNoEndArr:
      return "no end_arr: excluded, taken as unchanged or as churned "
             "(--missing-end)";
  }
  return "";
}

double Flows::nrr() const {
  Decimal net = start_arr;
  if (!net.Add(expansion) || !net.Subtract(contraction) ||
      !net.Subtract(churned_arr)) {
    return NAN;
  }
  return common::Ratio(net, start_arr);
}

double Flows::grr() const {
  Decimal kept = start_arr;
  if (!kept.Subtract(contraction) || !kept.Subtract(churned_arr)) return NAN;
  const double r = common::Ratio(kept, start_arr);
  return r > 1 ? 1.0 : r;  // NaN stays NaN
}

double Flows::logo_retention() const { return Share(retained_logos, accounts); }

double Flows::logo_churn() const { return Share(churned_logos, accounts); }

double Flows::revenue_churn() const {
  Decimal lost = contraction;
  if (!lost.Add(churned_arr)) return NAN;
  return common::Ratio(lost, start_arr);
}

double Flows::net_revenue_churn() const {
  Decimal lost = contraction;
  if (!lost.Add(churned_arr) || !lost.Subtract(expansion)) return NAN;
  return common::Ratio(lost, start_arr);
}

double Flows::expansion_logo_rate() const {
  return Share(expanded_logos, accounts);
}

double Flows::expansion_arr_rate() const {
  return common::Ratio(expansion, start_arr);
}

absl::StatusOr<PortfolioReport> RunPortfolio(const RecordTable& revenue,
                                             const PortfolioOptions& options,
                                             const TierColumn* tiers) {
  HEALTHSCORE_RETURN_IF_ERROR(CheckSchema(revenue));
  const Period period = options.period;
  if (period.start > period.end) {
    return absl::InvalidArgumentError("the period starts after it ends");
  }
  if (options.cohort_months < 0 || options.cohort_months > kMaxCohortMonths) {
    return absl::InvalidArgumentError(
        Cat("--cohort-months ", options.cohort_months,
            ": expected a number of months from 0 to ", kMaxCohortMonths));
  }
  std::vector<int> by_columns;
  for (const std::string& name : options.by) {
    const int c = revenue.FindColumn(name);
    if (c < 0 || !revenue.column_in_file(static_cast<size_t>(c)) ||
        revenue.column_type(static_cast<size_t>(c)) != ColumnType::kString) {
      return absl::InvalidArgumentError(
          Cat("--by ", TruncateForDisplay(name),
              ": the revenue file has no such text column (it has: ",
              AttributeColumns(revenue), ")"));
    }
    by_columns.push_back(c);
  }
  const size_t n = revenue.size();
  if (tiers != nullptr) {
    if (tiers->row_tier.size() != n) {
      return absl::InvalidArgumentError(
          Cat("the tier column has ", tiers->row_tier.size(),
              " entries for ", n, " revenue records"));
    }
    for (int32_t t : tiers->row_tier) {
      if (t < -1 || t >= static_cast<int32_t>(tiers->names.size())) {
        return absl::InvalidArgumentError(
            Cat("the tier column names tier ", t, " of ",
                tiers->names.size()));
      }
    }
  }

  PortfolioReport report;
  report.period = period;
  report.reactivation = options.reactivation;
  report.missing_end = options.missing_end;
  report.zero_start = options.zero_start;
  report.overall.name = "all";
  report.records = n;
  report.bad_records = revenue.bad_records().count;
  report.bad_values = revenue.bad_values().count;
  report.rounded_values = revenue.rounded_values().count;
  report.duplicate_ids = revenue.duplicate_ids().count;
  for (const outcomes::ProblemList* problems :
       {&revenue.bad_records(), &revenue.bad_values(),
        &revenue.rounded_values(), &revenue.duplicate_ids()}) {
    for (const std::string& text : problems->texts) {
      if (report.problem_examples.size() >= options.max_examples) break;
      report.problem_examples.push_back(text);
    }
  }

  std::vector<Decimal> rate_of_code;
  std::vector<bool> has_rate;
  HEALTHSCORE_RETURN_IF_ERROR(ResolveCurrencies(revenue, options,
                                                &rate_of_code, &has_rate,
                                                &report));
  const bool currency_column = revenue.column_in_file(kCurrencyColumn);
  const bool components = revenue.column_in_file(kExpansionColumn) ||
                          revenue.column_in_file(kContractionColumn);

  // Classify every record.
  std::vector<Outcome> outcomes(n);
  std::vector<TtvEntry> ttv(n);
  for (size_t row = 0; row < n; ++row) {
    Outcome& o = outcomes[row];
    const int64_t contract_start = DateOf(revenue, kContractStartColumn, row);
    const int64_t churn = DateOf(revenue, kChurnDateColumn, row);
    const int64_t back = DateOf(revenue, kReactivationDateColumn, row);
    const int64_t first_value = DateOf(revenue, kFirstValueDateColumn, row);
    const bool flag_back = revenue.has(kReactivatedColumn, row) &&
                           revenue.flag(kReactivatedColumn, row);
    const bool has_start = revenue.has(kStartArrColumn, row);
    const bool has_end = revenue.has(kEndArrColumn, row);
    Decimal start = revenue.decimal(kStartArrColumn, row);
    Decimal end = revenue.decimal(kEndArrColumn, row);
    Decimal expansion = revenue.decimal(kExpansionColumn, row);
    Decimal contraction = revenue.decimal(kContractionColumn, row);

    // Time to first value, for every record started by the period end.
    if (contract_start != kNoDate && contract_start <= period.end) {
      TtvEntry& e = ttv[row];
      if (first_value != kNoDate && first_value < contract_start) {
        e.kind = 3;
      } else if (first_value != kNoDate && first_value <= period.end) {
        e.kind = 1;
        e.days = static_cast<int32_t>(first_value - contract_start);
      } else {
        // Not yet by the period end: waiting, with the days so far.
        e.kind = 2;
        e.days = static_cast<int32_t>(period.end - contract_start);
      }
    }

    const bool bad_dates =
        (contract_start != kNoDate &&
         ((churn != kNoDate && churn < contract_start) ||
          (back != kNoDate && back < contract_start))) ||
        (back != kNoDate && (churn == kNoDate || churn >= back));
    if (bad_dates) {
      o.cls = AccountClass::kBadDates;
      continue;
    }
    // The cohort curves take every account with a contract_start by the
    // period end (dates in order), weighted by its ARR in the report
    // currency: start_arr when positive, else end_arr.
    if (contract_start != kNoDate && contract_start <= period.end) {
      Decimal weight = has_start && !start.is_negative() && !start.is_zero()
                           ? start
                           : end;
      bool known = !weight.is_negative();
      if (known && currency_column) {
        const int32_t code = revenue.string_code(kCurrencyColumn, row);
        known = code >= 0 && has_rate[static_cast<size_t>(code)];
        if (known &&
            !weight.Multiply(rate_of_code[static_cast<size_t>(code)])) {
          return SumOverflow();
        }
      }
      o.in_curves = known;
      o.weight = weight;
    }

    // Whether the account churned within the period and whether it came
    // back (end_arr 0 means not a customer at the end, whatever else).
    const bool churn_in_period =
        churn != kNoDate && churn >= period.start && churn <= period.end;
    const bool end_zero = has_end && end.is_zero();
    const bool came_back =
        churn_in_period && !end_zero &&
        (flag_back || (back != kNoDate && back > churn && back <= period.end));
    const bool churned_now = (churn_in_period || end_zero) && !came_back;
    const bool as_churned =
        churned_now ||
        (came_back && options.reactivation == ReactivationRule::kChurned);

    if (contract_start != kNoDate && contract_start > period.start) {
      o.cls = AccountClass::kNewInPeriod;
      continue;
    }
    if (churn != kNoDate && churn < period.start &&
        !(back != kNoDate && back <= period.start)) {
      o.cls = AccountClass::kChurnedBefore;
      continue;
    }
    if (!has_start) {
      o.cls = AccountClass::kNoStartArr;
      continue;
    }
    if (start.is_zero()) {
      o.cls = AccountClass::kZeroStartArr;
      if (options.zero_start == ZeroStartRule::kLogosOnly) {
        // In the logos only: churned, back or retained by the same rules.
        if (as_churned) {
          o.in_logos = true;
          o.churned = true;
        } else if (came_back || has_end) {
          o.in_logos = true;
        } else {
          o.in_logos = options.missing_end != MissingEndRule::kExclude;
          o.churned = options.missing_end == MissingEndRule::kChurned;
        }
        o.reactivated = came_back && o.in_logos;
      }
      continue;
    }
    if (start.is_negative() || (has_end && end.is_negative()) ||
        expansion.is_negative() || contraction.is_negative()) {
      o.cls = AccountClass::kNegativeAmount;
      continue;
    }
    if (currency_column) {
      const int32_t code = revenue.string_code(kCurrencyColumn, row);
      if (code < 0) {
        o.cls = AccountClass::kNoCurrency;
        continue;
      }
      if (!has_rate[static_cast<size_t>(code)]) {
        o.cls = AccountClass::kNoRate;
        continue;
      }
      const Decimal& rate = rate_of_code[static_cast<size_t>(code)];
      if (rate != Decimal::FromInt(1) &&
          (!start.Multiply(rate) || !end.Multiply(rate) ||
           !expansion.Multiply(rate) || !contraction.Multiply(rate))) {
        return SumOverflow();
      }
    }
    o.start = start;
    if (as_churned) {
      o.cls = came_back ? AccountClass::kReactivated : AccountClass::kChurned;
    } else if (came_back && has_end) {
      o.cls = AccountClass::kReactivated;
    } else if (!has_end) {
      o.cls = AccountClass::kNoEndArr;
      if (options.missing_end == MissingEndRule::kExclude) continue;
    }
    o.in_logos = true;
    o.in_revenue = true;
    o.reactivated = came_back;
    if (as_churned ||
        (o.cls == AccountClass::kNoEndArr &&
         options.missing_end == MissingEndRule::kChurned)) {
      o.churned = true;
      o.churned_arr = start;
      if (churned_now && has_end && !end.is_zero()) {
        AddExample(revenue, row, options.max_examples,
                   &report.end_arr_after_churn);
      }
      continue;
    }
    if (o.cls == AccountClass::kNoEndArr) continue;  // kFlat: unchanged
    if (components) {
      o.expansion = expansion;
      o.contraction = contraction;
      Decimal implied = start;
      if (!implied.Add(expansion) || !implied.Subtract(contraction)) {
        return SumOverflow();
      }
      if (implied != end) {
        AddExample(revenue, row, options.max_examples,
                   &report.components_disagree);
      }
    } else {
      Decimal change = end;
      if (!change.Subtract(start)) return SumOverflow();
      if (change.is_negative()) {
        o.contraction = start;
        o.contraction.Subtract(end);  // start > end >= 0: no overflow
      } else {
        o.expansion = change;
      }
    }
  }

  // Overall figures and classes.
  TtvDays overall_ttv;
  for (size_t row = 0; row < n; ++row) {
    if (!AddOutcome(outcomes[row], &report.overall)) return SumOverflow();
    AddExample(revenue, row, options.max_examples,
               &report.classes[static_cast<size_t>(outcomes[row].cls)]);
    AddTtv(ttv[row], &overall_ttv);
  }
  if (!FinishFlows(&report.overall.flows)) return SumOverflow();
  overall_ttv.Summarise(&report.overall.ttv);
  report.ttv_days.assign(overall_ttv.reached.begin(),
                         overall_ttv.reached.end());

  // Breakdowns: per row its group, then the same sums per group.
  auto fill = [&](const std::vector<int32_t>& group,
                  Breakdown* b) -> absl::Status {
    std::vector<TtvDays> days(b->groups.size());
    for (size_t row = 0; row < n; ++row) {
      const int32_t g = group[row];
      if (g < 0) continue;
      if (!AddOutcome(outcomes[row], &b->groups[g])) return SumOverflow();
      AddTtv(ttv[row], &days[g]);
    }
    for (size_t g = 0; g < b->groups.size(); ++g) {
      if (!FinishFlows(&b->groups[g].flows)) return SumOverflow();
      days[g].Summarise(&b->groups[g].ttv);
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < by_columns.size(); ++i) {
    Breakdown& b = report.breakdowns.emplace_back();
    b.by = options.by[i];
    const std::vector<int32_t> group = AttributeGroups(
        revenue, by_columns[i], outcomes, options.max_groups, &b);
    HEALTHSCORE_RETURN_IF_ERROR(fill(group, &b));
  }
  if (tiers != nullptr) {
    Breakdown& b = report.breakdowns.emplace_back();
    b.by = "tier";
    b.tiers = true;
    report.tier_source = tiers->source;
    report.tier_notes = tiers->notes;
    for (size_t t = 0; t < tiers->names.size(); ++t) {
      GroupFigures& g = b.groups.emplace_back();
      g.name = tiers->names[t];
      if (t < tiers->colors.size()) g.color = tiers->colors[t];
    }
    std::vector<int32_t> group(tiers->row_tier);
    for (int32_t& g : group) {
      if (g >= 0) continue;
      ++report.without_tier;
      g = static_cast<int32_t>(tiers->names.size());
    }
    if (report.without_tier > 0) b.groups.emplace_back().name = "(no tier)";
    HEALTHSCORE_RETURN_IF_ERROR(fill(group, &b));
  }

  // Cohort curves, by the calendar month of contract_start.
  struct CohortSums {
    uint64_t accounts = 0;
    Decimal arr;
    int observable = kMaxCohortMonths;  // months every account was seen
    std::vector<uint64_t> active;
    std::vector<Decimal> active_arr;
  };
  std::map<int64_t, CohortSums> cohorts;
  const size_t months = static_cast<size_t>(options.cohort_months) + 1;
  for (size_t row = 0; row < n; ++row) {
    const Outcome& o = outcomes[row];
    if (!o.in_curves) continue;
    const int64_t contract_start = DateOf(revenue, kContractStartColumn, row);
    const int64_t churn = DateOf(revenue, kChurnDateColumn, row);
    const int64_t back = DateOf(revenue, kReactivationDateColumn, row);
    const bool flag_back = revenue.has(kReactivatedColumn, row) &&
                           revenue.flag(kReactivatedColumn, row);
    const Civil c = CivilFromDays(contract_start);
    CohortSums& s = cohorts[c.year * 12 + (c.month - 1)];
    if (s.active.empty()) {
      s.active.assign(months, 0);
      s.active_arr.assign(months, Decimal());
    }
    ++s.accounts;
    if (!s.arr.Add(o.weight)) return SumOverflow();
    int seen = 0;
    const int64_t first_month = c.year * 12 + (c.month - 1);
    for (size_t k = 0; k < months; ++k) {
      // contract_start + k months, the day clamped to the month's length.
      const int64_t index = first_month + static_cast<int64_t>(k);
      const int64_t year = index >= 0 ? index / 12 : (index - 11) / 12;
      const int month = static_cast<int>(index - year * 12) + 1;
      const int64_t day = DaysFromCivil(
          year, month, std::min(c.day, DaysInMonth(year, month)));
      if (day > period.end) break;
      seen = static_cast<int>(k);
      // Inactive from the churn date until the reactivation date (if
      // any); reactivated without a date: active throughout.
      const bool active = churn == kNoDate || day < churn ||
                          (back != kNoDate && day >= back) ||
                          (back == kNoDate && flag_back);
      if (!active) continue;
      ++s.active[k];
      if (!s.active_arr[k].Add(o.weight)) return SumOverflow();
    }
    s.observable = std::min(s.observable, seen);
  }
  for (auto& [index, s] : cohorts) {
    CohortCurve& curve = report.cohorts.emplace_back();
    const int64_t year = index >= 0 ? index / 12 : (index - 11) / 12;
    const int month = static_cast<int>(index - year * 12) + 1;
    // "YYYY-MM" of the first day of the month.
    curve.month = FormatDay(static_cast<int32_t>(DaysFromCivil(year, month, 1)))
                      .substr(0, 7);
    curve.accounts = s.accounts;
    curve.arr = s.arr;
    const size_t shown =
        std::min(months, static_cast<size_t>(s.observable) + 1);
    for (size_t k = 0; k < shown; ++k) {
      curve.logo_share.push_back(Share(s.active[k], s.accounts));
      curve.revenue_share.push_back(common::Ratio(s.active_arr[k], s.arr));
    }
  }
  return report;
}

}  // namespace healthscore::engine::portfolio
