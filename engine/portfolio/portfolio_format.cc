// The presentations of a PortfolioReport. Every figure comes from the
// report; nothing is computed here but display rounding.

#include "engine/portfolio/portfolio_format.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/display.h"
#include "engine/common/json_writer.h"
#include "engine/common/text_table.h"
#include "engine/io/result_writer.h"

namespace healthscore::engine::portfolio {
namespace {

using common::Decimal;
using common::JsonWriter;
using common::TextTable;

// Names from files (attribute values, tiers, ids) are untrusted and may be
// long: shown through TruncateForDisplay, at this length in tables.
constexpr size_t kNameBytes = 40;
// Months of a cohort curve shown in the text table (all are in JSON).
constexpr int kTextMonths[] = {0, 1, 2, 3, 6, 9, 12, 18, 24, 36, 48, 60};
// Cohort curves drawn in the report (the latest months); all are tabled.
constexpr size_t kChartCohorts = 12;
// Start months in the text table (the latest); all are in JSON and the
// report.
constexpr size_t kTextCohorts = 24;

std::string Pct(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return absl::StrFormat("%.1f%%", 100 * fraction);
}

std::string Count(uint64_t n) { return common::WithThousandsSeparators(n); }

std::string Days(double days) {
  if (!std::isfinite(days)) return "-";
  return absl::StrFormat("%.1f", days);
}

// An amount rounded to cents, digits grouped: "12,345,678.90".
std::string Money(const Decimal& amount) {
  std::string fixed = amount.ToFixed(2);
  std::string sign;
  if (!fixed.empty() && fixed[0] == '-') {
    sign = "-";
    fixed.erase(0, 1);
  }
  const size_t point = fixed.find('.');
  const std::string whole = fixed.substr(0, point);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  return absl::StrCat(sign, grouped,
                      point == std::string::npos ? "" : fixed.substr(point));
}

std::string Name(std::string_view name) {
  return common::TruncateForDisplay(name, kNameBytes);
}

const char* ReactivationName(ReactivationRule rule) {
  return rule == ReactivationRule::kRetained ? "retained" : "churned";
}
const char* MissingEndName(MissingEndRule rule) {
  switch (rule) {
    case MissingEndRule::kExclude:
      return "exclude";
    case MissingEndRule::kFlat:
      return "flat";
    case MissingEndRule::kChurned:
      return "churned";
  }
  return "exclude";
}
const char* ZeroStartName(ZeroStartRule rule) {
  return rule == ZeroStartRule::kExclude ? "exclude" : "logos";
}

std::string PeriodText(const Period& period) {
  return absl::StrCat(FormatDay(period.start), "..", FormatDay(period.end));
}

std::string RulesText(const PortfolioReport& r) {
  return absl::StrCat(
      "churned-and-returned accounts ",
      r.reactivation == ReactivationRule::kRetained
          ? "retained"
          : "churned (their return is new business)",
      "; missing end ARR ",
      r.missing_end == MissingEndRule::kExclude ? "excluded"
      : r.missing_end == MissingEndRule::kFlat  ? "taken as unchanged"
                                                : "taken as churned",
      "; zero start ARR ",
      r.zero_start == ZeroStartRule::kExclude ? "excluded"
                                              : "counted in logos only");
}

// The classes that make up the cohort, shown even when zero.
bool InCohort(AccountClass c) {
  return c == AccountClass::kRetained || c == AccountClass::kReactivated ||
         c == AccountClass::kChurned;
}

// Records without a tier, and how many of them are in the cohort.
std::string WithoutTierText(const PortfolioReport& r, const Breakdown& b) {
  uint64_t in_cohort = 0;
  for (const GroupFigures& g : b.groups) {
    if (g.name == "(no tier)") in_cohort = g.flows.accounts;
  }
  return absl::StrCat(Count(r.without_tier), " records without a tier (",
                      Count(in_cohort), " of them in the cohort)");
}

std::string GroupTitle(const Breakdown& b) {
  return b.tiers ? "By health tier at the period start"
                 : absl::StrCat("By ", Name(b.by));
}

// ---- Text -----------------------------------------------------------------

void AppendFlowsText(const Flows& f, const std::string& currency,
                     std::string* out) {
  absl::StrAppend(out, "  NRR ", Pct(f.nrr()), "   GRR ", Pct(f.grr()),
                  "   logo retention ", Pct(f.logo_retention()),
                  "   logo churn ", Pct(f.logo_churn()), "\n  revenue churn ",
                  Pct(f.revenue_churn()), " (net ", Pct(f.net_revenue_churn()),
                  ")   expansion: ", Pct(f.expansion_logo_rate()),
                  " of accounts, ", Pct(f.expansion_arr_rate()),
                  " of start ARR\n");
  const std::string unit = currency.empty() ? "" : absl::StrCat(" ", currency);
  absl::StrAppend(out, "  start ARR ", Money(f.start_arr), " + expansion ",
                  Money(f.expansion), " - contraction ", Money(f.contraction),
                  " - churned ", Money(f.churned_arr), " = end ARR ",
                  Money(f.end_arr), unit, "\n");
}

void AppendBreakdownText(const Breakdown& b, std::string* out) {
  std::vector<std::vector<std::string>> rows = {
      {b.tiers ? "tier" : Name(b.by), "accounts", "logo ret.", "logo churn",
       "NRR", "GRR", "expansion", "start ARR", "end ARR"}};
  for (const GroupFigures& g : b.groups) {
    const Flows& f = g.flows;
    rows.push_back({Name(g.name), Count(f.accounts), Pct(f.logo_retention()),
                    Pct(f.logo_churn()), Pct(f.nrr()), Pct(f.grr()),
                    Pct(f.expansion_arr_rate()), Money(f.start_arr),
                    Money(f.end_arr)});
  }
  absl::StrAppend(out, "\n", GroupTitle(b), "\n", TextTable(rows, "  "));
  if (b.pooled_values > 0) {
    absl::StrAppend(out, "  (", Count(b.pooled_values),
                    " more values pooled in \"(other)\")\n");
  }
}

void AppendTtvText(const PortfolioReport& r, std::string* out) {
  std::vector<std::vector<std::string>> rows = {
      {"group", "reached", "p25", "median", "p75", "waiting", "waited"}};
  auto add = [&](const std::string& name, const TimeToValue& t) {
    rows.push_back({name, Count(t.reached), Days(t.p25), Days(t.median),
                    Days(t.p75), Count(t.waiting), Days(t.waiting_median)});
  };
  add("all", r.overall.ttv);
  for (const Breakdown& b : r.breakdowns) {
    for (const GroupFigures& g : b.groups) {
      add(absl::StrCat(b.tiers ? "tier" : Name(b.by), "=", Name(g.name)),
          g.ttv);
    }
  }
  absl::StrAppend(out,
                  "\nTime to first value (days from contract_start to "
                  "first_value_date; waited: median days so far of those "
                  "still waiting)\n",
                  TextTable(rows, "  "));
}

void AppendCohortText(const PortfolioReport& r, std::string* out) {
  if (r.cohorts.empty()) return;
  std::vector<int> months;
  size_t longest = 0;
  for (const CohortCurve& c : r.cohorts) {
    longest = std::max(longest, c.logo_share.size());
  }
  for (int m : kTextMonths) {
    if (static_cast<size_t>(m) < longest) months.push_back(m);
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"start month", "accounts"};
  for (int m : months) header.push_back(absl::StrCat("m", m));
  rows.push_back(header);
  const size_t first =
      r.cohorts.size() > kTextCohorts ? r.cohorts.size() - kTextCohorts : 0;
  for (size_t i = first; i < r.cohorts.size(); ++i) {
    const CohortCurve& c = r.cohorts[i];
    std::vector<std::string> row = {c.month, Count(c.accounts)};
    for (int m : months) {
      row.push_back(static_cast<size_t>(m) < c.logo_share.size()
                        ? Pct(c.logo_share[m])
                        : "");
    }
    rows.push_back(std::move(row));
  }
  absl::StrAppend(out,
                  "\nCohort retention: accounts still active m months after "
                  "their contract_start, by start month\n",
                  TextTable(rows, "  "));
  if (first > 0) {
    absl::StrAppend(out, "  (", first,
                    " earlier start months in --format json and the report)\n");
  }
}

// " (a, b, c, … and 2,617 more)": the first ids, and how many more the
// class has (not how many more ids were kept).
std::string ExampleList(const Examples& e, size_t shown = 3) {
  std::vector<std::string> ids(e.ids.begin(),
                               e.ids.begin() + std::min(shown, e.ids.size()));
  std::string text = common::JoinForDisplay(ids, shown, kNameBytes);
  if (e.count > ids.size()) {
    absl::StrAppend(&text, ids.empty() ? "" : ", ", "… and ",
                    Count(e.count - ids.size()), " more");
  }
  return text;
}

void AppendExamples(const Examples& e, std::string* out) {
  if (e.ids.empty()) return;
  absl::StrAppend(out, " (", ExampleList(e), ")");
}

// ---- JSON -----------------------------------------------------------------

void AmountField(std::string_view key, const Decimal& amount, JsonWriter* j) {
  j->Key(key);
  j->Raw(amount.ToString());
}

void ExamplesJson(const Examples& e, JsonWriter* j) {
  j->Open('{');
  j->IntField("count", static_cast<int64_t>(e.count));
  j->Key("examples");
  j->Open('[');
  for (const std::string& id : e.ids) j->String(id);
  j->Close(']');
  j->Close('}');
}

void TtvJson(const TimeToValue& t, JsonWriter* j) {
  j->Open('{');
  j->IntField("reached", static_cast<int64_t>(t.reached));
  j->IntField("waiting", static_cast<int64_t>(t.waiting));
  j->Field("p25", t.p25);
  j->Field("median", t.median);
  j->Field("p75", t.p75);
  j->Field("waiting_median", t.waiting_median);
  j->Close('}');
}

void GroupJson(const GroupFigures& g, JsonWriter* j) {
  const Flows& f = g.flows;
  j->Open('{');
  j->StringField("name", g.name);
  if (!g.color.empty()) j->StringField("color", g.color);
  j->IntField("accounts", static_cast<int64_t>(f.accounts));
  j->IntField("retained_logos", static_cast<int64_t>(f.retained_logos));
  j->IntField("churned_logos", static_cast<int64_t>(f.churned_logos));
  j->IntField("reactivated_logos", static_cast<int64_t>(f.reactivated_logos));
  j->IntField("expanded_logos", static_cast<int64_t>(f.expanded_logos));
  j->IntField("contracted_logos", static_cast<int64_t>(f.contracted_logos));
  AmountField("start_arr", f.start_arr, j);
  AmountField("expansion", f.expansion, j);
  AmountField("contraction", f.contraction, j);
  AmountField("churned_arr", f.churned_arr, j);
  AmountField("end_arr", f.end_arr, j);
  j->Field("nrr", f.nrr());
  j->Field("grr", f.grr());
  j->Field("logo_retention", f.logo_retention());
  j->Field("logo_churn", f.logo_churn());
  j->Field("revenue_churn", f.revenue_churn());
  j->Field("net_revenue_churn", f.net_revenue_churn());
  j->Field("expansion_logo_rate", f.expansion_logo_rate());
  j->Field("expansion_arr_rate", f.expansion_arr_rate());
  j->Key("time_to_value");
  TtvJson(g.ttv, j);
  j->Key("records");
  j->Open('{');
  for (size_t c = 0; c < kAccountClassCount; ++c) {
    j->IntField(AccountClassName(static_cast<AccountClass>(c)),
                static_cast<int64_t>(g.classes[c]));
  }
  j->Close('}');
  j->Close('}');
}

// ---- CSV ------------------------------------------------------------------

void CsvNumber(double x, common::NumberFormat numbers, std::string* out) {
  out->push_back(',');
  if (std::isfinite(x)) common::AppendNumber(x, out, numbers);
}

void AppendCsvGroup(std::string_view breakdown, const GroupFigures& g,
                    common::NumberFormat numbers, std::string* out) {
  const Flows& f = g.flows;
  io::AppendCsvCell(breakdown, out);
  out->push_back(',');
  io::AppendCsvCell(g.name, out);
  for (uint64_t n :
       {f.accounts, f.retained_logos, f.churned_logos, f.reactivated_logos,
        f.expanded_logos, f.contracted_logos}) {
    absl::StrAppend(out, ",", n);
  }
  for (const Decimal* d : {&f.start_arr, &f.expansion, &f.contraction,
                           &f.churned_arr, &f.end_arr}) {
    absl::StrAppend(out, ",", d->ToString());
  }
  for (double x : {f.nrr(), f.grr(), f.logo_retention(), f.logo_churn(),
                   f.revenue_churn(), f.net_revenue_churn(),
                   f.expansion_logo_rate(), f.expansion_arr_rate()}) {
    CsvNumber(x, numbers, out);
  }
  absl::StrAppend(out, ",", g.ttv.reached, ",", g.ttv.waiting);
  for (double x : {g.ttv.p25, g.ttv.median, g.ttv.p75, g.ttv.waiting_median}) {
    CsvNumber(x, numbers, out);
  }
  out->push_back('\n');
}

// ---- Document -------------------------------------------------------------

report::Value PercentValue(double fraction) {
  return report::Value::Percent(fraction, 4);
}

report::Value AmountValue(const Decimal& d) {
  return report::Value::Amount(Money(d), d.ToDouble());
}

report::Table GroupTable(const Breakdown& b) {
  report::Table t;
  t.caption = GroupTitle(b);
  t.header = {b.tiers ? "Tier" : b.by,
              "Accounts",
              "Logo retention",
              "Logo churn",
              "NRR",
              "GRR",
              "Expansion (ARR)",
              "Start ARR",
              "End ARR"};
  for (const GroupFigures& g : b.groups) {
    const Flows& f = g.flows;
    t.rows.push_back({report::Cell(report::Value::Text(g.name), g.color),
                      report::Value::Count(static_cast<int64_t>(f.accounts)),
                      PercentValue(f.logo_retention()),
                      PercentValue(f.logo_churn()), PercentValue(f.nrr()),
                      PercentValue(f.grr()),
                      PercentValue(f.expansion_arr_rate()),
                      AmountValue(f.start_arr), AmountValue(f.end_arr)});
  }
  if (b.pooled_values > 0) {
    t.note = absl::StrCat(Count(b.pooled_values),
                          " more values are pooled in \"(other)\".");
  }
  return t;
}

report::BarChart RetentionChart(const Breakdown& b, std::string id) {
  report::BarChart chart;
  chart.id = std::move(id);
  chart.title = absl::StrCat(
      "NRR and GRR ", b.tiers ? "by health tier" : absl::StrCat("by ", b.by));
  chart.category_title = b.tiers ? "Tier at the period start" : b.by;
  chart.y.title = "Share of start ARR kept";
  chart.y.percent = true;
  report::BarSeries nrr;
  nrr.name = "NRR";
  report::BarSeries grr;
  grr.name = "GRR";
  bool colored = b.tiers;
  for (const GroupFigures& g : b.groups) {
    chart.categories.push_back(g.name);
    nrr.values.push_back(g.flows.nrr());
    grr.values.push_back(g.flows.grr());
    nrr.colors.push_back(g.color);
    colored = colored && !g.color.empty();
  }
  if (!colored) nrr.colors.clear();
  chart.series = {std::move(nrr), std::move(grr)};
  chart.value_labels = b.groups.size() <= 12;
  return chart;
}

report::LineChart CohortChart(const PortfolioReport& r, bool revenue) {
  report::LineChart chart;
  chart.id = revenue ? "cohort-revenue" : "cohort-logos";
  chart.title = revenue ? "Cohort retention, revenue-weighted"
                        : "Cohort retention, accounts";
  chart.x.title = "Months after contract start";
  chart.y.title = revenue ? "Share of the cohort's ARR still active"
                          : "Share of the cohort's accounts still active";
  chart.y.percent = true;
  chart.y.min = 0;
  chart.y.max = 1;
  const size_t first =
      r.cohorts.size() > kChartCohorts ? r.cohorts.size() - kChartCohorts : 0;
  for (size_t i = first; i < r.cohorts.size(); ++i) {
    const CohortCurve& c = r.cohorts[i];
    report::Series s;
    s.name = c.month;
    const std::vector<double>& share = revenue ? c.revenue_share : c.logo_share;
    for (size_t m = 0; m < share.size(); ++m) {
      s.points.push_back({static_cast<double>(m), share[m]});
    }
    s.step = true;
    chart.series.push_back(std::move(s));
  }
  if (first > 0) {
    chart.note =
        absl::StrCat("The latest ", kChartCohorts, " of ", r.cohorts.size(),
                     " start months are drawn; all are in the table.");
  }
  return chart;
}

}  // namespace

std::string FormatPortfolioText(const PortfolioReport& r) {
  std::string out;
  absl::StrAppend(&out, "Portfolio ", PeriodText(r.period));
  if (!r.currency.empty()) {
    absl::StrAppend(&out, ", amounts in ", r.currency);
    if (r.currencies.size() > 1) {
      absl::StrAppend(&out, " (converted from ",
                      common::JoinForDisplay(r.currencies, 10, 16), ")");
    }
  }
  absl::StrAppend(&out, "\nRules: ", RulesText(r), "\n");

  const Flows& f = r.overall.flows;
  absl::StrAppend(&out, "\nCohort at the period start: ", Count(f.accounts),
                  " accounts (", Count(f.retained_logos), " retained, ",
                  Count(f.churned_logos), " churned, ",
                  Count(f.reactivated_logos), " of them back after a churn)\n");
  AppendFlowsText(f, r.currency, &out);

  absl::StrAppend(&out, "\nRecords: ", Count(r.records), " read\n");
  // Name and count aligned as a table; the meaning after them, left-aligned.
  std::vector<std::vector<std::string>> classes;
  std::vector<std::string> meanings;
  for (size_t c = 0; c < kAccountClassCount; ++c) {
    const AccountClass cls = static_cast<AccountClass>(c);
    const Examples& e = r.classes[c];
    if (e.count == 0 && !InCohort(cls)) continue;
    classes.push_back({std::string(AccountClassName(cls)), Count(e.count)});
    std::string what(AccountClassDescription(cls));
    AppendExamples(e, &what);
    meanings.push_back(std::move(what));
  }
  const std::string table = TextTable(classes, "  ");
  size_t line_start = 0;
  for (const std::string& meaning : meanings) {
    const size_t line_end = table.find('\n', line_start);
    absl::StrAppend(&out, table.substr(line_start, line_end - line_start), "  ",
                    meaning, "\n");
    line_start = line_end + 1;
  }
  if (r.components_disagree.count > 0) {
    absl::StrAppend(&out, "  warning: ", Count(r.components_disagree.count),
                    " records whose expansion and contraction do not add up "
                    "to end_arr (the components were used)");
    AppendExamples(r.components_disagree, &out);
    out += "\n";
  }
  if (r.end_arr_after_churn.count > 0) {
    absl::StrAppend(&out, "  warning: ", Count(r.end_arr_after_churn.count),
                    " churned records with an end_arr above 0 and no "
                    "reactivation (counted as churned)");
    AppendExamples(r.end_arr_after_churn, &out);
    out += "\n";
  }
  if (r.bad_records + r.bad_values + r.rounded_values + r.duplicate_ids > 0) {
    absl::StrAppend(&out, "  reading: ", Count(r.bad_records), " bad records, ",
                    Count(r.bad_values), " bad values, ",
                    Count(r.duplicate_ids), " duplicated ids, ",
                    Count(r.rounded_values),
                    " amounts rounded past 12 decimals\n");
    for (const std::string& text : r.problem_examples) {
      absl::StrAppend(&out, "    ", common::TruncateForDisplay(text), "\n");
    }
  }

  for (const Breakdown& b : r.breakdowns) {
    AppendBreakdownText(b, &out);
    if (b.tiers) {
      absl::StrAppend(&out, "  tiers from ", r.tier_source, "; ",
                      WithoutTierText(r, b), "\n");
      for (const std::string& note : r.tier_notes) {
        absl::StrAppend(&out, "  note: ", note, "\n");
      }
    }
  }
  AppendTtvText(r, &out);
  AppendCohortText(r, &out);
  return out;
}

std::string PortfolioJson(const PortfolioReport& r,
                          common::NumberFormat numbers) {
  JsonWriter j(numbers);
  j.Open('{');
  j.Key("period");
  j.Open('{');
  j.StringField("start", FormatDay(r.period.start));
  j.StringField("end", FormatDay(r.period.end));
  j.Close('}');
  if (!r.currency.empty()) j.StringField("currency", r.currency);
  j.Key("currencies");
  j.Open('[');
  for (const std::string& c : r.currencies) j.String(c);
  j.Close(']');
  j.Key("rules");
  j.Open('{');
  j.StringField("reactivated", ReactivationName(r.reactivation));
  j.StringField("missing_end", MissingEndName(r.missing_end));
  j.StringField("zero_start_arr", ZeroStartName(r.zero_start));
  j.Close('}');
  j.Key("overall");
  GroupJson(r.overall, &j);
  j.Key("breakdowns");
  j.Open('[');
  for (const Breakdown& b : r.breakdowns) {
    j.Open('{');
    j.StringField("by", b.by);
    j.Key("tiers");
    j.Bool(b.tiers);
    j.IntField("pooled_values", static_cast<int64_t>(b.pooled_values));
    j.Key("groups");
    j.Open('[');
    for (const GroupFigures& g : b.groups) GroupJson(g, &j);
    j.Close(']');
    j.Close('}');
  }
  j.Close(']');
  j.Key("cohorts");
  j.Open('[');
  for (const CohortCurve& c : r.cohorts) {
    j.Open('{');
    j.StringField("month", c.month);
    j.IntField("accounts", static_cast<int64_t>(c.accounts));
    AmountField("arr", c.arr, &j);
    j.Key("logo_share");
    j.Open('[');
    for (double x : c.logo_share) j.Number(x);
    j.Close(']');
    j.Key("revenue_share");
    j.Open('[');
    for (double x : c.revenue_share) j.Number(x);
    j.Close(']');
    j.Close('}');
  }
  j.Close(']');
  j.Key("records");
  j.Open('{');
  j.IntField("kept", static_cast<int64_t>(r.records));
  j.IntField("bad_records", static_cast<int64_t>(r.bad_records));
  j.IntField("bad_values", static_cast<int64_t>(r.bad_values));
  j.IntField("rounded_values", static_cast<int64_t>(r.rounded_values));
  j.IntField("duplicate_ids", static_cast<int64_t>(r.duplicate_ids));
  j.Key("problems");
  j.Open('[');
  for (const std::string& text : r.problem_examples) j.String(text);
  j.Close(']');
  j.Key("classes");
  j.Open('{');
  for (size_t c = 0; c < kAccountClassCount; ++c) {
    j.Key(AccountClassName(static_cast<AccountClass>(c)));
    ExamplesJson(r.classes[c], &j);
  }
  j.Close('}');
  j.Key("components_disagree");
  ExamplesJson(r.components_disagree, &j);
  j.Key("end_arr_after_churn");
  ExamplesJson(r.end_arr_after_churn, &j);
  j.Close('}');
  if (!r.tier_source.empty()) {
    j.Key("tiers");
    j.Open('{');
    j.StringField("source", r.tier_source);
    j.IntField("without_tier", static_cast<int64_t>(r.without_tier));
    j.Key("notes");
    j.Open('[');
    for (const std::string& note : r.tier_notes) j.String(note);
    j.Close(']');
    j.Close('}');
  }
  j.Close('}');
  std::string out = j.Take();
  out.push_back('\n');
  return out;
}

std::string PortfolioCsv(const PortfolioReport& r,
                         common::NumberFormat numbers) {
  std::string out =
      "breakdown,group,accounts,retained_logos,churned_logos,"
      "reactivated_logos,expanded_logos,contracted_logos,start_arr,expansion,"
      "contraction,churned_arr,end_arr,nrr,grr,logo_retention,logo_churn,"
      "revenue_churn,net_revenue_churn,expansion_logo_rate,expansion_arr_rate,"
      "ttv_reached,ttv_waiting,ttv_p25,ttv_median,ttv_p75,"
      "ttv_waiting_median\n";
  AppendCsvGroup("all", r.overall, numbers, &out);
  for (const Breakdown& b : r.breakdowns) {
    for (const GroupFigures& g : b.groups) {
      AppendCsvGroup(b.tiers ? "tier" : b.by, g, numbers, &out);
    }
  }
  return out;
}

report::Document PortfolioDocument(
    const PortfolioReport& r,
    std::vector<std::pair<std::string, std::string>> meta) {
  report::Document doc;
  doc.title = absl::StrCat("Portfolio outcomes ", PeriodText(r.period));
  doc.subtitle =
      "Net and gross revenue retention, logo retention and churn of the "
      "accounts that were customers at the period start, by health tier and "
      "segment; time to first value; cohort retention.";
  doc.meta = std::move(meta);
  doc.meta.emplace_back("Period", PeriodText(r.period));
  if (!r.currency.empty()) doc.meta.emplace_back("Currency", r.currency);
  doc.meta.emplace_back("Rules", RulesText(r));
  doc.footer = "healthscore portfolio";

  const Flows& f = r.overall.flows;
  {
    report::Section& s = doc.sections.emplace_back();
    s.heading = "Overview";
    report::KeyFigures figures;
    figures.figures = {
        {"NRR", PercentValue(f.nrr()), std::nullopt,
         "start + expansion - contraction - churn, over start ARR", ""},
        {"GRR", PercentValue(f.grr()), std::nullopt,
         "start - contraction - churn, over start ARR", ""},
        {"Logo retention", PercentValue(f.logo_retention()), std::nullopt,
         absl::StrCat(Count(f.retained_logos), " of ", Count(f.accounts),
                      " accounts"),
         ""},
        {"Logo churn", PercentValue(f.logo_churn()), std::nullopt,
         absl::StrCat(Count(f.churned_logos), " accounts lost"), ""},
        {"Expansion", PercentValue(f.expansion_arr_rate()), std::nullopt,
         absl::StrCat(Pct(f.expansion_logo_rate()), " of accounts expanded"),
         ""}};
    s.blocks.push_back(std::move(figures));
    report::Table flows;
    flows.caption = "Revenue of the cohort";
    flows.header = {"", r.currency.empty() ? "Amount" : r.currency};
    flows.rows = {
        {report::Value::Text("Start ARR"), AmountValue(f.start_arr)},
        {report::Value::Text("+ Expansion"), AmountValue(f.expansion)},
        {report::Value::Text("- Contraction"), AmountValue(f.contraction)},
        {report::Value::Text("- Churned ARR"), AmountValue(f.churned_arr)},
        {report::Value::Text("= End ARR"), AmountValue(f.end_arr)}};
    s.blocks.push_back(std::move(flows));
    report::Table classes;
    classes.caption = "How each record counts";
    classes.header = {"Class", "Records", "Meaning", "Examples"};
    for (size_t c = 0; c < kAccountClassCount; ++c) {
      const AccountClass cls = static_cast<AccountClass>(c);
      const Examples& e = r.classes[c];
      if (e.count == 0 && !InCohort(cls)) continue;
      classes.rows.push_back(
          {report::Value::Text(AccountClassName(cls)),
           report::Value::Count(static_cast<int64_t>(e.count)),
           report::Value::Text(AccountClassDescription(cls)),
           report::Value::Text(ExampleList(e, 5))});
    }
    s.blocks.push_back(std::move(classes));
    std::string problems;
    if (r.components_disagree.count > 0) {
      absl::StrAppend(&problems, Count(r.components_disagree.count),
                      " records' expansion and contraction do not add up to "
                      "their end_arr; the components were used.\n");
    }
    if (r.end_arr_after_churn.count > 0) {
      absl::StrAppend(&problems, Count(r.end_arr_after_churn.count),
                      " churned records have an end_arr above 0 and no "
                      "reactivation; they count as churned.\n");
    }
    if (r.bad_records + r.bad_values + r.duplicate_ids + r.rounded_values > 0) {
      absl::StrAppend(
          &problems, "Reading the revenue file: ", Count(r.bad_records),
          " bad records, ", Count(r.bad_values), " bad values, ",
          Count(r.duplicate_ids), " duplicated ids, ", Count(r.rounded_values),
          " amounts rounded past 12 decimals.");
      for (const std::string& text : r.problem_examples) {
        absl::StrAppend(&problems, "\n", text);
      }
    }
    if (!problems.empty())
      s.blocks.push_back(report::Paragraph{problems, true});
  }

  int chart = 0;
  for (const Breakdown& b : r.breakdowns) {
    report::Section& s = doc.sections.emplace_back();
    s.heading = GroupTitle(b);
    if (b.tiers) {
      std::string text =
          absl::StrCat("Each account in the tier it had at the period start (",
                       r.tier_source, "); ", WithoutTierText(r, b), ".");
      for (const std::string& note : r.tier_notes) {
        absl::StrAppend(&text, "\n", note);
      }
      s.blocks.push_back(report::Paragraph{text, true});
    }
    s.blocks.push_back(
        RetentionChart(b, b.tiers ? "retention-by-tier"
                                  : absl::StrCat("retention-by-", chart++)));
    s.blocks.push_back(GroupTable(b));
  }

  if (!r.cohorts.empty()) {
    report::Section& s = doc.sections.emplace_back();
    s.heading = "Cohort retention";
    s.blocks.push_back(CohortChart(r, false));
    s.blocks.push_back(CohortChart(r, true));
    report::Table t;
    t.caption = "Accounts still active, by contract start month";
    size_t longest = 0;
    for (const CohortCurve& c : r.cohorts) {
      longest = std::max(longest, c.logo_share.size());
    }
    t.header = {"Start month", "Accounts"};
    for (size_t m = 0; m < longest; ++m)
      t.header.push_back(absl::StrCat("m", m));
    for (const CohortCurve& c : r.cohorts) {
      std::vector<report::Cell> row = {
          report::Value::Text(c.month),
          report::Value::Count(static_cast<int64_t>(c.accounts))};
      for (double share : c.logo_share) row.push_back(PercentValue(share));
      t.rows.push_back(std::move(row));
    }
    t.note =
        "Month m is shown only once every account of the cohort has been "
        "observed m months, so no curve is cut short by the period end.";
    s.blocks.push_back(std::move(t));
  }

  {
    report::Section& s = doc.sections.emplace_back();
    s.heading = "Time to first value";
    const TimeToValue& t = r.overall.ttv;
    report::KeyFigures figures;
    figures.figures = {
        {"Median days", report::Value::Number(t.median, 3),
         report::Interval{t.p25, t.p75, "quartiles"},
         absl::StrCat(Count(t.reached), " accounts reached first value"), ""},
        {"Still waiting", report::Value::Count(static_cast<int64_t>(t.waiting)),
         std::nullopt,
         absl::StrCat("median ", Days(t.waiting_median), " days so far"), ""}};
    s.blocks.push_back(std::move(figures));
    if (!r.ttv_days.empty()) {
      report::HistogramChart h;
      h.id = "ttv";
      h.title = "Days from contract start to first value";
      h.x.title = "Days";
      h.share = false;
      h.bins = 20;
      h.series.push_back({"Accounts", r.ttv_days, ""});
      s.blocks.push_back(std::move(h));
    }
    report::Table by_group;
    by_group.caption = "Days to first value, by group";
    by_group.header = {
        "Group",           "Reached",       "25th percentile",       "Median",
        "75th percentile", "Still waiting", "Waited so far (median)"};
    auto add = [&](const std::string& name, const std::string& color,
                   const TimeToValue& v) {
      by_group.rows.push_back(
          {report::Cell(report::Value::Text(name), color),
           report::Value::Count(static_cast<int64_t>(v.reached)),
           report::Value::Number(v.p25, 4), report::Value::Number(v.median, 4),
           report::Value::Number(v.p75, 4),
           report::Value::Count(static_cast<int64_t>(v.waiting)),
           report::Value::Number(v.waiting_median, 4)});
    };
    add("All", "", t);
    for (const Breakdown& b : r.breakdowns) {
      for (const GroupFigures& g : b.groups) {
        add(absl::StrCat(b.tiers ? "tier" : b.by, " = ", g.name), g.color,
            g.ttv);
      }
    }
    by_group.note =
        "Every record with a contract_start by the period end, not only the "
        "cohort; quartiles interpolate linearly between days (numpy's "
        "default).";
    s.blocks.push_back(std::move(by_group));
  }
  return doc;
}

}  // namespace healthscore::engine::portfolio
