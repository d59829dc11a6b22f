// GoogleTest matchers for absl::Status and absl::StatusOr (test-only).
//
// Abseil 20220623 has no status_matchers.h; this is the small subset the
// tests need:
//
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
//                                HasSubstr("line 12")));
//   EXPECT_THAT(statusor, IsOk());
//   ASSERT_OK(status);  ASSERT_OK_AND_ASSIGN(auto v, MakeV());

#ifndef HEALTHSCORE_ENGINE_COMMON_TESTING_STATUS_MATCHERS_H_
#define HEALTHSCORE_ENGINE_COMMON_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s =
      ::healthscore::engine::common::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& s =
      ::healthscore::engine::common::testing::GetStatus(arg);
  *result_listener << "status is " << s;
  if (s.code() != code) return false;
  return ::testing::ExplainMatchResult(message_matcher,
                                       std::string(s.message()),
                                       result_listener);
}

}  // namespace healthscore::engine::common::testing

#define HEALTHSCORE_TESTING_CONCAT_INNER_(a, b) a##b
#define HEALTHSCORE_TESTING_CONCAT_(a, b) HEALTHSCORE_TESTING_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) \
  ASSERT_THAT((expr), ::healthscore::engine::common::testing::IsOk())
#define EXPECT_OK(expr) \
  EXPECT_THAT((expr), ::healthscore::engine::common::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)                                 \
  auto HEALTHSCORE_TESTING_CONCAT_(statusor_, __LINE__) = (rexpr);       \
  ASSERT_THAT(HEALTHSCORE_TESTING_CONCAT_(statusor_, __LINE__).status(), \
              ::healthscore::engine::common::testing::IsOk());           \
  lhs = std::move(HEALTHSCORE_TESTING_CONCAT_(statusor_, __LINE__)).value()

#endif  // HEALTHSCORE_ENGINE_COMMON_TESTING_STATUS_MATCHERS_H_
