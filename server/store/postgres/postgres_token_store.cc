#include "server/store/postgres/postgres_token_store.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"
#include "server/core/errors.h"
#include "server/core/metadata.h"
#include "server/observability/log.h"
#include "server/store/postgres/migrations.h"
#include "server/store/postgres/pg_errors.h"
#include "server/store/postgres/pg_values.h"
#include "server/store/postgres/statements.h"
#include "server/store/store_deadline.h"

namespace magiclink {
namespace {

// How many times InsertBatch re-reads a request_id that changes hands under
// it (its holder rolled back, or its old batch was forgotten meanwhile).
constexpr int kMaxRequestIdRounds = 3;

absl::Status Internal(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kInternal, v1::INTERNAL, message);
}

absl::StatusOr<TokenClaims> ReadClaims(const pqxx::row& row) {
  TokenClaims c;
  c.batch_id = row[pgsql::kClaimsBatchId].as<std::string>();
  c.position = row[pgsql::kClaimsPosition].as<int>();
  c.email = row[pgsql::kClaimsEmail].as<std::string>();
  c.purpose = row[pgsql::kClaimsPurpose].as<std::string>();
  absl::StatusOr<Metadata> metadata = DecodeMetadataJson(row[pgsql::kClaimsMetadata].c_str());
  if (!metadata.ok()) return Internal("a stored token has malformed metadata");
  c.metadata = *std::move(metadata);
  c.redirect_url = row[pgsql::kClaimsRedirectUrl].as<std::string>();
  c.issued_at = FromMicros(row[pgsql::kClaimsIssuedAt].as<int64_t>());
  c.expires_at = FromMicros(row[pgsql::kClaimsExpiresAt].as<int64_t>());
  c.consumed_at = OptionalTime(row[pgsql::kClaimsConsumedAt]);
  c.revoked_at = OptionalTime(row[pgsql::kClaimsRevokedAt]);
  c.consume_key_hash = Bytes(row[pgsql::kClaimsConsumeKeyHash]);
  return c;
}

LinkRecord ReadLink(const pqxx::row& row) {
  LinkRecord l;
  l.position = row[pgsql::kLinkPosition].as<int>();
  l.email = row[pgsql::kLinkEmail].as<std::string>();
  l.issued_at = FromMicros(row[pgsql::kLinkIssuedAt].as<int64_t>());
  l.expires_at = FromMicros(row[pgsql::kLinkExpiresAt].as<int64_t>());
  l.consumed_at = OptionalTime(row[pgsql::kLinkConsumedAt]);
  l.revoked_at = OptionalTime(row[pgsql::kLinkRevokedAt]);
  return l;
}

int StateCode(std::optional<TokenState> state) {
  if (!state) return pgsql::kAnyState;
  switch (*state) {
    case TokenState::kOutstanding:
      return pgsql::kOutstandingState;
    case TokenState::kConsumed:
      return pgsql::kConsumedState;
    case TokenState::kRevoked:
      return pgsql::kRevokedState;
    case TokenState::kExpired:
      return pgsql::kExpiredState;
  }
  return pgsql::kAnyState;
}

// The per-token columns of a batch as array literals for kInsertTokens.
struct TokenArrays {
  std::string hashes = "{";
  std::string positions = "{";
  std::string key_ids = "{";
  std::string emails = "{";
  std::string metadata = "{";
};

TokenArrays ToArrays(const std::vector<NewToken>& tokens) {
  TokenArrays a;
  // Reserved up front: growing five strings of up to a few MB by doubling
  // made glibc consolidate its free lists again and again (about a tenth of
  // IssueBatch's server CPU). Sizes allow for the quotes, separators and the
  // odd escaped character.
  size_t key_id_bytes = 0;
  size_t email_bytes = 0;
  size_t metadata_bytes = 0;
  for (const NewToken& t : tokens) {
    key_id_bytes += t.key_id.size() + 4;
    email_bytes += t.email.size() + 4;
    for (const auto& [key, value] : t.metadata) metadata_bytes += key.size() + value.size() + 8;
  }
  const size_t n = tokens.size();
  a.hashes.reserve(2 + n * (6 + 2 * 32 + 1));
  a.positions.reserve(2 + n * 11);
  a.key_ids.reserve(2 + key_id_bytes);
  a.emails.reserve(2 + email_bytes + email_bytes / 8);
  a.metadata.reserve(2 + n * 5 + 2 * metadata_bytes);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const NewToken& t = tokens[i];
    if (i > 0) {
      for (std::string* s : {&a.hashes, &a.positions, &a.key_ids, &a.emails, &a.metadata}) {
        s->push_back(',');
      }
    }
    AppendByteaArrayElement(a.hashes, t.token_hash);
    absl::StrAppend(&a.positions, t.position);
    AppendArrayElement(a.key_ids, t.key_id);
    AppendArrayElement(a.emails, t.email);
    AppendArrayElement(a.metadata, EncodeMetadataJson(t.metadata));
  }
  for (std::string* s : {&a.hashes, &a.positions, &a.key_ids, &a.emails, &a.metadata}) {
    s->push_back('}');
  }
  return a;
}

// Claims the batch's request_id (if any) by inserting the batch row. Returns
// the batch that already holds the id within the window, or nullopt once the
// row is in.
absl::StatusOr<std::optional<ExistingBatch>> InsertBatchRow(pqxx::work& tx, StatementMode mode,
                                                            const NewBatch& batch, absl::Time now,
                                                            absl::Duration window) {
  const pqxx::binarystring fingerprint(batch.request_fingerprint);
  const pqxx::binarystring sealed(batch.replay_sealed);
  for (int round = 0; round < kMaxRequestIdRounds; ++round) {
    pqxx::result inserted = ExecStatement(
        tx, mode, pgsql::kInsertBatch, batch.batch_id, batch.issued_by, batch.purpose,
        batch.redirect_url, ToMicros(batch.created_at), ToMicros(batch.expires_at),
        static_cast<int64_t>(batch.tokens.size()), batch.request_id, fingerprint, sealed);
    if (!inserted.empty()) return std::nullopt;
    // Only a request_id conflict makes ON CONFLICT skip the row.
    pqxx::result found =
        ExecStatement(tx, mode, pgsql::kFindRequestId, batch.issued_by, batch.request_id);
    if (found.empty()) continue;  // its holder let go meanwhile: try again
    ExistingBatch existing;
    existing.batch_id = found[0][0].as<std::string>();
    existing.request_fingerprint = Bytes(found[0][1]);
    existing.replay_sealed = Bytes(found[0][2]);
    existing.created_at = FromMicros(found[0][3].as<int64_t>());
    if (existing.created_at > now - window) return existing;
    // Past the idempotency window the id is forgotten and may name this batch.
    ExecStatement(tx, mode, pgsql::kForgetRequestId, batch.issued_by, batch.request_id,
                  ToMicros(now - window));
  }
  return StoreUnavailable("the request_id kept changing hands; retry the call");
}

}  // namespace

template <typename T, typename Body>
absl::StatusOr<T> PostgresTokenStore::Run(const char* operation, Body&& body) {
  absl::StatusOr<T> result = RunAttempts<T>(operation, body);
  // The caller sees only "internal error": the cause goes to the log
  // (operation, SQLSTATE and statement name; never SQL or values).
  if (result.status().code() == absl::StatusCode::kInternal) {
    Log(LogLevel::kError, "store_internal_error",
        {{"operation", operation}, {"error", std::string(result.status().message())}});
  }
  return result;
}

template <typename T, typename Body>
absl::StatusOr<T> PostgresTokenStore::RunAttempts(const char* operation, Body&& body) {
  const absl::Time deadline =
      std::min(absl::Now() + options_.acquire_timeout, ScopedStoreDeadline::Current());
  absl::Status last;
  for (int attempt = 0; attempt < options_.max_transaction_attempts; ++attempt) {
    absl::StatusOr<PgConnectionPool::Lease> lease = pool_->Acquire(deadline);
    if (!lease.ok()) return lease.status();
    try {
      return body(**lease);
    } catch (...) {
      PgFailure failure = ClassifyCurrentException(operation);
      if (failure.connection_unusable) lease->MarkBroken();
      if (!failure.retry) return failure.status;
      last = failure.status;
    }
  }
  return last;
}

PostgresTokenStore::PostgresTokenStore(PostgresOptions options,
                                       std::unique_ptr<PgConnectionPool> pool)
    : options_(std::move(options)),
      statement_mode_(options_.prepared_statements ? StatementMode::kPrepared
                                                   : StatementMode::kUnnamed),
      pool_(std::move(pool)),
      consumes_(std::min(options_.consume_statements, options_.pool_size),
                options_.max_consume_batch,
                [this](absl::Span<ConsumeCall* const> calls) { ConsumeBatch(calls); }) {}

absl::StatusOr<std::unique_ptr<PostgresTokenStore>> PostgresTokenStore::Open(
    const PostgresOptions& options) {
  if (absl::Status s = ValidatePostgresOptions(options); !s.ok()) return s;
  absl::StatusOr<std::string> conninfo = BuildConninfo(options);
  if (!conninfo.ok()) return conninfo.status();
  auto pool = std::make_unique<PgConnectionPool>(
      *std::move(conninfo),
      PgConnectionPool::Limits{options.pool_size, options.reconnect_backoff, options.observer},
      options.prepared_statements ? PgConnectionPool::Setup(PreparePostgresStatements) : nullptr);
  {
    absl::StatusOr<PgConnectionPool::Lease> lease =
        pool->Acquire(absl::Now() + options.acquire_timeout);
    if (!lease.ok()) return lease.status();
    if (options.migrate) {
      absl::StatusOr<int> version = ApplyPostgresMigrations(**lease);
      if (!version.ok()) return version.status();
    } else {
      absl::StatusOr<int> version = CurrentPostgresSchemaVersion(**lease);
      if (!version.ok()) return version.status();
      if (*version != LatestPostgresSchemaVersion()) {
        return absl::FailedPreconditionError(
            absl::StrCat("the database has schema version ", *version, ", this magiclinkd needs ",
                         LatestPostgresSchemaVersion(), ": run magiclinkd --migrate_only"));
      }
    }
  }
  return std::unique_ptr<PostgresTokenStore>(new PostgresTokenStore(options, std::move(pool)));
}

absl::StatusOr<InsertBatchResult> PostgresTokenStore::InsertBatch(
    const NewBatch& batch, absl::Time now, absl::Duration idempotency_window) {
  // Built before a connection is taken: 10,000 tokens take a few ms to encode.
  const TokenArrays arrays = ToArrays(batch.tokens);
  std::string emails;
  if (batch.revoke_previous) {
    std::vector<std::string> list;
    list.reserve(batch.tokens.size());
    for (const NewToken& t : batch.tokens) list.push_back(t.email);
    emails = TextArrayLiteral(list);
  }
  return Run<InsertBatchResult>(
      "InsertBatch", [&](pqxx::connection& c) -> absl::StatusOr<InsertBatchResult> {
        pqxx::work tx(c);
        InsertBatchResult result;
        absl::StatusOr<std::optional<ExistingBatch>> existing =
            InsertBatchRow(tx, statement_mode_, batch, now, idempotency_window);
        if (!existing.ok()) return existing.status();
        if (existing->has_value()) {
          result.existing = **std::move(existing);
          return result;  // rolls back: nothing written
        }
        if (batch.revoke_previous) {
          result.revoked_previous = static_cast<int64_t>(
              Exec(tx, pgsql::kRevokePrevious, emails, batch.purpose, ToMicros(now))
                  .affected_rows());
        }
        Exec(tx, pgsql::kInsertTokens, batch.batch_id, ToMicros(batch.expires_at), batch.purpose,
             arrays.hashes, arrays.positions, arrays.key_ids, arrays.emails, arrays.metadata);
        tx.commit();
        return result;
      });
}

absl::StatusOr<std::vector<LinkRecord>> PostgresTokenStore::BatchLinks(
    const std::string& batch_id) {
  return Run<std::vector<LinkRecord>>(
      "BatchLinks", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<LinkRecord>> {
        pqxx::nontransaction tx(c);
        pqxx::result rows = Exec(tx, pgsql::kBatchLinks, batch_id);
        std::vector<LinkRecord> links;
        links.reserve(rows.size());
        for (const pqxx::row& row : rows) links.push_back(ReadLink(row));
        return links;
      });
}

absl::StatusOr<ConsumeResult> PostgresTokenStore::ConsumeToken(
    const std::vector<std::string>& token_hashes, const ConsumeRequest& request, absl::Time now) {
  ConsumeCall call;
  call.token_hashes = &token_hashes;
  call.request = &request;
  call.now = now;
  call.deadline = ScopedStoreDeadline::Current();
  consumes_.Run(call);
  return std::move(call.result);
}

void PostgresTokenStore::ConsumeBatch(absl::Span<ConsumeCall* const> calls) {
  if (options_.observer != nullptr) {
    options_.observer->ConsumeStatement(static_cast<int>(calls.size()));
  }
  // One array element per candidate hash, tagged with its call's index.
  ArrayLiteral items, hashes, nows, keys, purposes;
  absl::Time deadline = absl::InfinitePast();
  for (size_t i = 0; i < calls.size(); ++i) {
    const ConsumeCall& call = *calls[i];
    deadline = std::max(deadline, call.deadline);
    for (const std::string& hash : *call.token_hashes) {
      items.AddNumber(static_cast<int64_t>(i));
      hashes.AddBytea(hash);
      nows.AddNumber(ToMicros(call.now));
      keys.AddBytea(call.request->consume_key_hash);
      purposes.AddText(call.request->expected_purpose);
    }
  }
  const std::string item_array = std::move(items).Finish();
  const std::string hash_array = std::move(hashes).Finish();
  const std::string now_array = std::move(nows).Finish();
  const std::string key_array = std::move(keys).Finish();
  const std::string purpose_array = std::move(purposes).Finish();
  // A batch waits for a connection as long as its most patient call would.
  ScopedStoreDeadline batch_deadline(deadline);
  using Results = std::vector<absl::StatusOr<ConsumeResult>>;
  absl::StatusOr<Results> results =
      Run<Results>("ConsumeToken", [&](pqxx::connection& c) -> absl::StatusOr<Results> {
        // Autocommit: the UPDATE is its own transaction, one round trip.
        pqxx::nontransaction tx(c);
        Results out(calls.size(), ConsumeResult{});
        std::vector<bool> answered(calls.size(), false);
        auto answer = [&](const pqxx::row& row, bool consumed) {
          const int item = row[pgsql::kClaimsBatchItem].as<int>();
          if (item < 0 || static_cast<size_t>(item) >= calls.size() || answered[item]) return;
          answered[item] = true;
          absl::StatusOr<TokenClaims> claims = ReadClaims(row);
          if (!claims.ok()) {
            out[item] = claims.status();
            return;
          }
          out[item] = ConsumeResult{consumed, *std::move(claims)};
        };
        for (const pqxx::row& row : Exec(tx, pgsql::kConsumeBatch, item_array, hash_array,
                                         now_array, key_array, purpose_array)) {
          answer(row, /*consumed=*/true);
        }
        // Only the calls that consumed nothing pay for the lookup that tells why.
        ArrayLiteral missed_items, missed_hashes;
        for (size_t i = 0; i < calls.size(); ++i) {
          if (answered[i]) continue;
          for (const std::string& hash : *calls[i]->token_hashes) {
            missed_items.AddNumber(static_cast<int64_t>(i));
            missed_hashes.AddBytea(hash);
          }
        }
        if (!missed_items.empty()) {
          for (const pqxx::row& row : Exec(tx, pgsql::kFindTokens, std::move(missed_items).Finish(),
                                           std::move(missed_hashes).Finish())) {
            answer(row, /*consumed=*/false);
          }
        }
        return out;
      });
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i]->result =
        results.ok() ? std::move((*results)[i]) : absl::StatusOr<ConsumeResult>(results.status());
  }
}

absl::StatusOr<std::optional<TokenClaims>> PostgresTokenStore::FindToken(
    const std::vector<std::string>& token_hashes) {
  const std::string hashes = ByteaArrayLiteral(token_hashes);
  return Run<std::optional<TokenClaims>>(
      "FindToken", [&](pqxx::connection& c) -> absl::StatusOr<std::optional<TokenClaims>> {
        pqxx::nontransaction tx(c);
        pqxx::result rows = Exec(tx, pgsql::kFindToken, hashes);
        if (rows.empty()) return std::nullopt;
        absl::StatusOr<TokenClaims> claims = ReadClaims(rows[0]);
        if (!claims.ok()) return claims.status();
        return std::optional<TokenClaims>(*std::move(claims));
      });
}

absl::StatusOr<int64_t> PostgresTokenStore::Revoke(const RevokeTarget& target, absl::Time now) {
  const std::string hashes = ByteaArrayLiteral(target.token_hashes);
  return Run<int64_t>("Revoke", [&](pqxx::connection& c) -> absl::StatusOr<int64_t> {
    pqxx::nontransaction tx(c);
    pqxx::result r;
    if (!target.batch_id.empty()) {
      r = Exec(tx, pgsql::kRevokeByBatch, target.batch_id, ToMicros(now));
    } else if (!target.email.empty()) {
      r = Exec(tx, pgsql::kRevokeByEmail, target.email, target.purpose, ToMicros(now));
    } else {
      r = Exec(tx, pgsql::kRevokeByHash, hashes, ToMicros(now));
    }
    return static_cast<int64_t>(r.affected_rows());
  });
}

absl::StatusOr<std::optional<BatchSummary>> PostgresTokenStore::GetBatch(
    const std::string& batch_id, absl::Time now) {
  return Run<std::optional<BatchSummary>>(
      "GetBatch", [&](pqxx::connection& c) -> absl::StatusOr<std::optional<BatchSummary>> {
        pqxx::nontransaction tx(c);
        pqxx::result rows = Exec(tx, pgsql::kBatchSummary, batch_id, ToMicros(now));
        if (rows.empty()) return std::nullopt;
        const pqxx::row& row = rows[0];
        BatchSummary b;
        b.batch_id = batch_id;
        b.purpose = row[0].as<std::string>();
        b.issued_by = row[1].as<std::string>();
        b.redirect_url = row[2].as<std::string>();
        b.created_at = FromMicros(row[3].as<int64_t>());
        b.total = row[4].as<int64_t>();
        b.outstanding = row[5].as<int64_t>();
        b.consumed = row[6].as<int64_t>();
        b.revoked = row[7].as<int64_t>();
        b.expired = row[8].as<int64_t>();
        return std::optional<BatchSummary>(std::move(b));
      });
}

absl::StatusOr<std::optional<LinkPage>> PostgresTokenStore::ListLinks(
    const std::string& batch_id, std::optional<TokenState> state, int after_position, int limit,
    absl::Time now) {
  // One row more than asked tells whether another page follows.
  const int64_t fetch = static_cast<int64_t>(std::max(limit, 0)) + 1;
  return Run<std::optional<LinkPage>>(
      "ListLinks", [&](pqxx::connection& c) -> absl::StatusOr<std::optional<LinkPage>> {
        pqxx::nontransaction tx(c);
        pqxx::result rows = Exec(tx, pgsql::kListLinks, batch_id, after_position, StateCode(state),
                                 ToMicros(now), fetch);
        if (rows.empty()) return std::nullopt;  // no such batch
        LinkPage page;
        for (const pqxx::row& row : rows) {
          if (row[pgsql::kLinkPosition].is_null()) break;  // the batch has no such links
          if (static_cast<int>(page.links.size()) == limit) {
            page.more = true;
            break;
          }
          page.links.push_back(ReadLink(row));
        }
        return std::optional<LinkPage>(std::move(page));
      });
}

absl::StatusOr<SweepResult> PostgresTokenStore::Sweep(absl::Time token_cutoff,
                                                      absl::Time replay_cutoff, int max_rows) {
  if (max_rows <= 0) return SweepResult{};
  // Autocommit, one bounded statement at a time: a sweep holds its row locks
  // only for one chunk, and an interrupted sweep leaves nothing to undo.
  return Run<SweepResult>("Sweep", [&](pqxx::connection& c) -> absl::StatusOr<SweepResult> {
    pqxx::nontransaction tx(c);
    SweepResult result;
    absl::flat_hash_set<std::string> emptied;
    auto collect = [&](const pqxx::result& deleted) {
      result.tokens_deleted += static_cast<int64_t>(deleted.size());
      for (const pqxx::row& row : deleted) emptied.insert(row[0].as<std::string>());
    };
    const int64_t cutoff = ToMicros(token_cutoff);
    collect(tx.exec_params(SweepSql(pgsql::Sweep::kExpiredTokens), cutoff, max_rows));
    if (result.tokens_deleted < max_rows) {
      collect(tx.exec_params(SweepSql(pgsql::Sweep::kSpentTokens), cutoff,
                             max_rows - result.tokens_deleted));
    }
    const std::string emptied_ids =
        TextArrayLiteral(std::vector<std::string>(emptied.begin(), emptied.end()));
    result.batches_deleted = static_cast<int64_t>(
        tx.exec_params(SweepSql(pgsql::Sweep::kEmptyBatches), cutoff, max_rows, emptied_ids)
            .affected_rows());
    result.replays_purged = static_cast<int64_t>(
        tx.exec_params(SweepSql(pgsql::Sweep::kPurgeReplays), ToMicros(replay_cutoff), max_rows)
            .affected_rows());
    return result;
  });
}

absl::StatusOr<std::vector<KeyCheck>> PostgresTokenStore::RecordKeyChecks(
    const std::vector<KeyCheck>& checks) {
  std::vector<std::string> ids, values;
  for (const KeyCheck& check : checks) {
    ids.push_back(check.key_id);
    values.push_back(check.check);
  }
  const std::string id_array = TextArrayLiteral(ids);
  const std::string value_array = TextArrayLiteral(values);
  return Run<std::vector<KeyCheck>>(
      "RecordKeyChecks", [&](pqxx::connection& c) -> absl::StatusOr<std::vector<KeyCheck>> {
        // Read committed: the read sees what a racing replica committed
        // while this insert waited for it.
        pqxx::work tx(c);
        if (!checks.empty()) Exec(tx, pgsql::kRecordKeyChecks, id_array, value_array);
        std::vector<KeyCheck> recorded;
        for (const pqxx::row& row : Exec(tx, pgsql::kKeyChecks)) {
          recorded.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
        }
        tx.commit();
        return recorded;
      });
}

absl::Status PostgresTokenStore::Ping() {
  return Run<bool>("Ping",
                   [&](pqxx::connection& c) -> absl::StatusOr<bool> {
                     pqxx::nontransaction tx(c);
                     tx.exec("SELECT 1");
                     return true;
                   })
      .status();
}

}  // namespace magiclink
