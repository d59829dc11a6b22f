#include "engine/outcomes/outcomes.h"

#include <fstream>
#include <string>

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
using ::testing::Pair;

constexpr io::InputFormat kCsv = io::InputFormat::kCsv;
constexpr io::InputFormat kJsonl = io::InputFormat::kJsonLines;

absl::StatusOr<Outcomes> Read(std::string text, io::InputFormat format,
                              const RecordReaderOptions& options = {}) {
  return ReadOutcomes(io::StringSource(std::move(text)), format, options);
}

double Day(const char* iso) {
  double days = 0;
  EXPECT_TRUE(eval::ParseIsoDate(iso, &days)) << iso;
  return days;
}

TEST(OutcomesTest, ReadsEveryOutcomeColumnFromCsv) {
  ASSERT_OK_AND_ASSIGN(
      Outcomes o,
      Read("id,churned,churn_date,renewal_date,renewed,start_arr,end_arr,"
           "expansion,contraction,segment\n"
           "a,true,2026-03-01,,no,1200.50,0,,,smb\n"
           "b,false,,2026-06-30,yes,1000,1500,500,0,ent\n",
           kCsv));
  const RecordTable& r = o.records();
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
  ASSERT_TRUE(o.has_churn_date(0));
  EXPECT_EQ(o.churn_date(0), Day("2026-03-01"));
  EXPECT_FALSE(r.has(kRenewalDateColumn, 0));
  EXPECT_FALSE(r.flag(kRenewedColumn, 0));
  EXPECT_DOUBLE_EQ(r.number(kStartArrColumn, 0), 1200.5);
  EXPECT_EQ(r.number(kEndArrColumn, 0), 0);
  EXPECT_FALSE(r.has(kExpansionColumn, 0));

  EXPECT_EQ(o.status(1), ChurnStatus::kRetained);
  EXPECT_FALSE(o.has_churn_date(1));
  EXPECT_EQ(r.number(kRenewalDateColumn, 1), Day("2026-06-30"));
  EXPECT_TRUE(r.flag(kRenewedColumn, 1));
  EXPECT_EQ(r.number(kExpansionColumn, 1), 500);
  EXPECT_EQ(r.number(kContractionColumn, 1), 0);

  // Any other column is a string attribute.
  const int segment = r.FindColumn("segment");
  ASSERT_GE(segment, 0);
  EXPECT_EQ(r.column_type(segment), ColumnType::kString);
  EXPECT_EQ(r.text(segment, 0), "smb");
  EXPECT_EQ(r.text(segment, 1), "ent");
  EXPECT_EQ(o.conflicts().count, 0u);
  EXPECT_EQ(o.unlabelled().count, 0u);
}

TEST(OutcomesTest, ReadsJsonLines) {
  ASSERT_OK_AND_ASSIGN(
      Outcomes o,
      Read(
          R"({"id": "a", "churned": true, "churn_date": "2026-03-01", "start_arr": 1200.5, "segment": "smb"}
{"id": 42, "churned": 0, "renewed": true, "plan": "gold", "seats": 12}
)",
          kJsonl));
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
  EXPECT_EQ(o.churn_date(0), Day("2026-03-01"));
  EXPECT_EQ(o.records().id(1), "42");
  EXPECT_EQ(o.status(1), ChurnStatus::kRetained);
  const RecordTable& r = o.records();
  EXPECT_EQ(r.text(r.FindColumn("plan"), 1), "gold");
  EXPECT_EQ(r.text(r.FindColumn("seats"), 1), "12");
}

TEST(OutcomesTest, ChurnDateAloneLabels) {
  // No churned column: an empty churn_date means "did not churn".
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churn_date\n"
                                        "a,2026-03-01\n"
                                        "b,\n",
                                        kCsv));
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
  EXPECT_EQ(o.status(1), ChurnStatus::kRetained);
  EXPECT_EQ(o.unlabelled().count, 0u);
}

TEST(OutcomesTest, ChurnedAloneLabels) {
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churned\na,yes\nb,0\n", kCsv));
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
  EXPECT_FALSE(o.has_churn_date(0));
  EXPECT_EQ(o.status(1), ChurnStatus::kRetained);
}

TEST(OutcomesTest, EveryStatusRule) {
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churned,churn_date\n"
                                        "churned,true,\n"
                                        "dated,true,2026-01-10\n"
                                        "retained,false,\n"
                                        "conflict,false,2026-01-10\n"
                                        "date_only,,2026-01-10\n"
                                        "empty,,\n"
                                        "bad_flag,maybe,\n"
                                        "bad_date,,2026-13-01\n"
                                        "bad_date_false,false,soon\n",
                                        kCsv));
  ASSERT_EQ(o.size(), 9u);
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
  EXPECT_EQ(o.status(1), ChurnStatus::kChurned);
  EXPECT_EQ(o.status(2), ChurnStatus::kRetained);
  EXPECT_EQ(o.status(3), ChurnStatus::kConflict);
  EXPECT_EQ(o.status(4), ChurnStatus::kChurned);
  // The file has a churned column, so an empty one says nothing.
  EXPECT_EQ(o.status(5), ChurnStatus::kUnknown);
  EXPECT_EQ(o.status(6), ChurnStatus::kUnknown);
  // A bad churn_date is never read as "did not churn".
  EXPECT_EQ(o.status(7), ChurnStatus::kUnknown);
  EXPECT_EQ(o.status(8), ChurnStatus::kUnknown);
  EXPECT_THAT(o.conflicts().texts,
              ElementsAre("line 5: id \"conflict\": churned is false but "
                          "churn_date is 2026-01-10"));
  EXPECT_EQ(o.unlabelled().count, 4u);
  EXPECT_THAT(
      o.unlabelled().texts,
      ElementsAre("line 7: id \"empty\": churned is empty and there is no "
                  "churn_date, so whether it churned is unknown",
                  "line 8: id \"bad_flag\": its churned value is unusable "
                  "(see the bad values), so whether it churned is unknown",
                  "line 9: id \"bad_date\": its churn_date value is unusable "
                  "(see the bad values), so whether it churned is unknown",
                  "line 10: id \"bad_date_false\": its churn_date value is "
                  "unusable (see the bad values), so whether it churned is "
                  "unknown"));
  EXPECT_EQ(o.records().bad_values().count, 3u);
}

TEST(OutcomesTest, ABadChurnDateInADateOnlyFileIsNotRetained) {
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churn_date\na,31/01/2026\n", kCsv));
  EXPECT_EQ(o.status(0), ChurnStatus::kUnknown);
}

TEST(OutcomesTest, AFileWithoutALabelColumnIsAnError) {
  EXPECT_THAT(
      Read("id,segment,start_arr\na,smb,1\n", kCsv),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("the outcomes file has no \"churned\" (true/false) "
                         "or \"churn_date\" (YYYY-MM-DD) column; at least one "
                         "is required. Columns besides the id (\"id\"): "
                         "start_arr, segment")));
  // The telco data set's column.
  EXPECT_THAT(Read("customerID,Churn\na,Yes\n", kCsv,
                   [] {
                     RecordReaderOptions options;
                     options.reader.id_field = "customerID";
                     return options;
                   }()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("(\"customerID\"): Churn; rename \"Churn\" to "
                                 "churned (names are case-sensitive)")));
  // JSON Lines: the keys of its records.
  EXPECT_THAT(Read(R"({"id": "a", "Churn_Date": "2026-01-01"})", kJsonl),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Churn_Date; rename \"Churn_Date\" to "
                                 "churn_date")));
  EXPECT_THAT(Read("", kCsv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Columns besides the id (\"id\"): none")));
}

TEST(OutcomesTest, AHeaderWithNoRecordsIsAnEmptyFile) {
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churned\n", kCsv));
  EXPECT_EQ(o.size(), 0u);
}

TEST(OutcomesTest, DuplicateIdsAreDroppedAndCounted) {
  ASSERT_OK_AND_ASSIGN(Outcomes o, Read("id,churned\n"
                                        "a,true\n"
                                        "b,false\n"
                                        "a,false\n",
                                        kCsv));
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o.records().id(0), "b");
  EXPECT_EQ(o.status(0), ChurnStatus::kRetained);
  EXPECT_TRUE(o.records().IsDuplicateId("a"));
  EXPECT_EQ(o.records().duplicate_ids().count, 1u);
  EXPECT_EQ(o.records().duplicate_records(), 2u);
}

TEST(OutcomesTest, RecordsMustBeReadWithTheOutcomesSchema) {
  RecordSchema schema;
  schema.columns = {{"churned", ColumnType::kBool}};
  ASSERT_OK_AND_ASSIGN(
      RecordTable records,
      ReadRecords(io::StringSource("id,churned\na,1\n"), kCsv, schema));
  EXPECT_THAT(MakeOutcomes(std::move(records)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be read with OutcomesSchema()")));
  ASSERT_OK_AND_ASSIGN(RecordTable ok,
                       ReadRecords(io::StringSource("id,churned\na,1\n"), kCsv,
                                   OutcomesSchema()));
  ASSERT_OK_AND_ASSIGN(Outcomes o, MakeOutcomes(std::move(ok)));
  EXPECT_EQ(o.status(0), ChurnStatus::kChurned);
}

TEST(OutcomesTest, ReadsFilesAndNamesThemInErrors) {
  const std::string dir = common::testing::ScratchDir("outcomes_test");
  const std::string good = dir + "/good.jsonl";
  const std::string bad = dir + "/bad.csv";
  {
    std::ofstream(good) << "{\"id\": \"a\", \"churned\": true}\n";
    std::ofstream(bad) << "id,segment\na,smb\n";
  }
  ASSERT_OK_AND_ASSIGN(Outcomes o, ReadOutcomesFile(good, kJsonl));
  EXPECT_EQ(o.size(), 1u);
  EXPECT_THAT(ReadOutcomesFile(bad, kCsv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.csv: the outcomes file has no")));
  EXPECT_THAT(ReadOutcomesFile(dir + "/none.csv", kCsv),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.csv")));
}

}  // namespace
}  // namespace healthscore::engine::outcomes
