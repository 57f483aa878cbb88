// A TokenStore that reports to a StoreObserver what the store it wraps did:
// each call's time, and the links issued, consumed, revoked and swept. Both
// stores are observed alike without either knowing about metrics.
//
//   ObservedTokenStore store(std::move(sqlite_store), metrics);
#ifndef MAGICLINK_SERVER_STORE_OBSERVED_TOKEN_STORE_H_
#define MAGICLINK_SERVER_STORE_OBSERVED_TOKEN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "server/observability/store_observer.h"
#include "server/store/token_store.h"

namespace magiclink {

class ObservedTokenStore final : public TokenStore {
 public:
  // `observer` must outlive this store.
  ObservedTokenStore(std::unique_ptr<TokenStore> store, StoreObserver& observer)
      : store_(std::move(store)), observer_(observer) {}

  absl::StatusOr<InsertBatchResult> InsertBatch(const NewBatch& batch, absl::Time now,
                                                absl::Duration idempotency_window,
                                                absl::Time deadline) override;
  absl::StatusOr<std::vector<LinkRecord>> BatchLinks(const std::string& batch_id,
                                                     absl::Time deadline) override;
  absl::StatusOr<ConsumeResult> ConsumeToken(const std::vector<std::string>& token_hashes,
                                             const ConsumeRequest& request, absl::Time now,
                                             absl::Time deadline) override;
  absl::StatusOr<std::optional<TokenClaims>> FindToken(const std::vector<std::string>& token_hashes,
                                                       absl::Time deadline) override;
  absl::StatusOr<int64_t> Revoke(const RevokeTarget& target, absl::Time now,
                                 absl::Time deadline) override;
  absl::StatusOr<std::optional<BatchSummary>> GetBatch(const std::string& batch_id, absl::Time now,
                                                       absl::Time deadline) override;
  absl::StatusOr<std::optional<LinkPage>> ListLinks(const std::string& batch_id,
                                                    std::optional<TokenState> state,
                                                    int after_position, int limit, absl::Time now,
                                                    absl::Time deadline) override;
  absl::StatusOr<SweepResult> Sweep(absl::Time token_cutoff, absl::Time replay_cutoff, int max_rows,
                                    absl::Time deadline) override;
  absl::StatusOr<std::vector<KeyCheck>> RecordKeyChecks(const std::vector<KeyCheck>& checks,
                                                        absl::Time deadline) override;
  absl::Status Ping(absl::Time deadline) override;

 private:
  // Runs `call` and reports its time as `operation`.
  template <typename Call>
  auto Timed(StoreOperation operation, Call&& call);

  const std::unique_ptr<TokenStore> store_;
  StoreObserver& observer_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_OBSERVED_TOKEN_STORE_H_
