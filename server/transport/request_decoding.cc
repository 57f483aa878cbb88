#include "server/transport/request_decoding.h"

#include <google/protobuf/util/time_util.h>

#include "server/core/errors.h"

namespace magiclink {
namespace {

using google::protobuf::util::TimeUtil;

Metadata ToMetadata(const google::protobuf::Map<std::string, std::string>& map) {
  return Metadata(map.begin(), map.end());
}

absl::StatusOr<std::optional<absl::Duration>> DecodeTtl(const v1::IssueBatchRequest& request) {
  if (!request.has_ttl()) return std::optional<absl::Duration>();
  const google::protobuf::Duration& ttl = request.ttl();
  // Valid protobuf Durations have nanos in [0, 1e9) for positive spans.
  if (ttl.seconds() < 0 || ttl.nanos() < 0 || ttl.nanos() >= 1000000000 ||
      ttl.seconds() > TimeUtil::kDurationMaxSeconds) {
    return InvalidRequest({{"ttl", "must be a valid, non-negative duration"}});
  }
  return std::optional<absl::Duration>(absl::Seconds(ttl.seconds()) +
                                       absl::Nanoseconds(ttl.nanos()));
}

}  // namespace

absl::StatusOr<IssueInput> DecodeIssueBatch(const v1::IssueBatchRequest& request) {
  absl::StatusOr<std::optional<absl::Duration>> ttl = DecodeTtl(request);
  if (!ttl.ok()) return ttl.status();
  IssueInput input;
  input.recipients.reserve(request.recipients_size());
  for (const v1::Recipient& r : request.recipients()) {
    input.recipients.push_back({r.email(), ToMetadata(r.metadata())});
  }
  input.purpose = request.purpose();
  input.ttl = *ttl;
  input.redirect_url = request.redirect_url();
  input.metadata = ToMetadata(request.metadata());
  input.request_id = request.request_id();
  input.skip_invalid = request.skip_invalid();
  input.revoke_previous = request.revoke_previous();
  input.validate_only = request.validate_only();
  return input;
}

absl::StatusOr<VerifyInput> DecodeVerify(const v1::VerifyRequest& request) {
  VerifyInput input;
  input.token = request.token();
  switch (request.mode()) {
    case v1::VERIFY_MODE_UNSPECIFIED:
    case v1::CONSUME:
      input.mode = VerifyMode::kConsume;
      break;
    case v1::PEEK:
      input.mode = VerifyMode::kPeek;
      break;
    default:
      return InvalidRequest({{"mode", "is not a known VerifyMode"}});
  }
  input.expected_purpose = request.expected_purpose();
  input.consume_key = request.consume_key();
  return input;
}

}  // namespace magiclink
