// The value rules (engine/eval/testing/value_cases.h) through the JSON
// Lines and CSV readers. server/convert_value_rules_test.cc drives the same
// table through the server's map and columnar forms.

#include <string>

#include "engine/common/number_format.h"
#include "engine/eval/batch.h"
#include "engine/eval/testing/value_cases.h"
#include "engine/io/snapshot_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::io {

using common::FormatNumber;
using eval::Batch;
using eval::RowWarnings;
using model::InputType;

namespace {

using engine::eval::testing::Mismatch;
using engine::eval::testing::Observe;
using engine::eval::testing::Outcome;
using engine::eval::testing::Value;
using engine::eval::testing::ValueCase;
using engine::eval::testing::ValueCases;
using engine::eval::testing::ValueCasesModel;

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string JsonValue(const Value& v) {
  switch (v.kind) {
    case Value::kNull:
      return "null";
    case Value::kNumber:
      return FormatNumber(v.number);
    case Value::kString:
      return JsonString(v.text);
    case Value::kBool:
      return v.flag ? "true" : "false";
    case Value::kPoints: {
      std::string out = "[";
      for (size_t i = 0; i < v.points.size(); ++i) {
        if (i > 0) out += ", ";
        // protobuf's JSON spelling of a non-finite double.
        out += std::isnan(v.points[i]) ? "\"NaN\"" : FormatNumber(v.points[i]);
      }
      return out + "]";
    }
    case Value::kJson:
      return v.text;
  }
  return "null";
}

std::string CsvCell(const std::string& cell) {
  if (cell.find_first_of(",\"\n") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

Batch ReadAll(std::unique_ptr<SnapshotReader> reader) {
  Batch batch(ValueCasesModel());
  auto n = reader->ReadBatch(&batch, 1000);
  EXPECT_TRUE(n.ok()) << n.status();
  return batch;
}

TEST(ValueRulesTest, TheModelCompiles) {
  ASSERT_NE(ValueCasesModel(), nullptr);
}

TEST(ValueRulesTest, JsonLines) {
  ASSERT_NE(ValueCasesModel(), nullptr);
  std::string text;
  for (size_t i = 0; i < ValueCases().size(); ++i) {
    const ValueCase& c = ValueCases()[i];
    text += "{\"id\": \"c" + std::to_string(i) + "\", \"" + c.section +
            "\": {\"" + eval::testing::InputFor(c.type) +
            "\": " + JsonValue(c.value) + "}}\n";
  }
  for (const bool strict : {false, true}) {
    ReaderOptions options;
    options.strict = strict;
    Batch batch = ReadAll(
        std::make_unique<JsonLinesReader>(StringSource(text), options));
    ASSERT_EQ(batch.size(), ValueCases().size());
    for (size_t i = 0; i < ValueCases().size(); ++i) {
      const ValueCase& c = ValueCases()[i];
      EXPECT_EQ(Mismatch(Observe(batch, i, eval::testing::InputFor(c.type)),
                         c.typed, c.type, strict),
                "")
          << c.name << (strict ? " (strict)" : "") << ": line "
          << i + 1;
    }
  }
}

TEST(ValueRulesTest, Csv) {
  ASSERT_NE(ValueCasesModel(), nullptr);
  std::string text = "id,n,s,d,ser\n";
  std::vector<const ValueCase*> cases;
  for (const ValueCase& c : ValueCases()) {
    if (c.csv_cell == nullptr) continue;
    const std::string cell = CsvCell(c.csv_cell);
    text += "c" + std::to_string(cases.size()) + "," +
            (c.type == InputType::kNumber ? cell : "") + "," +
            (c.type == InputType::kString ? cell : "") + "," +
            (c.type == InputType::kDate ? cell : "") + "," +
            (c.type == InputType::kSeries ? cell : "") + "\n";
    cases.push_back(&c);
  }
  ASSERT_GT(cases.size(), 20u);
  for (const bool strict : {false, true}) {
    ReaderOptions options;
    options.strict = strict;
    Batch batch =
        ReadAll(std::make_unique<CsvReader>(StringSource(text), options));
    ASSERT_EQ(batch.size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      const ValueCase& c = *cases[i];
      EXPECT_EQ(Mismatch(Observe(batch, i, eval::testing::InputFor(c.type)),
                         c.csv, c.type, strict),
                "")
          << c.name << (strict ? " (strict)" : "") << ": cell \""
          << c.csv_cell << "\"";
    }
  }
}

// Every problem of a record is reported, not only the first, and a value
// given twice (a repeated key, one input under two sections) is ambiguous:
// dropped, whichever came first.
TEST(ValueRulesTest, EveryProblemOfARecordIsReported) {
  const std::string text =
      R"({"id": "a", "metrics": {"n": "x", "s": 1}, )"
      R"("attributes": {"d": "soon", "n": 2}, "series": {"ser": [true]}})"
      "\n";
  JsonLinesReader reader(StringSource(text));
  Batch batch(ValueCasesModel());
  ASSERT_TRUE(reader.ReadBatch(&batch, 10).ok());
  ASSERT_TRUE(batch.row_ok(0));
  EXPECT_THAT(
      RowWarnings(batch, 0),
      ::testing::ElementsAre(
          "metrics.n: expected a number, got the string \"x\"; used as missing",
          "metrics.s: expected a string, got the number 1; used as missing",
          "attributes.d: \"soon\" is not a date (YYYY-MM-DD); used as missing",
          "attributes.n: given twice in one record (a repeated key, as_of and "
          "asOf, or one input under two sections); send it once; used as "
          "missing",
          "series.ser: point 1 is not a number (got boolean); used as "
          "missing"));
  EXPECT_EQ(batch.dropped_values(), 5u);
}

// Each type of input given twice is ambiguous and used as missing, with
// the warning on the second, through the binder's path for that type
// (numbers, dates and strings each have their own), and a value that does
// not fit is still reported as on the general path.
TEST(ValueRulesTest, AValueGivenTwiceIsMissingForEveryType) {
  const std::string text =
      R"({"id": "a", "dates": {"d": "2026-01-02"}, "attributes": )"
      R"({"d": "2026-03-04", "s": "x", "n": 2}, "metrics": {"s": "y", "n": 3}})"
      "\n"
      R"({"id": "b", "dates": {"d": "soon"}, "attributes": {"d": "2026-03-04"}})"
      "\n"
      R"({"id": "c", "dates": {"d": "2026-01-02"}, "attributes": {"s": "x"}, )"
      R"("metrics": {"n": 3}})"
      "\n";
  JsonLinesReader reader(StringSource(text));
  Batch batch(ValueCasesModel());
  ASSERT_TRUE(reader.ReadBatch(&batch, 10).ok());
  ASSERT_EQ(batch.size(), 3u);
  const model::CompiledModel& m = batch.model();
  const int n = m.inputs()[static_cast<size_t>(m.FindInput("n"))].column;
  const int s = m.inputs()[static_cast<size_t>(m.FindInput("s"))].column;
  const int d = m.inputs()[static_cast<size_t>(m.FindInput("d"))].column;
  EXPECT_EQ(batch.number_valid(d)[0], 0);
  EXPECT_EQ(batch.string_codes(s)[0], model::kMissingString);
  EXPECT_EQ(batch.number_valid(n)[0], 0);
  // Given once, each is kept.
  double day;
  ASSERT_TRUE(eval::ParseIsoDate("2026-01-02", &day));
  EXPECT_EQ(batch.number_valid(d)[2], 1);
  EXPECT_EQ(batch.number(d)[2], day);
  EXPECT_EQ(batch.string_text(s, 2), "x");
  EXPECT_EQ(batch.number(n)[2], 3);
  EXPECT_THAT(RowWarnings(batch, 2), ::testing::IsEmpty());
  const std::string twice =
      ": given twice in one record (a repeated key, as_of and asOf, or one "
      "input under two sections); send it once; used as missing";
  EXPECT_THAT(RowWarnings(batch, 0),
              ::testing::ElementsAre("attributes.d" + twice,
                                     "metrics.s" + twice,
                                     "metrics.n" + twice));
  // A date that is none is reported, and a second one is still twice.
  EXPECT_EQ(batch.number_valid(d)[1], 0);
  EXPECT_THAT(RowWarnings(batch, 1),
              ::testing::ElementsAre(
                  "dates.d: \"soon\" is not a date (YYYY-MM-DD); used as "
                  "missing",
                  "attributes.d" + twice));
}

// The id: --id-field for JSON Lines keys and CSV columns.
TEST(ValueRulesTest, IdFieldNamesTheCsvColumn) {
  ReaderOptions options;
  options.id_field = "account_id";
  CsvReader reader(StringSource("account_id,id,n\n7,crm-1,0.5\n,crm-2,1\n"),
                   options);
  Batch batch(ValueCasesModel());
  ASSERT_TRUE(reader.ReadBatch(&batch, 10).ok());
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.id(0), "7");
  EXPECT_TRUE(batch.row_ok(0));
  EXPECT_EQ(batch.row_error(1),
            "line 3: no id (the \"account_id\" cell is empty)");
  EXPECT_THAT(reader.ignored_names(),
              ::testing::ElementsAre(
                  std::pair<const std::string, uint64_t>("id", 1)));

  CsvReader no_column(StringSource("id,n\na,1\n"), options);
  EXPECT_THAT(no_column.ReadBatch(&batch, 10).status().message(),
              ::testing::HasSubstr("has no \"account_id\" column "
                                   "(--id-field)"));
}

}  // namespace
}  // namespace healthscore::engine::io
