#include "server/transport/status_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/core/errors.h"

namespace magiclink {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());

  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(v1::ErrorReason_Name(ReasonOf(status)));
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
