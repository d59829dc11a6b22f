// ScoringService.Score over a real channel to an in-process server on an
// ephemeral port: results, per-account errors, both request forms, every
// request-level status code, limits, deadlines and cancellation.

#include <atomic>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using namespace ::healthscore::server::testing;  // NOLINT

absl::Status Call(TestServer& ts, const v1::ScoreRequest& request,
                  v1::ScoreResponse* response,
                  absl::Duration timeout = absl::Seconds(60)) {
  auto ctx = Context(timeout);
  return FromGrpcStatus(ts.scoring->Score(ctx.get(), request, response));
}

// Accounts with scores computed by hand from
// server/testdata/rules/default/1/model.yaml (as_of 2026-11-01):
//   acme:  every signal 100                      -> 100, green
//   beta:  stickiness 50, csat 50, tickets 50, no series (growth missing,
//          coverage 0.75)                        -> 50, yellow
//   gamma: stickiness 0, growth 0 (-50%), csat 0, tickets 50 (enterprise
//          steps)                                -> 12.5, red
//   delta: csat only (coverage 0.25 < 0.5)       -> insufficient_data
std::vector<Account> HandAccounts() {
  Account acme;
  acme.id = "acme";
  acme.attributes = {{"segment", "smb"}};
  acme.metrics = {{"dau_mau", 0.5}, {"csat", 5}, {"tickets", 2}};
  acme.series = {{"weekly_active_users", {10, 10, 15, 15}}};
  acme.dates = {{"renewal_date", "2026-12-01"}};
  acme.previous_score = 90;
  acme.previous_tier = "yellow";
  Account beta;
  beta.id = "beta";
  beta.attributes = {{"segment", "smb"}};
  beta.metrics = {{"dau_mau", 0.25}, {"csat", 3}, {"tickets", 10}};
  beta.dates = {{"renewal_date", "2026-12-01"}};
  Account gamma;
  gamma.id = "gamma";
  gamma.attributes = {{"segment", "enterprise"}};
  gamma.metrics = {{"dau_mau", 0}, {"csat", 1}, {"tickets", 30}};
  gamma.series = {{"weekly_active_users", {10, 10, 5, 5}}};
  Account delta;
  delta.id = "delta";
  delta.metrics = {{"csat", 5}};
  return {acme, beta, gamma, delta};
}

class ScoringTest : public ::testing::Test {
 protected:
  void Start(const ServerOptions& options = TestOptions()) {
    auto ts = StartTestServer(options);
    ASSERT_OK(ts.status());
    ts_ = std::move(ts).value();
  }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(ScoringTest, MapFormScoresAsComputedByHand) {
  Start();
  v1::ScoreRequest request = MapRequest(HandAccounts(), "default", "1");
  request.set_request_id("req-1");
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, request, &r));

  EXPECT_EQ(r.model(), "default");
  EXPECT_EQ(r.version(), "1");
  EXPECT_EQ(r.model_label(), "1.0-test");
  EXPECT_EQ(r.model_hash().size(), 64u);
  EXPECT_EQ(r.request_id(), "req-1");
  ASSERT_EQ(r.results_size(), 4);

  const v1::AccountResult& acme = r.results(0);
  EXPECT_EQ(acme.id(), "acme");
  EXPECT_TRUE(acme.ok());
  EXPECT_DOUBLE_EQ(acme.score(), 100);
  EXPECT_EQ(acme.tier(), "green");
  EXPECT_DOUBLE_EQ(acme.coverage(), 1.0);
  EXPECT_THAT(acme.group_scores(),
              UnorderedElementsAre(Pair("usage", 100), Pair("support", 100)));
  ASSERT_EQ(acme.playbooks_size(), 1);
  EXPECT_EQ(acme.playbooks(0).id(), "expand");
  EXPECT_EQ(acme.playbooks(0).name(), "Expand");
  EXPECT_EQ(acme.playbooks(0).owner(), "AE");
  EXPECT_EQ(acme.playbooks(0).priority(), 3);
  EXPECT_FALSE(acme.playbooks(0).succeeded());
  EXPECT_THAT(acme.playbooks(0).reason(), HasSubstr("tier == \"green\""));
  EXPECT_DOUBLE_EQ(acme.score_delta(), 10);
  EXPECT_TRUE(acme.tier_changed());
  EXPECT_FALSE(acme.has_explanation());

  const v1::AccountResult& beta = r.results(1);
  EXPECT_EQ(beta.id(), "beta");
  EXPECT_DOUBLE_EQ(beta.score(), 50);
  EXPECT_EQ(beta.tier(), "yellow");
  EXPECT_DOUBLE_EQ(beta.coverage(), 0.75);
  ASSERT_EQ(beta.playbooks_size(), 1);
  EXPECT_EQ(beta.playbooks(0).id(), "renewal_watch");
  EXPECT_THAT(beta.playbooks(0).reason(), HasSubstr("days_to_renewal"));
  EXPECT_FALSE(beta.has_score_delta());
  EXPECT_FALSE(beta.tier_changed());

  const v1::AccountResult& gamma = r.results(2);
  EXPECT_DOUBLE_EQ(gamma.score(), 12.5);
  EXPECT_EQ(gamma.tier(), "red");
  EXPECT_THAT(gamma.group_scores(),
              UnorderedElementsAre(Pair("usage", 0), Pair("support", 25)));
  ASSERT_EQ(gamma.playbooks_size(), 1);
  EXPECT_EQ(gamma.playbooks(0).id(), "rescue");
  EXPECT_FALSE(gamma.playbooks(0).succeeded());

  const v1::AccountResult& delta = r.results(3);
  EXPECT_EQ(delta.tier(), "insufficient_data");
  EXPECT_DOUBLE_EQ(delta.coverage(), 0.25);
  EXPECT_EQ(delta.playbooks_size(), 0);

  EXPECT_THAT(r.tier_counts(),
              UnorderedElementsAre(Pair("green", 1), Pair("yellow", 1),
                                   Pair("red", 1),
                                   Pair("insufficient_data", 1)));
  EXPECT_EQ(r.failed_accounts(), 0u);
  EXPECT_EQ(r.ignored_fields(), 0u);
  EXPECT_GE(r.elapsed_micros(), r.queue_micros());
}

TEST_F(ScoringTest, EmptyModelAndVersionPickTheDefaultServingVersion) {
  Start();
  // stickiness 80, csat 75, tickets 50: usage 80, support 62.5 -> 71.25,
  // yellow in version 1 (green from 80) and green in version 2 (from 70).
  Account a;
  a.id = "a";
  a.metrics = {{"dau_mau", 0.4}, {"csat", 4}, {"tickets", 10}};
  v1::ScoreResponse latest, v1;
  ASSERT_OK(Call(*ts_, MapRequest({a}), &latest));
  // Version 3 failed to load, so version 2 serves.
  EXPECT_EQ(latest.model(), "default");
  EXPECT_EQ(latest.version(), "2");
  EXPECT_EQ(latest.model_label(), "2.0-test");
  EXPECT_DOUBLE_EQ(latest.results(0).score(), 71.25);
  EXPECT_EQ(latest.results(0).tier(), "green");
  ASSERT_OK(Call(*ts_, MapRequest({a}, "", "1"), &v1));
  EXPECT_EQ(v1.version(), "1");
  EXPECT_EQ(v1.results(0).tier(), "yellow");
  EXPECT_NE(v1.model_hash(), latest.model_hash());

  Account s;
  s.id = "s";
  s.metrics = {{"seats_used", 0.8}};
  v1::ScoreResponse other;
  ASSERT_OK(Call(*ts_, MapRequest({s}, "segments"), &other));
  EXPECT_EQ(other.model(), "segments");
  EXPECT_EQ(other.results(0).tier(), "good");
  EXPECT_DOUBLE_EQ(other.results(0).score(), 100);
}

TEST_F(ScoringTest, BadValuesCostTheirValueWithFieldAndReason) {
  Start();
  std::vector<Account> accounts = HandAccounts();
  Account no_id = accounts[0];
  no_id.id = "";
  Account wrong_type = accounts[0];
  wrong_type.id = "wrong-type";
  wrong_type.metrics.erase("dau_mau");
  wrong_type.attributes["dau_mau"] = "high";
  Account bad_date = accounts[0];
  bad_date.id = "bad-date";
  bad_date.dates["renewal_date"] = "2026-13-45";
  Account bad_as_of = accounts[0];
  bad_as_of.id = "bad-as-of";
  bad_as_of.as_of = "yesterday";
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, MapRequest({accounts[0], no_id, wrong_type, bad_date,
                                   bad_as_of, accounts[1]},
                                  "default", "1"),
                 &r));
  ASSERT_EQ(r.results_size(), 6);
  EXPECT_TRUE(r.results(0).ok());
  EXPECT_DOUBLE_EQ(r.results(0).score(), 100);
  EXPECT_FALSE(r.results(1).ok());
  EXPECT_EQ(r.results(1).error(), "account has no id");
  EXPECT_FALSE(r.results(1).has_score());
  EXPECT_EQ(r.results(1).tier(), "");
  // The others score on what is good; each warning names the field, the
  // value and why.
  EXPECT_EQ(r.results(2).id(), "wrong-type");
  EXPECT_TRUE(r.results(2).ok());
  EXPECT_THAT(r.results(2).warnings(),
              ElementsAre("attributes.dau_mau: expected a number, got the "
                          "string \"high\"; used as missing"));
  EXPECT_TRUE(r.results(3).ok());
  EXPECT_THAT(r.results(3).warnings(),
              ElementsAre("dates.renewal_date: \"2026-13-45\" is not a date "
                          "(YYYY-MM-DD); used as missing"));
  EXPECT_TRUE(r.results(4).ok());
  EXPECT_THAT(r.results(4).warnings(),
              ElementsAre("as_of: \"yesterday\" is not a date (YYYY-MM-DD); "
                          "used as missing"));
  EXPECT_TRUE(r.results(5).ok());
  EXPECT_DOUBLE_EQ(r.results(5).score(), 50);
  EXPECT_EQ(r.failed_accounts(), 1u);
  EXPECT_EQ(r.dropped_values(), 3u);

  // ScoreOptions.strict: such an account fails instead, naming every
  // problem.
  v1::ScoreRequest strict = MapRequest(
      {accounts[0], no_id, wrong_type, bad_date, bad_as_of, accounts[1]},
      "default", "1");
  strict.mutable_options()->set_strict(true);
  ASSERT_OK(Call(*ts_, strict, &r));
  EXPECT_EQ(r.results(2).id(), "wrong-type");
  EXPECT_EQ(r.results(2).error(),
            "attributes.dau_mau: expected a number, got the string \"high\"");
  EXPECT_EQ(r.results(3).error(),
            "dates.renewal_date: \"2026-13-45\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(r.results(4).error(),
            "as_of: \"yesterday\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(r.failed_accounts(), 4u);
  EXPECT_EQ(r.dropped_values(), 0u);
  EXPECT_THAT(r.tier_counts(),
              UnorderedElementsAre(Pair("green", 1), Pair("yellow", 1),
                                   Pair("red", 0),
                                   Pair("insufficient_data", 0)));
}

TEST_F(ScoringTest, UndeclaredNamesAreCountedAndRangesWarned) {
  Start();
  Account a = HandAccounts()[0];
  a.metrics["csat"] = 7;
  a.metrics["not_in_model"] = 3;
  a.attributes["region"] = "emea";
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, MapRequest({a}, "default", "1"), &r));
  EXPECT_EQ(r.ignored_fields(), 2u);
  EXPECT_THAT(r.results(0).warnings(),
              ElementsAre("csat = 7 is outside the expected range [1, 5]"));
  EXPECT_DOUBLE_EQ(r.results(0).score(), 100);  // clamped, still scores
}

TEST_F(ScoringTest, ExplanationAndReasonOptions) {
  Start();
  v1::ScoreRequest request = MapRequest(HandAccounts(), "default", "1");
  request.mutable_options()->set_explain(true);
  request.mutable_options()->set_top_drivers(1);
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, request, &r));
  const v1::Explanation& beta = r.results(1).explanation();
  ASSERT_EQ(beta.signals_size(), 4);
  EXPECT_EQ(beta.signals(0).signal(), "stickiness");
  EXPECT_EQ(beta.signals(0).group(), "usage");
  EXPECT_TRUE(beta.signals(0).present());
  EXPECT_DOUBLE_EQ(beta.signals(0).raw(), 0.25);
  EXPECT_DOUBLE_EQ(beta.signals(0).score(), 50);
  EXPECT_EQ(beta.signals(1).signal(), "growth");
  EXPECT_FALSE(beta.signals(1).present());
  EXPECT_FALSE(beta.signals(1).has_raw());
  EXPECT_THAT(beta.missing_signals(), ElementsAre("growth"));
  EXPECT_EQ(beta.top_drivers_size(), 1);
  EXPECT_THAT(beta.tier_rule(), HasSubstr("yellow"));

  request.mutable_options()->set_explain(false);
  request.mutable_options()->set_omit_reasons(true);
  ASSERT_OK(Call(*ts_, request, &r));
  EXPECT_FALSE(r.results(1).has_explanation());
  ASSERT_EQ(r.results(1).playbooks_size(), 1);
  EXPECT_EQ(r.results(1).playbooks(0).id(), "renewal_watch");
  EXPECT_EQ(r.results(1).playbooks(0).reason(), "");
}

// The server adds nothing: its results equal the engine's own on a batch
// built with the engine's named setters, whatever the chunking.
TEST_F(ScoringTest, ResultsEqualTheEngineScoringDirectly) {
  ServerOptions options = TestOptions();
  options.rows_per_task = 97;  // many uneven chunks
  Start(options);
  std::vector<Account> accounts = RandomAccounts(3000, 7);
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, MapRequest(accounts, "default", "1"), &r));
  ASSERT_EQ(r.results_size(), 3000);

  engine::model::CompileResult compiled =
      engine::model::CompileFile(TestModelsDir() + "/default/1/model.yaml");
  ASSERT_NE(compiled.model, nullptr);
  engine::eval::Batch batch(compiled.model);
  engine::eval::BatchBuilder b(&batch);
  for (const Account& a : accounts) {
    b.BeginRow(a.id);
    b.SetAsOf(a.as_of);
    for (const auto& [k, v] : a.metrics) b.SetMetric(k, v);
    for (const auto& [k, v] : a.attributes) b.SetAttribute(k, v);
    for (const auto& [k, v] : a.dates) b.SetDate(k, v);
    for (const auto& [k, v] : a.series) b.SetSeries(k, v.data(), v.size());
    if (a.previous_score) b.SetPreviousScore(*a.previous_score);
    if (a.previous_tier) b.SetPreviousTier(*a.previous_tier);
    b.EndRow();
  }
  engine::eval::BatchResult expected;
  ASSERT_OK(engine::eval::Scorer::Score(batch, &expected));
  size_t failed = 0;
  for (size_t i = 0; i < accounts.size(); ++i) {
    const v1::AccountResult& got = r.results(static_cast<int>(i));
    SCOPED_TRACE(accounts[i].id);
    ASSERT_EQ(got.ok(), expected.ok(i));
    if (!got.ok()) {
      ++failed;
      EXPECT_EQ(got.error(), batch.row_error(i));
      continue;
    }
    if (expected.has_score(i)) {
      EXPECT_EQ(got.score(), expected.score(i));  // bit for bit
    } else {
      EXPECT_FALSE(got.has_score());
    }
    EXPECT_EQ(got.coverage(), expected.coverage(i));
    EXPECT_EQ(got.tier(), compiled.model->TierId(expected.tier(i)));
    EXPECT_EQ(got.playbooks_size(), expected.matched_count(i));
  }
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(r.failed_accounts(), failed);
}

TEST_F(ScoringTest, ColumnarAndMapFormsGiveIdenticalResults) {
  ServerOptions options = TestOptions();
  options.rows_per_task = 256;
  Start(options);
  std::vector<Account> accounts = RandomAccounts(2000, 11);
  // Without reasons, a row's playbooks are read from its playbook mask
  // alone; with reasons or explain, from its RowOutcome.
  for (const auto& [explain, omit_reasons] :
       {std::pair{false, false}, std::pair{true, false},
        std::pair{false, true}}) {
    SCOPED_TRACE(absl::StrCat(explain ? "explain" : "no explain",
                              omit_reasons ? ", no reasons" : ""));
    v1::ScoreRequest map = MapRequest(accounts, "default", "1");
    v1::ScoreRequest columnar = ColumnarRequest(accounts, "default", "1");
    for (v1::ScoreRequest* r : {&map, &columnar}) {
      r->mutable_options()->set_explain(explain);
      r->mutable_options()->set_omit_reasons(omit_reasons);
    }
    v1::ScoreResponse by_map, by_columns;
    ASSERT_OK(Call(*ts_, map, &by_map));
    ASSERT_OK(Call(*ts_, columnar, &by_columns));
    ASSERT_TRUE(by_columns.has_columns());
    EXPECT_EQ(by_columns.results_size(), 0);
    std::vector<std::string> a = CanonicalResults(by_map, Ids(accounts));
    std::vector<std::string> b = CanonicalResults(by_columns, Ids(accounts));
    ASSERT_EQ(a.size(), accounts.size());
    EXPECT_EQ(a, b);
    EXPECT_EQ(by_map.failed_accounts(), by_columns.failed_accounts());
    EXPECT_GT(by_map.failed_accounts(), 0u);
    EXPECT_EQ(by_map.ignored_fields(), by_columns.ignored_fields());
    EXPECT_GT(by_map.ignored_fields(), 0u);
    // Map-form accounts with columnar_results: the columnar request's
    // columns, byte for byte (errors, warnings and explanations included).
    map.mutable_options()->set_columnar_results(true);
    v1::ScoreResponse map_by_columns;
    ASSERT_OK(Call(*ts_, map, &map_by_columns));
    EXPECT_EQ(map_by_columns.results_size(), 0);
    EXPECT_GT(by_columns.columns().errors_size(), 0);
    EXPECT_GT(by_columns.columns().warnings_size(), 0);
    EXPECT_EQ(map_by_columns.columns().SerializeAsString(),
              by_columns.columns().SerializeAsString());
    EXPECT_EQ(map_by_columns.failed_accounts(), by_columns.failed_accounts());
    using Counts = std::map<std::string, uint64_t>;
    EXPECT_EQ(Counts(by_map.tier_counts().begin(), by_map.tier_counts().end()),
              Counts(by_columns.tier_counts().begin(),
                     by_columns.tier_counts().end()));
  }
}

TEST_F(ScoringTest, ColumnarPlaybooksFromMasksAndFromRowOutcomes) {
  // A row's playbooks are read from its playbook mask when nothing else
  // needs its RowOutcome (no reasons, no explain), and from the RowOutcome
  // otherwise or when the model has more playbooks than a mask holds. Two
  // models with playbooks that match and succeed in many combinations:
  // "narrow" (33 playbooks) and "wide" (73); both columnar forms must say
  // what the map form says, with and without reasons.
  const std::string dir = engine::common::testing::ScratchDir("band_models");
  const std::string base = engine::common::testing::ReadFile(
      TestModelsDir() + "/default/1/model.yaml");
  const size_t name = base.find("name: default\n");
  ASSERT_NE(name, std::string::npos);
  for (const auto& [model_name, bands] :
       {std::pair<std::string, int>{"narrow", 30},
        std::pair<std::string, int>{"wide", 70}}) {
    std::string model = base;
    model.replace(name, 13, "name: " + model_name);
    for (int k = 0; k < bands; ++k) {
      absl::StrAppend(&model, "  - id: band_", k, "\n    name: Band ", k,
                      "\n    owner: CSM\n    priority: 4\n    when: score >= ",
                      k, " && csat < 4\n    success: score >= ", k + 20,
                      "\n");
    }
    std::filesystem::create_directories(dir + "/" + model_name + "/1");
    std::ofstream out(dir + "/" + model_name + "/1/model.yaml");
    out << model;
  }
  ServerOptions options = TestOptions();
  options.models_dir = dir;
  options.default_model = "narrow";
  options.rows_per_task = 256;
  Start(options);
  const std::vector<Account> accounts = RandomAccounts(600, 17);
  for (const auto& [model_name, playbooks] :
       {std::pair<std::string, int>{"narrow", 33},
        std::pair<std::string, int>{"wide", 73}}) {
    for (const bool omit_reasons : {false, true}) {
      SCOPED_TRACE(absl::StrCat(model_name,
                                omit_reasons ? ", no reasons" : ", reasons"));
      v1::ScoreRequest map = MapRequest(accounts, model_name, "1");
      v1::ScoreRequest columnar = ColumnarRequest(accounts, model_name, "1");
      for (v1::ScoreRequest* r : {&map, &columnar}) {
        r->mutable_options()->set_omit_reasons(omit_reasons);
      }
      v1::ScoreResponse by_map, by_columns;
      ASSERT_OK(Call(*ts_, map, &by_map));
      ASSERT_OK(Call(*ts_, columnar, &by_columns));
      const v1::ColumnarResults& c = by_columns.columns();
      ASSERT_EQ(c.playbook_ids_size(), playbooks);
      // Rows match up to every band, and some bands succeed.
      uint32_t most = 0;
      for (const uint32_t n : c.playbook_counts()) most = std::max(most, n);
      EXPECT_GT(most, static_cast<uint32_t>(playbooks - 4));
      EXPECT_THAT(c.playbook_succeeded(), ::testing::Contains(true));
      EXPECT_EQ(CanonicalResults(by_map, Ids(accounts)),
                CanonicalResults(by_columns, Ids(accounts)));
    }
  }
}

TEST_F(ScoringTest, ColumnarLayout) {
  Start();
  std::vector<Account> accounts = HandAccounts();
  accounts.insert(accounts.begin() + 1, Account{});  // no id: fails
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, ColumnarRequest(accounts, "default", "1"), &r));
  const v1::ColumnarResults& c = r.columns();
  EXPECT_THAT(c.tier_ids(),
              ElementsAre("green", "yellow", "red", "insufficient_data"));
  EXPECT_THAT(c.group_ids(), ElementsAre("usage", "support"));
  EXPECT_THAT(c.playbook_ids(), ElementsAre("rescue", "renewal_watch",
                                            "expand"));
  EXPECT_THAT(c.tier(), ElementsAre(0, -1, 1, 2, 3));
  EXPECT_DOUBLE_EQ(c.score(0), 100);
  EXPECT_TRUE(std::isnan(c.score(1)));
  EXPECT_DOUBLE_EQ(c.score(3), 12.5);
  // group g of account i at g * n + i.
  EXPECT_DOUBLE_EQ(c.group_scores(1 * 5 + 3), 25);
  EXPECT_THAT(c.playbook_counts(), ElementsAre(1, 0, 1, 1, 0));
  EXPECT_THAT(c.playbooks(), ElementsAre(2, 1, 0));
  EXPECT_EQ(c.playbook_reasons_size(), 3);
  ASSERT_EQ(c.errors_size(), 1);
  EXPECT_EQ(c.errors(0).index(), 1u);
  EXPECT_EQ(c.errors(0).message(), "account has no id");
  EXPECT_EQ(r.failed_accounts(), 1u);
}

TEST_F(ScoringTest, ColumnarStructureErrorsNameTheColumn) {
  Start();
  auto score = [&](const v1::ColumnarAccounts& columns) {
    v1::ScoreRequest request;
    *request.mutable_columns() = columns;
    v1::ScoreResponse r;
    return Call(*ts_, request, &r);
  };
  v1::ColumnarAccounts base = ToColumns(HandAccounts());

  v1::ColumnarAccounts short_metric = base;
  short_metric.mutable_metrics(0)->mutable_values()->RemoveLast();
  EXPECT_THAT(score(short_metric),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metrics column 'csat' has 3 entries; "
                                 "expected 4 (one per id)")));

  v1::ColumnarAccounts bad_series = base;
  bad_series.mutable_series(0)->add_values(1);
  EXPECT_THAT(score(bad_series),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("series column 'weekly_active_users': "
                                 "lengths add up to 8 but 9 values were "
                                 "sent")));

  v1::ColumnarAccounts duplicate = base;
  *duplicate.add_metrics() = base.metrics(0);
  EXPECT_THAT(score(duplicate),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("metrics column 'csat' appears twice")));

  v1::ColumnarAccounts as_of = base;
  as_of.add_as_of("2026-11-01");
  EXPECT_THAT(score(as_of), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("as_of has 5 entries")));

  v1::ScoreRequest both = MapRequest(HandAccounts());
  *both.mutable_columns() = base;
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, both, &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("both accounts and columns")));
}

TEST_F(ScoringTest, ColumnarCodeOutsideTheDictionaryCostsThatValue) {
  Start();
  v1::ScoreRequest request = ColumnarRequest(HandAccounts(), "default", "1");
  request.mutable_columns()->mutable_attributes(0)->set_codes(2, 9);
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, request, &r));
  EXPECT_EQ(r.columns().errors_size(), 0);
  ASSERT_EQ(r.columns().warnings_size(), 1);
  EXPECT_EQ(r.columns().warnings(0).index(), 2u);
  EXPECT_EQ(r.columns().warnings(0).message(),
            "attributes.segment: code 9 is outside the dictionary (2 "
            "entries); used as missing");
  EXPECT_EQ(r.dropped_values(), 1u);
  EXPECT_DOUBLE_EQ(r.columns().score(0), 100);

  // Strict: that account fails instead.
  request.mutable_options()->set_strict(true);
  ASSERT_OK(Call(*ts_, request, &r));
  ASSERT_EQ(r.columns().errors_size(), 1);
  EXPECT_EQ(r.columns().errors(0).index(), 2u);
  EXPECT_EQ(r.columns().errors(0).message(),
            "attributes.segment: code 9 is outside the dictionary (2 "
            "entries)");
}

TEST_F(ScoringTest, EmptyBatchIsNoError) {
  Start();
  v1::ScoreResponse r;
  ASSERT_OK(Call(*ts_, v1::ScoreRequest(), &r));
  EXPECT_EQ(r.results_size(), 0);
  EXPECT_EQ(r.model(), "default");
  EXPECT_THAT(r.tier_counts(),
              UnorderedElementsAre(Pair("green", 0), Pair("yellow", 0),
                                   Pair("red", 0),
                                   Pair("insufficient_data", 0)));
  v1::ScoreRequest columnar;
  columnar.mutable_columns();
  ASSERT_OK(Call(*ts_, columnar, &r));
  EXPECT_TRUE(r.has_columns());
  EXPECT_EQ(r.columns().score_size(), 0);
  EXPECT_EQ(r.columns().tier_ids_size(), 4);
}

TEST_F(ScoringTest, UnknownModelOrVersionIsNotFound) {
  Start();
  SetLogEnabledForTest(false);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, MapRequest(HandAccounts(), "nope"), &r),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown model 'nope'; models: "
                                 "broken, default, segments")));
  EXPECT_THAT(Call(*ts_, MapRequest(HandAccounts(), "default", "9"), &r),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("model 'default' has no version 9; "
                                 "served versions: 1, 2")));
  EXPECT_THAT(Call(*ts_, MapRequest(HandAccounts(), "default", "3"), &r),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("version 3 of model 'default' failed to "
                                 "load: ")));
  EXPECT_THAT(Call(*ts_, MapRequest(HandAccounts(), "broken"), &r),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("model 'broken' has no version that "
                                 "loaded")));
  SetLogEnabledForTest(true);
  EXPECT_EQ(ts_->server->stats().rejected_invalid, 4u);
}

// A map-form account is parsed with its chunk; one that does not parse
// fails the call and is counted as a request that did not parse.
TEST_F(ScoringTest, AnAccountThatDoesNotParseIsCountedAsInvalid) {
  Start();
  SetLogEnabledForTest(false);
  v1::ScoreRequest request =
      MapRequest(RandomAccounts(5000, 7, false), "default");
  request.mutable_accounts(4500)->set_id("\xff\xfe");
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, request, &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("accounts[4500].id at byte ")));
  SetLogEnabledForTest(true);
  EXPECT_EQ(ts_->server->stats().rejected_invalid, 1u);
}

TEST_F(ScoringTest, OversizedBatchIsInvalidArgumentNamingTheLimit) {
  ServerOptions options = TestOptions();
  options.max_accounts_per_request = 10;
  Start(options);
  std::vector<Account> eleven = RandomAccounts(11, 3, false);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, MapRequest(eleven), &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("batch of 11 accounts exceeds "
                                 "max_accounts_per_request=10")));
  EXPECT_THAT(Call(*ts_, ColumnarRequest(eleven), &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_accounts_per_request=10")));
  eleven.pop_back();
  ASSERT_OK(Call(*ts_, MapRequest(eleven), &r));
  EXPECT_EQ(r.results_size(), 10);
}

TEST_F(ScoringTest, OversizedMessageIsRejectedByGrpc) {
  ServerOptions options = TestOptions();
  options.max_message_bytes = 16 << 10;
  Start(options);
  v1::ScoreRequest big = MapRequest(RandomAccounts(500, 5, false));
  ASSERT_GT(big.ByteSizeLong(), 16u << 10);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, big, &r),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("larger than max")));
}

TEST_F(ScoringTest, OverCapacityIsResourceExhausted) {
  ServerOptions options = TestOptions();
  options.max_concurrent_requests = 1;
  options.max_pending_accounts = 6;
  options.max_accounts_per_request = 5;
  Start(options);
  ts_->server->HoldWorkForTest();

  // One request admitted and held in the queue.
  grpc::ClientContext held_ctx;
  v1::ScoreResponse held_response;
  grpc::Status held_status;
  std::atomic<bool> held_done{false};
  v1::ScoreRequest held_request = MapRequest(RandomAccounts(5, 1, false));
  ts_->scoring->async()->Score(
      &held_ctx, &held_request, &held_response, [&](grpc::Status s) {
        held_status = s;
        held_done = true;
      });
  ASSERT_TRUE(WaitFor([&] {
    return ts_->server->stats().requests_in_progress == 1;
  }));

  SetLogEnabledForTest(false);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, MapRequest(RandomAccounts(1, 2, false)), &r),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("1 requests in progress (limit "
                                 "max_concurrent_requests=1)")));
  SetLogEnabledForTest(true);
  EXPECT_EQ(ts_->server->stats().rejected_capacity, 1u);

  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] { return held_done.load(); }));
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_EQ(held_response.results_size(), 5);
  // Capacity is back.
  ASSERT_OK(Call(*ts_, MapRequest(RandomAccounts(1, 2, false)), &r));
}

TEST_F(ScoringTest, PendingAccountsLimitIsResourceExhausted) {
  ServerOptions options = TestOptions();
  options.max_pending_accounts = 6;
  options.max_accounts_per_request = 5;
  Start(options);
  ts_->server->HoldWorkForTest();
  grpc::ClientContext held_ctx;
  v1::ScoreResponse held_response;
  std::atomic<bool> held_done{false};
  v1::ScoreRequest held_request = MapRequest(RandomAccounts(5, 1, false));
  ts_->scoring->async()->Score(&held_ctx, &held_request, &held_response,
                               [&](grpc::Status) { held_done = true; });
  ASSERT_TRUE(WaitFor([&] {
    return ts_->server->stats().accounts_in_progress == 5;
  }));
  SetLogEnabledForTest(false);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, MapRequest(RandomAccounts(2, 2, false)), &r),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("5 accounts in progress, 2 more would "
                                 "exceed max_pending_accounts=6")));
  SetLogEnabledForTest(true);
  // One more account still fits.
  ts_->server->ReleaseWorkForTest();
  ASSERT_OK(Call(*ts_, MapRequest(RandomAccounts(1, 2, false)), &r));
  ASSERT_TRUE(WaitFor([&] { return held_done.load(); }));
}

TEST_F(ScoringTest, BytesInFlightLimitRefusesASecondLargeRequest) {
  ServerOptions options = TestOptions();
  options.max_message_bytes = 1 << 20;
  options.max_bytes_in_flight = 1 << 20;
  Start(options);
  // Two map-form requests of about 600 kB: either fits alone, not both.
  v1::ScoreRequest large = MapRequest(RandomAccounts(3300, 1, false));
  const size_t bytes = large.ByteSizeLong();
  ASSERT_GT(bytes, 512u << 10);
  ASSERT_LT(bytes, 1u << 20);
  ts_->server->HoldWorkForTest();

  grpc::ClientContext held_ctx;
  v1::ScoreResponse held_response;
  std::atomic<bool> held_done{false};
  grpc::Status held_status;
  ts_->scoring->async()->Score(&held_ctx, &large, &held_response,
                               [&](grpc::Status s) {
                                 held_status = s;
                                 held_done = true;
                               });
  ASSERT_TRUE(WaitFor([&] {
    return ts_->server->stats().request_bytes_in_progress == bytes;
  }));

  SetLogEnabledForTest(false);
  v1::ScoreRequest second = MapRequest(RandomAccounts(3300, 2, false));
  v1::ScoreResponse r;
  EXPECT_THAT(
      Call(*ts_, second, &r),
      StatusIs(absl::StatusCode::kResourceExhausted,
               HasSubstr(absl::StrCat(
                   "server at capacity: ", bytes, " request bytes in "
                   "progress, ", second.ByteSizeLong(),
                   " more would exceed max_bytes_in_flight=1048576; retry "
                   "with backoff, or send smaller batches"))));
  // A stream batch is admitted the same way.
  {
    auto ctx = Context();
    auto stream = ts_->scoring->ScoreStream(ctx.get());
    ASSERT_TRUE(stream->Write(second));
    stream->WritesDone();
    v1::ScoreResponse ignored;
    EXPECT_FALSE(stream->Read(&ignored));
    EXPECT_THAT(FromGrpcStatus(stream->Finish()),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         HasSubstr("would exceed max_bytes_in_flight=")));
  }
  SetLogEnabledForTest(true);
  EXPECT_EQ(ts_->server->stats().rejected_capacity, 2u);

  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] { return held_done.load(); }));
  EXPECT_TRUE(held_status.ok()) << held_status.error_message();
  EXPECT_EQ(held_response.results_size(), 3300);
  EXPECT_EQ(ts_->server->stats().request_bytes_in_progress, 0u);
  // The bytes are back: the second request now fits.
  ASSERT_OK(Call(*ts_, second, &r));
  EXPECT_EQ(r.results_size(), 3300);
}

TEST_F(ScoringTest, DeadlineExceededDropsTheWork) {
  Start();
  ts_->server->HoldWorkForTest();
  v1::ScoreResponse r;
  EXPECT_THAT(Call(*ts_, MapRequest(RandomAccounts(100, 1)), &r,
                   absl::Milliseconds(300)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, ::testing::_));
  // The server sees the deadline pass, then its queued work is dropped
  // instead of scored.
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().cancelled == 1; }));
  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] {
    ServerStats s = ts_->server->stats();
    return s.dropped == 1 && s.requests_in_progress == 0;
  }));
  EXPECT_EQ(ts_->server->stats().accounts_scored, 0u);
}

TEST_F(ScoringTest, CancellationDropsTheWork) {
  ServerOptions options = TestOptions();
  options.rows_per_task = 10;  // ten tasks: all are skipped
  Start(options);
  ts_->server->HoldWorkForTest();
  grpc::ClientContext ctx;
  v1::ScoreRequest request = MapRequest(RandomAccounts(100, 1));
  v1::ScoreResponse response;
  grpc::Status status;
  std::atomic<bool> done{false};
  ts_->scoring->async()->Score(&ctx, &request, &response,
                               [&](grpc::Status s) {
                                 status = s;
                                 done = true;
                               });
  ASSERT_TRUE(WaitFor([&] { return ts_->server->HeldTasksForTest() == 10; }));
  ctx.TryCancel();
  ASSERT_TRUE(WaitFor([&] { return done.load(); }));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().cancelled == 1; }));
  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] {
    ServerStats s = ts_->server->stats();
    return s.dropped == 1 && s.requests_in_progress == 0;
  }));
  EXPECT_EQ(ts_->server->stats().accounts_scored, 0u);
}

TEST_F(ScoringTest, ModelsNotLoadedYetIsUnavailable) {
  auto ts = StartTestServer(TestOptions(), /*load_models=*/false);
  ASSERT_OK(ts.status());
  SetLogEnabledForTest(false);
  v1::ScoreResponse r;
  EXPECT_THAT(Call(**ts, MapRequest(HandAccounts()), &r),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("still loading its models")));
  SetLogEnabledForTest(true);
  ASSERT_OK((*ts)->server->LoadModels());
  ASSERT_OK(Call(**ts, MapRequest(HandAccounts()), &r));
  EXPECT_EQ(r.results_size(), 4);
}

}  // namespace
}  // namespace healthscore::server
