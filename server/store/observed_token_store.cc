#include "server/store/observed_token_store.h"

#include <chrono>

namespace magiclink {

template <typename Call>
auto ObservedTokenStore::Timed(StoreOperation operation, Call&& call) {
  // A monotonic clock: these are intervals, and the store's own clock is
  // the service's (injected) one.
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  observer_.OperationDone(operation, absl::FromChrono(std::chrono::steady_clock::now() - start));
  return result;
}

absl::StatusOr<InsertBatchResult> ObservedTokenStore::InsertBatch(const NewBatch& batch,
                                                                  absl::Time now,
                                                                  absl::Duration idempotency_window,
                                                                  absl::Time deadline) {
  absl::StatusOr<InsertBatchResult> result = Timed(StoreOperation::kInsertBatch, [&] {
    return store_->InsertBatch(batch, now, idempotency_window, deadline);
  });
  if (result.ok() && !result->existing) {
    observer_.LinksIssued(static_cast<int64_t>(batch.tokens.size()));
    if (result->revoked_previous > 0) observer_.LinksRevoked(result->revoked_previous);
  }
  return result;
}

absl::StatusOr<std::vector<LinkRecord>> ObservedTokenStore::BatchLinks(const std::string& batch_id,
                                                                       absl::Time deadline) {
  return Timed(StoreOperation::kBatchLinks, [&] { return store_->BatchLinks(batch_id, deadline); });
}

absl::StatusOr<ConsumeResult> ObservedTokenStore::ConsumeToken(
    const std::vector<std::string>& token_hashes, const ConsumeRequest& request, absl::Time now,
    absl::Time deadline) {
  absl::StatusOr<ConsumeResult> result = Timed(StoreOperation::kConsumeToken, [&] {
    return store_->ConsumeToken(token_hashes, request, now, deadline);
  });
  if (result.ok() && result->consumed) observer_.LinksConsumed(1);
  return result;
}

absl::StatusOr<std::optional<TokenClaims>> ObservedTokenStore::FindToken(
    const std::vector<std::string>& token_hashes, absl::Time deadline) {
  return Timed(StoreOperation::kFindToken,
               [&] { return store_->FindToken(token_hashes, deadline); });
}

absl::StatusOr<int64_t> ObservedTokenStore::Revoke(const RevokeTarget& target, absl::Time now,
                                                   absl::Time deadline) {
  absl::StatusOr<int64_t> revoked =
      Timed(StoreOperation::kRevoke, [&] { return store_->Revoke(target, now, deadline); });
  if (revoked.ok() && *revoked > 0) observer_.LinksRevoked(*revoked);
  return revoked;
}

absl::StatusOr<std::optional<BatchSummary>> ObservedTokenStore::GetBatch(
    const std::string& batch_id, absl::Time now, absl::Time deadline) {
  return Timed(StoreOperation::kGetBatch,
               [&] { return store_->GetBatch(batch_id, now, deadline); });
}

absl::StatusOr<std::optional<LinkPage>> ObservedTokenStore::ListLinks(
    const std::string& batch_id, std::optional<TokenState> state, int after_position, int limit,
    absl::Time now, absl::Time deadline) {
  return Timed(StoreOperation::kListLinks, [&] {
    return store_->ListLinks(batch_id, state, after_position, limit, now, deadline);
  });
}

absl::StatusOr<SweepResult> ObservedTokenStore::Sweep(absl::Time token_cutoff,
                                                      absl::Time replay_cutoff, int max_rows,
                                                      absl::Time deadline) {
  absl::StatusOr<SweepResult> swept = Timed(StoreOperation::kSweep, [&] {
    return store_->Sweep(token_cutoff, replay_cutoff, max_rows, deadline);
  });
  if (swept.ok() && swept->tokens_deleted > 0) observer_.LinksSwept(swept->tokens_deleted);
  return swept;
}

absl::StatusOr<std::vector<KeyCheck>> ObservedTokenStore::RecordKeyChecks(
    const std::vector<KeyCheck>& checks, absl::Time deadline) {
  return store_->RecordKeyChecks(checks, deadline);  // once, at start-up: not timed
}

absl::Status ObservedTokenStore::Ping(absl::Time deadline) {
  return Timed(StoreOperation::kPing, [&] { return store_->Ping(deadline); });
}

}  // namespace magiclink
