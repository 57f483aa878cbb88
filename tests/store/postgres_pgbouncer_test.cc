// The PostgreSQL store behind a real pgbouncer 1.18 in pool_mode =
// transaction (tests/store/pgbouncer.h), with postgres.prepared_statements =
// false: the whole TokenStore contract passes, as on a direct connection, and
// concurrent stores (as replicas) sharing few server sessions see no error.
//
// Needs the throwaway cluster of scripts/with-postgres.sh and Debian's
// pgbouncer; without them every test here fails (never skips).
#include <gmock/gmock.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"
#include "server/core/crypto.h"
#include "server/store/postgres/postgres_token_store.h"
#include "tests/store/pgbouncer.h"
#include "tests/store/postgres_test_support.h"
#include "tests/store/token_store_contract.h"
#include "tests/testing/status_matchers.h"

namespace magiclink::testing {
namespace {

// One pgbouncer per test process, started on first use (not while CTest
// lists the tests) and stopped at exit.
Pgbouncer& Bouncer() {
  static Pgbouncer bouncer;
  static const absl::Status started = bouncer.Start();
  if (!started.ok()) ADD_FAILURE() << started;
  return bouncer;
}

PostgresOptions PooledOptions() {
  // A database, not a schema: pgbouncer does not pass the startup "options"
  // that select a schema.
  PostgresOptions options = TestOptions(Bouncer().Route(ScratchDatabaseUrl()));
  options.prepared_statements = false;
  return options;
}

std::unique_ptr<TokenStore> MakePooledStore() { return OpenStoreForContract(PooledOptions()); }

INSTANTIATE_TEST_SUITE_P(PostgresThroughPgbouncer, TokenStoreContractTest,
                         ::testing::Values(TokenStoreFactory{"pgbouncer", MakePooledStore}),
                         TokenStoreFactoryName);

NewBatch Batch(const std::string& id, int tokens) {
  NewBatch b;
  b.batch_id = id;
  b.issued_by = "app";
  b.purpose = "invite";
  b.redirect_url = "http://localhost/accept";
  b.created_at = absl::FromUnixSeconds(1'800'000'000);
  b.expires_at = b.created_at + absl::Hours(1);
  for (int i = 0; i < tokens; ++i) {
    b.tokens.push_back(
        {Sha256(absl::StrCat(id, "/", i)), "k1", i, absl::StrCat("u", i, "@x.io"), {}});
  }
  return b;
}

// Four stores (as four replicas), sixteen callers, four server sessions:
// every transaction lands on whichever session is free, which is where named
// prepared statements failed.
TEST(PgbouncerTest, ReplicasSharingFewServerSessionsIssueAndConsumeWithoutAnyError) {
  const PostgresOptions options = PooledOptions();
  std::vector<std::unique_ptr<PostgresTokenStore>> stores;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store = PostgresTokenStore::Open(options);
    ASSERT_OK(store.status());
    stores.push_back(*std::move(store));
  }
  constexpr int kCallers = 16;
  constexpr int kBatches = 5;
  constexpr int kTokens = 20;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000) + absl::Minutes(1);
  std::atomic<int> errors{0};
  std::atomic<int> consumed{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      TokenStore& store = *stores[c % stores.size()];
      for (int b = 0; b < kBatches; ++b) {
        const NewBatch batch = Batch(absl::StrCat("b", c, "_", b), kTokens);
        if (!store.InsertBatch(batch, batch.created_at, absl::Hours(24), kNoDeadline).ok())
          ++errors;
        // Each token consumed through another store than the one that issued it.
        TokenStore& other = *stores[(c + 1) % stores.size()];
        for (const NewToken& t : batch.tokens) {
          absl::StatusOr<ConsumeResult> r =
              other.ConsumeToken({t.token_hash}, {}, now, kNoDeadline);
          if (!r.ok()) {
            ++errors;
          } else if (r->consumed) {
            ++consumed;
          }
        }
        if (!other.GetBatch(batch.batch_id, now, kNoDeadline).ok()) ++errors;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(consumed.load(), kCallers * kBatches * kTokens);
}

// A write's statement timeout works through the pooler too: with unnamed
// statements the store sends BEGIN; SET LOCAL statement_timeout, the
// statement and COMMIT (no EXECUTE of a session's prepared statement), so a
// Revoke or a Verify CONSUME stuck on a row lock past its deadline is
// cancelled by PostgreSQL, rolled back and answered DEADLINE_EXCEEDED, and
// the token is untouched.
TEST(PgbouncerTest, AWriteStuckPastItsDeadlineIsCancelledAndChangesNothing) {
  const std::string direct = ScratchDatabaseUrl();
  ASSERT_FALSE(direct.empty());
  PostgresOptions options = TestOptions(Bouncer().Route(direct));
  options.prepared_statements = false;
  absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store = PostgresTokenStore::Open(options);
  ASSERT_OK(store.status());
  const NewBatch batch = Batch("held", 2);
  const absl::Time now = batch.created_at + absl::Minutes(1);
  ASSERT_OK((*store)->InsertBatch(batch, batch.created_at, absl::Hours(24), kNoDeadline).status());
  ExpectWritesStuckPastTheirDeadlineChangeNothing(**store, direct, batch, now);
}

}  // namespace
}  // namespace magiclink::testing
