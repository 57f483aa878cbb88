// What a TokenStore reports about itself, for metrics: how long each
// operation took, how many links it issued, consumed, revoked and swept, and
// (PostgreSQL) its pool and coalesced consume and insert statements. The store calls it;
// ServerMetrics implements it. Every argument is a count, a duration or a
// value of a fixed enum: nothing a caller sent reaches an observer.
//
//   class PrintingObserver : public StoreObserver { ... };
//   OpenTokenStore(url, postgres_options, &observer);  // nullptr: not observed
#ifndef MAGICLINK_SERVER_OBSERVABILITY_STORE_OBSERVER_H_
#define MAGICLINK_SERVER_OBSERVABILITY_STORE_OBSERVER_H_

#include <cstdint>

#include "absl/time/time.h"

namespace magiclink {

// The TokenStore operations, one per interface method.
enum class StoreOperation {
  kInsertBatch,
  kBatchLinks,
  kConsumeToken,
  kFindToken,
  kRevoke,
  kGetBatch,
  kListLinks,
  kSweep,
  kPing,
};
inline constexpr int kStoreOperationCount = 9;

// The label value of `operation` ("insert_batch", ...).
inline const char* StoreOperationName(StoreOperation operation) {
  switch (operation) {
    case StoreOperation::kInsertBatch:
      return "insert_batch";
    case StoreOperation::kBatchLinks:
      return "batch_links";
    case StoreOperation::kConsumeToken:
      return "consume_token";
    case StoreOperation::kFindToken:
      return "find_token";
    case StoreOperation::kRevoke:
      return "revoke";
    case StoreOperation::kGetBatch:
      return "get_batch";
    case StoreOperation::kListLinks:
      return "list_links";
    case StoreOperation::kSweep:
      return "sweep";
    case StoreOperation::kPing:
      return "ping";
  }
  return "unknown";
}

class StoreObserver {
 public:
  virtual ~StoreObserver() = default;

  // One TokenStore call finished after `elapsed` (waiting for a connection or
  // a consume statement included).
  virtual void OperationDone(StoreOperation operation, absl::Duration elapsed) = 0;

  // Links written by an IssueBatch (not a replay), consumed by a Verify,
  // revoked (by Revoke or revoke_previous), and deleted by the sweeper.
  virtual void LinksIssued(int64_t count) = 0;
  virtual void LinksConsumed(int64_t count) = 0;
  virtual void LinksRevoked(int64_t count) = 0;
  virtual void LinksSwept(int64_t count) = 0;

  // PostgreSQL: connections lent out (+1 when lent, -1 when returned) and
  // calls waiting for one (+1 when a call starts waiting, -1 when it stops).
  virtual void ConnectionsInUse(int delta) = 0;
  virtual void ConnectionWaiters(int delta) = 0;

  // PostgreSQL: one coalesced consume statement ran for `calls` Verify calls.
  virtual void ConsumeStatement(int calls) = 0;

  // PostgreSQL: one coalesced insert statement ran for `calls` IssueBatch calls.
  virtual void InsertStatement(int calls) = 0;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_STORE_OBSERVER_H_
