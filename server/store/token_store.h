// TokenStore: the one interface every storage backend implements (SQLite for
// the embedded default, PostgreSQL for production). A store keeps tokens only
// as keyed hashes and makes each operation one atomic transaction; it decides
// nothing about validity beyond what its conditional statements need, so both
// stores answer alike (the contract suite in tests/store/ proves it).
//
//   absl::StatusOr<InsertBatchResult> r = store.InsertBatch(batch, now, window, deadline);
//   absl::StatusOr<ConsumeResult> c = store.ConsumeToken(hashes, request, now, deadline);
//
// Every method is thread-safe. A store that cannot reach its database returns
// UNAVAILABLE (reason STORE_UNAVAILABLE); nothing is half-written.
//
// Every method takes the call's `deadline` (the gRPC call's, which the
// service passes down; kNoDeadline for work no caller waits for: the
// sweeper, start-up, the health probe). A store that can block (PostgreSQL:
// waiting for a pooled connection, a statement's run time, a coalesced
// consume) stops when it passes and answers DEADLINE_EXCEEDED or
// UNAVAILABLE, having changed nothing; a store that cannot block (SQLite,
// bounded by its busy timeout) ignores it. Every method takes one, not only
// those that block today, so a caller never has to know which store it has.
#ifndef MAGICLINK_SERVER_STORE_TOKEN_STORE_H_
#define MAGICLINK_SERVER_STORE_TOKEN_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/keyring.h"
#include "server/core/token_state.h"

namespace magiclink {

// One token to insert.
struct NewToken {
  std::string token_hash;  // TokenKeyring::HashForMinting(token).hash
  std::string key_id;
  int position = 0;  // index of the recipient in the request
  std::string email;
  Metadata metadata;
};

// A batch to insert, with all its tokens.
struct NewBatch {
  std::string batch_id;
  std::string issued_by;  // caller name
  std::string purpose;
  std::string redirect_url;
  absl::Time created_at;
  absl::Time expires_at;
  // Idempotency: empty request_id means none. replay_sealed is what the
  // service needs to rebuild the response (sealed by the keyring).
  std::string request_id;
  std::string request_fingerprint;
  std::string replay_sealed;
  // Revoke the outstanding tokens of this purpose for these emails first.
  bool revoke_previous = false;
  std::vector<NewToken> tokens;
};

// An existing batch found by (issued_by, request_id).
struct ExistingBatch {
  std::string batch_id;
  std::string request_fingerprint;
  std::string replay_sealed;  // empty once the idempotency window has passed
  absl::Time created_at;
};

// The outcome of InsertBatch.
struct InsertBatchResult {
  // Set when the request_id was already used within the idempotency window:
  // nothing was written.
  std::optional<ExistingBatch> existing;
  // Tokens revoked by revoke_previous.
  int64_t revoked_previous = 0;
};

// A token as listed for a replay or for ListLinks.
struct LinkRecord {
  int position = 0;
  std::string email;
  absl::Time issued_at;
  absl::Time expires_at;
  std::optional<absl::Time> consumed_at;
  std::optional<absl::Time> revoked_at;
};

// What a consume asks for.
struct ConsumeRequest {
  std::string expected_purpose;  // empty: any purpose
  std::string consume_key_hash;  // empty: none
};

// The outcome of ConsumeToken.
struct ConsumeResult {
  bool consumed = false;  // true: this call consumed the token
  // The token's claims (after the update when consumed); nullopt when no
  // stored token matches.
  std::optional<TokenClaims> claims;
};

// What Revoke targets: exactly one of the three.
struct RevokeTarget {
  std::vector<std::string> token_hashes;  // candidate hashes of one token
  std::string email;                      // normalised
  std::string purpose;                    // narrows email
  std::string batch_id;
};

// A batch's summary for GetBatch.
struct BatchSummary {
  std::string batch_id;
  std::string purpose;
  std::string issued_by;
  std::string redirect_url;
  absl::Time created_at;
  int64_t total = 0;
  int64_t outstanding = 0;
  int64_t consumed = 0;
  int64_t revoked = 0;
  int64_t expired = 0;
};

// One page of ListLinks.
struct LinkPage {
  std::vector<LinkRecord> links;
  bool more = false;  // there are links after the last one returned
};

// What one Sweep call removed.
struct SweepResult {
  int64_t tokens_deleted = 0;
  int64_t batches_deleted = 0;
  int64_t replays_purged = 0;
};

// The deadline of a call no caller waits for: the store's own limits apply.
inline constexpr absl::Time kNoDeadline = absl::InfiniteFuture();

class TokenStore {
 public:
  virtual ~TokenStore() = default;

  // Inserts a batch and all its tokens in one transaction. When
  // batch.request_id is set and (issued_by, request_id) already names a batch
  // created after `now - idempotency_window`, writes nothing and returns it in
  // `existing`; concurrent inserts with one request_id create one batch. An
  // older batch with that request_id forgets it first.
  virtual absl::StatusOr<InsertBatchResult> InsertBatch(const NewBatch& batch, absl::Time now,
                                                        absl::Duration idempotency_window,
                                                        absl::Time deadline) = 0;

  // The links of a batch in position order (for replays).
  virtual absl::StatusOr<std::vector<LinkRecord>> BatchLinks(const std::string& batch_id,
                                                             absl::Time deadline) = 0;

  // Atomically marks the token consumed if it is outstanding at `now` and its
  // purpose matches; otherwise changes nothing and returns its claims (if it
  // exists) so the caller can say why.
  virtual absl::StatusOr<ConsumeResult> ConsumeToken(const std::vector<std::string>& token_hashes,
                                                     const ConsumeRequest& request, absl::Time now,
                                                     absl::Time deadline) = 0;

  // The claims of the token, without changing it.
  virtual absl::StatusOr<std::optional<TokenClaims>> FindToken(
      const std::vector<std::string>& token_hashes, absl::Time deadline) = 0;

  // Revokes every token of the target that is outstanding at `now`; returns
  // how many.
  virtual absl::StatusOr<int64_t> Revoke(const RevokeTarget& target, absl::Time now,
                                         absl::Time deadline) = 0;

  // A batch's summary with counts by state at `now`; nullopt when unknown.
  virtual absl::StatusOr<std::optional<BatchSummary>> GetBatch(const std::string& batch_id,
                                                               absl::Time now,
                                                               absl::Time deadline) = 0;

  // Up to `limit` links of a batch with position > `after_position`, in
  // position order, optionally only those in `state` at `now`; nullopt when
  // the batch is unknown.
  virtual absl::StatusOr<std::optional<LinkPage>> ListLinks(const std::string& batch_id,
                                                            std::optional<TokenState> state,
                                                            int after_position, int limit,
                                                            absl::Time now,
                                                            absl::Time deadline) = 0;

  // Deletes up to `max_rows` tokens that expired, were consumed or were
  // revoked before `token_cutoff`, deletes batches left without tokens and
  // created before `token_cutoff`, and purges replay material of batches
  // created before `replay_cutoff`. Safe to run from several replicas.
  virtual absl::StatusOr<SweepResult> Sweep(absl::Time token_cutoff, absl::Time replay_cutoff,
                                            int max_rows, absl::Time deadline) = 0;

  // Records each key's check value unless its id already has one (the first
  // writer wins, also when replicas start at once) and returns every check
  // value the database holds afterwards, by key id. With no `checks`, only
  // reads them.
  virtual absl::StatusOr<std::vector<KeyCheck>> RecordKeyChecks(const std::vector<KeyCheck>& checks,
                                                                absl::Time deadline) = 0;

  // OK when the database answers; UNAVAILABLE otherwise. The health check
  // calls it once a second: it must not wait behind calls in flight (a
  // saturated but working store is up).
  virtual absl::Status Ping(absl::Time deadline) = 0;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_TOKEN_STORE_H_
