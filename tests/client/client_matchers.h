// Matchers for client errors: the exact code and ErrorInfo reason, as the
// caller's code would see them through magiclink::client::Error.
//
//   EXPECT_THAT(client.Consume(token),
//               ClientErrorIs(absl::StatusCode::kFailedPrecondition, magiclink::v1::TOKEN_ALREADY_USED));
#ifndef MAGICLINK_TESTS_CLIENT_CLIENT_MATCHERS_H_
#define MAGICLINK_TESTS_CLIENT_CLIENT_MATCHERS_H_

#include <gmock/gmock.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "magiclink/client/error.h"

namespace magiclink::client::testing {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER_P2(ClientErrorIs, code, reason,
           std::string(negation ? "is not" : "is") + " " + absl::StatusCodeToString(code) +
               " with reason '" + ::magiclink::v1::ErrorReason_Name(reason) + "'") {
  const absl::Status& status = StatusOf(arg);
  const Error error(status);
  *result_listener << "status is " << status << " with reason '" << error.reason() << "'";
  return status.code() == code && error.known_reason() == reason;
}

MATCHER_P(ClientCodeIs, code,
          std::string(negation ? "has no" : "has") + " code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = StatusOf(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

}  // namespace magiclink::client::testing

#endif  // MAGICLINK_TESTS_CLIENT_CLIENT_MATCHERS_H_
