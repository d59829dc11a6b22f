// The request side of the proto adaptation, without a server: every field of
// AccountSnapshot (map form) and of ColumnarAccounts (columnar form) reaches
// the engine's Batch exactly as the same accounts written as JSON Lines do
// through the engine's own reader. The JSON Lines reader is the reference:
// each test builds the accounts once, writes them in the three forms and
// compares the batches column by column, warnings and errors included.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/common/json_text.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/testing/bind.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One input of each type, a range to warn about, a string input with known
// values and tiers for previous_tier.
constexpr char kModel[] = R"yaml(name: request_test
version: "1"
inputs:
  - {id: csat, type: number, range: [1, 5]}
  - {id: tickets, type: number}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: renewal_date, type: date}
  - {id: weekly_users, type: series}
derived:
  - {id: days_left, expr: "days_between(as_of, renewal_date)"}
  - {id: growth, expr: "pct_change(weekly_users, 1, 1)"}
groups:
  - id: support
    weight: 1
    signals:
      - {id: satisfaction, source: csat, weight: 1,
         normalize: {linear: {bad: 1, good: 5}}}
      - {id: load, source: tickets, weight: 1,
         normalize: {linear: {bad: 20, good: 0}}}
      - {id: renewal, source: days_left, weight: 1,
         normalize: {linear: {bad: 0, good: 365}}}
      - {id: trend, source: growth, weight: 1,
         normalize: {linear: {bad: -50, good: 50}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

std::shared_ptr<const engine::model::CompiledModel> Model() {
  static const auto* model = [] {
    engine::model::CompileResult r =
        engine::model::CompileString(kModel, "request.yaml");
    EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
    return new std::shared_ptr<const engine::model::CompiledModel>(r.model);
  }();
  return *model;
}

// One account, as a client would hold it. Absent values are left out of
// every form (the columnar form writes them as its "missing" marker).
struct Account {
  std::string id;
  std::optional<std::string> as_of;
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<std::pair<std::string, std::string>> dates;  // YYYY-MM-DD
  std::vector<std::pair<std::string, std::vector<double>>> series;
  std::optional<double> previous_score;
  std::optional<std::string> previous_tier;
};

// The accounts as JSON Lines (the engine's reader's input).
std::string JsonLines(const std::vector<Account>& accounts) {
  std::string out;
  for (const Account& a : accounts) {
    out.append("{\"id\":");
    engine::common::AppendJsonString(a.id, &out);
    if (a.as_of) {
      out.append(",\"as_of\":");
      engine::common::AppendJsonString(*a.as_of, &out);
    }
    auto section = [&out](const char* name, const auto& values,
                          auto write) {
      if (values.empty()) return;
      out.append(",\"").append(name).append("\":{");
      bool first = true;
      for (const auto& [key, value] : values) {
        if (!first) out.push_back(',');
        first = false;
        engine::common::AppendJsonString(key, &out);
        out.push_back(':');
        write(value);
      }
      out.push_back('}');
    };
    auto number = [&out](double v) {
      engine::common::AppendJsonNumber(v, engine::common::NumberFormat(), &out);
    };
    auto text = [&out](const std::string& s) {
      engine::common::AppendJsonString(s, &out);
    };
    auto points = [&out, &number](const std::vector<double>& v) {
      out.push_back('[');
      for (size_t i = 0; i < v.size(); ++i) {
        if (i > 0) out.push_back(',');
        number(v[i]);
      }
      out.push_back(']');
    };
    section("metrics", a.metrics, number);
    section("attributes", a.attributes, text);
    section("dates", a.dates, text);
    section("series", a.series, points);
    if (a.previous_score) {
      out.append(",\"previous_score\":");
      number(*a.previous_score);
    }
    if (a.previous_tier) {
      out.append(",\"previous_tier\":");
      text(*a.previous_tier);
    }
    out.append("}\n");
  }
  return out;
}

v1::AccountSnapshot Snapshot(const Account& a) {
  v1::AccountSnapshot s;
  s.set_id(a.id);
  if (a.as_of) s.set_as_of(*a.as_of);
  for (const auto& [k, v] : a.metrics) (*s.mutable_metrics())[k] = v;
  for (const auto& [k, v] : a.attributes) (*s.mutable_attributes())[k] = v;
  for (const auto& [k, v] : a.dates) (*s.mutable_dates())[k] = v;
  for (const auto& [k, v] : a.series) {
    v1::Series& series = (*s.mutable_series())[k];
    for (double p : v) series.add_values(p);
  }
  if (a.previous_score) s.set_previous_score(*a.previous_score);
  if (a.previous_tier) s.set_previous_tier(*a.previous_tier);
  return s;
}

google::protobuf::RepeatedPtrField<v1::AccountSnapshot> Snapshots(
    const std::vector<Account>& accounts) {
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> out;
  for (const Account& a : accounts) *out.Add() = Snapshot(a);
  return out;
}

// Index of `text` in `column`'s dictionary, adding it when new.
int32_t Code(v1::StringColumn* column, const std::string& text) {
  for (int i = 0; i < column->dictionary_size(); ++i) {
    if (column->dictionary(i) == text) return i;
  }
  column->add_dictionary(text);
  return column->dictionary_size() - 1;
}

// The accounts in columnar form: one column per name and kind, in order of
// first appearance; as_of per account ("" where absent, which is missing).
// Dates must be valid (the columnar form carries day counts).
v1::ColumnarAccounts Columns(const std::vector<Account>& accounts) {
  v1::ColumnarAccounts c;
  const int n = static_cast<int>(accounts.size());
  auto column = [n](auto* columns, const std::string& name, auto init) {
    for (auto& col : *columns) {
      if (col.name() == name) return &col;
    }
    auto* col = columns->Add();
    col->set_name(name);
    init(col, n);
    return col;
  };
  for (int r = 0; r < n; ++r) {
    const Account& a = accounts[static_cast<size_t>(r)];
    c.add_ids(a.id);
    c.add_as_of(a.as_of.value_or(""));
    for (const auto& [k, v] : a.metrics) {
      column(c.mutable_metrics(), k, [](v1::NumberColumn* col, int n) {
        col->mutable_values()->Resize(n, kNaN);
      })->set_values(r, v);
    }
    for (const auto& [k, v] : a.attributes) {
      v1::StringColumn* col =
          column(c.mutable_attributes(), k, [](v1::StringColumn* col, int n) {
            col->mutable_codes()->Resize(n, -1);
          });
      col->set_codes(r, Code(col, v));
    }
    for (const auto& [k, v] : a.dates) {
      double days = 0;
      EXPECT_TRUE(engine::eval::ParseIsoDate(v, &days)) << v;
      column(c.mutable_dates(), k, [](v1::DateColumn* col, int n) {
        col->mutable_days()->Resize(n, kNaN);
      })->set_days(r, days);
    }
  }
  // Series last: their values go back to back in account order.
  for (int r = 0; r < n; ++r) {
    for (const auto& [k, v] : accounts[static_cast<size_t>(r)].series) {
      column(c.mutable_series(), k, [](v1::SeriesColumn* col, int n) {
        col->mutable_lengths()->Resize(n, -1);
      });
    }
  }
  for (v1::SeriesColumn& col : *c.mutable_series()) {
    for (int r = 0; r < n; ++r) {
      for (const auto& [k, v] : accounts[static_cast<size_t>(r)].series) {
        if (k != col.name()) continue;
        col.set_lengths(r, static_cast<int32_t>(v.size()));
        for (double p : v) col.add_values(p);
      }
    }
  }
  bool any_score = false, any_tier = false;
  for (const Account& a : accounts) {
    any_score |= a.previous_score.has_value();
    any_tier |= a.previous_tier.has_value();
  }
  for (const Account& a : accounts) {
    if (any_score) c.add_previous_score(a.previous_score.value_or(kNaN));
    if (any_tier) {
      v1::StringColumn* tier = c.mutable_previous_tier();
      tier->add_codes(a.previous_tier ? Code(tier, *a.previous_tier) : -1);
    }
  }
  return c;
}

// A batch filled by one of the forms, with its ignored-field count.
struct Filled {
  std::unique_ptr<engine::eval::Batch> batch =
      std::make_unique<engine::eval::Batch>(Model());
  uint64_t ignored = 0;
};

Filled FromJsonLines(const std::vector<Account>& accounts, bool strict) {
  Filled f;
  engine::io::ReaderOptions options;
  options.strict = strict;
  engine::io::JsonLinesReader reader(
      engine::io::StringSource(JsonLines(accounts)), options);
  absl::StatusOr<size_t> rows = reader.ReadBatch(f.batch.get(), 1 << 20);
  EXPECT_OK(rows.status());
  for (const auto& [name, count] : reader.ignored_names()) f.ignored += count;
  return f;
}

Filled FromMap(const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>&
                   snapshots,
               bool strict) {
  Filled f;
  f.ignored = testing::BindAccounts(
      snapshots, 0, static_cast<size_t>(snapshots.size()), strict,
      f.batch.get());
  return f;
}

Filled FromColumns(const v1::ColumnarAccounts& columns, bool strict) {
  Filled f;
  absl::StatusOr<ColumnarPlan> plan = ColumnarPlan::Create(columns);
  EXPECT_OK(plan.status());
  if (!plan.ok()) return f;
  f.ignored =
      testing::BindColumns(*plan, 0, plan->size(), strict, f.batch.get());
  return f;
}

// Equal doubles, NaN equal to NaN.
bool Same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

// The parts of a row's error or warnings, sorted: a file reader reports a
// record's problems in the order the record is written, the request forms
// by name and section (so that the map and the columnar form agree
// whatever the map order). Without the "line N: " a file reader puts first.
std::vector<std::string> Problems(std::string error) {
  if (error.rfind("line ", 0) == 0) error = error.substr(error.find(": ") + 2);
  std::vector<std::string> out = absl::StrSplit(error, "; ");
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// What reading the same record can only say in its own words: an account
// without an id (the file reader names the id field).
bool NoId(const engine::eval::Batch& batch, size_t row) {
  return batch.id(row).empty() && !batch.row_ok(row);
}

enum class Reference { kJsonLines, kRequestForm };

// Every row of `got` holds exactly what the same row of `want` holds; with
// a JSON Lines reference, problems in any order (see Problems).
void ExpectSameBatch(const engine::eval::Batch& want,
                     const engine::eval::Batch& got, const std::string& form,
                     Reference reference = Reference::kJsonLines) {
  SCOPED_TRACE(form);
  ASSERT_EQ(got.size(), want.size());
  const engine::model::CompiledModel& m = want.model();
  const bool file = reference == Reference::kJsonLines;
  for (size_t r = 0; r < want.size(); ++r) {
    SCOPED_TRACE(::testing::Message() << "row " << r);
    EXPECT_EQ(got.id(r), want.id(r));
    EXPECT_EQ(got.row_ok(r), want.row_ok(r));
    if (file && NoId(want, r)) {
      EXPECT_EQ(got.row_error(r), "account has no id");
    } else if (file) {
      EXPECT_EQ(Problems(got.row_error(r)), Problems(want.row_error(r)));
    } else {
      EXPECT_EQ(got.row_error(r), want.row_error(r));
    }
    if (!want.row_ok(r)) continue;
    EXPECT_EQ(got.as_of_valid()[r], want.as_of_valid()[r]);
    if (want.as_of_valid()[r]) {
      EXPECT_EQ(got.as_of()[r], want.as_of()[r]);
    }
    EXPECT_EQ(got.previous_score_valid()[r], want.previous_score_valid()[r]);
    if (want.previous_score_valid()[r]) {
      EXPECT_EQ(got.previous_score()[r], want.previous_score()[r]);
    }
    EXPECT_EQ(got.previous_tier()[r], want.previous_tier()[r]);
    for (const engine::model::InputInfo& in : m.inputs()) {
      SCOPED_TRACE(in.id);
      const int c = in.column;
      switch (in.kind) {
        case engine::model::ColumnKind::kNumber:
          EXPECT_EQ(got.number_valid(c)[r], want.number_valid(c)[r]);
          if (want.number_valid(c)[r]) {
            EXPECT_EQ(got.number(c)[r], want.number(c)[r]);
          }
          break;
        case engine::model::ColumnKind::kString:
          EXPECT_EQ(got.string_codes(c)[r], want.string_codes(c)[r]);
          EXPECT_EQ(got.string_text(c, r), want.string_text(c, r));
          break;
        case engine::model::ColumnKind::kSeries: {
          EXPECT_EQ(got.series_valid(c)[r], want.series_valid(c)[r]);
          std::vector<double> a(
              want.series_values(c) + want.series_offsets(c)[r],
              want.series_values(c) + want.series_offsets(c)[r + 1]);
          std::vector<double> b(
              got.series_values(c) + got.series_offsets(c)[r],
              got.series_values(c) + got.series_offsets(c)[r + 1]);
          ASSERT_EQ(b.size(), a.size());
          for (size_t i = 0; i < a.size(); ++i) {
            EXPECT_TRUE(Same(b[i], a[i])) << i << ": " << b[i] << " " << a[i];
          }
          break;
        }
      }
    }
    if (file) {
      EXPECT_EQ(Sorted(engine::eval::RowWarnings(got, r)),
                Sorted(engine::eval::RowWarnings(want, r)));
    } else {
      EXPECT_EQ(engine::eval::RowWarnings(got, r),
                engine::eval::RowWarnings(want, r));
    }
    EXPECT_EQ(got.dropped_values(r), want.dropped_values(r));
  }
  EXPECT_EQ(got.range_warnings().size(), want.range_warnings().size());
  EXPECT_EQ(got.dropped_values(), want.dropped_values());
}

// Accounts that use every field of AccountSnapshot, in every way a value
// can fit or not fit its input, plus names the model does not declare. The
// columnar form carries them all too (its dates are day counts, so every
// date here is a valid one; as_of is text in both forms).
std::vector<Account> EveryField() {
  std::vector<Account> a(9);
  // Every field, every value fits.
  a[0].id = "acme";
  a[0].as_of = "2026-11-01";
  a[0].metrics = {{"csat", 4.5}, {"tickets", 3}};
  a[0].attributes = {{"segment", "enterprise"}};
  a[0].dates = {{"renewal_date", "2027-01-31"}};
  a[0].series = {{"weekly_users", {120, 118.5, 131}}};
  a[0].previous_score = 71.25;
  a[0].previous_tier = "green";
  // Nothing but the id.
  a[1].id = "bare";
  // Out of range (a warning, still used), a string outside the declared
  // values, an empty series, previous tier insufficient_data, an
  // undeclared metric and attribute (ignored).
  a[2].id = "c";
  a[2].as_of = "2026-11-01";
  a[2].metrics = {{"csat", 7}, {"not_in_model", 1}};
  a[2].attributes = {{"segment", "startup"}, {"region", "emea"}};
  a[2].series = {{"weekly_users", {}}};
  a[2].previous_score = 0;
  a[2].previous_tier = "insufficient_data";
  // Values under the section of another type: the declared type decides.
  a[3].id = "d";
  a[3].metrics = {{"segment", 3}};              // a number for a string
  a[3].attributes = {{"renewal_date", "2027-02-01"},  // a date as a string
                     {"csat", "NaN"}};          // a missing number
  a[3].previous_tier = "purple";                // not a tier of the model
  // An as_of that is not a date; a series with a negative point.
  a[4].id = "e";
  a[4].as_of = "yesterday";
  a[4].series = {{"weekly_users", {1, -2, 3}}};
  a[4].previous_score = -12.5;
  // One input under two sections: ambiguous, used as missing.
  a[5].id = "f";
  a[5].metrics = {{"csat", 3}};
  a[5].attributes = {{"csat", "4"}};
  // A number for a date and a series for a number.
  a[6].id = "g";
  a[6].metrics = {{"renewal_date", 20758}};
  a[6].series = {{"tickets", {1, 2}}};
  // No id: the account fails.
  a[7].as_of = "2026-11-01";
  a[7].metrics = {{"csat", 2}};
  // A date beyond the supported range; an id that needs escaping.
  a[8].id = "h \"quoted\" \xC3\xA9";
  a[8].dates = {{"renewal_date", "9999-12-31"}};
  return a;
}

TEST(MapFormTest, EveryFieldReachesTheBatchAsFromJsonLines) {
  const std::vector<Account> accounts = EveryField();
  for (bool strict : {false, true}) {
    SCOPED_TRACE(strict ? "strict" : "lenient");
    Filled want = FromJsonLines(accounts, strict);
    Filled got = FromMap(Snapshots(accounts), strict);
    ExpectSameBatch(*want.batch, *got.batch, "map");
    EXPECT_EQ(got.ignored, want.ignored);
  }
  // The comparison is not vacuous: what the reference holds, by hand.
  Filled f = FromMap(Snapshots(accounts), false);
  const engine::eval::Batch& b = *f.batch;
  const engine::model::CompiledModel& m = b.model();
  EXPECT_EQ(f.ignored, 2u);  // not_in_model, region
  const int csat = m.inputs()[m.FindInput("csat")].column;
  const int tickets = m.inputs()[m.FindInput("tickets")].column;
  const int segment = m.inputs()[m.FindInput("segment")].column;
  const int renewal = m.inputs()[m.FindInput("renewal_date")].column;
  const int users = m.inputs()[m.FindInput("weekly_users")].column;
  EXPECT_EQ(b.id(0), "acme");
  EXPECT_EQ(b.as_of()[0], 20758);
  EXPECT_EQ(b.number(csat)[0], 4.5);
  EXPECT_EQ(b.number(tickets)[0], 3);
  EXPECT_EQ(b.string_text(segment, 0), "enterprise");
  EXPECT_EQ(b.number(renewal)[0], 20758 + 91);
  EXPECT_EQ(b.series_offsets(users)[1] - b.series_offsets(users)[0], 3u);
  EXPECT_EQ(b.previous_score()[0], 71.25);
  EXPECT_EQ(b.previous_tier()[0], 0);  // green
  EXPECT_EQ(b.as_of_valid()[1], 0);
  EXPECT_EQ(b.previous_score_valid()[1], 0);
  EXPECT_EQ(b.previous_tier()[1], engine::model::kMissingString);
  EXPECT_THAT(engine::eval::RowWarnings(b, 2),
              ElementsAre("csat = 7 is outside the expected range [1, 5]"));
  EXPECT_EQ(b.series_valid(users)[2], 1);  // empty, not missing
  EXPECT_EQ(b.previous_tier()[2], 2);  // insufficient_data: tiers().size()
  EXPECT_EQ(b.previous_tier()[3], engine::model::kUnknownString);
  EXPECT_EQ(b.number(renewal)[3], 20758 + 92);
  EXPECT_EQ(b.number_valid(csat)[3], 0);
  EXPECT_THAT(engine::eval::RowWarnings(b, 3),
              ElementsAre(HasSubstr("metrics.segment: expected a string")));
  EXPECT_THAT(engine::eval::RowWarnings(b, 4),
              ElementsAre(HasSubstr("as_of: \"yesterday\" is not a date")));
  EXPECT_THAT(engine::eval::RowWarnings(b, 5),
              ElementsAre(HasSubstr("attributes.csat")));
  EXPECT_EQ(engine::eval::RowWarnings(b, 6).size(), 2u);
  EXPECT_FALSE(b.row_ok(7));
  EXPECT_TRUE(b.row_ok(8));
  EXPECT_EQ(b.id(8), "h \"quoted\" \xC3\xA9");
}

// Map iteration order is unspecified; the result is not.
TEST(MapFormTest, ManyNamesInAnyOrderGiveTheSameRow) {
  Account a;
  a.id = "many";
  for (int i = 0; i < 50; ++i) {
    a.metrics.emplace_back("extra_" + std::to_string(i), i);
  }
  a.metrics.emplace_back("csat", 2);
  a.attributes = {{"segment", "smb"}, {"tickets", "3"}};
  Filled want = FromJsonLines({a}, false);
  Filled got = FromMap(Snapshots({a}), false);
  ExpectSameBatch(*want.batch, *got.batch, "map");
  EXPECT_EQ(got.ignored, 50u);
  EXPECT_EQ(want.ignored, 50u);
}

// A NaN metric is missing, and an undeclared NaN metric is not counted as
// ignored: exactly as the columnar form's NaN.
TEST(MapFormTest, NanMetricIsMissingAndNotIgnored) {
  v1::AccountSnapshot s;
  s.set_id("n");
  (*s.mutable_metrics())["csat"] = kNaN;
  (*s.mutable_metrics())["unknown"] = kNaN;
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> snapshots;
  *snapshots.Add() = s;
  Filled f = FromMap(snapshots, true);
  EXPECT_EQ(f.ignored, 0u);
  ASSERT_TRUE(f.batch->row_ok(0));
  const engine::model::CompiledModel& m = f.batch->model();
  EXPECT_EQ(f.batch->number_valid(m.inputs()[m.FindInput("csat")].column)[0],
            0);
  EXPECT_TRUE(engine::eval::RowWarnings(*f.batch, 0).empty());
}

// NaN points of a series are kept in both request forms (series functions
// skip them); JSON has no NaN, so this is compared between the two forms.
TEST(MapFormTest, NanSeriesPointsAreKeptAsInTheColumnarForm) {
  Account a;
  a.id = "nan";
  a.series = {{"weekly_users", {1, kNaN, 3}}};
  Filled map = FromMap(Snapshots({a}), true);
  Filled columns = FromColumns(Columns({a}), true);
  ExpectSameBatch(*map.batch, *columns.batch, "columns vs map",
                  Reference::kRequestForm);
  const engine::eval::Batch& b = *map.batch;
  ASSERT_TRUE(b.row_ok(0));
  const int c = b.model().inputs()[b.model().FindInput("weekly_users")].column;
  ASSERT_EQ(b.series_offsets(c)[1], 3u);
  EXPECT_TRUE(std::isnan(b.series_values(c)[1]));
}

// Segment routing fills a batch with some accounts of the request: those
// rows, in that order, exactly as if they were the request.
TEST(MapFormTest, SelectedRowsAreTheAccountsAlone) {
  const std::vector<Account> accounts = EveryField();
  const std::vector<uint32_t> rows = {4, 0, 2};
  const size_t offset = 1;
  std::vector<Account> picked;
  for (uint32_t r : rows) picked.push_back(accounts[offset + r]);
  Filled want = FromJsonLines(picked, false);
  // The whole request is read once; the selected rows are bound.
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  const auto snapshots = Snapshots(accounts);
  AddAccountRows(snapshots, 0, static_cast<size_t>(snapshots.size()),
                 &builder);
  std::vector<uint32_t> selected;
  for (uint32_t r : rows) selected.push_back(static_cast<uint32_t>(offset + r));
  Filled got;
  got.ignored = testing::BindTable(table, false, got.batch.get(), &selected);
  ExpectSameBatch(*want.batch, *got.batch, "map rows");
  EXPECT_EQ(got.ignored, want.ignored);
}

TEST(ColumnarFormTest, EveryColumnReachesTheBatchAsFromJsonLines) {
  const std::vector<Account> accounts = EveryField();
  const v1::ColumnarAccounts columns = Columns(accounts);
  // Every kind of column and both optional columns are there.
  ASSERT_GT(columns.metrics_size(), 0);
  ASSERT_GT(columns.attributes_size(), 0);
  ASSERT_GT(columns.dates_size(), 0);
  ASSERT_GT(columns.series_size(), 0);
  ASSERT_EQ(columns.previous_score_size(), columns.ids_size());
  ASSERT_TRUE(columns.has_previous_tier());
  for (bool strict : {false, true}) {
    SCOPED_TRACE(strict ? "strict" : "lenient");
    Filled want = FromJsonLines(accounts, strict);
    Filled got = FromColumns(columns, strict);
    ExpectSameBatch(*want.batch, *got.batch, "columns");
    EXPECT_EQ(got.ignored, want.ignored);
    Filled map = FromMap(Snapshots(accounts), strict);
    ExpectSameBatch(*map.batch, *got.batch, "columns vs map",
                    Reference::kRequestForm);
  }
}

// as_of: no column (no date), one date for the whole batch, one per account.
TEST(ColumnarFormTest, AsOfEmptyOneOrPerAccount) {
  std::vector<Account> accounts(3);
  accounts[0].id = "a";
  accounts[1].id = "b";
  accounts[2].id = "c";
  for (Account& a : accounts) a.dates = {{"renewal_date", "2027-01-31"}};
  v1::ColumnarAccounts columns = Columns(accounts);

  columns.clear_as_of();
  ExpectSameBatch(*FromJsonLines(accounts, false).batch,
                  *FromColumns(columns, false).batch, "no as_of");

  columns.add_as_of("2026-11-01");
  for (Account& a : accounts) a.as_of = "2026-11-01";
  Filled one = FromColumns(columns, false);
  ExpectSameBatch(*FromJsonLines(accounts, false).batch, *one.batch,
                  "one as_of");
  EXPECT_EQ(one.batch->as_of()[2], 20758);

  // One bad date for the whole batch: every account has the warning.
  columns.set_as_of(0, "2026-02-30");
  for (Account& a : accounts) a.as_of = "2026-02-30";
  ExpectSameBatch(*FromJsonLines(accounts, false).batch,
                  *FromColumns(columns, false).batch, "one bad as_of");

  columns.clear_as_of();
  const char* per[] = {"2026-11-01", "", "2026-12-01"};
  for (size_t i = 0; i < 3; ++i) {
    columns.add_as_of(per[i]);
    if (*per[i] != '\0') {
      accounts[i].as_of = per[i];
    } else {
      accounts[i].as_of.reset();
    }
  }
  Filled each = FromColumns(columns, false);
  ExpectSameBatch(*FromJsonLines(accounts, false).batch, *each.batch,
                  "per-account as_of");
  EXPECT_EQ(each.batch->as_of_valid()[1], 0);
  EXPECT_EQ(each.batch->as_of()[2], 20758 + 30);

  // One account and one date: per account and for the batch are the same.
  std::vector<Account> single = {accounts[0]};
  ExpectSameBatch(*FromJsonLines(single, false).batch,
                  *FromColumns(Columns(single), false).batch, "single");
}

// Values in columns the model does not declare are ignored, counted once
// per present value; missing ones are not counted.
TEST(ColumnarFormTest, UndeclaredColumnsCountPresentValues) {
  v1::ColumnarAccounts columns;
  for (const char* id : {"a", "b", "c"}) columns.add_ids(id);
  v1::NumberColumn* m = columns.add_metrics();
  m->set_name("nope");
  m->add_values(1);
  m->add_values(kNaN);
  m->add_values(3);
  v1::StringColumn* s = columns.add_attributes();
  s->set_name("nope_text");
  s->add_dictionary("x");
  s->add_codes(0);
  s->add_codes(-1);
  s->add_codes(-1);
  v1::DateColumn* d = columns.add_dates();
  d->set_name("nope_date");
  for (double v : {kNaN, 20758.0, kNaN}) d->add_days(v);
  v1::SeriesColumn* z = columns.add_series();
  z->set_name("nope_series");
  for (int32_t len : {0, -1, 2}) z->add_lengths(len);
  z->add_values(1);
  z->add_values(2);
  Filled f = FromColumns(columns, true);
  EXPECT_EQ(f.ignored, 2u + 1 + 1 + 2);
  for (size_t r = 0; r < 3; ++r) EXPECT_TRUE(f.batch->row_ok(r));
}

TEST(ColumnarFormTest, SelectedRowsAreTheAccountsAlone) {
  const std::vector<Account> accounts = EveryField();
  const std::vector<uint32_t> rows = {5, 0, 3, 1};
  const size_t offset = 2;
  std::vector<Account> picked;
  for (uint32_t r : rows) picked.push_back(accounts[offset + r]);
  Filled want = FromJsonLines(picked, false);
  const v1::ColumnarAccounts columns = Columns(accounts);
  absl::StatusOr<ColumnarPlan> plan = ColumnarPlan::Create(columns);
  ASSERT_OK(plan.status());
  EXPECT_EQ(plan->size(), accounts.size());
  engine::eval::AccountTable table;
  engine::eval::TableBuilder builder(&table);
  plan->AddRows(0, plan->size(), &builder);
  std::vector<uint32_t> selected;
  for (uint32_t r : rows) selected.push_back(static_cast<uint32_t>(offset + r));
  Filled got;
  got.ignored = testing::BindTable(table, false, got.batch.get(), &selected);
  ExpectSameBatch(*want.batch, *got.batch, "column rows");
  EXPECT_EQ(got.ignored, want.ignored);
}

// A columnar batch whose structure is wrong fails as a whole, naming the
// column and the lengths.
TEST(ColumnarPlanTest, StructuralErrors) {
  auto base = [] {
    v1::ColumnarAccounts c;
    c.add_ids("a");
    c.add_ids("b");
    return c;
  };
  auto error = [](const v1::ColumnarAccounts& c) {
    return ColumnarPlan::Create(c).status();
  };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;

  v1::ColumnarAccounts c = base();
  for (int i = 0; i < 3; ++i) c.add_as_of("2026-11-01");
  EXPECT_THAT(error(c),
              StatusIs(kInvalid, "columns: as_of has 3 entries; expected 0, "
                                 "1 or 2 (one per id)"));

  c = base();
  c.add_previous_score(1);
  EXPECT_THAT(error(c),
              StatusIs(kInvalid, "columns: previous_score has 1 entries; "
                                 "expected 0 or 2 (one per id)"));

  c = base();
  c.mutable_previous_tier()->add_dictionary("green");
  EXPECT_THAT(error(c),
              StatusIs(kInvalid, "columns: previous_tier.codes has 0 "
                                 "entries; expected 2 (one per id)"));

  c = base();
  c.add_metrics()->set_name("csat");
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: metrics column 'csat' has 0 "
                                 "entries; expected 2 (one per id)"));

  c = base();
  v1::StringColumn* s = c.add_attributes();
  s->set_name("segment");
  s->add_codes(0);
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: attributes column 'segment' "
                                 "(codes) has 1 entries; expected 2 (one "
                                 "per id)"));

  c = base();
  v1::DateColumn* d = c.add_dates();
  d->set_name("renewal_date");
  for (int i = 0; i < 3; ++i) d->add_days(1);
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: dates column 'renewal_date' has "
                                 "3 entries; expected 2 (one per id)"));

  c = base();
  v1::SeriesColumn* z = c.add_series();
  z->set_name("weekly_users");
  z->add_lengths(1);
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: series column 'weekly_users' "
                                 "(lengths) has 1 entries; expected 2 (one "
                                 "per id)"));
  z->add_lengths(-2);
  z->add_values(1);
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: series column 'weekly_users': "
                                 "length -2 of account 1 is invalid (-1 "
                                 "means missing)"));
  z->set_lengths(1, 2);
  EXPECT_THAT(error(c), StatusIs(kInvalid,
                                 "columns: series column 'weekly_users': "
                                 "lengths add up to 3 but 1 values were "
                                 "sent"));

  // The same name twice in one kind is an error; in two kinds it is the
  // map form's "one input under two sections" (a warning per account).
  c = base();
  for (int i = 0; i < 2; ++i) {
    v1::NumberColumn* m = c.add_metrics();
    m->set_name("csat");
    m->add_values(1);
    m->add_values(2);
  }
  EXPECT_THAT(error(c), StatusIs(kInvalid, "columns: metrics column 'csat' "
                                           "appears twice"));
  c.mutable_metrics()->RemoveLast();
  v1::StringColumn* t = c.add_attributes();
  t->set_name("csat");
  t->add_dictionary("3");
  t->add_codes(0);
  t->add_codes(-1);
  EXPECT_OK(error(c));

  // A batch of one: "1 (one per id)".
  c = v1::ColumnarAccounts();
  c.add_ids("only");
  c.add_previous_score(1);
  c.add_previous_score(2);
  EXPECT_THAT(error(c),
              StatusIs(kInvalid, "columns: previous_score has 2 entries; "
                                 "expected 0 or 1 (one per id)"));

  // An empty batch is fine.
  EXPECT_OK(error(v1::ColumnarAccounts()));
}

}  // namespace
}  // namespace healthscore::server
