#include "server/rpc_metrics.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "healthscore/v1/scoring.pb.h"
#include "server/metrics.h"

namespace healthscore::server {
namespace {

using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

TEST(RpcMetricsTest, MethodLabelsAreBoundedToKnownMethods) {
  // Linked, so the descriptors are in the pool.
  v1::ScoreRequest::descriptor();
  EXPECT_EQ(RpcMetrics::MethodLabel("/healthscore.v1.ScoringService/Score"),
            "healthscore.v1.ScoringService/Score");
  for (const char* path :
       {"/healthscore.v1.ScoringService/Nope", "/x.Y/Z", "", "/", "//",
        "/healthscore.v1.ScoringService/", "no-slash",
        "/healthscore.v1.ScoringService.Score"}) {
    EXPECT_EQ(RpcMetrics::MethodLabel(path), "unknown") << path;
  }
  EXPECT_EQ(RpcMetrics::MethodLabel(std::string(300, 'a')), "unknown");
}

TEST(RpcMetricsTest, RecordsByMethodAndCode) {
  RpcMetrics m;
  m.Record("/healthscore.v1.ScoringService/Score", grpc::StatusCode::OK,
           absl::Microseconds(50));
  m.Record("/healthscore.v1.ScoringService/Score", grpc::StatusCode::OK,
           absl::Milliseconds(3));
  m.Record("/healthscore.v1.ScoringService/Score",
           grpc::StatusCode::NOT_FOUND, absl::Microseconds(10));
  m.Record("/x.Y/Z", grpc::StatusCode::UNIMPLEMENTED, absl::Microseconds(1));
  m.Record("/x.Y/W", grpc::StatusCode::UNIMPLEMENTED, absl::Microseconds(1));
  m.Record("/x.Y/W", static_cast<grpc::StatusCode>(99), absl::Microseconds(1));
  std::vector<RpcMetrics::Entry> s = m.Snapshot();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].method, "healthscore.v1.ScoringService/Score");
  EXPECT_EQ(s[0].code, "OK");
  EXPECT_EQ(s[0].duration.count(), 2u);
  EXPECT_EQ(s[0].duration.sum_micros, 3050u);
  EXPECT_EQ(s[1].code, "NOT_FOUND");
  EXPECT_EQ(s[2].method, "unknown");
  EXPECT_EQ(s[2].code, "UNKNOWN");  // 99 is no gRPC code
  EXPECT_EQ(s[3].code, "UNIMPLEMENTED");
  EXPECT_EQ(s[3].duration.count(), 2u);
}

TEST(RpcMetricsTest, ModelAccountsAddUp) {
  ModelAccounts a;
  a.Add("default", "2", 3);
  a.Add("default", "2", 4);
  a.Add("big", "1", 1);
  auto s = a.Snapshot();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].first.first, "big");
  EXPECT_EQ(s[1].second, 7u);
}

TEST(RpcMetricsTest, ProcessStatsAreRead) {
  ProcessStats p = ReadProcessStats();
  EXPECT_GE(p.cpu_seconds, 0);
  EXPECT_GT(p.resident_memory_bytes, 0);
  EXPECT_GE(p.virtual_memory_bytes, p.resident_memory_bytes);
  EXPECT_GE(p.open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GT(p.start_time_seconds, 1.7e9);
  EXPECT_LE(p.start_time_seconds,
            absl::ToUnixSeconds(absl::Now()) + 1);
}

TEST(RpcMetricsTest, Rendered) {
  MetricsSnapshot s;
  RpcMetrics m;
  m.Record("/healthscore.v1.ScoringService/Score", grpc::StatusCode::OK,
           absl::Microseconds(200));
  s.rpcs = m.Snapshot();
  s.model_accounts = {{{"default", "2"}, 5}};
  s.process.cpu_seconds = 1.5;
  s.process.open_fds = 12;
  const std::string text = RenderMetrics(s);
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  const std::string labels =
      "method=\"healthscore.v1.ScoringService/Score\",code=\"OK\"";
  EXPECT_THAT(
      lines,
      IsSupersetOf(std::vector<std::string>{
          "# TYPE healthscore_grpc_requests_total counter",
          "healthscore_grpc_requests_total{" + labels + "} 1",
          "# TYPE healthscore_grpc_request_duration_seconds histogram",
          "healthscore_grpc_request_duration_seconds_bucket{" + labels +
              ",le=\"0.0001\"} 0",
          "healthscore_grpc_request_duration_seconds_bucket{" + labels +
              ",le=\"0.00025\"} 1",
          "healthscore_grpc_request_duration_seconds_bucket{" + labels +
              ",le=\"+Inf\"} 1",
          "healthscore_grpc_request_duration_seconds_sum{" + labels +
              "} 0.0002",
          "healthscore_grpc_request_duration_seconds_count{" + labels +
              "} 1",
          "healthscore_model_accounts_total{model=\"default\",version=\"2\"} 5",
          "# TYPE process_cpu_seconds_total counter",
          "process_cpu_seconds_total 1.5",
          "process_open_fds 12",
      }));
  // Unreadable fields (-1) are left out rather than reported as -1.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("process_max_fds")));
}

}  // namespace
}  // namespace healthscore::server
