// Turns API request messages into the plain values LinkService takes. Only
// what protobuf itself cannot express is checked here (durations, enum
// values); every rule lives in core. Separate from the adapter so the fuzz
// targets can drive it from arbitrary bytes.
//
//   absl::StatusOr<IssueInput> input = DecodeIssueBatch(request);
#ifndef MAGICLINK_SERVER_TRANSPORT_REQUEST_DECODING_H_
#define MAGICLINK_SERVER_TRANSPORT_REQUEST_DECODING_H_

#include "absl/status/statusor.h"
#include "magiclink/v1/magic_link_service.pb.h"
#include "server/service/link_service.h"

namespace magiclink {

// INVALID_ARGUMENT (naming "ttl") for a negative or malformed ttl.
absl::StatusOr<IssueInput> DecodeIssueBatch(const v1::IssueBatchRequest& request);

// INVALID_ARGUMENT (naming "mode") for an unknown VerifyMode.
absl::StatusOr<VerifyInput> DecodeVerify(const v1::VerifyRequest& request);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_REQUEST_DECODING_H_
