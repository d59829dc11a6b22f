// ScoreJob: scores one ScoreRequest into its ScoreResponse on the Executor.
//
// The batch is cut into chunks of options.rows_per_task rows; each chunk is
// one task that converts its rows into an engine Batch (convert.h), scores
// it with engine::Scorer and writes its part of the response. The last task
// to finish assembles the response and calls `done`. Chunks of one request
// run in parallel, so a large batch uses every scoring thread; results do
// not depend on the chunking because the engine scores every row
// independently.
//
// Before each chunk the job checks whether the call was cancelled or its
// deadline passed; once it was, the remaining chunks are skipped and `done`
// gets CANCELLED or DEADLINE_EXCEEDED.
//
// Each scoring thread keeps one Batch and BatchResult per thread and reuses
// them while requests use the same model, so steady traffic allocates no
// engine buffers. (A thread keeps the last model it used alive until it
// scores with another one.)

#ifndef HEALTHSCORE_SERVER_SCORE_JOB_H_
#define HEALTHSCORE_SERVER_SCORE_JOB_H_

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "healthscore/v1/scoring.pb.h"
#include "server/convert.h"
#include "server/model_set.h"
#include "server/runtime.h"

namespace healthscore::server {

struct ScoreJobSpec {
  // Must stay valid until `done` is called.
  const v1::ScoreRequest* request = nullptr;
  v1::ScoreResponse* response = nullptr;
  // Where response parts are allocated; the response's arena (may be null).
  google::protobuf::Arena* arena = nullptr;
  // The call, for cancellation and its deadline.
  grpc::CallbackServerContext* context = nullptr;
  ModelRef model;
  // For a columnar request, its plan (from CheckScoreRequest).
  std::optional<ColumnarPlan> plan;
  absl::Time arrived;
};

struct CheckedRequest {
  size_t accounts = 0;
  std::optional<ColumnarPlan> plan;  // set for a columnar request
};

// Checks the request as a whole against the model, before admission:
// InvalidArgument when it carries both forms, more accounts than
// `max_accounts` (the message names the limit), or malformed columns.
absl::StatusOr<CheckedRequest> CheckScoreRequest(
    const v1::ScoreRequest& request, const engine::CompiledModel& model,
    size_t max_accounts);

// Schedules the job on runtime->executor. `done` is called exactly once, on
// a scoring thread, after the response is complete (OK) or the job failed;
// the job touches neither the request nor the response afterwards. The
// caller has admitted the request and releases it in `done`.
void StartScoreJob(Runtime* runtime, ScoreJobSpec spec,
                   std::function<void(grpc::Status)> done);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SCORE_JOB_H_
