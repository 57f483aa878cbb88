#include "server/store/postgres/statements.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "pqxx/nontransaction"
#include "server/store/token_rows.h"

namespace magiclink {
namespace {

// A token's claims (token_rows::ClaimsColumn), from tokens t joined with its
// batch b.
constexpr char kClaimsColumns[] =
    "t.batch_id, t.position, t.email, t.purpose, t.metadata, b.redirect_url, "
    "magiclink_micros(b.created_at), magiclink_micros(t.expires_at), "
    "magiclink_micros(t.consumed_at), magiclink_micros(t.revoked_at), t.consume_key_hash";

// A link's listing (token_rows::LinkColumn), from the token columns of `t`
// and its batch b.
std::string LinkColumns(absl::string_view t) {
  return absl::StrCat(t, ".position, ", t, ".email, magiclink_micros(b.created_at), ",
                      "magiclink_micros(", t, ".expires_at), magiclink_micros(", t,
                      ".consumed_at), magiclink_micros(", t, ".revoked_at)");
}

// "Outstanding at `now`" for statements that find tokens by email: spelled
// as the predicate of tokens_outstanding_email, so the planner can use it.
std::string OutstandingByEmail(absl::string_view now) {
  return absl::StrCat("consumed_at IS NULL AND revoked_at IS NULL AND expires_at > magiclink_time(",
                      now, ")");
}

// The same condition for statements that find tokens by hash or batch. It is
// deliberately not the partial index's predicate: where it was, a planner
// without statistics (a new or freshly loaded table) took "IS NULL" to match
// 0.5% of rows, judged tokens_outstanding_email tiny and read all of it for
// one hash (measured: 28 ms per Verify at 30,000 tokens instead of 0.1 ms).
std::string OutstandingByKey(absl::string_view now) {
  return absl::StrCat("num_nonnulls(consumed_at, revoked_at) = 0 AND expires_at > magiclink_time(",
                      now, ")");
}

// Every statement that changes several tokens locks them first, in one
// order for all of them: ascending token_hash. Two statements that lock in
// opposite orders (two replicas' consume batches naming the same tokens in
// different orders) deadlock, and an UPDATE locks its rows in whatever order
// its plan meets them. A SELECT ... ORDER BY ... FOR NO KEY UPDATE sorts
// first and then locks each row as the sort hands it out, so the locks are
// taken in that order (PostgreSQL's SELECT reference, "The Locking Clause").
// MATERIALIZED keeps the locking query a step of its own; the UPDATE changes
// only rows it returned (joined on the key), re-checking its conditions on
// each row's latest version. Rows already spent are not locked. FOR NO KEY
// UPDATE is the lock the UPDATE itself takes (no key column changes).
// `find` selects the rows (from tokens); the result is the CTE "locked".
std::string LockInHashOrder(absl::string_view find) {
  return absl::StrCat("locked AS MATERIALIZED (SELECT token_hash FROM tokens WHERE ", find,
                      " ORDER BY token_hash FOR NO KEY UPDATE)");
}

// Revokes the outstanding tokens `find` selects, locking them in hash order.
// $now is the parameter holding the time.
std::string RevokeLocked(absl::string_view find, absl::string_view now) {
  return absl::StrCat(
      "WITH ", LockInHashOrder(find), " UPDATE tokens SET revoked_at = magiclink_time(", now,
      ") FROM locked l WHERE tokens.token_hash = l.token_hash AND ", OutstandingByKey(now));
}

struct Statement {
  const char* name;
  std::string sql;
};

const std::vector<Statement>& Statements() {
  static const auto* const kStatements = new std::vector<Statement>{
      // The batch row first: ON CONFLICT makes PostgreSQL the arbiter of a
      // request_id. A racing insert with the same id waits for the winner's
      // transaction, then does nothing and returns no row.
      // $1 batch_id $2 issued_by $3 purpose $4 redirect_url $5 created_at
      // $6 expires_at $7 total $8 request_id ('' = none) $9 fingerprint
      // $10 replay_sealed.
      {pgsql::kInsertBatch,
       "INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, "
       "total, request_id, request_fingerprint, replay_sealed) "
       "VALUES ($1, $2, $3, $4, magiclink_time($5), magiclink_time($6), $7, NULLIF($8::text, ''), "
       "NULLIF($9::bytea, ''::bytea), NULLIF($10::bytea, ''::bytea)) "
       "ON CONFLICT (issued_by, request_id) WHERE request_id IS NOT NULL DO NOTHING "
       "RETURNING batch_id"},
      // $1 issued_by $2 request_id.
      {pgsql::kFindRequestId,
       "SELECT batch_id, request_fingerprint, replay_sealed, magiclink_micros(created_at) "
       "FROM batches WHERE issued_by = $1 AND request_id = $2"},
      // Frees a request_id whose batch is older than the idempotency window.
      // The age check keeps a racing insert from freeing a fresh batch's id.
      // $1 issued_by $2 request_id $3 window start.
      {pgsql::kForgetRequestId,
       "UPDATE batches SET request_id = NULL, replay_sealed = NULL "
       "WHERE issued_by = $1 AND request_id = $2 AND created_at <= magiclink_time($3)"},
      // One statement for every address of the batch (index tokens_outstanding_email).
      // $1 emails (text[]) $2 purpose $3 now.
      {pgsql::kRevokePrevious,
       RevokeLocked(
           absl::StrCat("email = ANY($1::text[]) AND purpose = $2 AND ", OutstandingByEmail("$3")),
           "$3")},
      // Every token of a batch in one statement: the per-token columns arrive
      // as arrays and unnest() turns them into rows; batch-wide values are
      // sent once. $1 batch_id $2 expires_at $3 purpose $4 hashes (bytea[])
      // $5 positions (int[]) $6 key ids $7 emails $8 metadata (text[]).
      {pgsql::kInsertTokens,
       "INSERT INTO tokens (token_hash, batch_id, position, expires_at, key_id, email, purpose, "
       "metadata) "
       "SELECT u.h, $1, u.p, e.at, u.k, u.e, $3, u.m "
       "FROM (SELECT magiclink_time($2) AS at) e, "
       "unnest($4::bytea[], $5::int[], $6::text[], $7::text[], $8::text[]) AS u(h, p, k, e, m)"},
      // Several small batches without request_id or revoke_previous, each
      // with all its tokens, in one statement (the store coalesces
      // concurrent IssueBatch calls: one transaction and one WAL flush for
      // all of them). Batch rows arrive as arrays, one element per batch:
      // $1 batch_id $2 issued_by $3 purpose $4 redirect_url $5 created_at
      // $6 expires_at $7 total; token rows as arrays, one element per token,
      // each naming its batch: $8 batch_id $9 hash (bytea[]) $10 position
      // $11 expires_at $12 purpose $13 key id $14 email $15 metadata.
      {pgsql::kInsertBatches,
       "WITH b AS (INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, "
       "expires_at, total) "
       "SELECT u.id, u.by, u.p, u.url, magiclink_time(u.c), magiclink_time(u.x), u.n "
       "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], "
       "$7::int[]) AS u(id, by, p, url, c, x, n)) "
       "INSERT INTO tokens (token_hash, batch_id, position, expires_at, key_id, email, purpose, "
       "metadata) "
       "SELECT u.h, u.b, u.p, magiclink_time(u.x), u.k, u.e, u.pu, u.m "
       "FROM unnest($8::text[], $9::bytea[], $10::int[], $11::bigint[], $12::text[], "
       "$13::text[], $14::text[], $15::text[]) AS u(b, h, p, x, pu, k, e, m)"},
      // $1 batch_id.
      {pgsql::kBatchLinks, absl::StrCat("SELECT ", LinkColumns("t"),
                                        " FROM batches b JOIN tokens t ON t.batch_id = b.batch_id "
                                        "WHERE b.batch_id = $1 ORDER BY t.position")},
      // Verify CONSUME for a batch of concurrent calls (the store coalesces
      // them): one atomic statement. A token's row changes only if it is
      // outstanding and its purpose matches; of concurrent consumes
      // PostgreSQL lets exactly one match (the others re-check the updated
      // row and find consumed_at set), also when one batch names a token
      // twice (a row is updated once per statement). The outstanding rows it
      // names are locked first, in hash order (LockInHashOrder), so statements
      // of several replicas over the same tokens never deadlock. The claims
      // come back in the same round trip, tagged with the call's place in the
      // batch. One element per candidate hash: $1 item (the call's index)
      // $2 hash (bytea[]) $3 now $4 consume_key_hash ('' = none)
      // $5 expected purpose ('' = any).
      {pgsql::kConsumeBatch,
       absl::StrCat("WITH ",
                    LockInHashOrder("token_hash = ANY($2::bytea[]) AND "
                                    "num_nonnulls(consumed_at, revoked_at) = 0"),
                    ", t AS (UPDATE tokens SET consumed_at = magiclink_time(r.now_us), "
                    "consume_key_hash = NULLIF(r.consume_key, ''::bytea) "
                    "FROM locked l, "
                    "unnest($1::int[], $2::bytea[], $3::bigint[], $4::bytea[], $5::text[]) "
                    "AS r(item, hash, now_us, consume_key, expected_purpose) "
                    "WHERE tokens.token_hash = l.token_hash AND r.hash = l.token_hash AND ",
                    OutstandingByKey("r.now_us"),
                    " AND (r.expected_purpose = '' OR purpose = r.expected_purpose) "
                    "RETURNING r.item, batch_id, position, email, purpose, metadata, expires_at, "
                    "consumed_at, revoked_at, consume_key_hash) "
                    "SELECT ",
                    kClaimsColumns, ", t.item FROM t JOIN batches b ON b.batch_id = t.batch_id")},
      // Why the calls of a batch that consumed nothing did not: their tokens'
      // claims as they are now, tagged like kConsumeBatch's rows.
      // $1 item $2 hash (bytea[]), one element per candidate hash.
      {pgsql::kFindTokens,
       absl::StrCat(
           "SELECT ", kClaimsColumns,
           ", r.item FROM unnest($1::int[], $2::bytea[]) AS r(item, hash) "
           "JOIN tokens t ON t.token_hash = r.hash JOIN batches b ON b.batch_id = t.batch_id")},
      // $1 candidate hashes (bytea[]).
      {pgsql::kFindToken, absl::StrCat("SELECT ", kClaimsColumns,
                                       " FROM tokens t JOIN batches b ON b.batch_id = t.batch_id "
                                       "WHERE t.token_hash = ANY($1::bytea[]) LIMIT 1")},
      // $1 candidate hashes (bytea[]) $2 now.
      {pgsql::kRevokeByHash,
       RevokeLocked(absl::StrCat("token_hash = ANY($1::bytea[]) AND ", OutstandingByKey("$2")),
                    "$2")},
      // $1 email $2 purpose ('' = any) $3 now.
      {pgsql::kRevokeByEmail,
       RevokeLocked(absl::StrCat("email = $1 AND ($2::text = '' OR purpose = $2) AND ",
                                 OutstandingByEmail("$3")),
                    "$3")},
      // $1 batch_id $2 now.
      {pgsql::kRevokeByBatch,
       RevokeLocked(absl::StrCat("batch_id = $1 AND ", OutstandingByKey("$2")), "$2")},
      // One row when the batch exists (counts are 0 once its tokens are
      // swept), none when it does not. $1 batch_id $2 now.
      {pgsql::kBatchSummary,
       absl::StrCat(
           "SELECT b.purpose, b.issued_by, b.redirect_url, magiclink_micros(b.created_at), "
           "b.total, ",
           token_rows::CountsByStateSql("t", "magiclink_time($2)"),
           " FROM batches b LEFT JOIN tokens t ON t.batch_id = b.batch_id "
           "WHERE b.batch_id = $1 GROUP BY b.batch_id")},
      // A page of a batch's links and whether the batch exists, in one round
      // trip: no row for an unknown batch, one row of NULLs for an empty page.
      // $1 batch_id $2 after position $3 state filter code
      // (token_rows::StateFilterCode) $4 now $5 limit.
      {pgsql::kListLinks,
       absl::StrCat(
           "SELECT ", LinkColumns("l"), " FROM batches b LEFT JOIN LATERAL (",
           "SELECT position, email, expires_at, consumed_at, revoked_at FROM tokens t "
           "WHERE t.batch_id = b.batch_id AND t.position > $2 AND ",
           token_rows::StateFilterSql("$3", "", "magiclink_time($4)"),
           " ORDER BY position LIMIT $5) l ON true WHERE b.batch_id = $1 ORDER BY l.position")},
      // Start-up: each key's check value unless its id has one. Of replicas
      // starting at once, the first insert wins; the others wait for its
      // commit and then do nothing. $1 key ids (text[]) $2 check values (text[]).
      {pgsql::kRecordKeyChecks,
       "INSERT INTO magiclink_key_checks (key_id, check_value) "
       "SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key_id) DO NOTHING"},
      {pgsql::kKeyChecks, "SELECT key_id, check_value FROM magiclink_key_checks ORDER BY key_id"},
  };
  return *kStatements;
}

// The sweeper's statements. Each deletes or updates a bounded chunk, skipping
// rows another replica's sweeper (or a live call) holds, so sweepers wait
// neither for each other nor for traffic. Chunks are chosen by ctid (locked
// rows keep theirs until the statement ends) so the change itself is a TID
// scan, never a join against the whole table.
//
// They are sent with exec_params, not prepared: they run rarely. Like every
// statement on a store connection they get a generic plan, and a custom one
// would be no better: timestamptz + interval is not folded before planning,
// so the planner guesses a third of the rows match the cutoff either way.
// tests/store checks that each walks its index, the spent-token one also on
// a table whose spent tokens are nearly all newer than the cutoff.
const std::vector<std::string>& SweepStatements() {
  // Indexed by pgsql::Sweep.
  static const auto* const kStatements = new std::vector<std::string>{
      // Expired tokens, reached through their batches: the oldest expired
      // batches by batches_expires_at, then each one's tokens by
      // tokens_batch_position (LATERAL keeps that a per-batch index scan).
      // $1 cutoff $2 max rows.
      "WITH doomed AS (SELECT t.ctid FROM (SELECT batch_id FROM batches "
      "    WHERE expires_at < magiclink_time($1) ORDER BY expires_at LIMIT $2) e "
      "  CROSS JOIN LATERAL (SELECT ctid FROM tokens WHERE batch_id = e.batch_id "
      "    LIMIT $2 FOR UPDATE SKIP LOCKED) t "
      "  LIMIT $2) "
      "DELETE FROM tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) RETURNING batch_id",
      // Tokens used or revoked before the cutoff (index tokens_spent_at).
      // $1 cutoff $2 max rows.
      "WITH doomed AS (SELECT ctid FROM tokens "
      "  WHERE coalesce(consumed_at, revoked_at) < magiclink_time($1) "
      "  AND (consumed_at IS NOT NULL OR revoked_at IS NOT NULL) "
      "  LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "DELETE FROM tokens WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed)) RETURNING batch_id",
      // Batches created before the cutoff and left without tokens: candidates
      // are the oldest expired batches and those whose tokens this sweep just
      // deleted, each looked up by batches_pkey. A batch never gains tokens
      // after its insert, so an empty one stays empty.
      // $1 cutoff $2 max rows $3 batch ids just emptied (text[]).
      "WITH candidates AS ((SELECT batch_id FROM batches "
      "    WHERE expires_at < magiclink_time($1) ORDER BY expires_at LIMIT $2) "
      "  UNION SELECT unnest($3::text[])), "
      "doomed AS (SELECT b.ctid FROM candidates c "
      "  CROSS JOIN LATERAL (SELECT ctid FROM batches b WHERE b.batch_id = c.batch_id "
      "    AND b.created_at < magiclink_time($1) "
      "    AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.batch_id = b.batch_id) "
      "    FOR UPDATE SKIP LOCKED) b "
      "  LIMIT $2) "
      "DELETE FROM batches WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed))",
      // Replay material past the idempotency window (index
      // batches_replay_created_at). $1 cutoff $2 max rows.
      "WITH doomed AS (SELECT ctid FROM batches "
      "  WHERE replay_sealed IS NOT NULL AND created_at < magiclink_time($1) "
      "  LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "UPDATE batches SET replay_sealed = NULL WHERE ctid = ANY(ARRAY(SELECT ctid FROM doomed))",
  };
  return *kStatements;
}

}  // namespace

void PreparePostgresStatements(pqxx::connection& connection) {
  // Plan each prepared statement once per connection. Left to choose,
  // PostgreSQL re-plans the consume statement on every call: "= ANY($1)" of
  // an unknown array is costed as ten index probes, so the generic plan
  // always looks dearer than a custom one, and the custom planning (the
  // inlined magiclink_time() bodies included) cost more than the update
  // itself: about 280 of 650 us of PostgreSQL CPU per Verify CONSUME
  // (docs/performance.md). Every statement here finds its rows by a key, so
  // the generic plan is the plan; tests/store checks each one's indexes.
  pqxx::nontransaction tx(connection);
  tx.exec("SET plan_cache_mode = force_generic_plan");
  tx.commit();
  for (const Statement& s : Statements()) connection.prepare(s.name, s.sql);
}

const std::string& PreparedStatementSql(absl::string_view name) {
  for (const Statement& s : Statements()) {
    if (name == s.name) return s.sql;
  }
  static const auto* const kNone = new std::string();
  return *kNone;
}

absl::string_view StatementName(absl::string_view name_or_sql) {
  // libpqxx reports a failed prepare as "[PREPARE name]".
  if (absl::ConsumePrefix(&name_or_sql, "[PREPARE ")) absl::ConsumeSuffix(&name_or_sql, "]");
  for (const Statement& s : Statements()) {
    if (name_or_sql == s.name || name_or_sql == s.sql) return s.name;
  }
  static constexpr const char* kSweepNames[] = {"sweep_expired_tokens", "sweep_spent_tokens",
                                                "sweep_empty_batches", "sweep_purge_replays"};
  const std::vector<std::string>& sweeps = SweepStatements();
  for (size_t i = 0; i < sweeps.size(); ++i) {
    if (name_or_sql == sweeps[i]) return kSweepNames[i];
  }
  return "";
}

const std::string& SweepSql(pgsql::Sweep statement) {
  return SweepStatements()[static_cast<size_t>(statement)];
}

}  // namespace magiclink
