// Conversion of engine statuses to gRPC statuses.
//
// The one place where an absl::Status becomes a grpc::Status. The codes map
// one to one (absl::StatusCode and grpc::StatusCode share their numbering
// and meaning); the message is kept as is.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_SERVER_STATUS_H_
#define HEALTHSCORE_SERVER_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace healthscore::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients and tests that want absl matchers.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_STATUS_H_
