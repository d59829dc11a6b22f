#include "engine/io/snapshot_reader.h"

#include "engine/eval/explain.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/io/yaml_snapshot.h"
#include "engine/io/testing/basic_model.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::io {

using eval::AccountTable;
using eval::Batch;
using eval::ParseIsoDate;
using eval::RowWarnings;
using eval::TableBinder;
using eval::ValueWarning;
using model::kMissingString;

namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::shared_ptr<const model::CompiledModel> BasicModel() {
  return testing::BasicModel();
}

// Reads everything from `reader` into one batch per call of ReadBatch and
// returns the rows of all batches as "id|error" strings, plus the last batch.
struct ReadAll {
  // "id", "id|error", or "id ! warning ! warning" for values used as
  // missing.
  std::vector<std::string> rows;
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
      for (const ValueWarning& w : batch.value_warnings()) {
        if (w.row == r) row += " ! " + w.text;
      }
      out.rows.push_back(row);
    }
  }
  return out;
}

int Input(const char* id) {
  const model::CompiledModel& m = *BasicModel();
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

// A bad value costs that value: the account scores without it and gets a
// warning naming the field, the value and why. Only a line that is not an
// object or has no id fails, naming its line.
TEST(JsonLinesReaderTest, BadValuesAreMissingWithAWarning) {
  const std::string text = JoinLines({
      R"({"id": "ok1", "metrics": {"dau_mau": 0.3}})",
      R"({"id": "m", "metrics": {"dau_mau": "high"}})",
      R"({"id": "a", "attributes": {"segment": 3}})",
      R"({"id": "w", "metrics": {"segment": true}})",
      R"({"id": "s", "series": {"weekly_active_users": [1, "x"]}})",
      R"({"id": "d", "dates": {"renewal_date": "2026-02-30"}})",
      R"({"id": "t", "as_of": "yesterday"})",
      R"({"id": "p", "previous_score": "x"})",
      R"({"id": "o", "metrics": [1]})",
      R"({"id": "v", "series": {"weekly_active_users": {"points": [1]}}})",
      R"({"id": "u", "metrics": {"dau_mau": 0.3})",
      R"({"id": "ok2"})",
      R"({"id": "n", "series": {"weekly_active_users": [1, null]}})",
      R"({"id": "b", "metrics": {"dau_mau": 1e999}})",
  });
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(
      all.rows,
      ElementsAre(
          "ok1",
          "m ! metrics.dau_mau: expected a number, got the string \"high\"; "
          "used as missing",
          "a ! attributes.segment: expected a string, got the number 3; used "
          "as missing",
          "w ! metrics.segment: expected a string, got true; used as missing",
          "s ! series.weekly_active_users: point 2 is not a number (got the "
          "string \"x\"); used as missing",
          "d ! dates.renewal_date: \"2026-02-30\" is not a date (YYYY-MM-DD); "
          "used as missing",
          "t ! as_of: \"yesterday\" is not a date (YYYY-MM-DD); used as "
          "missing",
          "p ! previous_score: expected a number, got the string \"x\"; used "
          "as missing",
          "o ! metrics: expected an object of inputs, got array; used as "
          "missing",
          "v ! series.weekly_active_users: expected a list of numbers or "
          "{\"values\": [...]}; used as missing",
          "u|line 11: invalid JSON: The JSON document has an improper "
          "structure: missing or superfluous commas, braces, missing keys, "
          "etc.",
          "ok2",
          "n ! series.weekly_active_users: point 2 is not a number (got "
          "null); used as missing",
          ::testing::StartsWith("b ! metrics.dau_mau: invalid number: ")));
  EXPECT_EQ(reader.lines_read(), 14u);
}

TEST(JsonLinesReaderTest, StrictModeFailsTheAccountListingEveryProblem) {
  const std::string text = JoinLines({
      R"({"id": "m", "metrics": {"dau_mau": "high", "csat": "4"}, )"
      R"("dates": {"renewal_date": "soon"}})",
      R"({"id": "ok", "metrics": {"dau_mau": "NaN"}})",
  });
  ReaderOptions strict;
  strict.strict = true;
  JsonLinesReader reader(StringSource(text), strict);
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(
      all.rows,
      ElementsAre("m|line 1: metrics.dau_mau: expected a number, got the "
                  "string \"high\"; metrics.csat: expected a number, got the "
                  "string \"4\"; dates.renewal_date: \"soon\" is not a date "
                  "(YYYY-MM-DD)",
                  "ok"));
}

// Lines without a usable id keep the reader's message, which names the line.
TEST(JsonLinesReaderTest, LinesWithoutIdNameTheLine) {
  const std::string text = JoinLines({
      "not json",
      "[1, 2]",
      R"({"metrics": {"dau_mau": 0.3}})",
      R"({"id": true})",
      R"({"id": "x", "metrics": {"dau_mau": tru}})",
      R"({"id": "y", "id": "z"})",
  });
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  ASSERT_EQ(all.rows.size(), 6u);
  EXPECT_EQ(all.rows[0], "|line 1: invalid JSON: expected an object per line");
  EXPECT_EQ(all.rows[1], "|line 2: expected a JSON object, got array");
  EXPECT_EQ(all.rows[2], "|line 3: no id (\"id\" is missing or empty)");
  EXPECT_EQ(all.rows[3],
            "|line 4: id: expected a string or a number, got boolean");
  // A failed record keeps its id when it has one.
  EXPECT_THAT(all.rows[4], HasSubstr("x|line 5: invalid JSON"));
  EXPECT_EQ(all.rows[5],
            "y|line 6: id: the key appears twice in one record, so the "
            "account cannot be identified");
}

TEST(JsonLinesReaderTest, NumericIdsAreKeptAsWritten) {
  const std::string text = JoinLines({
      R"({"id": 42})",
      R"({"id": 12345678901234567890123})",
      R"({"id": -1.50})",
  });
  JsonLinesReader reader(StringSource(text));
  EXPECT_THAT(ReadEverything(&reader, 100).rows,
              ElementsAre("42", "12345678901234567890123", "-1.50"));
}

TEST(JsonLinesReaderTest, IdFieldNamesTheKeyAndIdIsThenIgnored) {
  const std::string text = JoinLines({
      R"({"account_id": "acme", "id": "crm-1", "metrics": {"dau_mau": 0.3}})",
      R"({"id": "crm-2"})",
  });
  ReaderOptions options;
  options.id_field = "account_id";
  JsonLinesReader reader(StringSource(text), options);
  EXPECT_THAT(ReadEverything(&reader, 100).rows,
              ElementsAre("acme", "|line 2: no id (\"account_id\" is missing "
                                  "or empty)"));
  EXPECT_THAT(reader.ignored_names(),
              ElementsAre(std::pair<const std::string, uint64_t>("id", 2)));
}

// Unknown top-level keys are listed with the ignored names (a CRM export's
// "account_id" is the usual one).
TEST(JsonLinesReaderTest, UnknownTopLevelKeysAreListedAsIgnored) {
  JsonLinesReader reader(StringSource(
      JoinLines({R"({"id": "a", "account_id": 7, "model": "m"})",
                 R"({"id": "b", "account_id": 8})"})));
  ReadEverything(&reader, 100);
  EXPECT_THAT(reader.ignored_names(),
              ElementsAre(std::pair<const std::string, uint64_t>("account_id", 2),
                          std::pair<const std::string, uint64_t>("model", 1)));
}

TEST(JsonLinesReaderTest, SkipsBlankLinesButCountsThem) {
  const std::string text =
      "\n   \n" + std::string(R"({"id": "a"})") + "\r\n\r\n" +
      R"({"id": "b", "metrics": {"dau_mau": "x"}})" + "\r\n";
  JsonLinesReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(all.rows, ElementsAre("a",
                                    "b ! metrics.dau_mau: expected a number, "
                                    "got the string \"x\"; used as missing"));
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
      expected.push_back(id +
                         " ! metrics.csat: expected a number, got the string "
                         "\"bad\"; used as missing");
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

// Serves `prefix`, then `filler` bytes of 'x', then `suffix`, generated on
// the fly, and records the largest read the reader asks for (its buffer
// size).
class GeneratedSource : public ByteSource {
 public:
  GeneratedSource(std::string prefix, uint64_t filler, std::string suffix,
                  size_t* largest_read)
      : prefix_(std::move(prefix)),
        filler_(filler),
        suffix_(std::move(suffix)),
        largest_read_(largest_read) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    *largest_read_ = std::max(*largest_read_, n);
    size_t done = 0;
    while (done < n) {
      if (pos_ < prefix_.size()) {
        buf[done++] = prefix_[pos_++];
      } else if (pos_ < prefix_.size() + filler_) {
        const uint64_t left = prefix_.size() + filler_ - pos_;
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(left, static_cast<uint64_t>(n - done)));
        std::memset(buf + done, 'x', take);
        done += take;
        pos_ += take;
      } else if (pos_ < prefix_.size() + filler_ + suffix_.size()) {
        buf[done++] = suffix_[pos_ - prefix_.size() - filler_];
        ++pos_;
      } else {
        break;
      }
    }
    return done;
  }

 private:
  std::string prefix_;
  uint64_t filler_;
  std::string suffix_;
  size_t* largest_read_;
  uint64_t pos_ = 0;
};

// A line longer than max_line_bytes is that line's error; the lines around
// it are read as usual. Lengths just above the limit used to slip through
// when the line ended inside the next block; every block size is tried.
TEST(JsonLinesReaderTest, OverlongLineIsThatLinesErrorAndReadingGoesOn) {
  const std::string at_limit =
      R"({"id": "c", "model": ")" + std::string(64 - 24, 'y') + "\"}";
  ASSERT_EQ(at_limit.size(), 64u);
  const std::string text =
      JoinLines({R"({"id": "a"})",
                 R"({"id": ")" + std::string(100, 'x') + "\"}",  // 110 bytes
                 R"({"id": "b"})", at_limit,
                 R"({"id": ")" + std::string(55, 'x') + "\"}",  // 65 bytes
                 R"({"id": ")" + std::string(70, 'x') + "\"}",  // 80 bytes
                 R"({"id": "d"})"}) +
      R"({"id": ")" + std::string(60, 'x') + "\"}";  // 70 bytes, no '\n'
  auto overlong = [](int line, int bytes) {
    return "|line " + std::to_string(line) + ": the line is " +
           std::to_string(bytes) +
           " bytes long, more than the limit of 64 bytes for one record "
           "(--max-line-bytes); it was skipped. JSON Lines needs one account "
           "object per line";
  };
  for (size_t block : {size_t{1}, size_t{7}, size_t{16}, size_t{63}, size_t{64},
                       size_t{65}, size_t{100}, size_t{1} << 20}) {
    SCOPED_TRACE(block);
    ReaderOptions options;
    options.block_size = block;
    options.max_line_bytes = 64;
    JsonLinesReader reader(StringSource(text), options);
    ReadAll all = ReadEverything(&reader, 3);
    EXPECT_THAT(all.rows,
                ElementsAre("a", overlong(2, 110), "b", "c", overlong(5, 65),
                            overlong(6, 80), "d", overlong(8, 70)));
    EXPECT_EQ(reader.lines_read(), 8u);
  }
}

// A line far longer than the limit is skipped without being held: the
// reader's buffer never grows past max_line_bytes + block_size.
TEST(JsonLinesReaderTest, OverlongLineIsSkippedInBoundedMemory) {
  size_t largest_read = 0;
  ReaderOptions options;
  options.block_size = 4096;
  options.max_line_bytes = 1024;
  JsonLinesReader reader(
      std::make_unique<GeneratedSource>(
          JoinLines({R"({"id": "a"})"}) + R"({"id": ")", uint64_t{20} << 20,
          "\"}\n" + JoinLines({R"({"id": "b"})"}), &largest_read),
      options);
  ReadAll all = ReadEverything(&reader, 100);
  ASSERT_EQ(all.rows.size(), 3u);
  EXPECT_EQ(all.rows[0], "a");
  EXPECT_THAT(all.rows[1], HasSubstr("|line 2: the line is 20971530 bytes "
                                     "long, more than the limit of 1024"));
  EXPECT_EQ(all.rows[2], "b");
  EXPECT_LE(largest_read, options.max_line_bytes + options.block_size);
}

// A key named twice costs that value (JSON does not say which one counts),
// naming the key; an input under two sections counts as named twice. A
// repeated id leaves the account unidentified: it fails, keeping the first.
TEST(JsonLinesReaderTest, RepeatedKeysCostTheirValue) {
  JsonLinesReader reader(StringSource(JoinLines({
      R"({"id": "a", "id": "b"})",
      R"({"id": "c", "as_of": "2026-01-01", "asOf": "2026-01-02"})",
      R"({"id": "d", "metrics": {"dau_mau": 0.1, "dau_mau": 0.2}})",
      R"({"id": "e", "metrics": {"nps": 1, "nps": 2}})",
      R"({"id": "f", "metrics": {"dau_mau": 0.1}, "metrics": {"csat": 3}})",
      R"({"id": "g", "model": "x", "model": "y"})",
      R"({"id": "h", "series": {"weekly_active_users": )"
      R"({"values": [1], "values": [2]}}})",
      R"({"id": "i", "metrics": {"dau_mau": 0.1},)"
      R"( "attributes": {"dau_mau": "x"}})",
      R"({"id": "j", "metrics": {"csat": 3, "dau_mau": 0.1},)"
      R"( "attributes": {"segment": "smb"}, "model": "x"})",
  })));
  const std::string twice =
      ": given twice in one record (a repeated key, as_of and asOf, or one "
      "input under two sections); send it once; used as missing";
  Batch batch(BasicModel());
  ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadBatch(&batch, 100));
  ASSERT_EQ(n, 9u);
  std::vector<std::string> rows;
  for (size_t r = 0; r < n; ++r) {
    std::string row(batch.id(r));
    if (!batch.row_ok(r)) row += "|" + batch.row_error(r);
    for (const std::string& w : RowWarnings(batch, r)) row += " ! " + w;
    rows.push_back(row);
  }
  EXPECT_THAT(
      rows,
      ElementsAre(
          "a|line 1: id: the key appears twice in one record, so the account "
          "cannot be identified",
          "c ! asOf" + twice,
          "d ! metrics.dau_mau" + twice,
          // Not an input of the model: ignored, however often.
          "e", "f", "g",
          "h ! series.weekly_active_users" + twice,
          "i ! attributes.dau_mau" + twice, "j"));
  // The value named twice is gone, whichever came first.
  EXPECT_FALSE(batch.as_of_valid()[1]);
  EXPECT_FALSE(batch.number_valid(Column("dau_mau"))[2]);
  EXPECT_FALSE(batch.series_valid(Column("weekly_active_users"))[6]);
  EXPECT_FALSE(batch.number_valid(Column("dau_mau"))[7]);
  // Both sections named "metrics" were read.
  EXPECT_TRUE(batch.number_valid(Column("dau_mau"))[4]);
  EXPECT_TRUE(batch.number_valid(Column("csat"))[4]);
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

TEST(JsonLinesReaderTest, FlatRecordsMakeEveryKeyAColumn) {
  ReaderOptions options;
  options.flat_records = true;
  options.id_field = "account";
  JsonLinesReader reader(
      StringSource(JoinLines({
          R"({"account": "a", "churned": true, "metrics": {"x": 1},)"
          R"( "as_of": "2026-01-01", "id": 7})",
      })),
      options);
  AccountTable table;
  ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadTable(&table, 10));
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(table.id(0), "a");
  EXPECT_FALSE(table.row_failed(0));
  std::vector<AccountTable::RowValue> values;
  table.RowValues(0, &values);
  std::vector<std::string> seen;
  for (const AccountTable::RowValue& v : values) {
    const eval::FieldName field = table.column(v.column);
    seen.push_back(std::string(field.section) + "/" + std::string(field.name));
  }
  // No sections: "metrics" is one value (an object), "id" a plain key.
  EXPECT_THAT(seen, ElementsAre("/churned", "/metrics", "/as_of", "/id"));
  EXPECT_EQ(values[1].kind, AccountTable::Kind::kObject);
  EXPECT_THAT(reader.ignored_names(), ::testing::IsEmpty());
}

TEST(CsvReaderTest, AHeaderOfManyColumnsIsCheckedInLinearTime) {
  // 300,000 names, the last one repeating the first: a scan of the names
  // before each name would take minutes.
  std::string header = "id";
  for (int i = 0; i < 300000; ++i) header += ",c" + std::to_string(i);
  header += ",c0\n";
  CsvReader reader(StringSource(header));
  AccountTable table;
  EXPECT_THAT(reader.ReadTable(&table, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column \"c0\" appears twice (columns 2 "
                                 "and 300002)")));
}

TEST(JsonLinesReaderTest, NestedValuesObjectsAreNotReadInto) {
  // {"values": {"values": ...}} 100,000 deep: one wrong value, not a
  // recursion per level.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += R"({"values": )";
  deep += "[1]" + std::string(100000, '}');
  JsonLinesReader reader(StringSource(
      JoinLines({R"({"id": "a", "series": {"weekly_active_users": )" + deep +
                     "}}",
                 R"({"id": "b", "series": {"weekly_active_users": )"
                 R"({"values": [1, 2]}}})"})));
  ReadAll all = ReadEverything(&reader, 10);
  EXPECT_THAT(all.rows,
              ElementsAre("a ! series.weekly_active_users: expected a list of "
                          "numbers, got an object in \"values\"; used as "
                          "missing",
                          "b"));
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

// The reader remembers the order of the fields to skip most column
// lookups; records that order their fields differently, leave some out,
// repeat one or come in tables filled in turn read exactly as each record
// read alone.
TEST(JsonLinesReaderTest, AnyFieldOrderReadsAsEachRecordAlone) {
  const std::vector<std::string> lines = {
      R"({"id": "a", "metrics": {"dau_mau": 0.1, "csat": 2}, "attributes": {"segment": "smb"}})",
      R"({"id": "b", "metrics": {"csat": 3, "dau_mau": 0.2}})",
      R"({"attributes": {"segment": "enterprise"}, "id": "c", "metrics": {"csat": 4}})",
      R"({"id": "d", "metrics": {"open_tickets": 5, "dau_mau": 0.4, "csat": 1}})",
      R"({"id": "e", "metrics": {"dau_mau": 0.5, "dau_mau": 0.6}})",
      R"({"id": "f", "attributes": {"dau_mau": 0.7}, "metrics": {"csat": "x"}})",
      R"({"id": "g", "dates": {"renewal_date": "2027-01-01"}, "metrics": {"dau_mau": 0.8}})",
      R"({"id": "h", "metrics": {"csat": 5, "dau_mau": 0.9}, "attributes": {"segment": "smb"}})"};
  // Each record alone, by a reader of its own.
  std::vector<std::string> expected;
  for (const std::string& line : lines) {
    JsonLinesReader alone(StringSource(line));
    Batch batch(BasicModel());
    ASSERT_OK(alone.ReadBatch(&batch, 10).status());
    ASSERT_EQ(batch.size(), 1u);
    std::string row(batch.id(0));
    for (const char* input : {"dau_mau", "csat", "open_tickets"}) {
      row += absl::StrCat(" ", input, "=",
                          batch.number_valid(Column(input))[0]
                              ? absl::StrCat(batch.number(Column(input))[0])
                              : "-");
    }
    row += absl::StrCat(" segment=", batch.string_codes(Column("segment"))[0]);
    for (const ValueWarning& w : batch.value_warnings()) row += " ! " + w.text;
    expected.push_back(row);
  }
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  for (int pass = 0; pass < 2; ++pass) text += text;  // learn, then reuse
  JsonLinesReader reader(StringSource(text));
  AccountTable tables[2];
  TableBinder binder(BasicModel());
  std::vector<std::string> got;
  for (int t = 0;; t = 1 - t) {
    ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadTable(&tables[t], 3));
    if (n == 0) break;
    Batch batch(BasicModel());
    binder.Bind(tables[t], &batch);
    for (size_t r = 0; r < batch.size(); ++r) {
      std::string row(batch.id(r));
      for (const char* input : {"dau_mau", "csat", "open_tickets"}) {
        row += absl::StrCat(" ", input, "=",
                            batch.number_valid(Column(input))[r]
                                ? absl::StrCat(batch.number(Column(input))[r])
                                : "-");
      }
      row +=
          absl::StrCat(" segment=", batch.string_codes(Column("segment"))[r]);
      for (const ValueWarning& w : batch.value_warnings()) {
        if (w.row == r) row += " ! " + w.text;
      }
      got.push_back(row);
    }
  }
  ASSERT_EQ(got.size(), 4 * expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], expected[i % expected.size()]) << "record " << i;
  }
}

// Keys are compared as written with the name the previous records had at
// that place (TableBuilder::GuessName) and decoded only when they differ:
// an escaped spelling of a name is that name, a raw key that merely looks
// like a name with escapes in it is not, a longer key is another, and the
// same name in another section is another column.
TEST(JsonLinesReaderTest, KeysAreTheirDecodedNames) {
  JsonLinesReader reader(StringSource(JoinLines({
      R"({"id": "a", "metrics": {"dau_mau": 1, "a\\b": 2, "q\"x": 3}})",
      R"({"id": "b", "metrics": {"dau_mau": 4, "a\\b": 5, "q\"x": 6}})",
      R"({"id": "c", "metrics": {"dau\u005fmau": 7, "a\b": 8, "q\"x": 9}})",
      R"({"id": "e", "attributes": {"dau_mau": 12}, "metrics": {"dau_mau": 13}})",
      R"({"id": "d", "metrics": {"dau_mauX": 10, "a\\b": 11}})",
      R"({"id": "f", "attributes": {"dau_mau": 14}, "metrics": {"dau_mauX": 15}})",
  })));
  AccountTable table;
  ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadTable(&table, 10));
  ASSERT_EQ(n, 6u);
  std::vector<std::string> rows;
  std::vector<AccountTable::RowValue> values;
  for (size_t r = 0; r < n; ++r) {
    EXPECT_FALSE(table.row_failed(r)) << r;
    table.RowValues(r, &values);
    std::string row(table.id(r));
    for (const AccountTable::RowValue& v : values) {
      const eval::FieldName field = table.column(v.column);
      row += " " + std::string(field.section) + "/" + std::string(field.name);
      row += absl::StrCat("#", v.column, "=", v.number);
    }
    rows.push_back(row);
  }
  EXPECT_THAT(rows, ElementsAre(
                        "a metrics/dau_mau#0=1 metrics/a\\b#1=2 metrics/q\"x#2=3",
                        "b metrics/dau_mau#0=4 metrics/a\\b#1=5 metrics/q\"x#2=6",
                        "c metrics/dau_mau#0=7 metrics/a\b#3=8 metrics/q\"x#2=9",
                        "e attributes/dau_mau#4=12 metrics/dau_mau#0=13",
                        "d metrics/dau_mauX#5=10 metrics/a\\b#1=11",
                        "f attributes/dau_mau#4=14 metrics/dau_mauX#5=15"));
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

TEST(CsvReaderTest, BadCellsCostTheirValueAndBadRecordsTheirRow) {
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
          "a ! dau_mau: \"high\" is not a number; used as missing",
          "b\nb ! renewal_date: \"2026-13-01\" is not a date (YYYY-MM-DD); "
          "used as missing",
          "c ! weekly_active_users: point 2 (\"x\") is not a number; write a "
          "series as numbers separated by ';'; used as missing",
          "d|line 6: 2 fields, but the header has 4 columns",
          "|line 7: no id (the \"id\" cell is empty)",
          "e|line 8: malformed quoted field 2 (text after the closing quote; "
          "write \"\" for a quote)",
          "f ! weekly_active_users: point 2 (\"\") is not a number; write a "
          "series as numbers separated by ';'; used as missing",
          "g",
          "h|line 11: unterminated quoted field 2 (\"dau_mau\") (no closing "
          "'\"' before the end of the input)"));
  EXPECT_EQ(reader.lines_read(), 11u);
}

// The reported case: 10 rows, one with an unterminated quote. The quote
// used to swallow every row after it into one error; now the bad record is
// one error naming the lines it consumed, and the rows after it are read
// again: 9 ok + 1 error, whatever the block size.
TEST(CsvReaderTest, UnterminatedQuoteCostsOnlyItsOwnRecord) {
  std::string text = "id,dau_mau\n";
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "a" + std::to_string(i);
    text += id + (i == 2 ? ",\"0.5\n" : ",0." + std::to_string(i) + "\n");
    expected.push_back(
        i == 2 ? id + "|line 4: unterminated quoted field 2 (\"dau_mau\") (no "
                      "closing '\"' before the end of the input); the record "
                      "spans lines 4-11 (8 lines), so it is skipped and lines "
                      "5-11 are read again as records"
               : id);
  }
  for (size_t block : {size_t{1}, size_t{3}, size_t{7}, size_t{1} << 20}) {
    SCOPED_TRACE(block);
    ReaderOptions options;
    options.block_size = block;
    CsvReader reader(StringSource(text), options);
    ReadAll all = ReadEverything(&reader, 4);
    EXPECT_EQ(all.rows, expected);
    EXPECT_EQ(reader.lines_read(), 11u);
  }
  // The values of the rows read again are intact.
  auto batch = ReadCsv(text);
  ASSERT_EQ(batch->size(), 10u);
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[9], 0.9);
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[3], 0.3);
}

// A stray quote closed by the opening quote of a later field gives a
// malformed record spanning lines: it is recovered from the same way, and
// the later quoted field is read correctly the second time.
TEST(CsvReaderTest, StrayQuoteClosedByALaterFieldIsRecovered) {
  const std::string text =
      "id,segment,dau_mau\n"
      "a,smb,0.1\n"
      "b,\"smb,0.2\n"
      "c,smb,0.3\n"
      "d,\"mid, market\",0.4\n"
      "e,smb,0.5\n";
  for (size_t block : {size_t{1}, size_t{5}, size_t{1} << 20}) {
    SCOPED_TRACE(block);
    ReaderOptions options;
    options.block_size = block;
    CsvReader reader(StringSource(text), options);
    Batch batch(BasicModel());
    ASSERT_OK_AND_ASSIGN(size_t n, reader.ReadBatch(&batch, 100));
    ASSERT_EQ(n, 5u);
    EXPECT_EQ(batch.row_error(1),
              "line 3: malformed quoted field 2 (text after the closing "
              "quote; write \"\" for a quote); the record spans lines 3-5 (3 "
              "lines), so it is skipped and lines 4-5 are read again as "
              "records");
    EXPECT_EQ(batch.id(1), "b");
    EXPECT_EQ(batch.error_count(), 1u);
    EXPECT_EQ(batch.id(3), "d");
    EXPECT_EQ(batch.string_text(Column("segment"), 3), "mid, market");
    EXPECT_EQ(batch.id(4), "e");
  }
}

// A quoted field still open after max_record_lines lines is taken for a
// stray quote without waiting for the end of the input.
TEST(CsvReaderTest, QuotedFieldSpanningTooManyLinesIsRecovered) {
  std::string text = "id,dau_mau\na,\"0.1\n";
  for (char id = 'b'; id <= 'h'; ++id) text += std::string(1, id) + ",0.2\n";
  ReaderOptions options;
  options.max_record_lines = 3;
  CsvReader reader(StringSource(text), options);
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(all.rows,
              ElementsAre("a|line 2: quoted field 2 (\"dau_mau\") is still "
                          "open after 3 lines, the limit for one record "
                          "(--max-record-lines); the record spans lines 2-4 "
                          "(3 lines), so it is skipped and lines 3-4 are read "
                          "again as records",
                          "b", "c", "d", "e", "f", "g", "h"));
  EXPECT_EQ(reader.lines_read(), 9u);
}

// The lines read again may not hold a quoted field spanning lines (that is
// what keeps recovery linear): a genuine multi-line record there is
// reported, never silently merged or dropped.
TEST(CsvReaderTest, LinesReadAgainConfineQuotedFieldsToTheirLine) {
  const std::string text =
      "id,segment\n"
      "a,\"oops\n"
      "b,smb\n"
      "c,\"multi\n"
      "line\"\n"
      "d,smb\n";
  CsvReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 100);
  EXPECT_THAT(
      all.rows,
      ElementsAre(
          "a|line 2: malformed quoted field 2 (text after the closing quote; "
          "write \"\" for a quote); the record spans lines 2-4 (3 lines), so "
          "it is skipped and lines 3-4 are read again as records",
          "b",
          "c|line 4: unterminated quoted field 2 (\"segment\") (missing "
          "closing '\"' on its line; lines 3-4 are read again after the bad "
          "record at line 2, so a quoted field there may not span lines)",
          "line\"|line 5: 1 field, but the header has 2 columns", "d"));
  EXPECT_EQ(reader.lines_read(), 6u);
}

// Every line opens a quote, which the next line's quote closes: every
// record is one error, each line is read at most twice, and the reader
// keeps up with the lines (one row per line).
TEST(CsvReaderTest, EveryLineWithAStrayQuote) {
  std::string text = "id,segment\n";
  for (int i = 0; i < 3000; ++i) text += "\"a" + std::to_string(i) + ",smb\n";
  CsvReader reader(StringSource(text));
  ReadAll all = ReadEverything(&reader, 1000);
  ASSERT_EQ(all.rows.size(), 3000u);
  for (size_t i = 0; i < all.rows.size(); ++i) {
    EXPECT_THAT(all.rows[i], HasSubstr("|line " + std::to_string(i + 2) +
                                       (i % 2 == 0 ? ": malformed quoted"
                                                   : ": unterminated quoted")))
        << i;
  }
  EXPECT_EQ(reader.lines_read(), 3001u);
}

TEST(CsvReaderTest, OverlongRecordIsThatRecordsError) {
  ReaderOptions options;
  options.max_line_bytes = 20;
  // One line: skipped to its end without being kept.
  CsvReader one_line(StringSource("id,segment\na,smb\nb," +
                                  std::string(30, 'x') + "\nc,smb\n"),
                     options);
  EXPECT_THAT(ReadEverything(&one_line, 100).rows,
              ElementsAre("a",
                          "b|line 3: the record is 32 bytes long, more than "
                          "the limit of 20 bytes for one record "
                          "(--max-line-bytes); it was skipped",
                          "c"));
  // A quoted field spanning lines: recovered from.
  CsvReader spanning(
      StringSource("id,segment\na,\"12345\nb,smb\nc,smb\nd,smb\n"), options);
  EXPECT_THAT(ReadEverything(&spanning, 100).rows,
              ElementsAre("a|line 2: the record is longer than the limit of 20 "
                          "bytes for one record (--max-line-bytes); the record "
                          "spans lines 2-4 (3 lines), so it is skipped and "
                          "lines 3-4 are read again as records",
                          "b", "c", "d"));
}

TEST(CsvReaderTest, MalformedHeaderIsAnErrorOfTheInput) {
  CsvReader reader(StringSource("id,\"dau_mau\na,1\n"));
  Batch batch(BasicModel());
  EXPECT_THAT(reader.ReadBatch(&batch, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CSV header (line 1): unterminated quoted "
                                 "field 2 (no closing '\"' before the end of "
                                 "the input)")));
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
                          "b ! dau_mau: \"x\" is not a number; used as "
                          "missing"));
  // Counted once per value given, as in JSON Lines.
  EXPECT_THAT(reader.ignored_names(), ElementsAre(Pair("region", 2)));
}

TEST(CsvReaderTest, StreamsAcrossBlockBoundaries) {
  std::string text = "id,segment,weekly_active_users,dau_mau\n";
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    std::string id = "acct \"" + std::to_string(i) + "\"";
    text += "\"acct \"\"" + std::to_string(i) + "\"\"\",\"s,m\nb\",1;2;" +
            std::to_string(i) + "," + (i % 9 == 4 ? "bad" : "0.5") + "\n";
    if (i % 9 == 4) {
      id += " ! dau_mau: \"bad\" is not a number; used as missing";
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

// A table ends early once it holds max_table_bytes, so a few huge records
// cannot make one table hold them all; every record is still read, in order.
TEST(SnapshotReaderTest, TablesAreBoundedByBytes) {
  std::string jsonl, csv = "id,region,dau_mau\n";
  for (int i = 0; i < 6; ++i) {
    const std::string big(1000, 'x');
    jsonl += "{\"id\": \"a" + std::to_string(i) +
             "\", \"attributes\": {\"region\": \"" + big +
             "\"}, \"metrics\": {\"dau_mau\": 0.5}}\n";
    csv += "a" + std::to_string(i) + "," + big + ",0.5\n";
  }
  ReaderOptions options;
  options.max_table_bytes = 2500;  // two records' worth
  JsonLinesReader json(StringSource(jsonl), options);
  CsvReader comma(StringSource(csv), options);
  for (SnapshotReader* reader : {static_cast<SnapshotReader*>(&json),
                                 static_cast<SnapshotReader*>(&comma)}) {
    AccountTable table;
    std::vector<size_t> sizes;
    std::vector<std::string> ids;
    for (;;) {
      ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadTable(&table, 100));
      if (n == 0) break;
      sizes.push_back(n);
      EXPECT_LE(table.bytes(), 2500u + 1500u);  // one record past the limit
      for (size_t r = 0; r < table.size(); ++r) {
        ids.emplace_back(table.id(r));
      }
    }
    // Without the bound one table would hold all six.
    EXPECT_GE(sizes.size(), 2u);
    for (size_t n : sizes) EXPECT_LE(n, 3u);
    EXPECT_THAT(ids, ElementsAre("a0", "a1", "a2", "a3", "a4", "a5"));
  }
}

// A CSV wider than a table keeps column names (AccountTable::
// kMaxKeptColumns): each new table forgets the names, and the reader maps
// its header again, batch after batch.
TEST(CsvReaderTest, WiderThanATableKeepsIsReadBatchAfterBatch) {
  const size_t extra = AccountTable::kMaxKeptColumns + 5;
  std::string text = "id";
  for (size_t i = 0; i < extra; ++i) text += ",x" + std::to_string(i);
  text += ",dau_mau\n";
  for (int r = 0; r < 3; ++r) {
    text += "a" + std::to_string(r);
    for (size_t i = 0; i < extra; ++i) text += ",1";
    text += ",0." + std::to_string(r + 1) + "\n";
  }
  CsvReader reader(StringSource(text));
  Batch batch(BasicModel());
  for (int r = 0; r < 3; ++r) {
    ASSERT_OK_AND_ASSIGN(size_t rows, reader.ReadBatch(&batch, 1));
    ASSERT_EQ(rows, 1u);
    EXPECT_EQ(batch.id(0), "a" + std::to_string(r));
    EXPECT_DOUBLE_EQ(batch.number(Column("dau_mau"))[0], 0.1 * (r + 1));
  }
  ASSERT_OK_AND_ASSIGN(size_t rows, reader.ReadBatch(&batch, 1));
  EXPECT_EQ(rows, 0u);
  EXPECT_EQ(reader.ignored_names().size(), 64u);
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
            "soylent ! metrics.dau_mau: expected a number, got the string "
            "\"high\"; used as missing");
}

// Reads a snapshot into a table and binds it as the test runner does.
std::unique_ptr<Batch> ReadYaml(const std::string& yaml) {
  AccountTable table;
  eval::TableBuilder builder(&table);
  AddYamlSnapshot(YAML::Load(yaml), "t.yaml", &builder);
  auto batch = std::make_unique<Batch>(BasicModel());
  TableBinder binder(BasicModel());
  binder.set_strict(true);
  binder.set_unknown_names_fail(true);
  binder.Bind(table, batch.get());
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

// As in every reader, an input's declared type decides how its value is
// read, whatever section it is under.
TEST(YamlSnapshotTest, TheDeclaredTypeDecidesNotTheSection) {
  auto batch = ReadYaml(R"(
id: acme
attributes: {renewal_date: 2027-01-31, dau_mau: 0.5}
metrics: {segment: smb}
)");
  ASSERT_TRUE(batch->row_ok(0)) << batch->row_error(0);
  double day;
  ASSERT_TRUE(ParseIsoDate("2027-01-31", &day));
  EXPECT_EQ(batch->number(Column("renewal_date"))[0], day);
  EXPECT_DOUBLE_EQ(batch->number(Column("dau_mau"))[0], 0.5);
  EXPECT_EQ(batch->string_text(Column("segment"), 0), "smb");
}

// Test cases are written by hand against one model, so their snapshots are
// strict: a value that does not fit fails the case at its file:line:col.
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
  EXPECT_EQ(ReadYaml("id: a\nattributes: {renewal_date: 2026-02-30}\n")
                ->row_error(0),
            "t.yaml:2:28: attributes.renewal_date: expected a date "
            "(YYYY-MM-DD)");
  EXPECT_EQ(ReadYaml("[1, 2]")->row_error(0),
            "t.yaml:1:1: account: expected a mapping, got a list");
}


// The reader knows no model: the table holds values as written, with
// their places, and binding decides. Bound leniently, a value that does
// not fit is a warning at its place; bound as test cases bind (strict),
// every such value is listed, and a value given twice (as_of and asOf) is
// one of them.
TEST(YamlSnapshotTest, TheTableHoldsLocatedValuesAndBindingDecides) {
  AccountTable table;
  eval::TableBuilder builder(&table);
  AddYamlSnapshot(YAML::Load("id: a\nmetrics: {dau_mau: high, csat: [1]}\n"
                             "as_of: 2026-11-01\nasOf: 2026-11-02\n"),
                  "t.yaml", &builder);
  EXPECT_EQ(table.located_values(), 4u);

  Batch batch(BasicModel());
  TableBinder binder(BasicModel());
  binder.Bind(table, &batch);
  ASSERT_TRUE(batch.row_ok(0)) << batch.row_error(0);
  std::vector<std::string> warnings;
  for (const ValueWarning& w : batch.value_warnings()) {
    warnings.push_back(w.text);
  }
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "t.yaml:2:20: metrics.dau_mau: expected a number; used as missing",
          "t.yaml:2:32: metrics.csat: expected a number, got a list of 1 "
          "number; used as missing",
          "t.yaml:4:7: asOf: given twice in one record (a repeated key, "
          "as_of and asOf, or one input under two sections); send it once; "
          "used as missing"));

  binder.set_strict(true);
  binder.Bind(table, &batch);
  EXPECT_EQ(batch.row_error(0),
            "t.yaml:2:20: metrics.dau_mau: expected a number; t.yaml:2:32: "
            "metrics.csat: expected a number, got a list of 1 number; "
            "t.yaml:4:7: asOf: given twice in one record (a repeated key, "
            "as_of and asOf, or one input under two sections); send it once");
}

}  // namespace
}  // namespace healthscore::engine::io
