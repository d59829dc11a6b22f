// The Prometheus endpoint over real connections: an in-process server with
// metrics on an ephemeral port, real gRPC calls and reloads, and scrapes of
// /metrics over HTTP; then the healthscore-server binary with
// --metrics-port 0 and --metrics-port-file.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/generic/generic_stub.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/status.h"
#include "server/testing/http_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using namespace ::healthscore::server::testing;  // NOLINT

// Samples by series ("name" or "name{labels}") -> value.
using Samples = std::map<std::string, double>;

Samples Parse(const std::string& text) {
  absl::StatusOr<Samples> samples = ParseMetricSamples(text);
  EXPECT_OK(samples.status());
  return samples.ok() ? *samples : Samples();
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // rules/default in a directory of our own, for the broken reload.
    dir_ = ScratchDir("metrics");
    fs::copy(SourcePath("rules/default"), dir_ + "/default",
             fs::copy_options::recursive);
    ServerOptions options = TestOptions();
    options.models_dir = dir_;
    options.metrics_port = 0;
    ASSERT_OK_AND_ASSIGN(ts_, StartTestServer(options));
    ASSERT_GT(ts_->server->metrics_port(), 0);
  }
  void TearDown() override {
    if (ts_ != nullptr) {
      ts_->server->Shutdown(absl::ZeroDuration(), absl::Seconds(30));
    }
    fs::remove_all(dir_);
  }

  HttpResponse Get(const std::string& path) {
    absl::StatusOr<HttpResponse> r = HttpGet(ts_->server->metrics_port(), path);
    EXPECT_OK(r.status());
    return r.ok() ? *r : HttpResponse();
  }
  Samples Scrape() {
    HttpResponse r = Get("/metrics");
    EXPECT_EQ(r.status, 200) << r.body;
    return Parse(r.body);
  }

  v1::ScoreResponse Score(const std::vector<Account>& accounts,
                          const std::string& model = "") {
    v1::ScoreResponse response;
    auto ctx = Context();
    grpc::Status s =
        ts_->scoring->Score(ctx.get(), MapRequest(accounts, model), &response);
    if (model.empty()) {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return response;
  }

  static Account Good(const std::string& id) {
    Account a;
    a.id = id;
    a.attributes["segment"] = "smb";
    a.metrics["dau_mau"] = 0.4;
    a.metrics["csat"] = 4.2;
    return a;
  }

  std::string dir_;
  std::unique_ptr<TestServer> ts_;
};

// Slow or idle clients (a slowloris attack: connections that send nothing,
// or a byte a second) cannot starve a scrape: the default pool leaves
// threads free for a dozen of them, and cuts each after the request
// timeout.
TEST_F(MetricsTest, SlowClientsDoNotBlockAScrape) {
  const int port = ts_->server->metrics_port();
  SlowClients slow(port, /*idle=*/6, /*trickling=*/6, absl::Seconds(1));
  ASSERT_TRUE(WaitFor([&] { return slow.bytes_sent() >= 6; }));
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<HttpResponse> r =
        HttpGet(port, "/metrics", /*timeout=*/absl::Seconds(5));
    ASSERT_OK(r.status());
    EXPECT_EQ(r->status, 200);
    EXPECT_THAT(r->body, HasSubstr("healthscore_requests_total"));
  }
}

TEST_F(MetricsTest, CountersMoveByWhatTheCallsDid) {
  Samples before = Scrape();
  Account bad = Good("bad-1");
  bad.id.clear();  // cannot be identified: fails alone
  Account dropped = Good("dropped-1");
  dropped.metrics.erase("csat");
  dropped.attributes["csat"] = "high";  // a string for a number: dropped
  Score({Good("a-1"), Good("a-2")});
  v1::ScoreResponse mixed = Score({Good("a-3"), bad, dropped});
  ASSERT_EQ(mixed.failed_accounts(), 1u);
  ASSERT_EQ(mixed.dropped_values(), 1u);
  Score({Good("a-4")}, "no_such_model");  // NOT_FOUND before admission
  Samples after = Scrape();

  auto delta = [&](const std::string& series) {
    EXPECT_TRUE(after.count(series)) << series;
    return after[series] - before[series];
  };
  EXPECT_EQ(delta("healthscore_requests_total"), 2);
  EXPECT_EQ(delta("healthscore_accounts_scored_total"), 4);
  EXPECT_EQ(delta("healthscore_accounts_failed_total"), 1);
  EXPECT_EQ(delta("healthscore_values_dropped_total"), 1);
  EXPECT_EQ(delta("healthscore_rejected_total{reason=\"invalid\"}"), 1);
  EXPECT_EQ(delta("healthscore_rejected_total{reason=\"capacity\"}"), 0);
  EXPECT_EQ(delta("healthscore_streams_total"), 0);
  EXPECT_EQ(delta("healthscore_cancelled_total"), 0);
  EXPECT_EQ(after["healthscore_requests_in_progress"], 0);
  EXPECT_EQ(after["healthscore_accounts_in_progress"], 0);
  // One observation per Score call answered.
  const std::string count = "healthscore_request_duration_seconds_count";
  EXPECT_EQ(delta(count), 2);
  EXPECT_EQ(after[count],
            after["healthscore_request_duration_seconds_bucket{le=\"+Inf\"}"]);

  EXPECT_EQ(after[absl::StrCat("healthscore_model_info{model=\"default\","
                               "version=\"1\",hash=\"",
                               mixed.model_hash(), "\",label=\"",
                               mixed.model_label(), "\"}")],
            1);
  EXPECT_EQ(after["healthscore_model_serving_versions{model=\"default\"}"], 1);
  EXPECT_EQ(after["healthscore_model_failed_versions{model=\"default\"}"], 0);
  EXPECT_GT(after["healthscore_start_time_seconds"], 1.7e9);
  EXPECT_EQ(after["healthscore_build_info{version=\"0.1.0\"}"], 1);
}

// Conventions (issue 14): every call by method and status code, with its
// latency histogram; accounts per model version.
TEST_F(MetricsTest, CallsAreCountedByMethodAndCode) {
  Samples before = Scrape();
  Score({Good("a-1"), Good("a-2")});
  Score({Good("a-3")});
  Score({Good("a-4")}, "no_such_model");
  v1::ListModelsResponse models;
  auto ctx = Context();
  ASSERT_TRUE(
      ts_->models->ListModels(ctx.get(), v1::ListModelsRequest(), &models)
          .ok());
  grpc::health::v1::HealthCheckResponse health;
  auto hctx = Context();
  ASSERT_TRUE(ts_->health
                  ->Check(hctx.get(), grpc::health::v1::HealthCheckRequest(),
                          &health)
                  .ok());
  // A method no service has: counted, but not by its name.
  grpc::GenericStub generic(ts_->channel);
  grpc::ClientContext gctx;
  gctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1), reply;
  absl::Notification done;
  grpc::Status unknown_status;
  generic.UnaryCall(&gctx, "/healthscore.v1.ScoringService/NoSuchMethod",
                    grpc::StubOptions(), &request, &reply,
                    [&](grpc::Status s) {
                      unknown_status = s;
                      done.Notify();
                    });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_EQ(unknown_status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  Samples after = Scrape();

  auto delta = [&](const std::string& series) {
    EXPECT_TRUE(after.count(series)) << series;
    return after[series] - before[series];
  };
  const std::string score_ok =
      "method=\"healthscore.v1.ScoringService/Score\",code=\"OK\"";
  const std::string score_not_found =
      "method=\"healthscore.v1.ScoringService/Score\",code=\"NOT_FOUND\"";
  EXPECT_EQ(delta("healthscore_grpc_requests_total{" + score_ok + "}"), 2);
  EXPECT_EQ(delta("healthscore_grpc_requests_total{" + score_not_found + "}"),
            1);
  EXPECT_EQ(delta("healthscore_grpc_requests_total{method=\"healthscore.v1."
                  "ModelService/ListModels\",code=\"OK\"}"),
            1);
  EXPECT_EQ(delta("healthscore_grpc_requests_total{method=\"grpc.health.v1."
                  "Health/Check\",code=\"OK\"}"),
            1);
  // The latency histogram of the same calls.
  EXPECT_EQ(delta("healthscore_grpc_request_duration_seconds_count{" +
                  score_ok + "}"),
            2);
  EXPECT_EQ(after["healthscore_grpc_request_duration_seconds_bucket{" +
                  score_ok + ",le=\"+Inf\"}"],
            after["healthscore_grpc_request_duration_seconds_count{" +
                  score_ok + "}"]);
  EXPECT_TRUE(after.count("healthscore_grpc_request_duration_seconds_sum{" +
                          score_ok + "}"));
  // The probe is counted without its made-up name (bounded labels).
  for (const auto& [series, value] : after) {
    EXPECT_THAT(series, ::testing::Not(HasSubstr("NoSuchMethod")));
  }
  // Accounts per model version: 3 scored by default version 1.
  EXPECT_EQ(delta("healthscore_model_accounts_total{model=\"default\","
                  "version=\"1\"}"),
            3);
}

// The standard process metrics, from /proc.
TEST_F(MetricsTest, ProcessMetrics) {
  Samples s = Scrape();
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_TRUE(s.count(name)) << name;
  }
  EXPECT_GT(s["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GE(s["process_virtual_memory_bytes"],
            s["process_resident_memory_bytes"]);
  // At least the listening sockets and standard streams.
  EXPECT_GE(s["process_open_fds"], 4);
  EXPECT_LE(s["process_open_fds"], s["process_max_fds"]);
  EXPECT_GT(s["process_cpu_seconds_total"], 0);
  // The process started before the server it runs, within tick rounding.
  EXPECT_GT(s["process_start_time_seconds"], 1.7e9);
  EXPECT_LE(s["process_start_time_seconds"],
            s["healthscore_start_time_seconds"] + 0.01);
  HttpResponse r = Get("/metrics");
  EXPECT_THAT(r.body, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(r.body, HasSubstr("# TYPE process_open_fds gauge\n"));
}

TEST_F(MetricsTest, HeadMetricsHasTheHeadersOnly) {
  ASSERT_OK_AND_ASSIGN(
      HttpResponse head,
      HttpRequest(ts_->server->metrics_port(), "HEAD", "/metrics"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(head.body, "");
  int64_t length = 0;
  ASSERT_TRUE(absl::SimpleAtoi(head.headers["content-length"], &length));
  EXPECT_GT(length, 1000);
  ASSERT_OK_AND_ASSIGN(
      HttpResponse post,
      HttpRequest(ts_->server->metrics_port(), "POST", "/metrics"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
}

TEST_F(MetricsTest, BrokenReloadCountsOneFailure) {
  const v1::ScoreResponse serving = Score({Good("a-1")});
  Samples before = Scrape();
  EXPECT_EQ(before["healthscore_reloads_total"], 1);  // the first load
  EXPECT_EQ(before["healthscore_reload_failures_total"], 0);
  EXPECT_GT(before["healthscore_last_successful_reload_timestamp_seconds"],
            1.7e9);

  // A new version 2 that does not parse: version 1 keeps serving.
  fs::create_directories(dir_ + "/default/2");
  {
    std::ofstream out(dir_ + "/default/2/model.yaml.tmp");
    out << "name: default\nversion: [2\n";
  }
  fs::rename(dir_ + "/default/2/model.yaml.tmp",
             dir_ + "/default/2/model.yaml");
  v1::ReloadResponse reload;
  {
    auto ctx = Context();
    ASSERT_OK(FromGrpcStatus(
        ts_->models->Reload(ctx.get(), v1::ReloadRequest(), &reload)));
  }
  ASSERT_EQ(reload.failed(), 1);
  Samples after = Scrape();

  EXPECT_EQ(after["healthscore_reloads_total"], 2);
  EXPECT_EQ(after["healthscore_reload_failures_total"], 1);
  EXPECT_EQ(after["healthscore_model_versions_failed_total"] -
                before["healthscore_model_versions_failed_total"],
            1);
  EXPECT_EQ(after["healthscore_model_versions_loaded_total"],
            before["healthscore_model_versions_loaded_total"]);
  EXPECT_EQ(after["healthscore_models_generation"], reload.generation());
  EXPECT_GE(after["healthscore_last_reload_timestamp_seconds"],
            before["healthscore_last_reload_timestamp_seconds"]);
  EXPECT_EQ(after["healthscore_last_successful_reload_timestamp_seconds"],
            before["healthscore_last_successful_reload_timestamp_seconds"]);
  EXPECT_EQ(after["healthscore_model_failed_versions{model=\"default\"}"], 1);
  EXPECT_EQ(after["healthscore_model_serving_versions{model=\"default\"}"], 1);
  EXPECT_EQ(after[absl::StrCat("healthscore_model_info{model=\"default\","
                               "version=\"1\",hash=\"",
                               serving.model_hash(), "\",label=\"",
                               serving.model_label(), "\"}")],
            1);
}

TEST_F(MetricsTest, ServesOnlyGetMetrics) {
  HttpResponse ok = Get("/metrics");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(ok.body, HasSubstr("# TYPE healthscore_requests_total counter\n"
                                 "healthscore_requests_total "));
  EXPECT_EQ(Get("/nope").status, 404);
  ASSERT_OK_AND_ASSIGN(
      HttpResponse post,
      HttpRequest(ts_->server->metrics_port(), "POST", "/metrics"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(ts_->server->metrics_address(),
            absl::StrCat("127.0.0.1:", ts_->server->metrics_port()));
}

TEST(MetricsOffTest, OffByDefault) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> ts, StartTestServer());
  EXPECT_EQ(ts->server->metrics_port(), 0);
  EXPECT_EQ(ts->server->metrics_address(), "");
}

TEST(MetricsOffTest, MetricsPortInUseFailsStart) {
  ServerOptions first_options = TestOptions();
  first_options.metrics_port = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> first,
                       StartTestServer(first_options, false));
  ServerOptions options = TestOptions();
  options.metrics_port = first->server->metrics_port();
  EXPECT_THAT(Server::Start(options).status(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("cannot serve metrics on "
                                              "127.0.0.1:",
                                              options.metrics_port))));
}

// The real binary writes the metrics port to --metrics-port-file once
// serving, logs the address, and removes the file on exit.
TEST(MetricsBinaryTest, MetricsPortFile) {
  const std::string dir = ScratchDir("metrics_bin");
  const std::string port_file = dir + "/port";
  const std::string metrics_file = dir + "/metrics-port";
  std::remove(port_file.c_str());
  std::remove(metrics_file.c_str());
  ServerProcess p;
  ASSERT_TRUE(
      p.Spawn(dir, {"--listen", "127.0.0.1:0", "--port-file", port_file,
                    "--metrics-port", "0", "--metrics-port-file", metrics_file,
                    "--models", TestModelsDir(), "--threads", "1"}));
  ASSERT_GT(p.WaitForPort(port_file), 0) << p.err();
  const int metrics_port = std::atoi(ReadFile(metrics_file).c_str());
  ASSERT_GT(metrics_port, 0) << p.err();
  ASSERT_OK_AND_ASSIGN(HttpResponse r, HttpGet(metrics_port, "/metrics"));
  EXPECT_EQ(r.status, 200);
  Samples samples = Parse(r.body);
  EXPECT_EQ(samples["healthscore_reloads_total"], 1);
  EXPECT_EQ(samples["healthscore_requests_total"], 0);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0);
  EXPECT_THAT(p.err(), HasSubstr(absl::StrCat("metrics on http://127.0.0.1:",
                                              metrics_port, "/metrics")));
  EXPECT_EQ(ReadFile(metrics_file), "");  // removed on exit
  fs::remove_all(dir);
}

}  // namespace
}  // namespace healthscore::server
