// ModelService: the healthscore.v1.ModelService callback handlers.
//
// ListModels and GetModel read the pinned model snapshot and answer on the
// calling gRPC thread (no I/O, no waiting). ValidateModel compiles YAML, which
// can take milliseconds, so it runs on the Executor like scoring, under the
// same admission limits.
//
// Thread-safety: gRPC calls the handlers concurrently; the service keeps no
// state beyond the shared Runtime.

#ifndef HEALTHSCORE_SERVER_MODEL_SERVICE_H_
#define HEALTHSCORE_SERVER_MODEL_SERVICE_H_

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
  // Runs ModelStore::Reload on its own thread (never on a scoring thread),
  // counted as an open call so shutdown waits for it.
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;

 private:
  Runtime* runtime_;
};

// Describes a compiled model: what a client needs to build a request.
void DescribeModel(const engine::CompiledModel& model,
                   const std::string& version, v1::GetModelResponse* out);

void ToProto(const engine::Diagnostic& diagnostic, v1::Diagnostic* out);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_MODEL_SERVICE_H_
