// PostgreSQL stopped under steady traffic and started again: the store fails
// fast with UNAVAILABLE during the outage and recovers by itself afterwards,
// with every token issued before the outage intact.
//
// It stops the whole test cluster, so CTest runs it alone (RUN_SERIAL).
#include <gmock/gmock.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "server/store/postgres/postgres_token_store.h"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/reason_matchers.h"

namespace magiclink::testing {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::string TokenHash(int position) { return Sha256(absl::StrCat("outage/", position)); }

// Starts the cluster again if a test leaves it stopped, so one failure does
// not take the rest of the suite with it.
class ClusterRestarter {
 public:
  ~ClusterRestarter() {
    if (stopped_) RunPgCtl("start");
  }
  bool Stop() { return stopped_ = RunPgCtl("stop -m fast"); }
  bool Start() {
    if (!RunPgCtl("start")) return false;
    stopped_ = false;
    return true;
  }

 private:
  bool stopped_ = false;
};

// Waits for `condition`, checking every 10 ms for at most `limit` (the
// condition depends on a server process outside this one).
template <typename Condition>
bool Eventually(Condition condition, absl::Duration limit = absl::Seconds(30)) {
  const absl::Time give_up = absl::Now() + limit;
  while (!condition()) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

TEST(PostgresOutageTest, StoppedServerGivesUnavailableAndTheStoreRecoversByItself) {
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  PostgresOptions options = TestOptions(url);
  options.pool_size = 4;
  absl::StatusOr<std::unique_ptr<PostgresTokenStore>> opened = PostgresTokenStore::Open(options);
  ASSERT_OK(opened);
  PostgresTokenStore& store = **opened;

  constexpr int kTokens = 200;
  NewBatch batch;
  batch.batch_id = "before-outage";
  batch.issued_by = "caller";
  batch.purpose = "invite";
  batch.redirect_url = "https://app.example.com/";
  batch.created_at = kT0;
  batch.expires_at = kT0 + absl::Hours(1);
  for (int i = 0; i < kTokens; ++i) {
    batch.tokens.push_back({TokenHash(i), "k1", i, absl::StrCat("u", i, "@example.com"), {}});
  }
  ASSERT_OK(store.InsertBatch(batch, kT0, absl::Hours(24), kNoDeadline));

  // Steady traffic: lookups and small inserts from four threads.
  std::atomic<bool> stop_traffic{false};
  std::atomic<int> ok{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> other{0};
  std::vector<std::thread> traffic;
  for (int t = 0; t < 4; ++t) {
    traffic.emplace_back([&, t] {
      for (int n = 0; !stop_traffic.load(); ++n) {
        absl::Status s;
        if (n % 4 == 0) {
          NewBatch small = batch;
          small.batch_id = absl::StrCat("traffic-", t, "-", n);
          small.tokens = {{Sha256(small.batch_id), "k1", 0, "x@example.com", {}}};
          s = store.InsertBatch(small, kT0, absl::Hours(24), kNoDeadline).status();
        } else {
          s = store.FindToken({TokenHash(n % kTokens)}, kNoDeadline).status();
        }
        if (s.ok()) {
          ++ok;
        } else if (s.code() == absl::StatusCode::kUnavailable &&
                   ReasonOf(s) == magiclink::v1::STORE_UNAVAILABLE) {
          ++unavailable;
        } else {
          ++other;
          ADD_FAILURE() << "unexpected status during the outage test: " << s;
        }
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return ok.load() >= 50; }));

  ClusterRestarter cluster;
  ASSERT_TRUE(cluster.Stop());
  const int unavailable_at_stop = unavailable.load();
  ASSERT_TRUE(Eventually([&] { return unavailable.load() >= unavailable_at_stop + 50; }));

  // Fails fast: a refused connection is reported at once, not after a timeout.
  const absl::Time start = absl::Now();
  EXPECT_THAT(store.Ping(kNoDeadline),
              StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  EXPECT_THAT(store.ConsumeToken({TokenHash(0)}, {}, kT0, kNoDeadline),
              StatusIs(absl::StatusCode::kUnavailable, magiclink::v1::STORE_UNAVAILABLE));
  EXPECT_LT(absl::Now() - start, options.acquire_timeout);
  EXPECT_LE(store.open_connections(), options.pool_size);

  ASSERT_TRUE(cluster.Start());
  ASSERT_TRUE(Eventually([&] { return store.Ping(kNoDeadline).ok(); }));
  const int ok_at_restart = ok.load();
  ASSERT_TRUE(Eventually([&] { return ok.load() >= ok_at_restart + 50; }));
  stop_traffic = true;
  for (std::thread& t : traffic) t.join();

  EXPECT_EQ(other.load(), 0);
  EXPECT_LE(store.open_connections(), options.pool_size);
  // Every token issued before the outage is still there and usable.
  for (int i = 0; i < kTokens; ++i) {
    absl::StatusOr<ConsumeResult> r = store.ConsumeToken({TokenHash(i)}, {}, kT0, kNoDeadline);
    ASSERT_OK(r);
    EXPECT_TRUE(r->consumed) << "token " << i;
  }
}

}  // namespace
}  // namespace magiclink::testing
