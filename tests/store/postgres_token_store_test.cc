// Runs the TokenStore contract on PostgreSQL, plus what only a shared
// PostgreSQL server has: races between stores on separate connections (as
// between replicas), a bounded pool, broken connections, concurrent
// migrations, error mapping and sweeping beside other replicas.
//
// Needs the throwaway cluster of scripts/with-postgres.sh; without it every
// test here fails (never skips).
#include "server/store/postgres/postgres_token_store.h"

#include <gmock/gmock.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/core/crypto.h"
#include "server/store/postgres/migrations.h"
#include "server/store/postgres/pg_values.h"
#include "server/store/postgres/statements.h"
#include "tests/store/postgres_test_support.h"
#include "tests/store/token_store_contract.h"
#include "tests/testing/reason_matchers.h"

namespace magiclink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<TokenStore> MakePostgresStore() {
  const std::string url = ScratchSchemaUrl();
  if (url.empty()) return nullptr;
  return OpenStoreForContract(TestOptions(url));
}

INSTANTIATE_TEST_SUITE_P(Postgres, TokenStoreContractTest,
                         ::testing::Values(TokenStoreFactory{"postgres", MakePostgresStore}),
                         TokenStoreFactoryName);

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kTtl = absl::Hours(1);
const absl::Duration kWindow = absl::Hours(24);

std::string TokenHash(absl::string_view batch_id, int position) {
  return Sha256(absl::StrCat(batch_id, "/", position));
}

NewBatch MakeBatch(const std::string& batch_id, int size, absl::Time created_at = kT0) {
  NewBatch b;
  b.batch_id = batch_id;
  b.issued_by = "caller-a";
  b.purpose = "invite";
  b.redirect_url = "https://app.example.com/welcome";
  b.created_at = created_at;
  b.expires_at = created_at + kTtl;
  for (int i = 0; i < size; ++i) {
    b.tokens.push_back(
        {TokenHash(batch_id, i), "k1", i, absl::StrCat("user", i, "@example.com"), {}});
  }
  return b;
}

absl::StatusOr<std::unique_ptr<PostgresTokenStore>> OpenStore(const std::string& url,
                                                              int pool_size = 4) {
  PostgresOptions options = TestOptions(url);
  options.pool_size = pool_size;
  return PostgresTokenStore::Open(options);
}

// Waits until `condition` holds, checking every 10 ms for at most `limit`.
// Only for state outside the process (what PostgreSQL sessions are doing),
// which nothing can notify us about.
bool Eventually(const std::function<bool()>& condition, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time give_up = absl::Now() + limit;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// Store sessions of the current database waiting for a lock.
int64_t StoreSessionsWaitingForALock(PgAdmin& admin) {
  return admin.QueryInt(
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
      "AND application_name = 'magiclinkd' AND wait_event_type = 'Lock'");
}

TEST(PostgresTokenStoreTest, TenRacingInsertsWithOneRequestIdOnSeparateConnectionsCreateOneBatch) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  constexpr int kRacers = 10;
  constexpr int kTokens = 2000;
  // One store each, one connection each: as ten replicas.
  std::vector<std::unique_ptr<PostgresTokenStore>> stores;
  for (int i = 0; i < kRacers; ++i) {
    auto store = OpenStore(url, /*pool_size=*/1);
    ASSERT_OK(store);
    stores.push_back(*std::move(store));
  }
  std::vector<NewBatch> batches;
  for (int i = 0; i < kRacers; ++i) {
    batches.push_back(MakeBatch(absl::StrCat("racer", i), kTokens));
    batches.back().request_id = "one-request";
    batches.back().request_fingerprint = "fp";
    batches.back().replay_sealed = absl::StrCat("sealed-by-", i);
  }
  absl::Notification go;
  std::vector<absl::StatusOr<InsertBatchResult>> results(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      results[i] = stores[i]->InsertBatch(batches[i], kT0, kWindow, kNoDeadline);
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();

  std::vector<int> created;
  std::vector<std::string> replayed_ids;
  for (int i = 0; i < kRacers; ++i) {
    ASSERT_OK(results[i]);
    if (results[i]->existing) {
      replayed_ids.push_back(results[i]->existing->batch_id);
      EXPECT_EQ(results[i]->existing->request_fingerprint, "fp");
    } else {
      created.push_back(i);
    }
  }
  ASSERT_EQ(created.size(), 1u);
  const std::string winner = absl::StrCat("racer", created[0]);
  EXPECT_THAT(replayed_ids, ::testing::Each(winner));
  PgAdmin admin(url);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 1);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens"), kTokens);
  EXPECT_EQ(
      admin.QueryInt(absl::StrCat("SELECT count(*) FROM tokens WHERE batch_id = '", winner, "'")),
      kTokens);
}

TEST(PostgresTokenStoreTest, ThirtyTwoThreadsConsumeEachOfAThousandTokensExactlyOnce) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  constexpr int kTokens = 1000;
  constexpr int kThreads = 32;
  constexpr int kReplicas = 4;
  std::vector<std::unique_ptr<PostgresTokenStore>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    auto store = OpenStore(url, /*pool_size=*/kThreads / kReplicas);
    ASSERT_OK(store);
    replicas.push_back(*std::move(store));
  }
  ASSERT_OK(replicas[0]->InsertBatch(MakeBatch("b", kTokens), kT0, kWindow, kNoDeadline));

  std::vector<std::atomic<int>> successes(kTokens);
  std::atomic<int> errors{0};
  std::atomic<int> unexplained{0};
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TokenStore& store = *replicas[t % kReplicas];
      go.WaitForNotification();
      // Every thread walks all tokens, each from its own starting point.
      for (int n = 0; n < kTokens; ++n) {
        const int token = (n + t * (kTokens / kThreads)) % kTokens;
        absl::StatusOr<ConsumeResult> r =
            store.ConsumeToken({Sha256("stale key"), TokenHash("b", token)}, {}, kT0, kNoDeadline);
        if (!r.ok()) {
          ++errors;
        } else if (r->consumed) {
          ++successes[token];
        } else if (!r->claims || !r->claims->consumed_at) {
          ++unexplained;  // a refusal must come with the used token's claims
        }
      }
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(unexplained.load(), 0);
  int total = 0;
  for (int token = 0; token < kTokens; ++token) {
    EXPECT_EQ(successes[token].load(), 1) << "token " << token;
    total += successes[token].load();
  }
  EXPECT_EQ(total, kTokens);
  PgAdmin admin(url);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens WHERE consumed_at IS NOT NULL"), kTokens);
}

TEST(PostgresTokenStoreTest, ExhaustedPoolFailsWithUnavailableInsteadOfHangingWhilePingAnswers) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  PostgresOptions options = TestOptions(url);
  options.pool_size = 2;
  options.acquire_timeout = absl::Milliseconds(300);
  auto store = PostgresTokenStore::Open(options);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 1), kT0, kWindow, kNoDeadline));

  // Make every store call slow: it waits for this lock while holding its
  // connection.
  PgAdmin locker(url);
  auto lock = std::make_unique<pqxx::work>(locker.connection());
  lock->exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  std::vector<std::thread> slow;
  std::atomic<int> slow_ok{0};
  for (int i = 0; i < options.pool_size; ++i) {
    slow.emplace_back([&] {
      if ((*store)->FindToken({TokenHash("b", 0)}, kNoDeadline).ok()) ++slow_ok;
    });
  }
  PgAdmin observer(url);
  ASSERT_TRUE(Eventually([&] { return StoreSessionsWaitingForALock(observer) == 2; }));

  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<TokenClaims>> starved =
      (*store)->FindToken({TokenHash("b", 0)}, kNoDeadline);
  const absl::Duration waited = absl::Now() - start;
  EXPECT_THAT(starved, StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  EXPECT_THAT(std::string(starved.status().message()), HasSubstr("busy"));
  EXPECT_GE(waited, options.acquire_timeout);
  EXPECT_LT(waited, absl::Seconds(10)) << "the wait must end at the acquire timeout";
  // The health check does not wait for the pool: Ping has a connection of
  // its own, and PostgreSQL does answer.
  EXPECT_OK((*store)->Ping(absl::InfiniteFuture()));

  lock->abort();
  for (std::thread& t : slow) t.join();
  EXPECT_EQ(slow_ok.load(), 2);
  EXPECT_OK((*store)->FindToken({TokenHash("b", 0)}, kNoDeadline));
}

TEST(PostgresTokenStoreTest, CallDeadlineEndsTheWaitForAConnectionEarly) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  PostgresOptions options = TestOptions(url);
  options.pool_size = 1;
  options.acquire_timeout = absl::Hours(1);
  auto store = PostgresTokenStore::Open(options);
  ASSERT_OK(store);

  PgAdmin locker(url);
  auto lock = std::make_unique<pqxx::work>(locker.connection());
  lock->exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  std::thread slow([&] { (void)(*store)->FindToken({TokenHash("b", 0)}, kNoDeadline); });
  PgAdmin observer(url);
  ASSERT_TRUE(Eventually([&] { return StoreSessionsWaitingForALock(observer) == 1; }));

  absl::StatusOr<std::optional<TokenClaims>> starved =
      (*store)->FindToken({TokenHash("b", 0)}, absl::Now() + absl::Milliseconds(200));
  EXPECT_THAT(starved, StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  lock->abort();
  slow.join();
}

// A statement that waits on a row lock past the call's deadline is cancelled
// by PostgreSQL (the transaction's SET LOCAL statement_timeout), rolls back
// and keeps its connection; the caller is told DEADLINE_EXCEEDED, and that
// is what happened: nothing changed. The same with prepared statements (SET
// LOCAL and EXECUTE in one message) and unnamed ones (BEGIN; SET LOCAL, the
// statement, COMMIT).
TEST(PostgresTokenStoreTest, AStatementPastTheCallDeadlineRollsBackAndKeepsItsConnection) {
  for (const bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared statements" : "unnamed statements");
    const std::string url = ScratchSchemaUrl();
    ASSERT_FALSE(url.empty());
    PostgresOptions options = TestOptions(url);
    options.pool_size = 1;
    options.prepared_statements = prepared;
    auto store = PostgresTokenStore::Open(options);
    ASSERT_OK(store);
    const NewBatch batch = MakeBatch("b", 2);
    ASSERT_OK((*store)->InsertBatch(batch, kT0, kWindow, kNoDeadline));
    ExpectWritesStuckPastTheirDeadlineChangeNothing(**store, url, batch, kT0 + absl::Minutes(1));
  }
}

// Calls that share one consume statement each get what ConsumeToken alone
// would have given them, with their own time, key and purpose.
TEST(PostgresTokenStoreTest, ABatchOfConsumesAnswersEachCallAsIfItRanAlone) {
  const std::string url = ScratchSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 5), kT0, kWindow, kNoDeadline));
  struct Case {
    std::vector<std::string> hashes;
    ConsumeRequest request;
    absl::Time now;
  };
  const std::vector<Case> cases = {
      {{TokenHash("b", 0)}, {"", "key-a"}, kT0 + absl::Minutes(1)},   // consumes
      {{TokenHash("b", 0)}, {"", "key-b"}, kT0 + absl::Minutes(1)},   // same token: refused
      {{TokenHash("b", 1)}, {"login", ""}, kT0 + absl::Minutes(1)},   // wrong purpose
      {{Sha256("no such token")}, {"", ""}, kT0 + absl::Minutes(1)},  // unknown
      {{TokenHash("b", 2)}, {"", ""}, kT0 + kTtl},                    // at its expiry
      {{Sha256("stale"), TokenHash("b", 3)}, {"invite", ""}, kT0 + absl::Minutes(2)},
      {{TokenHash("b", 4)}, {"", ""}, kT0 + absl::Minutes(3)},
  };
  std::vector<PostgresTokenStore::ConsumeCall> calls(cases.size());
  std::vector<PostgresTokenStore::ConsumeCall*> batch;
  for (size_t i = 0; i < cases.size(); ++i) {
    calls[i].token_hashes = &cases[i].hashes;
    calls[i].request = &cases[i].request;
    calls[i].now = cases[i].now;
    batch.push_back(&calls[i]);
  }
  (*store)->ConsumeBatch(batch);
  for (const auto& call : calls) ASSERT_OK(call.result);

  // Of the two calls naming token 0, exactly one consumed it; the other sees
  // the winner's time and key.
  const ConsumeResult& first = *calls[0].result;
  const ConsumeResult& second = *calls[1].result;
  ASSERT_NE(first.consumed, second.consumed);
  const ConsumeResult& winner = first.consumed ? first : second;
  const ConsumeResult& loser = first.consumed ? second : first;
  const std::string winner_key = first.consumed ? "key-a" : "key-b";
  ASSERT_TRUE(winner.claims && loser.claims);
  EXPECT_EQ(winner.claims->position, 0);
  EXPECT_EQ(winner.claims->consume_key_hash, winner_key);
  EXPECT_EQ(loser.claims->consumed_at, kT0 + absl::Minutes(1));
  EXPECT_EQ(loser.claims->consume_key_hash, winner_key);

  EXPECT_FALSE(calls[2].result->consumed);
  ASSERT_TRUE(calls[2].result->claims.has_value());
  EXPECT_EQ(calls[2].result->claims->consumed_at, std::nullopt);
  EXPECT_FALSE(calls[3].result->consumed);
  EXPECT_FALSE(calls[3].result->claims.has_value());
  EXPECT_FALSE(calls[4].result->consumed);
  ASSERT_TRUE(calls[4].result->claims.has_value());
  EXPECT_EQ(calls[4].result->claims->position, 2);
  ASSERT_TRUE(calls[5].result->consumed);
  EXPECT_EQ(calls[5].result->claims->position, 3);
  EXPECT_EQ(calls[5].result->claims->consumed_at, kT0 + absl::Minutes(2));
  ASSERT_TRUE(calls[6].result->consumed);
  EXPECT_EQ(calls[6].result->claims->consumed_at, kT0 + absl::Minutes(3));

  PgAdmin admin(url);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens WHERE consumed_at IS NOT NULL"), 3);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens WHERE consume_key_hash IS NOT NULL"), 1);
}

// Runs `calls` through InsertBatch on `store` (insert_statements = 1) so that
// they all go in one insert group: a first call is held in PostgreSQL (its
// batch id is taken by an open transaction), the others queue behind it, and
// then the first is let go. Returns each call's result, the held one first.
std::vector<absl::StatusOr<InsertBatchResult>> InsertAsOneGroup(
    PostgresTokenStore& store, const std::string& url, const std::vector<NewBatch>& calls) {
  PgAdmin holder(url);
  auto hold = std::make_unique<pqxx::work>(holder.connection());
  hold->exec(
      "INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, expires_at, "
      "total) VALUES ('held', 'x', 'x', 'x', now(), now(), 0)");
  std::vector<absl::StatusOr<InsertBatchResult>> results(calls.size() + 1);
  const NewBatch held = MakeBatch("held", 1);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { results[0] = store.InsertBatch(held, kT0, kWindow, kNoDeadline); });
  PgAdmin admin(url);
  EXPECT_TRUE(Eventually([&] { return StoreSessionsWaitingForALock(admin) == 1; }));
  int queued = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    const bool groups = calls[i].request_id.empty() && !calls[i].revoke_previous;
    queued += groups ? 1 : 0;
    threads.emplace_back(
        [&, i] { results[i + 1] = store.InsertBatch(calls[i], kT0, kWindow, kNoDeadline); });
  }
  EXPECT_TRUE(Eventually([&] { return store.waiting_inserts() == queued; }));
  hold->abort();  // the held call's batch id is free again
  for (std::thread& t : threads) t.join();
  return results;
}

// A store on `url` that runs one insert group at a time, so calls that arrive
// while it runs queue for the next group.
PostgresOptions OneInsertGroupAtATime(const std::string& url, bool prepared) {
  PostgresOptions options = TestOptions(url);
  options.prepared_statements = prepared;
  options.insert_statements = 1;
  return options;
}

// The transactions (by xid) that wrote the batches whose id starts with `prefix`.
int64_t TransactionsThatWrote(PgAdmin& admin, const std::string& prefix) {
  return admin.QueryInt(absl::StrCat(
      "SELECT count(DISTINCT xmin::text) FROM (SELECT xmin FROM batches WHERE batch_id LIKE '",
      prefix, "%' UNION ALL SELECT xmin FROM tokens WHERE batch_id LIKE '", prefix, "%') w"));
}

// Concurrent single-link IssueBatch calls share one transaction (one commit),
// and each batch is whole and its links verify.
TEST(PostgresTokenStoreTest, ConcurrentSmallInsertsShareOneTransaction) {
  for (const bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared statements" : "unnamed statements");
    const std::string url = ScratchSchemaUrl();
    ASSERT_FALSE(url.empty());
    auto store = PostgresTokenStore::Open(OneInsertGroupAtATime(url, prepared));
    ASSERT_OK(store);
    constexpr int kCalls = 8;
    std::vector<NewBatch> calls;
    for (int i = 0; i < kCalls; ++i) calls.push_back(MakeBatch(absl::StrCat("g", i), 1 + i % 3));
    calls[3].tokens[0].metadata = {{"plan", "pro"}};
    const auto results = InsertAsOneGroup(**store, url, calls);
    for (const auto& r : results) ASSERT_OK(r);

    PgAdmin admin(url);
    EXPECT_EQ(TransactionsThatWrote(admin, "g"), 1);
    for (const NewBatch& b : calls) {
      for (const NewToken& t : b.tokens) {
        absl::StatusOr<ConsumeResult> c = (*store)->ConsumeToken(
            {t.token_hash}, {"invite", ""}, kT0 + absl::Minutes(1), kNoDeadline);
        ASSERT_OK(c);
        EXPECT_TRUE(c->consumed) << b.batch_id;
        ASSERT_TRUE(c->claims.has_value());
        EXPECT_EQ(c->claims->batch_id, b.batch_id);
        EXPECT_EQ(c->claims->position, t.position);
        EXPECT_EQ(c->claims->email, t.email);
        EXPECT_EQ(c->claims->metadata, t.metadata);
        EXPECT_EQ(c->claims->redirect_url, b.redirect_url);
        EXPECT_EQ(c->claims->expires_at, b.expires_at);
      }
      absl::StatusOr<std::optional<BatchSummary>> summary =
          (*store)->GetBatch(b.batch_id, kT0, kNoDeadline);
      ASSERT_OK(summary);
      ASSERT_TRUE(summary->has_value());
      EXPECT_EQ((*summary)->total, static_cast<int64_t>(b.tokens.size()));
      EXPECT_EQ((*summary)->issued_by, b.issued_by);
    }
  }
}

// A call whose batch PostgreSQL refuses fails alone: the group's statement
// fails, every call runs again alone, and the others commit. A request_id
// call never joins a group and is answered as before.
TEST(PostgresTokenStoreTest, AFailingCallInAnInsertGroupFailsAloneAndTheOthersCommit) {
  for (const bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared statements" : "unnamed statements");
    const std::string url = ScratchSchemaUrl();
    ASSERT_FALSE(url.empty());
    auto store = PostgresTokenStore::Open(OneInsertGroupAtATime(url, prepared));
    ASSERT_OK(store);
    NewBatch earlier = MakeBatch("earlier", 1);
    earlier.request_id = "r1";
    ASSERT_OK((*store)->InsertBatch(earlier, kT0, kWindow, kNoDeadline));

    std::vector<NewBatch> calls;
    for (int i = 0; i < 6; ++i) calls.push_back(MakeBatch(absl::StrCat("g", i), 2));
    calls[2].tokens[1].token_hash = calls[2].tokens[0].token_hash;  // a unique violation
    NewBatch replayed = MakeBatch("g-replayed", 1);
    replayed.request_id = "r1";
    calls.push_back(replayed);
    const auto results = InsertAsOneGroup(**store, url, calls);

    ASSERT_OK(results[0]);  // the held call
    for (int i = 0; i < 6; ++i) {
      if (i == 2) {
        EXPECT_THAT(results[i + 1], StatusIs(absl::StatusCode::kInternal));
        EXPECT_THAT(results[i + 1].status().message(), HasSubstr("statement insert_tokens"));
      } else {
        ASSERT_OK(results[i + 1]);
        EXPECT_FALSE(results[i + 1]->existing.has_value());
      }
    }
    ASSERT_OK(results[7]);
    ASSERT_TRUE(results[7]->existing.has_value());
    EXPECT_EQ(results[7]->existing->batch_id, "earlier");

    PgAdmin admin(url);
    EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches WHERE batch_id LIKE 'g%'"), 5);
    EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens WHERE batch_id LIKE 'g%'"), 10);
    EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches WHERE batch_id = 'g2'"), 0);
    EXPECT_EQ(TransactionsThatWrote(admin, "g"), 5);  // each ran alone after the group failed
  }
}

// A call whose deadline passed before its group started writes nothing; the
// others of the group commit together.
TEST(PostgresTokenStoreTest, AnInsertGroupAnswersCallsOutOfTimeWithoutWritingThem) {
  const std::string url = ScratchSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  const std::vector<NewBatch> batches = {MakeBatch("g0", 1), MakeBatch("late", 1),
                                         MakeBatch("g1", 2)};
  std::vector<PostgresTokenStore::InsertCall> calls(batches.size());
  std::vector<PostgresTokenStore::InsertCall*> group;
  for (size_t i = 0; i < batches.size(); ++i) {
    calls[i].batch = &batches[i];
    group.push_back(&calls[i]);
  }
  calls[1].deadline = absl::Now() - absl::Milliseconds(1);
  (*store)->InsertGroup(group);
  ASSERT_OK(calls[0].result);
  EXPECT_THAT(calls[1].result, StatusIs(absl::StatusCode::kDeadlineExceeded));
  ASSERT_OK(calls[2].result);
  for (const auto& call : calls) EXPECT_FALSE(call.run_alone);
  PgAdmin admin(url);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches WHERE batch_id = 'late'"), 0);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens WHERE batch_id = 'late'"), 0);
  EXPECT_EQ(TransactionsThatWrote(admin, "g"), 1);
}

// The group's statement ends in time for its earliest deadline: cancelled
// there (and rolled back), that call gets DEADLINE_EXCEEDED and the others
// are sent to run alone, within their own deadlines.
TEST(PostgresTokenStoreTest, AnInsertGroupStuckPastItsEarliestDeadlineSendsTheOthersAlone) {
  for (const bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared statements" : "unnamed statements");
    const std::string url = ScratchSchemaUrl();
    ASSERT_FALSE(url.empty());
    PostgresOptions options = TestOptions(url);
    options.prepared_statements = prepared;
    auto store = PostgresTokenStore::Open(options);
    ASSERT_OK(store);
    PgAdmin holder(url);
    auto hold = std::make_unique<pqxx::work>(holder.connection());
    hold->exec(
        "INSERT INTO batches (batch_id, issued_by, purpose, redirect_url, created_at, "
        "expires_at, total) VALUES ('held', 'x', 'x', 'x', now(), now(), 0)");
    const std::vector<NewBatch> batches = {MakeBatch("held", 1), MakeBatch("patient", 1)};
    std::vector<PostgresTokenStore::InsertCall> calls(2);
    calls[0].batch = &batches[0];
    calls[0].deadline = absl::Now() + absl::Milliseconds(400);
    calls[1].batch = &batches[1];
    calls[1].deadline = absl::Now() + absl::Seconds(30);
    (*store)->InsertGroup({&calls[0], &calls[1]});
    EXPECT_THAT(calls[0].result, StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_FALSE(calls[0].run_alone);
    EXPECT_TRUE(calls[1].run_alone);
    hold->abort();
    PgAdmin admin(url);
    EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 0);
    EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens"), 0);
  }
}

TEST(PostgresTokenStoreTest, InsertCoalescingLimitsOutOfRangeAreInvalid) {
  for (const auto& [statements, group] :
       std::vector<std::pair<int, int>>{{0, 100}, {2, 0}, {2, 1001}}) {
    PostgresOptions options = TestOptions("postgresql://magiclink@127.0.0.1:1/magiclink");
    options.insert_statements = statements;
    options.max_insert_group = group;
    EXPECT_THAT(PostgresTokenStore::Open(options), StatusIs(absl::StatusCode::kInvalidArgument))
        << statements << " statements, group " << group;
  }
}

TEST(PostgresTokenStoreTest, ConcurrentMigrationsApplyEachVersionOnce) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  constexpr int kStarters = 8;
  absl::Notification go;
  std::vector<absl::Status> results(kStarters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      if (i % 2 == 0) {
        results[i] = OpenStore(url, 1).status();
      } else {
        results[i] = MigratePostgres(TestOptions(url)).status();
      }
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();
  for (const absl::Status& s : results) EXPECT_OK(s);
  PgAdmin admin(url);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM magiclink_schema_migrations"),
            LatestPostgresSchemaVersion());
  EXPECT_EQ(admin.QueryInt("SELECT max(version) FROM magiclink_schema_migrations"),
            LatestPostgresSchemaVersion());
}

TEST(PostgresTokenStoreTest, OpenWithoutMigratingRefusesAnUnmigratedDatabase) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  PostgresOptions options = TestOptions(url);
  options.migrate = false;
  EXPECT_THAT(PostgresTokenStore::Open(options), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(MigratePostgres(TestOptions(url)),
              ::testing::Eq(absl::StatusOr<int>(LatestPostgresSchemaVersion())));
  EXPECT_OK(PostgresTokenStore::Open(options));
}

TEST(PostgresTokenStoreTest, DatabaseNewerThanThisBinaryIsRefused) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  ASSERT_OK(MigratePostgres(TestOptions(url)));
  PgAdmin(url).Exec(
      "INSERT INTO magiclink_schema_migrations (version, description) VALUES (999, 'future')");
  EXPECT_THAT(PostgresTokenStore::Open(TestOptions(url)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(PostgresTokenStoreTest, UnreachableServerIsUnavailableWithoutRevealingThePassword) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  PostgresOptions options = TestOptions("postgresql://magiclink:s3cret-pw@127.0.0.1:1/magiclink");
  absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store = PostgresTokenStore::Open(options);
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("s3cret-pw")));
}

TEST(PostgresTokenStoreTest, MalformedUrlIsInvalidWithoutEchoingIt) {
  absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store =
      PostgresTokenStore::Open(TestOptions("postgresql://magiclink:s3cret-pw@[::1/db?x=%zz"));
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("s3cret-pw")));
}

TEST(PostgresTokenStoreTest, ConnectionsUseKeepalivesAndTcpUserTimeoutUnlessTheUrlSetsThem) {
  PostgresOptions options;
  options.url = "postgresql://magiclink@db.internal/magiclink";
  absl::StatusOr<std::string> conninfo = BuildConninfo(options);
  ASSERT_OK(conninfo);
  EXPECT_THAT(*conninfo, HasSubstr("keepalives=1"));
  EXPECT_THAT(*conninfo, HasSubstr("keepalives_idle=10"));
  EXPECT_THAT(*conninfo, HasSubstr("keepalives_interval=3"));
  EXPECT_THAT(*conninfo, HasSubstr("keepalives_count=3"));
  EXPECT_THAT(*conninfo, HasSubstr("tcp_user_timeout=20000"));

  options.url =
      "postgresql://magiclink@db.internal/magiclink?keepalives_idle=99&tcp_user_timeout=0";
  options.keepalives_interval = absl::Seconds(7);
  conninfo = BuildConninfo(options);
  ASSERT_OK(conninfo);
  EXPECT_THAT(*conninfo, HasSubstr("keepalives_idle='99'"));
  EXPECT_THAT(*conninfo, Not(HasSubstr("keepalives_idle=10")));
  EXPECT_THAT(*conninfo, HasSubstr("tcp_user_timeout='0'"));
  EXPECT_THAT(*conninfo, Not(HasSubstr("tcp_user_timeout=20000")));
  EXPECT_THAT(*conninfo, HasSubstr("keepalives_interval=7"));

  options.keepalives_count = 0;
  EXPECT_THAT(ValidatePostgresOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.keepalives_count = 3;
  options.statement_timeout = absl::ZeroDuration();
  EXPECT_THAT(ValidatePostgresOptions(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PostgresTokenStoreTest, ConsumeCoalescingLimitsOutOfRangeAreInvalid) {
  // Port 1: validation must refuse these before any connection is tried.
  for (const auto& [statements, batch] :
       std::vector<std::pair<int, int>>{{0, 100}, {2, 0}, {2, 1001}}) {
    PostgresOptions options = TestOptions("postgresql://magiclink@127.0.0.1:1/magiclink");
    options.consume_statements = statements;
    options.max_consume_batch = batch;
    EXPECT_THAT(PostgresTokenStore::Open(options), StatusIs(absl::StatusCode::kInvalidArgument))
        << statements << " statements, batch " << batch;
  }
}

TEST(PostgresTokenStoreTest, ConstraintViolationIsInternalNamingTheStatementWithoutStoredValues) {
  // Prepared (named) or unnamed, the cause names the statement, never its SQL.
  for (const bool prepared : {true, false}) {
    SCOPED_TRACE(prepared ? "prepared statements" : "unnamed statements");
    const std::string url = ScratchSchemaUrl();
    ASSERT_FALSE(url.empty());
    PostgresOptions options = TestOptions(url);
    options.prepared_statements = prepared;
    auto store = PostgresTokenStore::Open(options);
    ASSERT_OK(store);
    NewBatch batch = MakeBatch("b", 2);
    batch.tokens[1].token_hash = batch.tokens[0].token_hash;
    absl::StatusOr<InsertBatchResult> r = (*store)->InsertBatch(batch, kT0, kWindow, kNoDeadline);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInternal, magiclink::v1::INTERNAL));
    const std::string message(r.status().message());
    EXPECT_THAT(message, HasSubstr("during InsertBatch (SQLSTATE 23505, statement insert_tokens)"));
    EXPECT_THAT(message, Not(HasSubstr(HexEncode(batch.tokens[0].token_hash))));
    EXPECT_THAT(message, Not(HasSubstr("example.com")));
    EXPECT_THAT(message, Not(HasSubstr("INSERT")));
  }
}

TEST(PostgresTokenStoreTest, ConnectionsClosedByTheServerAreReplacedBeforeUse) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url, /*pool_size=*/2);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 1), kT0, kWindow, kNoDeadline));
  PgAdmin admin(url);
  const char* kStoreSessions =
      "FROM pg_stat_activity WHERE datname = current_database() "
      "AND application_name = 'magiclinkd'";
  ASSERT_GE(admin.QueryInt(absl::StrCat("SELECT count(*) ", kStoreSessions)), 1);
  admin.QueryInt(absl::StrCat("SELECT count(pg_terminate_backend(pid)) ", kStoreSessions));
  ASSERT_TRUE(Eventually(
      [&] { return admin.QueryInt(absl::StrCat("SELECT count(*) ", kStoreSessions)) == 0; }));

  // The idle connection is dead; the pool notices before lending it.
  absl::StatusOr<std::optional<TokenClaims>> found =
      (*store)->FindToken({TokenHash("b", 0)}, kNoDeadline);
  ASSERT_OK(found);
  EXPECT_TRUE(found->has_value());
}

TEST(PostgresTokenStoreTest, ConnectionKilledMidStatementIsUnavailableAndThenReplaced) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url, /*pool_size=*/1);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 1), kT0, kWindow, kNoDeadline));

  PgAdmin locker(url);
  auto lock = std::make_unique<pqxx::work>(locker.connection());
  lock->exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE");
  absl::StatusOr<ConsumeResult> killed;
  std::thread victim(
      [&] { killed = (*store)->ConsumeToken({TokenHash("b", 0)}, {}, kT0, kNoDeadline); });
  PgAdmin admin(url);
  ASSERT_TRUE(Eventually([&] { return StoreSessionsWaitingForALock(admin) == 1; }));
  admin.QueryInt(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND application_name = 'magiclinkd'");
  victim.join();
  lock->abort();

  EXPECT_THAT(killed, StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  absl::StatusOr<ConsumeResult> after =
      (*store)->ConsumeToken({TokenHash("b", 0)}, {}, kT0, kNoDeadline);
  ASSERT_OK(after);
  EXPECT_TRUE(after->consumed);  // the killed statement changed nothing
  EXPECT_EQ((*store)->open_connections(), 1);
}

// The generic plan PostgreSQL caches for `statement` (as the store's
// connections do after five runs), as text.
std::string GenericPlan(PgAdmin& admin, const char* statement, const std::string& arguments) {
  pqxx::work tx(admin.connection());
  tx.exec("SET LOCAL plan_cache_mode = force_generic_plan");
  tx.exec(absl::StrCat("PREPARE plan_probe AS ", PreparedStatementSql(statement)));
  std::string plan;
  for (const pqxx::row& row :
       tx.exec(absl::StrCat("EXPLAIN EXECUTE plan_probe(", arguments, ")"))) {
    absl::StrAppend(&plan, row[0].c_str(), "\n");
  }
  tx.exec("DEALLOCATE plan_probe");  // PREPARE is not undone by a rollback
  return plan;
}

TEST(PostgresTokenStoreTest, ByteaArrayLiteralsCarryEveryByteValue) {
  const std::string url = ScratchSchemaUrl();
  ASSERT_FALSE(url.empty());
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  const std::vector<std::string> values = {all_bytes, "", "\"\\{},", Sha256("x")};
  PgAdmin admin(url);
  pqxx::nontransaction tx(admin.connection());
  const pqxx::result rows = tx.exec_params("SELECT unnest($1::bytea[])", ByteaArrayLiteral(values));
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(Bytes(rows[i][0]), values[i]) << i;
}

// Batch "b" of 20,000 tokens and 200 batches of 10: tables large enough that
// a wrong plan would show.
void InsertOneLargeAndManySmallBatches(TokenStore& store) {
  ASSERT_OK(store.InsertBatch(MakeBatch("b", 20000), kT0, kWindow, kNoDeadline));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(
        store.InsertBatch(MakeBatch(absl::StrCat("small", i), 10), kT0, kWindow, kNoDeadline));
  }
}

// Each prepared statement with arguments for batch "b", the index its
// generic plan must use, and the one it must stay off.
struct PlanExpectation {
  const char* statement;
  std::string arguments;
  const char* index;
  const char* not_index;
};

std::vector<PlanExpectation> PlanExpectations() {
  const std::string hashes = absl::StrCat("'", ByteaArrayLiteral({TokenHash("b", 7)}), "'");
  const std::string two_hashes =
      absl::StrCat("'", ByteaArrayLiteral({TokenHash("b", 7), TokenHash("b", 8)}), "'");
  return {
      {pgsql::kConsumeBatch,
       absl::StrCat("'{0,1}', ", two_hashes, R"(, '{1,1}', '{"\\x","\\x"}', '{"",""}')"),
       "tokens_pkey", "tokens_outstanding_email"},
      {pgsql::kFindTokens, absl::StrCat("'{0,1}', ", two_hashes), "tokens_pkey",
       "tokens_outstanding_email"},
      {pgsql::kFindToken, hashes, "tokens_pkey", "tokens_outstanding_email"},
      {pgsql::kRevokeByHash, absl::StrCat(hashes, ", 1"), "tokens_pkey",
       "tokens_outstanding_email"},
      {pgsql::kRevokeByBatch, "'b', 1", "tokens_batch_position", "tokens_outstanding_email"},
      {pgsql::kBatchLinks, "'b'", "tokens_batch_position", "tokens_outstanding_email"},
      {pgsql::kBatchSummary, "'b', 1", "tokens_batch_position", "tokens_outstanding_email"},
      {pgsql::kListLinks, "'b', -1, 1, 1, 100", "tokens_batch_position",
       "tokens_outstanding_email"},
      {pgsql::kRevokeByEmail, "'user7@example.com', 'invite', 1", "tokens_outstanding_email",
       "tokens_batch_position"},
      {pgsql::kRevokePrevious, "'{user7@example.com}', 'invite', 1", "tokens_outstanding_email",
       "tokens_batch_position"},
  };
}

TEST(PostgresTokenStoreTest, GenericPlansUseTheKeyIndexWithAndWithoutStatistics) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  PgAdmin admin(url);
  // No statistics, as right after deployment or a bulk load: autovacuum
  // must not analyze the tables behind the test's back.
  admin.Exec("ALTER TABLE tokens SET (autovacuum_enabled = false)");
  admin.Exec("ALTER TABLE batches SET (autovacuum_enabled = false)");
  ASSERT_NO_FATAL_FAILURE(InsertOneLargeAndManySmallBatches(**store));
  ASSERT_EQ(admin.QueryInt("SELECT count(*) FROM pg_stats WHERE tablename = 'tokens'"), 0);

  for (const bool analyzed : {false, true}) {
    if (analyzed) admin.Exec("ANALYZE");
    for (const PlanExpectation& e : PlanExpectations()) {
      const std::string plan = GenericPlan(admin, e.statement, e.arguments);
      EXPECT_THAT(plan, HasSubstr(e.index)) << e.statement << (analyzed ? " analyzed" : "");
      EXPECT_THAT(plan, Not(HasSubstr(e.not_index))) << e.statement;
    }
  }
}

TEST(PostgresTokenStoreTest, StoreConnectionsPlanEachStatementOnce) {
  const std::string url = ScratchSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 20), kT0, kWindow, kNoDeadline));
  // A connection set up as the store sets up each of its own.
  PgAdmin connection(url);
  PreparePostgresStatements(connection.connection());
  pqxx::nontransaction tx(connection.connection());
  for (int i = 0; i < 10; ++i) {
    const pqxx::result consumed =
        tx.exec_prepared(pgsql::kConsumeBatch, "{0}", ByteaArrayLiteral({TokenHash("b", i)}),
                         absl::StrCat("{", ToMicros(kT0 + absl::Minutes(1)), "}"),
                         ByteaArrayLiteral({""}), "{\"\"}");
    EXPECT_EQ(consumed.size(), 1u);
  }
  const pqxx::result plans = tx.exec(
      absl::StrCat("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = '",
                   pgsql::kConsumeBatch, "'"));
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0][1].as<int64_t>(), 0) << "custom plans";
  EXPECT_EQ(plans[0][0].as<int64_t>(), 10) << "runs of the one generic plan";
}

TEST(PostgresTokenStoreTest, SweepStatementsWalkTheirIndexesOnAStoreConnection) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  ASSERT_NO_FATAL_FAILURE(InsertOneLargeAndManySmallBatches(**store));
  PgAdmin admin(url);
  admin.Exec("ANALYZE");
  PreparePostgresStatements(admin.connection());  // plans as on a store connection
  auto plan_of = [&](pgsql::Sweep statement, const std::string& arguments) {
    pqxx::work tx(admin.connection());
    tx.exec(absl::StrCat("PREPARE sweep_probe AS ", SweepSql(statement)));
    std::string plan;
    for (const pqxx::row& row :
         tx.exec(absl::StrCat("EXPLAIN EXECUTE sweep_probe(", arguments, ")"))) {
      absl::StrAppend(&plan, row[0].c_str(), "\n");
    }
    tx.exec("DEALLOCATE sweep_probe");
    return plan;
  };
  const std::string cutoff = absl::StrCat(ToMicros(kT0 + absl::Minutes(10)));
  const std::string expired = plan_of(pgsql::Sweep::kExpiredTokens, cutoff + ", 100");
  EXPECT_THAT(expired, HasSubstr("batches_expires_at"));
  EXPECT_THAT(expired, HasSubstr("tokens_batch_position"));
  EXPECT_THAT(expired, Not(HasSubstr("Seq Scan on tokens")));
  const std::string replays = plan_of(pgsql::Sweep::kPurgeReplays, cutoff + ", 100");
  EXPECT_THAT(replays, HasSubstr("batches_replay_created_at"));

  // Nearly every spent token is newer than the cutoff: a scan that hoped to
  // meet a chunk's worth of old ones early would read the whole table.
  admin.Exec(absl::StrCat("UPDATE tokens SET consumed_at = magiclink_time(",
                          ToMicros(kT0 + absl::Minutes(30)), ") WHERE batch_id = 'b'"));
  admin.Exec(absl::StrCat("UPDATE tokens SET revoked_at = magiclink_time(",
                          ToMicros(kT0 + absl::Minutes(1)), ") WHERE batch_id = 'small0'"));
  admin.Exec("ANALYZE");
  const std::string spent = plan_of(pgsql::Sweep::kSpentTokens, cutoff + ", 1000");
  EXPECT_THAT(spent, HasSubstr("tokens_spent_at")) << spent;
  EXPECT_THAT(spent, Not(HasSubstr("Seq Scan on tokens"))) << spent;
}

TEST(PostgresTokenStoreTest, SweepSkipsRowsAnotherSessionHoldsInsteadOfWaiting) {
  const std::string base = ScratchDatabaseUrl();
  ASSERT_FALSE(base.empty());
  // Were the sweeper to wait for the locked row, it would fail after 2 s.
  auto store = OpenStore(absl::StrCat(base, "?options=-clock_timeout%3D2s"));
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("held", 1), kT0, kWindow, kNoDeadline));
  ASSERT_OK((*store)->InsertBatch(MakeBatch("free", 1), kT0, kWindow, kNoDeadline));
  const absl::Time cutoff = kT0 + kTtl + absl::Hours(1);

  PgAdmin other_replica(base);
  auto hold = std::make_unique<pqxx::work>(other_replica.connection());
  hold->exec("SELECT 1 FROM tokens WHERE batch_id = 'held' FOR UPDATE");
  absl::StatusOr<SweepResult> first = (*store)->Sweep(cutoff, kT0, 100, kNoDeadline);
  ASSERT_OK(first);
  EXPECT_EQ(first->tokens_deleted, 1);
  EXPECT_EQ(first->batches_deleted, 1);
  hold->abort();

  absl::StatusOr<SweepResult> second = (*store)->Sweep(cutoff, kT0, 100, kNoDeadline);
  ASSERT_OK(second);
  EXPECT_EQ(second->tokens_deleted, 1);
  EXPECT_EQ(second->batches_deleted, 1);
  PgAdmin admin(base);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 0);
}

TEST(PostgresTokenStoreTest, SweepDeletesUsedAndRevokedTokensBeforeTheyExpire) {
  const std::string url = ScratchSchemaUrl();
  ASSERT_FALSE(url.empty());
  auto store = OpenStore(url);
  ASSERT_OK(store);
  ASSERT_OK((*store)->InsertBatch(MakeBatch("b", 3), kT0, kWindow, kNoDeadline));
  ASSERT_OK((*store)->ConsumeToken({TokenHash("b", 0)}, {}, kT0 + absl::Minutes(1), kNoDeadline));
  RevokeTarget revoke;
  revoke.token_hashes = {TokenHash("b", 1)};
  ASSERT_OK((*store)->Revoke(revoke, kT0 + absl::Minutes(2), kNoDeadline));

  // The cutoff is before the batch expires: only the spent tokens go.
  absl::StatusOr<SweepResult> swept =
      (*store)->Sweep(kT0 + absl::Minutes(30), kT0, 100, kNoDeadline);
  ASSERT_OK(swept);
  EXPECT_EQ(swept->tokens_deleted, 2);
  EXPECT_EQ(swept->batches_deleted, 0);
  EXPECT_FALSE((*(*store)->FindToken({TokenHash("b", 0)}, kNoDeadline)).has_value());
  EXPECT_FALSE((*(*store)->FindToken({TokenHash("b", 1)}, kNoDeadline)).has_value());
  EXPECT_TRUE((*(*store)->FindToken({TokenHash("b", 2)}, kNoDeadline)).has_value());

  // Once the last token is used and swept, the empty batch goes too.
  ASSERT_OK((*store)->ConsumeToken({TokenHash("b", 2)}, {}, kT0 + absl::Minutes(3), kNoDeadline));
  absl::StatusOr<SweepResult> rest =
      (*store)->Sweep(kT0 + absl::Minutes(30), kT0, 100, kNoDeadline);
  ASSERT_OK(rest);
  EXPECT_EQ(rest->tokens_deleted, 1);
  EXPECT_EQ(rest->batches_deleted, 1);
}

}  // namespace
}  // namespace magiclink::testing
