// ScoreJob: scores one ScoreRequest into its ScoreResponse on the Executor.
//
// The batch is cut into chunks of options.rows_per_task rows; each chunk is
// one task that reads its rows once into an engine::AccountTable
// (convert.h; map-form accounts left serialised by ParseScoreRequest are
// parsed here, a chunk at a time), scores the table with
// engine::ScoreTable (the engine's one entry point: routes, strict value
// rules, a shadow candidate) and writes its part of the response already
// serialised (map-form results, columnar explanations). The last task to
// finish assembles the serialised response and calls `done`. So a call
// holds its request's bytes, one chunk's messages per thread, and its
// response's bytes, never a whole request or response as messages
// (issue 17). Chunks of one request run in parallel, so a large batch
// uses every scoring thread; results do not depend on the chunking because
// the engine scores every row independently.
//
// Segment routing: when the requested model's version has routes (and the
// request does not set ignore_routes), every account is scored by the model
// its route sends it to, and each result names that model
// (ScoreResponse.models). The models a request can reach, and for a
// columnar request the union of their tier, group and playbook ids, are
// resolved once per request in PrepareScoreJob, never per account.
//
// Shadow scoring: with ScoreRequest.shadow, ScoreTable also scores each
// chunk with the requested model and the candidate on their own (no
// routes; the requested model's scores are those of the response when no
// route applies), and the last task compares the chunks in request order
// (engine::ShadowComparison) into ScoreResponse.shadow.
//
// Before each chunk the job checks whether the call was cancelled or its
// deadline passed; once it was, the remaining chunks are skipped and `done`
// gets CANCELLED or DEADLINE_EXCEEDED.
//
// Each scoring thread keeps one AccountTable and one engine::TableScores
// and reuses them, so steady traffic allocates no engine buffers. (A thread
// keeps the last models it used alive until it scores with others; its
// table forgets its column names past AccountTable::kMaxKeptColumns.) Shadow chunks
// keep their scores until the comparison, so they take them from a
// process-wide pool of at most 64 and give them back after it (the pooled
// scores hold the last models they scored with until they are reused).

#ifndef HEALTHSCORE_SERVER_SCORE_JOB_H_
#define HEALTHSCORE_SERVER_SCORE_JOB_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"
#include "healthscore/v1/scoring.pb.h"
#include "server/convert.h"
#include "server/model_set.h"
#include "server/runtime.h"
#include "server/score_request.h"

namespace healthscore::server {

// The candidate of a shadow request (PrepareScoreJob). Immutable.
struct ShadowPlan;

struct ScoreJobSpec {
  ScoreJobSpec();
  ~ScoreJobSpec();
  ScoreJobSpec(ScoreJobSpec&&);
  ScoreJobSpec& operator=(ScoreJobSpec&&);

  // Must stay valid until `done` is called.
  const v1::ScoreRequest* request = nullptr;
  // The map-form accounts of `request` when they were left serialised
  // (ParseScoreRequest), else null: each chunk parses its own. Must stay
  // valid until `done` is called.
  const DeferredAccounts* deferred = nullptr;
  // The serialised v1::ScoreResponse, written when the job succeeds. The
  // chunks serialise their results as they score them, so no message ever
  // holds a whole request's results (issue 17).
  grpc::ByteBuffer* response = nullptr;
  // When set, called once on a scoring thread when the job no longer needs
  // `request` and `deferred` (every chunk scored or dropped), before the
  // response is assembled: the caller frees them there, so that a large
  // request and its response are not held at once.
  std::function<void()> request_done;
  // The call, for cancellation and its deadline.
  grpc::CallbackServerContext* context = nullptr;
  // The method, for the log line of an account that does not parse.
  absl::string_view rpc = "Score";
  // The caller's thread may score the job when it is small
  // (ServerOptions::inline_accounts): set by unary calls, whose thread has
  // nothing else to do for the call.
  bool may_run_inline = false;
  // The model set `model` was found in: keeps its routes alive.
  std::shared_ptr<const ModelSet> set;
  ModelRef model;
  // For a columnar request, its checked columns.
  std::optional<ColumnarPlan> plan;
  // The results go by column (ColumnarResults): a columnar request, or a
  // map-form one with ScoreOptions.columnar_results.
  bool columnar_results = false;
  // Set when the requested model's routes apply; owned by `set`
  // (ModelRef::route_plan).
  const RoutePlan* routes = nullptr;
  // Set for a shadow request.
  std::unique_ptr<const ShadowPlan> shadow;
  absl::Time arrived;
};

// Finds the model in `set` and checks the request as a whole against it,
// before admission. `deferred` (may be null) holds the request's map-form
// accounts when ParseScoreRequest left them serialised. Sets `*accounts` to
// the batch size. Errors: those of
// ModelSet::Find for the model and for a shadow candidate; InvalidArgument
// when the request carries both forms, more accounts than `max_accounts`
// (the message names the limit), or malformed columns.
absl::StatusOr<ScoreJobSpec> PrepareScoreJob(
    const v1::ScoreRequest& request, const DeferredAccounts* deferred,
    std::shared_ptr<const ModelSet> set, size_t max_accounts,
    size_t* accounts);
// The same for a request parsed whole.
absl::StatusOr<ScoreJobSpec> PrepareScoreJob(
    const v1::ScoreRequest& request, std::shared_ptr<const ModelSet> set,
    size_t max_accounts, size_t* accounts);

// Schedules the job on runtime->executor, or, for a small job that
// may_run_inline, runs it before returning. `done` is called exactly once,
// on the thread that scored the last chunk, after the response is complete
// (OK) or the job failed;
// the job touches neither the request nor the response afterwards. The
// caller has admitted the request and releases it in `done`.
void StartScoreJob(Runtime* runtime, ScoreJobSpec spec,
                   std::function<void(grpc::Status)> done);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SCORE_JOB_H_
