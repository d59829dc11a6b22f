#include "server/fleet.h"

#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FleetTest, ParsesTargets) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> targets,
                       ParseFleetTargets("10.0.0.1:50051, pod-b:50051,[::1]:1"));
  EXPECT_THAT(targets, ElementsAre("10.0.0.1:50051", "pod-b:50051", "[::1]:1"));
  EXPECT_THAT(ParseFleetTargets("a:1,,b:2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--targets: an empty entry in 'a:1,,b:2'")));
  EXPECT_THAT(ParseFleetTargets("a:1,a:1"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--targets: 'a:1' is given twice")));
  EXPECT_THAT(ParseFleetTargets("a"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--targets: expected HOST:PORT")));
  EXPECT_THAT(ParseFleetTargets("a:0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'a:0' has port 0")));
  std::string many;
  for (size_t i = 0; i <= kMaxFleetTargets; ++i) {
    many += (i ? ",h:" : "h:") + std::to_string(i + 1);
  }
  EXPECT_THAT(ParseFleetTargets(many),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than 256 replicas")));
}

FleetReplica Serving(const std::string& target, const std::string& version,
                     const std::string& hash, int failed = 0) {
  FleetReplica r;
  r.target = target;
  r.health = "SERVING";
  r.default_model = "default";
  r.models.push_back({"default", version, "v" + version, hash, failed});
  return r;
}

TEST(FleetTest, JudgesConsistency) {
  FleetReport report;
  report.replicas = {Serving("a:1", "2", "h2"), Serving("b:1", "2", "h2")};
  JudgeFleet(&report);
  EXPECT_TRUE(report.consistent);
  EXPECT_THAT(FormatFleetReport(report),
              HasSubstr("fleet: consistent: 2 replicas SERVING the same 1 "
                        "model (same versions and hashes)\n"));

  // Another version, a failed version, another default, NOT_SERVING, a
  // replica down, a model missing.
  report.replicas = {Serving("a:1", "2", "h2"), Serving("b:1", "1", "h1"),
                     Serving("c:1", "2", "h2", 1)};
  report.replicas[2].default_model = "other";
  report.replicas.push_back(Serving("d:1", "2", "h2"));
  report.replicas[3].health = "NOT_SERVING";
  report.replicas[3].models.push_back({"extra", "1", "1", "hx", 0});
  FleetReplica down;
  down.target = "e:1";
  down.status = absl::UnavailableError("health check: connection refused");
  report.replicas.push_back(down);
  JudgeFleet(&report);
  EXPECT_FALSE(report.consistent);
  EXPECT_THAT(
      report.problems,
      ElementsAre(
          "d:1 is NOT_SERVING, not SERVING",
          "e:1 could not be asked: health check: connection refused",
          "model default differs: version 1 hash h1 on b:1; version 2 hash h2 "
          "on a:1, d:1; version 2 hash h2, 1 failed version on c:1",
          "model extra differs: no such model on a:1, b:1, c:1; version 1 "
          "hash hx on d:1",
          "the default model differs: default on a:1, b:1, d:1; other on c:1"));
  const std::string text = FormatFleetReport(report);
  EXPECT_THAT(text, HasSubstr("e:1                    UNREACHABLE  health "
                              "check: connection refused\n"));
  EXPECT_THAT(text, HasSubstr("h2  (1 failed version)\n"));
  EXPECT_THAT(text,
              HasSubstr("fleet: INCONSISTENT: 5 problems over 5 replicas\n"));

  FleetReport empty;
  JudgeFleet(&empty);
  EXPECT_FALSE(empty.consistent);
}

}  // namespace
}  // namespace healthscore::server
