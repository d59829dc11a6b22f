#include "engine/routing/routing.h"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/outcome.h"
#include "engine/repository/testing/test_repo.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/score_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// Accounts are written with designated initializers naming only the fields
// a test cares about; the rest keep their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace healthscore::engine::repository {
namespace {

using ::healthscore::engine::repository::testing::SmallModel;
using ::healthscore::engine::repository::testing::TempRepo;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Account {
  Account(std::string id, std::string segment, double x,
          std::optional<double> seats = std::nullopt, bool bad = false)
      : id(std::move(id)),
        segment(std::move(segment)),
        x(x),
        seats(seats),
        bad(bad) {}
  std::string id;
  std::string segment;  // empty: not sent
  double x = 0;
  std::optional<double> seats;
  bool bad = false;  // an unreadable record
};

// The accounts as a table, read once for every model that scores them.
struct Filler {
  std::vector<Account> accounts;

  eval::AccountTable Table() const {
    eval::AccountTable table;
    eval::TableBuilder b(&table);
    for (const Account& a : accounts) {
      b.BeginRow(a.id);
      if (!a.segment.empty()) {
        b.PutString(b.Column({"attributes", "segment"}), a.segment);
      }
      if (a.bad) b.FailRow("x: the record is unreadable");
      b.PutNumber(b.Column({"metrics", "x"}), a.x);
      if (a.seats) b.PutNumber(b.Column({"metrics", "seats"}), *a.seats);
      b.EndRow();
    }
    return table;
  }
};

// default (score = x), enterprise (score = x / 2) and smb (score = x / 4).
void WriteModels(const TempRepo& repo, const std::string& routes) {
  repo.Write("default/1/model.yaml", SmallModel("default"));
  repo.Write("enterprise/1/model.yaml", SmallModel("enterprise", "1", 200));
  repo.Write("enterprise/2/model.yaml", SmallModel("enterprise", "2", 400));
  repo.Write("enterprise/config.yaml", "version_policy: all\n");
  repo.Write("smb/1/model.yaml", SmallModel("smb", "1", 400));
  repo.Write("default/config.yaml", routes);
}

std::unique_ptr<ModelRepository> Open(const TempRepo& repo) {
  RepositoryOptions options;
  options.root = repo.root();
  auto r = ModelRepository::Create(options);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : nullptr;
}

TEST(RoutingTest, SplitsByRouteAndKeepsRequestOrder) {
  TempRepo repo("routes");
  WriteModels(repo,
              "routes:\n"
              "  - when: 'segment == \"enterprise\"'\n"
              "    model: enterprise\n"
              "    version: 1\n"
              "  - when: segment in [\"smb\"] && seats < 20\n"
              "    model: smb\n"
              "    description: small SMB accounts\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(set->status("default")->errors, IsEmpty());
  EXPECT_THAT(set->status("default")->routes,
              ElementsAre("segment == \"enterprise\" -> enterprise v1",
                          "segment in [\"smb\"] && seats < 20 -> smb v1"));
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  ASSERT_NE(ref.router, nullptr);
  EXPECT_EQ(ref.router->size(), 2u);

  Filler filler;
  filler.accounts = {
      {"a-ent", "enterprise", 80},
      {"b-smb-small", "smb", 80, 5},
      {"c-smb-big", "smb", 80, 500},
      {"d-mid", "mid_market", 80},
      {"e-none", "", 80},
      {"f-ent", "enterprise", 40},
      {"g-other", "startup", 80, 5},  // a value the model does not list
      {"h-smb-no-seats", "smb", 80},
      {"i-bad", "enterprise", 80, std::nullopt, true},
  };
  ASSERT_OK_AND_ASSIGN(RoutedResult result,
                       ScoreRouted(ref, filler.Table()));
  ASSERT_EQ(result.size(), filler.accounts.size());
  // One bind to decide, one per target.
  ASSERT_EQ(result.parts.size(), 3u);
  EXPECT_EQ(result.parts[0].model.name, "default");
  EXPECT_EQ(result.parts[0].route, -1);
  // Routes took 3 of 9 accounts: the requested model's batch keeps only
  // the 6 that stayed.
  EXPECT_FALSE(result.parts[0].whole);
  EXPECT_EQ(result.parts[0].batch->size(), 6u);
  EXPECT_THAT(result.parts[0].rows, ElementsAre(2, 3, 4, 6, 7, 8));
  EXPECT_EQ(result.parts[0].batch_row(5), 5u);
  EXPECT_FALSE(result.parts[1].whole);
  EXPECT_THAT(result.parts[1].rows, ElementsAre(0, 5));
  EXPECT_EQ(result.parts[1].batch_row(1), 1u);
  EXPECT_EQ(result.parts[1].model.name, "enterprise");
  EXPECT_EQ(result.parts[1].model.version, 1);
  EXPECT_EQ(result.parts[1].route, 0);
  EXPECT_EQ(result.parts[2].model.name, "smb");
  EXPECT_EQ(result.parts[2].route, 1);

  struct Want {
    std::string model;
    double score;
  };
  const std::vector<Want> want = {
      {"enterprise", 40}, {"smb", 20}, {"default", 80},
      {"default", 80},    {"default", 80}, {"enterprise", 20},
      {"default", 80},    {"default", 80}, {"default", NAN},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(filler.accounts[i].id);
    const RoutedPart& part = result.part(i);
    const size_t row = result.row(i);
    EXPECT_EQ(part.model.name, want[i].model);
    EXPECT_EQ(part.batch->id(row), filler.accounts[i].id);
    EXPECT_EQ(part.result.model_ptr(), part.model.model);
    if (std::isnan(want[i].score)) {
      EXPECT_FALSE(part.result.ok(row));
      EXPECT_THAT(part.batch->row_error(row), HasSubstr("x"));
    } else {
      ASSERT_TRUE(part.result.ok(row));
      EXPECT_DOUBLE_EQ(part.result.score(row), want[i].score);
    }
  }
}

// Each account's outcome as the results show it: id, error, score, tier,
// playbooks with their reasons, warnings.
std::string OutcomeText(const RoutedPart& part, size_t row) {
  eval::RowOutcome o;
  eval::FillRowOutcome(*part.batch, part.result, row, eval::OutcomeOptions(),
                       &o);
  std::string text = absl::StrCat(std::string(o.id()), " ",
                                  o.ok() ? "ok " : "failed ",
                                  std::string(o.error()), " ");
  if (o.has_score()) {
    absl::StrAppend(&text, o.score(), " ", std::string(o.tier_id()));
  }
  for (const eval::PlaybookOutcome& p : o.playbooks()) {
    absl::StrAppend(&text, " playbook ", p.Reason(o.model()));
  }
  for (const std::string& w : o.warnings()) absl::StrAppend(&text, " | ", w);
  return text;
}

// The requested model's batch keeps only the accounts that stayed when
// routes took a good share of them (Batch::KeepRows), and holds them all
// when routes took few or a shadow candidate compares it on every account.
// Either way every account that stayed has the outcome the requested model
// gives it with no routes: error, score, tier and warnings, and the part's
// counts are those of these accounts.
TEST(RoutingTest, TheRequestedModelKeepsTheAccountsThatStay) {
  TempRepo repo("routes_keep");
  WriteModels(repo,
              "routes:\n"
              "  - {when: 'segment == \"enterprise\"', model: enterprise}\n");
  std::unique_ptr<ModelRepository> served = Open(repo);
  ASSERT_NE(served, nullptr);
  const auto set = served->Snapshot();  // holds the routes
  // The requested model (with its route) and a shadow candidate.
  ModelRef ref, candidate;
  for (auto [name, out] : {std::pair{"default", &ref}, {"smb", &candidate}}) {
    ASSERT_OK_AND_ASSIGN(*out, set->Find(name));
  }
  ASSERT_NE(ref.router, nullptr);
  // `enterprise_every`: one account in that many is an enterprise account.
  auto accounts = [](size_t n, size_t enterprise_every) {
    eval::AccountTable table;
    eval::TableBuilder b(&table);
    for (size_t i = 0; i < n; ++i) {
      b.BeginRow(i == 17 ? "" : absl::StrCat("acct-", i));
      if (i % 7 != 3) {
        b.PutString(b.Column({"attributes", "segment"}),
                    i % enterprise_every == 0 ? "enterprise" : "smb");
      }
      if (i % 11 == 5) b.FailRow("the record is unreadable");
      b.PutNumber(b.Column({"metrics", "x"}), static_cast<double>(i % 90));
      // A number sent as text that is none: a value used as missing.
      if (i % 4 == 1) b.PutText(b.Column({"metrics", "seats"}), "many");
      if (i % 4 == 3) b.PutNumber(b.Column({"metrics", "seats"}), 10);
      const double usage[] = {1, 2, static_cast<double>(i)};
      if (i % 3 == 2) b.SetSeries("usage", usage, 3);
      b.EndRow();
    }
    return table;
  };
  struct Case {
    const char* name;
    size_t accounts;
    size_t enterprise_every;
    bool shadow;
    bool whole;
  };
  for (const Case& c : {Case{"routes take about half", 300, 2, false, false},
                        Case{"routes take one in 8", 400, 8, false, true},
                        Case{"a shadow candidate", 300, 2, true, true}}) {
    SCOPED_TRACE(c.name);
    const eval::AccountTable table = accounts(c.accounts, c.enterprise_every);
    TableRequest request;
    request.model = ref;
    request.shadow = c.shadow ? &candidate : nullptr;
    TableScores routed, plain;
    ASSERT_OK(ScoreTable(request, table, nullptr, &routed));
    request.ignore_routes = true;
    request.shadow = nullptr;
    ASSERT_OK(ScoreTable(request, table, nullptr, &plain));
    const RoutedPart& own = routed.routed().parts[0];
    const RoutedPart& all = plain.routed().parts[0];
    ASSERT_EQ(own.model.name, "default");
    ASSERT_EQ(routed.routed().parts.size(), 2u);
    EXPECT_EQ(own.whole, c.whole);
    EXPECT_EQ(own.batch->size(), c.whole ? c.accounts : own.rows.size());
    uint64_t failed = 0, dropped = 0, fired = 0;
    std::vector<uint64_t> tiers(all.tier_counts.size(), 0);
    for (size_t k = 0; k < own.rows.size(); ++k) {
      const uint32_t i = own.rows[k];
      SCOPED_TRACE(i);
      ASSERT_EQ(&routed.routed().part(i), &own);
      ASSERT_EQ(routed.routed().row(i), own.batch_row(k));
      const std::string text = OutcomeText(all, i);
      EXPECT_EQ(OutcomeText(own, own.batch_row(k)), text);
      fired += absl::StrContains(text, "playbook") ? 1 : 0;
      EXPECT_EQ(own.batch->dropped_values(own.batch_row(k)),
                all.batch->dropped_values(i));
      if (!all.result.ok(i)) {
        ++failed;
      } else {
        ++tiers[static_cast<size_t>(all.result.tier(i) + 1)];
        dropped += all.batch->dropped_values(i);
      }
    }
    EXPECT_EQ(own.failed, failed);
    EXPECT_EQ(own.dropped_values, dropped);
    EXPECT_EQ(own.tier_counts, tiers);
    // What the comparison rests on: failures, values used as missing and
    // playbooks (which read seats and the series) among the accounts that
    // stayed.
    EXPECT_GT(failed, 2u);
    EXPECT_GT(dropped, 20u);
    EXPECT_GT(fired, 10u);
    EXPECT_GT(own.rows.size(), c.accounts / 2);
    if (c.shadow) {
      ASSERT_NE(routed.live_batch(), nullptr);
      EXPECT_EQ(routed.live_batch()->size(), c.accounts);
    }
  }
}

TEST(RoutingTest, OneTableScoresServesRoutersOfDifferentShapes) {
  // A thread's TableScores keeps the routers' buffers from call to call
  // (Router::Scratch): routers with a string and a number slot, and with a
  // number slot alone, alternating, decide as each does on its own.
  TempRepo repo("routes_shapes");
  WriteModels(repo,
              "routes:\n"
              "  - when: segment in [\"smb\"] && seats < 20\n"
              "    model: smb\n"
              "  - when: 'segment == \"enterprise\"'\n"
              "    model: enterprise\n");
  repo.Write("by_x/1/model.yaml", SmallModel("by_x"));
  repo.Write("by_x/config.yaml",
             "routes:\n"
             "  - when: x > 50\n"
             "    model: enterprise\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  ASSERT_OK_AND_ASSIGN(ModelRef by_segment, set->Find("default"));
  ASSERT_OK_AND_ASSIGN(ModelRef by_x, set->Find("by_x"));
  ASSERT_NE(by_segment.router, nullptr);
  ASSERT_NE(by_x.router, nullptr);
  Filler filler;
  for (int i = 0; i < 700; ++i) {  // more than one chunk of the program
    const char* segments[] = {"smb", "enterprise", "mid_market", ""};
    filler.accounts.emplace_back(absl::StrCat("a", i), segments[i % 4],
                                 static_cast<double>(i % 100),
                                 i % 3 == 0 ? std::optional<double>(i % 40)
                                            : std::nullopt);
  }
  const eval::AccountTable table = filler.Table();
  // Which model scores each account, as a fresh call decides it.
  auto models_of = [&table](const RoutedResult& result) {
    std::vector<std::string> out;
    for (size_t i = 0; i < table.size(); ++i) {
      out.push_back(result.part(i).model.name);
    }
    return out;
  };
  ASSERT_OK_AND_ASSIGN(RoutedResult alone_segment,
                       ScoreRouted(by_segment, table));
  ASSERT_OK_AND_ASSIGN(RoutedResult alone_x, ScoreRouted(by_x, table));
  const std::vector<std::string> want_segment = models_of(alone_segment);
  const std::vector<std::string> want_x = models_of(alone_x);
  ASSERT_NE(want_segment, want_x);
  TableScores scores;
  for (int round = 0; round < 3; ++round) {
    for (const ModelRef* ref : {&by_segment, &by_x}) {
      TableRequest request;
      request.model = *ref;
      ASSERT_OK(ScoreTable(request, table, nullptr, &scores));
      EXPECT_EQ(models_of(scores.routed()),
                ref == &by_segment ? want_segment : want_x);
    }
  }
}

TEST(RoutingTest, DefaultVersionOfTheTargetAndNoRoutingCost) {
  TempRepo repo("routes_default_version");
  WriteModels(repo,
              "routes:\n"
              "  - {when: 'segment == \"enterprise\"', model: enterprise}\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  ASSERT_OK_AND_ASSIGN(ModelRef ref, r->Snapshot()->Find("default"));
  Filler filler;
  filler.accounts = {{"a", "enterprise", 80}, {"b", "smb", 80}};
  ASSERT_OK_AND_ASSIGN(RoutedResult result, ScoreRouted(ref, filler.Table()));
  EXPECT_EQ(result.part(0).model.name, "enterprise");
  EXPECT_EQ(result.part(0).model.version, 2);  // the highest served
  EXPECT_DOUBLE_EQ(result.part(0).result.score(result.row(0)), 20);

  // No account routed: one bind, one part.
  Filler plain;
  plain.accounts = {{"a", "smb", 10}, {"b", "", 20}};
  ASSERT_OK_AND_ASSIGN(RoutedResult stay, ScoreRouted(ref, plain.Table()));
  ASSERT_EQ(stay.parts.size(), 1u);
  EXPECT_DOUBLE_EQ(stay.part(1).result.score(stay.row(1)), 20);

  // A model without routes is scored directly.
  ASSERT_OK_AND_ASSIGN(ModelRef smb, r->Snapshot()->Find("smb"));
  Filler direct;
  direct.accounts = {{"a", "enterprise", 80}};
  ASSERT_OK_AND_ASSIGN(RoutedResult one, ScoreRouted(smb, direct.Table()));
  ASSERT_EQ(one.parts.size(), 1u);
  EXPECT_EQ(one.part(0).model.name, "smb");
}

// A string input without declared values: a route's literal need not be in
// the model's dictionary, so the router reads the text of values the model
// does not know, and translates the values it knows (here "smb", which the
// model's own playbook mentions) by their code.
TEST(RoutingTest, FreeTextSegmentsRouteByTheirText) {
  TempRepo repo("routes_free_text");
  WriteModels(repo,
              "routes:\n"
              "  - {when: 'segment == \"enterprise\"', model: enterprise}\n"
              "  - {when: 'segment == \"smb\" && seats < 20', model: smb}\n");
  std::string free_text = absl::StrReplaceAll(
      SmallModel("default"),
      {{"{id: segment, type: string, values: [smb, mid_market, enterprise]}",
        "{id: segment, type: string}"},
       {"when: tier == \"red\"", "when: segment != \"smb\" && tier == \"red\""}});
  ASSERT_NE(free_text, SmallModel("default"));
  repo.Write("default/1/model.yaml", free_text);
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  EXPECT_THAT(set->status("default")->errors, IsEmpty());
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  ASSERT_NE(ref.router, nullptr);
  ASSERT_GE(ref.model->StringCode(ref.model->inputs()[0].column, "smb"), 0);
  ASSERT_LT(ref.model->StringCode(ref.model->inputs()[0].column, "enterprise"),
            0);

  Filler filler;
  filler.accounts = {
      {"a-ent", "enterprise", 80},       // not in the model's dictionary
      {"b-smb-small", "smb", 80, 5},     // in it
      {"c-smb-big", "smb", 80, 500},
      {"d-other", "startup", 80, 5},
      {"e-none", "", 80, 5},
  };
  ASSERT_OK_AND_ASSIGN(RoutedResult result, ScoreRouted(ref, filler.Table()));
  const std::vector<std::string> want = {"enterprise", "smb", "default",
                                         "default", "default"};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(filler.accounts[i].id);
    EXPECT_EQ(result.part(i).model.name, want[i]);
  }
}

TEST(RoutingTest, ConditionErrorsAreLocated) {
  TempRepo repo("route_errors");
  WriteModels(repo,
              "routes:\n"
              "  - when: 'segmnt == \"enterprise\"'\n"                // 2
              "    model: enterprise\n"
              "  - when: 'segment == \"enterprize\"'\n"               // 4
              "    model: enterprise\n"
              "  - when: score > 50\n"                                // 6
              "    model: enterprise\n"
              "  - when: has(usage)\n"                                // 8
              "    model: enterprise\n"
              "  - when: seats + 1\n"                                 // 10
              "    model: enterprise\n"
              "  - when: 'segment == \"smb\"'\n"                      // 12
              "    model: enterprse\n"
              "  - when: seats >\n"                                   // 14
              "    model: enterprise\n"
              "  - when: 'segment == \"smb\"'\n"                      // 16
              "    model: enterprise\n"
              "    version: 7\n"
              "  - when: seats > 5 && false\n"                        // 19
              "    model: enterprise\n"
              "  - when: 'segment == \"smb\"'\n"                      // 21
              "    model: default\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  auto set = r->Snapshot();
  const std::string config = repo.Path("default/config.yaml");
  EXPECT_THAT(
      set->status("default")->errors,
      ElementsAre(
          config + ":2:12: error: in route condition: unknown name 'segmnt' "
                   "(hint: did you mean 'segment'?)",
          config + ":4:23: error: in route condition: 'enterprize' is not a "
                   "declared value of 'segment', so this comparison can never "
                   "be true (hint: did you mean 'enterprise'?)",
          config + ":6:11: error: in route condition: 'score' is not known "
                   "before scoring; a route may read the model's number, date "
                   "and string inputs",
          config + ":8:11: error: in route condition: 'usage' is a series; a "
                   "route may read the model's number, date and string inputs",
          config + ":10:11: error: a route's `when` must be a condition "
                   "(true/false), got a number (hint: compare it, e.g. segment "
                   "== \"enterprise\")",
          config + ":13:12: error: route to unknown model 'enterprse' (did "
                   "you mean 'enterprise'?); models: default, enterprise, smb",
          ::testing::StartsWith(config + ":14:"),
          config + ":17:12: error: route to version 7 of model 'enterprise', "
                   "which is not served",
          config + ":19:11: error: this route's condition can never be true: "
                   "'false' can never be true (hint: remove the route or fix the condition)",
          config + ":22:12: error: this route sends accounts of model "
                   "'default' version 1 to itself",
          "version 1 of model 'default' is not served: its routes do not "
          "compile"));
  EXPECT_THAT(set->Find("default"),
              ::healthscore::engine::common::testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition,
                  HasSubstr("has no version that loaded")));
}

TEST(RoutingTest, BrokenRoutesKeepThePreviousRoutes) {
  TempRepo repo("routes_reload");
  WriteModels(repo,
              "routes:\n"
              "  - {when: 'segment == \"enterprise\"', model: enterprise}\n");
  auto r = Open(repo);
  ASSERT_NE(r, nullptr);
  const routing::Router* before = r->Snapshot()->Find("default")->router;
  ASSERT_NE(before, nullptr);

  // The target disappears: the routes no longer compile, the serving
  // version keeps its routes (and the target model they hold).
  repo.Remove("enterprise");
  ReloadResult result = r->Reload();
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("route to unknown model 'enterprise'"),
                          HasSubstr("keeping the previous routes of version "
                                    "1 until the routes compile")));
  auto set = r->Snapshot();
  ASSERT_OK_AND_ASSIGN(ModelRef ref, set->Find("default"));
  EXPECT_EQ(ref.router, before);
  Filler filler;
  filler.accounts = {{"a", "enterprise", 80}};
  ASSERT_OK_AND_ASSIGN(RoutedResult routed, ScoreRouted(ref, filler.Table()));
  EXPECT_EQ(routed.part(0).model.name, "enterprise");
  EXPECT_EQ(routed.part(0).model.version, 2);

  // Fixed config: routes recompiled against the new set.
  repo.Write("default/config.yaml", "routes:\n  - {when: 'x > 50', model: smb}\n");
  EXPECT_TRUE(r->Reload().ok());
  ASSERT_OK_AND_ASSIGN(ModelRef fixed, r->Snapshot()->Find("default"));
  ASSERT_NE(fixed.router, nullptr);
  EXPECT_THAT(fixed.router->Describe(), ElementsAre("x > 50 -> smb v1"));
}

}  // namespace
}  // namespace healthscore::engine::repository
