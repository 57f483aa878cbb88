// StatusIs(code, reason): the exact code and magiclink.v1.ErrorReason of an
// absl::Status / absl::StatusOr built by server code (core/errors.h).
//
//   EXPECT_THAT(result, StatusIs(absl::StatusCode::kFailedPrecondition,
//                                magiclink::v1::TOKEN_EXPIRED));
#ifndef MAGICLINK_TESTS_TESTING_REASON_MATCHERS_H_
#define MAGICLINK_TESTS_TESTING_REASON_MATCHERS_H_

#include <string>

#include "server/core/errors.h"
#include "tests/testing/status_matchers.h"

namespace magiclink::testing {

MATCHER_P2(StatusIs, code, reason,
           std::string(negation ? "is not" : "is") + " " + absl::StatusCodeToString(code) +
               " with reason " + ::magiclink::v1::ErrorReason_Name(reason)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status << " with reason '"
                   << ::magiclink::v1::ErrorReason_Name(ReasonOf(status)) << "'";
  return status.code() == code && ReasonOf(status) == reason;
}

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_TESTING_REASON_MATCHERS_H_
