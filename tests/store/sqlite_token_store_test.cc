// Runs the TokenStore contract on SQLite, plus what only SQLite has: one file
// shared by several store instances (as by several processes).
#include "server/store/sqlite/sqlite_token_store.h"

#include <atomic>
#include <thread>

#include "tests/store/token_store_contract.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

std::unique_ptr<TokenStore> MakeSqliteStore() {
  // Each store gets its own directory; it lives as long as the test binary.
  static std::vector<std::unique_ptr<TempDir>>* dirs = new std::vector<std::unique_ptr<TempDir>>();
  dirs->push_back(std::make_unique<TempDir>());
  absl::StatusOr<std::unique_ptr<SqliteTokenStore>> store =
      SqliteTokenStore::Open(dirs->back()->File("magiclink.db"));
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, TokenStoreContractTest,
                         ::testing::Values(TokenStoreFactory{"sqlite", MakeSqliteStore}),
                         TokenStoreFactoryName);

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

NewBatch OneTokenBatch(const std::string& id) {
  NewBatch b;
  b.batch_id = id;
  b.issued_by = "c";
  b.purpose = "invite";
  b.redirect_url = "http://localhost/x";
  b.created_at = kT0;
  b.expires_at = kT0 + absl::Hours(1);
  b.tokens.push_back({"hash-" + id, "k1", 0, "a@x.io", {}});
  return b;
}

TEST(SqliteTokenStoreTest, TwoStoresOnOneFileConsumeATokenExactlyOnce) {
  TempDir dir;
  auto a = SqliteTokenStore::Open(dir.File("db"));
  auto b = SqliteTokenStore::Open(dir.File("db"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  constexpr int kTokens = 50;
  for (int i = 0; i < kTokens; ++i) {
    ASSERT_OK(
        (*a)->InsertBatch(OneTokenBatch(std::to_string(i)), kT0, absl::Hours(1), kNoDeadline));
  }
  std::atomic<int> successes{0};
  std::atomic<int> errors{0};
  auto consume_all = [&](TokenStore& store) {
    for (int i = 0; i < kTokens; ++i) {
      absl::StatusOr<ConsumeResult> r =
          store.ConsumeToken({"hash-" + std::to_string(i)}, {}, kT0, kNoDeadline);
      if (!r.ok())
        ++errors;
      else if (r->consumed)
        ++successes;
    }
  };
  std::thread ta([&] { consume_all(**a); });
  std::thread tb([&] { consume_all(**b); });
  ta.join();
  tb.join();
  EXPECT_EQ(successes.load(), kTokens);
  EXPECT_EQ(errors.load(), 0);
}

TEST(SqliteTokenStoreTest, ReopeningKeepsTokensAndDoesNotReapplyMigrations) {
  TempDir dir;
  {
    auto store = SqliteTokenStore::Open(dir.File("db"));
    ASSERT_OK(store);
    ASSERT_OK((*store)->InsertBatch(OneTokenBatch("b"), kT0, absl::Hours(1), kNoDeadline));
  }
  auto again = SqliteTokenStore::Open(dir.File("db"));
  ASSERT_OK(again);
  absl::StatusOr<std::optional<TokenClaims>> found = (*again)->FindToken({"hash-b"}, kNoDeadline);
  ASSERT_OK(found);
  EXPECT_TRUE(found->has_value());
}

TEST(SqliteTokenStoreTest, UnwritableLocationIsUnavailable) {
  EXPECT_THAT(SqliteTokenStore::Open("/proc/magiclink/nope.db"),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace magiclink::testing
