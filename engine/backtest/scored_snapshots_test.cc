#include "engine/backtest/scored_snapshots.h"

#include <cmath>
#include <memory>
#include <string>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/byte_source.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::backtest {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

// Tiers at 50 (live) or 30 (candidate); a playbook on low usage.
std::string ModelText(int green_min) {
  return std::string(R"yaml(name: m
version: "1"
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: segment, type: string}
  - {id: region, type: string}
groups:
  - id: usage
    weight: 1
    signals:
      - {id: stickiness, source: dau_mau, weight: 1,
         normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: )yaml") +
         std::to_string(green_min) + R"yaml(}
  - {id: red, min: 0}
playbooks:
  - {id: low_usage, name: Low usage, owner: CSM, priority: 1,
     when: "dau_mau < 0.4"}
)yaml";
}

std::shared_ptr<const model::CompiledModel> Compile(int green_min) {
  model::CompileResult r = model::CompileString(ModelText(green_min), "m.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

constexpr char kSnapshots[] =
    R"({"id":"a","as_of":"2026-01-01","attributes":{"segment":"smb","region":"eu"},"metrics":{"dau_mau":0.2}}
{"id":"b","as_of":"2026-01-02","attributes":{"segment":"ent"},"metrics":{"dau_mau":0.45}}
not json
{"id":"d","attributes":{"segment":"smb"},"metrics":{"dau_mau":0.9}}
{"id":"e","metrics":{}}
)";

// The same accounts read and scored one model at a time, without the
// backtest's path: what ScoreSnapshots must keep.
struct Reference {
  eval::Batch batch;
  eval::BatchResult result;
};
std::unique_ptr<Reference> ScoreDirectly(
    std::shared_ptr<const model::CompiledModel> model) {
  auto ref = std::make_unique<Reference>(Reference{eval::Batch(model), {}});
  io::JsonLinesReader reader(io::StringSource(kSnapshots), {});
  auto rows = reader.ReadBatch(&ref->batch, 100);
  EXPECT_TRUE(rows.ok());
  EXPECT_TRUE(eval::Scorer::Score(ref->batch, &ref->result).ok());
  return ref;
}

TEST(ScoreSnapshotsTest, KeepsWhatEachModelSaidOfEverySnapshot) {
  auto live = Compile(50);
  auto candidate = Compile(30);
  io::JsonLinesReader reader(io::StringSource(kSnapshots), {});
  ScoreOptions options;
  options.table_rows = 2;  // several tables
  ASSERT_OK_AND_ASSIGN(ScoredSnapshots s,
                       ScoreSnapshots(reader, live, candidate, options));
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.id(0), "a");
  EXPECT_EQ(s.id(1), "b");
  EXPECT_EQ(s.id(3), "d");
  EXPECT_EQ(s.id(4), "e");
  // 2026-01-01 is day 20454 since 1970-01-01 (56 years, 14 of them leap:
  // 56 * 365 + 14).
  EXPECT_EQ(s.as_of[0], 20454);
  EXPECT_EQ(s.as_of[1], 20455);
  EXPECT_TRUE(std::isnan(s.as_of[3]));

  EXPECT_EQ(s.segment_input, "segment");
  ASSERT_EQ(s.segments.size(), 2u);
  EXPECT_EQ(s.segments[static_cast<size_t>(s.segment[0])], "smb");
  EXPECT_EQ(s.segments[static_cast<size_t>(s.segment[1])], "ent");
  EXPECT_EQ(s.segment[3], s.segment[0]);
  EXPECT_EQ(s.segment[2], -1);  // failed
  EXPECT_EQ(s.segment[4], -1);  // none given

  ASSERT_EQ(s.error_examples.size(), 1u);
  EXPECT_THAT(s.error_examples[0], HasSubstr("line 3"));

  for (const auto* columns : {&s.live, &s.candidate}) {
    SCOPED_TRACE(columns == &s.live ? "live" : "candidate");
    auto ref = ScoreDirectly(columns->model);
    ASSERT_EQ(columns->score.size(), 5u);
    EXPECT_EQ(columns->failed, 1u);
    for (size_t r = 0; r < 5; ++r) {
      SCOPED_TRACE(r);
      if (!ref->batch.row_ok(r)) {
        EXPECT_EQ(columns->tier[r], kFailedTier);
        EXPECT_TRUE(std::isnan(columns->score[r]));
        EXPECT_FALSE(columns->Fired(r, 0));
        continue;
      }
      EXPECT_EQ(columns->tier[r], ref->result.tier(r));
      if (ref->result.has_score(r)) {
        EXPECT_EQ(columns->score[r], ref->result.score(r));
      } else {
        EXPECT_TRUE(std::isnan(columns->score[r]));
      }
      EXPECT_EQ(columns->Fired(r, 0), ref->result.playbook_matched(r, 0));
    }
  }
  // The two models differ where the tiers say: b scores 45.
  EXPECT_EQ(s.live.tier[1], 1);       // red below 50
  EXPECT_EQ(s.candidate.tier[1], 0);  // green from 30
  EXPECT_TRUE(s.live.Fired(0, 0));
  EXPECT_FALSE(s.live.Fired(3, 0));
  EXPECT_EQ(s.live.tier[4], model::kInsufficientDataTier);
  // The tier migration `healthscore diff` reports, of the same snapshots.
  ASSERT_TRUE(s.shadow.has_value());
  EXPECT_EQ(s.shadow->accounts, 5u);
  EXPECT_EQ(s.shadow->failed_both, 1u);
  EXPECT_EQ(s.shadow->tier_changed, 1u);
  EXPECT_EQ(s.shadow->TierCount("red", "green"), 1u);
  EXPECT_EQ(s.shadow->TierCount("red", "red"), 1u);
}

TEST(ScoreSnapshotsTest, SegmentsComeFromTheNamedStringInput) {
  auto live = Compile(50);
  ScoreOptions options;
  options.segment_input = "region";
  io::JsonLinesReader reader(io::StringSource(kSnapshots), {});
  ASSERT_OK_AND_ASSIGN(ScoredSnapshots s,
                       ScoreSnapshots(reader, live, nullptr, options));
  EXPECT_EQ(s.segment_input, "region");
  ASSERT_EQ(s.segments.size(), 1u);
  EXPECT_EQ(s.segments[0], "eu");
  EXPECT_EQ(s.segment[0], 0);
  EXPECT_EQ(s.segment[1], -1);
  EXPECT_EQ(s.candidate.model, nullptr);
  EXPECT_FALSE(s.shadow.has_value());
  EXPECT_TRUE(s.candidate.score.empty());

  options.segment_input = "dau_mau";
  io::JsonLinesReader again(io::StringSource(kSnapshots), {});
  EXPECT_THAT(ScoreSnapshots(again, live, nullptr, options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("its string inputs: segment, region")));
}

TEST(ScoreSnapshotsTest, BoundsSnapshotsAndSegments) {
  auto live = Compile(50);
  ScoreOptions options;
  options.max_snapshots = 3;
  options.table_rows = 2;
  io::JsonLinesReader reader(io::StringSource(kSnapshots), {});
  EXPECT_THAT(ScoreSnapshots(reader, live, nullptr, options).status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("--max-snapshots")));

  options = ScoreOptions();
  options.max_segments = 1;
  io::JsonLinesReader again(io::StringSource(kSnapshots), {});
  ASSERT_OK_AND_ASSIGN(ScoredSnapshots s,
                       ScoreSnapshots(again, live, nullptr, options));
  ASSERT_EQ(s.segments.size(), 2u);
  EXPECT_EQ(s.segments[1], "(other)");
  EXPECT_EQ(s.segment[1], 1);  // "ent" came after the one kept
}

}  // namespace
}  // namespace healthscore::engine::backtest
