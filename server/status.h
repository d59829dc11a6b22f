// Conversion of engine statuses to gRPC statuses.
//
// The one place where an absl::Status becomes a grpc::Status. The codes map
// one to one (absl::StatusCode and grpc::StatusCode share their numbering
// and meaning); the message is kept as is up to kMaxStatusMessageBytes.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_SERVER_STATUS_H_
#define HEALTHSCORE_SERVER_STATUS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace healthscore::server {

// A status message travels percent-encoded in the grpc-message trailer
// (every byte outside printable ASCII, and '%', takes three), and clients
// refuse metadata over 8 KB by default: a longer message would turn any
// error into RESOURCE_EXHAUSTED on the client. Echoes of client input are
// already short (engine/common/display.h); this is the backstop for long
// lists of model errors: a message whose encoding would exceed this is cut
// at a character boundary and ends with "… (message truncated, N bytes)".
inline constexpr size_t kMaxStatusMessageBytes = 4096;

grpc::Status ToGrpcStatus(const absl::Status& status);

// The inverse, for clients and tests that want absl matchers.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_STATUS_H_
