#include "engine/eval/account_table.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/testing/one_of_each.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::eval {

using model::CompiledModel;
using model::CompileString;
using model::InputType;
using model::kMissingString;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Declares `segment` as a number and `region` as a string: the same table
// means different things to it.
constexpr char kOtherModel[] = R"yaml(name: other
version: "1"
inputs:
  - {id: segment, type: number}
  - {id: region, type: string}
groups:
  - id: g
    weight: 1
    signals:
      - {id: s, source: segment, weight: 1,
         normalize: {linear: {bad: 0, good: 10}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

std::shared_ptr<const CompiledModel> Compile(const char* text) {
  model::CompileResult r = CompileString(text, "table_test.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

int Column(const CompiledModel& model, const char* input) {
  return model.inputs()[model.FindInput(input)].column;
}

// Three accounts with every kind of field; b is unreadable, c has two
// values out of range.
AccountTable ThreeAccounts() {
  AccountTable table;
  TableBuilder b(&table);
  const double wau0[] = {10, 20};
  b.BeginRow("a");
  b.SetAsOf("2026-11-01");
  b.SetMetric("dau_mau", 0.25);
  b.SetAttribute("segment", "smb");
  b.SetDate("renewal_date", "2027-01-31");
  b.SetSeries("wau", wau0, 2);
  b.SetPreviousScore(40);
  b.SetPreviousTier("red");
  b.EndRow();
  b.BeginRow("b");
  b.SetMetric("dau_mau", 0.5);
  b.FailRow("line 2: bad");
  b.EndRow();
  const double wau2[] = {30, 2000, 50};  // 2000 is out of range
  b.BeginRow("c");
  b.SetMetric("dau_mau", 1.5);  // out of range
  b.SetAttribute("segment", "unlisted");
  b.SetSeries("wau", wau2, 3);
  b.EndRow();
  return table;
}

TEST(TableBinderTest, RowsBoundInAnyOrderHoldWhatTheAccountGave) {
  auto model = testing::OneOfEachModel();
  const AccountTable table = ThreeAccounts();
  ASSERT_EQ(table.size(), 3u);
  EXPECT_TRUE(table.row_failed(1));
  EXPECT_EQ(table.row_error(1), "line 2: bad");

  TableBinder binder(model);
  Batch from(model);
  binder.Bind(table, &from);
  Batch to(model);
  binder.Bind(table, {2, 0, 1}, &to);

  ASSERT_EQ(to.size(), 3u);
  EXPECT_EQ(to.id(0), "c");
  EXPECT_EQ(to.id(1), "a");
  EXPECT_EQ(to.id(2), "b");
  EXPECT_TRUE(to.row_ok(0));
  EXPECT_EQ(to.row_error(2), "line 2: bad");
  EXPECT_EQ(to.error_count(), 1u);

  const int num = Column(*model, "dau_mau");
  const int date = Column(*model, "renewal_date");
  const int str = Column(*model, "segment");
  const int series = Column(*model, "wau");
  EXPECT_EQ(to.number(num)[0], 1.5);
  EXPECT_EQ(to.number(num)[1], 0.25);
  EXPECT_EQ(to.number_valid(date)[0], 0);
  double renewal = 0;
  ASSERT_TRUE(ParseIsoDate("2027-01-31", &renewal));
  EXPECT_EQ(to.number(date)[1], renewal);
  EXPECT_EQ(to.number_valid(date)[1], 1);
  EXPECT_EQ(to.string_text(str, 0), "unlisted");
  EXPECT_EQ(to.string_codes(str)[0], model::kUnknownString);
  EXPECT_EQ(to.string_text(str, 1), "smb");
  EXPECT_EQ(to.string_codes(str)[1], model->StringCode(str, "smb"));
  EXPECT_EQ(to.string_codes(str)[2], kMissingString);
  const uint32_t* offsets = to.series_offsets(series);
  EXPECT_EQ(std::vector<double>(to.series_values(series) + offsets[0],
                                to.series_values(series) + offsets[1]),
            (std::vector<double>{30, 2000, 50}));
  EXPECT_EQ(std::vector<double>(to.series_values(series) + offsets[1],
                                to.series_values(series) + offsets[2]),
            (std::vector<double>{10, 20}));
  EXPECT_EQ(offsets[2], offsets[3]);
  EXPECT_EQ(to.series_valid(series)[2], 0);
  EXPECT_EQ(to.as_of_valid()[1], 1);
  EXPECT_EQ(to.as_of()[1], from.as_of()[0]);
  EXPECT_EQ(to.previous_score()[1], 40);
  EXPECT_EQ(to.previous_tier()[1], from.previous_tier()[0]);
  EXPECT_EQ(to.previous_tier()[0], kMissingString);
  // Both of row c's range warnings, on c's new row.
  ASSERT_EQ(to.range_warnings().size(), 2u);
  EXPECT_EQ(to.range_warnings()[0].row, 0u);
  EXPECT_EQ(to.range_warnings()[1].row, 0u);
  EXPECT_EQ(to.range_warnings()[0].value, 1.5);
  EXPECT_EQ(to.range_warnings()[1].value, 2000);

  // Each account scores as it did in table order.
  BatchResult original, reordered;
  EXPECT_OK(Scorer::Score(from, &original));
  EXPECT_OK(Scorer::Score(to, &reordered));
  EXPECT_EQ(reordered.score(0), original.score(2));
  EXPECT_EQ(reordered.score(1), original.score(0));
  EXPECT_EQ(reordered.tier(1), original.tier(0));
  EXPECT_FALSE(reordered.ok(2));
}

// The table keeps values as written; each model applies its own declared
// types, so one read serves models that disagree.
TEST(TableBinderTest, EachModelReadsTheTableByItsOwnTypes) {
  auto model = testing::OneOfEachModel();
  auto other = Compile(kOtherModel);
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.PutText(b.Column({"", "segment"}), "7");
  b.PutText(b.Column({"", "region"}), "emea");
  b.EndRow();

  Batch first(model);
  TableBinder first_binder(model);
  first_binder.Bind(table, &first);
  Batch second(other);
  TableBinder second_binder(other);
  second_binder.Bind(table, &second);

  // A string to the first model (not one of its values), a number to the
  // other.
  EXPECT_EQ(first.string_text(Column(*model, "segment"), 0), "7");
  EXPECT_EQ(second.number(Column(*other, "segment"))[0], 7);
  EXPECT_EQ(second.string_text(Column(*other, "region"), 0), "emea");
  EXPECT_THAT(first_binder.ignored_names(), ElementsAre(Pair("region", 1)));
  EXPECT_EQ(first_binder.ignored_fields(), 1u);
  EXPECT_EQ(second_binder.ignored_fields(), 0u);
}

// The rules of BatchBuilder apply at binding, in record order: a value
// that does not fit is missing with a warning (or fails the account in
// strict mode), one input given in two sections is given twice.
TEST(TableBinderTest, ValueRulesApplyWhenBinding) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.PutString(b.Column({"metrics", "dau_mau"}), "high");
  b.PutString(b.Column({"attributes", "segment"}), "smb");
  b.PutString(b.Column({"dates", "segment"}), "enterprise");
  b.EndRow();

  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, &batch);
  ASSERT_TRUE(batch.row_ok(0));
  EXPECT_EQ(batch.number_valid(Column(*model, "dau_mau"))[0], 0);
  EXPECT_EQ(batch.string_codes(Column(*model, "segment"))[0], kMissingString);
  ASSERT_EQ(batch.value_warnings().size(), 2u);
  EXPECT_THAT(batch.value_warnings()[0].text,
              HasSubstr("metrics.dau_mau: expected a number"));
  EXPECT_THAT(batch.value_warnings()[1].text, HasSubstr("dates.segment"));
  EXPECT_EQ(batch.dropped_values(), 2u);

  binder.set_strict(true);
  binder.Bind(table, &batch);
  EXPECT_FALSE(batch.row_ok(0));
  EXPECT_THAT(batch.row_error(0), HasSubstr("metrics.dau_mau"));
}

// {"values": [...]} is a series for a series input and a value of the
// wrong kind for any other; the object's entries are skipped then.
TEST(TableBinderTest, AnObjectIsASeriesOnlyForASeriesInput) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  const double points[] = {1, 2};
  b.BeginRow("a");
  b.BeginObject(b.Column({"series", "wau"}));
  b.PutSeries(b.Column({"series", "wau"}), points, 2);
  b.EndObject(true);
  b.BeginObject(b.Column({"metrics", "dau_mau"}));
  b.PutSeries(b.Column({"metrics", "dau_mau"}), points, 2);
  b.EndObject(true);
  b.EndRow();
  b.BeginRow("b");
  b.BeginObject(b.Column({"series", "wau"}));
  b.EndObject(false);
  b.PutRecordWarning(b.Column({"", "dates"}),
                     "expected an object of inputs, got a number");
  b.EndRow();

  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, &batch);
  const int wau = Column(*model, "wau");
  EXPECT_EQ(batch.series_valid(wau)[0], 1);
  EXPECT_EQ(batch.series_offsets(wau)[1], 2u);
  EXPECT_EQ(batch.number_valid(Column(*model, "dau_mau"))[0], 0);
  std::vector<std::string> warnings;
  for (const ValueWarning& w : batch.value_warnings()) {
    warnings.push_back(std::to_string(w.row) + " " + w.text);
  }
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "0 metrics.dau_mau: expected a number, got an object; used as "
          "missing",
          "1 series.wau: expected a list of numbers or {\"values\": [...]}; "
          "used as missing",
          "1 dates: expected an object of inputs, got a number; used as "
          "missing"));
}

// Columns outlive Clear, so a binder resolves a stream of tables once; a
// column first seen in a later table is resolved then.
TEST(TableBinderTest, ColumnsSurviveClearAndNewOnesAreResolved) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBinder binder(model);
  Batch batch(model);
  {
    TableBuilder b(&table);
    b.BeginRow("a");
    b.SetMetric("dau_mau", 0.5);
    b.SetMetric("nps", 9);
    b.EndRow();
  }
  binder.Bind(table, &batch);
  EXPECT_EQ(table.column_count(), 2u);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.column_count(), 2u);
  {
    TableBuilder b(&table);
    b.BeginRow("b");
    b.SetMetric("nps", 7);
    b.SetAttribute("segment", "enterprise");
    b.EndRow();
  }
  binder.Bind(table, &batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.id(0), "b");
  EXPECT_EQ(batch.number_valid(Column(*model, "dau_mau"))[0], 0);
  EXPECT_EQ(batch.string_text(Column(*model, "segment"), 0), "enterprise");
  EXPECT_THAT(binder.ignored_names(), ElementsAre(Pair("metrics.nps", 2)));

  // Another table: the counts so far are kept by name.
  AccountTable other;
  {
    TableBuilder b(&other);
    b.BeginRow("c");
    b.SetMetric("nps", 1);
    b.EndRow();
  }
  binder.Bind(other, &batch);
  EXPECT_THAT(binder.ignored_names(), ElementsAre(Pair("metrics.nps", 3)));
  EXPECT_EQ(binder.ignored_fields(), 3u);
}

// An input that invents names without end cannot grow a reused table:
// past kMaxKeptColumns, Clear forgets the names and the table gets a new
// uid, which binders notice.
TEST(TableBinderTest, ClearForgetsTooManyColumnNames) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBinder binder(model);
  Batch batch(model);
  const size_t names = AccountTable::kMaxKeptColumns + 10;
  {
    TableBuilder b(&table);
    b.BeginRow("a");
    for (size_t i = 0; i < names; ++i) {
      b.SetMetric("made_up_" + std::to_string(i), 1);
    }
    b.SetMetric("dau_mau", 0.5);
    b.EndRow();
  }
  binder.Bind(table, &batch);
  EXPECT_EQ(binder.ignored_fields(), names);
  const uint64_t uid = table.uid();
  table.Clear();
  EXPECT_EQ(table.column_count(), 0u);
  EXPECT_NE(table.uid(), uid);
  {
    TableBuilder b(&table);
    b.BeginRow("b");
    b.SetMetric("dau_mau", 0.75);
    b.EndRow();
  }
  binder.Bind(table, &batch);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.number(Column(*model, "dau_mau"))[0], 0.75);
  // The names counted under the old columns are kept (up to 64 of them).
  EXPECT_EQ(binder.ignored_names().size(), 64u);

  // A table under the limit keeps its columns.
  AccountTable small;
  {
    TableBuilder b(&small);
    b.BeginRow("c");
    b.SetMetric("nps", 1);
    b.EndRow();
  }
  const uint64_t small_uid = small.uid();
  small.Clear();
  EXPECT_EQ(small.column_count(), 1u);
  EXPECT_EQ(small.uid(), small_uid);
}

// Column guesses the previous row's k-th column first; records that name
// their fields in another order, or other fields, still get the right
// column.
TEST(TableBuilderTest, ColumnsAreRightWhateverTheFieldOrder) {
  AccountTable table;
  TableBuilder b(&table);
  const std::vector<std::vector<FieldName>> rows = {
      {{"metrics", "a"}, {"metrics", "b"}, {"", "as_of"}},
      {{"metrics", "b"}, {"metrics", "a"}},
      {{"metrics", "a"}, {"attributes", "b"}, {"metrics", "b"}},
      {{"metrics", "a"}, {"attributes", "b"}, {"metrics", "b"}},
      {},
      {{"", "as_of"}, {"metrics", "a"}},
  };
  std::map<std::pair<std::string, std::string>, int> first_seen;
  for (const auto& row : rows) {
    b.BeginRow("r");
    for (const FieldName& f : row) {
      const int c = b.Column(f);
      const auto key = std::make_pair(std::string(f.section),
                                      std::string(f.name));
      auto [it, inserted] = first_seen.emplace(key, c);
      EXPECT_EQ(it->second, c) << f.section << "." << f.name;
      EXPECT_EQ(table.column(c).section, f.section);
      EXPECT_EQ(table.column(c).name, f.name);
    }
    b.EndRow();
  }
  EXPECT_EQ(table.column_count(), first_seen.size());
}

// GuessName offers the column that followed the previous one in earlier
// rows, only in the section asked for and only when its name is plain (raw
// key bytes equal to it are that name); TakeGuess gives what Column would.
TEST(TableBuilderTest, GuessesThePlainNameThatCameNext) {
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("r1");
  const int a = b.Column({"metrics", "a"});
  const int quoted = b.Column({"metrics", "b\"q"});
  const int slash = b.Column({"metrics", "c\\d"});
  const int e = b.Column({"metrics", "e"});
  b.EndRow();

  b.BeginRow("r2");
  EXPECT_EQ(b.GuessName(b.SectionId("metricz")), nullptr);  // as long, another section
  EXPECT_EQ(b.GuessName(b.SectionId("dates")), nullptr);
  const std::string* guess = b.GuessName(b.SectionId("metrics"));
  ASSERT_NE(guess, nullptr);
  EXPECT_EQ(*guess, "a");
  EXPECT_EQ(b.TakeGuess(), a);
  EXPECT_EQ(b.GuessName(b.SectionId("metrics")), nullptr);  // a quote in the name
  EXPECT_EQ(b.Column({"metrics", "b\"q"}), quoted);
  EXPECT_EQ(b.GuessName(b.SectionId("metrics")), nullptr);  // a backslash in the name
  EXPECT_EQ(b.Column({"metrics", "c\\d"}), slash);
  guess = b.GuessName(b.SectionId("metrics"));
  ASSERT_NE(guess, nullptr);
  EXPECT_EQ(*guess, "e");
  EXPECT_EQ(b.TakeGuess(), e);
  EXPECT_EQ(b.GuessName(b.SectionId("metrics")), nullptr);  // no field came after
  b.EndRow();
  EXPECT_EQ(table.column_count(), 4u);

  // Sections of every length are told apart by every byte.
  AccountTable other;
  TableBuilder c(&other);
  c.BeginRow("r1");
  const int x = c.Column({"a_long_section_name", "x"});
  const int y = c.Column({"ab", "y"});
  c.EndRow();
  c.BeginRow("r2");
  EXPECT_EQ(c.GuessName(c.SectionId("a_long_section_namf")), nullptr);
  EXPECT_EQ(c.GuessName(c.SectionId("b_long_section_name")), nullptr);
  EXPECT_EQ(c.GuessName(c.SectionId("a_lonG_section_name")), nullptr);
  EXPECT_EQ(c.GuessName(c.SectionId("ab")), nullptr);  // known, not next
  ASSERT_NE(c.GuessName(c.SectionId("a_long_section_name")), nullptr);
  EXPECT_EQ(c.TakeGuess(), x);
  EXPECT_EQ(c.GuessName(c.SectionId("ac")), nullptr);
  EXPECT_EQ(c.GuessName(c.SectionId("bb")), nullptr);
  ASSERT_NE(c.GuessName(c.SectionId("ab")), nullptr);
  EXPECT_EQ(c.TakeGuess(), y);
  c.EndRow();
}

// Sections are numbered up to AccountTable::kMaxSections; a table with more
// reads the others without guesses, and every column is still the right
// one.
TEST(TableBuilderTest, SectionsPastTheNumberedOnesAreNeverGuessed) {
  AccountTable table;
  const size_t sections = AccountTable::kMaxSections + 4;
  std::vector<int> columns;
  TableBuilder b(&table);
  for (int pass = 0; pass < 2; ++pass) {
    b.BeginRow("r");
    for (size_t s = 0; s < sections; ++s) {
      const std::string section = absl::StrCat("section", s);
      const uint32_t id = b.SectionId(section);
      if (pass == 0) {
        EXPECT_EQ(id, AccountTable::kUnknownSection) << s;  // no column yet
        EXPECT_EQ(b.GuessName(id), nullptr);
        columns.push_back(b.Column({section, "x"}));
        continue;
      }
      if (s < AccountTable::kMaxSections) {
        EXPECT_EQ(id, s);
        EXPECT_EQ(b.GuessName(b.SectionId("section0x")), nullptr);
        EXPECT_EQ(b.GuessName(static_cast<uint32_t>(s + 1)), nullptr);
        const std::string* guess = b.GuessName(id);
        ASSERT_NE(guess, nullptr) << s;
        EXPECT_EQ(*guess, "x");
        EXPECT_EQ(b.TakeGuess(), columns[s]);
      } else {
        EXPECT_EQ(id, AccountTable::kUnknownSection) << s;
        EXPECT_EQ(b.GuessName(id), nullptr) << s;
        EXPECT_EQ(b.Column({section, "x"}), columns[s]);
      }
    }
    b.EndRow();
  }
  EXPECT_EQ(table.column_count(), sections);
  table.Clear();  // keeps the columns, and so their numbers
  EXPECT_EQ(b.SectionId("section3"), 3u);
}

TEST(TableBinderTest, IgnoredCountsPerRow) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.SetMetric("nps", 9);
  b.SetMetric("csat", 4);
  b.EndRow();
  b.BeginRow("b");
  b.SetMetric("dau_mau", 0.1);
  b.EndRow();
  Batch batch(model);
  BatchBuilder builder(&batch);
  TableBinder binder(model);
  std::vector<uint32_t> per_row;
  binder.AddRows(table, 0, 2, &builder, &per_row);
  EXPECT_THAT(per_row, ElementsAre(2, 0));
  EXPECT_EQ(binder.ignored_fields(), 2u);
}

// Every row of `got` holds what the same row of `want` holds: ids, errors,
// each input, as_of, previous score and tier, and the warnings.
void ExpectSameBatches(const Batch& got, const Batch& want) {
  const CompiledModel& model = want.model();
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    SCOPED_TRACE(r);
    EXPECT_EQ(got.id(r), want.id(r));
    EXPECT_EQ(got.row_ok(r), want.row_ok(r));
    EXPECT_EQ(got.row_error(r), want.row_error(r));
    EXPECT_EQ(RowWarnings(got, r), RowWarnings(want, r));
    EXPECT_EQ(got.as_of_valid()[r], want.as_of_valid()[r]);
    EXPECT_EQ(got.as_of()[r] * got.as_of_valid()[r],
              want.as_of()[r] * want.as_of_valid()[r]);
    EXPECT_EQ(got.previous_score_valid()[r], want.previous_score_valid()[r]);
    if (want.previous_score_valid()[r]) {
      EXPECT_EQ(got.previous_score()[r], want.previous_score()[r]);
    }
    EXPECT_EQ(got.previous_tier()[r], want.previous_tier()[r]);
    for (const model::InputInfo& in : model.inputs()) {
      SCOPED_TRACE(in.id);
      const int c = in.column;
      switch (in.type) {
        case InputType::kNumber:
        case InputType::kDate:
          EXPECT_EQ(got.number_valid(c)[r], want.number_valid(c)[r]);
          if (want.number_valid(c)[r]) {
            EXPECT_EQ(got.number(c)[r], want.number(c)[r]);
          }
          break;
        case InputType::kString:
          EXPECT_EQ(got.string_codes(c)[r], want.string_codes(c)[r]);
          EXPECT_EQ(got.string_text(c, r), want.string_text(c, r));
          break;
        case InputType::kSeries: {
          EXPECT_EQ(got.series_valid(c)[r], want.series_valid(c)[r]);
          const uint32_t* go = got.series_offsets(c);
          const uint32_t* wo = want.series_offsets(c);
          EXPECT_EQ(std::vector<double>(got.series_values(c) + go[r],
                                        got.series_values(c) + go[r + 1]),
                    std::vector<double>(want.series_values(c) + wo[r],
                                        want.series_values(c) + wo[r + 1]));
          break;
        }
      }
    }
  }
}

// Columnar input: the server's columnar request form puts each column's
// values for a range of rows as one array (a run). Binding reads runs as it
// reads values put one by one, missing markers included.
TEST(TableBinderTest, RunsBindAsValuesPutOneByOne) {
  auto model = testing::OneOfEachModel();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Three accounts; y has a code past the dictionary and a metric out of
  // range, z has a negative code other than -1 and nothing else.
  const std::string ids[] = {"x", "y", "z"};
  const std::string as_of[] = {"2026-11-01", "", "2026-11-03"};
  const std::string* as_of_ptrs[] = {&as_of[0], &as_of[1], &as_of[2]};
  const double dau_mau[] = {0.25, 1.5, kNaN};
  const double renewal[] = {20000, kNaN, kNaN};
  const std::string_view segments[] = {"smb", "enterprise"};
  const int32_t segment_codes[] = {1, 7, -3};
  const int32_t wau_lengths[] = {2, -1, 0};
  const uint64_t wau_offsets[] = {0, 2, 2};
  const double wau_points[] = {10, 2000};
  const double previous[] = {40, kNaN, 90};
  const double nps[] = {1, 2, kNaN};  // a column the model does not declare

  AccountTable runs;
  TableBuilder r(&runs);
  // Rows before the runs start are not theirs: a first row with a cell.
  r.BeginRow("w");
  r.SetMetric("dau_mau", 0.5);
  r.EndRow();
  const size_t first = r.rows();
  for (const std::string& id : ids) {
    r.BeginRow(id);
    r.EndRow();
  }
  r.PutStringRun(r.Column({"", "as_of"}), first, as_of_ptrs, 3);
  r.PutNumberRun(r.Column({"metrics", "dau_mau"}), first, dau_mau, 3);
  r.PutNumberRun(r.Column({"metrics", "nps"}), first, nps, 3);
  r.PutDateDaysRun(r.Column({"dates", "renewal_date"}), first, renewal, 3);
  r.PutCodeRun(r.Column({"attributes", "segment"}), first, segment_codes, 3,
               segments, 2);
  r.PutSeriesRun(r.Column({"series", "wau"}), first, wau_lengths, wau_offsets,
                 wau_points, 3);
  r.PutNumberRun(r.Column({"", "previous_score"}), first, previous, 3);

  AccountTable cells;
  TableBuilder c(&cells);
  c.BeginRow("w");
  c.SetMetric("dau_mau", 0.5);
  c.EndRow();
  c.BeginRow("x");
  c.SetAsOf("2026-11-01");
  c.SetMetric("dau_mau", 0.25);
  c.SetMetric("nps", 1);
  c.PutDateDays(c.Column({"dates", "renewal_date"}), 20000);
  c.SetAttribute("segment", "enterprise");
  c.SetSeries("wau", wau_points, 2);
  c.SetPreviousScore(40);
  c.EndRow();
  c.BeginRow("y");
  c.SetMetric("dau_mau", 1.5);
  c.SetMetric("nps", 2);
  c.PutUnusable(c.Column({"attributes", "segment"}),
                "code 7 is outside the dictionary (2 entries)");
  c.EndRow();
  c.BeginRow("z");
  c.SetAsOf("2026-11-03");
  c.PutUnusable(c.Column({"attributes", "segment"}),
                "code -3 is invalid (-1 means missing)");
  c.SetSeries("wau", wau_points, 0);
  c.SetPreviousScore(90);
  c.EndRow();

  TableBinder from_runs(model);
  Batch got(model);
  std::vector<uint32_t> ignored;
  BatchBuilder builder(&got);
  from_runs.AddRows(runs, 0, runs.size(), &builder, &ignored);
  EXPECT_THAT(ignored, ElementsAre(0, 1, 1, 0));
  EXPECT_THAT(from_runs.ignored_names(), ElementsAre(Pair("metrics.nps", 2)));
  TableBinder from_cells(model);
  Batch want(model);
  from_cells.Bind(cells, &want);
  ExpectSameBatches(got, want);
  // What the comparison rests on: the runs' values did arrive.
  EXPECT_EQ(got.string_text(Column(*model, "segment"), 1), "enterprise");
  EXPECT_THAT(RowWarnings(got, 2),
              ElementsAre(HasSubstr("code 7 is outside the dictionary"),
                          HasSubstr("dau_mau = 1.5 is outside")));
  EXPECT_EQ(got.series_valid(Column(*model, "wau"))[3], 1);
}

// Rows with only an id added in one step (AddBareRows, as columnar readers
// add them) are the rows BeginRow/EndRow pairs add, and bind the same,
// whether the binder meets them in runs or one by one, from any first row,
// into a reused batch.
TEST(TableBinderTest, BareRowsAddedInOneStepBindAsRowsAddedOneByOne) {
  auto model = testing::OneOfEachModel();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Rows 0-2 bare ("" has no id), 3 with a cell, 4 failed, 5-7 bare, 8 with
  // its id set after its value.
  const std::vector<std::string> ids = {"a", "",  "c", "d", "e",
                                        "f", "g", "h", "i"};
  const double dau_mau[] = {0.5, 0.25, kNaN, 0.75, 0.1, 2.0, 0.3, kNaN, 0.9};
  const double renewal[] = {20000, kNaN, 20001, 20002, 20003,
                            20004, 20005, 20006, kNaN};
  auto fill = [&](AccountTable* table, bool in_one_step) {
    TableBuilder b(table);
    auto bare = [&](size_t from, size_t to) {
      if (in_one_step) {
        std::vector<std::string_view> views(ids.begin() + from,
                                            ids.begin() + to);
        b.AddBareRows(views.data(), views.size());
      } else {
        for (size_t i = from; i < to; ++i) {
          b.BeginRow(ids[i]);
          b.EndRow();
        }
      }
    };
    bare(0, 3);
    b.BeginRow(ids[3]);
    b.SetPreviousScore(70);
    b.EndRow();
    b.BeginRow(ids[4]);
    b.FailRow("line 5: not an object");
    b.EndRow();
    bare(5, 8);
    b.BeginRow("");
    b.SetPreviousTier("green");
    b.SetId(ids[8]);
    b.EndRow();
    b.AddBareRows(nullptr, 0);  // nothing
    b.PutNumberRun(b.Column({"metrics", "dau_mau"}), 0, dau_mau, 9);
    b.PutDateDaysRun(b.Column({"dates", "renewal_date"}), 0, renewal, 9);
  };
  AccountTable steps, pairs;
  fill(&steps, true);
  fill(&pairs, false);
  ASSERT_EQ(steps.size(), 9u);
  EXPECT_EQ(steps.bytes(), pairs.bytes());
  for (size_t r = 0; r < 9; ++r) {
    EXPECT_EQ(steps.id(r), ids[r]) << r;
    EXPECT_EQ(steps.row_failed(r), r == 4) << r;
  }
  TableBinder binder(model);
  Batch got(model), want(model);
  for (const auto& [begin, end] : std::vector<std::pair<size_t, size_t>>{
           {0, 9}, {1, 6}, {5, 8}, {3, 4}, {0, 9}}) {
    SCOPED_TRACE(absl::StrCat(begin, "-", end));
    // The first range fills both batches; the others reuse their memory.
    got.Clear();
    {
      BatchBuilder b(&got);
      binder.AddRows(steps, begin, end, &b);
    }
    // What binding the same rows of the other table as a list gives
    // (TableBinder::Bind with rows: the rows one by one, the runs'
    // values gathered).
    std::vector<uint32_t> rows;
    for (size_t r = begin; r < end; ++r) {
      rows.push_back(static_cast<uint32_t>(r));
    }
    binder.Bind(pairs, rows, &want);
    ExpectSameBatches(got, want);
    for (size_t r = begin; r < end; ++r) {
      EXPECT_EQ(got.id(r - begin), ids[r]);
      EXPECT_EQ(got.row_ok(r - begin), r != 1 && r != 4);
    }
  }
  EXPECT_EQ(got.row_error(1), "account has no id");
  EXPECT_EQ(got.number(Column(*model, "dau_mau"))[3], 0.75);
}

// Some rows of a table of runs (a routed request's rows for one model) are
// bound column by column, each run's values of those rows gathered: the
// batch holds what binding the same accounts given value by value holds,
// warnings and ignored values included, in the order the rows are asked.
TEST(TableBinderTest, SomeRowsOfRunsBindAsTheSameAccountsGivenValueByValue) {
  auto model = testing::OneOfEachModel();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr size_t kRows = 40;
  std::vector<std::string> ids;
  std::vector<double> dau_mau(kRows), renewal(kRows), as_of(kRows),
      previous(kRows), nps(kRows);
  std::vector<int32_t> segment(kRows);
  const std::string_view segments[] = {"smb", "enterprise"};
  for (size_t r = 0; r < kRows; ++r) {
    ids.push_back(absl::StrCat("acct-", r));
    // Every kind of value: in range, out of range (a warning), missing.
    dau_mau[r] = r % 7 == 0 ? kNaN : r % 5 == 0 ? 1.5 : r / 100.0;
    renewal[r] = r % 6 == 0 ? kNaN : 20000 + static_cast<double>(r);
    as_of[r] = r % 9 == 0 ? kNaN : 20400;
    previous[r] = r % 4 == 0 ? kNaN : static_cast<double>(r);
    nps[r] = r % 3 == 0 ? kNaN : 7;  // no input of the model
    segment[r] = static_cast<int32_t>(r % 3) - 1;  // -1 missing, 0, 1
  }
  AccountTable runs;
  TableBuilder b(&runs);
  std::vector<std::string_view> views(ids.begin(), ids.end());
  b.AddBareRows(views.data(), views.size());
  b.PutDateDaysRun(b.Column({"", "as_of"}), 0, as_of.data(), kRows);
  b.PutNumberRun(b.Column({"metrics", "dau_mau"}), 0, dau_mau.data(), kRows);
  b.PutNumberRun(b.Column({"metrics", "nps"}), 0, nps.data(), kRows);
  b.PutDateDaysRun(b.Column({"dates", "renewal_date"}), 0, renewal.data(),
                   kRows);
  b.PutCodeRun(b.Column({"attributes", "segment"}), 0, segment.data(), kRows,
               segments, 2);
  b.PutNumberRun(b.Column({"", "previous_score"}), 0, previous.data(), kRows);

  const std::vector<uint32_t> rows = {5, 0, 39, 12, 13, 35, 20, 7, 1};
  // The same accounts, in that order, given value by value.
  AccountTable cells;
  TableBuilder c(&cells);
  for (const uint32_t r : rows) {
    c.BeginRow(ids[r]);
    if (!std::isnan(as_of[r])) {
      c.PutDateDays(c.Column({"", "as_of"}), as_of[r]);
    }
    if (!std::isnan(dau_mau[r])) c.SetMetric("dau_mau", dau_mau[r]);
    if (!std::isnan(nps[r])) c.SetMetric("nps", nps[r]);
    if (!std::isnan(renewal[r])) {
      c.PutDateDays(c.Column({"dates", "renewal_date"}), renewal[r]);
    }
    if (segment[r] >= 0) c.SetAttribute("segment", segments[segment[r]]);
    if (!std::isnan(previous[r])) c.SetPreviousScore(previous[r]);
    c.EndRow();
  }
  TableBinder from_runs(model), from_cells(model);
  Batch got(model), want(model);
  // Twice: the second time into the first's memory.
  for (int round = 0; round < 2; ++round) {
    from_runs.Bind(runs, rows, &got);
    from_cells.Bind(cells, &want);
    ExpectSameBatches(got, want);
    EXPECT_EQ(from_runs.last_ignored(), from_cells.last_ignored());
  }
  {
    // The same accounts kept of the whole table's batch (Batch::KeepRows)
    // are these accounts too, in the table's order.
    Batch whole(model);
    from_runs.Bind(runs, &whole);
    std::vector<uint32_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    whole.KeepRows(sorted.data(), sorted.size());
    Batch alone(model);
    from_runs.Bind(runs, sorted, &alone);
    ExpectSameBatches(whole, alone);
    EXPECT_EQ(whole.dropped_values(), alone.dropped_values());
    EXPECT_EQ(whole.range_warnings().size(), alone.range_warnings().size());
  }
  // What the comparison rests on: values, warnings and ignored values.
  EXPECT_EQ(got.id(2), "acct-39");
  EXPECT_THAT(RowWarnings(got, 0), ElementsAre(HasSubstr("dau_mau = 1.5")));
  EXPECT_EQ(got.number(Column(*model, "dau_mau"))[3], 0.12);
  EXPECT_EQ(from_runs.last_ignored(), 6u);  // nps of 5, 13, 35, 20, 7, 1
}

// The model of the column-by-column tests: numbers with ranges, a series,
// a date and a string.
constexpr char kColumnsModel[] = R"yaml(name: columns
version: "1"
inputs:
  - {id: a, type: number, range: [0, 1]}
  - {id: b, type: number, range: [0, 10]}
  - {id: wau, type: series, range: [0, 1000]}
  - {id: d, type: date}
  - {id: seg, type: string, values: [x, y]}
groups:
  - id: g
    weight: 1
    signals:
      - {id: sa, source: a, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
      - {id: sb, source: b, weight: 1, normalize: {linear: {bad: 0, good: 10}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

// A table of runs alone (the columnar form): its number columns are put
// whole (BatchBuilder::PutNumberColumn) after the rows, and what the batch
// holds is the same as value by value, range warnings in the same order.
TEST(TableBinderTest, NumberColumnsPutWholeHoldWhatValueByValueHolds) {
  auto model = Compile(kColumnsModel);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Row 0: every value out of range; row 1: fine, b missing (infinite
  // reads as missing, out of range or not), and the row is unreadable;
  // row 2: a out of range.
  const double a[] = {2, 0.5, -1};
  const double b[] = {20, std::numeric_limits<double>::infinity(), 5};
  const int32_t wau_lengths[] = {1, 1, -1};
  const uint64_t wau_offsets[] = {0, 1, 2};
  const double wau_points[] = {2000, 10};
  const std::string_view dictionary[] = {"y", "x", "z"};
  const int32_t seg[] = {0, 2, -1};
  AccountTable table;
  TableBuilder t(&table);
  for (const char* id : {"r0", "r1", "r2"}) {
    t.BeginRow(id);
    if (std::string_view(id) == "r1") t.FailRow("request: account 1 is bad");
    t.EndRow();
  }
  t.PutNumberRun(t.Column({"metrics", "a"}), 0, a, 3);
  t.PutSeriesRun(t.Column({"series", "wau"}), 0, wau_lengths, wau_offsets,
                 wau_points, 3);
  t.PutNumberRun(t.Column({"metrics", "b"}), 0, b, 3);
  t.PutCodeRun(t.Column({"attributes", "seg"}), 0, seg, 3, dictionary, 3);
  // A column the model does not declare: counted, per row, where given.
  const double nps[] = {7, kNaN, 9};
  t.PutNumberRun(t.Column({"metrics", "nps"}), 0, nps, 3);

  TableBinder whole(model);
  Batch got(model);
  std::vector<uint32_t> ignored;
  {
    BatchBuilder builder(&got);
    whole.AddRows(table, 0, table.size(), &builder, &ignored);  // by column
  }
  EXPECT_THAT(ignored, ElementsAre(1, 0, 1));
  EXPECT_EQ(whole.ignored_fields(), 2u);
  EXPECT_THAT(whole.ignored_names(), ElementsAre(Pair("metrics.nps", 2)));
  // The same accounts given value by value, in the runs' order.
  AccountTable cells;
  TableBuilder c(&cells);
  const double wau_r0[] = {2000}, wau_r1[] = {10};
  c.BeginRow("r0");
  c.SetMetric("a", 2);
  c.SetSeries("wau", wau_r0, 1);
  c.SetMetric("b", 20);
  c.SetAttribute("seg", "y");
  c.SetMetric("nps", 7);
  c.EndRow();
  c.BeginRow("r1");
  c.FailRow("request: account 1 is bad");
  c.SetMetric("a", 0.5);
  c.SetSeries("wau", wau_r1, 1);
  c.SetMetric("b", std::numeric_limits<double>::infinity());
  c.SetAttribute("seg", "z");
  c.EndRow();
  c.BeginRow("r2");
  c.SetMetric("a", -1);
  c.SetMetric("b", 5);
  c.SetMetric("nps", 9);
  c.EndRow();
  TableBinder by_value(model);
  Batch want(model);
  by_value.Bind(cells, &want);
  ExpectSameBatches(got, want);
  EXPECT_EQ(by_value.ignored_fields(), whole.ignored_fields());
  // And some rows of the runs (gathered by column) as the same rows.
  TableBinder some(model);
  Batch gathered(model);
  some.Bind(table, std::vector<uint32_t>{0, 1, 2}, &gathered);
  ExpectSameBatches(gathered, want);
  // What the comparison rests on.
  EXPECT_THAT(RowWarnings(got, 0),
              ElementsAre(HasSubstr("a = 2 is outside"),
                          HasSubstr("wau"), HasSubstr("b = 20 is outside")));
  EXPECT_THAT(RowWarnings(got, 2), ElementsAre(HasSubstr("a = -1 is outside")));
  const int ca = Column(*model, "a");
  EXPECT_EQ(got.number(ca)[1], 0.5);
  EXPECT_EQ(got.number_valid(Column(*model, "b"))[1], 0);
  EXPECT_EQ(got.string_codes(Column(*model, "seg"))[0],
            model->StringCode(Column(*model, "seg"), "y"));
  EXPECT_EQ(got.string_codes(Column(*model, "seg"))[1], model::kUnknownString);
  EXPECT_FALSE(got.row_error(1).empty());
}

// Columns the model does not declare, of every kind, are counted where a
// row gives a value: a number or day that is not NaN, a code other than -1
// (an invalid code is given), a series of any length (a negative length is
// none). Whole ranges count a column at a time, some rows one by one; both
// agree with counting the values here, over row counts that leave every
// vector width a remainder.
TEST(TableBinderTest, IgnoredColumnsOfEveryKindAreCountedWhereGiven) {
  auto model = Compile(kColumnsModel);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr size_t kRows = 37;
  std::vector<std::string> ids;
  std::vector<double> nps(kRows), signup(kRows), points(kRows, 1);
  std::vector<int32_t> region(kRows), lengths(kRows);
  std::vector<uint64_t> offsets(kRows);
  for (size_t r = 0; r < kRows; ++r) {
    ids.push_back(absl::StrCat("acct-", r));
    nps[r] = r % 3 == 0 ? kNaN : static_cast<double>(r);
    signup[r] = r % 4 == 1 ? kNaN : 19000 + static_cast<double>(r);
    region[r] = r % 5 == 0 ? -1 : r % 7 == 0 ? -3 : static_cast<int32_t>(r % 2);
    lengths[r] = r % 6 == 0 ? -1 : r % 6 == 1 ? 0 : r % 6 == 2 ? -2 : 1;
    offsets[r] = r;
  }
  AccountTable table;
  TableBuilder b(&table);
  std::vector<std::string_view> views(ids.begin(), ids.end());
  b.AddBareRows(views.data(), views.size());
  const std::string_view regions[] = {"emea", "apac"};
  b.PutNumberRun(b.Column({"metrics", "nps"}), 0, nps.data(), kRows);
  b.PutDateDaysRun(b.Column({"dates", "signup"}), 0, signup.data(), kRows);
  b.PutCodeRun(b.Column({"attributes", "region"}), 0, region.data(), kRows,
               regions, 2);
  b.PutSeriesRun(b.Column({"series", "logins"}), 0, lengths.data(),
                 offsets.data(), points.data(), kRows);
  // What each row gives, counted here.
  auto given = [&](size_t r) {
    return std::map<std::string, uint64_t>{
        {"metrics.nps", std::isnan(nps[r]) ? 0 : 1},
        {"dates.signup", std::isnan(signup[r]) ? 0 : 1},
        {"attributes.region", region[r] == -1 ? 0 : 1},
        {"series.logins", lengths[r] < 0 ? 0 : 1}};
  };
  auto expect_counts = [&](const TableBinder& binder,
                           const std::vector<uint32_t>& rows) {
    std::map<std::string, uint64_t> want;
    uint64_t total = 0;
    for (const uint32_t r : rows) {
      for (const auto& [name, count] : given(r)) {
        if (count == 0) continue;  // a name is listed once it has a value
        want[name] += count;
        total += count;
      }
    }
    EXPECT_EQ(binder.last_ignored(), total);
    EXPECT_EQ(binder.ignored_fields(), total);
    EXPECT_EQ(binder.ignored_names(), want);
  };
  for (const auto& [begin, end] :
       {std::pair<size_t, size_t>{0, kRows}, {3, 34}, {5, 6}, {36, 37}}) {
    SCOPED_TRACE(absl::StrCat(begin, "-", end));
    std::vector<uint32_t> rows;
    for (size_t r = begin; r < end; ++r) {
      rows.push_back(static_cast<uint32_t>(r));
    }
    TableBinder by_column(model);
    Batch batch(model);
    {
      BatchBuilder builder(&batch);
      by_column.AddRows(table, begin, end, &builder);
    }
    expect_counts(by_column, rows);
    // The same rows in another order, gathered.
    std::reverse(rows.begin(), rows.end());
    TableBinder gathered(model);
    gathered.Bind(table, rows, &batch);
    expect_counts(gathered, rows);
  }
}

// Dates, dictionary codes, as_of, previous_score and previous_tier are put
// column by column too (BatchBuilder::PutDateDaysColumn, PutCodeColumn), and
// so are runs in a table that also has cells (the Python package's list
// columns of series), as long as no cell gives the same input. What the
// batch holds is what value by value gives: missing values, empty
// dictionary entries, tiers the model does not have, range warnings after
// those of the row's cells. A run with a value that has a warning of its
// own (a day that is no supported date, a code outside the dictionary)
// goes value by value, where its warning finds its place.

struct ColumnsCase {
  const char* name;
  std::vector<double> days;       // d
  std::vector<int32_t> seg;       // codes into {"y", "x", "z", ""}
  std::vector<int32_t> tiers;     // codes into {"green",
                                  // "insufficient_data", "purple", ""}
  // When set, `d` is given as these codes into {"2026-01-31", "",
  // "31/01/2026", "2026-02-01T10:00:00Z"} (dates as text) instead of days.
  std::vector<int32_t> date_codes;
  bool cell_gives_a = false;      // row 2 also has a cell for `a`
  bool strict = false;
};

// Binds the six accounts of `c` by column (AddRows over rows [begin, end))
// and value by value (the same rows), and expects the same batches.
void ExpectColumnsBindAsValues(const ColumnsCase& c, size_t begin,
                               size_t end, Batch* got) {
  SCOPED_TRACE(c.name);
  auto model = Compile(kColumnsModel);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double as_of[] = {20000, kNaN, 20001, 20002, kInf, 20003};
  const double previous[] = {40, kNaN, 90, kInf, 10, 0};
  const double a[] = {2, 5, -1, kNaN, 0.3, 0.7};
  const std::string_view seg_dictionary[] = {"y", "x", "z", ""};
  const std::string_view tier_dictionary[] = {"green", "insufficient_data",
                                              "purple", ""};
  const double wau_r1[] = {10, 2000};  // out of range
  const double wau_r3[] = {5, 6, 7};
  AccountTable table;
  TableBuilder t(&table);
  for (int r = 0; r < 6; ++r) {
    t.BeginRow("r" + std::to_string(r));
    if (r == 1) {
      t.SetMetric("b", 20);  // out of range: a warning before the runs'
      t.SetSeries("wau", wau_r1, 2);
    }
    if (r == 2 && c.cell_gives_a) t.SetMetric("a", 0.5);
    if (r == 3) t.SetSeries("wau", wau_r3, 3);
    if (r == 4) t.FailRow("request: account 4 is bad");
    t.EndRow();
  }
  t.PutDateDaysRun(t.Column({"", "as_of"}), 0, as_of, 6);
  t.PutNumberRun(t.Column({"metrics", "a"}), 0, a, 6);
  const std::string_view date_dictionary[] = {
      "2026-01-31", "", "31/01/2026", "2026-02-01T10:00:00Z"};
  if (c.date_codes.empty()) {
    t.PutDateDaysRun(t.Column({"dates", "d"}), 0, c.days.data(), 6);
  } else {
    t.PutCodeRun(t.Column({"dates", "d"}), 0, c.date_codes.data(), 6,
                 date_dictionary, 4);
  }
  t.PutCodeRun(t.Column({"attributes", "seg"}), 0, c.seg.data(), 6,
               seg_dictionary, 4);
  t.PutNumberRun(t.Column({"", "previous_score"}), 0, previous, 6);
  t.PutCodeRun(t.Column({"", "previous_tier"}), 0, c.tiers.data(), 6,
               tier_dictionary, 4);

  TableBinder by_column(model);
  by_column.set_strict(c.strict);
  got->Clear();
  {
    BatchBuilder builder(got);
    by_column.AddRows(table, begin, end, &builder);
  }
  TableBinder by_value(model);
  by_value.set_strict(c.strict);
  Batch want(model);
  std::vector<uint32_t> rows;
  for (size_t r = begin; r < end; ++r) rows.push_back(static_cast<uint32_t>(r));
  by_value.Bind(table, rows, &want);
  ExpectSameBatches(*got, want);
}

TEST(TableBinderTest, DateAndCodeColumnsPutWholeHoldWhatValueByValueHolds) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const ColumnsCase fits{"every value fits",
                         {19000, kNaN, 20500, 0, -1, 21000},
                         {0, 2, 3, -1, 1, 0},
                         {0, 1, 2, 3, -1, 0},
                         {}};
  auto model = Compile(kColumnsModel);
  Batch got(model);
  ExpectColumnsBindAsValues(fits, 0, 6, &got);
  // What the comparison rests on.
  EXPECT_THAT(RowWarnings(got, 0), ElementsAre(HasSubstr("a = 2 is outside")));
  EXPECT_THAT(RowWarnings(got, 1),
              ElementsAre(HasSubstr("b = 20 is outside"),
                          HasSubstr("wau"), HasSubstr("a = 5 is outside")));
  const int d = Column(*model, "d");
  const int seg = Column(*model, "seg");
  EXPECT_EQ(got.number(d)[2], 20500);
  EXPECT_EQ(got.number_valid(d)[1], 0);
  EXPECT_EQ(got.as_of()[3], 20002);
  EXPECT_EQ(got.as_of_valid()[4], 0);  // infinite: missing
  EXPECT_EQ(got.previous_score()[2], 90);
  EXPECT_EQ(got.previous_score_valid()[3], 0);
  EXPECT_EQ(got.string_codes(seg)[0], model->StringCode(seg, "y"));
  EXPECT_EQ(got.string_text(seg, 1), "z");
  EXPECT_EQ(got.string_codes(seg)[1], model::kUnknownString);
  EXPECT_EQ(got.string_codes(seg)[2], kMissingString);  // ""
  EXPECT_EQ(got.previous_tier()[0], 0);
  EXPECT_EQ(got.previous_tier()[1], 2);  // insufficient_data: after the tiers
  EXPECT_EQ(got.previous_tier()[2], model::kUnknownString);
  EXPECT_EQ(got.previous_tier()[3], kMissingString);  // ""
  EXPECT_EQ(got.series_valid(Column(*model, "wau"))[3], 1);
  EXPECT_FALSE(got.row_ok(4));

  // Rows from the middle of the runs, into a batch that starts at row 0.
  ExpectColumnsBindAsValues(fits, 2, 5, &got);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got.number(d)[0], 20500);
  EXPECT_THAT(RowWarnings(got, 0), ElementsAre(HasSubstr("a = -1 is outside")));

  ColumnsCase strict = fits;
  strict.name = "strict";
  strict.strict = true;
  ExpectColumnsBindAsValues(strict, 0, 6, &got);

  const ColumnsCase unfit{"a day and codes that do not fit",
                          {19000, 1e9, 20500, 0, -1, 21000},
                          {0, 7, 3, -3, 1, 0},
                          {0, 1, 9, 3, -1, 0},
                          {}};
  ExpectColumnsBindAsValues(unfit, 0, 6, &got);
  EXPECT_THAT(RowWarnings(got, 1),
              ElementsAre(HasSubstr("d: 1e+09 days since 1970-01-01 is "
                                    "not a supported date"),
                          HasSubstr("seg: code 7 is outside the dictionary"),
                          HasSubstr("b = 20 is outside"), HasSubstr("wau"),
                          HasSubstr("a = 5 is outside")));
  EXPECT_THAT(RowWarnings(got, 2),
              ElementsAre(HasSubstr("previous_tier: code 9 is outside"),
                          HasSubstr("a = -1 is outside")));
  ColumnsCase unfit_strict = unfit;
  unfit_strict.name = "strict, values that do not fit";
  unfit_strict.strict = true;
  ExpectColumnsBindAsValues(unfit_strict, 0, 6, &got);
  EXPECT_THAT(got.row_error(1), HasSubstr("not a supported date"));

  // Dates as text: each entry parsed once when every code is usable.
  ColumnsCase texts = fits;
  texts.name = "dates as text";
  texts.date_codes = {0, 1, 3, -1, 0, 3};
  ExpectColumnsBindAsValues(texts, 0, 6, &got);
  EXPECT_EQ(FormatIsoDate(got.number(d)[0]), "2026-01-31");
  EXPECT_EQ(got.number_valid(d)[1], 0);  // the empty entry
  EXPECT_EQ(FormatIsoDate(got.number(d)[2]), "2026-02-01");
  EXPECT_EQ(got.number_valid(d)[3], 0);
  ColumnsCase bad_texts = fits;
  bad_texts.name = "dates as text, one not a date, one code past them";
  bad_texts.date_codes = {0, 2, 3, -1, 7, 0};
  ExpectColumnsBindAsValues(bad_texts, 0, 6, &got);
  EXPECT_THAT(RowWarnings(got, 1),
              ::testing::Contains(HasSubstr(
                  "dates.d: \"31/01/2026\" is not a date (YYYY-MM-DD)")));
  EXPECT_FALSE(got.row_ok(4));  // failed anyway; the code goes value by value
  ExpectColumnsBindAsValues(bad_texts, 3, 6, &got);  // rows 3-5: code 7
  ColumnsCase bad_code = fits;
  bad_code.name = "dates as text, a code past them in an ok row";
  bad_code.date_codes = {0, 1, 3, -1, 0, 9};
  ExpectColumnsBindAsValues(bad_code, 0, 6, &got);
  EXPECT_THAT(RowWarnings(got, 5),
              ElementsAre(HasSubstr("dates.d: code 9 is outside the "
                                    "dictionary (4 entries)")));

  // A cell and a run give `a` in row 2: given twice, whichever way.
  ColumnsCase both = fits;
  both.name = "a cell and a run give one input";
  both.cell_gives_a = true;
  ExpectColumnsBindAsValues(both, 0, 6, &got);
  EXPECT_THAT(RowWarnings(got, 2),
              ElementsAre(HasSubstr("metrics.a: given twice")));
}

// One text for every row of a run (one as_of for a whole request).
// Series runs and dates written as text, one per row (the gRPC columnar
// form's series and as_of), are put column by column too
// (BatchBuilder::PutSeriesColumn, PutDateDaysColumn); what the batch holds
// is what the same accounts given value by value hold, whole or some rows,
// including a text that is no date (that run then goes value by value).
TEST(TableBinderTest, SeriesAndDateTextColumnsHoldWhatValueByValueHolds) {
  auto model = Compile(kColumnsModel);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  constexpr size_t kRows = 12;
  struct Variant {
    const char* name;
    bool bad_date;     // row 10's d is "31/01/2026"
    bool constant_as_of;
    const char* as_of = "2026-11-05";  // the constant as_of
  };
  for (const Variant& v :
       {Variant{"dates fit", false, false},
        Variant{"a text that is no date", true, false},
        Variant{"one as_of for every row", false, true},
        Variant{"one as_of that is no date", false, true, "2026-13-05"},
        Variant{"one empty as_of", false, true, ""}}) {
    SCOPED_TRACE(v.name);
    std::vector<std::string> ids, d(kRows), as_of(kRows);
    std::vector<int32_t> lengths(kRows);
    std::vector<uint64_t> offsets(kRows);
    std::vector<std::vector<double>> series(kRows);
    std::vector<double> points;
    for (size_t r = 0; r < kRows; ++r) {
      ids.push_back(r == 7 ? "" : absl::StrCat("acct-", r));
      // Missing, empty, two and three points; row 2 starts out of range,
      // row 6 has an infinite point (no warning) then one out of range.
      lengths[r] = r % 4 == 0 ? -1 : static_cast<int32_t>(r % 4) - 1 + (r % 4 > 1);
      for (int32_t k = 0; k < lengths[r]; ++k) {
        series[r].push_back(static_cast<double>(r * 10 + k));
      }
      if (r == 2) series[r][0] = 2000;
      if (r == 6) series[r] = {kInf, 5000, 7};
      if (lengths[r] >= 0) lengths[r] = static_cast<int32_t>(series[r].size());
      offsets[r] = points.size();
      points.insert(points.end(), series[r].begin(), series[r].end());
      d[r] = r % 5 == 0 ? "" : r < 6 ? "2026-03-01" : absl::StrCat("2026-04-0", r % 9 + 1);
      if (v.bad_date && r == 10) d[r] = "31/01/2026";
      as_of[r] = r == 3 ? "" : r == 9 ? "2026-11-02" : "2026-11-01";
      if (v.constant_as_of) as_of[r] = v.as_of;
    }
    std::vector<const std::string*> d_ptrs, as_of_ptrs;
    for (size_t r = 0; r < kRows; ++r) {
      d_ptrs.push_back(&d[r]);
      as_of_ptrs.push_back(&as_of[r]);
    }
    AccountTable runs;
    TableBuilder b(&runs);
    std::vector<std::string_view> views(ids.begin(), ids.end());
    b.AddBareRows(views.data(), 4);
    b.BeginRow(ids[4]);
    b.FailRow("request: account 4 is bad");
    b.EndRow();
    b.AddBareRows(views.data() + 5, kRows - 5);
    b.PutSeriesRun(b.Column({"series", "wau"}), 0, lengths.data(),
                   offsets.data(), points.data(), kRows);
    b.PutStringRun(b.Column({"dates", "d"}), 0, d_ptrs.data(), kRows);
    if (v.constant_as_of) {
      b.PutConstantStringRun(b.Column({"", "as_of"}), 0, as_of[0], kRows);
    } else {
      b.PutStringRun(b.Column({"", "as_of"}), 0, as_of_ptrs.data(), kRows);
    }
    // The same accounts, rows `rows` in that order, value by value.
    auto cells_of = [&](const std::vector<uint32_t>& rows, AccountTable* t) {
      t->Clear();
      TableBuilder c(t);
      for (const uint32_t r : rows) {
        c.BeginRow(ids[r]);
        if (r == 4) c.FailRow("request: account 4 is bad");
        if (lengths[r] >= 0) c.SetSeries("wau", series[r].data(), series[r].size());
        if (!d[r].empty()) c.SetDate("d", d[r]);
        if (!as_of[r].empty()) c.SetAsOf(as_of[r]);
        c.EndRow();
      }
    };
    std::vector<uint32_t> all(kRows);
    for (uint32_t r = 0; r < kRows; ++r) all[r] = r;
    const std::vector<uint32_t> some = {11, 2, 6, 0, 7, 4, 9, 10};
    TableBinder from_runs(model), from_cells(model);
    Batch got(model), want(model);
    AccountTable cells;
    for (int round = 0; round < 2; ++round) {  // the second into reused memory
      from_runs.Bind(runs, &got);
      cells_of(all, &cells);
      from_cells.Bind(cells, &want);
      ExpectSameBatches(got, want);
      from_runs.Bind(runs, some, &got);
      cells_of(some, &cells);
      from_cells.Bind(cells, &want);
      ExpectSameBatches(got, want);
      // Some rows kept of a whole batch (Batch::KeepRows, as a routed
      // request keeps the accounts that stayed) are those accounts bound
      // alone; then all but the first of those, and none.
      from_runs.Bind(runs, &got);
      std::vector<uint32_t> accounts = all;  // the accounts `got` holds
      for (const std::vector<uint32_t>& kept :
           {std::vector<uint32_t>{0, 2, 4, 6, 7, 9, 10}, {1, 2, 3, 4, 5, 6},
            {}}) {
        got.KeepRows(kept.data(), kept.size());
        std::vector<uint32_t> rows;
        for (const uint32_t k : kept) rows.push_back(accounts[k]);
        accounts = rows;
        cells_of(rows, &cells);
        from_cells.Bind(cells, &want);
        ExpectSameBatches(got, want);
        EXPECT_EQ(got.dropped_values(), want.dropped_values());
        EXPECT_EQ(got.error_count(), want.error_count());
      }
    }
    // What the comparisons rest on.
    from_runs.Bind(runs, &got);
    if (std::string_view(v.as_of) == "2026-13-05") {  // its warning first
      EXPECT_THAT(RowWarnings(got, 2),
                  ElementsAre(HasSubstr("as_of"), HasSubstr("wau = 2000")));
      EXPECT_THAT(RowWarnings(got, 6),
                  ElementsAre(HasSubstr("as_of"), HasSubstr("wau = 5000")));
    } else {
      EXPECT_THAT(RowWarnings(got, 2), ElementsAre(HasSubstr("wau = 2000")));
      EXPECT_THAT(RowWarnings(got, 6), ElementsAre(HasSubstr("wau = 5000")));
    }
    const int wau = Column(*model, "wau");
    EXPECT_EQ(got.series_valid(wau)[0], 0);
    EXPECT_EQ(got.series_valid(wau)[1], 1);
    EXPECT_EQ(got.series_offsets(wau)[2], got.series_offsets(wau)[1]);
    EXPECT_EQ(got.series_offsets(wau)[7] - got.series_offsets(wau)[6], 3u);
    EXPECT_EQ(got.number_valid(Column(*model, "d"))[5], 0);
    EXPECT_EQ(got.number_valid(Column(*model, "d"))[6], 1);
    EXPECT_EQ(got.as_of_valid()[3],
              v.constant_as_of && std::string_view(v.as_of) == "2026-11-05");
    if (v.constant_as_of) {
      const bool date = std::string_view(v.as_of) == "2026-11-05";
      for (size_t r = 0; r < kRows; ++r) {
        if (r == 4 || r == 7) continue;  // failed rows
        EXPECT_EQ(got.as_of_valid()[r], date) << r;
        if (date) {
          EXPECT_EQ(got.as_of()[r], absl::CivilDay(2026, 11, 5) -
                                        absl::CivilDay(1970, 1, 1))
              << r;
        }
        // A text that is no date is each row's warning; an empty one is
        // missing, with none.
        if (std::string_view(v.as_of) == "2026-13-05") {
          EXPECT_THAT(RowWarnings(got, r),
                      ::testing::Contains(HasSubstr("as_of"))) << r;
        } else {
          EXPECT_THAT(RowWarnings(got, r),
                      ::testing::Not(::testing::Contains(HasSubstr("as_of"))))
              << r;
        }
      }
    }
    EXPECT_EQ(got.row_error(7), "account has no id");
    if (v.bad_date) {
      EXPECT_THAT(RowWarnings(got, 10), ElementsAre(HasSubstr("d")));
    }
  }
}

TEST(TableBinderTest, AConstantStringRunGivesEveryRowItsText) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  for (const char* id : {"a", "b"}) {
    b.BeginRow(id);
    b.EndRow();
  }
  b.PutConstantStringRun(b.Column({"attributes", "segment"}), 0, "smb", 2);
  TableBinder binder(model);
  Batch batch(model);
  binder.Bind(table, &batch);
  const int segment = Column(*model, "segment");
  EXPECT_EQ(batch.string_codes(segment)[0], model->StringCode(segment, "smb"));
  EXPECT_EQ(batch.string_codes(segment)[1], model->StringCode(segment, "smb"));
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  b.BeginRow("c");
  b.EndRow();
  binder.Bind(table, &batch);
  EXPECT_EQ(batch.string_codes(segment)[0], kMissingString);  // runs cleared
}

// Points added one at a time are the series PutSeries would give, and
// dropped points leave nothing behind: the next series starts where they
// did, and the unusable value put instead is what binding sees.
TEST(TableBuilderTest, PointsAddedOneByOneAreASeries) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  const int wau = b.Column({"series", "wau"});
  b.BeginRow("a");
  b.BeginPoints();
  for (double p : {1.0, 2.0, 3.0}) b.AddPoint(p);
  b.EndPoints(wau);
  b.EndRow();
  const size_t bytes_after_a = table.bytes();
  b.BeginRow("b");
  b.BeginPoints();
  b.AddPoint(9);
  b.AddPoint(8);
  b.DropPoints();
  b.PutUnusable(wau, "point 3 is not a number (got null)");
  b.EndRow();
  b.BeginRow("c");
  b.BeginPoints();
  b.AddPoint(4);
  b.EndPoints(wau);
  b.EndRow();

  AccountTable expected;
  TableBuilder e(&expected);
  const double a_points[] = {1, 2, 3};
  const double c_points[] = {4};
  e.BeginRow("a");
  e.PutSeries(e.Column({"series", "wau"}), a_points, 3);
  e.EndRow();
  EXPECT_EQ(bytes_after_a, expected.bytes());
  e.BeginRow("b");
  e.PutUnusable(e.Column({"series", "wau"}),
                "point 3 is not a number (got null)");
  e.EndRow();
  e.BeginRow("c");
  e.PutSeries(e.Column({"series", "wau"}), c_points, 1);
  e.EndRow();
  EXPECT_EQ(table.bytes(), expected.bytes());

  TableBinder binder(model);
  Batch got(model);
  Batch want(model);
  binder.Bind(table, &got);
  TableBinder(model).Bind(expected, &want);
  const int column = Column(*model, "wau");
  for (size_t r = 0; r < 3; ++r) {
    SCOPED_TRACE(r);
    ASSERT_EQ(got.series_valid(column)[r], want.series_valid(column)[r]);
    const uint32_t* go = got.series_offsets(column);
    const uint32_t* wo = want.series_offsets(column);
    ASSERT_EQ(go[r + 1] - go[r], wo[r + 1] - wo[r]);
    for (uint32_t i = 0; i < go[r + 1] - go[r]; ++i) {
      EXPECT_EQ(got.series_values(column)[go[r] + i],
                want.series_values(column)[wo[r] + i]);
    }
  }
  EXPECT_EQ(got.series_valid(column)[1], 0);
  EXPECT_EQ(got.series_values(column)[got.series_offsets(column)[2]], 4);
  ASSERT_EQ(got.value_warnings().size(), 1u);
  EXPECT_EQ(got.value_warnings()[0].text, want.value_warnings()[0].text);
  EXPECT_THAT(got.value_warnings()[0].text, HasSubstr("point 3"));
}

// A value's location (a YAML test snapshot's file:line:col) comes before
// every message the value causes, as a warning or in a strict failure,
// and only for that value: the next values, and rows bound in another
// order, are not located by it.
TEST(TableBinderTest, AValueLocationPrefixesItsWarningsAndFailures) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.SetValueLocation("t.yaml:2:3", "t.yaml:2:12");
  b.PutScalar(b.Column({"metrics", "dau_mau"}), "high");
  b.PutString(b.Column({"dates", "renewal_date"}), "31/01/2027");
  b.EndRow();
  b.BeginRow("b");
  b.PutScalar(b.Column({"metrics", "dau_mau"}), "low");
  b.SetValueLocation("t.yaml:9:3", "t.yaml:9:8");
  b.PutScalar(b.Column({"series", "wau"}), "5");
  b.EndRow();
  EXPECT_EQ(table.located_values(), 2u);

  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, {1, 0}, &batch);
  ASSERT_TRUE(batch.row_ok(0) && batch.row_ok(1));
  std::vector<std::string> warnings;
  for (const ValueWarning& w : batch.value_warnings()) {
    warnings.push_back(std::to_string(w.row) + " " + w.text);
  }
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "0 metrics.dau_mau: expected a number; used as missing",
          "0 t.yaml:9:8: series.wau: expected a list of numbers; used as "
          "missing",
          "1 t.yaml:2:12: metrics.dau_mau: expected a number; used as "
          "missing",
          "1 dates.renewal_date: \"31/01/2027\" is not a date (YYYY-MM-DD); "
          "used as missing"));

  binder.set_strict(true);
  binder.Bind(table, &batch);
  EXPECT_EQ(batch.row_error(0),
            "t.yaml:2:12: metrics.dau_mau: expected a number; "
            "dates.renewal_date: \"31/01/2027\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(batch.row_error(1),
            "metrics.dau_mau: expected a number; t.yaml:9:8: series.wau: "
            "expected a list of numbers");
}

// Tables filled without locations (JSON Lines, CSV, the request forms)
// hold none; a second location before one Put replaces the first; Clear
// forgets them.
TEST(TableBuilderTest, LocationsAreKeptOnlyForValuesThatHaveOne) {
  AccountTable table = ThreeAccounts();
  EXPECT_EQ(table.located_values(), 0u);
  TableBuilder b(&table);
  b.BeginRow("d");
  b.SetValueLocation("t.yaml:1:1", "t.yaml:1:2");
  b.SetValueLocation("t.yaml:5:1", "t.yaml:5:9");
  b.PutScalar(b.Column({"metrics", "dau_mau"}), "x");
  b.EndRow();
  EXPECT_EQ(table.located_values(), 1u);
  auto model = testing::OneOfEachModel();
  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, {3}, &batch);
  ASSERT_EQ(batch.value_warnings().size(), 1u);
  EXPECT_EQ(batch.value_warnings()[0].text,
            "t.yaml:5:9: metrics.dau_mau: expected a number; used as missing");
  table.Clear();
  EXPECT_EQ(table.located_values(), 0u);
}

// A scalar (YAML) is read by the declared type; one that does not fit is
// reported as what was expected.
TEST(TableBinderTest, AScalarIsReadByTheDeclaredType) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.PutScalar(b.Column({"metrics", "dau_mau"}), "0.5");
  b.PutScalar(b.Column({"attributes", "segment"}), "smb");
  b.PutScalar(b.Column({"dates", "renewal_date"}), "2027-01-31");
  b.PutScalar(b.Column({"", "previous_score"}), "40");
  b.EndRow();
  b.BeginRow("b");
  b.PutScalar(b.Column({"metrics", "dau_mau"}), "-.inf");  // missing
  b.PutScalar(b.Column({"dates", "renewal_date"}), "2026-02-30");
  b.PutScalar(b.Column({"series", "wau"}), "5");
  b.PutScalar(b.Column({"", "previous_score"}), "x");
  b.EndRow();

  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, &batch);
  EXPECT_DOUBLE_EQ(batch.number(Column(*model, "dau_mau"))[0], 0.5);
  EXPECT_EQ(batch.string_text(Column(*model, "segment"), 0), "smb");
  double day;
  ASSERT_TRUE(ParseIsoDate("2027-01-31", &day));
  EXPECT_EQ(batch.number(Column(*model, "renewal_date"))[0], day);
  EXPECT_EQ(batch.previous_score()[0], 40);
  EXPECT_EQ(batch.number_valid(Column(*model, "dau_mau"))[1], 0);
  std::vector<std::string> warnings;
  for (const ValueWarning& w : batch.value_warnings()) {
    warnings.push_back(std::to_string(w.row) + " " + w.text);
  }
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "1 dates.renewal_date: expected a date (YYYY-MM-DD); used as "
          "missing",
          "1 series.wau: expected a list of numbers; used as missing",
          "1 previous_score: expected a number; used as missing"));
}

// With set_unknown_names_fail a name the model does not declare fails the
// account, at the name's location (or the row's), with a "did you mean"
// among the inputs of the section's type; without it, it is ignored.
TEST(TableBinderTest, UnknownNamesCanFailTheAccount) {
  auto model = testing::OneOfEachModel();
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.SetValueLocation("t.yaml:3:5", "t.yaml:3:14");
  b.PutScalar(b.Column({"metrics", "dau_mua"}), "1");
  b.EndRow();
  b.BeginRow("b");
  b.SetRowLocation("line 2: ");
  b.PutString(b.Column({"attributes", "segmnt"}), "smb");
  b.EndRow();
  b.BeginRow("c");
  b.PutNumber(b.Column({"", "renewal"}), 3);
  b.PutNumber(b.Column({"metrics", "zzz"}), 3);
  b.EndRow();

  Batch batch(model);
  TableBinder binder(model);
  binder.Bind(table, &batch);
  EXPECT_EQ(batch.error_count(), 0u);
  EXPECT_EQ(binder.ignored_fields(), 4u);

  binder.set_unknown_names_fail(true);
  binder.Bind(table, &batch);
  EXPECT_EQ(batch.row_error(0),
            "t.yaml:3:5: metrics.dau_mua: the model declares no number input "
            "\"dau_mua\" (did you mean 'dau_mau'?)");
  EXPECT_EQ(batch.row_error(1),
            "line 2: attributes.segmnt: the model declares no string input "
            "\"segmnt\" (did you mean 'segment'?)");
  // Outside the sections any input is a candidate; the first name wins.
  EXPECT_EQ(batch.row_error(2),
            "renewal: the model declares no input \"renewal\"");
}

TEST(AccountTableTest, EachRowKeepsItsOwnLocationAndFirstFailure) {
  // Rows with a location, a failure, both or neither, in every order, and
  // bare rows between them: each row reads back its own, and a cleared
  // table forgets them.
  AccountTable table;
  for (int round = 0; round < 2; ++round) {
    table.Clear();
    TableBuilder b(&table);
    b.BeginRow("plain");
    b.EndRow();
    b.BeginRow("located");
    b.SetRowLocation("line 2: ");
    b.EndRow();
    b.BeginRow("failed");
    b.FailRow("line 3: not an object");
    b.FailRow("line 3: a later problem");  // the first failure wins
    b.EndRow();
    const std::string_view bare[] = {"bare1", "bare2"};
    b.AddBareRows(bare, 2);
    b.BeginRow("both");
    b.SetRowLocation("line 6: ");
    b.FailRow("line 6: truncated");
    b.SetRowLocation("line 6, again: ");  // a later location replaces it
    b.EndRow();
    b.BeginRow("emptied");
    b.SetRowLocation("line 7: ");
    b.SetRowLocation("");
    b.EndRow();
    b.BeginRow("after");
    b.SetRowLocation("");
    b.EndRow();

    ASSERT_EQ(table.size(), 8u);
    const std::string_view locations[] = {
        "", "line 2: ", "", "", "", "line 6, again: ", "", ""};
    const std::string_view errors[] = {
        "", "", "line 3: not an object", "", "", "line 6: truncated", "", ""};
    for (size_t r = 0; r < table.size(); ++r) {
      SCOPED_TRACE(table.id(r));
      EXPECT_EQ(table.row_location(r), locations[r]);
      EXPECT_EQ(table.row_failed(r), !errors[r].empty());
      EXPECT_EQ(table.row_error(r), errors[r]);
    }
  }
}

TEST(AccountTableTest, RowLinesAreLocationsMadeWhenAsked) {
  // SetRowLine(n) is the location "line n: ", for the table's readers and
  // for binding's messages; rows before, between and after numbered rows
  // (bare ones too) have none; a location text wins; Clear forgets lines.
  auto model = testing::OneOfEachModel();
  AccountTable table;
  for (int round = 0; round < 2; ++round) {
    table.Clear();
    TableBuilder b(&table);
    b.BeginRow("before");
    b.EndRow();
    b.BeginRow("numbered");
    b.SetRowLine(12);
    b.PutString(b.Column({"metrics", "dau_mau"}), "lots");
    b.EndRow();
    const std::string_view bare[] = {"bare1", "bare2"};
    b.AddBareRows(bare, 2);
    b.BeginRow("texted");
    b.SetRowLine(7);
    b.SetRowLocation("record 7: ");
    b.EndRow();
    b.BeginRow("unknown");
    b.SetRowLine(40);
    b.PutNumber(b.Column({"metrics", "zzz"}), 3);
    b.EndRow();
    b.BeginRow("after");
    b.EndRow();
    if (round == 1) {
      // Refilled without lines: none is left from the first round.
      table.Clear();
      TableBuilder again(&table);
      again.BeginRow("plain");
      again.EndRow();
      ASSERT_EQ(table.size(), 1u);
      EXPECT_EQ(table.row_location(0), "");
      break;
    }
    ASSERT_EQ(table.size(), 7u);
    const std::string_view locations[] = {
        "", "line 12: ", "", "", "record 7: ", "line 40: ", ""};
    for (size_t r = 0; r < table.size(); ++r) {
      SCOPED_TRACE(table.id(r));
      EXPECT_EQ(table.row_location(r), locations[r]);
    }

    Batch batch(model);
    TableBinder binder(model);
    binder.set_strict(true);
    binder.set_unknown_names_fail(true);
    binder.Bind(table, &batch);
    ASSERT_EQ(batch.size(), 7u);
    EXPECT_EQ(batch.row_error(1),
              "line 12: metrics.dau_mau: expected a number, got the string "
              "\"lots\"");
    EXPECT_EQ(batch.row_error(5),
              "line 40: metrics.zzz: the model declares no number input "
              "\"zzz\"");
    for (size_t r : {0, 2, 3, 4, 6}) EXPECT_EQ(batch.row_error(r), "") << r;
  }
}

TEST(AccountTableTest, RowValuesListAValuePerFieldAsWritten) {
  AccountTable table;
  TableBuilder b(&table);
  b.BeginRow("a");
  b.SetRowLocation("line 3: ");
  b.PutNumber(b.Column({"", "n"}), 2.5);
  b.PutString(b.Column({"", "s"}), "x");
  b.PutText(b.Column({"", "t"}), "7");
  b.PutBool(b.Column({"", "b"}), true);
  const double points[] = {1, 2, 3};
  b.PutSeries(b.Column({"", "l"}), points, 3);
  const int o = b.Column({"", "o"});
  b.BeginObject(o);
  b.PutNumber(o, 9);  // inside the object: not listed
  b.EndObject(true);
  b.PutUnusable(b.Column({"", "u"}), "bad");
  b.EndRow();
  b.BeginRow("b");
  b.PutNumber(b.Column({"", "n"}), 4);
  b.EndRow();

  EXPECT_EQ(table.row_location(0), "line 3: ");
  EXPECT_EQ(table.row_location(1), "");
  std::vector<AccountTable::RowValue> values;
  table.RowValues(0, &values);
  using Kind = AccountTable::Kind;
  ASSERT_EQ(values.size(), 7u);
  EXPECT_EQ(table.column(values[0].column).name, "n");
  EXPECT_EQ(values[0].kind, Kind::kNumber);
  EXPECT_EQ(values[0].number, 2.5);
  EXPECT_EQ(values[1].kind, Kind::kString);
  EXPECT_EQ(values[1].text, "x");
  EXPECT_EQ(values[2].kind, Kind::kText);
  EXPECT_EQ(values[2].text, "7");
  EXPECT_EQ(values[3].kind, Kind::kBool);
  EXPECT_TRUE(values[3].flag);
  EXPECT_EQ(values[4].kind, Kind::kSeries);
  EXPECT_EQ(values[4].points, 3u);
  EXPECT_EQ(values[5].kind, Kind::kObject);
  EXPECT_EQ(table.column(values[5].column).name, "o");
  EXPECT_EQ(values[6].kind, Kind::kUnusable);
  EXPECT_EQ(values[6].text, "bad");
  table.RowValues(1, &values);
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].number, 4);
}

}  // namespace
}  // namespace healthscore::engine::eval
