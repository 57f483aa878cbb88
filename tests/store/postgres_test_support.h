// Test helpers for the PostgreSQL store: the throwaway cluster that
// scripts/with-postgres.sh starts, fresh databases and schemas on it, an admin
// connection for setting up and inspecting state, and pg_ctl for outages.
//
//   std::string url = ScratchDatabaseUrl();          // empty database
//   auto store = PostgresTokenStore::Open(TestOptions(url));
//   PgAdmin admin(url);
//   EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 1);
//
// Without MAGICLINK_TEST_POSTGRES_URL these helpers fail the test: the
// PostgreSQL tests never skip silently.
#ifndef MAGICLINK_TESTS_STORE_POSTGRES_TEST_SUPPORT_H_
#define MAGICLINK_TESTS_STORE_POSTGRES_TEST_SUPPORT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "pqxx/pqxx"
#include "server/store/postgres/postgres_options.h"
#include "server/store/postgres/postgres_token_store.h"
#include "server/store/token_store.h"

namespace magiclink::testing {

// $MAGICLINK_TEST_POSTGRES_URL; adds a test failure and returns "" when unset.
std::string TestPostgresUrl();

// Creates an empty database on the test cluster and returns its URL ("" and
// a test failure when that is impossible).
std::string ScratchDatabaseUrl();

// Creates an empty schema in the test database and returns a URL whose
// search_path selects it: cheaper than a database, same isolation for the
// store's tables.
std::string ScratchSchemaUrl();

// Store options for tests: a small pool and a short wait for it.
PostgresOptions TestOptions(const std::string& url);

// The store opened with `options`, for a TokenStoreContractTest factory;
// nullptr and a test failure when it cannot be opened.
std::unique_ptr<TokenStore> OpenStoreForContract(const PostgresOptions& options);

// A plain connection for setting up and inspecting the database.
class PgAdmin {
 public:
  explicit PgAdmin(const std::string& url) : connection_(url) {}
  pqxx::connection& connection() { return connection_; }
  // Runs `sql` in its own transaction.
  void Exec(const std::string& sql);
  // The first column of the first row of `sql`, as an integer.
  int64_t QueryInt(const std::string& sql);

 private:
  pqxx::connection connection_;
};

// Proves that a write stuck on a row lock past its call's deadline is
// cancelled by PostgreSQL and changes nothing: with batch.tokens[0] (already
// inserted) locked by another session on `lock_url`, a Revoke and then a
// Verify CONSUME of it, each with a 500 ms deadline, fail with
// DEADLINE_EXCEEDED within 1.5 s and keep their pooled connection;
// batch.tokens[1] is consumed meanwhile; once the lock is gone,
// batch.tokens[0] is neither consumed nor revoked. `now` is the calls' time.
void ExpectWritesStuckPastTheirDeadlineChangeNothing(PostgresTokenStore& store,
                                                     const std::string& lock_url,
                                                     const NewBatch& batch, absl::Time now);

// A transaction on `admin`'s connection holding the row lock of the token
// at `position` of `batch_id` (SELECT ... FOR UPDATE), as a stuck client of
// the same database would, until it is aborted or destroyed; nullptr and a
// test failure when there is no such token.
std::unique_ptr<pqxx::work> LockTokenRow(PgAdmin& admin, const std::string& batch_id, int position);

// `s` quoted for a POSIX shell command line.
std::string ShellQuote(const std::string& s);

// Runs $MAGICLINK_TEST_PGCTL on the test cluster's data directory with
// `arguments` (e.g. "stop -m fast"); true when it succeeded.
bool RunPgCtl(const std::string& arguments);

}  // namespace magiclink::testing

#endif  // MAGICLINK_TESTS_STORE_POSTGRES_TEST_SUPPORT_H_
