#include "server/admission.h"

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

TEST(AdmissionTest, CountsRequestsAccountsAndBytesUntilReleased) {
  Admission admission(10, 100, 1000);
  ASSERT_TRUE(admission.TryAdmit(5, 300).ok());
  ASSERT_TRUE(admission.TryAdmit(7, 200).ok());
  EXPECT_EQ(admission.requests(), 2u);
  EXPECT_EQ(admission.accounts(), 12u);
  EXPECT_EQ(admission.bytes(), 500u);
  admission.Release(5, 300);
  EXPECT_EQ(admission.requests(), 1u);
  EXPECT_EQ(admission.accounts(), 7u);
  EXPECT_EQ(admission.bytes(), 200u);
  admission.Release(7, 200);
  EXPECT_EQ(admission.bytes(), 0u);
}

TEST(AdmissionTest, BytesBeyondTheLimitAreRefusedNamingIt) {
  Admission admission(10, 100, 1000);
  ASSERT_TRUE(admission.TryAdmit(1, 600).ok());
  EXPECT_THAT(admission.TryAdmit(1, 401),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("server at capacity: 600 request bytes in "
                                 "progress, 401 more would exceed "
                                 "max_bytes_in_flight=1000; retry with "
                                 "backoff, or send smaller batches")));
  // A refusal admits nothing.
  EXPECT_EQ(admission.requests(), 1u);
  EXPECT_EQ(admission.accounts(), 1u);
  EXPECT_EQ(admission.bytes(), 600u);
  // Exactly up to the limit fits.
  EXPECT_TRUE(admission.TryAdmit(1, 400).ok());
  EXPECT_EQ(admission.bytes(), 1000u);
  admission.Release(1, 600);
  admission.Release(1, 400);
}

TEST(AdmissionTest, ARequestLargerThanTheWholeLimitIsRefusedAlone) {
  Admission admission(10, 100, 1000);
  EXPECT_THAT(admission.TryAdmit(1, 1001),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("0 request bytes in progress, 1001 more "
                                 "would exceed max_bytes_in_flight=1000")));
  EXPECT_EQ(admission.requests(), 0u);
}

TEST(AdmissionTest, RequestAndAccountLimitsStillApply) {
  Admission admission(1, 10, 1000);
  EXPECT_THAT(admission.TryAdmit(11, 1),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("11 more would exceed "
                                 "max_pending_accounts=10")));
  ASSERT_TRUE(admission.TryAdmit(1, 1).ok());
  EXPECT_THAT(admission.TryAdmit(1, 1),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("limit max_concurrent_requests=1")));
  admission.Release(1, 1);
}

}  // namespace
}  // namespace healthscore::server
