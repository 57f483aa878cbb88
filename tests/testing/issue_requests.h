// Recipients and IssueBatch requests that client and e2e tests build alike.
//
//   v1::IssueBatchRequest request = InviteRequest(3, "run-1");  // user0..2@example.com
#ifndef MAGICLINK_TESTS_TESTING_ISSUE_REQUESTS_H_
#define MAGICLINK_TESTS_TESTING_ISSUE_REQUESTS_H_

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink::testing {

inline constexpr char kWelcomeUrl[] = "http://localhost:3000/welcome";

// The i-th test recipient: user<i>@example.com.
inline std::string Email(size_t i) { return absl::StrCat("user", i, "@example.com"); }

// An "invite" batch to kWelcomeUrl for Email(0) .. Email(count - 1).
inline v1::IssueBatchRequest InviteRequest(size_t count, const std::string& request_id = "") {
  v1::IssueBatchRequest request;
  request.set_purpose("invite");
  request.set_redirect_url(kWelcomeUrl);
  request.set_request_id(request_id);
  for (size_t i = 0; i < count; ++i) request.add_recipients()->set_email(Email(i));
  return request;
}

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_TESTING_ISSUE_REQUESTS_H_
