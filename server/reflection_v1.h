// ReflectionV1Service: grpc.reflection.v1.ServerReflection, served by
// gRPC's own v1alpha implementation.
//
// gRPC 1.51's reflection plugin serves only grpc.reflection.v1alpha; newer
// tools (buf curl, grpcurl >= 1.8.8, Postman) ask v1 first. The two
// versions differ only in their package: every message has the same fields
// with the same numbers, so a v1 message is a valid v1alpha message on the
// wire. This service therefore forwards each v1 stream, message by message,
// to the server's own v1alpha service over its in-process channel and
// relays the answers: one implementation (the descriptor pool, the service
// list, the error answers) behind both versions.
//
// Lifecycle: register the service with the builder, then SetBackend with
// the built server's in-process channel. A call before that, or when the
// server runs without v1alpha reflection, fails with UNAVAILABLE (resp.
// UNIMPLEMENTED from the backend).
//
// Also links the grpc.health.v1 and grpc.reflection.v1 descriptors (compiled
// from Debian's grpc-proto, proto/CMakeLists.txt) into the generated pool,
// which reflection describes: without them grpc.health.v1.Health, served by
// gRPC's built-in implementation, could be listed but not described.
//
// Thread-safety: SetBackend before the first call; calls run concurrently.

#ifndef HEALTHSCORE_SERVER_REFLECTION_V1_H_
#define HEALTHSCORE_SERVER_REFLECTION_V1_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpcpp/channel.h"

namespace healthscore::server {

class ReflectionV1Service final
    : public grpc::reflection::v1::ServerReflection::Service {
 public:
  ReflectionV1Service();

  // The channel to the server's v1alpha reflection (its in-process
  // channel).
  void SetBackend(std::shared_ptr<grpc::Channel> channel);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>*
          stream) override;

 private:
  absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> backend_ ABSL_GUARDED_BY(mu_);
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_REFLECTION_V1_H_
