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
#include "server/store/postgres/store_transaction.h"
#include "server/store/token_rows.h"

namespace magiclink {
namespace {

// How many times InsertBatch re-reads a request_id that changes hands under
// it (its holder rolled back, or its old batch was forgotten meanwhile).
constexpr int kMaxRequestIdRounds = 3;

// The answer of a call whose deadline came before its statement could run or
// finish: nothing was changed.
absl::Status OutOfTime(absl::string_view operation) {
  return ErrorWithReason(absl::StatusCode::kDeadlineExceeded, v1::STORE_UNAVAILABLE,
                         absl::StrCat("the call's deadline passed before PostgreSQL completed ",
                                      operation, "; nothing was changed"));
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
absl::StatusOr<std::optional<ExistingBatch>> InsertBatchRow(StoreTransaction& tx,
                                                            const NewBatch& batch, absl::Time now,
                                                            absl::Duration window) {
  const pqxx::binarystring fingerprint(batch.request_fingerprint);
  const pqxx::binarystring sealed(batch.replay_sealed);
  for (int round = 0; round < kMaxRequestIdRounds; ++round) {
    pqxx::result inserted = tx.Statement(
        pgsql::kInsertBatch, batch.batch_id, batch.issued_by, batch.purpose, batch.redirect_url,
        ToMicros(batch.created_at), ToMicros(batch.expires_at),
        static_cast<int64_t>(batch.tokens.size()), batch.request_id, fingerprint, sealed);
    if (!inserted.empty()) return std::nullopt;
    // Only a request_id conflict makes ON CONFLICT skip the row.
    pqxx::result found = tx.Statement(pgsql::kFindRequestId, batch.issued_by, batch.request_id);
    if (found.empty()) continue;  // its holder let go meanwhile: try again
    ExistingBatch existing;
    existing.batch_id = found[0][0].as<std::string>();
    existing.request_fingerprint = Bytes(found[0][1]);
    existing.replay_sealed = Bytes(found[0][2]);
    existing.created_at = FromMicros(found[0][3].as<int64_t>());
    if (existing.created_at > now - window) return existing;
    // Past the idempotency window the id is forgotten and may name this batch.
    tx.Statement(pgsql::kForgetRequestId, batch.issued_by, batch.request_id,
                 ToMicros(now - window));
  }
  return StoreUnavailable("the request_id kept changing hands; retry the call");
}

}  // namespace

template <typename T, typename Body>
absl::StatusOr<T> PostgresTokenStore::Run(const char* operation, absl::Time deadline, Body&& body) {
  absl::StatusOr<T> result = RunAttempts<T>(operation, deadline, body);
  // The caller sees only "internal error": the cause goes to the log
  // (operation, SQLSTATE and statement name; never SQL or values).
  if (result.status().code() == absl::StatusCode::kInternal) {
    Log(LogLevel::kError, "store_internal_error",
        {{"operation", operation}, {"error", std::string(result.status().message())}});
  }
  return result;
}

template <typename T, typename Body>
absl::StatusOr<T> PostgresTokenStore::RunAttempts(const char* operation, absl::Time deadline,
                                                  Body&& body) {
  const absl::Time wait_until = std::min(absl::Now() + options_.acquire_timeout, deadline);
  PgFailure last;
  StoreTransaction::Trace trace;
  int attempts = 0;
  while (attempts < options_.max_transaction_attempts) {
    if (StatementTimeoutFor(deadline, absl::Now(), options_.statement_timeout) <=
        absl::ZeroDuration()) {
      if (attempts == 0) return OutOfTime(operation);
      break;  // a retryable failure ate the time left: it reaches the caller
    }
    absl::StatusOr<PgConnectionPool::Lease> lease = pool_->Acquire(wait_until);
    if (!lease.ok()) return lease.status();
    // Taken after the wait for a connection: what is left is the statement's.
    const absl::Time start = absl::Now();
    const absl::Duration timeout = StatementTimeoutFor(deadline, start, options_.statement_timeout);
    if (timeout <= absl::ZeroDuration()) return OutOfTime(operation);
    ++attempts;
    trace = StoreTransaction::Trace();
    try {
      StoreTransaction tx(**lease, statement_mode_, timeout, &trace);
      absl::StatusOr<T> result = body(tx);
      if (trace.unclean) lease->MarkBroken();
      return result;
    } catch (...) {
      PgFailure failure = ClassifyCurrentException(operation);
      if (failure.connection_unusable || trace.unclean) lease->MarkBroken();
      // Cancelled by the statement timeout this call set for its deadline:
      // rolled back, so the call changed nothing.
      if (failure.sqlstate == "57014" && timeout < options_.statement_timeout &&
          absl::Now() >= start + timeout) {
        return OutOfTime(operation);
      }
      if (!failure.retry) return failure.status;
      last = std::move(failure);
    }
  }
  // A deadlock or serialization failure that retrying did not cure.
  Log(LogLevel::kWarning, "store_transaction_aborted",
      {{"operation", operation},
       {"statement", trace.statement},
       {"sqlstate", last.sqlstate},
       {"attempts", absl::StrCat(attempts)}});
  return last.status;
}

PostgresTokenStore::PostgresTokenStore(PostgresOptions options,
                                       std::unique_ptr<PgConnectionPool> pool,
                                       std::unique_ptr<PgConnectionPool> health_pool)
    : options_(std::move(options)),
      statement_mode_(options_.prepared_statements ? StatementMode::kPrepared
                                                   : StatementMode::kUnnamed),
      pool_(std::move(pool)),
      health_pool_(std::move(health_pool)),
      consumes_(std::min(options_.consume_statements, options_.pool_size),
                options_.max_consume_batch,
                [this](absl::Span<ConsumeCall* const> calls) { ConsumeBatch(calls); },
                {[](const ConsumeCall& call) { return call.deadline; },
                 [](ConsumeCall& call) { call.result = OutOfTime("ConsumeToken"); }}),
      inserts_(std::min(options_.insert_statements, options_.pool_size), options_.max_insert_group,
               [this](absl::Span<InsertCall* const> calls) { InsertGroup(calls); },
               {[](const InsertCall& call) { return call.deadline; },
                [](InsertCall& call) { call.result = OutOfTime("InsertBatch"); }}) {}

absl::StatusOr<std::unique_ptr<PostgresTokenStore>> PostgresTokenStore::Open(
    const PostgresOptions& options) {
  if (absl::Status s = ValidatePostgresOptions(options); !s.ok()) return s;
  absl::StatusOr<std::string> conninfo = BuildConninfo(options);
  if (!conninfo.ok()) return conninfo.status();
  // One connection, no prepared statements, not observed: Ping's own.
  auto health_pool = std::make_unique<PgConnectionPool>(
      *conninfo, PgConnectionPool::Limits{1, options.reconnect_backoff, nullptr}, nullptr);
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
  return std::unique_ptr<PostgresTokenStore>(
      new PostgresTokenStore(options, std::move(pool), std::move(health_pool)));
}

absl::StatusOr<InsertBatchResult> PostgresTokenStore::InsertBatch(const NewBatch& batch,
                                                                  absl::Time now,
                                                                  absl::Duration idempotency_window,
                                                                  absl::Time deadline) {
  // A request_id may make the insert wait for another transaction holding
  // it, and revoke_previous locks tokens: either would hold up a whole group.
  // Large batches gain nothing from sharing a commit.
  if (!batch.request_id.empty() || batch.revoke_previous ||
      batch.tokens.size() > kMaxGroupedTokens) {
    return InsertAlone(batch, now, idempotency_window, deadline);
  }
  InsertCall call;
  call.batch = &batch;
  call.deadline = deadline;
  inserts_.Run(call);
  if (call.run_alone) return InsertAlone(batch, now, idempotency_window, deadline);
  return std::move(call.result);
}

void PostgresTokenStore::InsertGroup(absl::Span<InsertCall* const> calls) {
  // A call out of time is answered without running: nothing is written.
  std::vector<InsertCall*> pending;
  pending.reserve(calls.size());
  const absl::Time start = absl::Now();
  absl::Time earliest = absl::InfiniteFuture();
  for (InsertCall* call : calls) {
    if (StatementTimeoutFor(call->deadline, start, options_.statement_timeout) <=
        absl::ZeroDuration()) {
      call->result = OutOfTime("InsertBatch");
    } else {
      pending.push_back(call);
      earliest = std::min(earliest, call->deadline);
    }
  }
  if (pending.empty()) return;
  ArrayLiteral batch_ids, issuers, purposes, urls, created, expires, totals;
  ArrayLiteral token_batches, hashes, positions, token_expires, token_purposes, key_ids, emails,
      metadata;
  for (const InsertCall* call : pending) {
    const NewBatch& b = *call->batch;
    batch_ids.AddText(b.batch_id);
    issuers.AddText(b.issued_by);
    purposes.AddText(b.purpose);
    urls.AddText(b.redirect_url);
    created.AddNumber(ToMicros(b.created_at));
    expires.AddNumber(ToMicros(b.expires_at));
    totals.AddNumber(static_cast<int64_t>(b.tokens.size()));
    for (const NewToken& t : b.tokens) {
      token_batches.AddText(b.batch_id);
      hashes.AddBytea(t.token_hash);
      positions.AddNumber(t.position);
      token_expires.AddNumber(ToMicros(b.expires_at));
      token_purposes.AddText(b.purpose);
      key_ids.AddText(t.key_id);
      emails.AddText(t.email);
      metadata.AddText(EncodeMetadataJson(t.metadata));
    }
  }
  if (options_.observer != nullptr) {
    options_.observer->InsertStatement(static_cast<int>(pending.size()));
  }
  // Not Run: a failure here is not the callers' answer (they run alone and
  // get their own), so it is not logged as one.
  const absl::Status status =
      RunAttempts<bool>("InsertBatch", earliest, [&](StoreTransaction& tx) -> absl::StatusOr<bool> {
        tx.Autocommit(pgsql::kInsertBatches, std::move(batch_ids).Finish(),
                      std::move(issuers).Finish(), std::move(purposes).Finish(),
                      std::move(urls).Finish(), std::move(created).Finish(),
                      std::move(expires).Finish(), std::move(totals).Finish(),
                      std::move(token_batches).Finish(), std::move(hashes).Finish(),
                      std::move(positions).Finish(), std::move(token_expires).Finish(),
                      std::move(token_purposes).Finish(), std::move(key_ids).Finish(),
                      std::move(emails).Finish(), std::move(metadata).Finish());
        return true;
      }).status();
  for (InsertCall* call : pending) {
    if (status.ok()) {
      call->result = InsertBatchResult{};
    } else if (status.code() == absl::StatusCode::kDeadlineExceeded && call->deadline <= earliest) {
      // Cancelled, and rolled back, for the earliest deadline.
      call->result = status;
    } else if (status.code() == absl::StatusCode::kUnavailable) {
      // PostgreSQL unreachable, the pool exhausted, or the connection lost
      // (maybe after the commit): every call would get the same alone.
      call->result = status;
    } else {
      call->run_alone = true;
    }
  }
}

absl::StatusOr<InsertBatchResult> PostgresTokenStore::InsertAlone(const NewBatch& batch,
                                                                  absl::Time now,
                                                                  absl::Duration idempotency_window,
                                                                  absl::Time deadline) {
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
      "InsertBatch", deadline, [&](StoreTransaction& tx) -> absl::StatusOr<InsertBatchResult> {
        InsertBatchResult result;
        absl::StatusOr<std::optional<ExistingBatch>> existing =
            InsertBatchRow(tx, batch, now, idempotency_window);
        if (!existing.ok()) return existing.status();
        if (existing->has_value()) {
          result.existing = **std::move(existing);
          return result;  // rolls back: nothing written
        }
        if (batch.revoke_previous) {
          result.revoked_previous = static_cast<int64_t>(
              tx.Statement(pgsql::kRevokePrevious, emails, batch.purpose, ToMicros(now))
                  .affected_rows());
        }
        tx.Statement(pgsql::kInsertTokens, batch.batch_id, ToMicros(batch.expires_at),
                     batch.purpose, arrays.hashes, arrays.positions, arrays.key_ids, arrays.emails,
                     arrays.metadata);
        tx.Commit();
        return result;
      });
}

absl::StatusOr<std::vector<LinkRecord>> PostgresTokenStore::BatchLinks(const std::string& batch_id,
                                                                       absl::Time deadline) {
  return Run<std::vector<LinkRecord>>(
      "BatchLinks", deadline, [&](StoreTransaction& tx) -> absl::StatusOr<std::vector<LinkRecord>> {
        pqxx::result rows = tx.Read(pgsql::kBatchLinks, batch_id);
        std::vector<LinkRecord> links;
        links.reserve(rows.size());
        for (const pqxx::row& row : rows) links.push_back(token_rows::ReadLink(PgRow(row)));
        return links;
      });
}

absl::StatusOr<ConsumeResult> PostgresTokenStore::ConsumeToken(
    const std::vector<std::string>& token_hashes, const ConsumeRequest& request, absl::Time now,
    absl::Time deadline) {
  ConsumeCall call;
  call.token_hashes = &token_hashes;
  call.request = &request;
  call.now = now;
  call.deadline = deadline;
  consumes_.Run(call);
  return std::move(call.result);
}

namespace {

using ConsumeCall = PostgresTokenStore::ConsumeCall;

// Answers the calls too near their deadline to run a statement (nothing is
// consumed for them) and takes them out of `pending`; returns the earliest
// deadline among the calls left.
absl::Time AnswerCallsOutOfTime(std::vector<ConsumeCall*>& pending,
                                absl::Duration statement_timeout) {
  const absl::Time now = absl::Now();
  absl::Time earliest = absl::InfiniteFuture();
  size_t kept = 0;
  for (ConsumeCall* call : pending) {
    if (StatementTimeoutFor(call->deadline, now, statement_timeout) <= absl::ZeroDuration()) {
      call->result = OutOfTime("ConsumeToken");
    } else {
      pending[kept++] = call;
      earliest = std::min(earliest, call->deadline);
    }
  }
  pending.resize(kept);
  return earliest;
}

// Answers the calls whose deadline is `deadline` or earlier with `status`
// and takes them out of `pending`.
void AnswerCallsDueBy(std::vector<ConsumeCall*>& pending, absl::Time deadline,
                      const absl::Status& status) {
  size_t kept = 0;
  for (ConsumeCall* call : pending) {
    if (call->deadline <= deadline) {
      call->result = status;
    } else {
      pending[kept++] = call;
    }
  }
  pending.resize(kept);
}

}  // namespace

void PostgresTokenStore::ConsumeBatch(absl::Span<ConsumeCall* const> calls) {
  std::vector<ConsumeCall*> pending(calls.begin(), calls.end());
  while (!pending.empty()) {
    const absl::Time earliest = AnswerCallsOutOfTime(pending, options_.statement_timeout);
    if (pending.empty()) return;
    // The statement ends in time for the earliest deadline among its calls,
    // so none of them waits past its own.
    absl::StatusOr<std::vector<absl::StatusOr<ConsumeResult>>> results =
        ConsumeOnce(pending, earliest);
    if (!results.ok() && results.status().code() == absl::StatusCode::kDeadlineExceeded) {
      // Cancelled, and rolled back, for the earliest deadline: those calls
      // are answered, the others go again with the time they have left.
      AnswerCallsDueBy(pending, earliest, results.status());
      continue;
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      pending[i]->result =
          results.ok() ? std::move((*results)[i]) : absl::StatusOr<ConsumeResult>(results.status());
    }
    return;
  }
}

absl::StatusOr<std::vector<absl::StatusOr<ConsumeResult>>> PostgresTokenStore::ConsumeOnce(
    absl::Span<ConsumeCall* const> calls, absl::Time deadline) {
  if (options_.observer != nullptr) {
    options_.observer->ConsumeStatement(static_cast<int>(calls.size()));
  }
  // One array element per candidate hash, tagged with its call's index.
  ArrayLiteral items, hashes, nows, keys, purposes;
  for (size_t i = 0; i < calls.size(); ++i) {
    const ConsumeCall& call = *calls[i];
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
  using Results = std::vector<absl::StatusOr<ConsumeResult>>;
  return Run<Results>(
      "ConsumeToken", deadline, [&](StoreTransaction& tx) -> absl::StatusOr<Results> {
        Results out(calls.size(), ConsumeResult{});
        std::vector<bool> answered(calls.size(), false);
        auto answer = [&](const pqxx::row& row, bool consumed) {
          const int item = row[pgsql::kClaimsBatchItem].as<int>();
          if (item < 0 || static_cast<size_t>(item) >= calls.size() || answered[item]) return;
          answered[item] = true;
          absl::StatusOr<TokenClaims> claims = token_rows::ReadClaims(PgRow(row));
          if (!claims.ok()) {
            out[item] = claims.status();
            return;
          }
          out[item] = ConsumeResult{consumed, *std::move(claims)};
        };
        for (const pqxx::row& row : tx.Autocommit(pgsql::kConsumeBatch, item_array, hash_array,
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
          for (const pqxx::row& row : tx.Read(pgsql::kFindTokens, std::move(missed_items).Finish(),
                                              std::move(missed_hashes).Finish())) {
            answer(row, /*consumed=*/false);
          }
        }
        return out;
      });
}

absl::StatusOr<std::optional<TokenClaims>> PostgresTokenStore::FindToken(
    const std::vector<std::string>& token_hashes, absl::Time deadline) {
  const std::string hashes = ByteaArrayLiteral(token_hashes);
  return Run<std::optional<TokenClaims>>(
      "FindToken", deadline,
      [&](StoreTransaction& tx) -> absl::StatusOr<std::optional<TokenClaims>> {
        pqxx::result rows = tx.Read(pgsql::kFindToken, hashes);
        if (rows.empty()) return std::nullopt;
        absl::StatusOr<TokenClaims> claims = token_rows::ReadClaims(PgRow(rows[0]));
        if (!claims.ok()) return claims.status();
        return std::optional<TokenClaims>(*std::move(claims));
      });
}

absl::StatusOr<int64_t> PostgresTokenStore::Revoke(const RevokeTarget& target, absl::Time now,
                                                   absl::Time deadline) {
  const std::string hashes = ByteaArrayLiteral(target.token_hashes);
  return Run<int64_t>("Revoke", deadline, [&](StoreTransaction& tx) -> absl::StatusOr<int64_t> {
    pqxx::result r;
    if (!target.batch_id.empty()) {
      r = tx.Autocommit(pgsql::kRevokeByBatch, target.batch_id, ToMicros(now));
    } else if (!target.email.empty()) {
      r = tx.Autocommit(pgsql::kRevokeByEmail, target.email, target.purpose, ToMicros(now));
    } else {
      r = tx.Autocommit(pgsql::kRevokeByHash, hashes, ToMicros(now));
    }
    return static_cast<int64_t>(r.affected_rows());
  });
}

absl::StatusOr<std::optional<BatchSummary>> PostgresTokenStore::GetBatch(
    const std::string& batch_id, absl::Time now, absl::Time deadline) {
  return Run<std::optional<BatchSummary>>(
      "GetBatch", deadline,
      [&](StoreTransaction& tx) -> absl::StatusOr<std::optional<BatchSummary>> {
        pqxx::result rows = tx.Read(pgsql::kBatchSummary, batch_id, ToMicros(now));
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
    absl::Time now, absl::Time deadline) {
  // One row more than asked tells whether another page follows.
  const int64_t fetch = static_cast<int64_t>(std::max(limit, 0)) + 1;
  return Run<std::optional<LinkPage>>(
      "ListLinks", deadline, [&](StoreTransaction& tx) -> absl::StatusOr<std::optional<LinkPage>> {
        pqxx::result rows = tx.Read(pgsql::kListLinks, batch_id, after_position,
                                    token_rows::StateFilterCode(state), ToMicros(now), fetch);
        if (rows.empty()) return std::nullopt;  // no such batch
        LinkPage page;
        for (const pqxx::row& row : rows) {
          if (row[token_rows::kLinkPosition].is_null()) break;  // the batch has no such links
          if (static_cast<int>(page.links.size()) == limit) {
            page.more = true;
            break;
          }
          page.links.push_back(token_rows::ReadLink(PgRow(row)));
        }
        return std::optional<LinkPage>(std::move(page));
      });
}

absl::StatusOr<SweepResult> PostgresTokenStore::Sweep(absl::Time token_cutoff,
                                                      absl::Time replay_cutoff, int max_rows,
                                                      absl::Time deadline) {
  if (max_rows <= 0) return SweepResult{};
  // One bounded statement per transaction: a sweep holds its row locks only
  // for one chunk, and an interrupted sweep leaves nothing to undo. No call
  // waits for it (kNoDeadline), so each statement gets the configured
  // statement timeout.
  auto sweep = [&](pgsql::Sweep statement, const char* name, auto... args) {
    return Run<pqxx::result>(name, deadline,
                             [&](StoreTransaction& tx) -> absl::StatusOr<pqxx::result> {
                               pqxx::result r = tx.Params(name, SweepSql(statement), args...);
                               tx.Commit();
                               return r;
                             });
  };
  SweepResult result;
  absl::flat_hash_set<std::string> emptied;
  auto collect = [&](const pqxx::result& deleted) {
    result.tokens_deleted += static_cast<int64_t>(deleted.size());
    for (const pqxx::row& row : deleted) emptied.insert(row[0].as<std::string>());
  };
  const int64_t cutoff = ToMicros(token_cutoff);
  absl::StatusOr<pqxx::result> r =
      sweep(pgsql::Sweep::kExpiredTokens, "sweep_expired_tokens", cutoff, max_rows);
  if (!r.ok()) return r.status();
  collect(*r);
  if (result.tokens_deleted < max_rows) {
    r = sweep(pgsql::Sweep::kSpentTokens, "sweep_spent_tokens", cutoff,
              static_cast<int64_t>(max_rows) - result.tokens_deleted);
    if (!r.ok()) return r.status();
    collect(*r);
  }
  const std::string emptied_ids =
      TextArrayLiteral(std::vector<std::string>(emptied.begin(), emptied.end()));
  r = sweep(pgsql::Sweep::kEmptyBatches, "sweep_empty_batches", cutoff, max_rows, emptied_ids);
  if (!r.ok()) return r.status();
  result.batches_deleted = static_cast<int64_t>(r->affected_rows());
  r = sweep(pgsql::Sweep::kPurgeReplays, "sweep_purge_replays", ToMicros(replay_cutoff), max_rows);
  if (!r.ok()) return r.status();
  result.replays_purged = static_cast<int64_t>(r->affected_rows());
  return result;
}

absl::StatusOr<std::vector<KeyCheck>> PostgresTokenStore::RecordKeyChecks(
    const std::vector<KeyCheck>& checks, absl::Time deadline) {
  std::vector<std::string> ids, values;
  for (const KeyCheck& check : checks) {
    ids.push_back(check.key_id);
    values.push_back(check.check);
  }
  const std::string id_array = TextArrayLiteral(ids);
  const std::string value_array = TextArrayLiteral(values);
  return Run<std::vector<KeyCheck>>(
      "RecordKeyChecks", deadline,
      [&](StoreTransaction& tx) -> absl::StatusOr<std::vector<KeyCheck>> {
        // Read committed: the read sees what a racing replica committed
        // while this insert waited for it.
        if (!checks.empty()) tx.Statement(pgsql::kRecordKeyChecks, id_array, value_array);
        std::vector<KeyCheck> recorded;
        for (const pqxx::row& row : tx.Statement(pgsql::kKeyChecks)) {
          recorded.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
        }
        tx.Commit();
        return recorded;
      });
}

absl::Status PostgresTokenStore::Ping(absl::Time deadline) {
  // On a connection of its own, outside the pool: a replica whose pool is
  // busy with calls (each waiting up to acquire_timeout for a connection)
  // still answers that its database is up. A failure closes the connection;
  // the next Ping opens a new one, which after a failover reaches the new
  // primary (target_session_attrs in the URL).
  absl::StatusOr<PgConnectionPool::Lease> lease =
      health_pool_->Acquire(std::min(deadline, absl::Now() + options_.acquire_timeout));
  if (!lease.ok()) return lease.status();
  try {
    pqxx::nontransaction tx(**lease);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  } catch (...) {
    lease->MarkBroken();
    return ClassifyCurrentException("Ping").status;
  }
}

}  // namespace magiclink
