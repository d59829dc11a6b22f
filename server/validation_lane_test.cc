#include "server/validation_lane.h"

#include <atomic>
#include <functional>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::healthscore::server::testing::WaitFor;
using ::testing::HasSubstr;

// A job that runs until `release` is notified (or, with honour_cancel,
// until its budget is cancelled).
struct BlockingJob {
  absl::Notification release;
  std::atomic<bool> honour_cancel{true};
  std::atomic<int> returned{0};
  std::atomic<int> expired{0};

  ValidationLane::Job Make(absl::Time deadline = absl::InfiniteFuture()) {
    ValidationLane::Job job;
    job.budget = std::make_shared<WorkBudget>(deadline);
    job.run = [this](const WorkBudget& budget) {
      while (!release.WaitForNotificationWithTimeout(absl::Milliseconds(2))) {
        if (honour_cancel.load() && budget.cancelled.load()) break;
      }
      ++returned;
      return std::function<void()>();
    };
    job.on_expired = [this] { ++expired; };
    return job;
  }
};

TEST(ValidationLaneTest, RunsAtMostMaxRunningJobs) {
  ValidationLane lane(2);
  BlockingJob job;
  ASSERT_OK(lane.TryStart(job.Make()));
  ASSERT_OK(lane.TryStart(job.Make()));
  EXPECT_EQ(lane.running(), 2);
  EXPECT_THAT(lane.TryStart(job.Make()),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("2 validations in progress (limit "
                                 "max_concurrent_validations=2); retry with "
                                 "backoff")));
  job.release.Notify();
  ASSERT_TRUE(WaitFor([&] { return lane.running() == 0; }));
  EXPECT_EQ(job.returned.load(), 2);
  EXPECT_EQ(job.expired.load(), 0);
  EXPECT_OK(lane.TryStart(job.Make()));
  EXPECT_EQ(lane.Stop(absl::InfiniteFuture()), 0);
}

// What a job returns runs after its place is free: a client answered
// there that calls again at once is never refused for its own finished job.
TEST(ValidationLaneTest, AJobsAnswerRunsAfterItsPlaceIsFree) {
  ValidationLane lane(1);
  BlockingJob next;
  absl::Notification answered;
  absl::Status again = absl::UnknownError("not run");
  ValidationLane::Job job;
  job.budget = std::make_shared<WorkBudget>(absl::InfiniteFuture());
  job.run = [&](const WorkBudget&) -> std::function<void()> {
    return [&] {
      again = lane.TryStart(next.Make());
      answered.Notify();
    };
  };
  ASSERT_OK(lane.TryStart(std::move(job)));
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_OK(again);
  next.release.Notify();
  EXPECT_EQ(lane.Stop(absl::InfiniteFuture()), 0);
  EXPECT_EQ(next.returned.load(), 1);
}

// At its deadline a job is cancelled and its caller told at once; the job
// keeps its place until its code returns, so work that ignores the budget
// cannot pile up.
TEST(ValidationLaneTest, ExpiresAJobAtItsDeadline) {
  ValidationLane lane(1);
  BlockingJob job;
  job.honour_cancel = false;
  ValidationLane::Job j = job.Make(absl::Now() + absl::Milliseconds(20));
  std::shared_ptr<WorkBudget> budget = j.budget;
  ASSERT_OK(lane.TryStart(std::move(j)));
  ASSERT_TRUE(WaitFor([&] { return job.expired.load() == 1; }));
  EXPECT_TRUE(budget->cancelled.load());
  EXPECT_TRUE(budget->Exhausted());
  EXPECT_EQ(lane.running(), 1);
  EXPECT_EQ(lane.overdue(), 1);
  EXPECT_THAT(lane.TryStart(job.Make()),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("1 of them past their time budget and "
                                 "still stopping")));
  job.release.Notify();
  ASSERT_TRUE(WaitFor([&] { return lane.running() == 0; }));
  EXPECT_EQ(lane.overdue(), 0);
  EXPECT_EQ(job.expired.load(), 1);  // once
  EXPECT_EQ(lane.Stop(absl::InfiniteFuture()), 0);
}

TEST(ValidationLaneTest, AJobThatEndsInTimeDoesNotExpire) {
  ValidationLane lane(1);
  BlockingJob job;
  job.release.Notify();
  ASSERT_OK(lane.TryStart(job.Make(absl::Now() + absl::Seconds(60))));
  ASSERT_TRUE(WaitFor([&] { return lane.running() == 0; }));
  EXPECT_EQ(lane.Stop(absl::InfiniteFuture()), 0);
  EXPECT_EQ(job.expired.load(), 0);
}

TEST(ValidationLaneTest, StopCancelsJobsAndReportsTheAbandoned) {
  BlockingJob stops, stuck;
  stuck.honour_cancel = false;
  {
    ValidationLane lane(2);
    ASSERT_OK(lane.TryStart(stops.Make()));
    ASSERT_OK(lane.TryStart(stuck.Make()));
    // The job that checks its budget ends; the other is abandoned.
    EXPECT_EQ(lane.Stop(absl::Now() + absl::Milliseconds(50)), 1);
    EXPECT_EQ(stops.returned.load(), 1);
    EXPECT_THAT(
        lane.TryStart(stops.Make()),
        StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shutting down")));
  }
  // The lane is gone; the abandoned job still ends safely.
  stuck.release.Notify();
  ASSERT_TRUE(WaitFor([&] { return stuck.returned.load() == 1; }));
}

}  // namespace
}  // namespace healthscore::server
