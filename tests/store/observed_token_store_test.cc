// What the stores report to a StoreObserver (metrics): link counts and
// operation times from ObservedTokenStore for either store, and PostgreSQL's
// pool and coalesced consume statements.
#include "server/store/observed_token_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "server/store/store_factory.h"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// Counts every report; thread-safe.
struct RecordingObserver final : StoreObserver {
  void OperationDone(StoreOperation operation, absl::Duration) override {
    ++operations[static_cast<int>(operation)];
  }
  void LinksIssued(int64_t n) override { issued += n; }
  void LinksConsumed(int64_t n) override { consumed += n; }
  void LinksRevoked(int64_t n) override { revoked += n; }
  void LinksSwept(int64_t n) override { swept += n; }
  void ConnectionsInUse(int delta) override {
    const int now = in_use += delta;
    int seen = peak_in_use.load();
    while (now > seen && !peak_in_use.compare_exchange_weak(seen, now)) {
    }
  }
  void ConnectionWaiters(int delta) override { waiters += delta; }
  void ConsumeStatement(int calls) override {
    ++consume_statements;
    consume_calls += calls;
  }
  void InsertStatement(int calls) override {
    ++insert_statements;
    insert_calls += calls;
  }

  std::atomic<int> operations[kStoreOperationCount] = {};
  std::atomic<int64_t> issued{0}, consumed{0}, revoked{0}, swept{0};
  std::atomic<int> in_use{0}, peak_in_use{0}, waiters{0};
  std::atomic<int> consume_statements{0}, consume_calls{0};
  std::atomic<int> insert_statements{0}, insert_calls{0};
};

NewBatch Batch(const std::string& id, int size) {
  NewBatch b;
  b.batch_id = id;
  b.issued_by = "caller";
  b.purpose = "invite";
  b.redirect_url = "https://app.example.com/welcome";
  b.created_at = kT0;
  b.expires_at = kT0 + absl::Hours(1);
  b.request_id = "r-" + id;
  for (int i = 0; i < size; ++i) {
    b.tokens.push_back(
        {Sha256(absl::StrCat(id, "/", i)), "k1", i, absl::StrCat("u", i, "@example.com"), {}});
  }
  return b;
}

// Issues 4 (and replays them: nothing more), consumes 3 (one twice),
// revokes 1 by token and then the rest of the batch.
void ExerciseStore(TokenStore& store, RecordingObserver& observer) {
  const NewBatch batch = Batch("b1", 4);
  ASSERT_OK(store.InsertBatch(batch, kT0, absl::Hours(24), kNoDeadline));
  ASSERT_OK(
      store.InsertBatch(batch, kT0, absl::Hours(24), kNoDeadline));  // a replay writes nothing
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_TRUE(store.ConsumeToken({batch.tokens[i].token_hash}, {}, kT0, kNoDeadline)->consumed);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(store.ConsumeToken({batch.tokens[0].token_hash}, {}, kT0, kNoDeadline)->consumed);
  RevokeTarget by_batch;
  by_batch.batch_id = "b1";
  EXPECT_EQ(*store.Revoke(by_batch, kT0, kNoDeadline), 1);
  EXPECT_EQ(observer.issued, 4);
  EXPECT_EQ(observer.consumed, 3);
  EXPECT_EQ(observer.revoked, 1);
  EXPECT_EQ(observer.operations[static_cast<int>(StoreOperation::kInsertBatch)], 2);
  EXPECT_EQ(observer.operations[static_cast<int>(StoreOperation::kConsumeToken)], 4);
  EXPECT_EQ(observer.operations[static_cast<int>(StoreOperation::kRevoke)], 1);
  // Everything the sweeper may delete once the retention has passed.
  absl::StatusOr<SweepResult> swept =
      store.Sweep(kT0 + absl::Hours(24 * 30), kT0, 100, kNoDeadline);
  ASSERT_OK(swept);
  EXPECT_EQ(observer.swept, swept->tokens_deleted);
  EXPECT_EQ(observer.swept, 4);
}

TEST(ObservedTokenStoreTest, SqliteStoreReportsLinksAndOperations) {
  testing::TempDir dir;
  RecordingObserver observer;
  absl::StatusOr<std::unique_ptr<TokenStore>> store =
      OpenTokenStore("sqlite:" + dir.File("m.db"), PostgresOptions(), &observer);
  ASSERT_OK(store);
  ExerciseStore(**store, observer);
  EXPECT_EQ(observer.consume_statements, 0);  // PostgreSQL only
}

TEST(ObservedTokenStoreTest, PostgresStoreAlsoReportsPoolAndConsumeStatements) {
  const std::string url = testing::ScratchSchemaUrl();
  ASSERT_FALSE(url.empty()) << "needs scripts/with-postgres.sh";
  RecordingObserver observer;
  absl::StatusOr<std::unique_ptr<TokenStore>> store =
      OpenTokenStore(url, PostgresOptions(), &observer);
  ASSERT_OK(store);
  ExerciseStore(**store, observer);
  EXPECT_GE(observer.consume_statements, 1);
  EXPECT_EQ(observer.consume_calls, 4);  // every consume went in some statement
  EXPECT_GE(observer.peak_in_use, 1);
  EXPECT_EQ(observer.in_use, 0);  // every lease returned
  EXPECT_EQ(observer.waiters, 0);
}

}  // namespace
}  // namespace magiclink
