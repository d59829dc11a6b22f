#include "engine/portfolio/tiers.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backtest/testing/synthetic.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::portfolio {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

outcomes::RecordTable Read(std::string text, const outcomes::RecordSchema& s,
                           io::InputFormat format = io::InputFormat::kCsv) {
  auto table =
      outcomes::ReadRecords(io::StringSource(std::move(text)), format, s);
  EXPECT_TRUE(table.ok()) << table.status();
  return std::move(table).value();
}

double Day(const char* date) {
  double days = 0;
  EXPECT_TRUE(eval::ParseIsoDate(date, &days)) << date;
  return days;
}

// Snapshots of the two-tier model (green 0, red 1), as ScoreSnapshots
// keeps them.
struct Snapshots {
  backtest::ScoredSnapshots s;
  Snapshots() { s.live.model = backtest::testing::TwoByTwoModel(); }
  void Add(const std::string& id, double as_of, int32_t tier) {
    s.id_text += id;
    s.id_ends.push_back(s.id_text.size());
    s.as_of.push_back(as_of);
    s.live.tier.push_back(tier);
  }
};

TEST(TiersFromSnapshotsTest, TheLatestSnapshotOnOrBeforeTheStartGivesTheTier) {
  const outcomes::RecordTable revenue = Read(
      "id,start_arr,end_arr\na,1,1\nb,1,1\nc,1,1\nd,1,1\ne,1,1\nf,1,1\n"
      "g,1,1\n",
      RevenueSchema());
  Snapshots snaps;
  snaps.Add("a", Day("2024-12-01"), 1);  // older: red
  snaps.Add("a", Day("2024-12-20"), 0);  // latest before the start: green
  snaps.Add("a", Day("2025-03-01"), 1);  // after the start: not used
  snaps.Add("b", Day("2025-02-01"), 0);  // only after the start: no tier
  snaps.Add("c", Day("2024-12-15"), 0);  // two on the same latest day:
  snaps.Add("c", Day("2024-12-15"), 1);  // ambiguous, no tier
  snaps.Add("d", NAN, 1);                // undated: as of the start
  snaps.Add("e", Day("2024-11-01"), backtest::kFailedTier);
  snaps.Add("f", Day("2025-01-01"), model::kInsufficientDataTier);
  snaps.Add("zz", Day("2024-12-01"), 0);  // no revenue record
  const Period period = *ParsePeriod("2025-01-01..2025-12-31");

  const TierColumn tiers =
      TiersFromSnapshots(snaps.s, revenue, period, "model fit on x.jsonl");
  EXPECT_EQ(tiers.source, "model fit on x.jsonl");
  EXPECT_THAT(tiers.names, ElementsAre("green", "red", "insufficient_data"));
  ASSERT_EQ(tiers.colors.size(), 3u);
  EXPECT_EQ(tiers.colors[2], "#9e9e9e");
  //                                  a  b   c  d   e  f   g
  EXPECT_THAT(tiers.row_tier, ElementsAre(0, -1, -1, 1, -1, 2, -1));
  EXPECT_THAT(tiers.notes,
              ElementsAre("2 snapshots dated after the period start "
                          "2025-01-01 not used (a tier must be known at the "
                          "start)",
                          "1 account without a tier: two snapshots with the "
                          "same latest date",
                          "1 account without a tier: the model could not read "
                          "the snapshot",
                          "1 snapshot of accounts not in the revenue file"));
}

TEST(TiersFromScoresTest, OrderedAsTheModelNamesThemThenByMeanScore) {
  const outcomes::RecordTable revenue =
      Read("id,start_arr,end_arr\na,1,1\nb,1,1\nc,1,1\nd,1,1\ne,1,1\nf,1,1\n",
           RevenueSchema());
  const outcomes::RecordTable scores = Read(
      "{\"id\":\"a\",\"status\":\"ok\",\"score\":90,\"tier\":\"platinum\"}\n"
      "{\"id\":\"b\",\"status\":\"ok\",\"score\":20,\"tier\":\"red\"}\n"
      "{\"id\":\"c\",\"status\":\"ok\",\"score\":70,\"tier\":\"green\"}\n"
      "{\"id\":\"d\",\"status\":\"error\",\"error\":\"line 4: bad\"}\n"
      "{\"id\":\"e\",\"status\":\"ok\",\"score\":40,\"tier\":\"bronze\"}\n"
      "{\"id\":\"x\",\"status\":\"ok\",\"score\":40,\"tier\":\"red\"}\n",
      ScoresSchema(), io::InputFormat::kJsonLines);
  const auto model = backtest::testing::TwoByTwoModel();

  // With the model: its tiers first, with their order; the others after,
  // by mean score (platinum 90, bronze 40).
  absl::StatusOr<TierColumn> with_model =
      TiersFromScores(scores, revenue, model.get(), "s.jsonl");
  ASSERT_TRUE(with_model.ok()) << with_model.status();
  EXPECT_THAT(
      with_model->names,
      ElementsAre("green", "red", "insufficient_data", "platinum", "bronze"));
  //                                       a  b  c   d  e   f
  EXPECT_THAT(with_model->row_tier, ElementsAre(3, 1, 0, -1, 4, -1));
  EXPECT_THAT(with_model->notes,
              ElementsAre("tiers the model does not name (listed after its "
                          "own): platinum, bronze",
                          "1 account without a tier: its score run failed",
                          "1 score of accounts not in the revenue file"));

  // Without: by mean score alone (platinum 90, green 70, bronze 40, red 30
  // over b and x).
  absl::StatusOr<TierColumn> alone =
      TiersFromScores(scores, revenue, nullptr, "s.jsonl");
  ASSERT_TRUE(alone.ok()) << alone.status();
  EXPECT_THAT(alone->names, ElementsAre("platinum", "green", "bronze", "red"));
  EXPECT_THAT(alone->row_tier, ElementsAre(0, 3, 1, -1, 2, -1));
}

TEST(TiersFromScoresTest, AFileWithoutTiersIsAnError) {
  const outcomes::RecordTable revenue =
      Read("id,start_arr,end_arr\na,1,1\n", RevenueSchema());
  const outcomes::RecordTable scores = Read("id,score\na,50\n", ScoresSchema());
  EXPECT_THAT(TiersFromScores(scores, revenue, nullptr, "s.csv").status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.csv: has no tier column")));
}

TEST(TiersFromScoresTest, PastSixtyFourTierNamesTheRestArePooled) {
  std::string revenue_csv = "id,start_arr,end_arr\n";
  std::string scores_csv = "id,status,tier,score\n";
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&revenue_csv, "a", i, ",1,1\n");
    // Tier t0 has the highest score, so the order is t0, t1, ...
    absl::StrAppend(&scores_csv, "a", i, ",ok,t", i, ",", 100 - i * 0.5, "\n");
  }
  const outcomes::RecordTable revenue = Read(revenue_csv, RevenueSchema());
  const outcomes::RecordTable scores = Read(scores_csv, ScoresSchema());
  absl::StatusOr<TierColumn> tiers =
      TiersFromScores(scores, revenue, nullptr, "s.csv");
  ASSERT_TRUE(tiers.ok()) << tiers.status();
  ASSERT_EQ(tiers->names.size(), 65u);
  EXPECT_EQ(tiers->names[63], "t63");
  EXPECT_EQ(tiers->names[64], "(other)");
  EXPECT_EQ(tiers->row_tier[63], 63);
  EXPECT_EQ(tiers->row_tier[64], 64);
  EXPECT_EQ(tiers->row_tier[99], 64);
  EXPECT_THAT(tiers->notes,
              ElementsAre("36 more tier names pooled as \"(other)\""));
}

}  // namespace
}  // namespace healthscore::engine::portfolio
