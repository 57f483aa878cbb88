#include "server/store/sqlite/migrations.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace magiclink {
namespace {

// Times are microseconds since the Unix epoch. Token hashes are the only
// trace of a token; the plaintext is never stored.
const std::vector<std::string>& Migrations() {
  static const auto* const kMigrations = new std::vector<std::string>{
      // 1: batches and tokens.
      R"sql(
CREATE TABLE batches (
  batch_id            TEXT PRIMARY KEY,
  issued_by           TEXT NOT NULL,
  purpose             TEXT NOT NULL,
  redirect_url        TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  expires_at          INTEGER NOT NULL,
  total               INTEGER NOT NULL,
  request_id          TEXT,
  request_fingerprint BLOB,
  replay_sealed       BLOB
);
-- Idempotency: one batch per caller and request_id.
CREATE UNIQUE INDEX batches_request_id ON batches (issued_by, request_id)
  WHERE request_id IS NOT NULL;
CREATE TABLE tokens (
  token_hash       BLOB PRIMARY KEY,
  key_id           TEXT NOT NULL,
  batch_id         TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
  position         INTEGER NOT NULL,
  email            TEXT NOT NULL,
  purpose          TEXT NOT NULL,
  metadata         TEXT NOT NULL,
  issued_at        INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  consumed_at      INTEGER,
  revoked_at       INTEGER,
  consume_key_hash BLOB
) WITHOUT ROWID;
-- GetBatch, ListLinks, replays and revoke-by-batch walk a batch in order.
CREATE UNIQUE INDEX tokens_batch_position ON tokens (batch_id, position);
-- Revoke by email and revoke_previous look only at live tokens.
CREATE INDEX tokens_live_email ON tokens (email, purpose)
  WHERE consumed_at IS NULL AND revoked_at IS NULL;
-- The sweeper finds expired tokens without scanning the table.
CREATE INDEX tokens_expires_at ON tokens (expires_at);
)sql",
      // 2: one check value per token key id (TokenKeyring::KeyChecks), so a
      // process with another secret under a known id refuses to start.
      R"sql(
CREATE TABLE key_checks (
  key_id      TEXT PRIMARY KEY,
  check_value TEXT NOT NULL
) WITHOUT ROWID;
)sql",
  };
  return *kMigrations;
}

absl::StatusOr<int64_t> SchemaVersion(SqliteDb& db) {
  absl::StatusOr<SqliteStatement*> s = db.Prepare("PRAGMA user_version");
  if (!s.ok()) return s.status();
  absl::StatusOr<bool> row = (*s)->Step();
  if (!row.ok()) return row.status();
  const int64_t version = (*s)->Int(0);
  (*s)->Reset();
  return version;
}

}  // namespace

absl::Status ApplySqliteMigrations(SqliteDb& db) {
  const std::vector<std::string>& migrations = Migrations();
  for (size_t i = 0; i < migrations.size(); ++i) {
    const int64_t target = static_cast<int64_t>(i) + 1;
    absl::Status status = InTransaction(db, [&]() -> absl::Status {
      // Re-read inside the write lock: another process may have migrated.
      absl::StatusOr<int64_t> version = SchemaVersion(db);
      if (!version.ok()) return version.status();
      if (*version > static_cast<int64_t>(migrations.size())) {
        return absl::FailedPreconditionError(
            absl::StrCat("the database has schema version ", *version,
                         ", newer than this magiclinkd understands (",
                         migrations.size(), ")"));
      }
      if (*version >= target) return absl::OkStatus();
      if (absl::Status s = db.Exec(migrations[i]); !s.ok()) return s;
      return db.Exec(absl::StrCat("PRAGMA user_version = ", target));
    });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace magiclink
