#include "server/status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace healthscore::server {

// absl::StatusCode and grpc::StatusCode are both the canonical google.rpc
// codes, 0 (OK) to 16 (UNAUTHENTICATED); the static_asserts keep the cast
// honest should either library ever diverge.
static_assert(static_cast<int>(absl::StatusCode::kNotFound) ==
              static_cast<int>(grpc::StatusCode::NOT_FOUND));
static_assert(static_cast<int>(absl::StatusCode::kResourceExhausted) ==
              static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
              static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));

namespace {

// The message, cut so that its grpc-message encoding (RFC 3986 percent
// encoding of every byte outside 0x20-0x7E, and of '%') fits the budget.
std::string BoundedMessage(absl::string_view message) {
  constexpr absl::string_view kSuffix = "… (message truncated, ";
  size_t encoded = 0;
  size_t cut = message.size();
  // Room for the suffix (itself encoded: "…" is three escaped bytes).
  constexpr size_t kBudget = kMaxStatusMessageBytes - 64;
  for (size_t i = 0; i < message.size(); ++i) {
    const auto byte = static_cast<unsigned char>(message[i]);
    encoded += byte < 0x20 || byte > 0x7E || byte == '%' ? 3 : 1;
    if (encoded > kBudget) {
      cut = i;
      break;
    }
  }
  if (cut == message.size()) return std::string(message);
  // Back to the start of the UTF-8 sequence the cut fell in.
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat(message.substr(0, cut), kSuffix, message.size(),
                      " bytes)");
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  int code = static_cast<int>(status.code());
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) {
    code = static_cast<int>(grpc::StatusCode::UNKNOWN);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code),
                      BoundedMessage(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace healthscore::server
