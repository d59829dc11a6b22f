// ScoringService: the healthscore.v1.ScoringService callback handlers.
//
// Handlers run on gRPC's threads and only look up the model, check the
// request, admit it and hand it to a ScoreJob (score_job.h) on the
// Executor; no handler blocks. Request-level errors map to status codes in
// one place (status.h); per-account errors travel in the response.
//
// Requests are parsed by the service itself (request_parsing.h,
// score_request.h): a body that is not a valid ScoreRequest is answered
// INVALID_ARGUMENT saying what is wrong, and ends a stream the same way.
// Map-form accounts stay serialised until their chunk is scored; Score
// requests and responses live on a per-call protobuf arena, so a large
// response is freed in one step.
//
// Thread-safety: gRPC calls the handlers concurrently; the service itself is
// stateless beyond the shared Runtime.

#ifndef HEALTHSCORE_SERVER_SCORING_SERVICE_H_
#define HEALTHSCORE_SERVER_SCORING_SERVICE_H_

#include "grpcpp/grpcpp.h"
#include "healthscore/v1/scoring.grpc.pb.h"
#include "server/request_parsing.h"
#include "server/runtime.h"

namespace healthscore::server {

class ScoringService final
    : public ParsedRequestService<v1::ScoringService::CallbackService> {
 public:
  // `runtime` must outlive the service.
  explicit ScoringService(Runtime* runtime);
  ~ScoringService() override;

  // Score: parses its own request (ParseScoreRequest, score_request.h), so
  // that the map-form accounts stay serialised until they are scored,
  // and that the job writes the response serialised (score_job.h).
  grpc::ServerUnaryReactor* ScoreCall(
      grpc::CallbackServerContext* context,
      UnaryCall<v1::ScoreRequest, grpc::ByteBuffer>* call,
      grpc::ByteBuffer* response);

  // ScoreStream: each batch arrives as bytes and is parsed by the reactor;
  // each response is written serialised.
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* OpenScoreStream(
      grpc::CallbackServerContext* context);

 private:
  Runtime* runtime_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SCORING_SERVICE_H_
