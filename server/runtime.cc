#include "server/runtime.h"

#include <thread>
#include <utility>

#include "absl/time/clock.h"

namespace healthscore::server {

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

Executor::Executor(int threads) : pool_(threads < 1 ? 1 : threads) {}

Executor::~Executor() { ReleaseForTest(); }

void Executor::Submit(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (hold_) {
      held_.push_back(std::move(fn));
      return;
    }
  }
  pool_.Schedule(std::move(fn));
}

void Executor::RunHere(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (hold_) {
      held_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void Executor::HoldForTest() {
  absl::MutexLock lock(&mu_);
  hold_ = true;
}

void Executor::ReleaseForTest() {
  std::vector<std::function<void()>> held;
  {
    absl::MutexLock lock(&mu_);
    hold_ = false;
    held.swap(held_);
  }
  for (auto& fn : held) pool_.Schedule(std::move(fn));
}

size_t Executor::HeldTasksForTest() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

bool CallGate::TryEnter() {
  absl::MutexLock lock(&mu_);
  if (closed_) {
    ++refused_;
    return false;
  }
  ++open_;
  return true;
}

void CallGate::Exit() {
  absl::MutexLock lock(&mu_);
  --open_;
}

void CallGate::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

int64_t CallGate::AwaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return open_ == 0;
  };
  mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
  return open_;
}

int64_t CallGate::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

uint64_t CallGate::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

grpc::Status ShuttingDownStatus() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "the server is shutting down and accepts no new "
                      "calls; retry, on another replica if there is one");
}

Runtime::Runtime(const ServerOptions& o)
    : options(o),
      paths(o.models_dir, o.plugins_dir),
      admission(o.max_concurrent_requests, o.max_pending_accounts,
                o.max_bytes_in_flight),
      auth(Authorizer::Options{o.admin_token_file,
                               SplitSanList(o.admin_allow_san),
                               o.auth_token_file,
                               o.allow_unauthenticated_admin}),
      started(absl::Now()),
      validations(o.max_concurrent_validations),
      executor(ResolveThreads(o.threads)) {}

ServerStats Runtime::Stats() const {
  ServerStats s;
  s.requests = counters.requests.load();
  s.streams = counters.streams.load();
  s.stream_batches = counters.stream_batches.load();
  s.accounts_scored = counters.accounts_scored.load();
  s.accounts_failed = counters.accounts_failed.load();
  s.values_dropped = counters.values_dropped.load();
  s.rejected_capacity = counters.rejected_capacity.load();
  s.rejected_invalid = counters.rejected_invalid.load();
  s.cancelled = counters.cancelled.load();
  s.dropped = counters.dropped.load();
  s.open_calls = calls.open();
  s.refused_shutting_down = calls.refused();
  s.validations_running = validations.running();
  s.validations_timed_out = counters.validations_timed_out.load();
  s.auth_admin = auth.failures(AuthScope::kAdmin);
  s.auth_scoring = auth.failures(AuthScope::kScoring);
  s.requests_in_progress = admission.requests();
  s.accounts_in_progress = admission.accounts();
  s.request_bytes_in_progress = admission.bytes();
  return s;
}

}  // namespace healthscore::server
