// Every statement the PostgreSQL store runs, by name. Each connection
// prepares them once (PreparePostgresStatements), so a call sends only the
// statement name and its parameters.
//
// Conventions: times travel as bigint microseconds (magiclink_time() /
// magiclink_micros() convert), token hashes as bytea[] literals so one
// statement matches any of a token's candidate hashes (one per configured
// key), and "outstanding at $now" is spelled two ways on purpose: as the
// partial index's predicate where tokens are found by email, and so that it
// cannot match that index where they are found by hash or batch (see
// OutstandingByKey in statements.cc).
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_STATEMENTS_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_STATEMENTS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "pqxx/connection"

namespace magiclink {
namespace pgsql {

// Statement names (the SQL is in statements.cc).
inline constexpr char kInsertBatch[] = "insert_batch";
inline constexpr char kFindRequestId[] = "find_request_id";
inline constexpr char kForgetRequestId[] = "forget_request_id";
inline constexpr char kRevokePrevious[] = "revoke_previous";
inline constexpr char kInsertTokens[] = "insert_tokens";
inline constexpr char kBatchLinks[] = "batch_links";
inline constexpr char kConsumeBatch[] = "consume_batch";
inline constexpr char kFindTokens[] = "find_tokens";
inline constexpr char kFindToken[] = "find_token";
inline constexpr char kRevokeByHash[] = "revoke_by_hash";
inline constexpr char kRevokeByEmail[] = "revoke_by_email";
inline constexpr char kRevokeByBatch[] = "revoke_by_batch";
inline constexpr char kBatchSummary[] = "batch_summary";
inline constexpr char kListLinks[] = "list_links";

// The sweeper's statements (see SweepSql).
enum class Sweep { kExpiredTokens, kSpentTokens, kEmptyBatches, kPurgeReplays };

// Column order of kConsumeBatch, kFindTokens and kFindToken rows (ReadClaims
// reads them); kConsumeBatch and kFindTokens add the call's place in the batch.
enum ClaimsColumn {
  kClaimsBatchId,
  kClaimsPosition,
  kClaimsEmail,
  kClaimsPurpose,
  kClaimsMetadata,
  kClaimsRedirectUrl,
  kClaimsIssuedAt,
  kClaimsExpiresAt,
  kClaimsConsumedAt,
  kClaimsRevokedAt,
  kClaimsConsumeKeyHash,
  kClaimsBatchItem,
};

// Column order of kBatchLinks and kListLinks rows (ReadLink reads them).
enum LinkColumn {
  kLinkPosition,
  kLinkEmail,
  kLinkIssuedAt,
  kLinkExpiresAt,
  kLinkConsumedAt,
  kLinkRevokedAt,
};

// The state filter codes of kListLinks.
inline constexpr int kAnyState = 0;
inline constexpr int kOutstandingState = 1;
inline constexpr int kConsumedState = 2;
inline constexpr int kRevokedState = 3;
inline constexpr int kExpiredState = 4;

}  // namespace pgsql

// Sets `connection` up for the store: registers every statement above but the
// sweeper's, and makes it plan each of them once (generic plans).
void PreparePostgresStatements(pqxx::connection& connection);

// The SQL of the prepared statement `name` ("" when there is none), for
// tests that check how PostgreSQL plans it.
const std::string& PreparedStatementSql(absl::string_view name);

// The SQL of a sweeper statement, for exec_params: planned with each call's
// actual cutoff (see statements.cc).
const std::string& SweepSql(pgsql::Sweep statement);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_STATEMENTS_H_
