// LinkService: the magiclink operations on plain values. It runs the core
// rules, mints and hashes tokens, calls the TokenStore once per operation and
// shapes the result. It knows nothing of gRPC, so it is tested with plain
// values, a FakeClock and a SequenceTokenSource.
//
// Every operation takes the authenticated Caller and applies its scope and
// purpose/redirect restrictions before it touches the store (see
// docs/security.md for what each restriction means per operation). With an
// AuditLog, every IssueBatch, Verify and Revoke call, whatever its outcome,
// writes one audit event.
//
//   LinkService service(store, keyring, redirects, clock, tokens, options);
// Every call operation takes the call's deadline and hands it to each store
// call it makes (TokenStore says what a store does with it).
//
//   absl::StatusOr<IssueResult> r = service.IssueBatch(input, caller, deadline);
//   absl::StatusOr<TokenClaims> c = service.Verify({.token = t}, caller, deadline);
#ifndef MAGICLINK_SERVER_SERVICE_LINK_SERVICE_H_
#define MAGICLINK_SERVER_SERVICE_LINK_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/callers.h"
#include "server/core/clock.h"
#include "server/core/issue_rules.h"
#include "server/core/keyring.h"
#include "server/core/limits.h"
#include "server/core/links.h"
#include "server/core/token_source.h"
#include "server/core/token_state.h"
#include "server/observability/audit.h"
#include "server/store/token_store.h"

namespace magiclink {

// Settings of the service.
struct ServiceOptions {
  Limits limits;
  Lifetimes lifetimes;
  // Rows one Sweep statement may delete.
  int sweep_chunk = 1000;
};

// A freshly issued link.
struct IssuedLink {
  std::string email;
  std::string url;
  std::string token;
  absl::Time expires_at;
};

// The result of IssueBatch.
struct IssueResult {
  std::string batch_id;
  std::vector<IssuedLink> links;
  std::vector<RejectedRecipient> rejected;
  int64_t revoked_previous = 0;
  bool replayed = false;
};

// How Verify treats a valid token.
enum class VerifyMode { kConsume, kPeek };

// A Verify request.
struct VerifyInput {
  std::string token;
  VerifyMode mode = VerifyMode::kConsume;
  std::string expected_purpose;
  std::string consume_key;
};

// A Revoke request: exactly one of token, email, batch_id.
struct RevokeInput {
  std::string token;
  std::string email;
  std::string purpose;
  std::string batch_id;
};

// A ListLinks request.
struct ListLinksInput {
  std::string batch_id;
  std::optional<TokenState> state;
  int page_size = 0;
  std::string page_token;
};

// A link and its state when it was listed.
struct LinkView {
  LinkRecord link;
  TokenState state;
};

// One page of links.
struct LinksPage {
  std::vector<LinkView> links;
  std::string next_page_token;
  std::string issued_by;  // the caller that issued the batch
};

class LinkService {
 public:
  // All references (and `audit`, if given) must outlive the service.
  LinkService(TokenStore& store, const TokenKeyring& keyring, const RedirectPolicy& redirects,
              const Clock& clock, TokenSource& token_source, ServiceOptions options,
              AuditLog* audit = nullptr);

  // Issues a batch recorded as issued by `caller` (see the proto for
  // semantics). Needs the issue scope (and revoke for revoke_previous); the
  // purpose and redirect_url must be the caller's. With validate_only it
  // makes every one of those checks, then returns the would-be rejected
  // recipients and nothing else, without touching the store.
  absl::StatusOr<IssueResult> IssueBatch(const IssueInput& input, const Caller& caller,
                                         absl::Time deadline);

  // Checks (PEEK) or uses up (CONSUME) a token and returns its claims. Needs
  // the verify scope. For a caller limited to purposes, expected_purpose must
  // be one of them, and a token of another purpose fails as PURPOSE_MISMATCH.
  absl::StatusOr<TokenClaims> Verify(const VerifyInput& input, const Caller& caller,
                                     absl::Time deadline);

  // Revokes outstanding tokens; returns how many. Needs the revoke scope; a
  // caller limited to purposes revokes only tokens of its purposes.
  absl::StatusOr<int64_t> Revoke(const RevokeInput& input, const Caller& caller,
                                 absl::Time deadline);

  // A batch's summary; NOT_FOUND (BATCH_NOT_FOUND) when unknown, or when the
  // caller is limited to purposes and the batch has another. Needs read.
  absl::StatusOr<BatchSummary> GetBatch(const std::string& batch_id, const Caller& caller,
                                        absl::Time deadline);

  // A page of a batch's links; NOT_FOUND as for GetBatch. Needs read.
  absl::StatusOr<LinksPage> ListLinks(const ListLinksInput& input, const Caller& caller,
                                      absl::Time deadline);

  // Deletes what has outlived the retention period and purges replay material
  // older than the idempotency window, in chunks, until a chunk comes back
  // short or `max_chunks` ran. Returns the totals. No caller waits for it:
  // its store calls have kNoDeadline.
  absl::StatusOr<SweepResult> Sweep(int max_chunks);

  const ServiceOptions& options() const { return options_; }

 private:
  // The batch's summary when `caller` may see it; nullopt when the batch is
  // unknown or of a purpose the caller is not allowed.
  absl::StatusOr<std::optional<BatchSummary>> VisibleBatch(const std::string& batch_id,
                                                           const Caller& caller,
                                                           absl::Time deadline);
  absl::StatusOr<IssueResult> Replay(const IssuePlan& plan, absl::string_view content,
                                     const ExistingBatch& existing, const std::string& redirect_url,
                                     absl::Time deadline);
  // A batch ready to store and the answer that goes with it.
  struct MintedBatch {
    NewBatch batch;
    IssueResult result;
  };
  // IssueBatch's checks, in order: the caller's scopes, the request's rules
  // (PlanIssue), then the caller's purposes and redirect prefixes.
  absl::StatusOr<IssuePlan> PlanForCaller(const IssueInput& input, const Caller& caller) const;
  // One fresh token per planned recipient: its hash (and the recipient's
  // metadata, moved out of `plan`) for the store, its link for the answer.
  absl::StatusOr<MintedBatch> Mint(const IssueInput& input, IssuePlan& plan, absl::Time now,
                                   const Caller& caller);
  // The purpose Verify binds: expected_purpose when given (and the caller's);
  // else, for a caller limited to purposes, the token's own purpose when it
  // is one of them, otherwise the caller's first; else none.
  absl::StatusOr<std::string> PurposeToBind(const VerifyInput& input, const Caller& caller,
                                            const std::vector<std::string>& hashes,
                                            absl::Time deadline);
  // The operations; the public methods add the audit event. DoVerify sets
  // `found` to the token's claims once it has read them, also when it fails.
  absl::StatusOr<IssueResult> DoIssueBatch(const IssueInput& input, const Caller& caller,
                                           absl::Time deadline);
  absl::StatusOr<TokenClaims> DoVerify(const VerifyInput& input, const Caller& caller,
                                       absl::Time deadline, std::optional<TokenClaims>& found);
  absl::StatusOr<int64_t> DoRevoke(const RevokeInput& input, const Caller& caller,
                                   absl::Time deadline);

  TokenStore& store_;
  const TokenKeyring& keyring_;
  const RedirectPolicy& redirects_;
  const Clock& clock_;
  TokenSource& token_source_;
  const ServiceOptions options_;
  AuditLog* const audit_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_SERVICE_LINK_SERVICE_H_
