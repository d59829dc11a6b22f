#include "engine/io/snapshot_reader.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::io {
namespace {

using ::healthscore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::shared_ptr<const CompiledModel> BasicModel() {
  static auto* model = [] {
    auto m = LoadModel(HEALTHSCORE_SOURCE_DIR
                       "/engine/io/testdata/basic/model.yaml");
    EXPECT_TRUE(m.ok()) << m.status();
    return new std::shared_ptr<const CompiledModel>(*m);
  }();
  return *model;
}

// Reads everything from `reader` into one batch per call of ReadBatch and
// returns the rows of all batches as "id|error" strings, plus the last batch.
struct ReadAll {
  std::vector<std::string> rows;  // "id" or "id|error"
  std::vector<size_t> batch_sizes;
};

ReadAll ReadEverything(SnapshotReader* reader, size_t max_rows) {
  ReadAll out;
  Batch batch(BasicModel());
  for (;;) {
    auto n = reader->ReadBatch(&batch, max_rows);
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) break;
    EXPECT_EQ(*n, batch.size());
    out.batch_sizes.push_back(*n);
    for (size_t r = 0; r < batch.size(); ++r) {
      std::string row(batch.id(r));
      if (!batch.row_ok(r)) row += "|" + batch.row_error(r);
      out.rows.push_back(row);
    }
  }
  return out;
}

int Input(const char* id) {
  const CompiledModel& m = *BasicModel();
  int input = m.FindInput(id);
  EXPECT_GE(input, 0) << id;
  return input;
}
int Column(const char* id) { return BasicModel()->inputs()[Input(id)].column; }

std::vector<double> SeriesOf(const Batch& batch, const char* id, size_t row) {
  int c = Column(id);
  if (!batch.series_valid(c)[row]) return {};
  const uint32_t* off = batch.series_offsets(c);
  return std::vector<double>(batch.series_values(c) + off[row],
                             batch.series_values(c) + off[row + 1]);
}

// The lines joined, each followed by "\n".
std::string JoinLines(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view line : lines) {
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

// Reads `text` as JSON Lines into one batch (at most 100 rows).
std::unique_ptr<Batch> ReadJsonLines(const std::string& text,
                                     ReaderOptions options = {}) {
  auto batch = std::make_unique<Batch>(BasicModel());
  JsonLinesReader reader(StringSource(text), options);
  auto n = reader.ReadBatch(batch.get(), 100);
  EXPECT_TRUE(n.ok()) << n.status();
  return batch;
}

std::unique_ptr<Batch> ReadCsv(const std::string& text,
                               ReaderOptions options = {}) {
  auto batch = std::make_unique<Batch>(BasicModel());
  CsvReader reader(StringSource(text), options);
  auto n = reader.ReadBatch(batch.get(), 100);
  EXPECT_TRUE(n.ok()) << n.status();
  return batch;
}

// ---------------------------------------------------------------------------
// JSON Lines

TEST(JsonLinesReaderTest, ReadsEveryKindOfValue) {
  auto batch = ReadJsonLines(JoinLines({
      R"({"id": "acme", "as_of": "2026-11-01",)"
      R"( "metrics": {"dau_mau": 0.42, "csat": 4},)"
      R"( "attributes": {"segment": "enterprise"},)"
      R"( "dates": {"renewal_date": "2027-01-31"},)"
      R"( "series": {"weekly_active_users": [120, 118, 131]},)"
      R"( "previous_score": 71.5, "previous_tier": "yellow"})",
  }));
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_EQ(batch->id(0), "acme");
  double day;
  ASSERT_TRUE(ParseIsoDate("2026-11-01", &day));
  EXPECT_TRUE(batch->as_of_valid()[0]);
  EXPECT_EQ(batch->as_of()[0], day);
  EXPECT_TRUE(batch->number_valid(Column("dau_mau"))[0]);
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[0], 0.42);
  EXPECT_DOUBLE_EQ(batch->number(Column("csat"))[0], 4);
  EXPECT_FALSE(batch->number_valid(Column("open_tickets"))[0]);
  EXPECT_EQ(batch->string_text(Column("segment"), 0), "enterprise");
  ASSERT_TRUE(ParseIsoDate("2027-01-31", &day));
  EXPECT_EQ(batch->number(Column("renewal_date"))[0], day);
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 0),
              ElementsAre(120, 118, 131));
  EXPECT_TRUE(batch->previous_score_valid()[0]);
  EXPECT_EQ(batch->previous_score()[0], 71.5);
  EXPECT_EQ(batch->previous_tier()[0], BasicModel()->FindTier("yellow"));
}

TEST(JsonLinesReaderTest, AcceptsBothSeriesFormsAndCamelCase) {
  auto batch = ReadJsonLines(JoinLines({
      R"({"id": "a", "series": {"weekly_active_users": {"values": [1, 2.5]}}})",
      R"({"id": "b", "asOf": "2026-01-02", "previousScore": 40,)"
      R"( "previousTier": "red", "series": {"weekly_active_users": []}})",
  }));
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_TRUE(batch->row_ok(1)) << batch->row_error(1);
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 0), ElementsAre(1, 2.5));
  EXPECT_TRUE(batch->series_valid(Column("weekly_active_users"))[1]);
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 1), ElementsAre());
  double day;
  ASSERT_TRUE(ParseIsoDate("2026-01-02", &day));
  EXPECT_EQ(batch->as_of()[1], day);
  EXPECT_EQ(batch->previous_score()[1], 40);
  EXPECT_EQ(batch->previous_tier()[1], BasicModel()->FindTier("red"));
}

TEST(JsonLinesReaderTest, NullAndEmptyStringsAreMissing) {
  auto batch = ReadJsonLines(
      R"({"id": "a", "as_of": "", "metrics": {"dau_mau": null}, )"
      R"("attributes": {"segment": ""}, "dates": {"renewal_date": ""}, )"
      R"("series": {"weekly_active_users": null}, "previous_score": null, )"
      R"("previous_tier": null})");
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_FALSE(batch->as_of_valid()[0]);
  EXPECT_FALSE(batch->number_valid(Column("dau_mau"))[0]);
  EXPECT_EQ(batch->string_codes(Column("segment"))[0], kMissingString);
  EXPECT_FALSE(batch->number_valid(Column("renewal_date"))[0]);
  EXPECT_FALSE(batch->series_valid(Column("weekly_active_users"))[0]);
  EXPECT_FALSE(batch->previous_score_valid()[0]);
  EXPECT_EQ(batch->previous_tier()[0], kMissingString);
}

TEST(JsonLinesReaderTest, EveryBadLineBecomesARowErrorWithItsLineNumber) {
  const std::string text = JoinLines({
      R"({"id": "ok1", "metrics": {"dau_mau": 0.3}})",
      R"({"id": "m", "metrics": {"dau_mau": "high"}})",
      R"({"id": "a", "attributes": {"segment": 3}})",
      R"({"id": "w", "metrics": {"segment": 3}})",
      R"({"id": "s", "series": {"weekly_active_users": [1, "x"]}})",
      R"({"id": "d", "dates": {"renewal_date": "2026-02-30"}})",
      R"({"id": "t", "as_of": "yesterday"})",
      R"({"id": "p", "previous_score": "x"})",
      R"({"id": "o", "metrics": [1]})",
      R"({"id": "v", "series": {"weekly_active_users": {"points": [1]}}})",
      R"({"id": "u", "metrics": {"dau_mau": 0.3})",
      R"({"id": "ok2"})",
  });
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(
      all.rows,
      ElementsAre(
          "ok1", "m|line 2: metrics.dau_mau: expected a number, got string",
          "a|line 3: attributes.segment: expected a string, got number",
          "w|line 4: metrics.segment: \"segment\" is declared as a string "
          "input; send it under \"attributes\"",
          "s|line 5: series.weekly_active_users[1]: expected a number, got "
          "string",
          "d|line 6: dates.renewal_date: \"2026-02-30\" is not a date "
          "(YYYY-MM-DD)",
          "t|line 7: as_of: \"yesterday\" is not a date (YYYY-MM-DD)",
          "p|line 8: previous_score: expected a number, got string",
          "o|line 9: metrics: expected an object, got array",
          "v|line 10: series.weekly_active_users: expected an array of "
          "numbers or {\"values\": [...]}",
          "u|line 11: invalid JSON: The JSON document has an improper "
          "structure: missing or superfluous commas, braces, missing keys, "
          "etc.",
          "ok2"));
  EXPECT_EQ(reader.lines_read(), 12u);
}

// Lines without a usable id keep the reader's message, which names the line.
TEST(JsonLinesReaderTest, LinesWithoutIdNameTheLine) {
  const std::string text = JoinLines({
      "not json",
      "[1, 2]",
      R"({"metrics": {"dau_mau": 0.3}})",
      R"({"id": 42})",
      R"({"id": "x"} trailing)",
  });
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  ASSERT_EQ(all.rows.size(), 5u);
  EXPECT_EQ(all.rows[0], "|line 1: invalid JSON: expected an object per line");
  EXPECT_EQ(all.rows[1], "|line 2: expected a JSON object, got array");
  EXPECT_EQ(all.rows[2], "|line 3: no id (\"id\" is missing or empty)");
  EXPECT_EQ(all.rows[3], "|line 4: id: expected a string, got number");
  EXPECT_THAT(all.rows[4], HasSubstr("line 5: invalid JSON"));
}

TEST(JsonLinesReaderTest, SkipsBlankLinesButCountsThem) {
  const std::string text =
      "\n   \n" + std::string(R"({"id": "a"})") + "\r\n\r\n" +
      R"({"id": "b", "metrics": {"dau_mau": "x"}})" + "\r\n";
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(all.rows, ElementsAre("a",
                                    "b|line 5: metrics.dau_mau: expected a "
                                    "number, got string"));
  EXPECT_EQ(reader.lines_read(), 5u);
}

TEST(JsonLinesReaderTest, LastLineWithoutLineBreakAndByteOrderMark) {
  JsonLinesReader reader(StringSource(
      "\xEF\xBB\xBF" + JoinLines({R"({"id": "a"})"}) + R"({"id": "b"})"));
  EXPECT_THAT(ReadEverything(&reader, 100).rows, ElementsAre("a", "b"));
}

TEST(JsonLinesReaderTest, EmptyInputHasNoRows) {
  JsonLinesReader reader(StringSource(""));
  Batch batch(BasicModel());
  auto n = reader.ReadBatch(&batch, 10);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(batch.size(), 0u);
}

// The same input read with tiny blocks (every line crosses block boundaries)
// and tiny batches gives exactly the rows of one big read.
TEST(JsonLinesReaderTest, StreamsAcrossBlockBoundaries) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    std::string id = "acct" + std::to_string(i);
    if (i % 7 == 3) {
      text += R"({"id": ")" + id + R"(", "metrics": {"csat": "bad"}})" + "\n";
      expected.push_back(id + "|line " + std::to_string(i + 1) +
                         ": metrics.csat: expected a number, got string");
    } else {
      text += R"({"id": ")" + id + R"(", "metrics": {"dau_mau": 0.)" +
              std::to_string(i % 10) +
              R"(}, "series": {"weekly_active_users": [1, 2, 3, )" +
              std::to_string(i) + "]}}\n";
      expected.push_back(id);
    }
  }
  for (size_t block : {size_t{1}, size_t{7}, size_t{64}, size_t{1} << 20}) {
    SCOPED_TRACE(block);
    ReaderOptions options;
    options.block_size = block;
    JsonLinesReader reader(StringSource(text), options);
    ReadAll all = ReadEverything(&reader, 3);
    EXPECT_EQ(all.rows, expected);
    ASSERT_EQ(all.batch_sizes.size(), 17u);
    EXPECT_EQ(all.batch_sizes.front(), 3u);
    EXPECT_EQ(all.batch_sizes.back(), 2u);
  }
  // Values survive the block boundaries too.
  ReaderOptions tiny;
  tiny.block_size = 5;
  auto batch = ReadJsonLines(text, tiny);
  ASSERT_EQ(batch->size(), 50u);
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 49),
              ElementsAre(1, 2, 3, 49));
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[48], 0.8);
}

TEST(JsonLinesReaderTest, OverlongLineIsAnErrorOfTheInput) {
  ReaderOptions options;
  options.block_size = 16;
  options.max_line_bytes = 64;
  std::string text = JoinLines(
      {R"({"id": "a"})", R"({"id": ")" + std::string(100, 'x') + "\"}"});
  JsonLinesReader reader(StringSource(text), options);
  Batch batch(BasicModel());
  auto n = reader.ReadBatch(&batch, 100);
  EXPECT_THAT(n, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("line 2 is longer than 64 bytes")));
}

TEST(JsonLinesReaderTest, CountsNamesTheModelDoesNotDeclare) {
  JsonLinesReader reader(StringSource(JoinLines({
      R"({"id": "a", "metrics": {"nps": 9, "dau_mua": 0.3},)"
      R"( "attributes": {"region": "emea"}})",
      R"({"id": "b", "metrics": {"nps": 7}})",
  })));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(all.rows, ElementsAre("a", "b"));
  EXPECT_THAT(reader.ignored_names(),
              ElementsAre(Pair("attributes.region", 1),
                          Pair("metrics.dau_mua", 1), Pair("metrics.nps", 2)));
}

TEST(JsonLinesReaderTest, ClearsTheBatchOnEveryRead) {
  JsonLinesReader reader(StringSource(
      JoinLines({R"({"id": "a"})", R"({"id": "b"})", R"({"id": "c"})"})));
  Batch batch(BasicModel());
  ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadBatch(&batch, 2));
  EXPECT_EQ(n, 2u);
  ASSERT_OK_AND_ASSIGN(n, reader.ReadBatch(&batch, 2));
  EXPECT_EQ(n, 1u);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.id(0), "c");
  ASSERT_OK_AND_ASSIGN(n, reader.ReadBatch(&batch, 2));
  EXPECT_EQ(n, 0u);
}

// ---------------------------------------------------------------------------
// CSV

TEST(CsvReaderTest, ReadsColumnsByDeclaredType) {
  auto batch = ReadCsv(
      "id,as_of,dau_mau,segment,renewal_date,weekly_active_users,"
      "previous_score,previous_tier,unknown\n"
      "acme,2026-11-01,0.42,enterprise,2027-01-31,120;118; 131,71.5,yellow,"
      "zzz\n");
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_EQ(batch->id(0), "acme");
  double day;
  ASSERT_TRUE(ParseIsoDate("2026-11-01", &day));
  EXPECT_EQ(batch->as_of()[0], day);
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[0], 0.42);
  EXPECT_EQ(batch->string_text(Column("segment"), 0), "enterprise");
  ASSERT_TRUE(ParseIsoDate("2027-01-31", &day));
  EXPECT_EQ(batch->number(Column("renewal_date"))[0], day);
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 0),
              ElementsAre(120, 118, 131));
  EXPECT_EQ(batch->previous_score()[0], 71.5);
  EXPECT_EQ(batch->previous_tier()[0], BasicModel()->FindTier("yellow"));
}

TEST(CsvReaderTest, EmptyCellsAreMissing) {
  auto batch = ReadCsv(
      "id,as_of,dau_mau,segment,renewal_date,weekly_active_users,"
      "previous_score,previous_tier\n"
      "a,,,,,,,\n");
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_FALSE(batch->as_of_valid()[0]);
  EXPECT_FALSE(batch->number_valid(Column("dau_mau"))[0]);
  EXPECT_EQ(batch->string_codes(Column("segment"))[0], kMissingString);
  EXPECT_FALSE(batch->number_valid(Column("renewal_date"))[0]);
  EXPECT_FALSE(batch->series_valid(Column("weekly_active_users"))[0]);
  EXPECT_FALSE(batch->previous_score_valid()[0]);
  EXPECT_EQ(batch->previous_tier()[0], kMissingString);
}

TEST(CsvReaderTest, HonoursRfc4180Quoting) {
  auto batch = ReadCsv(
      "id,segment,dau_mau\n"
      "\"acme, inc\",\"ent\"\"erprise\",\"0.5\"\n"
      "\"multi\nline\",smb,0.1\n"
      "next,\"\",\n");
  ASSERT_EQ(batch->size(), 3u);
  EXPECT_EQ(batch->id(0), "acme, inc");
  EXPECT_EQ(batch->string_text(Column("segment"), 0), "ent\"erprise");
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[0], 0.5);
  EXPECT_EQ(batch->id(1), "multi\nline");
  EXPECT_EQ(batch->id(2), "next");
  EXPECT_EQ(batch->string_codes(Column("segment"))[2], kMissingString);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(batch->row_ok(r)) << batch->row_error(r);
  }
}

TEST(CsvReaderTest, BadCellsFailTheirRowNamingLineAndColumn) {
  const std::string text =
      "id,dau_mau,renewal_date,weekly_active_users\n"
      "a,high,,\n"
      "\"b\nb\",0.1,2026-13-01,\n"
      "c,0.1,,1;x;3\n"
      "d,0.1\n"
      ",0.2,,\n"
      "e,\"0.1\"x,,\n"
      "f,0.3,,1;;2\n"
      "g,0.4,,\r\n"
      "h,\"unterminated\n";
  CsvReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(
      all.rows,
      ElementsAre(
          "a|line 2: column \"dau_mau\": \"high\" is not a number",
          "b\nb|line 3: column \"renewal_date\": \"2026-13-01\" is not a "
          "date (YYYY-MM-DD)",
          "c|line 5: column \"weekly_active_users\": point 2 (\"x\") is not "
          "a number; write a series as numbers separated by ';'",
          "d|line 6: 2 fields, but the header has 4 columns",
          "|line 7: no id (the \"id\" cell is empty)",
          "e|line 8: malformed quoted field 2 (text after the closing quote; "
          "write \"\" for a quote)",
          "f|line 9: column \"weekly_active_users\": point 2 (\"\") is not a "
          "number; write a series as numbers separated by ';'",
          "g", "h|line 11: unterminated quoted field (missing closing '\"')"));
  EXPECT_EQ(reader.lines_read(), 11u);
}

TEST(CsvReaderTest, HeaderWithoutIdIsAnErrorOfTheInput) {
  CsvReader reader(StringSource("name,dau_mau\nacme,0.3\n"));
  Batch batch(BasicModel());
  EXPECT_THAT(reader.ReadBatch(&batch, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CSV header (line 1) has no \"id\" column; "
                                 "columns: name, dau_mau")));
}

TEST(CsvReaderTest, DuplicateColumnIsAnErrorOfTheInput) {
  CsvReader reader(StringSource("id,dau_mau,dau_mau\na,1,2\n"));
  Batch batch(BasicModel());
  EXPECT_THAT(reader.ReadBatch(&batch, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column \"dau_mau\" appears twice")));
}

TEST(CsvReaderTest, SkipsBlankLinesAndIgnoresUnknownColumns) {
  CsvReader reader(StringSource(
      "\xEF\xBB\xBFid, region ,dau_mau\r\n\r\na,emea,0.1\r\n\r\nb,apac,x\r\n"));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(all.rows,
              ElementsAre("a",
                          "b|line 5: column \"dau_mau\": \"x\" is not "
                          "a number"));
  EXPECT_THAT(reader.ignored_names(), ElementsAre(Pair("region", 1)));
}

TEST(CsvReaderTest, StreamsAcrossBlockBoundaries) {
  std::string text = "id,segment,weekly_active_users,dau_mau\n";
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    std::string id = "acct \"" + std::to_string(i) + "\"";
    text += "\"acct \"\"" + std::to_string(i) + "\"\"\",\"s,m\nb\",1;2;" +
            std::to_string(i) + "," + (i % 9 == 4 ? "bad" : "0.5") + "\n";
    if (i % 9 == 4) {
      id += "|line " + std::to_string(2 * i + 2) +
            ": column \"dau_mau\": \"bad\" is not a number";
    }
    expected.push_back(id);
  }
  for (size_t block : {size_t{1}, size_t{3}, size_t{100}, size_t{1} << 20}) {
    SCOPED_TRACE(block);
    ReaderOptions options;
    options.block_size = block;
    CsvReader reader(StringSource(text), options);
    ReadAll all = ReadEverything(&reader, 7);
    EXPECT_EQ(all.rows, expected);
    EXPECT_EQ(all.batch_sizes.size(), 6u);
    EXPECT_EQ(reader.lines_read(), 81u);
  }
}

// ---------------------------------------------------------------------------
// Formats, files, YAML

TEST(FormatTest, FromNamesAndPaths) {
  EXPECT_EQ(*ParseInputFormat("JSONL"), InputFormat::kJsonLines);
  EXPECT_EQ(*ParseInputFormat("ndjson"), InputFormat::kJsonLines);
  EXPECT_EQ(*ParseInputFormat("csv"), InputFormat::kCsv);
  EXPECT_THAT(ParseInputFormat("xml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown input format \"xml\"")));
  EXPECT_EQ(*InputFormatFromPath("a/b.jsonl"), InputFormat::kJsonLines);
  EXPECT_EQ(*InputFormatFromPath("x.CSV"), InputFormat::kCsv);
  EXPECT_THAT(InputFormatFromPath("dir.d/accounts"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot tell the format")));
}

TEST(FileSourceTest, ReportsMissingFilesAndDirectories) {
  EXPECT_THAT(OpenFileSource("/nonexistent/accounts.jsonl"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot open /nonexistent/accounts.jsonl")));
  EXPECT_THAT(OpenFileSource(HEALTHSCORE_SOURCE_DIR "/engine"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("it is a directory")));
}

TEST(FileSourceTest, ReadsTheBundledSample) {
  ASSERT_OK_AND_ASSIGN(
      auto reader,
      OpenSnapshotReader(HEALTHSCORE_SOURCE_DIR
                         "/engine/io/testdata/basic/accounts.jsonl",
                         InputFormat::kJsonLines));
  ReadAll all = ReadEverything(reader.get(), 4);
  ASSERT_EQ(all.rows.size(), 7u);
  EXPECT_EQ(all.rows[0], "acme");
  EXPECT_EQ(all.rows[4],
            "soylent|line 6: metrics.dau_mau: expected a number, got string");
}

std::unique_ptr<Batch> ReadYaml(const std::string& yaml) {
  auto batch = std::make_unique<Batch>(BasicModel());
  BatchBuilder builder(batch.get());
  AddYamlSnapshot(YAML::Load(yaml), "t.yaml", *BasicModel(), &builder);
  return batch;
}

TEST(YamlSnapshotTest, FillsOneRow) {
  auto batch = ReadYaml(R"(
id: acme
as_of: 2026-11-01
metrics: {dau_mau: 0.5, csat: ~}
attributes: {segment: smb}
dates: {renewal_date: 2027-01-31}
series: {weekly_active_users: {values: [1, 2]}}
previous_score: 50
previous_tier: green
)");
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  EXPECT_EQ(batch->id(0), "acme");
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[0], 0.5);
  EXPECT_FALSE(batch->number_valid(Column("csat"))[0]);
  EXPECT_EQ(batch->string_text(Column("segment"), 0), "smb");
  EXPECT_THAT(SeriesOf(*batch, "weekly_active_users", 0), ElementsAre(1, 2));
  EXPECT_EQ(batch->previous_tier()[0], BasicModel()->FindTier("green"));
}

TEST(YamlSnapshotTest, MistakesFailTheRowWithLocationAndHint) {
  EXPECT_EQ(ReadYaml("id: a\nmetric: {dau_mau: 1}\n")->row_error(0),
            "t.yaml:2:1: metric: unknown key (did you mean 'metrics'?)");
  EXPECT_EQ(ReadYaml("id: a\nmetrics: {dau_mua: 1}\n")->row_error(0),
            "t.yaml:2:11: metrics.dau_mua: the model declares no number "
            "input \"dau_mua\" (did you mean 'dau_mau'?)");
  EXPECT_EQ(ReadYaml("id: a\nmetrics:\n  dau_mau: high\n")->row_error(0),
            "t.yaml:3:12: metrics.dau_mau: expected a number");
  EXPECT_EQ(
      ReadYaml("id: a\nseries: {weekly_active_users: [1, x]}\n")->row_error(0),
      "t.yaml:2:35: series.weekly_active_users[1]: expected a number");
  EXPECT_EQ(ReadYaml("id: a\nmetrics: {segment: 1}\n")->row_error(0),
            "t.yaml:2:11: metrics.segment: \"segment\" is declared as a "
            "string input; send it under \"attributes\"");
  EXPECT_EQ(ReadYaml("[1, 2]")->row_error(0),
            "t.yaml:1:1: account: expected a mapping, got a list");
}

}  // namespace
}  // namespace healthscore::engine::io
