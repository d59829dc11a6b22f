// ModelService: the healthscore.v1.ModelService callback handlers.
//
// ListModels and GetModel read the pinned model snapshot and answer on the
// calling gRPC thread (no I/O, no waiting).
//
// ValidateModel compiles whatever YAML a client sends, so it is bounded on
// every side: a text over options.max_model_bytes is refused with
// RESOURCE_EXHAUSTED before any parsing; the compile runs on the
// ValidationLane (its own threads, at most
// options.max_concurrent_validations at once, never a scoring thread), and
// past options.validation_timeout the call answers DEADLINE_EXCEEDED and
// the compile is abandoned. After a large validation the process returns
// freed memory to the system (glibc malloc_trim), so one large call does
// not leave the server holding its peak.
//
// Reload queues a reload on the reload thread (reloader.h) and answers
// with its outcome.
//
// Every handler enters the CallGate first: once the server is shutting
// down, calls are answered UNAVAILABLE.
//
// Thread-safety: gRPC calls the handlers concurrently; the service keeps no
// state beyond the shared Runtime.

#ifndef HEALTHSCORE_SERVER_MODEL_SERVICE_H_
#define HEALTHSCORE_SERVER_MODEL_SERVICE_H_

#include <memory>
#include <string>

#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "grpcpp/grpcpp.h"
#include "healthscore/v1/model.grpc.pb.h"
#include "server/request_parsing.h"
#include "server/runtime.h"

namespace healthscore::server {

class ModelService final
    : public ParsedRequestService<v1::ModelService::CallbackService> {
 public:
  // `runtime` must outlive the service. Requests are parsed by the service
  // (request_parsing.h): one that does not parse is answered
  // INVALID_ARGUMENT and never reaches the methods below.
  explicit ModelService(Runtime* runtime)
      : ParsedRequestService(v1::ModelService::service_full_name(), runtime),
        runtime_(runtime) {
    ParseRequestsOf("ListModels", this, &ModelService::ListModels);
    ParseRequestsOf("GetModel", this, &ModelService::GetModel);
    ParseRequestsOf("ValidateModel", this, &ModelService::ValidateModel);
    ParseRequestsOf("Reload", this, &ModelService::Reload);
  }

  grpc::ServerUnaryReactor* ListModels(
      grpc::CallbackServerContext* context,
      const v1::ListModelsRequest* request,
      v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* GetModel(grpc::CallbackServerContext* context,
                                     const v1::GetModelRequest* request,
                                     v1::GetModelResponse* response) override;
  grpc::ServerUnaryReactor* ValidateModel(
      grpc::CallbackServerContext* context,
      const v1::ValidateModelRequest* request,
      v1::ValidateModelResponse* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;

 private:
  Runtime* runtime_;
};

// Describes a compiled model: what a client needs to build a request.
void DescribeModel(const engine::model::CompiledModel& model,
                   const std::string& version, v1::GetModelResponse* out);

void ToProto(const engine::model::Diagnostic& diagnostic, v1::Diagnostic* out);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_MODEL_SERVICE_H_
