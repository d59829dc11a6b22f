#include "engine/backtest/backtest.h"

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/io/byte_source.h"
#include "engine/model/compiler.h"
#include "engine/outcomes/join.h"
#include "engine/outcomes/outcomes.h"
#include "engine/report/html_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::backtest {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kModel[] = R"yaml(name: bt
version: "1"
inputs:
  - {id: usage, type: number}
  - {id: segment, type: string}
groups:
  - id: g
    weight: 1
    signals:
      - {id: s, source: usage, weight: 1,
         normalize: {linear: {bad: 0, good: 1}}}
tiers:
  - {id: green, min: 70, color: "#2e7d32"}
  - {id: yellow, min: 40, color: "#f9a825"}
  - {id: red, min: 0, color: "#c62828"}
playbooks:
  - {id: rescue, name: Rescue, owner: CSM, priority: 1, when: "usage < 0.3"}
)yaml";

std::shared_ptr<const model::CompiledModel> Model() {
  model::CompileResult r = model::CompileString(kModel, "bt.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

// Accounts whose churn falls with usage; a few without usage (no score),
// one unreadable, one without an outcome.
struct Data {
  std::string snapshots;
  std::string outcomes;
  std::vector<double> usage;  // NaN: none
  std::vector<int> churned;   // -1: no outcome
};

Data Make(size_t n) {
  Data d;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> unit(0, 1);
  d.outcomes = "id,churned\n";
  for (size_t i = 0; i < n; ++i) {
    const std::string id = absl::StrCat("a", i);
    const double usage = unit(rng);
    const bool has_usage = i % 50 != 7;
    const char* segment = i % 2 ? "smb" : "ent";
    absl::StrAppend(
        &d.snapshots, "{\"id\":\"", id, "\",\"attributes\":{\"segment\":\"",
        segment, "\"}",
        has_usage ? absl::StrCat(",\"metrics\":{\"usage\":", usage, "}") : "",
        "}\n");
    d.usage.push_back(has_usage ? usage : NAN);
    const bool churned = unit(rng) < 0.6 - 0.5 * usage;
    if (i == 3) {
      d.churned.push_back(-1);  // no outcome record
      continue;
    }
    d.churned.push_back(churned);
    absl::StrAppend(&d.outcomes, id, ",", churned ? "true" : "false", "\n");
  }
  d.snapshots += "not json\n";
  d.usage.push_back(NAN);
  d.churned.push_back(-1);
  return d;
}

struct Prepared {
  ScoredSnapshots snapshots;
  outcomes::JoinResult join;
};

Prepared Prepare(const Data& d,
                 std::shared_ptr<const model::CompiledModel> live,
                 std::shared_ptr<const model::CompiledModel> candidate) {
  io::JsonLinesReader reader(io::StringSource(d.snapshots), {});
  auto scored = ScoreSnapshots(reader, live, candidate, ScoreOptions());
  EXPECT_TRUE(scored.ok()) << scored.status();
  auto outcomes = outcomes::ReadOutcomes(io::StringSource(d.outcomes),
                                         io::InputFormat::kCsv);
  EXPECT_TRUE(outcomes.ok()) << outcomes.status();
  outcomes::SnapshotKeys keys;
  for (size_t r = 0; r < scored->size(); ++r) {
    keys.Add(scored->id(r), std::nullopt);
  }
  auto join = outcomes::JoinOutcomes(keys, *outcomes);
  EXPECT_TRUE(join.ok()) << join.status();
  return {*std::move(scored), *std::move(join)};
}

TEST(BacktestTest, FiguresAreThoseOfTheSnapshotsAndLabels) {
  auto model = Model();
  const Data d = Make(2000);
  Prepared run = Prepare(d, model, nullptr);
  ASSERT_OK_AND_ASSIGN(BacktestReport r, RunBacktest(run.snapshots, run.join));
  const ModelFigures& f = r.live;

  // Counted here from the data: labelled snapshots with usage are the
  // sample; those without usage have no score; the bad line fails.
  uint64_t sample = 0, churned = 0, without = 0;
  // Tier of each account by the cut-offs (score = 100 * usage).
  uint64_t tier_accounts[3] = {0, 0, 0}, tier_churned[3] = {0, 0, 0};
  uint64_t fired = 0, fired_churned = 0, unreached = 0;
  for (size_t i = 0; i < d.churned.size(); ++i) {
    if (d.churned[i] < 0) continue;
    if (std::isnan(d.usage[i])) {
      ++without;
      continue;
    }
    ++sample;
    churned += d.churned[i];
    const double score = 100 * d.usage[i];
    const int t = score >= 70 ? 0 : score >= 40 ? 1 : 2;
    ++tier_accounts[t];
    tier_churned[t] += d.churned[i];
    if (d.usage[i] < 0.3) {
      ++fired;
      fired_churned += d.churned[i];
    } else {
      unreached += d.churned[i];
    }
  }
  EXPECT_EQ(f.sample, sample);
  EXPECT_EQ(f.churned, churned);
  EXPECT_EQ(f.without_score, without);
  EXPECT_EQ(f.failed, 0u);  // the bad line has no outcome: not labelled
  EXPECT_EQ(r.join.excluded, 2u);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(f.tiers[t].churn.trials, static_cast<int64_t>(tier_accounts[t]));
    EXPECT_EQ(f.tiers[t].churn.successes,
              static_cast<int64_t>(tier_churned[t]));
  }
  EXPECT_EQ(f.tiers[3].id, "insufficient_data");
  EXPECT_EQ(f.tiers[3].churn.trials, static_cast<int64_t>(without));
  EXPECT_TRUE(f.order.ordered);
  EXPECT_GT(f.auc.auc, 0.65);
  EXPECT_LT(f.auc.lower, f.auc.auc);
  EXPECT_GT(f.auc.upper, f.auc.auc);
  ASSERT_EQ(f.playbooks.size(), 1u);
  EXPECT_EQ(f.playbooks[0].fired.trials, static_cast<int64_t>(fired));
  EXPECT_EQ(f.playbooks[0].fired.successes,
            static_cast<int64_t>(fired_churned));
  // Accounts without a score are read (tier insufficient_data), and no
  // playbook fires there.
  EXPECT_EQ(f.churned_without_playbook,
            unreached + static_cast<uint64_t>(f.tiers[3].churn.successes));
  ASSERT_EQ(f.alarms.size(), 2u);
  EXPECT_EQ(f.alarms[0].name, "tier is red");
  EXPECT_EQ(f.alarms[0].metrics.tp + f.alarms[0].metrics.fn,
            static_cast<int64_t>(churned + f.tiers[3].churn.successes));
  EXPECT_EQ(f.alarms[1].name, "tier is red or yellow");
  EXPECT_EQ(f.alarms[0].metrics.tp, static_cast<int64_t>(tier_churned[2]));
  EXPECT_EQ(f.alarms[1].metrics.tp,
            static_cast<int64_t>(tier_churned[1] + tier_churned[2]));
  ASSERT_EQ(f.lift.size(), 10u);
  EXPECT_GT(f.lift[0].lift, 1.5);  // the riskiest decile churns most
  ASSERT_EQ(f.segments.size(), 2u);
  EXPECT_EQ(f.segments[0].churn.trials + f.segments[1].churn.trials,
            static_cast<int64_t>(sample + without));
  EXPECT_FALSE(r.candidate.has_value());

  const std::string text = FormatBacktestText(r);
  EXPECT_THAT(text, HasSubstr("ROC AUC"));
  EXPECT_THAT(text, HasSubstr("tiers ordered: yes (green < yellow < red)"));
  const std::string json = BacktestJson(r);
  EXPECT_THAT(json, HasSubstr(absl::StrCat("\"snapshots\":", sample)));
  ASSERT_OK_AND_ASSIGN(std::string html, report::RenderHtml(BacktestDocument(
                                             r, {{"Input", "test"}})));
  for (const char* chart :
       {"roc", "score_distribution", "tier_churn", "calibration", "gains"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("data-chart=\"", chart, "\"")));
  }
}

TEST(BacktestTest, ACandidateIsComparedOnTheSameSnapshots) {
  auto model = Model();
  const Data d = Make(600);
  Prepared run = Prepare(d, model, model);
  ASSERT_OK_AND_ASSIGN(BacktestReport r, RunBacktest(run.snapshots, run.join));
  ASSERT_TRUE(r.candidate.has_value());
  ASSERT_TRUE(r.paired.has_value());
  EXPECT_EQ(r.paired->difference, 0);
  EXPECT_EQ(r.paired->p_value, 1);
  EXPECT_EQ(r.candidate->auc.auc, r.live.auc.auc);
  ASSERT_TRUE(r.migration.has_value());
  EXPECT_EQ(r.migration->tier_changed, 0u);
  EXPECT_THAT(FormatBacktestText(r), HasSubstr("tier migration"));
  EXPECT_THAT(BacktestJson(r), HasSubstr("\"paired\":{"));
}

// A segment too small to measure is reported with its counts, not a
// failure of the backtest; the others carry every figure.
TEST(BacktestTest, ASegmentTooSmallToMeasureIsReportedWithoutFigures) {
  auto model = Model();
  Data d = Make(400);
  // One churned and one retained account (both scored) in segment "pair":
  // too few for DeLong's interval, which needs two of each.
  std::vector<std::string> lines = absl::StrSplit(d.snapshots, '\n');
  int moved[2] = {-1, -1};
  for (size_t i = 0; i < d.churned.size(); ++i) {
    if (d.churned[i] < 0 || std::isnan(d.usage[i])) continue;
    int& slot = moved[d.churned[i]];
    if (slot >= 0) continue;
    slot = static_cast<int>(i);
    lines[i] = absl::StrReplaceAll(
        lines[i], {{"\"smb\"", "\"pair\""}, {"\"ent\"", "\"pair\""}});
  }
  ASSERT_GE(moved[0], 0);
  ASSERT_GE(moved[1], 0);
  d.snapshots = absl::StrJoin(lines, "\n");
  Prepared run = Prepare(d, model, nullptr);
  ASSERT_OK_AND_ASSIGN(BacktestReport r, RunBacktest(run.snapshots, run.join));
  bool solo = false;
  for (const SegmentFigure& s : r.live.segments) {
    SCOPED_TRACE(s.segment);
    if (s.segment == "pair") {
      solo = true;
      EXPECT_EQ(s.churn.trials, 2);
      EXPECT_EQ(s.churn.successes, 1);
      EXPECT_FALSE(s.auc_valid);
      EXPECT_TRUE(s.lift.empty());
      EXPECT_EQ(s.figures, nullptr);
    } else {
      EXPECT_TRUE(s.auc_valid);
      EXPECT_GT(s.ks.statistic, 0);
      EXPECT_GT(s.brier, 0);
      EXPECT_EQ(s.lift.size(), 10u);
      // Every figure, over the segment's snapshots alone.
      ASSERT_NE(s.figures, nullptr);
      EXPECT_EQ(s.figures->sample + s.figures->without_score,
                static_cast<uint64_t>(s.churn.trials));
      EXPECT_EQ(s.figures->auc.auc, s.auc.auc);
      EXPECT_EQ(s.figures->alarms.size(), 2u);
      EXPECT_EQ(s.figures->playbooks.size(), 1u);
      EXPECT_FALSE(s.figures->calibration.empty());
      EXPECT_TRUE(s.figures->segments.empty());
    }
  }
  EXPECT_TRUE(solo);
  EXPECT_THAT(FormatBacktestText(r), HasSubstr("pair"));
  EXPECT_THAT(BacktestJson(r), HasSubstr("\"figures\":{\"model\":"));
}

TEST(BacktestTest, NeedsChurnedAndRetainedSnapshots) {
  auto model = Model();
  Data d = Make(50);
  d.outcomes = "id,churned\n";
  for (size_t i = 0; i < 50; ++i)
    absl::StrAppend(&d.outcomes, "a", i, ",false\n");
  Prepared run = Prepare(d, model, nullptr);
  EXPECT_THAT(RunBacktest(run.snapshots, run.join).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("0 of them churned")));
}

}  // namespace
}  // namespace healthscore::engine::backtest
