// Typed errors for the magiclink client. Every call returns an absl::Status
// (or absl::StatusOr); a failed one carries the server's google.rpc.Status
// details, which `Error` decodes: the gRPC code, the message, the one
// google.rpc.ErrorInfo (reason, domain, metadata) and, for INVALID_ARGUMENT,
// the google.rpc.BadRequest field violations. The reasons are the values of
// the enum magiclink.v1.ErrorReason (magic_link_service.pb.h).
//
//   absl::StatusOr<v1::VerifyResponse> claims = client.Consume(token);
//   if (!claims.ok()) {
//     const Error error(claims.status());
//     if (error.known_reason() == v1::TOKEN_ALREADY_USED) ShowAlreadyUsedPage();
//     for (const FieldViolation& v : error.field_violations()) ...
//   }
//
// In tests with MockConnection, MakeError() builds the same kind of status
// the real connection returns.
#ifndef MAGICLINK_CLIENT_ERROR_H_
#define MAGICLINK_CLIENT_ERROR_H_

#include <grpcpp/support/status.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink::client {

// The ErrorInfo domain of every magiclink error.
inline constexpr char kErrorDomain[] = "magiclink.v1";

// The absl::Status payload type URL under which the serialized
// google.rpc.Status (the grpc-status-details-bin trailer) travels.
inline constexpr char kStatusDetailsTypeUrl[] = "type.googleapis.com/google.rpc.Status";

// One bad field of a request (google.rpc.BadRequest.FieldViolation), e.g.
// field "recipients[1500].email", description "the address has no '@'".
struct FieldViolation {
  std::string field;
  std::string description;

  bool operator==(const FieldViolation& other) const {
    return field == other.field && description == other.description;
  }
};

// A decoded failure. Cheap to build from any absl::Status; an OK status or
// one without details gives empty reason, domain, metadata and violations.
class Error {
 public:
  explicit Error(const absl::Status& status);

  // The gRPC status code (numerically equal to absl::StatusCode).
  grpc::StatusCode code() const { return code_; }
  // The human-readable message; never contains a token or an API key.
  const std::string& message() const { return message_; }
  // google.rpc.ErrorInfo.reason, e.g. "TOKEN_ALREADY_USED"; "" when absent
  // (for example when the server could not be reached at all).
  const std::string& reason() const { return reason_; }
  // reason() as the generated enum; ERROR_REASON_UNSPECIFIED when absent or
  // unknown to this version of the client (reason() still has the text).
  v1::ErrorReason known_reason() const;
  // google.rpc.ErrorInfo.domain, "magiclink.v1" for server errors.
  const std::string& domain() const { return domain_; }
  // google.rpc.ErrorInfo.metadata.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // google.rpc.BadRequest.field_violations, in the server's order.
  const std::vector<FieldViolation>& field_violations() const { return field_violations_; }

 private:
  grpc::StatusCode code_;
  std::string message_;
  std::string reason_;
  std::string domain_;
  std::map<std::string, std::string> metadata_;
  std::vector<FieldViolation> field_violations_;
};

// Shorthand for Error(status).known_reason().
v1::ErrorReason ReasonOf(const absl::Status& status);

// Builds a failed status the way the connection reports a server error: one
// ErrorInfo (domain kErrorDomain) and, when `violations` is not empty, one
// BadRequest. For tests with MockConnection and for errors the client itself
// detects before calling the server. `code` must not be kOk.
absl::Status MakeError(absl::StatusCode code, absl::string_view message, v1::ErrorReason reason,
                       const std::map<std::string, std::string>& metadata = {},
                       const std::vector<FieldViolation>& violations = {});

// Converts a grpc::Status into an absl::Status, keeping the rich error
// details (grpc-status-details-bin) as the kStatusDetailsTypeUrl payload.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace magiclink::client

#endif  // MAGICLINK_CLIENT_ERROR_H_
