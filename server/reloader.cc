#include "server/reloader.h"

#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace healthscore::server {
namespace {

enum class Job { kNone, kLoad, kReload, kPoll };

engine::repository::ReloadResult Unavailable(const char* message) {
  engine::repository::ReloadResult result;
  result.status = absl::UnavailableError(message);
  return result;
}

constexpr char kNotRun[] =
    "the server is shutting down: the reload was not run";
constexpr char kAbandonedReload[] =
    "the server is shutting down: the reload in progress was abandoned";
constexpr char kAbandonedLoad[] =
    "the server is shutting down: the model load in progress was abandoned";

}  // namespace

struct Reloader::State {
  Hooks hooks;
  absl::Duration poll_interval = absl::ZeroDuration();

  absl::Mutex mu;
  std::thread thread ABSL_GUARDED_BY(mu);
  bool started ABSL_GUARDED_BY(mu) = false;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  // Stop gave up waiting for the job in progress and answered its callers.
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  bool exited ABSL_GUARDED_BY(mu) = false;  // Run returned

  bool load_queued ABSL_GUARDED_BY(mu) = false;
  bool loading ABSL_GUARDED_BY(mu) = false;  // Load called, not finished
  bool loaded ABSL_GUARDED_BY(mu) = false;   // the first load succeeded
  LoadDone load_done ABSL_GUARDED_BY(mu);

  bool reload_queued ABSL_GUARDED_BY(mu) = false;
  std::vector<ReloadDone> queued ABSL_GUARDED_BY(mu);

  Job running ABSL_GUARDED_BY(mu) = Job::kNone;
  std::shared_ptr<WorkBudget> budget ABSL_GUARDED_BY(mu);
  // The requests the reload in progress answers.
  std::vector<ReloadDone> running_waiters ABSL_GUARDED_BY(mu);
  absl::Time next_poll ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();
  Stats stats ABSL_GUARDED_BY(mu);

  bool polling() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return loaded && hooks.poll && poll_interval > absl::ZeroDuration();
  }
};

Reloader::Reloader() : state_(std::make_shared<State>()) {}

Reloader::~Reloader() { Stop(absl::Now()); }

void Reloader::Start(Hooks hooks, absl::Duration poll_interval) {
  absl::MutexLock lock(&state_->mu);
  if (state_->started || state_->stopping) return;
  state_->hooks = std::move(hooks);
  state_->poll_interval = poll_interval;
  state_->started = true;
  state_->thread = std::thread(Run, state_);
}

void Reloader::Load(LoadDone done) {
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->started && !state_->stopping && !state_->loading &&
        !state_->loaded) {
      state_->load_queued = true;
      state_->loading = true;
      state_->load_done = std::move(done);
      return;
    }
  }
  if (done) done(absl::UnavailableError(kAbandonedLoad));
}

bool Reloader::RequestReload(ReloadDone done) {
  {
    absl::MutexLock lock(&state_->mu);
    ++state_->stats.requests;
    if (state_->started && !state_->stopping) {
      const bool fresh = !state_->reload_queued;
      state_->reload_queued = true;
      if (done) state_->queued.push_back(std::move(done));
      return fresh;
    }
  }
  if (done) done(Unavailable(kNotRun));
  return false;
}

bool Reloader::loading_first() const {
  absl::MutexLock lock(&state_->mu);
  return state_->loading;
}

Reloader::Stats Reloader::stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

void Reloader::Run(std::shared_ptr<State> s) {
  absl::MutexLock lock(&s->mu);
  State* state = s.get();
  auto wake = [state]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
    return state->stopping || state->load_queued || state->reload_queued;
  };
  for (;;) {
    s->mu.AwaitWithDeadline(
        absl::Condition(&wake),
        s->polling() ? s->next_poll : absl::InfiniteFuture());
    if (s->stopping) break;
    Job job = Job::kNone;
    if (s->load_queued) {
      job = Job::kLoad;
      s->load_queued = false;
    } else if (s->reload_queued) {
      job = Job::kReload;
      s->reload_queued = false;
      s->running_waiters = std::move(s->queued);
      s->queued.clear();
      ++s->stats.reloads;
    } else if (s->polling() && absl::Now() >= s->next_poll) {
      job = Job::kPoll;
      ++s->stats.polls;
    } else {
      continue;
    }
    auto budget = std::make_shared<WorkBudget>();
    s->budget = budget;
    s->running = job;

    s->mu.Unlock();
    absl::Status load_status;
    engine::repository::ReloadResult result;
    switch (job) {
      case Job::kLoad:
        load_status = s->hooks.load(*budget);
        break;
      case Job::kReload:
        result = s->hooks.reload(*budget);
        break;
      case Job::kPoll:
        s->hooks.poll(*budget);
        break;
      case Job::kNone:
        break;
    }
    s->mu.Lock();

    s->running = Job::kNone;
    s->budget.reset();
    if (s->abandoned) break;  // Stop answered this job's callers
    // A job cut short by Stop answers as Stop would have.
    const bool cut = s->stopping && budget->cancelled.load();
    LoadDone load_done;
    std::vector<ReloadDone> waiters;
    if (job == Job::kLoad) {
      s->loading = false;
      s->loaded = load_status.ok();
      load_done = std::move(s->load_done);
      s->load_done = nullptr;
      if (cut) load_status = absl::UnavailableError(kAbandonedLoad);
    } else if (job == Job::kReload) {
      waiters = std::move(s->running_waiters);
      s->running_waiters.clear();
      if (cut) result = Unavailable(kAbandonedReload);
    }
    if (s->polling()) s->next_poll = absl::Now() + s->poll_interval;
    if (load_done || !waiters.empty()) {
      s->mu.Unlock();
      if (load_done) load_done(load_status);
      for (ReloadDone& done : waiters) done(result);
      s->mu.Lock();
    }
  }
  s->exited = true;
}

bool Reloader::Stop(absl::Time deadline) {
  State* s = state_.get();
  std::vector<ReloadDone> not_run, abandoned;
  LoadDone load_done;
  std::thread thread;
  bool ended = false;
  {
    absl::MutexLock lock(&s->mu);
    if (!s->stopping) {
      s->stopping = true;
      if (s->budget != nullptr) s->budget->cancelled.store(true);
      not_run = std::move(s->queued);
      s->queued.clear();
      s->reload_queued = false;
      if (s->load_queued) {
        s->load_queued = false;
        s->loading = false;
        load_done = std::move(s->load_done);
        s->load_done = nullptr;
      }
    }
    // An idle thread (no job running) sees `stopping` before it could take
    // another job (Run checks it under mu), so it ends promptly and is
    // joined whatever the deadline: only a job in progress can be abandoned.
    // Without this a zero grace abandoned an idle reloader.
    auto done = [s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
      return s->exited || s->running == Job::kNone;
    };
    if (s->started) s->mu.AwaitWithDeadline(absl::Condition(&done), deadline);
    ended = !s->started || s->exited || s->running == Job::kNone;
    if (!ended && !s->abandoned) {
      s->abandoned = true;
      abandoned = std::move(s->running_waiters);
      s->running_waiters.clear();
      if (s->loading) {
        s->loading = false;
        load_done = std::move(s->load_done);
        s->load_done = nullptr;
      }
    }
    thread.swap(s->thread);
  }
  for (ReloadDone& done : not_run) done(Unavailable(kNotRun));
  for (ReloadDone& done : abandoned) done(Unavailable(kAbandonedReload));
  if (load_done) load_done(absl::UnavailableError(kAbandonedLoad));
  if (thread.joinable()) {
    if (ended) {
      thread.join();
    } else {
      thread.detach();
    }
  }
  return ended;
}

}  // namespace healthscore::server
