#include "server/scoring_service.h"

#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/arena.h"
#include "server/log.h"
#include "server/score_job.h"
#include "server/status.h"

namespace healthscore::server {
namespace {

using v1::ScoreRequest;
using v1::ScoreResponse;

// Looks up the model and checks the request; no admission yet.
absl::StatusOr<ScoreJobSpec> Prepare(Runtime* runtime,
                                     const ScoreRequest& request,
                                     const DeferredAccounts& deferred,
                                     size_t* accounts) {
  std::shared_ptr<const ModelSet> set = runtime->models.Current();
  if (set == nullptr) {
    return absl::UnavailableError("the server is still loading its models");
  }
  return PrepareScoreJob(request, &deferred, std::move(set),
                         runtime->options.max_accounts_per_request, accounts);
}

void LogRejected(Runtime* runtime, absl::string_view rpc,
                 const grpc::CallbackServerContext* context,
                 const absl::Status& status) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    runtime->counters.rejected_capacity.fetch_add(1, std::memory_order_relaxed);
  } else {
    runtime->counters.rejected_invalid.fetch_add(1, std::memory_order_relaxed);
  }
  LogEvery(LogLevel::kWarning,
           absl::StrCat(rpc, ":", absl::StatusCodeToString(status.code())),
           absl::StrCat(rpc, " from ", context->peer(), " failed: ",
                        absl::StatusCodeToString(status.code()), ": ",
                        status.message()));
}

// Score's reactor: enters the CallGate (the call is refused when that
// fails), counts cancellations; Finish is called by the job.
class ScoreReactor : public grpc::ServerUnaryReactor {
 public:
  explicit ScoreReactor(Runtime* runtime)
      : runtime_(runtime), accepted_(runtime->calls.TryEnter()) {}
  bool accepted() const { return accepted_; }
  void OnCancel() override {
    runtime_->counters.cancelled.fetch_add(1, std::memory_order_relaxed);
  }
  void OnDone() override {
    if (accepted_) runtime_->calls.Exit();
    delete this;
  }

 private:
  Runtime* const runtime_;
  const bool accepted_;
};

// A ScoreStream refused by the CallGate (UNAVAILABLE) or the Authorizer:
// answers at once.
class RefusedStreamReactor
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStreamReactor(grpc::Status status = ShuttingDownStatus()) {
    Finish(std::move(status));
  }
  void OnDone() override { delete this; }
};

// ScoreStream: reads batches, scores up to max_stream_batches_in_flight of
// them at once, and writes their responses in request order, one write at a
// time.
//
// All decisions are taken under mu_; the resulting gRPC calls (StartRead,
// StartWrite, Finish) and job starts are issued after unlocking, because
// gRPC may run a reaction inline inside a Start call. `issuing_` counts
// calls decided but not yet issued; Finish waits for it to drop to zero so
// that no Start call can follow Finish (after which the reactor may be
// deleted).
class ScoreStreamReactor
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  ScoreStreamReactor(Runtime* runtime, grpc::CallbackServerContext* context)
      : runtime_(runtime),
        context_(context),
        max_in_flight_(static_cast<size_t>(
            runtime->options.max_stream_batches_in_flight)) {
    runtime_->counters.streams.fetch_add(1, std::memory_order_relaxed);
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      DecideRead(&a);
    }
    Issue(std::move(a));
  }

  void OnReadDone(bool ok) override {
    const absl::Time arrived = absl::Now();
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      read_outstanding_ = false;
      std::unique_ptr<Slot> slot = std::move(reading_);
      if (!ok) {
        reads_done_ = true;
      } else if (finished_ || cancelled_ || !stop_.ok() || !failed_.ok()) {
        // After an error or cancellation nothing more is scored.
      } else if (absl::Status parsed = ParseScoreRequest(
                     slot->body, slot->request, &slot->deferred);
                 !parsed.ok()) {
        const absl::Status status(
            parsed.code(),
            absl::StrCat("batch ", batches_read_ + 1, ": ", parsed.message()));
        LogUnparsedRequest(runtime_, "ScoreStream", context_, status);
        stop_ = ToGrpcStatus(status);
      } else {
        const size_t bytes = slot->body.Length();
        slot->body.Clear();  // parsed: only the request is needed now
        ++batches_read_;
        size_t accounts = 0;
        absl::StatusOr<ScoreJobSpec> spec =
            Prepare(runtime_, *slot->request, slot->deferred, &accounts);
        absl::Status admitted =
            spec.ok() ? runtime_->admission.TryAdmit(accounts, bytes)
                      : spec.status();
        if (!admitted.ok()) {
          LogRejected(runtime_, "ScoreStream", context_, admitted);
          stop_ = ToGrpcStatus(runtime_->ForClient(admitted));
        } else {
          runtime_->counters.stream_batches.fetch_add(
              1, std::memory_order_relaxed);
          slot->accounts = accounts;
          slot->bytes = bytes;
          spec->response = &slot->response;
          spec->request_done = [s = slot.get()] {
            s->request = nullptr;
            s->deferred.Clear();
            s->arena.Reset();
          };
          spec->context = context_;
          spec->rpc = "ScoreStream";
          spec->arrived = arrived;
          a.job_slot = slot.get();
          a.job_spec.emplace(std::move(spec).value());
          ++issuing_;
          in_flight_.push_back(std::move(slot));
          if (in_flight_.size() < max_in_flight_) DecideRead(&a);
        }
      }
      Pump(&a);
    }
    Issue(std::move(a));
  }

  void OnWriteDone(bool ok) override {
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      write_outstanding_ = false;
      in_flight_.pop_front();
      if (!ok) {
        // The client is gone; the call is being cancelled.
        cancelled_ = true;
      }
      if (!read_outstanding_ && !reads_done_ && !cancelled_ && stop_.ok() &&
          failed_.ok() && !finished_ && in_flight_.size() < max_in_flight_) {
        DecideRead(&a);
      }
      Pump(&a);
    }
    Issue(std::move(a));
  }

  void OnCancel() override {
    runtime_->counters.cancelled.fetch_add(1, std::memory_order_relaxed);
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      Pump(&a);
    }
    Issue(std::move(a));
  }

  // The caller has entered the CallGate for this call.
  void OnDone() override {
    runtime_->calls.Exit();
    delete this;
  }

 private:
  struct Slot {
    Slot() : arena(CallArenaOptions()) {
      request = google::protobuf::Arena::CreateMessage<ScoreRequest>(&arena);
    }
    google::protobuf::Arena arena;
    grpc::ByteBuffer body;  // the batch as read, parsed into `request`
    ScoreRequest* request;
    // The request's map-form accounts, serialised (score_request.h).
    DeferredAccounts deferred;
    grpc::ByteBuffer response;  // serialised by the job
    size_t accounts = 0;
    size_t bytes = 0;  // the batch's serialised size, as admitted
    bool done = false;
    grpc::Status status;
  };

  // gRPC calls and job starts decided under the lock, issued after it.
  struct Actions {
    grpc::ByteBuffer* read = nullptr;
    const grpc::ByteBuffer* write = nullptr;
    Slot* job_slot = nullptr;
    std::optional<ScoreJobSpec> job_spec;
    std::optional<grpc::Status> finish;
    bool empty() const {
      return read == nullptr && write == nullptr && job_slot == nullptr &&
             !finish.has_value();
    }
  };

  void DecideRead(Actions* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reading_ = std::make_unique<Slot>();
    read_outstanding_ = true;
    ++issuing_;
    a->read = &reading_->body;
  }

  // Writes the next finished response, drops responses after a failure, and
  // finishes the call when nothing is left.
  void Pump(Actions* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    while (!write_outstanding_ && !in_flight_.empty() &&
           in_flight_.front()->done) {
      Slot* front = in_flight_.front().get();
      if (!front->status.ok() && failed_.ok()) failed_ = front->status;
      if (cancelled_ || !failed_.ok()) {
        in_flight_.pop_front();
        continue;
      }
      write_outstanding_ = true;
      ++issuing_;
      a->write = &front->response;
      return;
    }
    if (in_flight_.empty() && !write_outstanding_ && issuing_ == 0 &&
        (reads_done_ || cancelled_ || !stop_.ok() || !failed_.ok())) {
      finished_ = true;
      a->finish = cancelled_       ? grpc::Status::CANCELLED
                  : !failed_.ok() ? failed_
                                  : stop_;
    }
  }

  void OnJobDone(Slot* slot, grpc::Status status) {
    runtime_->admission.Release(slot->accounts, slot->bytes);
    Actions a;
    {
      absl::MutexLock lock(&mu_);
      slot->done = true;
      slot->status = std::move(status);
      Pump(&a);
    }
    Issue(std::move(a));
  }

  // Issues the actions, then re-examines the state (an action may have
  // completed inline), until there is nothing left to do. The only action
  // after which `this` is not touched again is Finish.
  void Issue(Actions a) {
    while (!a.empty()) {
      if (a.finish.has_value()) {
        Finish(std::move(*a.finish));
        return;
      }
      int issued = 0;
      if (a.job_slot != nullptr) {
        Slot* slot = a.job_slot;
        StartScoreJob(runtime_, std::move(*a.job_spec),
                      [this, slot](grpc::Status s) {
                        OnJobDone(slot, std::move(s));
                      });
        ++issued;
      }
      if (a.read != nullptr) {
        StartRead(a.read);
        ++issued;
      }
      if (a.write != nullptr) {
        StartWrite(a.write);
        ++issued;
      }
      Actions next;
      {
        absl::MutexLock lock(&mu_);
        issuing_ -= issued;
        Pump(&next);
      }
      a = std::move(next);
    }
  }

  Runtime* const runtime_;
  grpc::CallbackServerContext* const context_;
  const size_t max_in_flight_;

  absl::Mutex mu_;
  // The slot the outstanding read fills.
  std::unique_ptr<Slot> reading_ ABSL_GUARDED_BY(mu_);
  // Admitted batches in request order; the front is the next to write.
  std::deque<std::unique_ptr<Slot>> in_flight_ ABSL_GUARDED_BY(mu_);
  bool read_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  bool write_outstanding_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  int issuing_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches read and parsed, for messages naming a batch.
  int64_t batches_read_ ABSL_GUARDED_BY(mu_) = 0;
  // A batch that could not be admitted: the stream ends with this status
  // once the batches before it are written.
  grpc::Status stop_ ABSL_GUARDED_BY(mu_);
  // A batch whose scoring failed: it and every later batch are dropped and
  // the stream ends with this status.
  grpc::Status failed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

ScoringService::ScoringService(Runtime* runtime)
    : ParsedRequestService(v1::ScoringService::service_full_name(), runtime),
      runtime_(runtime) {
  ReadRawUnaryRequestsOf<ScoreRequest, ScoreResponse>(
      "Score", this, &ScoringService::ScoreCall);
  ReadRawRequestsOf<ScoreRequest, ScoreResponse>(
      "ScoreStream", this, &ScoringService::OpenScoreStream);
}

ScoringService::~ScoringService() = default;

grpc::ServerUnaryReactor* ScoringService::ScoreCall(
    grpc::CallbackServerContext* context,
    UnaryCall<ScoreRequest, grpc::ByteBuffer>* call,
    grpc::ByteBuffer* response) {
  const absl::Time arrived = absl::Now();
  auto* reactor = new ScoreReactor(runtime_);
  if (!reactor->accepted()) {
    reactor->Finish(ShuttingDownStatus());
    return reactor;
  }
  if (absl::Status denied =
          AuthorizeCall(runtime_->auth, AuthScope::kScoring, "Score", *context);
      !denied.ok()) {
    reactor->Finish(ToGrpcStatus(denied));
    return reactor;
  }
  // The map-form accounts stay serialised until their chunk is scored;
  // the deferred bytes live on the call's arena with the parsed request,
  // and the job frees both before it assembles the response.
  auto* deferred =
      google::protobuf::Arena::Create<DeferredAccounts>(call->arena());
  const absl::Status parsed =
      ParseScoreRequest(call->body(), call->parsed(), deferred);
  if (!parsed.ok()) {
    LogUnparsedRequest(runtime_, "Score", context, parsed);
    reactor->Finish(ToGrpcStatus(parsed));
    return reactor;
  }
  const size_t bytes = call->body().Length();
  call->ClearBody();
  const ScoreRequest* request = call->parsed();
  size_t accounts = 0;
  absl::StatusOr<ScoreJobSpec> spec =
      Prepare(runtime_, *request, *deferred, &accounts);
  absl::Status admitted =
      spec.ok() ? runtime_->admission.TryAdmit(accounts, bytes)
                : spec.status();
  if (!admitted.ok()) {
    LogRejected(runtime_, "Score", context, admitted);
    reactor->Finish(ToGrpcStatus(runtime_->ForClient(admitted)));
    return reactor;
  }
  runtime_->counters.requests.fetch_add(1, std::memory_order_relaxed);
  spec->response = response;
  spec->request_done = [call] { call->FreeArena(); };
  spec->context = context;
  spec->arrived = arrived;
  spec->may_run_inline = true;
  Runtime* runtime = runtime_;
  StartScoreJob(runtime_, std::move(spec).value(),
                [runtime, reactor, accounts, bytes](grpc::Status status) {
                  runtime->admission.Release(accounts, bytes);
                  reactor->Finish(std::move(status));
                });
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
ScoringService::OpenScoreStream(grpc::CallbackServerContext* context) {
  if (absl::Status denied = AuthorizeCall(runtime_->auth, AuthScope::kScoring,
                                          "ScoreStream", *context);
      !denied.ok()) {
    return new RefusedStreamReactor(ToGrpcStatus(denied));
  }
  if (!runtime_->calls.TryEnter()) return new RefusedStreamReactor;
  return new ScoreStreamReactor(runtime_, context);
}

}  // namespace healthscore::server
