#include "server/store/postgres/migrations.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "pqxx/transaction"
#include "server/store/postgres/connection_pool.h"
#include "server/store/postgres/pg_errors.h"

namespace magiclink {
namespace {

// Key of the advisory lock that serialises migrations across processes.
// Arbitrary, but fixed forever: every version of magiclinkd must agree.
constexpr int64_t kMigrationLockKey = 0x6d6c6b6d69677231;  // "mlkmigr1"

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append only: never edit a migration that has shipped.
//
// Times are timestamptz: 8 bytes with microsecond resolution, the same as a
// bigint of micros, but readable in psql and comparable with now() by an
// operator. The store exchanges them as bigint micros through the two
// functions below (STABLE so the planner inlines them; they only do exact
// integer arithmetic, so no time zone setting affects them).
//
// Text columns compared for equality only (ids, emails, purposes) use the "C"
// collation: byte comparison keeps index maintenance on the issue path cheap
// in databases whose default collation is a locale.
//
// tokens.batch_id has no foreign key: its check would run one lookup per
// inserted token on the issue path. The store keeps the link by itself: a
// batch and its tokens are inserted in one transaction, and a batch is
// deleted only when no token refers to it.
const std::vector<Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1, "batches and tokens", R"sql(
CREATE FUNCTION magiclink_time(micros bigint) RETURNS timestamptz
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN timestamptz 'epoch' + micros * interval '1 microsecond';
CREATE FUNCTION magiclink_micros(t timestamptz) RETURNS bigint
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN (extract(epoch FROM t) * 1000000)::bigint;

CREATE TABLE batches (
  batch_id            text COLLATE "C" PRIMARY KEY,
  issued_by           text COLLATE "C" NOT NULL,
  purpose             text COLLATE "C" NOT NULL,
  redirect_url        text NOT NULL,
  created_at          timestamptz NOT NULL,
  expires_at          timestamptz NOT NULL,
  total               integer NOT NULL,
  request_id          text COLLATE "C",
  request_fingerprint bytea,
  replay_sealed       bytea
);
-- request_id de-duplication, decided by PostgreSQL: of racing inserts with
-- one (issued_by, request_id), on any replica, one wins and the others see
-- ON CONFLICT. Partial: batches without a request_id cost no entry.
CREATE UNIQUE INDEX batches_request_id ON batches (issued_by, request_id)
  WHERE request_id IS NOT NULL;
-- The sweeper reaches expired tokens through their batch: one entry per
-- batch rather than an index on tokens.expires_at with one per token.
CREATE INDEX batches_expires_at ON batches (expires_at);
-- The sweeper finds replay material past the idempotency window. Only
-- batches still holding some are in it.
CREATE INDEX batches_replay_created_at ON batches (created_at)
  WHERE replay_sealed IS NOT NULL;

CREATE TABLE tokens (
  token_hash       bytea PRIMARY KEY,   -- Verify looks tokens up by hash
  batch_id         text COLLATE "C" NOT NULL,
  position         integer NOT NULL,
  expires_at       timestamptz NOT NULL,
  consumed_at      timestamptz,
  revoked_at       timestamptz,
  key_id           text NOT NULL,
  email            text COLLATE "C" NOT NULL,
  purpose          text COLLATE "C" NOT NULL,
  metadata         text NOT NULL,       -- a flat JSON object (EncodeMetadataJson)
  consume_key_hash bytea
);
-- A batch's links in request order: replays, ListLinks, GetBatch counts,
-- revoke by batch and the sweeper's expired-batch path. Inserts of one batch
-- land next to each other, so it is the cheapest index on the issue path.
CREATE UNIQUE INDEX tokens_batch_position ON tokens (batch_id, position);
-- revoke_previous and revoke by email: outstanding tokens of an address.
-- Partial, so it stays as small as the set of live links.
CREATE INDEX tokens_outstanding_email ON tokens (email, purpose)
  WHERE consumed_at IS NULL AND revoked_at IS NULL;
-- The sweeper finds tokens used or revoked before the retention cutoff.
-- New tokens are neither, so issuing never touches this index.
CREATE INDEX tokens_spent_at ON tokens ((coalesce(consumed_at, revoked_at)))
  WHERE consumed_at IS NOT NULL OR revoked_at IS NOT NULL;
)sql"},
      // Replicas on one database must share their token keys: each records a
      // check value per key id (TokenKeyring::KeyChecks, derived from the
      // secret, useless without it) and one with another secret under a
      // recorded id refuses to start.
      {2, "token key checks", R"sql(
CREATE TABLE magiclink_key_checks (
  key_id      text COLLATE "C" PRIMARY KEY,
  check_value text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
  };
  return *kMigrations;
}

constexpr char kCreateVersionTable[] = R"sql(
CREATE TABLE magiclink_schema_migrations (
  version     integer PRIMARY KEY,
  description text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
))sql";

bool VersionTableExists(pqxx::transaction_base& tx) {
  return !tx.exec1("SELECT to_regclass('magiclink_schema_migrations') IS NULL")[0].as<bool>();
}

// 0 for an empty database.
int ReadVersion(pqxx::transaction_base& tx) {
  if (!VersionTableExists(tx)) return 0;
  return tx.exec1("SELECT coalesce(max(version), 0) FROM magiclink_schema_migrations")[0].as<int>();
}

absl::Status NewerThanBinary(int version) {
  return absl::FailedPreconditionError(absl::StrCat("the database has schema version ", version,
                                                    ", newer than this magiclinkd supports (",
                                                    LatestPostgresSchemaVersion(), ")"));
}

}  // namespace

int LatestPostgresSchemaVersion() { return Migrations().back().version; }

absl::StatusOr<int> ApplyPostgresMigrations(pqxx::connection& connection) {
  try {
    pqxx::work tx(connection);
    // Held until commit: a second replica waits here, then (read committed:
    // each statement takes a fresh snapshot) sees the version just written.
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    // Created only when missing (not IF NOT EXISTS, whose NOTICE libpqxx would
    // print at every start); the lock makes the check race-free.
    if (!VersionTableExists(tx)) tx.exec(kCreateVersionTable);
    const int version = ReadVersion(tx);
    if (version > LatestPostgresSchemaVersion()) return NewerThanBinary(version);
    for (const Migration& m : Migrations()) {
      if (m.version <= version) continue;
      tx.exec(m.sql);
      tx.exec_params(
          "INSERT INTO magiclink_schema_migrations (version, description) VALUES ($1, $2)",
          m.version, m.description);
    }
    tx.commit();
    return LatestPostgresSchemaVersion();
  } catch (...) {
    return ClassifyCurrentException("schema migration").status;
  }
}

absl::StatusOr<int> CurrentPostgresSchemaVersion(pqxx::connection& connection) {
  try {
    pqxx::read_transaction tx(connection);
    return ReadVersion(tx);
  } catch (...) {
    return ClassifyCurrentException("schema version check").status;
  }
}

absl::StatusOr<int> MigratePostgres(const PostgresOptions& options) {
  if (absl::Status s = ValidatePostgresOptions(options); !s.ok()) return s;
  absl::StatusOr<std::string> conninfo = BuildConninfo(options);
  if (!conninfo.ok()) return conninfo.status();
  PgConnectionPool pool(*conninfo, {1, absl::ZeroDuration()}, nullptr);
  absl::StatusOr<PgConnectionPool::Lease> lease = pool.Acquire(absl::InfiniteFuture());
  if (!lease.ok()) return lease.status();
  return ApplyPostgresMigrations(**lease);
}

}  // namespace magiclink
