#include "server/metrics.h"

#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/testing/http_client.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::healthscore::server::testing::HttpGet;
using ::healthscore::server::testing::HttpRequest;
using ::healthscore::server::testing::HttpResponse;
using ::healthscore::server::testing::SlowClients;
using ::healthscore::server::testing::WaitFor;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

MetricsSnapshot Sample() {
  MetricsSnapshot s;
  s.build_version = "0.1.0";
  s.started = absl::FromUnixSeconds(1795000000);
  s.server.requests = 12;
  s.server.streams = 3;
  s.server.stream_batches = 40;
  s.server.accounts_scored = 5000;
  s.server.accounts_failed = 7;
  s.server.values_dropped = 5;
  s.server.rejected_capacity = 2;
  s.server.rejected_invalid = 5;
  s.server.cancelled = 1;
  s.server.dropped = 4;
  s.server.refused_shutting_down = 9;
  s.server.validations_running = 2;
  s.server.validations_timed_out = 13;
  s.server.requests_in_progress = 6;
  s.server.accounts_in_progress = 600;
  s.server.request_bytes_in_progress = 123456;
  s.server.open_calls = 8;
  LatencyHistogram latency;
  latency.Observe(absl::Microseconds(80));
  latency.Observe(absl::Microseconds(100));
  latency.Observe(absl::Milliseconds(3));
  latency.Observe(absl::Seconds(30));
  s.request_duration = latency.Snapshot();
  s.repository.reloads = 4;
  s.repository.reload_failures = 1;
  s.repository.versions_loaded = 9;
  s.repository.versions_failed = 2;
  s.repository.generation = 4;
  s.repository.last_reload = absl::FromUnixMicros(1795468089123456);
  s.serving.push_back({"default", "2", "abc123", "2026.1"});
  s.models.push_back({"default", 1, 1});
  engine::plugin_host::PluginStats plugin;
  plugin.path = "/opt/hs/libhs_nps.so";
  plugin.name = "nps";
  plugin.version = "1.0";
  plugin.sha256 = "ff00";
  plugin.loaded = true;
  plugin.calls = 30;
  plugin.failed_calls = 1;
  plugin.failed_rows = 64;
  plugin.row_errors = 3;
  plugin.nonfinite_rows = 2;
  s.plugins.push_back(plugin);
  return s;
}

TEST(RenderMetricsTest, ServerCounters) {
  EXPECT_THAT(Lines(RenderMetrics(Sample())),
              IsSupersetOf({
                  "# HELP healthscore_requests_total Score calls admitted.",
                  "# TYPE healthscore_requests_total counter",
                  "healthscore_requests_total 12",
                  "healthscore_streams_total 3",
                  "healthscore_stream_batches_total 40",
                  "healthscore_accounts_scored_total 5000",
                  "healthscore_accounts_failed_total 7",
                  "healthscore_values_dropped_total 5",
                  "# TYPE healthscore_rejected_total counter",
                  "healthscore_rejected_total{reason=\"capacity\"} 2",
                  "healthscore_rejected_total{reason=\"invalid\"} 5",
                  "healthscore_cancelled_total 1",
                  "healthscore_dropped_total 4",
                  "healthscore_refused_shutting_down_total 9",
                  "# TYPE healthscore_validations_running gauge",
                  "healthscore_validations_running 2",
                  "healthscore_validations_timed_out_total 13",
                  "# TYPE healthscore_requests_in_progress gauge",
                  "healthscore_requests_in_progress 6",
                  "healthscore_accounts_in_progress 600",
                  "healthscore_request_bytes_in_progress 123456",
                  "healthscore_open_calls 8",
                  "healthscore_build_info{version=\"0.1.0\"} 1",
                  "healthscore_start_time_seconds 1795000000",
              }));
}

TEST(RenderMetricsTest, LatencyHistogramIsCumulative) {
  EXPECT_THAT(
      Lines(RenderMetrics(Sample())),
      IsSupersetOf({
          "# TYPE healthscore_request_duration_seconds histogram",
          "healthscore_request_duration_seconds_bucket{le=\"0.0001\"} 2",
          "healthscore_request_duration_seconds_bucket{le=\"0.0002\"} 2",
          "healthscore_request_duration_seconds_bucket{le=\"0.00025\"} 2",
          "healthscore_request_duration_seconds_bucket{le=\"0.0025\"} 2",
          "healthscore_request_duration_seconds_bucket{le=\"0.005\"} 3",
          "healthscore_request_duration_seconds_bucket{le=\"10\"} 3",
          "healthscore_request_duration_seconds_bucket{le=\"+Inf\"} 4",
          "healthscore_request_duration_seconds_sum 30.00318",
          "healthscore_request_duration_seconds_count 4",
      }));
}

TEST(RenderMetricsTest, RepositoryAndModels) {
  EXPECT_THAT(Lines(RenderMetrics(Sample())),
              IsSupersetOf({
                  "healthscore_reloads_total 4",
                  "healthscore_reload_failures_total 1",
                  "healthscore_model_versions_loaded_total 9",
                  "healthscore_model_versions_failed_total 2",
                  "# TYPE healthscore_models_generation gauge",
                  "healthscore_models_generation 4",
                  "healthscore_last_reload_timestamp_seconds 1795468089.123456",
                  // Never happened.
                  "healthscore_last_successful_reload_timestamp_seconds 0",
                  "# TYPE healthscore_model_info gauge",
                  "healthscore_model_info{model=\"default\",version=\"2\","
                  "hash=\"abc123\",label=\"2026.1\"} 1",
                  "healthscore_model_serving_versions{model=\"default\"} 1",
                  "healthscore_model_failed_versions{model=\"default\"} 1",
              }));
}

TEST(RenderMetricsTest, PluginCounters) {
  const std::string labels = "plugin=\"nps\",path=\"/opt/hs/libhs_nps.so\"";
  EXPECT_THAT(Lines(RenderMetrics(Sample())),
              IsSupersetOf({
                  "healthscore_plugin_info{" + labels +
                      ",version=\"1.0\",sha256=\"ff00\"} 1",
                  "healthscore_plugin_loaded{" + labels + "} 1",
                  "healthscore_plugin_calls_total{" + labels + "} 30",
                  "healthscore_plugin_errors_total{" + labels +
                      ",kind=\"failed_call\"} 1",
                  "healthscore_plugin_errors_total{" + labels +
                      ",kind=\"row_error\"} 3",
                  "healthscore_plugin_errors_total{" + labels +
                      ",kind=\"nonfinite_row\"} 2",
                  "healthscore_plugin_failed_rows_total{" + labels + "} 64",
              }));
}

TEST(RenderMetricsTest, EscapesLabelValues) {
  MetricsSnapshot s;
  s.serving.push_back({"a\\b", "1", "say \"hi\"", "two\nlines"});
  EXPECT_THAT(Lines(RenderMetrics(s)),
              Contains("healthscore_model_info{model=\"a\\\\b\",version=\"1\","
                       "hash=\"say \\\"hi\\\"\",label=\"two\\nlines\"} 1"));
}

// The empty snapshot (no repository, no models, no plugins) is complete:
// every family is there with zeros, families with labels only have their
// HELP and TYPE lines.
TEST(RenderMetricsTest, EmptySnapshot) {
  std::vector<std::string> lines = Lines(RenderMetrics(MetricsSnapshot()));
  EXPECT_THAT(lines, IsSupersetOf({
                         "healthscore_requests_total 0",
                         "healthscore_reloads_total 0",
                         "healthscore_last_reload_timestamp_seconds 0",
                         "# TYPE healthscore_model_info gauge",
                         "# TYPE healthscore_plugin_calls_total counter",
                         "healthscore_request_duration_seconds_count 0",
                         "healthscore_request_duration_seconds_sum 0",
                     }));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("model=")));
    EXPECT_THAT(line, Not(HasSubstr("plugin=")));
  }
}

// The exposition rules Prometheus' parser enforces: every family has one
// HELP and one TYPE line, in that order, before its samples; a family's
// samples are contiguous; names carry the prefix, counters end in _total.
TEST(RenderMetricsTest, DecisionLogOnlyWhenOn) {
  EXPECT_THAT(RenderMetrics(Sample()), Not(HasSubstr("decision_log")));
  MetricsSnapshot s = Sample();
  DecisionLogStats d;
  d.written = 120;
  d.dropped_buffer_full = 7;
  d.dropped_write_error = 2;
  d.write_errors = 1;
  d.rotations = 3;
  d.queued_bytes = 4096;
  s.decision_log = d;
  EXPECT_THAT(
      Lines(RenderMetrics(s)),
      IsSupersetOf({
          "# TYPE healthscore_decision_log_written_total counter",
          "healthscore_decision_log_written_total 120",
          "# TYPE healthscore_decision_log_dropped_total counter",
          "healthscore_decision_log_dropped_total{reason=\"buffer_full\"} 7",
          "healthscore_decision_log_dropped_total{reason=\"write_error\"} 2",
          "healthscore_decision_log_write_errors_total 1",
          "healthscore_decision_log_rotations_total 3",
          "# TYPE healthscore_decision_log_buffered_bytes gauge",
          "healthscore_decision_log_buffered_bytes 4096",
      }));
}

TEST(RenderMetricsTest, WellFormed) {
  std::vector<std::string> lines = Lines(RenderMetrics(Sample()));
  std::set<std::string> families;
  std::string family, type;
  bool helped = false;
  for (const std::string& line : lines) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    if (absl::StartsWith(line, "# HELP ")) {
      family = words[2];
      EXPECT_TRUE(families.insert(family).second) << "repeated: " << family;
      EXPECT_TRUE(absl::StartsWith(family, "healthscore_")) << family;
      helped = true;
      type.clear();
      continue;
    }
    if (absl::StartsWith(line, "# TYPE ")) {
      EXPECT_TRUE(helped) << line;
      EXPECT_EQ(words[2], family) << line;
      type = words[3];
      EXPECT_THAT(type, ::testing::AnyOf("counter", "gauge", "histogram"));
      if (type == "counter") {
        EXPECT_TRUE(absl::EndsWith(family, "_total")) << family;
      } else {
        EXPECT_FALSE(absl::EndsWith(family, "_total")) << family;
      }
      helped = false;
      continue;
    }
    ASSERT_FALSE(type.empty()) << "sample before TYPE: " << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    if (type == "histogram") {
      EXPECT_THAT(name, ::testing::AnyOf(family + "_bucket", family + "_sum",
                                         family + "_count"));
    } else {
      EXPECT_EQ(name, family) << line;
    }
  }
  // docs/operations.md lists each; process_* (not in Sample()) besides.
  EXPECT_EQ(families.size(), 38u);
}

class MetricsServerTest : public ::testing::Test {
 protected:
  static MetricsServer::Render Fixed(std::string text) {
    return [text] { return text; };
  }
};

TEST_F(MetricsServerTest, ServesMetricsOnly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> server,
                       MetricsServer::Start({}, Fixed("x_total 1\n")));
  ASSERT_GT(server->port(), 0);
  EXPECT_EQ(server->address(), absl::StrCat("127.0.0.1:", server->port()));

  ASSERT_OK_AND_ASSIGN(HttpResponse ok, HttpGet(server->port(), "/metrics"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(ok.body, "x_total 1\n");
  ASSERT_OK_AND_ASSIGN(ok, HttpGet(server->port(), "/metrics?debug=1"));
  EXPECT_EQ(ok.status, 200);

  for (const char* path : {"/", "/nope", "/metrics/x", "/metricsx"}) {
    ASSERT_OK_AND_ASSIGN(HttpResponse missing, HttpGet(server->port(), path));
    EXPECT_EQ(missing.status, 404) << path;
  }
  ASSERT_OK_AND_ASSIGN(HttpResponse post,
                       HttpRequest(server->port(), "POST", "/metrics"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");

  server->Stop();
  server->Stop();  // idempotent
  EXPECT_THAT(HttpGet(server->port(), "/metrics").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connect")));
}

TEST_F(MetricsServerTest, RenderErrorIs500) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> server,
                       MetricsServer::Start({}, []() -> std::string {
                         throw std::runtime_error("boom");
                       }));
  ASSERT_OK_AND_ASSIGN(HttpResponse r, HttpGet(server->port(), "/metrics"));
  EXPECT_EQ(r.status, 500);
}

TEST_F(MetricsServerTest, StartErrors) {
  MetricsServerOptions options;
  options.address = "localhost";
  EXPECT_THAT(
      MetricsServer::Start(options, Fixed("")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("IPv4 address")));
  options.address = "127.0.0.1";
  options.port = 70000;
  EXPECT_THAT(MetricsServer::Start(options, Fixed("")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("between 0 and 65535")));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> first,
                       MetricsServer::Start({}, Fixed("")));
  options.port = first->port();
  EXPECT_THAT(MetricsServer::Start(options, Fixed("")),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("127.0.0.1:", first->port()))));
}

// A connection that never finishes its request is closed once the request
// timeout has passed, even while it keeps sending: so it holds a thread
// for a bounded time, and the scrape queued behind it is answered.
TEST_F(MetricsServerTest, TricklingRequestIsCutAtTheRequestTimeout) {
  MetricsServerOptions options;
  options.threads = 1;
  options.request_timeout = absl::Milliseconds(500);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsServer> server,
                       MetricsServer::Start(options, Fixed("x_total 1\n")));
  SlowClients slow(server->port(), /*idle=*/0, /*trickling=*/1,
                   absl::Milliseconds(100));
  ASSERT_TRUE(WaitFor([&] { return slow.bytes_sent() >= 2; }));
  ASSERT_OK_AND_ASSIGN(HttpResponse r, HttpGet(server->port(), "/metrics",
                                               /*timeout=*/absl::Seconds(5)));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(WaitFor([&] { return slow.closed_by_server() >= 1; }));
}

}  // namespace
}  // namespace healthscore::server
