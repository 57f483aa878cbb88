#include "tests/store/postgres_test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "server/store/postgres/postgres_token_store.h"
#include "tests/testing/status_matchers.h"

namespace magiclink::testing {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// A name no other test (or test process) of this cluster uses.
std::string UniqueName(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "_", getpid(), "_", counter.fetch_add(1));
}

// `url` with its database (the path after host[:port]) replaced.
std::string WithDatabase(const std::string& url, const std::string& database) {
  const size_t authority = url.find("://");
  const size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  const size_t query = url.find('?');
  const std::string tail = query == std::string::npos ? "" : url.substr(query);
  return absl::StrCat(url.substr(0, path), "/", database, tail);
}

}  // namespace

std::unique_ptr<pqxx::work> LockTokenRow(PgAdmin& admin, const std::string& batch_id,
                                         int position) {
  auto hold = std::make_unique<pqxx::work>(admin.connection());
  const pqxx::result locked = hold->exec_params(
      "SELECT 1 FROM tokens WHERE batch_id = $1 AND position = $2 FOR UPDATE", batch_id, position);
  if (locked.size() != 1) {
    ADD_FAILURE() << "no token " << position << " in batch " << batch_id << " to lock";
    return nullptr;
  }
  return hold;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string TestPostgresUrl() {
  std::string url = Env("MAGICLINK_TEST_POSTGRES_URL");
  if (url.empty()) {
    ADD_FAILURE() << "MAGICLINK_TEST_POSTGRES_URL is not set: run the tests through "
                     "scripts/with-postgres.sh, which starts a throwaway PostgreSQL";
  }
  return url;
}

std::string ScratchDatabaseUrl() {
  const std::string base = TestPostgresUrl();
  if (base.empty()) return "";
  const std::string name = UniqueName("scratch");
  try {
    pqxx::connection admin(base);
    pqxx::nontransaction tx(admin);  // CREATE DATABASE refuses a transaction block
    tx.exec(absl::StrCat("CREATE DATABASE ", name));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot create a scratch database: " << e.what();
    return "";
  }
  return WithDatabase(base, name);
}

std::string ScratchSchemaUrl() {
  const std::string base = TestPostgresUrl();
  if (base.empty()) return "";
  const std::string name = UniqueName("scratch");
  try {
    PgAdmin(base).Exec(absl::StrCat("CREATE SCHEMA ", name));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot create a scratch schema: " << e.what();
    return "";
  }
  return absl::StrCat(base, base.find('?') == std::string::npos ? "?" : "&",
                      "options=-csearch_path%3D", name);
}

PostgresOptions TestOptions(const std::string& url) {
  PostgresOptions options;
  options.url = url;
  options.pool_size = 4;
  options.acquire_timeout = absl::Seconds(10);
  options.connect_timeout = absl::Seconds(2);
  options.reconnect_backoff = absl::Milliseconds(50);
  return options;
}

std::unique_ptr<TokenStore> OpenStoreForContract(const PostgresOptions& options) {
  absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store = PostgresTokenStore::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

void PgAdmin::Exec(const std::string& sql) {
  pqxx::work tx(connection_);
  tx.exec(sql);
  tx.commit();
}

int64_t PgAdmin::QueryInt(const std::string& sql) {
  pqxx::nontransaction tx(connection_);
  return tx.exec1(sql)[0].as<int64_t>();
}

bool RunPgCtl(const std::string& arguments) {
  const std::string pg_ctl = Env("MAGICLINK_TEST_PGCTL");
  const std::string data = Env("MAGICLINK_TEST_PGDATA");
  if (pg_ctl.empty() || data.empty()) {
    ADD_FAILURE() << "MAGICLINK_TEST_PGCTL / MAGICLINK_TEST_PGDATA are not set: run the tests "
                     "through scripts/with-postgres.sh";
    return false;
  }
  // The server's output goes to a log in the data directory (which the
  // cluster's owner can write), not into the test's output.
  const std::string command =
      absl::StrCat(ShellQuote(pg_ctl), " -D ", ShellQuote(data), " -l ",
                   ShellQuote(data + "/restarted.log"), " -w ", arguments, " >/dev/null");
  return std::system(command.c_str()) == 0;
}

void ExpectWritesStuckPastTheirDeadlineChangeNothing(PostgresTokenStore& store,
                                                     const std::string& lock_url,
                                                     const NewBatch& batch, absl::Time now) {
  ASSERT_GE(batch.tokens.size(), 2u);
  const std::string& held = batch.tokens[0].token_hash;
  PgAdmin locker(lock_url);
  auto hold = std::make_unique<pqxx::work>(locker.connection());
  ASSERT_EQ(hold->exec_params("SELECT 1 FROM tokens WHERE token_hash = $1 FOR UPDATE",
                              pqxx::binarystring(held))
                .size(),
            1u);
  for (const bool consume : {false, true}) {
    SCOPED_TRACE(consume ? "Verify CONSUME" : "Revoke");
    const int connections = store.open_connections();
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + absl::Milliseconds(500);
    absl::Status status;
    if (consume) {
      status = store.ConsumeToken({held}, {}, now, deadline).status();
    } else {
      RevokeTarget target;
      target.token_hashes = {held};
      status = store.Revoke(target, now, deadline).status();
    }
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kDeadlineExceeded)) << status;
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
    EXPECT_EQ(store.open_connections(), connections) << "the connection was dropped";
  }
  // Another token of the same batch is not held up meanwhile.
  absl::StatusOr<ConsumeResult> other =
      store.ConsumeToken({batch.tokens[1].token_hash}, {}, now, absl::Now() + absl::Seconds(5));
  ASSERT_OK(other);
  EXPECT_TRUE(other->consumed);
  hold->abort();
  absl::StatusOr<std::optional<TokenClaims>> claims = store.FindToken({held}, kNoDeadline);
  ASSERT_OK(claims);
  ASSERT_TRUE(claims->has_value());
  EXPECT_FALSE((*claims)->consumed_at.has_value());
  EXPECT_FALSE((*claims)->revoked_at.has_value());
}

}  // namespace magiclink::testing
