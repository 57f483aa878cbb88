#include "server/core/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace magiclink {
namespace {

constexpr char kReasonPayload[] = "type.magiclink.dev/reason";
constexpr char kViolationsPayload[] = "type.magiclink.dev/violations";

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

absl::Status ErrorWithReason(absl::StatusCode code, v1::ErrorReason reason,
                             absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kReasonPayload, absl::Cord(v1::ErrorReason_Name(reason)));
  return status;
}

absl::Status InvalidRequest(const std::vector<FieldViolation>& violations) {
  std::string message = "invalid request";
  if (!violations.empty()) {
    absl::StrAppend(&message, ": ", violations.front().field, ": ", violations.front().description);
    if (violations.size() > 1) absl::StrAppend(&message, " (and ", violations.size() - 1, " more)");
  }
  absl::Status status =
      ErrorWithReason(absl::StatusCode::kInvalidArgument, v1::INVALID_REQUEST, message);
  // Field and description never hold a NUL (descriptions escape user input).
  std::string encoded;
  for (const FieldViolation& v : violations) {
    absl::StrAppend(&encoded, v.field, absl::string_view("\0", 1), v.description,
                    absl::string_view("\0", 1));
  }
  status.SetPayload(kViolationsPayload, absl::Cord(encoded));
  return status;
}

v1::ErrorReason ReasonOf(const absl::Status& status) {
  if (status.ok()) return v1::ERROR_REASON_UNSPECIFIED;
  auto name = status.GetPayload(kReasonPayload);
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  if (name && v1::ErrorReason_Parse(std::string(*name), &reason)) return reason;
  return ReasonForCode(status.code());
}

std::vector<FieldViolation> FieldViolations(const absl::Status& status) {
  std::vector<FieldViolation> out;
  auto payload = status.GetPayload(kViolationsPayload);
  if (!payload) return out;
  const std::string flat(*payload);
  std::vector<absl::string_view> parts = absl::StrSplit(flat, absl::string_view("\0", 1));
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    out.push_back({std::string(parts[i]), std::string(parts[i + 1])});
  }
  return out;
}

absl::Status StoreUnavailable(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kUnavailable, v1::STORE_UNAVAILABLE, message);
}

}  // namespace magiclink
