// Errors as values: how magiclink's reasons ride on an absl::Status. The
// reasons themselves are defined once, as the enum magiclink.v1.ErrorReason in
// the API proto; core and store code build errors here, and the transport
// turns them into google.rpc.ErrorInfo / BadRequest in one place.
//
//   return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
//                          v1::TOKEN_EXPIRED, "the token has expired");
//   ...
//   ReasonOf(status);  // v1::TOKEN_EXPIRED
#ifndef MAGICLINK_SERVER_CORE_ERRORS_H_
#define MAGICLINK_SERVER_CORE_ERRORS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink {

// The ErrorInfo domain of every magiclink error.
inline constexpr char kErrorDomain[] = "magiclink.v1";

// One bad field of a request (google.rpc.BadRequest.FieldViolation).
struct FieldViolation {
  std::string field;        // e.g. "recipients[3].email"
  std::string description;  // why it is bad; never contains a token or key
  bool operator==(const FieldViolation& o) const {
    return field == o.field && description == o.description;
  }
};

// An error with a reason.
absl::Status ErrorWithReason(absl::StatusCode code, v1::ErrorReason reason,
                             absl::string_view message);

// INVALID_ARGUMENT (reason INVALID_REQUEST) listing every violation.
absl::Status InvalidRequest(const std::vector<FieldViolation>& violations);

// The reason a caller is told for `status`: the one attached with
// ErrorWithReason, else the one for its code (DEADLINE_EXCEEDED, ABORTED, ...;
// INTERNAL for a code without its own); ERROR_REASON_UNSPECIFIED when OK.
v1::ErrorReason ReasonOf(const absl::Status& status);

// The violations attached to `status` (empty when none).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// UNAVAILABLE with reason STORE_UNAVAILABLE.
absl::Status StoreUnavailable(absl::string_view message);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_ERRORS_H_
