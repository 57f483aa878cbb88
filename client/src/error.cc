#include "magiclink/client/error.h"

#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace magiclink::client {

Error::Error(const absl::Status& status)
    : code_(static_cast<grpc::StatusCode>(status.code())), message_(status.message()) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kStatusDetailsTypeUrl);
  google::rpc::Status details;
  if (!payload.has_value() || !details.ParseFromString(std::string(*payload))) return;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    // The contract is one ErrorInfo; should a server send more, the first wins.
    if (any.Is<google::rpc::ErrorInfo>() && reason_.empty() && any.UnpackTo(&info)) {
      reason_ = info.reason();
      domain_ = info.domain();
      metadata_.insert(info.metadata().begin(), info.metadata().end());
    } else if (any.Is<google::rpc::BadRequest>() && any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) {
        field_violations_.push_back({v.field(), v.description()});
      }
    }
  }
}

v1::ErrorReason Error::known_reason() const {
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  v1::ErrorReason_Parse(reason_, &reason);
  return reason;
}

v1::ErrorReason ReasonOf(const absl::Status& status) { return Error(status).known_reason(); }

absl::Status MakeError(absl::StatusCode code, absl::string_view message, v1::ErrorReason reason,
                       const std::map<std::string, std::string>& metadata,
                       const std::vector<FieldViolation>& violations) {
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(std::string(message));
  google::rpc::ErrorInfo info;
  info.set_reason(v1::ErrorReason_Name(reason));
  info.set_domain(kErrorDomain);
  info.mutable_metadata()->insert(metadata.begin(), metadata.end());
  details.add_details()->PackFrom(info);
  if (!violations.empty()) {
    google::rpc::BadRequest bad_request;
    for (const FieldViolation& v : violations) {
      auto* out = bad_request.add_field_violations();
      out->set_field(v.field);
      out->set_description(v.description);
    }
    details.add_details()->PackFrom(bad_request);
  }
  absl::Status status(code, message);
  status.SetPayload(kStatusDetailsTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  if (!status.error_details().empty()) {
    result.SetPayload(kStatusDetailsTypeUrl, absl::Cord(status.error_details()));
  }
  return result;
}

}  // namespace magiclink::client
