// The rules for an IssueBatch request: every check, normalisation, duplicate
// detection and the canonical request content that request_id retries are
// fingerprinted over (the keyed fingerprint itself is TokenKeyring's).
// Plain values in, plain values out; nothing here touches gRPC or a database.
//
//   absl::StatusOr<IssuePlan> plan = PlanIssue(input, limits, lifetimes, policy);
//   // plan->recipients: normalised, merged, in request order
#ifndef MAGICLINK_SERVER_CORE_ISSUE_RULES_H_
#define MAGICLINK_SERVER_CORE_ISSUE_RULES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/limits.h"
#include "server/core/links.h"
#include "server/core/metadata.h"

namespace magiclink {

// One recipient as the caller sent it.
struct RecipientInput {
  std::string email;
  Metadata metadata;
};

// An IssueBatch request as the caller sent it.
struct IssueInput {
  std::vector<RecipientInput> recipients;
  std::string purpose;
  std::optional<absl::Duration> ttl;  // nullopt: server default
  std::string redirect_url;
  Metadata metadata;
  std::string request_id;
  bool skip_invalid = false;
  bool revoke_previous = false;
  // Validate as IssueBatch would, write nothing (AIP-163). Not part of the
  // request's content: a validation never stores anything to conflict with.
  bool validate_only = false;
};

// A recipient that will get a link.
struct PlannedRecipient {
  int index = 0;      // position in IssueInput::recipients
  std::string email;  // normalised
  Metadata metadata;  // batch metadata merged with the recipient's
};

// A recipient left out because skip_invalid was set.
struct RejectedRecipient {
  int index = 0;
  std::string email;  // as sent
  std::string reason;
};

// What to issue.
struct IssuePlan {
  std::vector<PlannedRecipient> recipients;
  std::vector<RejectedRecipient> rejected;
  absl::Duration ttl;
};

// Checks a purpose label (1-max characters of a-z, 0-9, '_', '-', '.').
// Returns "" when valid, otherwise what is wrong.
std::string PurposeProblem(absl::string_view purpose, size_t max_length);

// Validates `input` and returns what to issue. INVALID_ARGUMENT (reason
// INVALID_REQUEST) carries one violation per bad field and per bad recipient.
// With skip_invalid, bad recipients are returned in `rejected` instead, but
// request-level problems (purpose, ttl, redirect_url, metadata, request_id,
// batch size) still fail, as does a batch with no valid recipient.
absl::StatusOr<IssuePlan> PlanIssue(const IssueInput& input, const Limits& limits,
                                    const Lifetimes& lifetimes, const RedirectPolicy& redirects);

// The canonical encoding of a request's content, which a request_id's
// fingerprint is computed over: purpose, ttl, redirect_url, metadata,
// skip_invalid, revoke_previous and the recipients as sent. Length-prefixed,
// so equal only for equal content. request_id and validate_only are not
// part of it.
std::string IssueRequestContent(const IssueInput& input);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_ISSUE_RULES_H_
