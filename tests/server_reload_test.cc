// Live model reload: the ModelService.Reload RPC, reload under load over
// real gRPC, and SIGHUP to the real healthscore-server binary. Every test
// works on its own copy of rules/default and rules/adoption_trends.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/test_server.h"

extern char** environ;

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace ::healthscore::server::testing;  // NOLINT
using HealthResponse = grpc::health::v1::HealthCheckResponse;

// A fresh copy of rules/default and rules/adoption_trends.
std::string CopyRules(const std::string& name) {
  const std::string dir =
      ::healthscore::engine::common::testing::ScratchDir("reload_" + name);
  for (const char* model : {"default", "adoption_trends"}) {
    fs::copy(SourcePath(absl::StrCat("rules/", model)),
             absl::StrCat(dir, "/", model), fs::copy_options::recursive);
  }
  return dir;
}

const char kBrokenModel[] = "name: default\nversion: [1\n";

// rules/default/1/model.yaml with another `version:` label, so its content
// hash differs.
std::string DefaultModelLabelled(const std::string& label) {
  std::string yaml = ReadFile(SourcePath("rules/default/1/model.yaml"));
  return absl::StrReplaceAll(yaml, {{"\nversion: 1\n",
                                     absl::StrCat("\nversion: ", label, "\n")}});
}

v1::ScoreRequest OneAccount(const std::string& version = "") {
  Account a;
  a.id = "acct-1";
  a.attributes["segment"] = "smb";
  a.metrics["dau_mau"] = 0.4;
  a.metrics["csat"] = 4.2;
  return MapRequest({a}, "", version);
}

v1::ReloadResponse Reload(TestServer& ts) {
  v1::ReloadResponse r;
  auto ctx = Context();
  grpc::Status s = ts.models->Reload(ctx.get(), v1::ReloadRequest(), &r);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return r;
}

const v1::ModelStatus* FindModel(const v1::ListModelsResponse& list,
                                 const std::string& name) {
  for (const v1::ModelStatus& m : list.models()) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

class ReloadTest : public ::testing::Test {
 protected:
  void Start(const std::string& name) {
    dir_ = CopyRules(name);
    ServerOptions options = TestOptions();
    options.models_dir = dir_;
    auto ts = StartTestServer(options);
    ASSERT_OK(ts.status());
    ts_ = std::move(ts).value();
  }
  void TearDown() override {
    if (ts_ != nullptr) ts_->server->Shutdown(absl::ZeroDuration(),
                                              absl::Seconds(30));
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<TestServer> ts_;
};

TEST_F(ReloadTest, FailedReloadKeepsServingThenNewVersionTakesOver) {
  Start("rpc");
  v1::ScoreResponse before;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(ts_->scoring->Score(ctx.get(), OneAccount(),
                                                 &before)));
  }
  EXPECT_EQ(before.model(), "default");
  EXPECT_EQ(before.version(), "1");
  ASSERT_EQ(before.model_hash().size(), 64u);

  // A broken edit of the version serving: nothing compiled, so the old
  // model keeps serving. (The repository still publishes a new snapshot,
  // `published`, so that ListModels shows the error.)
  WriteFile(dir_ + "/default/1/model.yaml", kBrokenModel);
  v1::ReloadResponse failed = Reload(*ts_);
  EXPECT_EQ(failed.compiled(), 0);
  EXPECT_EQ(failed.failed(), 1);
  ASSERT_GE(failed.errors_size(), 1);
  EXPECT_THAT(failed.errors(0), HasSubstr("default/1/model.yaml"));

  v1::ListModelsResponse list;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(
        ts_->models->ListModels(ctx.get(), v1::ListModelsRequest(), &list)));
  }
  const v1::ModelStatus* def = FindModel(list, "default");
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->serving_version(), "1");
  EXPECT_THAT(def->last_error(), HasSubstr("default/1/model.yaml"));
  EXPECT_THAT(def->last_error(), HasSubstr("invalid YAML"));

  v1::ScoreResponse after;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(ts_->scoring->Score(ctx.get(), OneAccount(),
                                                 &after)));
  }
  EXPECT_EQ(after.version(), "1");
  EXPECT_EQ(after.model_hash(), before.model_hash());
  EXPECT_EQ(after.results(0).score(), before.results(0).score());

  grpc::health::v1::HealthCheckRequest hreq;
  HealthResponse health;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(ts_->health->Check(ctx.get(), hreq, &health)));
  }
  EXPECT_EQ(health.status(), HealthResponse::SERVING);

  // A valid version 2: requests without a version move to it.
  WriteFile(dir_ + "/default/2/model.yaml", DefaultModelLabelled("2"));
  v1::ReloadResponse published = Reload(*ts_);
  EXPECT_TRUE(published.published());
  EXPECT_GT(published.generation(), failed.generation());
  EXPECT_EQ(published.compiled(), 1);

  v1::ScoreResponse v2;
  {
    auto ctx = Context();
    ASSERT_OK(
        FromGrpcStatus(ts_->scoring->Score(ctx.get(), OneAccount(), &v2)));
  }
  EXPECT_EQ(v2.version(), "2");
  EXPECT_EQ(v2.model_label(), "2");
  EXPECT_NE(v2.model_hash(), before.model_hash());
}

// Resident set size of this process, in bytes.
int64_t ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Steady traffic on three client threads while the main thread reloads
// alternating broken and valid versions: no call fails, every response
// is stamped with a version and hash that the server published, and
// memory does not grow with the number of reloads.
TEST_F(ReloadTest, ReloadUnderLoadFailsNoRequest) {
  Start("load");
  SetLogEnabledForTest(false);
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::set<std::pair<std::string, std::string>> seen;  // version, hash
  std::atomic<int> calls{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&] {
      auto stub = v1::ScoringService::NewStub(MakeChannel(ts_->target()));
      while (!stop.load()) {
        v1::ScoreResponse r;
        auto ctx = Context();
        grpc::Status s = stub->Score(ctx.get(), OneAccount(), &r);
        absl::MutexLock lock(&mu);
        if (!s.ok()) {
          failures.push_back(s.error_message());
        } else {
          seen.emplace(r.version(), r.model_hash());
        }
        calls.fetch_add(1);
      }
    });
  }
  // Every version and hash that served: from ListModels after each reload.
  std::set<std::pair<std::string, std::string>> published;
  auto record = [&] {
    v1::ListModelsResponse list;
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(
        ts_->models->ListModels(ctx.get(), v1::ListModelsRequest(), &list)));
    for (const v1::ModelVersionStatus& v :
         FindModel(list, "default")->versions()) {
      if (v.loaded()) published.emplace(v.version(), v.hash());
    }
  };
  record();
  // Every model that served, to check that replaced ones are freed.
  std::vector<std::weak_ptr<const engine::model::CompiledModel>> served;
  auto keep_serving_model = [&] {
    std::shared_ptr<const ModelSet> set = ts_->server->models();
    ASSERT_NE(set, nullptr);
    absl::StatusOr<ModelRef> ref = set->Find("default", "");
    ASSERT_OK(ref.status());
    served.push_back(ref->model);
  };
  keep_serving_model();
  // Hundreds of reloads, as a data team publishing all day would make.
  constexpr int kReloads = 300;
  constexpr int kWarmReloads = 60;
  int64_t warm_rss = 0;
  int published_count = 0;
  for (int i = 0; i < kReloads; ++i) {
    // Allocator caches and gRPC's buffers settle in the first reloads.
    if (i == kWarmReloads) warm_rss = ResidentBytes();
    // Wait for some traffic between reloads (not a timing assertion).
    const int target = calls.load() + 3;
    ASSERT_TRUE(WaitFor([&] { return calls.load() >= target; }));
    const bool broken = i % 2 == 1;
    WriteFile(dir_ + "/default/2/model.yaml",
              broken ? std::string(kBrokenModel)
                     : DefaultModelLabelled(absl::StrCat("2.", i)));
    v1::ReloadResponse r = Reload(*ts_);
    EXPECT_EQ(r.compiled(), broken ? 0 : 1) << i;
    EXPECT_EQ(r.failed(), broken ? 1 : 0) << i;
    EXPECT_EQ(r.errors_size() > 0, broken) << i;
    published_count += r.compiled();
    record();
    if (!broken) keep_serving_model();
  }
  stop = true;
  for (std::thread& t : clients) t.join();
  SetLogEnabledForTest(true);

  // No memory growth across reloads: every replaced model was freed. The
  // one serving is alive, and each scoring thread may still hold the last
  // model it scored with (score_job.h) until it scores with another.
  const int scoring_threads = ts_->server->options().threads;
  int alive = 0;
  for (const auto& w : served) alive += !w.expired();
  EXPECT_GE(alive, 1);
  EXPECT_LE(alive, 1 + scoring_threads) << "of " << served.size();
  EXPECT_EQ(served.size(), static_cast<size_t>(kReloads / 2 + 1));
  // And the process as a whole: 240 more reloads (120 new models, each
  // with its Batch buffers and results) may not add more than a few MiB.
  const int64_t end_rss = ResidentBytes();
  std::printf("resident set: %.1f MiB after %d reloads, %.1f MiB after %d\n",
              warm_rss / 1048576.0, kWarmReloads, end_rss / 1048576.0,
              kReloads);
  EXPECT_LT(end_rss - warm_rss, int64_t{24} << 20);

  EXPECT_EQ(published_count, kReloads / 2);
  EXPECT_TRUE(failures.empty())
      << failures.size() << " failed calls, first: " << failures[0];
  EXPECT_GT(calls.load(), kReloads);
  for (const auto& [version, hash] : seen) {
    EXPECT_TRUE(published.count({version, hash}))
        << "version " << version << " hash " << hash << " never published";
  }
  // Both the first version and reloaded ones answered.
  EXPECT_GE(seen.size(), 2u);
}

// With a watch interval the server picks up a new version on its own.
TEST(ReloadWatchTest, WatcherPublishesNewVersion) {
  const std::string dir = CopyRules("watch");
  ServerOptions options = TestOptions();
  options.models_dir = dir;
  options.watch_interval = absl::Milliseconds(20);
  auto started = StartTestServer(options);
  ASSERT_OK(started.status());
  TestServer& ts = **started;
  WriteFile(dir + "/default/2/model.yaml", DefaultModelLabelled("2"));
  std::string version;
  ASSERT_TRUE(WaitFor([&] {
    v1::ScoreResponse r;
    auto ctx = Context();
    if (!ts.scoring->Score(ctx.get(), OneAccount(), &r).ok()) return false;
    version = r.version();
    return version == "2";
  })) << version;
  ts.server->Shutdown(absl::ZeroDuration(), absl::Seconds(30));
  fs::remove_all(dir);
}

// The real binary: SIGHUP after a model file changed reloads the models.
TEST(ReloadBinaryTest, SighupReloadsChangedModels) {
  const std::string dir = CopyRules("sighup");
  const std::string work = dir + "_work";
  fs::create_directories(work);
  const std::string port_file = work + "/port";
  const std::string err_file = work + "/stderr.txt";
  std::vector<std::string> args = {
      absl::StrCat(HEALTHSCORE_BINARY_DIR, "/server/healthscore-server"),
      "--listen", "127.0.0.1:0", "--port-file", port_file, "--models", dir,
      "--threads", "2"};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(),
                        environ),
            0);
  posix_spawn_file_actions_destroy(&actions);

  int port = 0;
  WaitFor([&] {
    port = std::atoi(ReadFile(port_file).c_str());
    return port > 0 || ::waitpid(pid, nullptr, WNOHANG) == pid;
  });
  ASSERT_GT(port, 0) << ReadFile(err_file);
  auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto scoring = v1::ScoringService::NewStub(channel);
  auto models = v1::ModelService::NewStub(channel);

  v1::ScoreResponse r1;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(scoring->Score(ctx.get(), OneAccount(), &r1)));
  }
  EXPECT_EQ(r1.version(), "1");

  WriteFile(dir + "/default/2/model.yaml", DefaultModelLabelled("2"));
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  std::string serving;
  ASSERT_TRUE(WaitFor([&] {
    v1::ListModelsResponse list;
    auto ctx = Context();
    if (!models->ListModels(ctx.get(), v1::ListModelsRequest(), &list).ok()) {
      return false;
    }
    serving = FindModel(list, "default")->serving_version();
    return serving == "2";
  })) << serving << "\n"
      << ReadFile(err_file);

  v1::ScoreResponse r2;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(scoring->Score(ctx.get(), OneAccount(), &r2)));
  }
  EXPECT_EQ(r2.version(), "2");
  EXPECT_NE(r2.model_hash(), r1.model_hash());

  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string log = ReadFile(err_file);
  EXPECT_THAT(log, HasSubstr("received SIGHUP"));
  EXPECT_THAT(log, HasSubstr("models reloaded"));
  fs::remove_all(dir);
  fs::remove_all(work);
}

}  // namespace
}  // namespace healthscore::server
