#include "server/transport/status_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/core/errors.h"

namespace magiclink {
namespace {

// The reason of an error that was built without one.
v1::ErrorReason ReasonForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return v1::INVALID_REQUEST;
    case absl::StatusCode::kUnavailable: return v1::STORE_UNAVAILABLE;
    case absl::StatusCode::kDeadlineExceeded: return v1::DEADLINE_EXCEEDED;
    case absl::StatusCode::kAborted: return v1::ABORTED;
    case absl::StatusCode::kUnauthenticated: return v1::UNAUTHENTICATED;
    case absl::StatusCode::kPermissionDenied: return v1::PERMISSION_DENIED;
    case absl::StatusCode::kResourceExhausted: return v1::RESOURCE_EXHAUSTED;
    default: return v1::INTERNAL;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());

  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  google::rpc::ErrorInfo info;
  v1::ErrorReason reason = ReasonOf(status);
  if (reason == v1::ERROR_REASON_UNSPECIFIED) reason = ReasonForCode(status.code());
  info.set_reason(v1::ErrorReason_Name(reason));
  info.set_domain(kErrorDomain);
  rich.add_details()->PackFrom(info);

  std::vector<FieldViolation> violations = FieldViolations(status);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      auto* out = bad_request.add_field_violations();
      out->set_field(v.field);
      out->set_description(v.description);
    }
    rich.add_details()->PackFrom(bad_request);
  }
  return grpc::Status(code, message, rich.SerializeAsString());
}

}  // namespace magiclink
