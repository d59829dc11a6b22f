#include "engine/outcomes/join.h"

#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/io/testing/basic_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::outcomes {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

double Day(const char* iso) {
  double days = 0;
  EXPECT_TRUE(eval::ParseIsoDate(iso, &days)) << iso;
  return days;
}

Outcomes ReadCsv(std::string text) {
  auto o =
      ReadOutcomes(io::StringSource(std::move(text)), io::InputFormat::kCsv);
  EXPECT_TRUE(o.ok()) << o.status();
  return *std::move(o);
}

// "label" or "excluded:<reason>" per snapshot.
std::vector<std::string> Labels(const JoinResult& result) {
  std::vector<std::string> out;
  for (const JoinedSnapshot& row : result.rows) {
    switch (row.label) {
      case Label::kChurned:
        out.push_back("churned");
        break;
      case Label::kRetained:
        out.push_back("retained");
        break;
      case Label::kExcluded:
        out.push_back(std::string("excluded:") +
                      std::string(ExclusionName(row.exclusion)));
        break;
    }
  }
  return out;
}

TEST(ParseHorizonTest, DaysAndWeeks) {
  ASSERT_OK_AND_ASSIGN(int32_t days, ParseHorizon("180d"));
  EXPECT_EQ(days, 180);
  EXPECT_EQ(*ParseHorizon("180D"), 180);
  EXPECT_EQ(*ParseHorizon(" 26w "), 182);  // 26 * 7
  EXPECT_EQ(*ParseHorizon("1d"), 1);
  EXPECT_EQ(*ParseHorizon("36600d"), kMaxHorizonDays);
  EXPECT_EQ(*ParseHorizon("5228w"), 36596);  // 5228 * 7, under the limit
}

TEST(ParseHorizonTest, RefusesEverythingElse) {
  for (const char* text : {"", "d", "180", "6m", "1y", "0d", "-5d", "1.5d",
                           "36601d", "5229w", "99999999d", "180 d", "d180"}) {
    EXPECT_THAT(ParseHorizon(text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("write a whole number of days or weeks, "
                                   "e.g. 180d or 26w")))
        << text;
  }
}

TEST(JoinTest, WithoutAHorizonTheStatusIsTheLabel) {
  Outcomes o = ReadCsv(
      "id,churned,churn_date,segment\n"
      "a,true,,smb\n"
      "b,false,,ent\n"
      "c,,2026-03-01,smb\n"
      "d,,,smb\n"                 // unknown
      "e,false,2026-03-01,smb\n"  // conflict
      "f,true,2026-03-01,smb\n");
  SnapshotKeys keys;
  keys.Add("a", std::nullopt);
  keys.Add("b", Day("2026-01-01"));
  keys.Add("c", std::nullopt);
  keys.Add("d", std::nullopt);
  keys.Add("e", std::nullopt);
  keys.Add("zz", std::nullopt);
  // Without a horizon a snapshot taken after the churn is still excluded:
  // its values already show the churn. 2026-03-01 is on the churn date.
  keys.Add("f", Day("2026-03-01"));
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o));
  EXPECT_THAT(
      Labels(result),
      ElementsAre("churned", "retained", "churned", "excluded:unknown_outcome",
                  "excluded:conflicting_outcome", "excluded:no_outcome",
                  "excluded:after_churn"));
  // The record is given for every snapshot that has one, also excluded
  // ones, so that attributes can still be read.
  EXPECT_EQ(result.rows[0].outcome, 0);
  EXPECT_EQ(result.rows[3].outcome, 3);
  EXPECT_EQ(result.rows[5].outcome, -1);
  EXPECT_EQ(result.rows[6].outcome, 5);
  const JoinReport& report = result.report;
  EXPECT_EQ(report.snapshots, 7u);
  EXPECT_EQ(report.churned, 2u);
  EXPECT_EQ(report.retained, 1u);
  EXPECT_EQ(report.excluded, 4u);
  EXPECT_EQ(report.unlabelled_outcomes, 1u);
  EXPECT_EQ(report.conflicting_outcomes, 1u);
  EXPECT_EQ(report.outcomes_matched, 6u);
  EXPECT_EQ(report.outcomes_without_snapshots.count, 0u);
  EXPECT_THAT(
      report.excluded_by[static_cast<size_t>(Exclusion::kNoOutcome)].ids,
      ElementsAre("zz"));
}

// The horizon cases one by one: snapshot at a = 2026-01-01, horizon 90
// days, so the window is (2026-01-01, 2026-04-01]: January has 31 days,
// February 28 (2026 is not a leap year), March 31; 31 + 28 + 31 = 90, and
// 2026-01-01 + 90 days = 2026-04-01.
class HorizonTest : public ::testing::Test {
 protected:
  std::string Label1(const char* outcome_row,
                     std::optional<double> as_of = Day("2026-01-01"),
                     JoinOptions options = Options()) {
    Outcomes o =
        ReadCsv(std::string("id,churned,churn_date\n") + outcome_row + "\n");
    SnapshotKeys keys;
    keys.Add("a", as_of);
    auto result = JoinOutcomes(keys, o, options);
    EXPECT_TRUE(result.ok()) << result.status();
    return Labels(*result)[0];
  }
  static JoinOptions Options() {
    JoinOptions options;
    options.horizon_days = 90;
    return options;
  }
};

TEST_F(HorizonTest, ChurnInsideTheWindowIsChurned) {
  // 2026-02-15 is 45 days after as_of: 0 < 45 <= 90.
  EXPECT_EQ(Label1("a,true,2026-02-15"), "churned");
  // churned may be left empty when churn_date is given.
  EXPECT_EQ(Label1("a,,2026-02-15"), "churned");
}

TEST_F(HorizonTest, TheWindowIncludesItsLastDay) {
  // 2026-04-01 is a + 90: churned (c <= a + H).
  EXPECT_EQ(Label1("a,true,2026-04-01"), "churned");
}

TEST_F(HorizonTest, ChurnAfterTheWindowIsRetained) {
  // 2026-04-02 is a + 91: still a customer through the whole window.
  EXPECT_EQ(Label1("a,true,2026-04-02"), "retained");
}

TEST_F(HorizonTest, ChurnTheDayAfterTheSnapshotIsChurned) {
  // 2026-01-02 is a + 1.
  EXPECT_EQ(Label1("a,true,2026-01-02"), "churned");
}

TEST_F(HorizonTest, ASnapshotOnOrAfterTheChurnIsExcluded) {
  // c = a: the account had churned when the snapshot was taken.
  EXPECT_EQ(Label1("a,true,2026-01-01"), "excluded:after_churn");
  // c = a - 1 (2025-12-31).
  EXPECT_EQ(Label1("a,true,2025-12-31"), "excluded:after_churn");
}

TEST_F(HorizonTest, ChurnedWithoutADateCannotBePlaced) {
  EXPECT_EQ(Label1("a,true,"), "excluded:no_churn_date");
}

TEST_F(HorizonTest, NotChurnedIsRetained) {
  EXPECT_EQ(Label1("a,false,"), "retained");
}

TEST_F(HorizonTest, ASnapshotWithoutAsOfIsExcluded) {
  EXPECT_EQ(Label1("a,true,2026-02-15", std::nullopt), "excluded:no_as_of");
  EXPECT_EQ(Label1("a,false,", std::nullopt), "excluded:no_as_of");
}

TEST_F(HorizonTest, AWindowThatIsNotOverYetIsExcludedForRetained) {
  JoinOptions options = Options();
  // The window ends on 2026-04-01; outcomes known until 2026-03-31.
  options.observed_until = Day("2026-03-31");
  EXPECT_EQ(Label1("a,false,", Day("2026-01-01"), options),
            "excluded:window_not_complete");
  // A churn inside the window is known, window over or not.
  EXPECT_EQ(Label1("a,true,2026-02-15", Day("2026-01-01"), options), "churned");
  // Known until exactly the window's end: complete.
  options.observed_until = Day("2026-04-01");
  EXPECT_EQ(Label1("a,false,", Day("2026-01-01"), options), "retained");
  // Without a horizon observed_until plays no part.
  options.horizon_days = 0;
  options.observed_until = Day("2025-01-01");
  EXPECT_EQ(Label1("a,false,", Day("2026-01-01"), options), "retained");
}

TEST_F(HorizonTest, ConflictsAndUnknownsComeFirst) {
  EXPECT_EQ(Label1("a,false,2026-02-15"), "excluded:conflicting_outcome");
  EXPECT_EQ(Label1("a,,"), "excluded:unknown_outcome");
  EXPECT_EQ(Label1("a,,", std::nullopt), "excluded:unknown_outcome");
}

TEST(JoinTest, SnapshotsOfOneAccountAtSeveralDatesAreAllKept) {
  // Churned on 2026-06-30, horizon 90 days.
  Outcomes o = ReadCsv("id,churn_date\na,2026-06-30\n");
  SnapshotKeys keys;
  keys.Add("a", Day("2026-01-01"));  // window ends 2026-04-01: retained
  keys.Add("a", Day("2026-04-15"));  // 2026-04-15 + 90 = 2026-07-14: churned
  keys.Add("a", Day("2026-06-30"));  // on the churn date: excluded
  keys.Add("a", Day("2026-09-01"));  // after it: excluded
  JoinOptions options;
  options.horizon_days = 90;
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  EXPECT_THAT(Labels(result),
              ElementsAre("retained", "churned", "excluded:after_churn",
                          "excluded:after_churn"));
  const IdSample& after =
      result.report.excluded_by[static_cast<size_t>(Exclusion::kAfterChurn)];
  EXPECT_EQ(after.count, 2u);
  EXPECT_THAT(after.ids, ElementsAre("a", "a"));
  EXPECT_EQ(result.report.outcomes_matched, 1u);
}

TEST(JoinTest, DuplicatesAreExcludedAndCounted) {
  Outcomes o = ReadCsv(
      "id,churned\n"
      "a,true\n"
      "b,false\n"
      "a,false\n"
      "c,false\n");
  SnapshotKeys keys;
  keys.Add("a", Day("2026-01-01"));
  keys.Add("b", Day("2026-01-01"));
  keys.Add("b", Day("2026-01-01"));  // the same snapshot twice
  keys.Add("b", Day("2026-02-01"));  // another date: kept
  keys.Add("c", std::nullopt);
  keys.Add("c", std::nullopt);  // twice without an as_of
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o));
  EXPECT_THAT(
      Labels(result),
      ElementsAre("excluded:duplicate_outcome", "excluded:duplicate_snapshot",
                  "excluded:duplicate_snapshot", "retained",
                  "excluded:duplicate_snapshot",
                  "excluded:duplicate_snapshot"));
  EXPECT_EQ(result.rows[0].outcome, -1);
  EXPECT_EQ(result.rows[1].outcome, 0);  // b is row 0 once a is dropped
  const JoinReport& report = result.report;
  EXPECT_EQ(report.duplicate_outcome_ids, 1u);
  EXPECT_EQ(report.duplicate_outcome_records, 2u);
  EXPECT_EQ(
      report.excluded_by[static_cast<size_t>(Exclusion::kDuplicateSnapshot)]
          .count,
      4u);
  EXPECT_THAT(
      report.excluded_by[static_cast<size_t>(Exclusion::kDuplicateOutcome)].ids,
      ElementsAre("a"));
}

TEST(JoinTest, OutcomesWithoutSnapshotsAreCountedWithExamples) {
  std::string csv = "id,churned\n";
  for (int i = 0; i < 25; ++i) csv += "o" + std::to_string(i) + ",false\n";
  Outcomes o = ReadCsv(csv);
  SnapshotKeys keys;
  keys.Add("o3", std::nullopt);
  JoinOptions options;
  options.max_examples = 3;
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  EXPECT_EQ(result.report.outcomes_matched, 1u);
  EXPECT_EQ(result.report.outcomes_without_snapshots.count, 24u);
  EXPECT_THAT(result.report.outcomes_without_snapshots.ids,
              ElementsAre("o0", "o1", "o2"));
}

TEST(JoinTest, ReportsEveryProblemOfTheOutcomesFile) {
  Outcomes o = ReadCsv(
      "id,churned,churn_date\n"
      "a,true,2026-01-10\n"
      "b,maybe,\n"
      "c,false,2026-01-10\n"
      "d\n"
      "e,true,\n"
      "e,false,\n");
  SnapshotKeys keys;
  for (const char* id : {"a", "b", "c", "e", "x", "y"}) {
    keys.Add(id, Day("2026-01-01"));
  }
  JoinOptions options;
  options.horizon_days = 7;  // 2026-01-08: a churned on the 10th, after it
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  const JoinReport& report = result.report;
  EXPECT_EQ(report.bad_outcome_records, 1u);
  EXPECT_EQ(report.bad_outcome_values, 1u);
  EXPECT_EQ(report.unlabelled_outcomes, 1u);
  EXPECT_EQ(report.conflicting_outcomes, 1u);
  EXPECT_EQ(report.duplicate_outcome_ids, 1u);
  EXPECT_THAT(
      DescribeJoinReport(report),
      ElementsAre(
          "6 snapshots: 0 churned, 1 retained, 5 excluded (horizon 7 days)",
          "  2 excluded, no_outcome (no outcome record has the id): x, y",
          "  1 excluded, duplicate_outcome (several outcome records have the "
          "id): e",
          "  1 excluded, unknown_outcome (the outcome record does not say "
          "whether the account churned): b",
          "  1 excluded, conflicting_outcome (the outcome record has churned "
          "false and a churn_date): c",
          "1 id is given by several outcome records (2 records, all "
          "dropped)",
          "1 outcome record could not be read and was dropped",
          "1 outcome value did not fit its column and was read as missing",
          "1 outcome record does not say whether the account churned",
          "1 outcome record has churned false and a churn_date"));
}

TEST(JoinTest, TheReportAsJson) {
  Outcomes o = ReadCsv(
      "id,churned,churn_date\n"
      "a,true,2026-01-05\n"
      "b,false,\n"
      "b,true,\n"
      "c,false,\n");
  SnapshotKeys keys;
  keys.Add("a", Day("2026-01-01"));  // churned 4 days later
  keys.Add("b", Day("2026-01-01"));
  keys.Add("x\"y", Day("2026-01-01"));
  JoinOptions options;
  options.horizon_days = 30;
  options.observed_until = Day("2026-12-31");
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  std::string json;
  AppendJoinReportJson(result.report, &json);
  EXPECT_EQ(json,
            R"({"snapshots": 3, "churned": 1, "retained": 0, "excluded": 2, )"
            R"("horizon_days": 30, "observed_until": "2026-12-31", )"
            R"("excluded_by": {)"
            R"("duplicate_snapshot": {"count": 0, "examples": []}, )"
            R"("no_outcome": {"count": 1, "examples": ["x\"y"]}, )"
            R"("duplicate_outcome": {"count": 1, "examples": ["b"]}, )"
            R"("unknown_outcome": {"count": 0, "examples": []}, )"
            R"("conflicting_outcome": {"count": 0, "examples": []}, )"
            R"("no_as_of": {"count": 0, "examples": []}, )"
            R"("after_churn": {"count": 0, "examples": []}, )"
            R"("no_churn_date": {"count": 0, "examples": []}, )"
            R"("window_not_complete": {"count": 0, "examples": []}}, )"
            R"("outcomes_matched": 1, )"
            R"("outcomes_without_snapshots": {"count": 1, "examples": ["c"]}, )"
            R"("outcomes_file": {"duplicate_ids": 1, "duplicate_records": 2, )"
            R"("bad_records": 0, "bad_values": 0, "unlabelled": 0, )"
            R"("conflicting": 0}})");
  JoinOptions none;
  ASSERT_OK_AND_ASSIGN(JoinResult plain, JoinOutcomes(keys, o, none));
  json.clear();
  AppendJoinReportJson(plain.report, &json);
  EXPECT_THAT(json,
              HasSubstr(R"("horizon_days": null, "observed_until": null)"));
}

TEST(JoinTest, DescribesExamplesBeyondTheKeptOnes) {
  Outcomes o = ReadCsv("id,churned\na,true\n");
  SnapshotKeys keys;
  for (int i = 0; i < 1500; ++i) keys.Add("n" + std::to_string(i), {});
  JoinOptions options;
  options.max_examples = 2;
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  EXPECT_THAT(DescribeJoinReport(result.report),
              ElementsAre("1,500 snapshots: 0 churned, 0 retained, 1,500 "
                          "excluded (no horizon)",
                          "  1,500 excluded, no_outcome (no outcome record "
                          "has the id): n0, n1 and 1,498 more",
                          "1 outcome record has no snapshot: a"));
}

TEST(JoinTest, RefusesBadOptions) {
  Outcomes o = ReadCsv("id,churned\na,true\n");
  SnapshotKeys keys;
  JoinOptions options;
  options.horizon_days = -1;
  EXPECT_THAT(JoinOutcomes(keys, o, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the horizon must be 0 (none) to 36600 "
                                 "days, not -1")));
  options.horizon_days = 10;
  options.observed_until = 1e300;
  EXPECT_THAT(JoinOutcomes(keys, o, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("observed_until is not a supported date")));
}

TEST(JoinTest, NoSnapshotsNoLabels) {
  Outcomes o = ReadCsv("id,churned\n");
  SnapshotKeys keys;
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o));
  EXPECT_THAT(result.rows, IsEmpty());
  EXPECT_EQ(result.report.snapshots, 0u);
}

TEST(SnapshotKeysTest, TakesEveryRowOfABatchInOrder) {
  eval::Batch batch(io::testing::BasicModel());
  {
    eval::BatchBuilder b(&batch);
    b.BeginRow("a");
    b.SetAsOf("2026-01-01");
    b.EndRow();
    b.BeginRow("b");  // no as_of
    b.EndRow();
    b.BeginRow("");  // no id: a failed row keeps its place
    b.EndRow();
  }
  ASSERT_EQ(batch.size(), 3u);
  SnapshotKeys keys;
  keys.Add("first", std::nullopt);
  keys.AddBatch(batch);
  batch.Clear();  // the keys hold copies
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys.id(1), "a");
  EXPECT_TRUE(keys.has_as_of(1));
  EXPECT_EQ(keys.as_of(1), Day("2026-01-01"));
  EXPECT_EQ(keys.id(2), "b");
  EXPECT_FALSE(keys.has_as_of(2));
  EXPECT_EQ(keys.id(3), "");
  keys.Clear();
  EXPECT_EQ(keys.size(), 0u);
}

TEST(JoinTest, ScalesToManySnapshots) {
  // 200,000 snapshots of 100,000 accounts (two dates each) against their
  // outcomes; every second account churned 100 days after the first
  // snapshot. Horizon 180 days: the first snapshot (day 0) sees the churn
  // at day 100 (churned), the second (day 90) too (100 - 90 = 10 days).
  std::string csv = "id,churned,churn_date\n";
  for (int i = 0; i < 100000; ++i) {
    csv += "acct" + std::to_string(i) +
           (i % 2 == 0 ? ",true,2026-04-11\n" : ",false,\n");
  }
  Outcomes o = ReadCsv(csv);
  SnapshotKeys keys;
  const double first = Day("2026-01-01");  // 2026-04-11 is first + 100
  for (int i = 0; i < 100000; ++i) {
    keys.Add("acct" + std::to_string(i), first);
    keys.Add("acct" + std::to_string(i), first + 90);
  }
  JoinOptions options;
  options.horizon_days = 180;
  ASSERT_OK_AND_ASSIGN(JoinResult result, JoinOutcomes(keys, o, options));
  EXPECT_EQ(result.report.churned, 100000u);
  EXPECT_EQ(result.report.retained, 100000u);
  EXPECT_EQ(result.report.excluded, 0u);
  EXPECT_EQ(result.rows[199999].outcome, 99999);
}

}  // namespace
}  // namespace healthscore::engine::outcomes
