#include "server/service/link_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/core/crypto.h"
#include "server/core/email.h"
#include "server/core/errors.h"

namespace magiclink {
namespace {

AuditOutcome OutcomeOf(const absl::Status& status) {
  if (status.ok()) return {};
  return {absl::StatusCodeToString(status.code()), v1::ErrorReason_Name(ReasonOf(status))};
}

constexpr size_t kMaxBatchIdLength = 64;
// Page tokens we make are far shorter; anything longer is not one of ours.
constexpr size_t kMaxPageTokenLength = 256;

absl::Status CheckToken(absl::string_view token) {
  if (token.empty()) return InvalidRequest({{"token", "is required"}});
  if (!IsWellFormedToken(token)) return InvalidRequest({{"token", "is not a magiclink token"}});
  return absl::OkStatus();
}

absl::Status CheckBatchId(absl::string_view batch_id) {
  if (batch_id.empty()) return InvalidRequest({{"batch_id", "is required"}});
  if (batch_id.size() > kMaxBatchIdLength) {
    return InvalidRequest(
        {{"batch_id", absl::StrCat("exceeds ", kMaxBatchIdLength, " characters")}});
  }
  return absl::OkStatus();
}

// Verify's checks of the request alone: a well-formed token first, then
// expected_purpose and consume_key together.
absl::Status CheckVerifyInput(const VerifyInput& input, const Limits& limits) {
  if (absl::Status s = CheckToken(input.token); !s.ok()) return s;
  std::vector<FieldViolation> problems;
  if (!input.expected_purpose.empty()) {
    if (std::string p = PurposeProblem(input.expected_purpose, limits.max_purpose_length);
        !p.empty()) {
      problems.push_back({"expected_purpose", p});
    }
  }
  if (input.consume_key.size() > limits.max_consume_key_length) {
    problems.push_back(
        {"consume_key", absl::StrCat("exceeds ", limits.max_consume_key_length, " characters")});
  }
  if (!problems.empty()) return InvalidRequest(problems);
  return absl::OkStatus();
}

// Binds `batch` to `request_id`: the fingerprint of the request's `content`,
// and the batch's plaintext tokens sealed so that a retry can be answered
// with the same links.
absl::Status SealForReplay(const TokenKeyring& keyring, const std::string& request_id,
                           absl::string_view content, const std::vector<IssuedLink>& links,
                           NewBatch& batch) {
  batch.request_id = request_id;
  batch.request_fingerprint = keyring.FingerprintRequest(content);
  std::vector<absl::string_view> plaintexts;
  plaintexts.reserve(links.size());
  for (const IssuedLink& link : links) plaintexts.push_back(link.token);
  absl::StatusOr<std::string> sealed =
      keyring.Seal(absl::StrJoin(plaintexts, "\n"), batch.batch_id);
  if (!sealed.ok()) return sealed.status();
  batch.replay_sealed = *std::move(sealed);
  return absl::OkStatus();
}

absl::Status BatchNotFound() {
  return ErrorWithReason(absl::StatusCode::kNotFound, v1::BATCH_NOT_FOUND, "no such batch");
}

int StateNumber(std::optional<TokenState> state) {
  return state ? static_cast<int>(*state) + 1 : 0;
}

// Page tokens bind the position to the batch and filter they were made for.
std::string MakePageToken(const std::string& batch_id, std::optional<TokenState> state,
                          int position) {
  return Base64UrlEncode(absl::StrCat(position, "|", StateNumber(state), "|", batch_id));
}

absl::StatusOr<int> ParsePageToken(const std::string& token, const std::string& batch_id,
                                   std::optional<TokenState> state) {
  const absl::Status bad = InvalidRequest({{"page_token", "is not a page token of this listing"}});
  if (token.size() > kMaxPageTokenLength) return bad;
  std::optional<std::string> text = Base64UrlDecode(token);
  if (!text) return bad;
  std::vector<std::string> parts = absl::StrSplit(*text, absl::MaxSplits('|', 2));
  int position = 0;
  int state_number = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &position) || position < 0 ||
      !absl::SimpleAtoi(parts[1], &state_number) || state_number != StateNumber(state) ||
      parts[2] != batch_id) {
    return bad;
  }
  return position;
}

}  // namespace

LinkService::LinkService(TokenStore& store, const TokenKeyring& keyring,
                         const RedirectPolicy& redirects, const Clock& clock,
                         TokenSource& token_source, ServiceOptions options, AuditLog* audit)
    : store_(store),
      keyring_(keyring),
      redirects_(redirects),
      clock_(clock),
      token_source_(token_source),
      options_(std::move(options)),
      audit_(audit) {}

absl::StatusOr<IssueResult> LinkService::IssueBatch(const IssueInput& input, const Caller& caller,
                                                    absl::Time deadline) {
  absl::StatusOr<IssueResult> result = DoIssueBatch(input, caller, deadline);
  if (audit_ == nullptr) return result;
  IssueBatchAudit event{caller.name, input.purpose, OutcomeOf(result.status())};
  event.request_id = !input.request_id.empty();
  if (result.ok()) {
    event.batch_id = result->batch_id;
    event.count = static_cast<int64_t>(result->links.size());
    event.rejected = static_cast<int64_t>(result->rejected.size());
    event.replayed = result->replayed;
    event.revoked_previous = result->revoked_previous;
    for (const IssuedLink& link : result->links) event.emails.push_back(link.email);
  }
  audit_->Record(event);
  return result;
}

absl::StatusOr<TokenClaims> LinkService::Verify(const VerifyInput& input, const Caller& caller,
                                                absl::Time deadline) {
  std::optional<TokenClaims> found;
  absl::StatusOr<TokenClaims> claims = DoVerify(input, caller, deadline, found);
  if (audit_ == nullptr) return claims;
  VerifyAudit event{caller.name, input.mode == VerifyMode::kPeek ? "PEEK" : "CONSUME",
                    OutcomeOf(claims.status())};
  const TokenClaims* seen = claims.ok() ? &*claims : found ? &*found : nullptr;
  if (seen != nullptr) {
    event.batch_id = seen->batch_id;
    event.position = seen->position;
    event.email = seen->email;
  }
  audit_->Record(event);
  return claims;
}

absl::StatusOr<int64_t> LinkService::Revoke(const RevokeInput& input, const Caller& caller,
                                            absl::Time deadline) {
  absl::StatusOr<int64_t> revoked = DoRevoke(input, caller, deadline);
  if (audit_ == nullptr) return revoked;
  const char* target = !input.token.empty() ? "token" : !input.email.empty() ? "email" : "batch";
  RevokeAudit event{caller.name, target, OutcomeOf(revoked.status())};
  event.batch_id = input.token.empty() && input.email.empty() ? input.batch_id : "";
  if (!input.email.empty()) {
    event.purpose = input.purpose;
    event.email = input.email;
  }
  event.count = revoked.ok() ? *revoked : 0;
  audit_->Record(event);
  return revoked;
}

absl::StatusOr<IssuePlan> LinkService::PlanForCaller(const IssueInput& input,
                                                     const Caller& caller) const {
  if (absl::Status s = RequireScope(caller, Scope::kIssue); !s.ok()) return s;
  if (input.revoke_previous) {
    if (absl::Status s = RequireScope(caller, Scope::kRevoke); !s.ok()) return s;
  }
  absl::StatusOr<IssuePlan> plan =
      PlanIssue(input, options_.limits, options_.lifetimes, redirects_);
  if (!plan.ok()) return plan.status();
  // Only a well-formed purpose and URL can be judged against the caller's.
  if (absl::Status s = RequirePurpose(caller, input.purpose, "purpose"); !s.ok()) return s;
  if (absl::Status s = RequireRedirect(caller, input.redirect_url); !s.ok()) return s;
  return plan;
}

absl::StatusOr<LinkService::MintedBatch> LinkService::Mint(const IssueInput& input, IssuePlan& plan,
                                                           absl::Time now, const Caller& caller) {
  MintedBatch minted;
  NewBatch& batch = minted.batch;
  absl::StatusOr<std::string> batch_id = token_source_.NewBatchId(now);
  if (!batch_id.ok()) return batch_id.status();
  batch.batch_id = *std::move(batch_id);
  batch.issued_by = caller.name;
  batch.purpose = input.purpose;
  batch.redirect_url = input.redirect_url;
  batch.created_at = now;
  batch.expires_at = now + plan.ttl;
  batch.revoke_previous = input.revoke_previous;
  batch.tokens.reserve(plan.recipients.size());

  IssueResult& result = minted.result;
  result.batch_id = batch.batch_id;
  result.rejected = plan.rejected;
  result.links.reserve(plan.recipients.size());
  absl::StatusOr<std::vector<std::string>> tokens = token_source_.NewTokens(plan.recipients.size());
  if (!tokens.ok()) return tokens.status();
  for (size_t i = 0; i < plan.recipients.size(); ++i) {
    PlannedRecipient& recipient = plan.recipients[i];
    std::string& token = (*tokens)[i];
    TokenHash hash = keyring_.HashForMinting(token);
    std::string link = BuildLink(input.redirect_url, token);
    result.links.push_back({recipient.email, std::move(link), std::move(token), batch.expires_at});
    batch.tokens.push_back({std::move(hash.hash), std::move(hash.key_id), recipient.index,
                            recipient.email, std::move(recipient.metadata)});
  }
  return minted;
}

absl::StatusOr<IssueResult> LinkService::DoIssueBatch(const IssueInput& input, const Caller& caller,
                                                      absl::Time deadline) {
  absl::StatusOr<IssuePlan> plan = PlanForCaller(input, caller);
  if (!plan.ok()) return plan.status();
  if (input.validate_only) {
    // Everything a real call checks before it mints has been checked; what
    // it would answer now depends only on the store.
    IssueResult validated;
    validated.rejected = std::move(plan->rejected);
    return validated;
  }

  const absl::Time now = clock_.Now();
  absl::StatusOr<MintedBatch> minted = Mint(input, *plan, now, caller);
  if (!minted.ok()) return minted.status();
  NewBatch& batch = minted->batch;
  IssueResult& result = minted->result;
  std::string content;  // what the request_id's fingerprint covers
  if (!input.request_id.empty()) {
    content = IssueRequestContent(input);
    if (absl::Status s = SealForReplay(keyring_, input.request_id, content, result.links, batch);
        !s.ok()) {
      return s;
    }
  }

  absl::StatusOr<InsertBatchResult> inserted =
      store_.InsertBatch(batch, now, options_.lifetimes.idempotency_window, deadline);
  if (!inserted.ok()) return inserted.status();
  if (inserted->existing) {
    return Replay(*plan, content, *inserted->existing, input.redirect_url, deadline);
  }
  result.revoked_previous = inserted->revoked_previous;
  return std::move(result);
}

absl::StatusOr<IssueResult> LinkService::Replay(const IssuePlan& plan, absl::string_view content,
                                                const ExistingBatch& existing,
                                                const std::string& redirect_url,
                                                absl::Time deadline) {
  // Opened first: under a removed key neither the tokens nor the fingerprint
  // can be checked, and "can no longer be replayed" is the truth.
  absl::StatusOr<std::string> tokens_text =
      keyring_.Open(existing.replay_sealed, existing.batch_id);
  if (!tokens_text.ok()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, v1::REQUEST_ID_CONFLICT,
                           "the batch for this request_id can no longer be replayed");
  }
  if (!keyring_.MatchesRequestFingerprint(existing.request_fingerprint, content)) {
    return ErrorWithReason(absl::StatusCode::kAlreadyExists, v1::REQUEST_ID_CONFLICT,
                           "request_id was already used for a different request");
  }
  std::vector<std::string> tokens = absl::StrSplit(*tokens_text, '\n');
  absl::StatusOr<std::vector<LinkRecord>> links = store_.BatchLinks(existing.batch_id, deadline);
  if (!links.ok()) return links.status();
  if (links->size() != tokens.size()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition, v1::REQUEST_ID_CONFLICT,
                           "the batch for this request_id was partly swept and cannot be replayed");
  }
  IssueResult result;
  result.batch_id = existing.batch_id;
  result.rejected = plan.rejected;
  result.replayed = true;
  result.links.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    const LinkRecord& link = (*links)[i];
    result.links.push_back(
        {link.email, BuildLink(redirect_url, tokens[i]), std::move(tokens[i]), link.expires_at});
  }
  return result;
}

absl::StatusOr<std::string> LinkService::PurposeToBind(const VerifyInput& input,
                                                       const Caller& caller,
                                                       const std::vector<std::string>& hashes,
                                                       absl::Time deadline) {
  if (!input.expected_purpose.empty()) {
    if (absl::Status s = RequirePurpose(caller, input.expected_purpose, "expected_purpose");
        !s.ok()) {
      return s;
    }
    return input.expected_purpose;
  }
  if (!caller.RestrictsPurposes()) return std::string();
  // A caller limited to purposes only ever verifies with one of them bound,
  // so a token of another purpose fails as PURPOSE_MISMATCH, unconsumed. A
  // token's purpose never changes, so reading it first is race-free.
  if (caller.allowed_purposes.size() > 1) {
    absl::StatusOr<std::optional<TokenClaims>> found = store_.FindToken(hashes, deadline);
    if (!found.ok()) return found.status();
    if (*found && caller.AllowsPurpose((*found)->purpose)) return (*found)->purpose;
  }
  return caller.allowed_purposes.front();
}

absl::StatusOr<TokenClaims> LinkService::DoVerify(const VerifyInput& input, const Caller& caller,
                                                  absl::Time deadline,
                                                  std::optional<TokenClaims>& found) {
  if (absl::Status s = RequireScope(caller, Scope::kVerify); !s.ok()) return s;
  if (absl::Status s = CheckVerifyInput(input, options_.limits); !s.ok()) return s;
  const std::vector<std::string> hashes = keyring_.CandidateHashes(input.token);
  absl::StatusOr<std::string> bound_purpose = PurposeToBind(input, caller, hashes, deadline);
  if (!bound_purpose.ok()) return bound_purpose.status();
  const std::string expected_purpose = *std::move(bound_purpose);
  const std::string consume_key_hash =
      input.consume_key.empty() ? "" : HashConsumeKey(input.token, input.consume_key);
  const absl::Time now = clock_.Now();
  std::optional<TokenClaims> claims;
  if (input.mode == VerifyMode::kConsume) {
    absl::StatusOr<ConsumeResult> consumed =
        store_.ConsumeToken(hashes, {expected_purpose, consume_key_hash}, now, deadline);
    if (!consumed.ok()) return consumed.status();
    if (consumed->consumed && consumed->claims) return *std::move(consumed->claims);
    claims = std::move(consumed->claims);
  } else {
    absl::StatusOr<std::optional<TokenClaims>> found = store_.FindToken(hashes, deadline);
    if (!found.ok()) return found.status();
    claims = *std::move(found);
  }
  if (!claims) {
    return ErrorWithReason(absl::StatusCode::kNotFound, v1::TOKEN_NOT_FOUND, "no such token");
  }
  found = claims;
  absl::Status why = CheckVerify(*claims, now, expected_purpose, consume_key_hash,
                                 options_.lifetimes.consume_grace);
  if (!why.ok()) return why;
  if (input.mode == VerifyMode::kConsume &&
      !IsGraceRepeat(*claims, consume_key_hash, now, options_.lifetimes.consume_grace)) {
    // The conditional update missed although the token looks usable: it
    // changed between the two statements. The caller may retry.
    return absl::AbortedError("the token changed while it was being verified; retry");
  }
  return *std::move(claims);
}

absl::StatusOr<int64_t> LinkService::DoRevoke(const RevokeInput& input, const Caller& caller,
                                              absl::Time deadline) {
  if (absl::Status s = RequireScope(caller, Scope::kRevoke); !s.ok()) return s;
  const int targets = !input.token.empty() + !input.email.empty() + !input.batch_id.empty();
  if (targets != 1) {
    return InvalidRequest({{"target", "exactly one of token, email and batch_id is required"}});
  }
  RevokeTarget target;
  if (!input.token.empty()) {
    if (absl::Status s = CheckToken(input.token); !s.ok()) return s;
    target.token_hashes = keyring_.CandidateHashes(input.token);
    if (caller.RestrictsPurposes()) {
      // A token of another purpose looks to this caller like no token at all.
      absl::StatusOr<std::optional<TokenClaims>> found =
          store_.FindToken(target.token_hashes, deadline);
      if (!found.ok()) return found.status();
      if (!*found || !caller.AllowsPurpose((*found)->purpose)) return 0;
    }
  } else if (!input.email.empty()) {
    absl::StatusOr<std::string> email =
        NormalizeEmail(input.email, options_.limits.max_email_length);
    if (!email.ok()) return InvalidRequest({{"email", std::string(email.status().message())}});
    target.email = *std::move(email);
    if (!input.purpose.empty()) {
      if (std::string p = PurposeProblem(input.purpose, options_.limits.max_purpose_length);
          !p.empty()) {
        return InvalidRequest({{"purpose", p}});
      }
      if (absl::Status s = RequirePurpose(caller, input.purpose, "purpose"); !s.ok()) return s;
      target.purpose = input.purpose;
    } else if (caller.RestrictsPurposes()) {
      // Only the caller's purposes: one statement per purpose, each atomic.
      int64_t revoked = 0;
      const absl::Time now = clock_.Now();
      for (const std::string& purpose : caller.allowed_purposes) {
        target.purpose = purpose;
        absl::StatusOr<int64_t> n = store_.Revoke(target, now, deadline);
        if (!n.ok()) return n.status();
        revoked += *n;
      }
      return revoked;
    }
  } else {
    if (absl::Status s = CheckBatchId(input.batch_id); !s.ok()) return s;
    target.batch_id = input.batch_id;
    if (caller.RestrictsPurposes()) {
      absl::StatusOr<std::optional<BatchSummary>> batch =
          VisibleBatch(input.batch_id, caller, deadline);
      if (!batch.ok()) return batch.status();
      if (!*batch) return 0;
    }
  }
  return store_.Revoke(target, clock_.Now(), deadline);
}

absl::StatusOr<std::optional<BatchSummary>> LinkService::VisibleBatch(const std::string& batch_id,
                                                                      const Caller& caller,
                                                                      absl::Time deadline) {
  absl::StatusOr<std::optional<BatchSummary>> summary =
      store_.GetBatch(batch_id, clock_.Now(), deadline);
  if (!summary.ok()) return summary.status();
  if (*summary && !caller.AllowsPurpose((*summary)->purpose)) return std::nullopt;
  return summary;
}

absl::StatusOr<BatchSummary> LinkService::GetBatch(const std::string& batch_id,
                                                   const Caller& caller, absl::Time deadline) {
  if (absl::Status s = RequireScope(caller, Scope::kRead); !s.ok()) return s;
  if (absl::Status s = CheckBatchId(batch_id); !s.ok()) return s;
  absl::StatusOr<std::optional<BatchSummary>> summary = VisibleBatch(batch_id, caller, deadline);
  if (!summary.ok()) return summary.status();
  if (!*summary) return BatchNotFound();
  return **std::move(summary);
}

absl::StatusOr<LinksPage> LinkService::ListLinks(const ListLinksInput& input, const Caller& caller,
                                                 absl::Time deadline) {
  if (absl::Status s = RequireScope(caller, Scope::kRead); !s.ok()) return s;
  if (absl::Status s = CheckBatchId(input.batch_id); !s.ok()) return s;
  const Limits& limits = options_.limits;
  int page_size = input.page_size == 0 ? limits.default_page_size : input.page_size;
  if (page_size < 0 || page_size > limits.max_page_size) {
    return InvalidRequest(
        {{"page_size", absl::StrCat("must be between 0 and ", limits.max_page_size)}});
  }
  int after = -1;
  if (!input.page_token.empty()) {
    absl::StatusOr<int> position = ParsePageToken(input.page_token, input.batch_id, input.state);
    if (!position.ok()) return position.status();
    after = *position;
  }
  // The batch first: who issued it, and whether this caller may see it (a
  // batch of another purpose looks to a purpose-limited caller like none).
  absl::StatusOr<std::optional<BatchSummary>> batch =
      VisibleBatch(input.batch_id, caller, deadline);
  if (!batch.ok()) return batch.status();
  if (!*batch) return BatchNotFound();
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::optional<LinkPage>> page =
      store_.ListLinks(input.batch_id, input.state, after, page_size, now, deadline);
  if (!page.ok()) return page.status();
  if (!*page) return BatchNotFound();
  LinksPage out;
  out.issued_by = (*batch)->issued_by;
  out.links.reserve((*page)->links.size());
  for (LinkRecord& link : (*page)->links) {
    const TokenState state = StateAt(link.expires_at, link.consumed_at, link.revoked_at, now);
    out.links.push_back({std::move(link), state});
  }
  if ((*page)->more && !out.links.empty()) {
    out.next_page_token =
        MakePageToken(input.batch_id, input.state, out.links.back().link.position);
  }
  return out;
}

absl::StatusOr<SweepResult> LinkService::Sweep(int max_chunks) {
  SweepResult total;
  for (int i = 0; i < max_chunks; ++i) {
    const absl::Time now = clock_.Now();
    absl::StatusOr<SweepResult> chunk = store_.Sweep(now - options_.lifetimes.retention,
                                                     now - options_.lifetimes.idempotency_window,
                                                     options_.sweep_chunk, kNoDeadline);
    if (!chunk.ok()) return chunk.status();
    total.tokens_deleted += chunk->tokens_deleted;
    total.batches_deleted += chunk->batches_deleted;
    total.replays_purged += chunk->replays_purged;
    if (chunk->tokens_deleted < options_.sweep_chunk &&
        chunk->batches_deleted < options_.sweep_chunk &&
        chunk->replays_purged < options_.sweep_chunk) {
      break;
    }
  }
  return total;
}

}  // namespace magiclink
