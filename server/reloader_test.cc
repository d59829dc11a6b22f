#include "server/reloader.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
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

// Hooks whose reload blocks while `hold` is set, and counts what ran.
struct FakeRepository {
  absl::Mutex mu;
  bool hold ABSL_GUARDED_BY(mu) = false;
  int reloads_started ABSL_GUARDED_BY(mu) = 0;
  // Stop blocking once the budget is cancelled (an engine that checks
  // its budget); false: ignore it (a load stuck where nothing checks).
  bool honour_cancel = true;
  std::atomic<int> polls{0};
  std::atomic<int> loads_started{0};
  std::atomic<bool> saw_cancel{false};
  absl::Status load_status;

  // Blocks while held (and, when honoured, until cancelled).
  void Block(const WorkBudget& budget) {
    absl::MutexLock lock(&mu);
    auto released = [this, &budget]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return !hold || (honour_cancel && budget.cancelled.load());
    };
    while (!released()) {
      mu.AwaitWithTimeout(absl::Condition(&released), absl::Milliseconds(5));
    }
    if (budget.cancelled.load()) saw_cancel = true;
  }

  void Hold(bool on) {
    absl::MutexLock lock(&mu);
    hold = on;
  }
  int started() {
    absl::MutexLock lock(&mu);
    return reloads_started;
  }
};

// The hooks share the repository, so that a job the Reloader abandoned
// still finds it after the test's scope ends.
Reloader::Hooks HooksOf(std::shared_ptr<FakeRepository> repo) {
  Reloader::Hooks hooks;
  hooks.load = [repo](const WorkBudget& budget) {
    ++repo->loads_started;
    repo->Block(budget);
    return repo->load_status;
  };
  hooks.reload = [repo](const WorkBudget& budget) {
    int generation;
    {
      absl::MutexLock lock(&repo->mu);
      generation = ++repo->reloads_started;
    }
    repo->Block(budget);
    engine::repository::ReloadResult r;
    r.published = true;
    r.generation = static_cast<uint64_t>(generation);
    return r;
  };
  hooks.poll = [repo](const WorkBudget&) { ++repo->polls; };
  return hooks;
}

// Collects the results handed to ReloadDone callbacks.
struct Answers {
  absl::Mutex mu;
  std::vector<engine::repository::ReloadResult> results ABSL_GUARDED_BY(mu);
  Reloader::ReloadDone Callback() {
    return [this](const engine::repository::ReloadResult& r) {
      absl::MutexLock lock(&mu);
      results.push_back(r);
    };
  }
  size_t count() {
    absl::MutexLock lock(&mu);
    return results.size();
  }
  std::vector<engine::repository::ReloadResult> Get() {
    absl::MutexLock lock(&mu);
    return results;
  }
};

TEST(ReloaderTest, RequestsDuringAReloadMakeExactlyOneMoreRun) {
  auto repo = std::make_shared<FakeRepository>();
  Reloader reloader;
  reloader.Start(HooksOf(repo), absl::ZeroDuration());
  repo->Hold(true);
  Answers first, later;
  EXPECT_TRUE(reloader.RequestReload(first.Callback()));
  ASSERT_TRUE(WaitFor([&] { return repo->started() == 1; }));
  // A burst of requests while the first reload runs: the first of them
  // queues a reload, the others join it.
  EXPECT_TRUE(reloader.RequestReload(later.Callback()));
  for (int i = 0; i < 99; ++i) {
    EXPECT_FALSE(reloader.RequestReload(later.Callback()));
  }
  EXPECT_FALSE(reloader.RequestReload(nullptr));
  repo->Hold(false);
  ASSERT_TRUE(WaitFor([&] { return later.count() == 100; }));
  ASSERT_EQ(first.count(), 1u);
  EXPECT_EQ(first.Get()[0].generation, 1u);
  // Every later request got the one reload that started after it.
  for (const engine::repository::ReloadResult& r : later.Get()) {
    EXPECT_OK(r.status);
    EXPECT_EQ(r.generation, 2u);
  }
  EXPECT_EQ(repo->started(), 2);
  EXPECT_TRUE(reloader.Stop(absl::InfiniteFuture()));
  const Reloader::Stats stats = reloader.stats();
  EXPECT_EQ(stats.reloads, 2u);
  EXPECT_EQ(stats.requests, 102u);
}

TEST(ReloaderTest, FirstLoadRunsFirstThenTheWatcherPolls) {
  auto repo = std::make_shared<FakeRepository>();
  Reloader reloader;
  reloader.Start(HooksOf(repo), absl::Milliseconds(1));
  repo->Hold(true);
  absl::Notification loaded;
  absl::Status load_status = absl::UnknownError("not called");
  reloader.Load([&](const absl::Status& s) {
    load_status = s;
    loaded.Notify();
  });
  EXPECT_TRUE(reloader.loading_first());
  Answers answers;
  // Queued behind the first load, which has not finished.
  reloader.RequestReload(answers.Callback());
  EXPECT_EQ(repo->polls.load(), 0);
  repo->Hold(false);
  loaded.WaitForNotification();
  EXPECT_OK(load_status);
  EXPECT_FALSE(reloader.loading_first());
  ASSERT_TRUE(WaitFor([&] { return answers.count() == 1; }));
  // Once loaded, the watcher polls while idle.
  ASSERT_TRUE(WaitFor([&] { return repo->polls.load() >= 3; }));
  EXPECT_TRUE(reloader.Stop(absl::InfiniteFuture()));
}

TEST(ReloaderTest, NoWatcherAfterAFailedFirstLoad) {
  auto repo = std::make_shared<FakeRepository>();
  repo->load_status = absl::FailedPreconditionError("nothing compiled");
  Reloader reloader;
  reloader.Start(HooksOf(repo), absl::Milliseconds(1));
  absl::Notification loaded;
  reloader.Load([&](const absl::Status& s) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                            HasSubstr("nothing compiled")));
    loaded.Notify();
  });
  loaded.WaitForNotification();
  // Reloads still run on request (the server's reload then reports that
  // no repository is open).
  Answers answers;
  reloader.RequestReload(answers.Callback());
  ASSERT_TRUE(WaitFor([&] { return answers.count() == 1; }));
  EXPECT_EQ(repo->polls.load(), 0);
  EXPECT_TRUE(reloader.Stop(absl::InfiniteFuture()));
}

// Stop cancels the reload in progress; one that honours the cancellation
// ends, and its callers and those queued behind it learn that the server
// is shutting down.
TEST(ReloaderTest, StopCancelsTheReloadInProgress) {
  auto repo = std::make_shared<FakeRepository>();
  Reloader reloader;
  reloader.Start(HooksOf(repo), absl::ZeroDuration());
  repo->Hold(true);
  Answers running, queued;
  reloader.RequestReload(running.Callback());
  ASSERT_TRUE(WaitFor([&] { return repo->started() == 1; }));
  reloader.RequestReload(queued.Callback());
  EXPECT_TRUE(reloader.Stop(absl::InfiniteFuture()));
  EXPECT_TRUE(repo->saw_cancel.load());
  ASSERT_EQ(running.count(), 1u);
  EXPECT_THAT(running.Get()[0].status,
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("the reload in progress was abandoned")));
  ASSERT_EQ(queued.count(), 1u);
  EXPECT_THAT(queued.Get()[0].status,
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("the reload was not run")));
  EXPECT_EQ(repo->started(), 1);
  // After Stop, requests are answered at once.
  Answers late;
  EXPECT_FALSE(reloader.RequestReload(late.Callback()));
  ASSERT_EQ(late.count(), 1u);
  EXPECT_THAT(late.Get()[0].status,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not run")));
}

// A reload that ignores its budget is abandoned at Stop's deadline: Stop
// returns, its caller is answered, and the Reloader may go away while the
// abandoned reload still runs.
TEST(ReloaderTest, StopAbandonsAReloadThatDoesNotStop) {
  auto repo = std::make_shared<FakeRepository>();
  repo->honour_cancel = false;
  Answers running;
  {
    Reloader reloader;
    reloader.Start(HooksOf(repo), absl::ZeroDuration());
    repo->Hold(true);
    reloader.RequestReload(running.Callback());
    ASSERT_TRUE(WaitFor([&] { return repo->started() == 1; }));
    EXPECT_FALSE(reloader.Stop(absl::Now() + absl::Milliseconds(20)));
    ASSERT_EQ(running.count(), 1u);
    EXPECT_THAT(
        running.Get()[0].status,
        StatusIs(absl::StatusCode::kUnavailable, HasSubstr("abandoned")));
    EXPECT_FALSE(reloader.Stop(absl::Now()));  // idempotent
  }
  // The abandoned reload ends later, with its budget cancelled, on state
  // that outlived the Reloader.
  repo->Hold(false);
  ASSERT_TRUE(WaitFor([&] { return repo->saw_cancel.load(); }));
}

TEST(ReloaderTest, StopAbandonsTheFirstLoad) {
  auto repo = std::make_shared<FakeRepository>();
  repo->honour_cancel = false;
  absl::Notification answered;
  absl::Status load_status;
  {
    Reloader reloader;
    reloader.Start(HooksOf(repo), absl::ZeroDuration());
    repo->Hold(true);
    reloader.Load([&](const absl::Status& s) {
      load_status = s;
      answered.Notify();
    });
    EXPECT_TRUE(reloader.loading_first());
    ASSERT_TRUE(WaitFor([&] { return repo->loads_started.load() == 1; }));
    EXPECT_FALSE(reloader.Stop(absl::Now()));
    ASSERT_TRUE(answered.HasBeenNotified());
    EXPECT_THAT(load_status,
                StatusIs(absl::StatusCode::kUnavailable,
                         HasSubstr("the model load in progress was "
                                   "abandoned")));
    EXPECT_FALSE(reloader.loading_first());
  }
  repo->Hold(false);
}

}  // namespace
}  // namespace healthscore::server
