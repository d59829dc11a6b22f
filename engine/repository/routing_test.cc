#include "engine/routing/routing.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
      // The candidate scores every account as it would alone, but keeps no
      // signal values: the comparison reads outcomes, never reasons. The
      // live model keeps them for the response's reasons.
      EXPECT_TRUE(routed.live_result()->has_signal_values());
      const eval::BatchResult* cand = routed.candidate_result();
      ASSERT_NE(cand, nullptr);
      EXPECT_FALSE(cand->has_signal_values());
      TableRequest alone;
      alone.model = candidate;
      alone.ignore_routes = true;
      TableScores by_itself;
      ASSERT_OK(ScoreTable(alone, table, nullptr, &by_itself));
      const eval::BatchResult& want = by_itself.routed().parts[0].result;
      ASSERT_TRUE(want.has_signal_values());
      ASSERT_EQ(cand->size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE(i);
        ASSERT_EQ(cand->ok(i), want.ok(i));
        if (!want.ok(i)) continue;
        EXPECT_EQ(cand->tier(i), want.tier(i));
        ASSERT_EQ(cand->has_score(i), want.has_score(i));
        if (want.has_score(i)) {
          EXPECT_EQ(cand->score(i), want.score(i));
        }
        for (int p = 0;
             p < static_cast<int>(candidate.model->playbooks().size()); ++p) {
          EXPECT_EQ(cand->playbook_matched(i, p), want.playbook_matched(i, p));
        }
      }
    }
  }
}

// The same accounts as the columnar form sends them: bare rows (a row the
// reader could not read, and one without an id, among them), then one run
// per field, which the table borrows from this object.
struct ColumnarAccounts {
  // `seats_as_text`: seats come as texts, "many" (no number) in every
  // eighth row, which fails the row in strict mode, and none elsewhere.
  // `padding`: entries no row uses added to the segment dictionary.
  // `segment_rows`: the segment column gives the first that many rows (all
  // when 0); the rest have none.
  ColumnarAccounts(size_t n, size_t enterprise_every,
                   bool seats_as_text = false, size_t padding = 0,
                   size_t segment_rows = 0) {
    if (segment_rows == 0) segment_rows = n;
    dictionary.assign(std::begin(kSegments), std::end(kSegments));
    for (size_t i = 0; i < padding; ++i) {
      padding_texts.push_back(absl::StrCat("unused-", i));
    }
    for (const std::string& text : padding_texts) dictionary.push_back(text);
    eval::TableBuilder b(&table);
    segment.resize(n);
    x.resize(n);
    seats.resize(n);
    extra.resize(n);
    lengths.resize(n);
    offsets.resize(n);
    for (size_t i = 0; i < n; ++i) {
      b.BeginRow(i == 17 ? "" : absl::StrCat("acct-", i));
      if (i % 11 == 5) b.FailRow("the record is unreadable");
      b.EndRow();
      // Entries of `dictionary`: enterprise, smb, mid_market, a value the
      // model does not declare, an empty text; -1 for none sent.
      segment[i] = i % enterprise_every == 0 ? 0
                   : i % 7 == 3              ? -1
                   : i % 13 == 6             ? 4
                   : i % 17 == 2             ? 3
                   : i % 29 == 1             ? 2
                                             : 1;
      x[i] = static_cast<double>(i % 90);
      seats[i] = i % 4 == 3 ? 10 : NAN;
      seats_text.push_back(i % 8 == 1 ? "many" : "");
      extra[i] = i % 5 == 0 ? 1 : NAN;  // a field the model does not declare
      offsets[i] = points.size();
      lengths[i] = i % 3 == 2 ? 3 : -1;
      if (i % 3 == 2) {
        points.insert(points.end(), {1, 2, static_cast<double>(i)});
      }
    }
    // Past the column's rows the array holds what no row sends: read there,
    // it would route them to enterprise.
    std::fill(segment.begin() + static_cast<std::ptrdiff_t>(segment_rows),
              segment.end(), 0);
    this->segment_rows = segment_rows;
    b.PutCodeRun(b.Column({"attributes", "segment"}), 0, segment.data(),
                 segment_rows, dictionary.data(), dictionary.size());
    b.PutNumberRun(b.Column({"metrics", "x"}), 0, x.data(), n);
    if (seats_as_text) {
      for (const std::string& text : seats_text) seats_texts.push_back(&text);
      b.PutStringRun(b.Column({"metrics", "seats"}), 0, seats_texts.data(),
                     n);
    } else {
      b.PutNumberRun(b.Column({"metrics", "seats"}), 0, seats.data(), n);
    }
    this->seats_as_text = seats_as_text;
    b.PutNumberRun(b.Column({"metrics", "extra"}), 0, extra.data(), n);
    b.PutSeriesRun(b.Column({"series", "usage"}), 0, lengths.data(),
                   offsets.data(), points.data(), n);
  }
  // The same accounts value by value, as the map form sends them.
  eval::AccountTable ByRow() const {
    eval::AccountTable rows;
    eval::TableBuilder b(&rows);
    for (size_t i = 0; i < table.size(); ++i) {
      b.BeginRow(table.id(i));
      if (table.row_failed(i)) b.FailRow(table.row_error(i));
      const int32_t s = i < segment_rows ? segment[i] : -1;
      if (s >= 0 && !dictionary[s].empty()) {
        b.PutString(b.Column({"attributes", "segment"}), dictionary[s]);
      }
      b.PutNumber(b.Column({"metrics", "x"}), x[i]);
      if (seats_as_text && !seats_text[i].empty()) {
        b.PutString(b.Column({"metrics", "seats"}), seats_text[i]);
      } else if (!seats_as_text && !std::isnan(seats[i])) {
        b.PutNumber(b.Column({"metrics", "seats"}), seats[i]);
      }
      if (!std::isnan(extra[i])) {
        b.PutNumber(b.Column({"metrics", "extra"}), extra[i]);
      }
      if (lengths[i] >= 0) {
        b.SetSeries("usage", points.data() + offsets[i],
                    static_cast<size_t>(lengths[i]));
      }
      b.EndRow();
    }
    return rows;
  }
  static constexpr std::string_view kSegments[] = {
      "enterprise", "smb", "mid_market", "startup", ""};
  eval::AccountTable table;
  std::vector<std::string> padding_texts;
  std::vector<std::string_view> dictionary;
  std::vector<int32_t> segment;
  size_t segment_rows = 0;
  std::vector<double> x, seats, extra, points;
  std::vector<int32_t> lengths;
  std::vector<uint64_t> offsets;
  std::vector<std::string> seats_text;
  std::vector<const std::string*> seats_texts;
  bool seats_as_text = false;
};

// Routes on one string input that one column of the table gives are
// decided from the column, and the requested model binds only the accounts
// that stay (ScoreTable's DecideFromTable): every account has the model,
// outcome and counts it has when the same accounts come value by value
// (routes decided from the bound requested model), whatever share the
// routes take; strict requests and shadow requests decide the old way.
TEST(RoutingTest, RoutesDecidedFromAColumnMatchThoseFromBoundAccounts) {
  TempRepo repo("routes_column");
  WriteModels(repo,
              "routes:\n"
              "  - {when: 'segment == \"enterprise\"', model: enterprise, "
              "version: 2}\n"
              "  - {when: 'segment in [\"mid_market\"]', model: smb}\n"
              "  - {when: '!has(segment)', model: enterprise, version: 1}\n");
  // A model whose segment is free text: routes compare texts its
  // dictionary does not hold.
  repo.Write("free/1/model.yaml",
             absl::StrReplaceAll(SmallModel("free"),
                                 {{", values: [smb, mid_market, enterprise]",
                                   ""}}));
  repo.Write("free/config.yaml",
             "routes:\n"
             "  - {when: 'segment == \"enterprise\"', model: enterprise}\n"
             "  - {when: 'segment == \"startup\"', model: smb}\n");
  std::unique_ptr<ModelRepository> served = Open(repo);
  ASSERT_NE(served, nullptr);
  const auto set = served->Snapshot();
  ModelRef candidate;
  ASSERT_OK_AND_ASSIGN(candidate, set->Find("smb"));
  struct Case {
    const char* name;
    const char* model;
    size_t parts;  // every route takes some accounts
    size_t enterprise_every;
    bool strict;
    bool shadow;
    // A segment dictionary much larger than the accounts, which binding
    // looks up value by value (no column to decide from).
    bool large_dictionary = false;
    // A segment column that gives only some of the rows.
    bool partial_column = false;
  };
  for (const Case& c :
       {Case{"enterprise one in 2", "default", 4, 2, false, false},
        Case{"enterprise one in 40", "default", 4, 40, false, false},
        Case{"strict", "default", 4, 2, true, false},
        Case{"strict, one in 40", "default", 4, 40, true, false},
        Case{"a shadow candidate", "default", 4, 2, false, true},
        Case{"a large dictionary", "default", 4, 40, false, false, true},
        Case{"a column of some rows", "default", 4, 40, false, false, false,
             true},
        Case{"free text, one in 2", "free", 3, 2, false, false},
        Case{"free text, one in 40", "free", 3, 40, false, false}}) {
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(const ModelRef ref, set->Find(c.model));
    ASSERT_NE(ref.router, nullptr);
    ASSERT_GE(ref.router->table_input(), 0);
    const ColumnarAccounts columnar(360, c.enterprise_every, c.strict,
                                    c.large_dictionary ? 1000 : 0,
                                    c.partial_column ? 300 : 0);
    const eval::AccountTable by_row = columnar.ByRow();
    TableRequest request;
    request.model = ref;
    request.strict = c.strict;
    request.shadow = c.shadow ? &candidate : nullptr;
    TableScores from_column, from_rows;
    ASSERT_OK(ScoreTable(request, columnar.table, nullptr, &from_column));
    ASSERT_OK(ScoreTable(request, by_row, nullptr, &from_rows));
    const RoutedResult& got = from_column.routed();
    const RoutedResult& want = from_rows.routed();
    ASSERT_EQ(got.size(), want.size());
    ASSERT_EQ(got.parts.size(), want.parts.size());
    std::vector<size_t> accounts_of(got.parts.size(), 0);
    for (size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE(i);
      ASSERT_EQ(got.part(i).model.name, want.part(i).model.name);
      EXPECT_EQ(OutcomeText(got.part(i), got.row(i)),
                OutcomeText(want.part(i), want.row(i)));
      ++accounts_of[static_cast<size_t>(&got.part(i) - got.parts.data())];
    }
    for (size_t p = 0; p < got.parts.size(); ++p) {
      SCOPED_TRACE(got.parts[p].model.name);
      EXPECT_EQ(got.parts[p].rows, want.parts[p].rows);
      EXPECT_EQ(got.parts[p].tier_counts, want.parts[p].tier_counts);
      EXPECT_EQ(got.parts[p].failed, want.parts[p].failed);
      EXPECT_EQ(got.parts[p].dropped_values, want.parts[p].dropped_values);
      EXPECT_GT(accounts_of[p], 0u);
    }
    EXPECT_EQ(from_column.failed(), from_rows.failed());
    EXPECT_EQ(from_column.dropped_values(), from_rows.dropped_values());
    EXPECT_EQ(from_column.ignored_fields(), from_rows.ignored_fields());
    // What the comparison rests on: failed accounts (unreadable, no id),
    // values the model ignores, and every route taking accounts.
    EXPECT_GT(from_column.failed(), c.strict ? 60u : 10u);
    EXPECT_GT(from_column.ignored_fields(), 30u);
    EXPECT_EQ(got.parts.size(), c.parts);
    // Which way the routes were decided: from the column the requested
    // model's batch holds only the accounts that stayed, even when routes
    // took too few of them for a bound batch to be worth keeping.
    const RoutedPart& own = got.parts[0];
    ASSERT_EQ(own.model.name, c.model);
    if (!c.strict && !c.shadow && !c.large_dictionary && !c.partial_column) {
      EXPECT_FALSE(own.whole);
      EXPECT_EQ(own.batch->size(), own.rows.size());
    } else if (!c.partial_column) {
      // The bound batch: kept whole for a shadow, or when routes took few.
      EXPECT_EQ(own.whole, c.shadow || c.enterprise_every == 40);
    }
    if (c.enterprise_every == 40 && !c.partial_column) {
      EXPECT_TRUE(want.parts[0].whole);  // the bound batch kept every row
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
