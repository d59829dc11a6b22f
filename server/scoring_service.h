// ScoringService: the healthscore.v1.ScoringService callback handlers.
//
// Handlers run on gRPC's threads and only look up the model, check the
// request, admit it and hand it to a ScoreJob (score_job.h) on the
// Executor; no handler blocks. Request-level errors map to status codes in
// one place (status.h); per-account errors travel in the response.
//
// Requests are parsed by the service itself (request_parsing.h): a body
// that is not a valid ScoreRequest is answered INVALID_ARGUMENT saying what
// is wrong, and ends a stream the same way. Score requests and responses
// live on a per-call protobuf arena, so a large response is freed in one
// step.
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

  grpc::ServerUnaryReactor* Score(grpc::CallbackServerContext* context,
                                  const v1::ScoreRequest* request,
                                  v1::ScoreResponse* response) override;

  // ScoreStream: each batch arrives as bytes and is parsed by the reactor.
  grpc::ServerBidiReactor<grpc::ByteBuffer, v1::ScoreResponse>* OpenScoreStream(
      grpc::CallbackServerContext* context);

 private:
  Runtime* runtime_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SCORING_SERVICE_H_
