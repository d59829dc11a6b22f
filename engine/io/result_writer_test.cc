#include "engine/io/result_writer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/text_buffer.h"
#include "engine/eval/scorer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/io/testing/basic_model.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace healthscore::engine::io {

using eval::Batch;
using eval::Scorer;
using model::CompileString;

namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

std::shared_ptr<const model::CompiledModel> BasicModel() {
  return testing::BasicModel();
}

std::string ModelStamp() {
  return R"("model":{"name":"io_basic","version":"1","hash":")" +
         BasicModel()->hash() + "\"}";
}

// A scored batch of the bundled sample accounts.
struct Scored {
  Batch batch{BasicModel()};
  eval::BatchResult result;
};

std::unique_ptr<Scored> ScoreSample(
    InputFormat format = InputFormat::kJsonLines,
    const std::string& file = "accounts.jsonl") {
  auto s = std::make_unique<Scored>();
  // Strict, so that the sample's bad value makes an error row to render.
  ReaderOptions strict;
  strict.strict = true;
  auto reader = OpenSnapshotReader(
      HEALTHSCORE_SOURCE_DIR "/engine/io/testdata/basic/" + file, format,
      strict);
  EXPECT_TRUE(reader.ok()) << reader.status();
  auto n = (*reader)->ReadBatch(&s->batch, 1000);
  EXPECT_TRUE(n.ok()) << n.status();
  EXPECT_OK(Scorer::Score(s->batch, &s->result));
  return s;
}

size_t RowOf(const Batch& batch, std::string_view id) {
  for (size_t r = 0; r < batch.size(); ++r) {
    if (batch.id(r) == id) return r;
  }
  ADD_FAILURE() << "no row " << id;
  return 0;
}

std::string JsonLine(const Scored& s, std::string_view id,
                     WriterOptions options = {}) {
  std::string out;
  AppendJsonResult(s.batch, s.result, RowOf(s.batch, id), options, &out);
  return out;
}

// Parses `line` and checks that it is one valid JSON object.
simdjson::dom::element ParseJson(simdjson::dom::parser& parser,
                                 const std::string& line) {
  simdjson::dom::element doc;
  auto error = parser.parse(line).get(doc);
  EXPECT_FALSE(error) << simdjson::error_message(error) << " in " << line;
  return doc;
}

TEST(JsonResultTest, OkRowWithoutPlaybooksIsExact) {
  auto s = ScoreSample();
  EXPECT_EQ(JsonLine(*s, "initech"),
            R"({"id":"initech","status":"ok","score":66.85714285714285,)"
            R"("tier":"yellow","coverage":0.82,)"
            R"("groups":{"usage":71.42857142857142,"support":60},)"
            R"("playbooks":[],)" +
                ModelStamp() + "}");
}

TEST(JsonResultTest, ErrorRowCarriesTheMessage) {
  auto s = ScoreSample();
  EXPECT_EQ(JsonLine(*s, "soylent"),
            R"({"id":"soylent","status":"error","error":"line 6: )"
            R"(metrics.dau_mau: expected a number, got the string \"high\"",)" +
                ModelStamp() + "}");
}

TEST(JsonResultTest, PlaybooksDeltaAndTierChange) {
  auto s = ScoreSample();
  simdjson::dom::parser parser;
  std::string line = JsonLine(*s, "globex");
  simdjson::dom::element doc = ParseJson(parser, line);
  EXPECT_EQ(doc["score"].get_double().value(), 14);
  EXPECT_EQ(doc["tier"].get_string().value(), "red");
  EXPECT_EQ(doc["delta"].get_double().value(), -46);
  EXPECT_EQ(doc["tier_changed"].get_bool().value(), true);
  EXPECT_EQ(doc["tier_held"].get_bool().value(), false);
  simdjson::dom::array playbooks = doc["playbooks"].get_array().value();
  ASSERT_EQ(playbooks.size(), 3u);
  simdjson::dom::element rescue = playbooks.at(0).value();
  EXPECT_EQ(rescue["id"].get_string().value(), "rescue");
  EXPECT_EQ(rescue["name"].get_string().value(), "Executive rescue");
  EXPECT_EQ(rescue["owner"].get_string().value(), "csm");
  EXPECT_EQ(rescue["priority"].get_int64().value(), 1);
  EXPECT_EQ(rescue["reason"].get_string().value(),
            "tier == \"red\"  [tier=\"red\"]");
  EXPECT_EQ(rescue["success"].get_bool().value(), false);
  simdjson::dom::element renewal = playbooks.at(1).value();
  EXPECT_EQ(renewal["id"].get_string().value(), "renewal_prep");
  // No success condition in the model: no "success" member.
  EXPECT_EQ(renewal["success"].error(), simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(playbooks.at(2)["id"].get_string().value(), "tier_drop");
}

TEST(JsonResultTest, MissingNumbersAreLeftOut) {
  auto s = ScoreSample();
  std::string line = JsonLine(*s, "hooli");
  EXPECT_THAT(line, HasSubstr(R"("tier":"insufficient_data","coverage":0.24,)"
                              R"("groups":{"support":100},"playbooks":[])"));
  EXPECT_THAT(line, Not(HasSubstr("null")));
  EXPECT_THAT(line, Not(HasSubstr("delta")));
  EXPECT_THAT(line, Not(HasSubstr("tier_changed")));
  EXPECT_THAT(line, Not(HasSubstr("warnings")));
  EXPECT_THAT(line, Not(HasSubstr("explanation")));
}

TEST(JsonResultTest, RangeWarningsWithoutExplain) {
  auto s = ScoreSample();
  EXPECT_THAT(JsonLine(*s, "wayne"),
              HasSubstr(R"("tier_changed":true,"tier_held":false,)"
                        R"("warnings":["dau_mau = 1.2 is outside the )"
                        R"(expected range [0, 1]"],"model")"));
}

TEST(JsonResultTest, Explanation) {
  auto s = ScoreSample();
  WriterOptions options;
  options.explain = true;
  options.top_drivers = 1;
  std::string line = JsonLine(*s, "wayne", options);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = ParseJson(parser, line);
  EXPECT_EQ(doc["warnings"].at(0).get_string().value(),
            "dau_mau = 1.2 is outside the expected range [0, 1]");
  simdjson::dom::element e = doc["explanation"];
  simdjson::dom::array signals = e["signals"].get_array().value();
  ASSERT_EQ(signals.size(), 4u);
  simdjson::dom::element adoption = signals.at(0).value();
  EXPECT_EQ(adoption["id"].get_string().value(), "adoption");
  EXPECT_EQ(adoption["raw"].get_double().value(), 1.2);
  EXPECT_EQ(adoption["score"].get_double().value(), 100);
  EXPECT_EQ(adoption["weight"].get_double().value(), 0.7);
  EXPECT_EQ(adoption["effective_weight"].get_double().value(), 0.6);
  EXPECT_EQ(adoption["points"].get_double().value(), 60);
  EXPECT_EQ(adoption["points_lost"].get_double().value(), 0);
  EXPECT_EQ(adoption["present"].get_bool().value(), true);
  // A missing signal: no raw, score or points.
  EXPECT_EQ(simdjson::minify(signals.at(1).value()),
            "{\"id\":\"usage_trend\",\"weight\":0.3,\"effective_weight\":0,"
            "\"present\":false}");
  EXPECT_EQ(simdjson::minify(e["top_drivers"].value()), "[\"satisfaction\"]");
  EXPECT_EQ(simdjson::minify(e["missing"].value()), "[\"usage_trend\"]");
  EXPECT_EQ(e["tier_rule"].get_string().value(), "yellow: 50 <= score < 80");
}

TEST(JsonResultTest, EscapesStringsIntoValidJson) {
  auto s = std::make_unique<Scored>();
  CsvReader reader(StringSource(
      "id,segment\n\"q\"\"uote\\back\nslash\t\x01\xff\xc3\xa9\",smb\n"));
  ASSERT_OK(reader.ReadBatch(&s->batch, 10).status());
  ASSERT_OK(Scorer::Score(s->batch, &s->result));
  std::string out;
  AppendJsonResult(s->batch, s->result, 0, {}, &out);
  EXPECT_THAT(out, HasSubstr(R"({"id":"q\"uote\\back\nslash\t\u0001)"
                             "\xEF\xBF\xBD\xC3\xA9\","));
  simdjson::dom::parser parser;
  ParseJson(parser, out);
}

TEST(CsvResultTest, SampleIsExact) {
  auto s = ScoreSample(InputFormat::kCsv, "accounts.csv");
  std::string out;
  auto writer =
      std::make_unique<ResultWriter>(StringSink(&out), OutputFormat::kCsv);
  ASSERT_OK(writer->Write(s->batch, s->result));
  ASSERT_OK(writer->Close());
  EXPECT_EQ(out,
            "id,status,error,score,tier,coverage,usage,support,playbooks,"
            "delta,tier_changed,warnings\n"
            "acme,ok,,95.2,green,1,100,88,expansion,,,\n"
            "globex,ok,,14,red,1,9.999999999999998,20,"
            "rescue;renewal_prep;tier_drop,-46,true,\n"
            "initech,ok,,66.85714285714285,yellow,0.82,71.42857142857142,60,,,"
            ",\n"
            "hooli,ok,,100,insufficient_data,0.24,,100,,,,\n"
            "soylent,error,\"line 6: dau_mau: \"\"high\"\" is not a "
            "number\",,,,,,,,,\n");
}

TEST(ResultWriterTest, WritesEveryBatchAndTheCsvHeaderOnce) {
  auto s = ScoreSample();
  std::string out;
  ResultWriter writer(StringSink(&out), OutputFormat::kCsv);
  ASSERT_OK(writer.Write(s->batch, s->result));
  ASSERT_OK(writer.Write(s->batch, s->result));
  ASSERT_OK(writer.Close());
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  ASSERT_EQ(lines.size(), 2 * s->batch.size() + 2);  // header, rows, ""
  EXPECT_EQ(lines[0].substr(0, 10), "id,status,");
  EXPECT_EQ(lines[1].substr(0, 5), "acme,");
  EXPECT_EQ(lines[1 + s->batch.size()].substr(0, 5), "acme,");
  EXPECT_EQ(lines.back(), "");
  EXPECT_THAT(
      writer.Write(s->batch, s->result),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("closed")));
}

TEST(ResultWriterTest, JsonLinesOneObjectPerLine) {
  auto s = ScoreSample();
  std::string out;
  ResultWriter writer(StringSink(&out), OutputFormat::kJsonLines);
  ASSERT_OK(writer.Write(s->batch, s->result));
  ASSERT_OK(writer.Close());
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), s->batch.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < lines.size(); ++i) {
    simdjson::dom::element doc = ParseJson(parser, lines[i]);
    EXPECT_EQ(doc["id"].get_string().value(), s->batch.id(i));
  }
}

// Rows of two models written interleaved, as segment routing writes them:
// the sample scored by the basic model (groups usage, support), and two
// accounts scored by `big` (groups usage, scale).
class InterleavedWriteTest : public ::testing::Test {
 protected:
  InterleavedWriteTest() : big_batch_(BigModel()) {
    ReaderOptions strict;  // y's bad value makes an error row
    strict.strict = true;
    JsonLinesReader reader(
        StringSource(R"({"id": "x", "metrics": {"dau_mau": 0.5, "seats": 200}})"
                     "\n"
                     R"({"id": "y", "metrics": {"seats": "many"}})"
                     "\n"),
        strict);
    EXPECT_OK(reader.ReadBatch(&big_batch_, 10).status());
    EXPECT_OK(Scorer::Score(big_batch_, &big_result_));
  }

  static std::shared_ptr<const model::CompiledModel> BigModel() {
    model::CompileResult r = CompileString(R"yaml(name: big
version: "7.1"
inputs:
  - {id: dau_mau, type: number}
  - {id: seats, type: number}
groups:
  - id: usage
    weight: 1
    signals:
      - {id: a, source: dau_mau, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
  - id: scale
    weight: 1
    signals:
      - {id: s, source: seats, weight: 1, normalize: {linear: {bad: 0, good: 1000}}}
tiers:
  - {id: high, min: 50}
  - {id: low, min: 0}
)yaml",
                                           "big.yaml");
    EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
    return r.model;
  }

  // The sample's acme and soylent, then x and y of `big`, interleaved.
  std::vector<ScoredPart> Parts() const {
    return {{&sample_->batch, &sample_->result, 0},
            {&big_batch_, &big_result_, 3}};
  }
  const std::vector<std::pair<uint32_t, uint32_t>> order_ = {
      {1, 0}, {0, 0}, {1, 1}, {0, 4}};

  std::unique_ptr<Scored> sample_ = ScoreSample();
  Batch big_batch_;
  eval::BatchResult big_result_;
};

TEST_F(InterleavedWriteTest, JsonLinesNameEachRowsModel) {
  std::string out;
  ResultWriter writer(StringSink(&out), OutputFormat::kJsonLines);
  ASSERT_OK(writer.Write(Parts(), order_));
  ASSERT_OK(writer.Close());
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  const std::string big_stamp =
      R"("model":{"name":"big","version":"7.1","hash":")" +
      big_batch_.model().hash() + R"(","repository_version":3}})";
  EXPECT_EQ(lines[0],
            R"({"id":"x","status":"ok","score":35,"tier":"low","coverage":1,)"
            R"("groups":{"usage":50,"scale":20},"playbooks":[],)" +
                big_stamp);
  EXPECT_EQ(lines[1], JsonLine(*sample_, "acme"));
  EXPECT_THAT(lines[1], ::testing::EndsWith(ModelStamp() + "}"));
  EXPECT_EQ(lines[2],
            R"({"id":"y","status":"error","error":"line 2: metrics.seats: )"
            R"(expected a number, got the string \"many\"",)" +
                big_stamp);
  EXPECT_EQ(lines[3], JsonLine(*sample_, "soylent"));
}

TEST_F(InterleavedWriteTest, CsvColumnsAreTheUnionOfTheModelsGroups) {
  std::string out;
  WriterOptions options;
  options.csv_models = {BasicModel(), BigModel()};
  ResultWriter writer(StringSink(&out), OutputFormat::kCsv, options);
  ASSERT_OK(writer.Write(Parts(), order_));
  // A batch of one model alone fits the same columns.
  ASSERT_OK(writer.Write(big_batch_, big_result_));
  ASSERT_OK(writer.Close());
  EXPECT_EQ(out,
            "id,status,error,score,tier,coverage,usage,support,scale,"
            "playbooks,delta,tier_changed,model,repository_version,warnings\n"
            "x,ok,,35,low,1,50,,20,,,,big,3,\n"
            "acme,ok,,95.2,green,1,100,88,,expansion,,,io_basic,,\n"
            "y,error,\"line 2: metrics.seats: expected a number, got the "
            "string \"\"many\"\"\",,,,,,,,,,big,3,\n"
            "soylent,error,\"line 6: metrics.dau_mau: expected a number, got "
            "the string \"\"high\"\"\",,,,,,,,,,io_basic,,\n"
            "x,ok,,35,low,1,50,,20,,,,big,,\n"
            "y,error,\"line 2: metrics.seats: expected a number, got the "
            "string \"\"many\"\"\",,,,,,,,,,big,,\n");
}

TEST_F(InterleavedWriteTest, CsvWithoutTheModelsRejectsAForeignGroup) {
  std::string out;
  ResultWriter writer(StringSink(&out), OutputFormat::kCsv);
  EXPECT_THAT(writer.Write(Parts(), order_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("group 'scale' of model 'big' has no "
                                 "column")));
  EXPECT_THAT(writer.Write(Parts(), {{0, 0}, {2, 0}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no row 0 in part 2 of 2")));
  EXPECT_THAT(writer.Write(Parts(), {{0, 99}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no row 99 in part 0")));
}

// A renderer's header and rows are exactly what a writer writes, in both
// formats and for both forms of Write, so batches rendered apart (on other
// threads) and written in order read as one writer's output.
TEST_F(InterleavedWriteTest, RendererGivesTheWritersText) {
  WriterOptions options;
  options.csv_models = {BasicModel(), BigModel()};
  for (OutputFormat format : {OutputFormat::kJsonLines, OutputFormat::kCsv}) {
    std::string written;
    ResultWriter writer(StringSink(&written), format, options);
    ASSERT_OK(writer.Write(Parts(), order_));
    ASSERT_OK(writer.Write(sample_->batch, sample_->result));
    ASSERT_OK(writer.Close());

    const ResultRenderer renderer(format, options, *BasicModel());
    std::string rendered = renderer.header();
    std::string part;
    ASSERT_OK(renderer.Render(Parts(), order_, &part));
    rendered += part;
    part.clear();
    ASSERT_OK(renderer.Render(sample_->batch, sample_->result, &part));
    rendered += part;
    EXPECT_EQ(rendered, written);
    EXPECT_EQ(renderer.header().empty(), format == OutputFormat::kJsonLines);

    // Into a TextBuffer (JSON rows written in place): the same text.
    common::TextBuffer buffer;
    buffer.append(renderer.header());
    ASSERT_OK(renderer.Render(Parts(), order_, &buffer));
    ASSERT_OK(renderer.Render(sample_->batch, sample_->result, &buffer));
    EXPECT_EQ(buffer.view(), written);
  }
  // A CSV batch that does not fit the columns adds nothing.
  const ResultRenderer csv(OutputFormat::kCsv, WriterOptions(), *BasicModel());
  std::string out = "kept";
  EXPECT_THAT(csv.Render(big_batch_, big_result_, &out),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("group 'scale' of model 'big' has no "
                                 "column")));
  EXPECT_EQ(out, "kept");
  common::TextBuffer buffer;
  buffer.append("kept");
  EXPECT_THAT(csv.Render(big_batch_, big_result_, &buffer),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("has no column")));
  EXPECT_EQ(buffer.view(), "kept");
}

TEST(ResultWriterTest, UnwritablePathIsNotFound) {
  EXPECT_THAT(
      OpenResultWriter("/nonexistent/dir/out.jsonl", OutputFormat::kJsonLines),
      StatusIs(absl::StatusCode::kNotFound,
               HasSubstr("cannot create /nonexistent/dir/out.jsonl")));
}

TEST(FormatTest, NumbersAreExactUnlessAPrecisionIsAsked) {
  auto s = ScoreSample();
  WriterOptions rounded;
  rounded.numbers.precision = 6;
  EXPECT_THAT(JsonLine(*s, "initech"),
              HasSubstr(R"("score":66.85714285714285,"tier":"yellow",)"
                        R"("coverage":0.82,"groups":{"usage":71.42857142857142,)"
                        R"("support":60})"));
  EXPECT_THAT(JsonLine(*s, "initech", rounded),
              HasSubstr(R"("score":66.8571,"tier":"yellow","coverage":0.82,)"
                        R"("groups":{"usage":71.4286,"support":60})"));
  rounded.numbers.precision = 2;
  std::string csv;
  ResultWriter writer(StringSink(&csv), OutputFormat::kCsv, rounded);
  ASSERT_OK(writer.Write(s->batch, s->result));
  ASSERT_OK(writer.Close());
  EXPECT_THAT(csv, HasSubstr("\ninitech,ok,,67,yellow,0.82,71,60,,,,\n"));
  EXPECT_THAT(csv,
              HasSubstr("\nacme,ok,,95,green,1,1e+02,88,expansion,,,\n"));
}

TEST(FormatTest, FromNamesAndPaths) {
  EXPECT_EQ(*ParseOutputFormat("CSV"), OutputFormat::kCsv);
  EXPECT_EQ(*ParseOutputFormat("jsonl"), OutputFormat::kJsonLines);
  EXPECT_THAT(ParseOutputFormat("parquet"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown output format \"parquet\"")));
  EXPECT_EQ(OutputFormatFromPath("out.csv"), OutputFormat::kCsv);
  EXPECT_EQ(OutputFormatFromPath("out.jsonl"), OutputFormat::kJsonLines);
  EXPECT_EQ(OutputFormatFromPath("-"), OutputFormat::kJsonLines);
}

// --- Decision records --------------------------------------------------

std::string DecisionRecord(const Scored& s, std::string_view id,
                           const std::vector<std::string>& mask,
                           std::string_view lead = R"("request_id":"r-1")") {
  std::string out;
  DecisionRecordRenderer renderer(s.batch, s.result, WriterOptions(), mask);
  renderer.Append(RowOf(s.batch, id), lead, &out);
  return out;
}

TEST(DecisionRecordTest, IsTheResultRowWithLeadAndInputs) {
  auto s = ScoreSample();
  const std::string row = JsonLine(*s, "acme");
  const std::string record = DecisionRecord(*s, "acme", {});
  // The row's members, unchanged, between the lead and the inputs.
  ASSERT_EQ(row.back(), '}');
  EXPECT_EQ(record,
            R"({"request_id":"r-1",)" + row.substr(1, row.size() - 2) +
                R"(,"inputs":{"as_of":"2026-11-01",)"
                R"("metrics":{"dau_mau":0.5,"csat":4,"open_tickets":1},)"
                R"("attributes":{"segment":"enterprise"},)"
                R"("dates":{"renewal_date":"2027-06-01"},)"
                R"("series":{"weekly_active_users":[100,100,110,120]}}})"
                "\n");
}

TEST(DecisionRecordTest, PreviousScoreAndTierAreInputsToo) {
  auto s = ScoreSample();
  simdjson::dom::parser parser;
  const std::string record = DecisionRecord(*s, "wayne", {});
  simdjson::dom::element doc = ParseJson(parser, record);
  simdjson::dom::element inputs = doc["inputs"].value();
  EXPECT_EQ(inputs["previous_score"].get_double().value(), 90);
  EXPECT_EQ(inputs["previous_tier"].get_string().value(), "green");
  // dau_mau 1.2 is out of its declared range: read, and kept as read.
  EXPECT_EQ(inputs["metrics"]["dau_mau"].get_double().value(), 1.2);
  // No dates or series: the sections are left out.
  EXPECT_TRUE(inputs["dates"].error());
  EXPECT_TRUE(inputs["series"].error());
}

TEST(DecisionRecordTest, MaskedValuesNeverReachTheText) {
  auto s = ScoreSample();
  const std::string record =
      DecisionRecord(*s, "globex",
                     {"csat", "segment", "weekly_active_users", "renewal_date",
                      "previous_score", "previous_tier", "as_of", "no_such"});
  simdjson::dom::parser parser;
  simdjson::dom::element inputs = ParseJson(parser, record)["inputs"].value();
  EXPECT_EQ(inputs["as_of"].get_string().value(), eval::kMaskedValue);
  EXPECT_EQ(inputs["metrics"]["csat"].get_string().value(), eval::kMaskedValue);
  EXPECT_EQ(inputs["metrics"]["dau_mau"].get_double().value(), 0.1);
  EXPECT_EQ(inputs["attributes"]["segment"].get_string().value(),
            eval::kMaskedValue);
  EXPECT_EQ(inputs["dates"]["renewal_date"].get_string().value(),
            eval::kMaskedValue);
  EXPECT_EQ(inputs["series"]["weekly_active_users"].get_string().value(),
            eval::kMaskedValue);
  EXPECT_EQ(inputs["previous_score"].get_string().value(), eval::kMaskedValue);
  EXPECT_EQ(inputs["previous_tier"].get_string().value(), eval::kMaskedValue);
  // The values themselves appear nowhere in the record's inputs.
  const std::string text = record.substr(record.find("\"inputs\""));
  for (const char* value : {"2.5", "smb", "2026-12-01", "80,70", "60",
                            "yellow", "2026-11-01"}) {
    EXPECT_THAT(text, Not(HasSubstr(value))) << value;
  }
}

// The record without the model stamp (whose hash may hold any digits).
std::string WithoutStamp(const std::string& record) {
  const size_t at = record.find(",\"model\":{");
  const size_t end = record.find('}', at);
  return record.substr(0, at) + record.substr(end + 1);
}

TEST(DecisionRecordTest, MaskCoversReasonsWarningsErrorsAndWhatGivesAway) {
  auto s = ScoreSample();
  const std::vector<std::string> mask = {"dau_mau", "days_to_renewal",
                                         "previous_score", "previous_tier"};
  // globex: a reason reads days_to_renewal (30) and score_delta (-46,
  // which with the score gives the previous score, 60, away).
  const std::string globex = WithoutStamp(DecisionRecord(*s, "globex", mask));
  EXPECT_THAT(globex, HasSubstr(R"([days_to_renewal=[masked], tier=\"red\"])"));
  EXPECT_THAT(globex,
              HasSubstr("[tier_changed=[masked], score_delta=[masked]]"));
  EXPECT_THAT(globex, Not(HasSubstr("\"delta\"")));
  EXPECT_THAT(globex, Not(HasSubstr("tier_changed\":")));
  EXPECT_THAT(globex, Not(HasSubstr("tier_held")));
  for (const char* value : {"0.1", "30", "46", "60", "yellow"}) {
    EXPECT_THAT(globex, Not(HasSubstr(value))) << value;
  }
  // wayne: dau_mau 1.2 is out of range, a warning that names it.
  const std::string wayne = WithoutStamp(DecisionRecord(*s, "wayne", mask));
  EXPECT_THAT(wayne, HasSubstr("\"warnings\":[\"dau_mau = [masked] is outside "
                               "the expected range [0, 1]\"]"));
  EXPECT_THAT(wayne, Not(HasSubstr("1.2")));
  // soylent failed (strict) on dau_mau: its error stops at the name.
  EXPECT_EQ(WithoutStamp(DecisionRecord(*s, "soylent", mask, "")),
            "{\"id\":\"soylent\",\"status\":\"error\",\"error\":\"line 6: "
            "metrics.dau_mau: [masked] (the rest of the error is not shown: it "
            "names a masked field)\"}\n");
}

TEST(DecisionRecordTest, FailedAccountHasItsErrorAndNoInputs) {
  auto s = ScoreSample();
  EXPECT_EQ(DecisionRecord(*s, "soylent", {"csat"}, ""),
            JsonLine(*s, "soylent") + "\n");
}

}  // namespace
}  // namespace healthscore::engine::io
