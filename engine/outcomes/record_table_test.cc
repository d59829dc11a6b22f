#include "engine/outcomes/record_table.h"

#include <fstream>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/eval/batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::outcomes {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::StartsWith;
using Cell = RecordTable::Cell;

constexpr io::InputFormat kCsv = io::InputFormat::kCsv;
constexpr io::InputFormat kJsonl = io::InputFormat::kJsonLines;

// flag (bool), amount (number), day (date), plan (string).
RecordSchema TestSchema(bool keep_other = false) {
  RecordSchema schema;
  schema.columns = {{"flag", ColumnType::kBool},
                    {"amount", ColumnType::kNumber},
                    {"day", ColumnType::kDate},
                    {"plan", ColumnType::kString}};
  schema.keep_other_columns = keep_other;
  return schema;
}
constexpr size_t kFlag = 0, kAmount = 1, kDay = 2, kPlan = 3;

absl::StatusOr<RecordTable> Read(std::string text, io::InputFormat format,
                                 const RecordSchema& schema = TestSchema(),
                                 const RecordReaderOptions& options = {}) {
  return ReadRecords(io::StringSource(std::move(text)), format, schema,
                     options);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

double Day(const char* iso) {
  double days = 0;
  EXPECT_TRUE(eval::ParseIsoDate(iso, &days)) << iso;
  return days;
}

TEST(RecordTableTest, ReadsEveryColumnTypeFromCsv) {
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,flag,amount,day,plan,segment\n"
                            "a,true,1200.5,2026-01-31,gold,smb\n"
                            "b,NO,-3e2,2026-02-01T10:00:00Z, silver ,\n"
                            "c,,,,,ent\n",
                            kCsv, TestSchema(/*keep_other=*/true)));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.id(0), "a");
  EXPECT_EQ(t.line(0), 2u);
  EXPECT_EQ(t.line(2), 4u);
  EXPECT_EQ(t.lines_read(), 4u);
  ASSERT_EQ(t.column_count(), 5u);
  EXPECT_EQ(t.column_name(4), "segment");
  EXPECT_EQ(t.column_type(4), ColumnType::kString);
  EXPECT_FALSE(t.column_declared(4));
  EXPECT_TRUE(t.column_declared(kPlan));
  EXPECT_EQ(t.FindColumn("segment"), 4);
  EXPECT_EQ(t.FindColumn("nope"), -1);

  EXPECT_TRUE(t.flag(kFlag, 0));
  EXPECT_DOUBLE_EQ(t.number(kAmount, 0), 1200.5);
  EXPECT_EQ(t.number(kDay, 0), Day("2026-01-31"));
  EXPECT_EQ(t.text(kPlan, 0), "gold");
  EXPECT_EQ(t.text(4, 0), "smb");

  EXPECT_TRUE(t.has(kFlag, 1));
  EXPECT_FALSE(t.flag(kFlag, 1));
  EXPECT_DOUBLE_EQ(t.number(kAmount, 1), -300);
  // The time part is checked, then ignored.
  EXPECT_EQ(t.number(kDay, 1), Day("2026-02-01"));
  // A string cell is kept as written, as for snapshot string inputs.
  EXPECT_EQ(t.text(kPlan, 1), " silver ");
  EXPECT_EQ(t.cell(4, 1), Cell::kMissing);

  // Empty cells are missing, not bad.
  for (size_t c : {kFlag, kAmount, kDay, kPlan}) {
    EXPECT_EQ(t.cell(c, 2), Cell::kMissing) << c;
  }
  EXPECT_EQ(t.text(kPlan, 2), "");
  EXPECT_EQ(t.string_code(kPlan, 2), -1);
  EXPECT_EQ(t.text(4, 2), "ent");
  EXPECT_EQ(t.bad_values().count, 0u);
  EXPECT_EQ(t.bad_records().count, 0u);
  EXPECT_THAT(t.ignored_columns(), IsEmpty());
  EXPECT_EQ(t.FindRow("b"), 1);
  EXPECT_EQ(t.FindRow("z"), -1);
}

TEST(RecordTableTest, ReadsEveryColumnTypeFromJsonLines) {
  ASSERT_OK_AND_ASSIGN(
      RecordTable t,
      Read(
          R"({"id": "a", "flag": true, "amount": 1200.5, "day": "2026-01-31", "plan": "gold", "segment": "smb"}
{"id": "b", "flag": 0, "amount": "NaN", "day": null, "plan": 3, "seats": 12.5}

{"plan": true, "flag": 1.0, "id": 17}
)",
          kJsonl, TestSchema(/*keep_other=*/true)));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.line(1), 2u);
  EXPECT_EQ(t.line(2), 4u);  // the blank line counts
  EXPECT_TRUE(t.flag(kFlag, 0));
  EXPECT_DOUBLE_EQ(t.number(kAmount, 0), 1200.5);
  EXPECT_EQ(t.number(kDay, 0), Day("2026-01-31"));
  EXPECT_EQ(t.text(kPlan, 0), "gold");
  ASSERT_EQ(t.FindColumn("segment"), 4);
  ASSERT_EQ(t.FindColumn("seats"), 5);
  EXPECT_EQ(t.text(4, 0), "smb");
  EXPECT_EQ(t.cell(5, 0), Cell::kMissing);  // named only from line 2 on

  // The numbers 1 and 0 are booleans; "NaN" and null are missing; a number
  // in a string column is kept as its text.
  EXPECT_TRUE(t.has(kFlag, 1));
  EXPECT_FALSE(t.flag(kFlag, 1));
  EXPECT_EQ(t.cell(kAmount, 1), Cell::kMissing);
  EXPECT_EQ(t.cell(kDay, 1), Cell::kMissing);
  EXPECT_EQ(t.text(kPlan, 1), "3");
  EXPECT_EQ(t.text(5, 1), "12.5");
  EXPECT_EQ(t.cell(4, 1), Cell::kMissing);

  // A numeric id is kept as written; a boolean in a string column is its
  // JSON text.
  EXPECT_EQ(t.id(2), "17");
  EXPECT_TRUE(t.flag(kFlag, 2));
  EXPECT_EQ(t.text(kPlan, 2), "true");
  EXPECT_EQ(t.bad_values().count, 0u);
}

// price (decimal) beside the test schema's columns.
RecordSchema DecimalSchema() {
  RecordSchema schema;
  schema.columns = {{"price", ColumnType::kDecimal},
                    {"plan", ColumnType::kString}};
  return schema;
}
constexpr size_t kPrice = 0;

common::Decimal Dec(const char* text) {
  common::Decimal d;
  EXPECT_TRUE(common::ParseDecimal(text, &d)) << text;
  return d;
}

TEST(RecordTableTest, DecimalColumnsFromCsvAreExact) {
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,price,plan\n"
                            "a,1234.56,x\n"
                            "b, -0.10 ,x\n"
                            "c,1.5e3,x\n"
                            "d,,x\n"
                            "e,NaN,x\n"
                            "f,12345678901234567890.12,x\n",
                            kCsv, DecimalSchema()));
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t.column_type(kPrice), ColumnType::kDecimal);
  EXPECT_EQ(ColumnTypeName(ColumnType::kDecimal), "decimal");
  EXPECT_EQ(t.decimal(kPrice, 0), Dec("1234.56"));
  EXPECT_DOUBLE_EQ(t.number(kPrice, 0), 1234.56);
  EXPECT_EQ(t.decimal(kPrice, 1), Dec("-0.1"));
  EXPECT_EQ(t.decimal(kPrice, 2), Dec("1500"));
  EXPECT_EQ(t.cell(kPrice, 3), Cell::kMissing);
  EXPECT_EQ(t.cell(kPrice, 4), Cell::kMissing);  // NaN is missing
  // 22 significant digits: more than a double holds, kept exactly.
  EXPECT_EQ(t.decimal(kPrice, 5).ToString(), "12345678901234567890.12");
  EXPECT_EQ(t.bad_values().count, 0u);
  EXPECT_EQ(t.rounded_values().count, 0u);
}

TEST(RecordTableTest, DecimalColumnsFromJsonTakeNumbersAndStrings) {
  ASSERT_OK_AND_ASSIGN(
      RecordTable t,
      Read("{\"id\": \"a\", \"price\": 0.1}\n"
           "{\"id\": \"b\", \"price\": \"12345678901234567890.12\"}\n"
           "{\"id\": \"c\", \"price\": 99.99}\n"
           "{\"id\": \"d\", \"price\": null}\n"
           "{\"id\": \"e\", \"price\": true}\n"
           "{\"id\": \"f\", \"price\": \"ten\"}\n"
           "{\"id\": \"g\", \"price\": 1e30}\n",
           kJsonl, DecimalSchema()));
  ASSERT_EQ(t.size(), 7u);
  // The JSON number 0.1 is the double 0.1000000000000000055...; read as
  // its shortest text "0.1", it is exactly one tenth.
  EXPECT_EQ(t.decimal(kPrice, 0), Dec("0.1"));
  EXPECT_EQ(t.decimal(kPrice, 1).ToString(), "12345678901234567890.12");
  EXPECT_EQ(t.decimal(kPrice, 2), Dec("99.99"));
  EXPECT_EQ(t.cell(kPrice, 3), Cell::kMissing);
  EXPECT_EQ(t.cell(kPrice, 4), Cell::kBad);
  EXPECT_EQ(t.cell(kPrice, 5), Cell::kBad);
  EXPECT_EQ(t.cell(kPrice, 6), Cell::kBad);
  EXPECT_THAT(
      t.bad_values().texts,
      ElementsAre("line 5: price: expected a decimal number, got true; used "
                  "as missing",
                  "line 6: price: \"ten\" is not a decimal number; used as "
                  "missing",
                  "line 7: price: the number 1e+30 is out of range for a "
                  "decimal amount; used as missing"));
}

TEST(RecordTableTest, DecimalsPastTwelveDecimalsAreRoundedAndCounted) {
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,price,plan\n"
                            "a,0.0000000000125,x\n"
                            "b,0.1000000000000,x\n"
                            "c,1e27,x\n"
                            "d,1_000,x\n",
                            kCsv, DecimalSchema()));
  ASSERT_EQ(t.size(), 4u);
  // 13th digit 5, nothing after: half to even, 12 units -> 1.2e-11.
  EXPECT_EQ(t.decimal(kPrice, 0).units(), absl::int128(12));
  // Zeros past the 12th decimal round nothing away.
  EXPECT_EQ(t.decimal(kPrice, 1), Dec("0.1"));
  EXPECT_THAT(t.rounded_values().texts,
              ElementsAre("line 2: price: \"0.0000000000125\" has more than "
                          "12 decimals; rounded to 0.000000000012"));
  EXPECT_EQ(t.rounded_values().count, 1u);
  EXPECT_THAT(
      t.bad_values().texts,
      ElementsAre("line 4: price: \"1e27\" is out of range for a decimal "
                  "amount (at most about 1.7e26); used as missing",
                  "line 5: price: \"1_000\" is not a decimal number; used as "
                  "missing"));
}

TEST(RecordTableTest, StrictDropsARecordWithItsRoundedDecimal) {
  RecordReaderOptions options;
  options.reader.strict = true;
  RecordSchema schema = DecimalSchema();
  schema.columns.push_back({"day", ColumnType::kDate});
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,price,plan,day\n"
                            "a,0.0000000000001,x,nope\n"
                            "b,2.50,x,2026-01-01\n",
                            kCsv, schema, options));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.id(0), "b");
  EXPECT_EQ(t.decimal(kPrice, 0), Dec("2.5"));
  EXPECT_EQ(t.bad_records().count, 1u);
  EXPECT_EQ(t.rounded_values().count, 0u);  // its record was dropped
}

TEST(RecordTableTest, DecimalColumnsSurviveDroppedDuplicates) {
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,price,plan\n"
                            "a,1.01,x\n"
                            "b,2.02,x\n"
                            "a,3.03,x\n"
                            "c,4.04,x\n",
                            kCsv, DecimalSchema()));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.id(1), "c");
  EXPECT_EQ(t.decimal(kPrice, 0), Dec("2.02"));
  EXPECT_EQ(t.decimal(kPrice, 1), Dec("4.04"));
}

TEST(RecordTableTest, BooleanWordsInCsv) {
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("id,flag\n"
                            "a,TRUE\nb,False\nc,yes\nd,No\ne,1\nf,0\n"
                            "g,1.0\nh, 0.0 \ni,maybe\nj,2\nk,nan\n",
                            kCsv));
  ASSERT_EQ(t.size(), 11u);
  const bool want[] = {true, false, true, false, true, false, true, false};
  for (size_t r = 0; r < 8; ++r) {
    ASSERT_TRUE(t.has(kFlag, r)) << t.id(r);
    EXPECT_EQ(t.flag(kFlag, r), want[r]) << t.id(r);
  }
  for (size_t r = 8; r < 11; ++r) {
    EXPECT_EQ(t.cell(kFlag, r), Cell::kBad) << t.id(r);
  }
  EXPECT_EQ(t.bad_values().count, 3u);
  EXPECT_THAT(t.bad_values().texts,
              ElementsAre("line 10: flag: \"maybe\" is not a boolean "
                          "(true/false, yes/no, 1/0); used as missing",
                          "line 11: flag: \"2\" is not a boolean (true/false, "
                          "yes/no, 1/0); used as missing",
                          "line 12: flag: \"nan\" is not a boolean "
                          "(true/false, yes/no, 1/0); used as missing"));
}

TEST(RecordTableTest, ABadCsvValueCostsThatValueOnly) {
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read("id,flag,amount,day,plan\n"
                                           "a,true,12;5,2026-02-30,gold\n"
                                           "b,false,1e999,31/01/2026,silver\n"
                                           "c,yes,NaN,2026-03-01,bronze\n",
                                           kCsv));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_TRUE(t.flag(kFlag, 0));
  EXPECT_EQ(t.cell(kAmount, 0), Cell::kBad);
  EXPECT_EQ(t.cell(kDay, 0), Cell::kBad);
  EXPECT_EQ(t.text(kPlan, 0), "gold");
  EXPECT_EQ(t.cell(kAmount, 1), Cell::kBad);
  EXPECT_EQ(t.cell(kDay, 1), Cell::kBad);
  EXPECT_EQ(t.text(kPlan, 1), "silver");
  // A non-finite word is missing, as for snapshot inputs: not bad.
  EXPECT_EQ(t.cell(kAmount, 2), Cell::kMissing);
  EXPECT_EQ(t.number(kDay, 2), Day("2026-03-01"));
  EXPECT_EQ(t.bad_values().count, 4u);
  EXPECT_THAT(
      t.bad_values().texts,
      ElementsAre(
          "line 2: amount: \"12;5\" is not a number; used as missing",
          "line 2: day: \"2026-02-30\" is not a date (YYYY-MM-DD); used as "
          "missing",
          "line 3: amount: \"1e999\" is too large for a number; used as "
          "missing",
          "line 3: day: \"31/01/2026\" is not a date (YYYY-MM-DD); used as "
          "missing"));
}

TEST(RecordTableTest, ABadJsonValueCostsThatValueOnly) {
  ASSERT_OK_AND_ASSIGN(
      RecordTable t,
      Read(
          R"({"id": "a", "flag": "yes", "amount": "12", "day": 20260131, "plan": [1, 2]}
{"id": "b", "flag": 2, "amount": true, "day": {"y": 2026}, "plan": "x", "plan": "y"}
{"id": "c", "amount": 1e999, "flag": false}
)",
          kJsonl));
  ASSERT_EQ(t.size(), 3u);
  for (size_t c : {kFlag, kAmount, kDay, kPlan}) {
    EXPECT_EQ(t.cell(c, 0), Cell::kBad) << c;
    EXPECT_EQ(t.cell(c, 1), Cell::kBad) << c;
  }
  EXPECT_EQ(t.cell(kAmount, 2), Cell::kBad);
  EXPECT_FALSE(t.flag(kFlag, 2));
  EXPECT_TRUE(t.has(kFlag, 2));
  EXPECT_EQ(t.bad_values().count, 9u);
  EXPECT_THAT(
      t.bad_values().texts,
      ElementsAre(
          "line 1: flag: expected a boolean (true/false, yes/no, 1/0), got "
          "the string \"yes\"; used as missing",
          "line 1: amount: expected a number, got the string \"12\"; used as "
          "missing",
          "line 1: day: expected a date (YYYY-MM-DD), got the number "
          "20260131; used as missing",
          "line 1: plan: expected a string, got a list; used as missing",
          "line 2: flag: expected a boolean (true/false, yes/no, 1/0), got "
          "the number 2; used as missing",
          "line 2: amount: expected a number, got true; used as missing",
          "line 2: day: expected a date (YYYY-MM-DD), got an object; used as "
          "missing",
          "line 2: plan: given twice in one record; used as missing",
          HasSubstr("line 3: amount: expected a number, got a value that "
                    "cannot be read (invalid number")));
}

TEST(RecordTableTest, StrictDropsARecordWithABadValue) {
  RecordReaderOptions options;
  options.reader.strict = true;
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read("id,flag,amount,plan\n"
                                           "a,maybe,x,gold\n"
                                           "b,true,2,silver\n",
                                           kCsv, TestSchema(), options));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.id(0), "b");
  EXPECT_EQ(t.text(kPlan, 0), "silver");
  EXPECT_EQ(t.string_dictionary(kPlan).size(), 2u);  // "gold" stays coded
  EXPECT_EQ(t.FindRow("a"), -1);
  EXPECT_EQ(t.bad_values().count, 0u);
  EXPECT_THAT(t.bad_records().texts,
              ElementsAre("line 2: flag: \"maybe\" is not a boolean "
                          "(true/false, yes/no, 1/0); amount: \"x\" is not a "
                          "number"));
}

TEST(RecordTableTest, ABadRecordCostsThatRecordOnly) {
  ASSERT_OK_AND_ASSIGN(RecordTable csv, Read("id,flag,amount\n"
                                             "a,true,1\n"
                                             "b,true\n"
                                             ",false,2\n"
                                             "c,\"x\"y,3\n"
                                             "d,false,4\n",
                                             kCsv));
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv.id(1), "d");
  EXPECT_EQ(csv.line(1), 6u);
  EXPECT_EQ(csv.bad_records().count, 3u);
  EXPECT_THAT(csv.bad_records().texts,
              ElementsAre("line 3: 2 fields, but the header has 3 columns",
                          "line 4: no id (the \"id\" cell is empty)",
                          StartsWith("line 5: malformed quoted field 2")));

  ASSERT_OK_AND_ASSIGN(RecordTable json,
                       Read("{\"id\": \"a\", \"amount\": 1}\n"
                            "{\"id\": \"b\", \"amount\": \n"
                            "[1, 2]\n"
                            "{\"amount\": 3}\n"
                            "{\"id\": \"a2\", \"id\": \"a3\"}\n"
                            "{\"id\": \"e\"} trailing\n"
                            "{\"id\": \"f\", \"amount\": 6}\n",
                            kJsonl));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json.id(1), "f");
  EXPECT_EQ(json.number(kAmount, 1), 6);
  EXPECT_EQ(json.bad_records().count, 5u);
  EXPECT_THAT(json.bad_records().texts,
              ElementsAre(StartsWith("line 2: invalid JSON"),
                          "line 3: expected a JSON object, got array",
                          "line 4: no id (\"id\" is missing or empty)",
                          StartsWith("line 5: id: the key appears twice"),
                          StartsWith("line 6: invalid JSON")));
}

TEST(RecordTableTest, AFileWithoutItsIdColumnIsAnError) {
  EXPECT_THAT(Read("account,flag\na,true\n", kCsv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CSV header (line 1) has no \"id\" column; "
                                 "columns: account, flag")));
  EXPECT_THAT(Read("id,flag,flag\na,true,false\n", kCsv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column \"flag\" appears twice")));
}

TEST(RecordTableTest, IdFieldNamesTheIdColumnAndKeepsNumbersAsWritten) {
  RecordReaderOptions options;
  options.reader.id_field = "customerID";
  ASSERT_OK_AND_ASSIGN(RecordTable csv, Read("customerID,flag,id\n007,true,x\n",
                                             kCsv, TestSchema(), options));
  ASSERT_EQ(csv.size(), 1u);
  EXPECT_EQ(csv.id(0), "007");
  // "id" is just another column now: not declared, so ignored.
  EXPECT_THAT(csv.ignored_columns(), ElementsAre(Pair("id", 1)));

  ASSERT_OK_AND_ASSIGN(
      RecordTable json,
      Read("{\"customerID\": 1.50, \"id\": \"x\", \"flag\": true}\n"
           "{\"customerID\": 12345678901234567890, \"flag\": false}\n",
           kJsonl, TestSchema(), options));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json.id(0), "1.50");
  EXPECT_EQ(json.id(1), "12345678901234567890");
  EXPECT_THAT(json.ignored_columns(), ElementsAre(Pair("id", 1)));

  EXPECT_THAT(Read("id,flag\na,true\n", kCsv, TestSchema(), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has no \"customerID\" column (--id-field)")));
}

TEST(RecordTableTest, ByteOrderMarkAndCrlfAreReadLikeSnapshots) {
  ASSERT_OK_AND_ASSIGN(RecordTable csv, Read("\xEF\xBB\xBFid,flag,plan\r\n"
                                             "a,yes,\"two\r\nlines\"\r\n"
                                             "b,no,x\r\n",
                                             kCsv));
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv.id(0), "a");
  EXPECT_TRUE(csv.flag(kFlag, 0));
  EXPECT_EQ(csv.text(kPlan, 0), "two\r\nlines");
  EXPECT_EQ(csv.line(1), 4u);
  EXPECT_FALSE(csv.flag(kFlag, 1));

  ASSERT_OK_AND_ASSIGN(RecordTable json,
                       Read("\xEF\xBB\xBF{\"id\": \"a\", \"flag\": true}\r\n"
                            "\r\n"
                            "{\"id\": \"b\", \"flag\": false}\r\n",
                            kJsonl));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json.id(0), "a");
  EXPECT_EQ(json.line(1), 3u);
  EXPECT_EQ(json.bad_records().count, 0u);
}

TEST(RecordTableTest, AnIdGivenTwiceDropsEveryRecordOfIt) {
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read("id,amount\n"
                                           "a,1\n"
                                           "b,2\n"
                                           "a,3\n"
                                           "c,4\n"
                                           "a,5\n"
                                           "c,6\n",
                                           kCsv));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.id(0), "b");
  EXPECT_EQ(t.number(kAmount, 0), 2);
  EXPECT_EQ(t.line(0), 3u);
  EXPECT_EQ(t.FindRow("b"), 0);
  EXPECT_EQ(t.FindRow("a"), -1);
  EXPECT_TRUE(t.IsDuplicateId("a"));
  EXPECT_TRUE(t.IsDuplicateId("c"));
  EXPECT_FALSE(t.IsDuplicateId("b"));
  EXPECT_EQ(t.duplicate_ids().count, 2u);
  EXPECT_EQ(t.duplicate_records(), 5u);
  EXPECT_THAT(t.duplicate_ids().texts,
              ElementsAre("id \"a\" is given by 3 records (lines 2, 4, 6); "
                          "all of them are dropped",
                          "id \"c\" is given by 2 records (lines 5, 7); all "
                          "of them are dropped"));
}

TEST(RecordTableTest, UnknownColumnsAreIgnoredAndCounted) {
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read("id,flag,segment,notes\n"
                                           "a,true,smb,\n"
                                           "b,false,ent,hi\n",
                                           kCsv));
  EXPECT_EQ(t.column_count(), 4u);
  // Counted per value given (an empty cell gives none).
  EXPECT_THAT(t.ignored_columns(),
              ElementsAre(Pair("notes", 1), Pair("segment", 2)));
  EXPECT_TRUE(t.column_in_file(kFlag));
  EXPECT_FALSE(t.column_in_file(kAmount));
}

TEST(RecordTableTest, AColumnWithoutANameIsNeverKept) {
  // pandas' to_csv writes the index as a first column with no name.
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read(",id,flag,segment\n"
                            "0,a,true,smb\n"
                            "1,b,false,ent\n",
                            kCsv, TestSchema(/*keep_other=*/true)));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.column_count(), 5u);
  EXPECT_EQ(t.column_name(4), "segment");
  EXPECT_THAT(t.ignored_columns(), ElementsAre(Pair("", 2)));
}

TEST(RecordTableTest, KeptColumnsAreBounded) {
  RecordReaderOptions options;
  options.max_columns = 5;  // the four declared ones and one more
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("{\"id\": \"a\", \"x\": \"1\", \"y\": \"2\"}\n"
                            "{\"id\": \"b\", \"y\": \"3\", \"z\": \"4\"}\n",
                            kJsonl, TestSchema(/*keep_other=*/true), options));
  ASSERT_EQ(t.column_count(), 5u);
  EXPECT_EQ(t.column_name(4), "x");
  EXPECT_THAT(t.ignored_columns(), ElementsAre(Pair("y", 2), Pair("z", 1)));
}

TEST(RecordTableTest, ARecordThatInventsThousandsOfKeysStaysBounded) {
  // One record with 20,000 distinct keys: 256 columns kept at most, the
  // names of ignored ones listed up to 64, every value counted.
  std::string line = "{\"id\": \"a\"";
  for (int i = 0; i < 20000; ++i) {
    line += ", \"k" + std::to_string(i) + "\": \"v\"";
  }
  line += "}\n{\"id\": \"b\", \"flag\": true}\n";
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read(line, kJsonl, TestSchema(/*keep_other=*/true)));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.column_count(), 256u);
  EXPECT_EQ(t.ignored_columns().size(), 64u);
  EXPECT_TRUE(t.flag(kFlag, 1));
}

TEST(RecordTableTest, ACsvHeaderWithManyColumnsIsRead) {
  // 200,000 columns (about 1.4 MB of header), none declared.
  std::string header = "id";
  std::string row = "a";
  for (int i = 0; i < 200000; ++i) {
    header += ",c" + std::to_string(i);
    row += ",";
  }
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read(header + "\n" + row + "\n", kCsv));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.column_count(), 4u);
  EXPECT_THAT(t.ignored_columns(), IsEmpty());  // empty cells give nothing
}

TEST(RecordTableTest, AMissingIdColumnAmongManyIsNamedBriefly) {
  std::string header = "x0";
  for (int i = 1; i < 100000; ++i) header += ",x" + std::to_string(i);
  const auto t = Read(header + "\n", kCsv);
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("columns: x0, x1, ")));
  EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("… and 99980 more")));
  EXPECT_LT(t.status().message().size(), 1000u);
}

TEST(RecordTableTest, AnOverlongLineIsABadRecord) {
  RecordReaderOptions options;
  options.reader.max_line_bytes = 64;
  options.reader.block_size = 16;
  const std::string long_plan(200, 'x');
  ASSERT_OK_AND_ASSIGN(RecordTable json,
                       Read("{\"id\": \"a\", \"plan\": \"" + long_plan +
                                "\"}\n" + "{\"id\": \"b\", \"plan\": \"p\"}\n",
                            kJsonl, TestSchema(), options));
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json.id(0), "b");
  EXPECT_THAT(json.bad_records().texts,
              ElementsAre(HasSubstr("line 1: the line is 223 bytes long, "
                                    "more than the limit of 64 bytes")));

  ASSERT_OK_AND_ASSIGN(
      RecordTable csv,
      Read("id,plan\na," + long_plan + "\nb,p\n", kCsv, TestSchema(), options));
  ASSERT_EQ(csv.size(), 1u);
  EXPECT_EQ(csv.id(0), "b");
  EXPECT_THAT(csv.bad_records().texts,
              ElementsAre(HasSubstr("line 2: the record is 202 bytes long, "
                                    "more than the limit of 64 bytes")));
}

TEST(RecordTableTest, ADeeplyNestedValueCostsItsValueOnly) {
  // 100,000 nested lists: simdjson skips them without recursing, and the
  // list is not a string.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ASSERT_OK_AND_ASSIGN(
      RecordTable t,
      Read("{\"id\": \"a\", \"plan\": " + deep + ", \"flag\": true}\n" +
               "{\"id\": \"b\", \"plan\": \"p\"}\n",
           kJsonl));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.cell(kPlan, 0), Cell::kBad);
  EXPECT_TRUE(t.flag(kFlag, 0));
  EXPECT_EQ(t.text(kPlan, 1), "p");
  EXPECT_THAT(t.bad_values().texts,
              ElementsAre(StartsWith("line 1: plan: expected a string, got a "
                                     "value that cannot be read (point 1 is "
                                     "not a number")));
}

TEST(RecordTableTest, DeeplyNestedObjectsCostTheirValueOnly) {
  // The reader looks into {"values": ...} (the protobuf JSON form of a
  // series) but not into an object there, so nesting it 100,000 deep
  // costs no stack.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"values\": ";
  deep += "1";
  deep += std::string(100000, '}');
  ASSERT_OK_AND_ASSIGN(RecordTable t,
                       Read("{\"id\": \"a\", \"plan\": " + deep + "}\n" +
                                "{\"id\": \"b\", \"plan\": \"p\"}\n",
                            kJsonl));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.cell(kPlan, 0), Cell::kBad);
  EXPECT_EQ(t.text(kPlan, 1), "p");
  EXPECT_THAT(t.bad_values().texts,
              ElementsAre("line 1: plan: expected a string, got an object; "
                          "used as missing"));
}

TEST(RecordTableTest, ProblemTextsAreBoundedButEveryProblemIsCounted) {
  RecordReaderOptions options;
  options.max_problem_texts = 2;
  std::string text = "id,flag\n";
  for (int i = 0; i < 10; ++i) text += "a" + std::to_string(i) + ",maybe\n";
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read(text, kCsv, TestSchema(), options));
  EXPECT_EQ(t.bad_values().count, 10u);
  EXPECT_EQ(t.bad_values().texts.size(), 2u);
}

TEST(RecordTableTest, ManyRecordsInSmallBlocks) {
  // More records than one AccountTable fill (4,096), lines across blocks
  // of 7 bytes, and a column first named late in the file.
  RecordReaderOptions options;
  options.reader.block_size = 7;
  std::string json;
  for (int i = 0; i < 10000; ++i) {
    json += "{\"id\": \"a" + std::to_string(i) +
            "\", \"amount\": " + std::to_string(i) +
            (i == 9000 ? ", \"late\": \"yes\"" : "") + ", \"junk\": 1}\n";
  }
  ASSERT_OK_AND_ASSIGN(
      RecordTable t,
      Read(json, kJsonl, TestSchema(/*keep_other=*/true), options));
  ASSERT_EQ(t.size(), 10000u);
  EXPECT_EQ(t.line(9999), 10000u);
  EXPECT_EQ(t.number(kAmount, 9999), 9999);
  EXPECT_EQ(t.FindRow("a4321"), 4321);
  const int late = t.FindColumn("late");
  ASSERT_GE(late, 0);
  EXPECT_EQ(t.cell(late, 0), Cell::kMissing);
  EXPECT_EQ(t.text(late, 9000), "yes");
  EXPECT_EQ(t.cell(late, 9001), Cell::kMissing);
  EXPECT_EQ(t.text(t.FindColumn("junk"), 5000), "1");
}

TEST(RecordTableTest, IgnoredValuesAreCountedAcrossFills) {
  std::string csv = "id,junk\n";
  for (int i = 0; i < 10000; ++i) csv += "a" + std::to_string(i) + ",x\n";
  ASSERT_OK_AND_ASSIGN(RecordTable t, Read(csv, kCsv));
  EXPECT_EQ(t.size(), 10000u);
  EXPECT_THAT(t.ignored_columns(), ElementsAre(Pair("junk", 10000)));
}

TEST(RecordTableTest, BadSchemasAreRefused) {
  RecordSchema twice = TestSchema();
  twice.columns.push_back({"flag", ColumnType::kNumber});
  EXPECT_THAT(Read("id\n", kCsv, twice),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column \"flag\" is declared twice")));
  RecordSchema id = TestSchema();
  id.columns.push_back({"id", ColumnType::kString});
  EXPECT_THAT(Read("id\n", kCsv, id),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column \"id\" is the id field")));
  RecordSchema empty = TestSchema();
  empty.columns.push_back({"", ColumnType::kString});
  EXPECT_THAT(Read("id\n", kCsv, empty),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column 5 has an empty name")));
}

TEST(RecordTableTest, ReadsFilesAndNamesThemInErrors) {
  const std::string dir = common::testing::ScratchDir("record_table_test");
  const std::string path = dir + "/out.csv";
  WriteFile(path, "id,flag\na,true\n");
  ASSERT_OK_AND_ASSIGN(RecordTable t, ReadRecordFile(path, kCsv, TestSchema()));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_THAT(ReadRecordFile(dir + "/none.csv", kCsv, TestSchema()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.csv")));
  const std::string bad = dir + "/bad.csv";
  WriteFile(bad, "x,flag\n");
  EXPECT_THAT(ReadRecordFile(bad, kCsv, TestSchema()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.csv: CSV header (line 1) has no")));
}

TEST(RecordTableTest, AnEmptyFileHasNoRecords) {
  ASSERT_OK_AND_ASSIGN(RecordTable csv, Read("", kCsv));
  EXPECT_EQ(csv.size(), 0u);
  EXPECT_FALSE(csv.column_in_file(kFlag));
  ASSERT_OK_AND_ASSIGN(RecordTable header, Read("id,flag\n", kCsv));
  EXPECT_EQ(header.size(), 0u);
  EXPECT_TRUE(header.column_in_file(kFlag));
  ASSERT_OK_AND_ASSIGN(RecordTable json, Read("\n\n", kJsonl));
  EXPECT_EQ(json.size(), 0u);
}

}  // namespace
}  // namespace healthscore::engine::outcomes
