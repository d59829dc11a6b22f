// Segment routing and shadow scoring through the server, over a real
// channel: every account is scored by the model its route sends it to (the
// same result as asking that model directly), in both request forms and on
// the stream; a shadow request reports what a candidate would change; and
// ListModels shows routes and the reload counters.
//
// Each test works on its own copy of server/testdata/rules with
// server/testdata/routing laid over it: an `enterprise` model that
// `default` routes enterprise accounts to.

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::healthscore::server::testing;  // NOLINT

// A copy of the test models with server/testdata/routing laid over it:
// `default` routes enterprise accounts to the `enterprise` model.
std::string RoutedRepository(const std::string& name) {
  const std::string dir =
      ::healthscore::engine::common::testing::ScratchDir("routing_" + name);
  fs::copy(TestModelsDir(), dir, fs::copy_options::recursive);
  fs::copy(SourcePath("server/testdata/routing"), dir,
           fs::copy_options::recursive |
               fs::copy_options::overwrite_existing);
  return dir;
}

// Random accounts, with the enterprise model's own input on some of them.
std::vector<Account> Accounts(size_t n, uint32_t seed) {
  std::vector<Account> accounts = RandomAccounts(n, seed);
  for (size_t i = 0; i < accounts.size(); ++i) {
    if (i % 3 != 0) {
      accounts[i].metrics["sponsor_engaged"] = (i % 2 == 0) ? 1.0 : 0.25;
    }
  }
  return accounts;
}

// Equal line by line; a failure shows only the lines that differ.
void ExpectSameLines(const std::vector<std::string>& got,
                     const std::vector<std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  int shown = 0;
  for (size_t i = 0; i < got.size() && shown < 5; ++i) {
    if (got[i] != want[i]) {
      ADD_FAILURE() << "account " << i << "\n got: " << got[i]
                    << "\nwant: " << want[i];
      ++shown;
    }
  }
}

bool IsEnterprise(const Account& a) {
  auto it = a.attributes.find("segment");
  return it != a.attributes.end() && it->second == "enterprise";
}

class RoutingTest : public ::testing::Test {
 protected:
  void Start(const std::string& name) {
    dir_ = RoutedRepository(name);
    ServerOptions o = TestOptions();
    o.models_dir = dir_;
    SetLogEnabledForTest(false);
    auto ts = StartTestServer(o);
    SetLogEnabledForTest(true);
    ASSERT_OK(ts.status());
    ts_ = std::move(ts).value();
  }
  void TearDown() override {
    if (ts_) ts_->server->Shutdown(absl::ZeroDuration(), absl::Seconds(10));
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  absl::Status Score(const v1::ScoreRequest& request,
                     v1::ScoreResponse* response) {
    auto ctx = Context();
    return FromGrpcStatus(ts_->scoring->Score(ctx.get(), request, response));
  }

  // Which accounts the route sends to `enterprise`: enterprise accounts
  // that `default` accepts (an account the routing model rejects stays
  // with it and gets its error).
  std::vector<bool> Routed(const std::vector<Account>& accounts) {
    v1::ScoreRequest request = MapRequest(accounts, "default");
    request.mutable_options()->set_ignore_routes(true);
    v1::ScoreResponse r;
    EXPECT_OK(Score(request, &r));
    std::vector<bool> routed;
    for (size_t i = 0; i < accounts.size(); ++i) {
      routed.push_back(IsEnterprise(accounts[i]) &&
                       r.results(static_cast<int>(i)).ok());
    }
    return routed;
  }

  // What the response must say about each account: the canonical line
  // from asking the model its route picks directly.
  std::vector<std::string> ExpectedLines(const std::vector<Account>& accounts,
                                         bool columnar, uint64_t* ignored) {
    const std::vector<bool> routed = Routed(accounts);
    std::vector<Account> ent, rest;
    for (size_t i = 0; i < accounts.size(); ++i) {
      (routed[i] ? ent : rest).push_back(accounts[i]);
    }
    auto request = [columnar](const std::vector<Account>& part,
                              const std::string& model) {
      return columnar ? ColumnarRequest(part, model) : MapRequest(part, model);
    };
    v1::ScoreRequest direct_rest = request(rest, "default");
    direct_rest.mutable_options()->set_ignore_routes(true);
    v1::ScoreResponse ent_response, rest_response;
    EXPECT_OK(Score(request(ent, "enterprise"), &ent_response));
    EXPECT_OK(Score(direct_rest, &rest_response));
    EXPECT_EQ(rest_response.models_size(), 1);
    *ignored = ent_response.ignored_fields() + rest_response.ignored_fields();
    std::vector<std::string> ent_lines =
        CanonicalResults(ent_response, Ids(ent));
    std::vector<std::string> rest_lines =
        CanonicalResults(rest_response, Ids(rest));
    std::vector<std::string> out;
    size_t e = 0, r = 0;
    for (size_t i = 0; i < accounts.size(); ++i) {
      out.push_back(routed[i] ? ent_lines[e++] : rest_lines[r++]);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<TestServer> ts_;
};

TEST_F(RoutingTest, EachAccountIsScoredByTheModelItsRouteSendsItTo) {
  Start("map");
  const std::vector<Account> accounts = Accounts(1500, 11);
  const std::vector<bool> routed = Routed(accounts);
  size_t enterprise = 0, rejected = 0;
  for (size_t i = 0; i < accounts.size(); ++i) {
    enterprise += routed[i];
    rejected += IsEnterprise(accounts[i]) && !routed[i];
  }
  ASSERT_GT(rejected, 0u);  // the bad enterprise accounts stay
  ASSERT_GT(enterprise, 100u);
  ASSERT_LT(enterprise, accounts.size() - 100);

  v1::ScoreResponse r;
  ASSERT_OK(Score(MapRequest(accounts, "default"), &r));
  EXPECT_EQ(r.model(), "default");
  EXPECT_EQ(r.version(), "2");
  ASSERT_EQ(r.models_size(), 2);
  EXPECT_EQ(r.models(0).model(), "default");
  EXPECT_EQ(r.models(0).version(), "2");
  EXPECT_EQ(r.models(0).model_hash(), r.model_hash());
  EXPECT_TRUE(r.models(0).routes().empty());
  EXPECT_EQ(r.models(1).model(), "enterprise");
  EXPECT_EQ(r.models(1).version(), "1");
  EXPECT_EQ(r.models(1).model_label(), "1.0-ent");
  EXPECT_THAT(r.models(1).routes(), ElementsAre("segment == \"enterprise\""));
  EXPECT_EQ(r.models(1).accounts(), enterprise);
  EXPECT_EQ(r.models(0).accounts(), accounts.size() - enterprise);

  ASSERT_EQ(r.results_size(), static_cast<int>(accounts.size()));
  for (size_t i = 0; i < accounts.size(); ++i) {
    EXPECT_EQ(r.results(static_cast<int>(i)).model_index(),
              routed[i] ? 1u : 0u)
        << accounts[i].id;
  }
  uint64_t ignored = 0;
  ExpectSameLines(CanonicalResults(r, Ids(accounts)),
            ExpectedLines(accounts, /*columnar=*/false, &ignored));
  // Names count as ignored only against the model that scored the account.
  EXPECT_EQ(r.ignored_fields(), ignored);

  // The tier counts span both models' tiers.
  uint64_t counted = 0;
  for (const auto& [tier, count] : r.tier_counts()) counted += count;
  EXPECT_EQ(counted + r.failed_accounts(), accounts.size());
  EXPECT_TRUE(r.tier_counts().contains("healthy"));
  EXPECT_TRUE(r.tier_counts().contains("green"));
}

TEST_F(RoutingTest, ColumnarResultsUseTheUnionOfTheModelsIds) {
  Start("columnar");
  const std::vector<Account> accounts = Accounts(1200, 12);
  v1::ScoreRequest request = ColumnarRequest(accounts, "default");
  request.mutable_options()->set_explain(true);
  v1::ScoreResponse columnar, map;
  ASSERT_OK(Score(request, &columnar));
  v1::ScoreRequest map_request = MapRequest(accounts, "default");
  map_request.mutable_options()->set_explain(true);
  ASSERT_OK(Score(map_request, &map));

  const v1::ColumnarResults& c = columnar.columns();
  EXPECT_THAT(c.tier_ids(),
              ElementsAre("green", "yellow", "red", "healthy", "watch",
                          "critical", "insufficient_data"));
  EXPECT_THAT(c.group_ids(), ElementsAre("usage", "support", "relationship"));
  EXPECT_THAT(c.playbook_ids(),
              ElementsAre("rescue", "renewal_watch", "expand",
                          "exec_sponsor"));
  ASSERT_EQ(c.model_index_size(), static_cast<int>(accounts.size()));
  const std::vector<bool> routed = Routed(accounts);
  for (size_t i = 0; i < accounts.size(); ++i) {
    EXPECT_EQ(c.model_index(static_cast<int>(i)), routed[i] ? 1u : 0u);
  }
  // Both forms say the same about every account, explanations included.
  ExpectSameLines(CanonicalResults(columnar, Ids(accounts)),
            CanonicalResults(map, Ids(accounts)));
  // Map-form accounts with columnar_results: the columnar request's
  // columns, byte for byte.
  map_request.mutable_options()->set_columnar_results(true);
  v1::ScoreResponse map_by_columns;
  ASSERT_OK(Score(map_request, &map_by_columns));
  EXPECT_EQ(map_by_columns.results_size(), 0);
  EXPECT_EQ(map_by_columns.columns().SerializeAsString(),
            c.SerializeAsString());
  uint64_t ignored = 0;
  const std::vector<std::string> expected =
      ExpectedLines(accounts, /*columnar=*/true, &ignored);
  v1::ScoreResponse plain;
  ASSERT_OK(Score(ColumnarRequest(accounts, "default"), &plain));
  EXPECT_EQ(CanonicalResults(plain, Ids(accounts)), expected);
  EXPECT_EQ(plain.ignored_fields(), ignored);

  // Without reasons each model's playbooks come from its playbook masks,
  // mapped to the union's ids.
  v1::ScoreRequest bare_columnar = ColumnarRequest(accounts, "default");
  v1::ScoreRequest bare_map = MapRequest(accounts, "default");
  bare_columnar.mutable_options()->set_omit_reasons(true);
  bare_map.mutable_options()->set_omit_reasons(true);
  v1::ScoreResponse bare_by_columns, bare_by_map;
  ASSERT_OK(Score(bare_columnar, &bare_by_columns));
  ASSERT_OK(Score(bare_map, &bare_by_map));
  EXPECT_GT(bare_by_columns.columns().playbooks_size(), 0);
  EXPECT_EQ(CanonicalResults(bare_by_columns, Ids(accounts)),
            CanonicalResults(bare_by_map, Ids(accounts)));
}

TEST_F(RoutingTest, ColumnarResultsWhenEveryAccountOrNoneIsRouted) {
  // A chunk whose accounts all go to the route's model (the requested
  // model's part is empty), and one whose accounts all stay.
  Start("all_or_none");
  const std::vector<Account> accounts = Accounts(900, 21);
  const std::vector<bool> routed = Routed(accounts);
  std::vector<Account> moved, stayed;
  for (size_t i = 0; i < accounts.size(); ++i) {
    (routed[i] ? moved : stayed).push_back(accounts[i]);
  }
  ASSERT_GT(moved.size(), 100u);
  ASSERT_GT(stayed.size(), 100u);
  for (const std::vector<Account>* part : {&moved, &stayed}) {
    for (const bool omit_reasons : {false, true}) {
      SCOPED_TRACE(absl::StrCat(part == &moved ? "all routed" : "none routed",
                                omit_reasons ? ", no reasons" : ""));
      v1::ScoreRequest columnar = ColumnarRequest(*part, "default");
      v1::ScoreRequest map = MapRequest(*part, "default");
      columnar.mutable_options()->set_omit_reasons(omit_reasons);
      map.mutable_options()->set_omit_reasons(omit_reasons);
      v1::ScoreResponse by_columns, by_map;
      ASSERT_OK(Score(columnar, &by_columns));
      ASSERT_OK(Score(map, &by_map));
      EXPECT_EQ(CanonicalResults(by_columns, Ids(*part)),
                CanonicalResults(by_map, Ids(*part)));
      const uint32_t index = part == &moved ? 1u : 0u;
      EXPECT_EQ(by_columns.columns().model_index_size(),
                static_cast<int>(part->size()));
      EXPECT_THAT(by_columns.columns().model_index(),
                  ::testing::Each(index));
      uint64_t counted = 0;
      for (const auto& [tier, n] : by_columns.tier_counts()) counted += n;
      EXPECT_EQ(counted + by_columns.failed_accounts(), part->size());
    }
  }
}

TEST_F(RoutingTest, IgnoreRoutesScoresEveryAccountWithTheModelNamed) {
  Start("ignore");
  const std::vector<Account> accounts = Accounts(300, 13);
  v1::ScoreRequest request = ColumnarRequest(accounts, "default");
  request.mutable_options()->set_ignore_routes(true);
  v1::ScoreResponse r;
  ASSERT_OK(Score(request, &r));
  ASSERT_EQ(r.models_size(), 1);
  EXPECT_EQ(r.models(0).accounts(), accounts.size());
  EXPECT_TRUE(r.columns().model_index().empty());
  EXPECT_THAT(r.columns().tier_ids(),
              ElementsAre("green", "yellow", "red", "insufficient_data"));

  // A version by its config label: routes apply to every version.
  v1::ScoreResponse stable;
  ASSERT_OK(Score(MapRequest(accounts, "default", "stable"), &stable));
  EXPECT_EQ(stable.version(), "1");
  EXPECT_EQ(stable.model_label(), "1.0-test");
  EXPECT_EQ(stable.models_size(), 2);

  // A model without routes: one model, every account its own.
  v1::ScoreResponse direct;
  ASSERT_OK(Score(MapRequest(accounts, "enterprise"), &direct));
  ASSERT_EQ(direct.models_size(), 1);
  EXPECT_EQ(direct.models(0).model(), "enterprise");
  for (const v1::AccountResult& a : direct.results()) {
    EXPECT_EQ(a.model_index(), 0u);
  }
}

TEST_F(RoutingTest, StreamBatchesAreRoutedToo) {
  Start("stream");
  const std::vector<Account> accounts = Accounts(400, 14);
  auto ctx = Context();
  auto stream = ts_->scoring->ScoreStream(ctx.get());
  ASSERT_TRUE(stream->Write(MapRequest(accounts, "default")));
  ASSERT_TRUE(stream->WritesDone());
  v1::ScoreResponse r;
  ASSERT_TRUE(stream->Read(&r));
  ASSERT_OK(FromGrpcStatus(stream->Finish()));
  ASSERT_EQ(r.models_size(), 2);
  uint64_t ignored = 0;
  ExpectSameLines(CanonicalResults(r, Ids(accounts)),
            ExpectedLines(accounts, /*columnar=*/false, &ignored));
}

// The comparison computed here from two plain responses, independently of
// the engine's.
struct Expected {
  std::map<std::pair<std::string, std::string>, uint64_t> tiers;
  uint64_t compared = 0, changed = 0;
  uint64_t failed_live_only = 0, failed_candidate_only = 0, failed_both = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> newly_stopped;
  std::vector<double> deltas;
  std::vector<std::string> changed_ids;
};

Expected Compare(const v1::ScoreResponse& live,
                 const v1::ScoreResponse& candidate) {
  Expected e;
  for (int i = 0; i < live.results_size(); ++i) {
    const v1::AccountResult& l = live.results(i);
    const v1::AccountResult& c = candidate.results(i);
    if (!l.ok() || !c.ok()) {
      if (!l.ok() && !c.ok()) {
        ++e.failed_both;
      } else if (!l.ok()) {
        ++e.failed_live_only;
      } else {
        ++e.failed_candidate_only;
      }
      continue;
    }
    ++e.compared;
    ++e.tiers[{l.tier(), c.tier()}];
    if (l.tier() != c.tier()) {
      ++e.changed;
      e.changed_ids.push_back(l.id());
    }
    std::map<std::string, int> fired;
    for (const auto& p : l.playbooks()) fired[p.id()] |= 1;
    for (const auto& p : c.playbooks()) fired[p.id()] |= 2;
    for (const auto& [id, mask] : fired) {
      if (mask == 2) ++e.newly_stopped[id].first;
      if (mask == 1) ++e.newly_stopped[id].second;
    }
    if (l.has_score() && c.has_score()) {
      e.deltas.push_back(c.score() - l.score());
    }
  }
  return e;
}

TEST_F(RoutingTest, ShadowRequestReportsWhatTheCandidateWouldChange) {
  Start("shadow");
  const std::vector<Account> accounts = Accounts(2000, 15);
  for (bool columnar : {false, true}) {
    SCOPED_TRACE(columnar ? "columnar" : "map");
    v1::ScoreRequest request = columnar ? ColumnarRequest(accounts, "default")
                                        : MapRequest(accounts, "default");
    request.set_version("1");
    request.mutable_shadow()->set_model("enterprise");
    request.mutable_shadow()->set_max_examples(5);
    v1::ScoreResponse r;
    ASSERT_OK(Score(request, &r));

    // The results are the live request's own, routes applied.
    v1::ScoreRequest plain = request;
    plain.clear_shadow();
    v1::ScoreResponse without_shadow;
    ASSERT_OK(Score(plain, &without_shadow));
    ExpectSameLines(CanonicalResults(r, Ids(accounts)),
              CanonicalResults(without_shadow, Ids(accounts)));

    // Both models on every account, without routes.
    v1::ScoreRequest live_request = MapRequest(accounts, "default", "1");
    live_request.mutable_options()->set_ignore_routes(true);
    v1::ScoreResponse live, candidate;
    ASSERT_OK(Score(live_request, &live));
    ASSERT_OK(Score(MapRequest(accounts, "enterprise"), &candidate));
    const Expected e = Compare(live, candidate);

    const v1::ShadowReport& s = r.shadow();
    EXPECT_EQ(s.model(), "enterprise");
    EXPECT_EQ(s.version(), "1");
    EXPECT_EQ(s.model_label(), "1.0-ent");
    EXPECT_EQ(s.model_hash(), candidate.model_hash());
    EXPECT_EQ(s.compared(), e.compared);
    EXPECT_EQ(s.failed_both(), e.failed_both);
    EXPECT_EQ(s.failed_live_only(), e.failed_live_only);
    EXPECT_EQ(s.failed_candidate_only(), e.failed_candidate_only);
    EXPECT_GT(e.failed_live_only + e.failed_both, 0u);
    EXPECT_EQ(s.tier_changed(), e.changed);
    EXPECT_GT(e.changed, 100u);
    EXPECT_THAT(s.live_tiers(),
                ElementsAre("green", "yellow", "red", "insufficient_data"));
    EXPECT_THAT(s.candidate_tiers(), ElementsAre("healthy", "watch",
                                                 "critical",
                                                 "insufficient_data"));
    ASSERT_EQ(s.tier_table_size(), 16);
    for (const v1::TierTransition& t : s.tier_table()) {
      auto it = e.tiers.find({t.from(), t.to()});
      EXPECT_EQ(t.count(), it == e.tiers.end() ? 0 : it->second)
          << t.from() << " -> " << t.to();
    }
    std::map<std::string, std::pair<uint64_t, uint64_t>> shifts;
    for (const v1::PlaybookShift& p : s.playbooks()) {
      shifts[p.id()] = {p.newly_firing(), p.stopped_firing()};
    }
    for (const auto& [id, counts] : e.newly_stopped) {
      EXPECT_EQ(shifts[id], counts) << id;
    }
    EXPECT_EQ(shifts.size(), 4u);  // rescue, renewal_watch, expand, exec_sponsor

    std::vector<double> d = e.deltas;
    std::sort(d.begin(), d.end());
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(s.score_delta().count(), d.size());
    EXPECT_DOUBLE_EQ(s.score_delta().min(), d.front());
    EXPECT_DOUBLE_EQ(s.score_delta().max(), d.back());
    double sum = 0;
    for (double x : d) sum += x;
    EXPECT_NEAR(s.score_delta().mean(), sum / d.size(), 1e-9);
    // Percentiles are exact to 0.001 points.
    EXPECT_GE(s.score_delta().median(), d[(d.size() - 1) / 2] - 0.0011);
    EXPECT_LE(s.score_delta().median(), d[d.size() / 2] + 0.0011);

    ASSERT_EQ(s.changed_size(), 5);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(s.changed(i).id(), e.changed_ids[static_cast<size_t>(i)]);
    }
  }
}

TEST_F(RoutingTest, ShadowCandidateMustExist) {
  Start("shadow_missing");
  v1::ScoreRequest request = MapRequest(Accounts(10, 16), "default");
  request.mutable_shadow()->set_model("enterprize");
  v1::ScoreResponse r;
  EXPECT_THAT(Score(request, &r),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("shadow candidate: unknown model "
                                 "'enterprize' (did you mean "
                                 "'enterprise'?)")));
  request.mutable_shadow()->set_model("");
  request.mutable_shadow()->set_version("3");  // default v3 does not load
  EXPECT_THAT(Score(request, &r),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("shadow candidate: version 3 of model "
                                 "'default' failed to load")));
}

TEST_F(RoutingTest, ListModelsShowsRoutesErrorsAndReloadCounters) {
  Start("list");
  auto list = [this] {
    v1::ListModelsResponse r;
    auto ctx = Context();
    EXPECT_OK(FromGrpcStatus(
        ts_->models->ListModels(ctx.get(), v1::ListModelsRequest(), &r)));
    return r;
  };
  v1::ListModelsResponse before = list();
  const v1::ModelStatus* def = nullptr;
  for (const v1::ModelStatus& m : before.models()) {
    if (m.name() == "default") def = &m;
  }
  ASSERT_NE(def, nullptr);
  EXPECT_THAT(def->routes(),
              ElementsAre("segment == \"enterprise\" -> enterprise v1"));
  EXPECT_EQ(def->version_policy(), "all");
  EXPECT_EQ(before.counters().reloads(), 1u);
  // default/3 and broken/1 never load.
  EXPECT_EQ(before.counters().reload_failures(), 1u);
  EXPECT_GT(before.counters().last_reload().seconds(), 1700000000);

  // A broken edit of a serving version: it keeps serving, marked stale,
  // and the failure is counted.
  WriteFile(dir_ + "/enterprise/1/model.yaml", "name: enterprise\nversion: [1\n");
  v1::ReloadResponse reload;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(
        ts_->models->Reload(ctx.get(), v1::ReloadRequest(), &reload)));
  }
  EXPECT_FALSE(reload.errors().empty());
  v1::ListModelsResponse after = list();
  EXPECT_EQ(after.counters().reloads(), 2u);
  EXPECT_EQ(after.counters().reload_failures(), 2u);
  const v1::ModelStatus* ent = nullptr;
  for (const v1::ModelStatus& m : after.models()) {
    if (m.name() == "enterprise") ent = &m;
  }
  ASSERT_NE(ent, nullptr);
  ASSERT_EQ(ent->versions_size(), 1);
  EXPECT_TRUE(ent->versions(0).loaded());
  EXPECT_TRUE(ent->versions(0).stale());
  EXPECT_THAT(ent->versions(0).error(), HasSubstr("enterprise/1/model.yaml:3:1: error: invalid YAML"));
  EXPECT_FALSE(ent->errors().empty());

  // Routing still reaches the stale, still serving, enterprise model.
  const std::vector<Account> accounts = Accounts(200, 17);
  v1::ScoreResponse r;
  ASSERT_OK(Score(MapRequest(accounts, "default"), &r));
  ASSERT_EQ(r.models_size(), 2);
  EXPECT_EQ(r.models(1).model_label(), "1.0-ent");
}

}  // namespace
}  // namespace healthscore::server
