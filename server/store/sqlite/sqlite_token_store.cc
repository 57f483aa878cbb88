#include "server/store/sqlite/sqlite_token_store.h"

#include "absl/strings/str_cat.h"
#include "server/core/errors.h"
#include "server/store/sqlite/migrations.h"
#include "server/store/token_rows.h"

namespace magiclink {
namespace {

// Named statements. Times are microseconds since the Unix epoch.
// In token_rows::ClaimsColumn order.
constexpr char kClaimsColumns[] =
    "t.batch_id, t.position, t.email, t.purpose, t.metadata, b.redirect_url, t.issued_at, "
    "t.expires_at, t.consumed_at, t.revoked_at, t.consume_key_hash";

constexpr char kFindRequestId[] =
    "SELECT batch_id, request_fingerprint, replay_sealed, created_at FROM batches "
    "WHERE issued_by = ?1 AND request_id = ?2";
constexpr char kForgetRequestId[] =
    "UPDATE batches SET request_id = NULL, replay_sealed = NULL "
    "WHERE issued_by = ?1 AND request_id = ?2";
constexpr char kInsertBatch[] =
    "INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, "
    "total, request_id, request_fingerprint, replay_sealed) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr char kInsertToken[] =
    "INSERT INTO tokens (token_hash, key_id, batch_id, position, email, purpose, metadata, "
    "issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr char kRevokeLiveByEmail[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE email = ?2 AND purpose = ?3 "
    "AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";
constexpr char kRevokeLiveByEmailAnyPurpose[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE email = ?2 "
    "AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";
constexpr char kRevokeLiveByBatch[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE batch_id = ?2 "
    "AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";
constexpr char kRevokeLiveByHash[] =
    "UPDATE tokens SET revoked_at = ?1 WHERE token_hash = ?2 "
    "AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";
constexpr char kConsume[] =
    "UPDATE tokens SET consumed_at = ?1, consume_key_hash = ?2 WHERE token_hash = ?3 "
    "AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?1 "
    "AND (?4 = '' OR purpose = ?4)";
// Links in token_rows::LinkColumn order. ?1 batch_id ?2 after position
// ?3 state filter code (token_rows::StateFilterCode) ?4 now ?5 limit.
const std::string& BatchLinksSql() {
  static const auto* const kSql = new std::string(absl::StrCat(
      "SELECT position, email, issued_at, expires_at, consumed_at, revoked_at FROM tokens "
      "WHERE batch_id = ?1 AND position > ?2 AND ",
      token_rows::StateFilterSql("?3", "", "?4"), " ORDER BY position LIMIT ?5"));
  return *kSql;
}
constexpr char kBatchExists[] = "SELECT 1 FROM batches WHERE batch_id = ?1";
// ?1 batch_id ?2 now.
const std::string& BatchSummarySql() {
  static const auto* const kSql = new std::string(
      absl::StrCat("SELECT b.purpose, b.issued_by, b.redirect_url, b.created_at, b.total, ",
                   token_rows::CountsByStateSql("t", "?2"),
                   " FROM batches b LEFT JOIN tokens t ON t.batch_id = b.batch_id "
                   "WHERE b.batch_id = ?1 GROUP BY b.batch_id"));
  return *kSql;
}
constexpr char kSweepTokens[] =
    "DELETE FROM tokens WHERE token_hash IN (SELECT token_hash FROM tokens "
    "WHERE expires_at < ?1 OR consumed_at < ?1 OR revoked_at < ?1 LIMIT ?2)";
constexpr char kSweepBatches[] =
    "DELETE FROM batches WHERE batch_id IN (SELECT b.batch_id FROM batches b "
    "WHERE b.created_at < ?1 AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.batch_id = b.batch_id) "
    "LIMIT ?2)";
constexpr char kPurgeReplays[] =
    "UPDATE batches SET replay_sealed = NULL WHERE batch_id IN (SELECT batch_id FROM batches "
    "WHERE replay_sealed IS NOT NULL AND created_at < ?1 LIMIT ?2)";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t micros) { return absl::FromUnixMicros(micros); }
// Runs `statement` bound by `bind` and returns the number of rows changed.
template <typename Bind>
absl::StatusOr<int64_t> RunUpdate(SqliteDb& db, const char* sql, Bind&& bind) {
  absl::StatusOr<SqliteStatement*> s = db.Prepare(sql);
  if (!s.ok()) return s.status();
  bind(**s);
  if (absl::Status r = (*s)->Run(); !r.ok()) return r;
  const int64_t changed = db.Changes();
  (*s)->Reset();
  return changed;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteTokenStore>> SqliteTokenStore::Open(
    const std::string& path, absl::Duration busy_timeout) {
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path, busy_timeout);
  if (!db.ok()) return db.status();
  if (absl::Status s = ApplySqliteMigrations(**db); !s.ok()) return s;
  return std::unique_ptr<SqliteTokenStore>(new SqliteTokenStore(*std::move(db)));
}

absl::StatusOr<std::optional<ExistingBatch>> SqliteTokenStore::ClaimRequestIdLocked(
    const NewBatch& batch, absl::Time now, absl::Duration window) {
  absl::StatusOr<SqliteStatement*> find = db_->Prepare(kFindRequestId);
  if (!find.ok()) return find.status();
  SqliteStatement& s = **find;
  s.BindText(1, batch.issued_by);
  s.BindText(2, batch.request_id);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  ExistingBatch existing{s.Text(0), s.Blob(1), s.Blob(2), FromMicros(s.Int(3))};
  s.Reset();
  if (existing.created_at > now - window) return existing;
  // Outside the window the id is forgotten and may name a new batch.
  absl::StatusOr<int64_t> forgotten = RunUpdate(*db_, kForgetRequestId, [&](SqliteStatement& u) {
    u.BindText(1, batch.issued_by);
    u.BindText(2, batch.request_id);
  });
  if (!forgotten.ok()) return forgotten.status();
  return std::nullopt;
}

absl::StatusOr<int64_t> SqliteTokenStore::RevokePreviousLocked(const NewBatch& batch) {
  int64_t revoked = 0;
  for (const NewToken& token : batch.tokens) {
    absl::StatusOr<int64_t> n = RunUpdate(*db_, kRevokeLiveByEmail, [&](SqliteStatement& s) {
      s.BindInt(1, Micros(batch.created_at));
      s.BindText(2, token.email);
      s.BindText(3, batch.purpose);
    });
    if (!n.ok()) return n.status();
    revoked += *n;
  }
  return revoked;
}

absl::StatusOr<InsertBatchResult> SqliteTokenStore::InsertBatch(const NewBatch& batch,
                                                                absl::Time now,
                                                                absl::Duration idempotency_window,
                                                                absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return InTransaction(*db_, [&]() -> absl::StatusOr<InsertBatchResult> {
    InsertBatchResult result;
    if (!batch.request_id.empty()) {
      absl::StatusOr<std::optional<ExistingBatch>> existing =
          ClaimRequestIdLocked(batch, now, idempotency_window);
      if (!existing.ok()) return existing.status();
      if (*existing) {
        result.existing = **existing;
        return result;
      }
    }
    if (batch.revoke_previous) {
      absl::StatusOr<int64_t> revoked = RevokePreviousLocked(batch);
      if (!revoked.ok()) return revoked.status();
      result.revoked_previous = *revoked;
    }
    absl::StatusOr<int64_t> inserted = RunUpdate(*db_, kInsertBatch, [&](SqliteStatement& s) {
      s.BindText(1, batch.batch_id);
      s.BindText(2, batch.issued_by);
      s.BindText(3, batch.purpose);
      s.BindText(4, batch.redirect_url);
      s.BindInt(5, Micros(batch.created_at));
      s.BindInt(6, Micros(batch.expires_at));
      s.BindInt(7, static_cast<int64_t>(batch.tokens.size()));
      if (batch.request_id.empty()) {
        s.BindNull(8);
        s.BindNull(9);
        s.BindNull(10);
      } else {
        s.BindText(8, batch.request_id);
        s.BindBlob(9, batch.request_fingerprint);
        s.BindBlob(10, batch.replay_sealed);
      }
    });
    if (!inserted.ok()) return inserted.status();
    absl::StatusOr<SqliteStatement*> insert_token = db_->Prepare(kInsertToken);
    if (!insert_token.ok()) return insert_token.status();
    SqliteStatement& s = **insert_token;
    for (const NewToken& token : batch.tokens) {
      s.BindBlob(1, token.token_hash);
      s.BindText(2, token.key_id);
      s.BindText(3, batch.batch_id);
      s.BindInt(4, token.position);
      s.BindText(5, token.email);
      s.BindText(6, batch.purpose);
      s.BindText(7, EncodeMetadataJson(token.metadata));
      s.BindInt(8, Micros(batch.created_at));
      s.BindInt(9, Micros(batch.expires_at));
      if (absl::Status r = s.Run(); !r.ok()) return r;
      s.Reset();
    }
    return result;
  });
}

absl::StatusOr<std::vector<LinkRecord>> SqliteTokenStore::BatchLinks(const std::string& batch_id,
                                                                     absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<SqliteStatement*> stmt = db_->Prepare(BatchLinksSql());
  if (!stmt.ok()) return stmt.status();
  SqliteStatement& s = **stmt;
  s.BindText(1, batch_id);
  s.BindInt(2, -1);
  s.BindInt(3, 0);
  s.BindInt(4, 0);
  s.BindInt(5, -1);  // no limit
  std::vector<LinkRecord> out;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(token_rows::ReadLink(s));
  }
  s.Reset();
  return out;
}

absl::StatusOr<std::optional<TokenClaims>> SqliteTokenStore::FindLocked(
    const std::vector<std::string>& token_hashes) {
  absl::StatusOr<SqliteStatement*> stmt =
      db_->Prepare(absl::StrCat("SELECT ", kClaimsColumns,
                                " FROM tokens t JOIN batches b ON b.batch_id = t.batch_id "
                                "WHERE t.token_hash = ?1"));
  if (!stmt.ok()) return stmt.status();
  SqliteStatement& s = **stmt;
  for (const std::string& hash : token_hashes) {
    s.BindBlob(1, hash);
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (*row) {
      absl::StatusOr<TokenClaims> claims = token_rows::ReadClaims(s);
      s.Reset();
      if (!claims.ok()) return claims.status();
      return std::optional<TokenClaims>(*std::move(claims));
    }
    s.Reset();
  }
  return std::nullopt;
}

absl::StatusOr<ConsumeResult> SqliteTokenStore::ConsumeToken(
    const std::vector<std::string>& token_hashes, const ConsumeRequest& request, absl::Time now,
    absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return InTransaction(*db_, [&]() -> absl::StatusOr<ConsumeResult> {
    ConsumeResult result;
    for (const std::string& hash : token_hashes) {
      absl::StatusOr<int64_t> n = RunUpdate(*db_, kConsume, [&](SqliteStatement& s) {
        s.BindInt(1, Micros(now));
        if (request.consume_key_hash.empty()) {
          s.BindNull(2);
        } else {
          s.BindBlob(2, request.consume_key_hash);
        }
        s.BindBlob(3, hash);
        s.BindText(4, request.expected_purpose);
      });
      if (!n.ok()) return n.status();
      if (*n > 0) {
        result.consumed = true;
        break;
      }
    }
    absl::StatusOr<std::optional<TokenClaims>> claims = FindLocked(token_hashes);
    if (!claims.ok()) return claims.status();
    result.claims = *std::move(claims);
    return result;
  });
}

absl::StatusOr<std::optional<TokenClaims>> SqliteTokenStore::FindToken(
    const std::vector<std::string>& token_hashes, absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return FindLocked(token_hashes);
}

absl::StatusOr<int64_t> SqliteTokenStore::Revoke(const RevokeTarget& target, absl::Time now,
                                                 absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return InTransaction(*db_, [&]() -> absl::StatusOr<int64_t> {
    if (!target.batch_id.empty()) {
      return RunUpdate(*db_, kRevokeLiveByBatch, [&](SqliteStatement& s) {
        s.BindInt(1, Micros(now));
        s.BindText(2, target.batch_id);
      });
    }
    if (!target.email.empty()) {
      const char* sql = target.purpose.empty() ? kRevokeLiveByEmailAnyPurpose : kRevokeLiveByEmail;
      return RunUpdate(*db_, sql, [&](SqliteStatement& s) {
        s.BindInt(1, Micros(now));
        s.BindText(2, target.email);
        if (!target.purpose.empty()) s.BindText(3, target.purpose);
      });
    }
    int64_t revoked = 0;
    for (const std::string& hash : target.token_hashes) {
      absl::StatusOr<int64_t> n = RunUpdate(*db_, kRevokeLiveByHash, [&](SqliteStatement& s) {
        s.BindInt(1, Micros(now));
        s.BindBlob(2, hash);
      });
      if (!n.ok()) return n.status();
      revoked += *n;
    }
    return revoked;
  });
}

absl::StatusOr<std::optional<BatchSummary>> SqliteTokenStore::GetBatch(const std::string& batch_id,
                                                                       absl::Time now,
                                                                       absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<SqliteStatement*> stmt = db_->Prepare(BatchSummarySql());
  if (!stmt.ok()) return stmt.status();
  SqliteStatement& s = **stmt;
  s.BindText(1, batch_id);
  s.BindInt(2, Micros(now));
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::nullopt;
  BatchSummary b;
  b.batch_id = batch_id;
  b.purpose = s.Text(0);
  b.issued_by = s.Text(1);
  b.redirect_url = s.Text(2);
  b.created_at = FromMicros(s.Int(3));
  b.total = s.Int(4);
  b.outstanding = s.Int(5);
  b.consumed = s.Int(6);
  b.revoked = s.Int(7);
  b.expired = s.Int(8);
  s.Reset();
  return std::optional<BatchSummary>(std::move(b));
}

absl::StatusOr<std::optional<LinkPage>> SqliteTokenStore::ListLinks(const std::string& batch_id,
                                                                    std::optional<TokenState> state,
                                                                    int after_position, int limit,
                                                                    absl::Time now,
                                                                    absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<SqliteStatement*> exists = db_->Prepare(kBatchExists);
  if (!exists.ok()) return exists.status();
  (*exists)->BindText(1, batch_id);
  absl::StatusOr<bool> found = (*exists)->Step();
  (*exists)->Reset();
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;

  absl::StatusOr<SqliteStatement*> stmt = db_->Prepare(BatchLinksSql());
  if (!stmt.ok()) return stmt.status();
  SqliteStatement& s = **stmt;
  s.BindText(1, batch_id);
  s.BindInt(2, after_position);
  s.BindInt(3, token_rows::StateFilterCode(state));
  s.BindInt(4, Micros(now));
  s.BindInt(5, static_cast<int64_t>(limit) + 1);  // one more tells whether a next page exists
  LinkPage page;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (static_cast<int>(page.links.size()) == limit) {
      page.more = true;
      break;
    }
    page.links.push_back(token_rows::ReadLink(s));
  }
  s.Reset();
  return std::optional<LinkPage>(std::move(page));
}

absl::StatusOr<SweepResult> SqliteTokenStore::Sweep(absl::Time token_cutoff,
                                                    absl::Time replay_cutoff, int max_rows,
                                                    absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return InTransaction(*db_, [&]() -> absl::StatusOr<SweepResult> {
    SweepResult result;
    auto bind_cutoff = [&](absl::Time cutoff) {
      return [&, cutoff](SqliteStatement& s) {
        s.BindInt(1, Micros(cutoff));
        s.BindInt(2, max_rows);
      };
    };
    absl::StatusOr<int64_t> tokens = RunUpdate(*db_, kSweepTokens, bind_cutoff(token_cutoff));
    if (!tokens.ok()) return tokens.status();
    absl::StatusOr<int64_t> batches = RunUpdate(*db_, kSweepBatches, bind_cutoff(token_cutoff));
    if (!batches.ok()) return batches.status();
    absl::StatusOr<int64_t> replays = RunUpdate(*db_, kPurgeReplays, bind_cutoff(replay_cutoff));
    if (!replays.ok()) return replays.status();
    result.tokens_deleted = *tokens;
    result.batches_deleted = *batches;
    result.replays_purged = *replays;
    return result;
  });
}

absl::StatusOr<std::vector<KeyCheck>> SqliteTokenStore::RecordKeyChecks(
    const std::vector<KeyCheck>& checks, absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  return InTransaction(*db_, [&]() -> absl::StatusOr<std::vector<KeyCheck>> {
    for (const KeyCheck& check : checks) {
      absl::StatusOr<int64_t> inserted =
          RunUpdate(*db_,
                    "INSERT INTO key_checks (key_id, check_value) VALUES (?1, ?2) "
                    "ON CONFLICT (key_id) DO NOTHING",
                    [&](SqliteStatement& s) {
                      s.BindText(1, check.key_id);
                      s.BindText(2, check.check);
                    });
      if (!inserted.ok()) return inserted.status();
    }
    absl::StatusOr<SqliteStatement*> s =
        db_->Prepare("SELECT key_id, check_value FROM key_checks ORDER BY key_id");
    if (!s.ok()) return s.status();
    std::vector<KeyCheck> recorded;
    for (;;) {
      absl::StatusOr<bool> row = (*s)->Step();
      if (!row.ok()) {
        (*s)->Reset();
        return row.status();
      }
      if (!*row) break;
      recorded.push_back({(*s)->Text(0), (*s)->Text(1)});
    }
    (*s)->Reset();
    return recorded;
  });
}

absl::Status SqliteTokenStore::Ping(absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<SqliteStatement*> s = db_->Prepare("SELECT 1");
  if (!s.ok()) return s.status();
  absl::StatusOr<bool> row = (*s)->Step();
  (*s)->Reset();
  return row.status();
}

}  // namespace magiclink
