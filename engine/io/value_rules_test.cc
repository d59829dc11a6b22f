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
