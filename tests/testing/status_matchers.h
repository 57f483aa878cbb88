// GoogleTest matchers for absl::Status / absl::StatusOr (abseil 20220623 has
// none), checking the exact code. reason_matchers.h adds the magiclink reason;
// this header stays free of the API's generated code so that the crypto tests
// can also be built against BoringSSL.
//
//   EXPECT_THAT(service.Verify(in), StatusIs(absl::StatusCode::kNotFound));
//   ASSERT_OK(status);
#ifndef MAGICLINK_TESTS_TESTING_STATUS_MATCHERS_H_
#define MAGICLINK_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace magiclink::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P(StatusIs, code,
          std::string(negation ? "has no" : "has") + " status code " +
              absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

}  // namespace magiclink::testing

#define ASSERT_OK(expr) ASSERT_TRUE(::magiclink::testing::GetStatus(expr).ok()) \
    << ::magiclink::testing::GetStatus(expr)
#define EXPECT_OK(expr) EXPECT_TRUE(::magiclink::testing::GetStatus(expr).ok()) \
    << ::magiclink::testing::GetStatus(expr)

#endif  // MAGICLINK_TESTS_TESTING_STATUS_MATCHERS_H_
