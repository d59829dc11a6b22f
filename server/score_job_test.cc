// PrepareScoreJob without a server: the checks of a request as a whole, each
// with its exact error, and what a prepared job carries for each request
// form, with and without routes and a shadow candidate.

#include "server/score_job.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/repository/model_repository.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/model_set.h"
#include "server/request_parsing.h"
#include "server/route_plan.h"
#include "server/runtime.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The server's test models, with server/testdata/routing laid over them:
// `default` routes enterprise accounts to the `enterprise` model.
std::shared_ptr<const ModelSet> Models() {
  static const auto* models = [] {
    const std::string dir =
        engine::common::testing::ScratchDir("score_job");
    fs::copy(testing::TestModelsDir(), dir, fs::copy_options::recursive);
    fs::copy(testing::SourcePath("server/testdata/routing"), dir,
             fs::copy_options::recursive |
                 fs::copy_options::overwrite_existing);
    engine::repository::RepositoryOptions options;
    options.root = dir;
    auto repository =
        engine::repository::ModelRepository::Create(std::move(options));
    EXPECT_OK(repository.status());
    auto set = ModelSet::FromSnapshot((*repository)->Snapshot());
    fs::remove_all(dir);
    return new std::shared_ptr<const ModelSet>(std::move(set));
  }();
  return *models;
}

v1::ScoreRequest MapRequest(size_t n) {
  v1::ScoreRequest request;
  request.set_model("default");
  request.set_version("1");
  for (size_t i = 0; i < n; ++i) {
    request.add_accounts()->set_id(absl::StrCat("a", i));
  }
  return request;
}

v1::ScoreRequest ColumnarRequest(size_t n) {
  v1::ScoreRequest request;
  request.set_model("default");
  request.set_version("1");
  v1::ColumnarAccounts* columns = request.mutable_columns();
  v1::NumberColumn* csat = columns->add_metrics();
  csat->set_name("csat");
  for (size_t i = 0; i < n; ++i) {
    columns->add_ids(absl::StrCat("a", i));
    csat->add_values(3);
  }
  return request;
}

absl::StatusOr<ScoreJobSpec> Prepare(const v1::ScoreRequest& request,
                                     size_t max_accounts, size_t* n) {
  return PrepareScoreJob(request, Models(), max_accounts, n);
}

TEST(PrepareScoreJobTest, MapForm) {
  const v1::ScoreRequest request = MapRequest(3);
  size_t n = 0;
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec spec, Prepare(request, 3, &n));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(spec.request, &request);
  EXPECT_EQ(spec.model.name, "default");
  EXPECT_EQ(spec.model.version, "1");
  EXPECT_EQ(spec.model.model->version(), "1.0-test");
  EXPECT_FALSE(spec.plan.has_value());
  EXPECT_EQ(spec.shadow, nullptr);
  EXPECT_NE(spec.set, nullptr);
}

TEST(PrepareScoreJobTest, ColumnarForm) {
  const v1::ScoreRequest request = ColumnarRequest(4);
  size_t n = 0;
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec spec, Prepare(request, 4, &n));
  EXPECT_EQ(n, 4u);
  ASSERT_TRUE(spec.plan.has_value());
  EXPECT_EQ(spec.plan->size(), 4u);
}

TEST(PrepareScoreJobTest, RoutesApplyUnlessIgnored) {
  v1::ScoreRequest request = MapRequest(1);
  request.set_version("");  // the routes belong to the served version
  size_t n = 0;
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec routed, Prepare(request, 1, &n));
  ASSERT_NE(routed.model.router, nullptr);
  ASSERT_NE(routed.routes, nullptr);
  // The plan is the model set's, made with it: every request of the set
  // shares it, and it lists the requested model, then its routes' targets.
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec again, Prepare(request, 1, &n));
  EXPECT_EQ(again.routes, routed.routes);
  ASSERT_EQ(routed.routes->models.size(), 2u);
  EXPECT_EQ(routed.routes->models[0].model, routed.model.model);
  EXPECT_EQ(routed.routes->models[1].name, "enterprise");
  EXPECT_EQ(routed.routes->requested.router, routed.model.router);
  request.mutable_options()->set_ignore_routes(true);
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec unrouted, Prepare(request, 1, &n));
  EXPECT_EQ(unrouted.routes, nullptr);
}

TEST(PrepareScoreJobTest, ShadowCandidate) {
  v1::ScoreRequest request = ColumnarRequest(2);
  request.mutable_shadow()->set_version("2");  // same model, version 2
  size_t n = 0;
  ASSERT_OK_AND_ASSIGN(ScoreJobSpec spec, Prepare(request, 2, &n));
  EXPECT_NE(spec.shadow, nullptr);

  request.mutable_shadow()->set_version("99");
  EXPECT_THAT(Prepare(request, 2, &n).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("shadow candidate: ")));
  EXPECT_THAT(std::string(Prepare(request, 2, &n).status().message()),
              StartsWith("shadow candidate: "));

  request.mutable_shadow()->set_model("no_such_model");
  request.mutable_shadow()->set_version("");
  EXPECT_THAT(Prepare(request, 2, &n).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no_such_model")));
}

TEST(PrepareScoreJobTest, Errors) {
  size_t n = 7;
  v1::ScoreRequest unknown = MapRequest(1);
  unknown.set_model("no_such_model");
  EXPECT_THAT(Prepare(unknown, 10, &n).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_model")));

  v1::ScoreRequest both = ColumnarRequest(1);
  both.add_accounts()->set_id("x");
  EXPECT_THAT(Prepare(both, 10, &n).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "the request carries both accounts and columns; send "
                       "one form"));

  const std::string too_many =
      "batch of 3 accounts exceeds max_accounts_per_request=2; split it into "
      "smaller batches";
  EXPECT_THAT(Prepare(MapRequest(3), 2, &n).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, too_many));
  EXPECT_THAT(Prepare(ColumnarRequest(3), 2, &n).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, too_many));

  v1::ScoreRequest malformed = ColumnarRequest(2);
  malformed.mutable_columns()->mutable_metrics(0)->add_values(1);
  EXPECT_THAT(Prepare(malformed, 10, &n).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "columns: metrics column 'csat' has 3 entries; "
                       "expected 2 (one per id)"));
  EXPECT_EQ(n, 7u);  // untouched on error
}

// Which thread scores a job: a small job of a unary call the caller's
// (inline_accounts), anything else a scoring thread.
TEST(StartScoreJobTest, SmallUnaryJobsRunOnTheCallersThread) {
  struct Case {
    size_t accounts;
    size_t inline_accounts;
    bool may_run_inline;
    bool shadow;
    bool on_caller;
  };
  const Case cases[] = {
      {1, 32, true, false, true},    {32, 32, true, false, true},
      {33, 32, true, false, false},  {1, 0, true, false, false},
      {1, 32, false, false, false},  {1, 32, true, true, false},
      {0, 32, true, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.accounts, " accounts, inline_accounts ",
                              c.inline_accounts, c.may_run_inline ? "" : ", stream",
                              c.shadow ? ", shadow" : ""));
    ServerOptions options;
    options.threads = 1;
    options.inline_accounts = c.inline_accounts;
    Runtime runtime(options);
    v1::ScoreRequest request = MapRequest(c.accounts);
    if (c.shadow) request.mutable_shadow()->set_version("2");
    size_t n = 0;
    ASSERT_OK_AND_ASSIGN(ScoreJobSpec spec, Prepare(request, 100, &n));
    spec.may_run_inline = c.may_run_inline;
    grpc::ByteBuffer response;
    spec.response = &response;
    absl::Notification done;
    std::thread::id scored_on;
    grpc::Status status;
    StartScoreJob(&runtime, std::move(spec), [&](grpc::Status s) {
      scored_on = std::this_thread::get_id();
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(scored_on == std::this_thread::get_id(), c.on_caller);
    ASSERT_TRUE(response.Valid());  // the job wrote a response
    v1::ScoreResponse parsed;
    ASSERT_TRUE(parsed.ParseFromString(FlattenBody(response)));
    EXPECT_EQ(parsed.results_size(), static_cast<int>(c.accounts));
  }
}

// A shadow job's chunks keep their scores until the last task compares
// them, in engine buffers taken from a pool and given back after (each
// thread keeps the last it gave for its own next chunk). However a job is
// cut, and whichever threads score it on whichever reused buffers, one job
// after another, its report is the same.
TEST(StartScoreJobTest, ShadowReportsAreTheSameHoweverTheJobIsCut) {
  constexpr size_t kAccounts = 500;
  v1::ScoreRequest request;
  request.set_model("default");
  request.set_version("1");
  request.mutable_shadow()->set_model("enterprise");
  request.mutable_shadow()->set_max_examples(7);
  v1::ColumnarAccounts* columns = request.mutable_columns();
  v1::NumberColumn* csat = columns->add_metrics();
  csat->set_name("csat");
  v1::NumberColumn* tickets = columns->add_metrics();
  tickets->set_name("tickets");
  v1::NumberColumn* dau_mau = columns->add_metrics();
  dau_mau->set_name("dau_mau");
  for (size_t i = 0; i < kAccounts; ++i) {
    columns->add_ids(i % 97 == 13 ? "" : absl::StrCat("a", i));  // "": fails
    csat->add_values(i % 9 == 4 ? std::nan("")
                                : 1 + static_cast<double>(i % 5));
    tickets->add_values(static_cast<double>(i % 23));
    dau_mau->add_values(static_cast<double>(i % 10) / 10);
  }
  auto run = [&](Runtime* runtime) {
    size_t n = 0;
    absl::StatusOr<ScoreJobSpec> spec = Prepare(request, kAccounts, &n);
    if (!spec.ok()) {
      ADD_FAILURE() << spec.status();
      return v1::ShadowReport();
    }
    grpc::ByteBuffer response;
    spec->response = &response;
    absl::Notification done;
    grpc::Status status;
    StartScoreJob(runtime, *std::move(spec), [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.Valid());
    v1::ScoreResponse parsed;
    EXPECT_TRUE(parsed.ParseFromString(FlattenBody(response)));
    return parsed.shadow();
  };
  ServerOptions one_chunk;
  one_chunk.threads = 1;
  ServerOptions many_chunks;
  many_chunks.threads = 2;
  many_chunks.rows_per_task = 37;
  Runtime whole(one_chunk), cut(many_chunks);
  const v1::ShadowReport want = run(&whole);
  // What the comparison rests on: failures, tier changes, deltas, examples.
  EXPECT_EQ(want.compared() + want.failed_both() + want.failed_live_only() +
                want.failed_candidate_only(),
            kAccounts);
  EXPECT_GT(want.failed_both(), 0u);
  EXPECT_GT(want.tier_changed(), 50u);
  EXPECT_GT(want.score_delta().count(), 300u);
  EXPECT_EQ(want.changed_size(), 7);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    EXPECT_EQ(run(&cut).DebugString(), want.DebugString());
    EXPECT_EQ(run(&whole).DebugString(), want.DebugString());
  }
}

}  // namespace
}  // namespace healthscore::server
