// Errors as values: the reasons magiclink reports and how they ride on an
// absl::Status. Core and store code build errors here; the transport turns
// them into google.rpc.ErrorInfo / BadRequest in one place.
//
//   return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
//                          kReasonTokenExpired, "the token has expired");
//   ...
//   ErrorReason(status);  // "TOKEN_EXPIRED"
#ifndef MAGICLINK_SERVER_CORE_ERRORS_H_
#define MAGICLINK_SERVER_CORE_ERRORS_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"

namespace magiclink {

// The ErrorInfo domain of every magiclink error.
inline constexpr char kErrorDomain[] = "magiclink.v1";

// Reasons (google.rpc.ErrorInfo.reason), one per distinct failure.
inline constexpr char kReasonInvalidRequest[] = "INVALID_REQUEST";
inline constexpr char kReasonTokenNotFound[] = "TOKEN_NOT_FOUND";
inline constexpr char kReasonTokenExpired[] = "TOKEN_EXPIRED";
inline constexpr char kReasonTokenAlreadyUsed[] = "TOKEN_ALREADY_USED";
inline constexpr char kReasonTokenRevoked[] = "TOKEN_REVOKED";
inline constexpr char kReasonPurposeMismatch[] = "PURPOSE_MISMATCH";
inline constexpr char kReasonBatchNotFound[] = "BATCH_NOT_FOUND";
inline constexpr char kReasonRequestIdConflict[] = "REQUEST_ID_CONFLICT";
inline constexpr char kReasonStoreUnavailable[] = "STORE_UNAVAILABLE";
inline constexpr char kReasonInternal[] = "INTERNAL";
// No or unknown credentials (UNAUTHENTICATED).
inline constexpr char kReasonUnauthenticated[] = "UNAUTHENTICATED";
// A known caller outside what it is allowed (PERMISSION_DENIED): the scope the
// RPC needs, the purpose it names, the redirect URL it asks for.
inline constexpr char kReasonScopeNotGranted[] = "SCOPE_NOT_GRANTED";
inline constexpr char kReasonPurposeNotAllowed[] = "PURPOSE_NOT_ALLOWED";
inline constexpr char kReasonRedirectNotAllowed[] = "REDIRECT_NOT_ALLOWED";

// One bad field of a request (google.rpc.BadRequest.FieldViolation).
struct FieldViolation {
  std::string field;        // e.g. "recipients[3].email"
  std::string description;  // why it is bad; never contains a token or key
  bool operator==(const FieldViolation& o) const {
    return field == o.field && description == o.description;
  }
};

// An error with a reason.
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view reason,
                             absl::string_view message);

// INVALID_ARGUMENT (reason INVALID_REQUEST) listing every violation.
absl::Status InvalidRequest(const std::vector<FieldViolation>& violations);

// The reason attached to `status`; "" when there is none.
std::string ErrorReason(const absl::Status& status);

// The violations attached to `status` (empty when none).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// UNAVAILABLE with reason STORE_UNAVAILABLE.
absl::Status StoreUnavailable(absl::string_view message);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_ERRORS_H_
