// Every statement the PostgreSQL store runs, by name, and the one place that
// decides how they are sent (ExecStatement). With prepared statements (the
// default) each connection prepares them once (PreparePostgresStatements), so
// a call sends only the statement name and its parameters. Behind a
// transaction-pooling proxy (pgbouncer pool_mode=transaction) a connection's
// next transaction may run on another server session, so there every
// statement is sent unnamed instead: parse, bind and execute in one round
// trip, nothing left on the session.
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
#include <utility>

#include "absl/strings/string_view.h"
#include "pqxx/connection"
#include "pqxx/result"
#include "pqxx/transaction_base"
#include "server/store/token_rows.h"

namespace magiclink {
namespace pgsql {

// Statement names (the SQL is in statements.cc).
inline constexpr char kInsertBatch[] = "insert_batch";
inline constexpr char kFindRequestId[] = "find_request_id";
inline constexpr char kForgetRequestId[] = "forget_request_id";
inline constexpr char kRevokePrevious[] = "revoke_previous";
inline constexpr char kInsertTokens[] = "insert_tokens";
inline constexpr char kInsertBatches[] = "insert_batches";
inline constexpr char kBatchLinks[] = "batch_links";
inline constexpr char kConsumeBatch[] = "consume_batch";
inline constexpr char kFindTokens[] = "find_tokens";
inline constexpr char kFindToken[] = "find_token";
inline constexpr char kRevokeByHash[] = "revoke_by_hash";
inline constexpr char kRevokeByEmail[] = "revoke_by_email";
inline constexpr char kRevokeByBatch[] = "revoke_by_batch";
inline constexpr char kBatchSummary[] = "batch_summary";
inline constexpr char kListLinks[] = "list_links";
inline constexpr char kRecordKeyChecks[] = "record_key_checks";
inline constexpr char kKeyChecks[] = "key_checks";

// The sweeper's statements (see SweepSql).
enum class Sweep { kExpiredTokens, kSpentTokens, kEmptyBatches, kPurgeReplays };

// kConsumeBatch, kFindTokens and kFindToken select claims rows
// (token_rows::ClaimsColumn); kConsumeBatch and kFindTokens add the call's
// place in the batch after them. kBatchLinks and kListLinks select link
// rows (token_rows::LinkColumn).
inline constexpr int kClaimsBatchItem = token_rows::kClaimsColumns;

}  // namespace pgsql

// The SQL of the statement `name` ("" when there is none): what
// ExecStatement sends unnamed; tests also read it to check PostgreSQL's plan.
const std::string& PreparedStatementSql(absl::string_view name);

// How statements are sent (PostgresOptions::prepared_statements).
enum class StatementMode {
  // Named statements, prepared once per connection: the least work per call,
  // but state on the server session.
  kPrepared,
  // Unnamed statements (PQexecParams: Parse/Bind/Execute/Sync in one round
  // trip), planned on every call; no state on the server session.
  kUnnamed,
};

// Sets `connection` up for kPrepared: registers every statement above but
// the sweeper's, and makes it plan each of them once (generic plans). A
// kUnnamed connection needs no set-up.
void PreparePostgresStatements(pqxx::connection& connection);

// Runs the statement `name` (one of pgsql::k*) in `tx` with `params`, as
// `mode` says: the only place the mode changes how a statement runs.
template <typename... Params>
pqxx::result ExecStatement(pqxx::transaction_base& tx, StatementMode mode, const char* name,
                           Params&&... params) {
  if (mode == StatementMode::kPrepared) {
    return tx.exec_prepared(name, std::forward<Params>(params)...);
  }
  return tx.exec_params(PreparedStatementSql(name), std::forward<Params>(params)...);
}

// The name of the statement a libpqxx error reports (its name, "[PREPARE
// name]", or its SQL when it ran unnamed), or "" when it is none of the
// store's statements.
// Errors name statements this way, never by their SQL or values.
absl::string_view StatementName(absl::string_view name_or_sql);

// The SQL of a sweeper statement, for exec_params: planned with each call's
// actual cutoff (see statements.cc).
const std::string& SweepSql(pgsql::Sweep statement);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_STATEMENTS_H_
