// The one place where an absl::Status becomes a grpc::Status: the code and
// message carry over, and the details hold a google.rpc.Status with exactly
// one google.rpc.ErrorInfo (domain magiclink.v1) and, for invalid requests,
// one google.rpc.BadRequest listing every violation.
#ifndef MAGICLINK_SERVER_TRANSPORT_STATUS_MAPPING_H_
#define MAGICLINK_SERVER_TRANSPORT_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace magiclink {

// Converts `status` for the wire. Errors without a reason get one derived
// from their code (e.g. INTERNAL), so every error has an ErrorInfo.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_STATUS_MAPPING_H_
