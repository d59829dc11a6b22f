#include "engine/shadow/shadow.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiler.h"
#include "engine/repository/score_table.h"
#include "engine/repository/testing/test_repo.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::shadow {

using eval::AccountTable;
using eval::TableBinder;
using eval::TableBuilder;
using model::CompileString;
using repository::ScoreTable;

namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::healthscore::engine::repository::testing::SmallModel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const model::CompiledModel> Model(const std::string& text) {
  model::CompileResult r = CompileString(text, "model.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

struct Account {
  std::string id;
  std::optional<double> x;
  bool bad = false;
};

// x = 100, 80, 60, 40, 20 (with seats and usage, so `rescue` can fire),
// one account without data and one with a bad value.
const std::vector<Account>& Accounts() {
  static const auto* accounts = new std::vector<Account>{
      {"a100", 100}, {"b80", 80},          {"c60", 60},
      {"d40", 40},   {"e20", 20},          {"f-empty", std::nullopt},
      {"g-bad", 10, true}};
  return *accounts;
}

// The accounts as one table, which both models bind to.
AccountTable Table() {
  const double usage[] = {1, 2, 3};
  AccountTable table;
  TableBuilder builder(&table);
  for (const Account& a : Accounts()) {
    builder.BeginRow(a.id);
    if (a.x) {
      builder.SetMetric("x", *a.x);
      builder.SetMetric("seats", 10);
      builder.SetSeries("usage", usage, 3);
    }
    if (a.bad) builder.FailRow("x: the record is unreadable");
    builder.EndRow();
  }
  return table;
}

TEST(ShadowTest, TierTablePlaybooksAndDeltas) {
  // Live: score = x. Candidate: score = x / 2.
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(SmallModel("health", "2", 200));
  ASSERT_OK_AND_ASSIGN(
      ShadowReport r,
      CompareModels(live, candidate, Table()));
  EXPECT_EQ(r.live.name, "health");
  EXPECT_EQ(r.live.version, "1");
  EXPECT_EQ(r.candidate.version, "2");
  EXPECT_EQ(r.candidate.hash, candidate->hash());
  EXPECT_EQ(r.accounts, 7u);
  EXPECT_EQ(r.compared, 6u);
  EXPECT_EQ(r.failed_both, 1u);
  EXPECT_EQ(r.failed_live_only, 0u);
  EXPECT_EQ(r.failed_candidate_only, 0u);

  EXPECT_THAT(r.live_tiers, ElementsAre("green", "red", "insufficient_data"));
  EXPECT_EQ(r.tier_table.size(), 9u);
  EXPECT_EQ(r.TierCount("green", "green"), 1u);  // 100 -> 50
  EXPECT_EQ(r.TierCount("green", "red"), 2u);    // 80, 60 -> 40, 30
  EXPECT_EQ(r.TierCount("red", "red"), 2u);
  EXPECT_EQ(r.TierCount("insufficient_data", "insufficient_data"), 1u);
  EXPECT_EQ(r.TierCount("red", "green"), 0u);
  EXPECT_EQ(r.tier_changed, 2u);
  ASSERT_EQ(r.changed.size(), 2u);
  EXPECT_EQ(r.changed[0].id, "b80");
  EXPECT_EQ(r.changed[0].live_tier, "green");
  EXPECT_EQ(r.changed[0].candidate_tier, "red");
  EXPECT_DOUBLE_EQ(r.changed[0].live_score, 80);
  EXPECT_DOUBLE_EQ(r.changed[0].candidate_score, 40);
  EXPECT_EQ(r.changed[1].id, "c60");

  ASSERT_EQ(r.playbooks.size(), 1u);
  EXPECT_EQ(r.playbooks[0].id, "rescue");
  EXPECT_EQ(r.playbooks[0].live, 2u);
  EXPECT_EQ(r.playbooks[0].candidate, 4u);
  EXPECT_EQ(r.playbooks[0].newly_firing, 2u);
  EXPECT_EQ(r.playbooks[0].stopped_firing, 0u);

  // Deltas -50, -40, -30, -20, -10 (nearest rank).
  EXPECT_EQ(r.delta.count, 5u);
  EXPECT_DOUBLE_EQ(r.delta.min, -50);
  EXPECT_DOUBLE_EQ(r.delta.p5, -50);
  EXPECT_DOUBLE_EQ(r.delta.p25, -40);
  EXPECT_DOUBLE_EQ(r.delta.median, -30);
  EXPECT_DOUBLE_EQ(r.delta.p75, -20);
  EXPECT_DOUBLE_EQ(r.delta.p95, -10);
  EXPECT_DOUBLE_EQ(r.delta.max, -10);
  EXPECT_DOUBLE_EQ(r.delta.mean, -30);

  EXPECT_EQ(FormatShadowReport(r),
            "live:      health version 1 (hash " + live->hash().substr(0, 12) +
                ")\n"
                "candidate: health version 2 (hash " +
                candidate->hash().substr(0, 12) +
                ")\n"
                "accounts:  7 read, 6 scored by both; failed with both 1, "
                "only live 0, only candidate 0\n"
                "\n"
                "tier changes: 2 of 6 accounts (33.3%)\n"
                "  live \\ candidate   green  red  insufficient_data\n"
                "  green                  1    2                  0\n"
                "  red                    0    2                  0\n"
                "  insufficient_data      0    0                  1\n"
                "\n"
                "playbooks (accounts):\n"
                "  rescue  live 2      candidate 4      newly firing 2      "
                "stopped firing 0\n"
                "\n"
                "score delta (candidate - live) over 5 accounts:\n"
                "  min -50  p5 -50  p25 -40  median -30  p75 -20  p95 -10  "
                "max -10  mean -30\n"
                "\n"
                "accounts changing tier:\n"
                "  b80: green -> red (score 80 -> 40)\n"
                "  c60: green -> red (score 60 -> 30)\n");
  const std::string json = ShadowReportJson(r);
  EXPECT_THAT(json, HasSubstr("\"accounts\":7,\"compared\":6,\"failed\":"
                              "{\"both\":1,\"live_only\":0,"
                              "\"candidate_only\":0},\"tier_changed\":2,"));
  EXPECT_THAT(json, HasSubstr("{\"from\":\"green\",\"to\":\"red\","
                              "\"count\":2}"));
  EXPECT_THAT(json, HasSubstr("\"playbooks\":[{\"id\":\"rescue\",\"live\":2,"
                              "\"candidate\":4,\"newly_firing\":2,"
                              "\"stopped_firing\":0}]"));
  EXPECT_THAT(json, HasSubstr("\"score_delta\":{\"count\":5,\"min\":-50,"
                              "\"p5\":-50,\"p25\":-40,\"median\":-30,"
                              "\"p75\":-20,\"p95\":-10,\"max\":-10,"
                              "\"mean\":-30}"));
  EXPECT_THAT(json, HasSubstr("\"changed\":[{\"id\":\"b80\",\"from\":"
                              "\"green\",\"to\":\"red\",\"live_score\":80,"
                              "\"candidate_score\":40},"));
  EXPECT_EQ(json.back(), '\n');
}

// The JSON report escapes its strings as the result writer does
// (engine/common/json_text.h): an account id that is not valid UTF-8 (a CSV
// input may carry one) used to be copied byte for byte, which made the
// report invalid UTF-8 and so invalid JSON.
TEST(ShadowTest, JsonReportIsValidUtf8WhateverTheIds) {
  ShadowReport r;
  r.live = {"health", "1", "h1"};
  r.candidate = {"health \"next\"", "2", "h2"};
  ShadowAccount a;
  a.id = "caf\xE9\n";
  a.live_tier = "green";
  a.candidate_tier = "red";
  a.live_score = 80;
  a.candidate_score = std::nan("");
  r.changed.push_back(a);
  const std::string json = ShadowReportJson(r);
  EXPECT_THAT(json, HasSubstr("\"name\":\"health \\\"next\\\"\""));
  EXPECT_THAT(json, HasSubstr("{\"id\":\"caf\xEF\xBF\xBD\\n\",\"from\":"
                              "\"green\",\"to\":\"red\",\"live_score\":80,"
                              "\"candidate_score\":null}"));
}

TEST(ShadowTest, PlaybooksOfOnlyOneModelAndExampleLimit) {
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(absl::StrReplaceAll(
      SmallModel("health", "2", 200), {{"id: rescue", "id: save"}}));
  ShadowOptions options;
  options.max_examples = 1;
  ASSERT_OK_AND_ASSIGN(
      ShadowReport r,
      CompareModels(live, candidate, Table(), false, nullptr,
                    options));
  ASSERT_EQ(r.playbooks.size(), 2u);
  const ShadowPlaybook* rescue = r.Playbook("rescue");
  ASSERT_NE(rescue, nullptr);
  EXPECT_EQ(rescue->stopped_firing, 2u);
  EXPECT_EQ(rescue->newly_firing, 0u);
  const ShadowPlaybook* save = r.Playbook("save");
  ASSERT_NE(save, nullptr);
  EXPECT_EQ(save->newly_firing, 4u);
  EXPECT_EQ(save->stopped_firing, 0u);
  ASSERT_EQ(r.changed.size(), 1u);
  EXPECT_THAT(FormatShadowReport(r),
              HasSubstr("accounts changing tier (first 1 of 2):\n"
                        "  b80: green -> red (score 80 -> 40)\n"));
}

TEST(ShadowTest, StreamsAcrossBatchesAndChecksAlignment) {
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(SmallModel("health", "2", 200));
  ShadowComparison comparison(live, candidate);
  const AccountTable all = Table();
  // One table per account, as a reader streams them; ScoreTable binds both
  // models to each.
  for (uint32_t r = 0; r < 5; ++r) {
    AccountTable one;
    TableBuilder b(&one);
    const Account& a = Accounts()[r];
    const double usage[] = {1, 2, 3};
    b.BeginRow(a.id);
    b.SetMetric("x", *a.x);
    b.SetMetric("seats", 10);
    b.SetSeries("usage", usage, 3);
    b.EndRow();
    repository::TableRequest request;
    request.model.model = live;
    repository::ModelRef shadow;
    shadow.model = candidate;
    request.shadow = &shadow;
    repository::TableScores scores;
    ASSERT_OK(ScoreTable(request, one, nullptr, &scores));
    ASSERT_OK(comparison.AddScores(scores));
  }
  ShadowReport report = comparison.Report();
  EXPECT_EQ(report.compared, 5u);
  EXPECT_DOUBLE_EQ(report.delta.median, -30);

  eval::Batch lb(live), cb(candidate);
  TableBinder(live).Bind(all, {0, 1}, &lb);
  TableBinder(candidate).Bind(all, {0, 2}, &cb);
  eval::BatchResult lr, cr;
  ASSERT_OK(eval::Scorer::Score(lb, &lr));
  ASSERT_OK(eval::Scorer::Score(cb, &cr));
  EXPECT_THAT(comparison.Add(lb, lr, cb, cr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("account 7 has id \"b80\" for the live model "
                                 "but \"c60\" for the candidate")));
  EXPECT_THAT(comparison.Add(cb, cr, lb, lr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must belong to the live and candidate")));
}

TEST(ShadowTest, AddScoresNeedsTheShadowScores) {
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(SmallModel("health", "2", 200));
  ShadowComparison comparison(live, candidate);
  repository::TableRequest request;  // no shadow candidate
  request.model.model = live;
  repository::TableScores scores;
  ASSERT_OK(ScoreTable(request, Table(), nullptr, &scores));
  EXPECT_THAT(comparison.AddScores(scores),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("scored without a shadow candidate")));
  EXPECT_EQ(comparison.Report().compared, 0u);
}

TEST(ShadowTest, SmallDeltasKeepTheirResolution) {
  // Candidate scale 100.5: score = x / 1.005; for x = 50.25 the delta is
  // 50 - 50.25 = -0.25.
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(SmallModel("health", "2", 100.5));
  AccountTable table;
  TableBuilder b(&table);
  for (int r = 0; r < 3; ++r) {
    b.BeginRow("a" + std::to_string(r));
    b.SetMetric("x", 50.25);
    b.EndRow();
  }
  ASSERT_OK_AND_ASSIGN(ShadowReport r, CompareModels(live, candidate, table));
  EXPECT_NEAR(r.delta.median, -0.25, 1e-9);
  EXPECT_NEAR(r.delta.min, -0.25, 1e-9);
  EXPECT_EQ(r.TierCount("green", "green"), 3u);
  EXPECT_EQ(r.tier_changed, 0u);
}

// Percentiles of the delta are nearest ranks over deltas binned to 1/1000
// of a point, whether the comparison keeps the bins of few accounts or the
// dense histogram of many (past 50,000), and however the deltas spread:
// evenly; most of them in a tenth of a point, so that several percentiles
// fall among the same 256 bins (BinsAtRanks counts those separately); all
// of them the same.
TEST(ShadowTest, PercentilesAreTheSameForFewAndManyAccounts) {
  auto live = Model(SmallModel("health", "1"));
  auto candidate = Model(SmallModel("health", "2", 200));
  struct Spread {
    const char* name;
    double (*x)(int i, int n);  // account i's live score of n
  };
  const Spread spreads[] = {
      // The quarter keeps every delta off a bin's edge.
      {"even", [](int i, int n) { return 100.0 * (i + 0.25) / n; }},
      {"clustered",
       [](int i, int n) {
         return i % 10 == 0 ? 100.0 * (i + 0.25) / n
                            : 40 + 0.002 * (i % 97) + 0.00025;
       }},
      {"one value", [](int, int) { return 30.25; }}};
  for (const Spread& spread : spreads) {
    for (const int n : {7, 1000, 60000}) {
      SCOPED_TRACE(absl::StrCat(spread.name, " ", n));
      // The accounts in two tables, so that the comparison also adds to the
      // dense histogram once it has one (the first table of 60,000 has
      // 55,000).
      AccountTable tables[2];
      std::vector<double> binned;
      const int first = n * 11 / 12;
      for (int part = 0; part < 2; ++part) {
        TableBuilder b(&tables[part]);
        for (int i = part == 0 ? 0 : first; i < (part == 0 ? first : n); ++i) {
          // Live scores x, the candidate x / 2: the delta is -x / 2.
          const double x = spread.x(i, n);
          b.BeginRow("a" + std::to_string(i));
          b.SetMetric("x", x);
          b.EndRow();
          binned.push_back(std::round((-x / 2 + 100) * 1000) / 1000 - 100);
          // Now and then an account neither model has a score for: compared,
          // but it has no delta.
          if (i % 5 == 0) {
            b.BeginRow("none" + std::to_string(i));
            b.EndRow();
          }
        }
      }
      std::sort(binned.begin(), binned.end());
      ShadowComparison comparison(live, candidate);
      for (const AccountTable& table : tables) {
        repository::TableRequest request;
        request.model = {"health", 1, live, nullptr};
        const repository::ModelRef shadow = {"health", 2, candidate, nullptr};
        request.shadow = &shadow;
        repository::TableScores scores;
        ASSERT_OK(repository::ScoreTable(request, table, nullptr, &scores));
        ASSERT_OK(comparison.AddScores(scores));
      }
      const ShadowReport r = comparison.Report();
      EXPECT_EQ(r.compared, static_cast<uint64_t>(n + (n + 4) / 5));
      ASSERT_EQ(r.delta.count, static_cast<uint64_t>(n));
      auto nearest_rank = [&](double p) {
        const size_t rank = std::max<size_t>(
            1, static_cast<size_t>(std::ceil(p * n)));
        return std::clamp(binned[rank - 1], r.delta.min, r.delta.max);
      };
      EXPECT_NEAR(r.delta.p5, nearest_rank(0.05), 1e-9);
      EXPECT_NEAR(r.delta.p25, nearest_rank(0.25), 1e-9);
      EXPECT_NEAR(r.delta.median, nearest_rank(0.5), 1e-9);
      EXPECT_NEAR(r.delta.p75, nearest_rank(0.75), 1e-9);
      EXPECT_NEAR(r.delta.p95, nearest_rank(0.95), 1e-9);
    }
  }
}

}  // namespace
}  // namespace healthscore::engine::shadow
