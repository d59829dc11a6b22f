#include "server/status.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(StatusTest, CodesMapOneToOneAndKeepTheMessage) {
  struct Case {
    absl::Status in;
    grpc::StatusCode out;
  };
  const Case cases[] = {
      {absl::NotFoundError("m"), grpc::StatusCode::NOT_FOUND},
      {absl::InvalidArgumentError("m"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::ResourceExhaustedError("m"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::FailedPreconditionError("m"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::UnavailableError("m"), grpc::StatusCode::UNAVAILABLE},
      {absl::DeadlineExceededError("m"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::CancelledError("m"), grpc::StatusCode::CANCELLED},
      {absl::InternalError("m"), grpc::StatusCode::INTERNAL},
      {absl::UnauthenticatedError("m"), grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const Case& c : cases) {
    grpc::Status s = ToGrpcStatus(c.in);
    EXPECT_EQ(s.error_code(), c.out) << c.in;
    EXPECT_EQ(s.error_message(), "m");
    EXPECT_EQ(FromGrpcStatus(s), c.in);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusTest, LongMessagesAreCutToFitTheTrailer) {
  // A list of model errors can be long; the client must still get the code.
  const std::string ascii(100000, 'e');
  grpc::Status s = ToGrpcStatus(absl::FailedPreconditionError(ascii));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_LE(s.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_THAT(s.error_message(), StartsWith("eeee"));
  EXPECT_THAT(s.error_message(),
              EndsWith("… (message truncated, 100000 bytes)"));

  // Bytes outside printable ASCII take three when encoded: the budget is
  // the encoded size, and the cut keeps whole characters.
  std::string wide;
  for (int i = 0; i < 5000; ++i) wide += "é";
  s = ToGrpcStatus(absl::NotFoundError(wide));
  const std::string& m = s.error_message();
  EXPECT_LE(m.size() * 3, kMaxStatusMessageBytes + 3 * 40);
  const size_t kept = m.find("…");
  ASSERT_NE(kept, std::string::npos);
  EXPECT_EQ(kept % 2, 0u);  // whole "é"s only
  EXPECT_EQ(m.substr(0, kept), wide.substr(0, kept));

  // At the limit nothing changes.
  const std::string fits(kMaxStatusMessageBytes - 64, 'x');
  EXPECT_EQ(ToGrpcStatus(absl::InternalError(fits)).error_message(), fits);
}

}  // namespace
}  // namespace healthscore::server
