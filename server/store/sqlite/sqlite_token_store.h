// The embedded TokenStore: one SQLite file in WAL mode, no setup. Several
// server processes may open the same file: writes take SQLite's write lock up
// front (BEGIN IMMEDIATE) and wait up to the busy timeout for each other.
//
//   absl::StatusOr<std::unique_ptr<SqliteTokenStore>> store =
//       SqliteTokenStore::Open("/var/lib/magiclink/magiclink.db");
#ifndef MAGICLINK_SERVER_STORE_SQLITE_SQLITE_TOKEN_STORE_H_
#define MAGICLINK_SERVER_STORE_SQLITE_SQLITE_TOKEN_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/sqlite/sqlite_db.h"
#include "server/store/token_store.h"

namespace magiclink {

class SqliteTokenStore final : public TokenStore {
 public:
  // Opens or creates the database at `path` and applies pending migrations.
  static absl::StatusOr<std::unique_ptr<SqliteTokenStore>> Open(
      const std::string& path, absl::Duration busy_timeout = absl::Seconds(5));

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
  explicit SqliteTokenStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  absl::StatusOr<std::optional<TokenClaims>> FindLocked(
      const std::vector<std::string>& token_hashes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<ExistingBatch>> ClaimRequestIdLocked(const NewBatch& batch,
                                                                    absl::Time now,
                                                                    absl::Duration window)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> RevokePreviousLocked(const NewBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_SQLITE_SQLITE_TOKEN_STORE_H_
