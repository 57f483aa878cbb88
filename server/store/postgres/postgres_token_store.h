// The production TokenStore: PostgreSQL through libpqxx, shared by any number
// of magiclinkd replicas. Everything that must happen exactly once (consuming
// a token, claiming a request_id) is decided by PostgreSQL with conditional
// statements and constraints, never by process memory. Each call is one
// transaction on a pooled connection; the hot paths are one statement each
// (statements.cc says why each is shaped as it is).
//
//   PostgresOptions options;
//   options.url = "postgresql://magiclink@db/magiclink";
//   absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store =
//       PostgresTokenStore::Open(options);
//
// While PostgreSQL is unreachable every call fails fast with UNAVAILABLE
// (reason STORE_UNAVAILABLE); the store reconnects by itself when it is back.
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_TOKEN_STORE_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_TOKEN_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/store/coalescer.h"
#include "server/store/postgres/connection_pool.h"
#include "server/store/postgres/postgres_options.h"
#include "server/store/postgres/statements.h"
#include "server/store/token_store.h"

namespace magiclink {

class PostgresTokenStore final : public TokenStore {
 public:
  // Validates `options`, connects, and applies pending migrations (or, with
  // options.migrate = false, checks that there are none). UNAVAILABLE when
  // PostgreSQL cannot be reached, FAILED_PRECONDITION when the schema does
  // not match this binary, INVALID_ARGUMENT for bad options.
  static absl::StatusOr<std::unique_ptr<PostgresTokenStore>> Open(const PostgresOptions& options);

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
  // SELECT 1 on a connection of its own, never one of the pool's: OK while
  // PostgreSQL answers, however busy the pool is; UNAVAILABLE when it does
  // not (the connection is then reopened by the next Ping).
  absl::Status Ping(absl::Time deadline) override;

  // Connections open now (for metrics and tests).
  int open_connections() const { return pool_->open_connections(); }

  // One ConsumeToken call. Concurrent calls are coalesced: at most
  // options.consume_statements consume statements run at once, and calls that
  // arrive meanwhile go together in the next one (ConsumeBatch).
  struct ConsumeCall {
    const std::vector<std::string>* token_hashes = nullptr;
    const ConsumeRequest* request = nullptr;
    absl::Time now;
    absl::Time deadline = kNoDeadline;  // the ConsumeToken call's
    absl::StatusOr<ConsumeResult> result = absl::UnknownError("not run");
  };

  // Consumes for every call in one statement, with each call's own time,
  // consume key and expected purpose, as if each had run ConsumeToken alone
  // (a token named by several calls is consumed by exactly one of them).
  // Sets every call's result. A call whose deadline has passed (or is too
  // near to run a statement) gets DEADLINE_EXCEEDED and consumes nothing; the
  // statement is cancelled at the earliest deadline among the calls, whose
  // callers then get DEADLINE_EXCEEDED, and the others run again.
  void ConsumeBatch(absl::Span<ConsumeCall* const> calls);

  // InsertBatch calls waiting to join an insert group (for tests).
  int waiting_inserts() const { return inserts_.waiting(); }

  // One small InsertBatch call: no request_id, no revoke_previous, at most
  // kMaxGroupedTokens tokens (the others run alone, as before). Concurrent
  // calls are coalesced: at most options.insert_statements insert groups run
  // at once, and calls that arrive meanwhile go together in the next one
  // (InsertGroup).
  struct InsertCall {
    const NewBatch* batch = nullptr;
    absl::Time deadline = absl::InfiniteFuture();  // the call's own
    // Set when the group's statement failed: the call runs again alone, on
    // its own thread, so one call's bad input fails only that call.
    bool run_alone = false;
    absl::StatusOr<InsertBatchResult> result = absl::UnknownError("not run");
  };
  static constexpr size_t kMaxGroupedTokens = 100;

  // Inserts every call's batch and tokens in one statement (one transaction,
  // one commit). Sets each call's result, or its run_alone when the
  // statement failed (nothing of it stays). A call whose deadline has passed
  // (or is too near to run a statement) gets DEADLINE_EXCEEDED and writes
  // nothing; the statement is cancelled at the earliest deadline among the
  // calls, whose callers then get DEADLINE_EXCEEDED, and the others run alone.
  void InsertGroup(absl::Span<InsertCall* const> calls);

 private:
  PostgresTokenStore(PostgresOptions options, std::unique_ptr<PgConnectionPool> pool,
                     std::unique_ptr<PgConnectionPool> health_pool);

  // Runs `body` in a StoreTransaction on a pooled connection: waits for one
  // until `deadline` (at most acquire_timeout), gives each statement the time
  // left (StatementTimeoutFor), classifies pqxx exceptions (pg_errors.h),
  // replaces broken connections and re-runs `body` after a deadlock or
  // serialization failure while time is left, logging one that still
  // reaches the caller. DEADLINE_EXCEEDED when the deadline came first
  // (nothing was changed). `body` commits what it writes.
  // Logs every INTERNAL outcome with its cause.
  template <typename T, typename Body>
  absl::StatusOr<T> Run(const char* operation, absl::Time deadline, Body&& body);
  template <typename T, typename Body>
  absl::StatusOr<T> RunAttempts(const char* operation, absl::Time deadline, Body&& body);

  // One consume statement for `calls` that ends in time for `deadline`:
  // each call's result, or the statement's failure.
  absl::StatusOr<std::vector<absl::StatusOr<ConsumeResult>>> ConsumeOnce(
      absl::Span<ConsumeCall* const> calls, absl::Time deadline);

  // InsertBatch in a transaction of its own (request_id, revoke_previous,
  // large batches, and calls whose group failed).
  absl::StatusOr<InsertBatchResult> InsertAlone(const NewBatch& batch, absl::Time now,
                                                absl::Duration idempotency_window,
                                                absl::Time deadline);

  const PostgresOptions options_;
  const StatementMode statement_mode_;
  const std::unique_ptr<PgConnectionPool> pool_;
  // Ping's own connection (a pool of one), so that health does not wait
  // behind calls for a pooled connection.
  const std::unique_ptr<PgConnectionPool> health_pool_;
  Coalescer<ConsumeCall> consumes_;
  Coalescer<InsertCall> inserts_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_TOKEN_STORE_H_
