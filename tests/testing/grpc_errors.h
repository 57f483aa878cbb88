// Reads magiclink's rich error details off a grpc::Status, as any client would.
#ifndef MAGICLINK_TESTS_TESTING_GRPC_ERRORS_H_
#define MAGICLINK_TESTS_TESTING_GRPC_ERRORS_H_

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace magiclink::testing {

struct GrpcErrorDetails {
  int error_infos = 0;  // how many ErrorInfo details there were
  google::rpc::ErrorInfo info;
  int bad_requests = 0;
  google::rpc::BadRequest bad_request;
};

inline GrpcErrorDetails DecodeDetails(const grpc::Status& status) {
  GrpcErrorDetails out;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return out;
  for (const google::protobuf::Any& any : rich.details()) {
    if (any.UnpackTo(&out.info)) {
      ++out.error_infos;
    } else if (any.UnpackTo(&out.bad_request)) {
      ++out.bad_requests;
    }
  }
  return out;
}

// The ErrorInfo reason, or "" when there is not exactly one ErrorInfo.
inline std::string Reason(const grpc::Status& status) {
  GrpcErrorDetails d = DecodeDetails(status);
  return d.error_infos == 1 ? d.info.reason() : "";
}

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_TESTING_GRPC_ERRORS_H_
