#include "server/reflection_v1.h"

#include <memory>
#include <utility>

#include "grpc/health/v1/health.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/sync_stream.h"

namespace healthscore::server {
namespace {

using V1Request = grpc::reflection::v1::ServerReflectionRequest;
using V1Response = grpc::reflection::v1::ServerReflectionResponse;

constexpr char kV1alphaMethod[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

}  // namespace

ReflectionV1Service::ReflectionV1Service() {
  // Referenced so that the linker keeps them and their descriptors are in
  // the generated pool reflection describes.
  grpc::health::v1::HealthCheckRequest::descriptor();
  V1Request::descriptor();
}

void ReflectionV1Service::SetBackend(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  backend_ = std::move(channel);
}

grpc::Status ReflectionV1Service::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<V1Response, V1Request>* stream) {
  std::shared_ptr<grpc::Channel> backend;
  {
    absl::MutexLock lock(&mu_);
    backend = backend_;
  }
  if (backend == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "server reflection is not ready yet");
  }
  // The v1alpha method called with the v1 message types: the same bytes on
  // the wire (see the header). This is what a generated stub does, with the
  // other method name.
  const grpc::internal::RpcMethod method(
      kV1alphaMethod, grpc::internal::RpcMethod::BIDI_STREAMING);
  grpc::ClientContext forward;
  // The client's deadline bounds the forwarded call too.
  forward.set_deadline(context->deadline());
  std::unique_ptr<grpc::ClientReaderWriter<V1Request, V1Response>> call(
      grpc::internal::ClientReaderWriterFactory<V1Request, V1Response>::Create(
          backend.get(), method, &forward));
  // v1alpha answers each request with exactly one response, in order.
  V1Request request;
  V1Response response;
  while (stream->Read(&request)) {
    if (!call->Write(request) || !call->Read(&response)) break;
    if (!stream->Write(response)) {
      forward.TryCancel();
      break;
    }
  }
  call->WritesDone();
  grpc::Status status = call->Finish();
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  return status;
}

}  // namespace healthscore::server
