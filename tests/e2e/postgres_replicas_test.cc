// Several real magiclinkd processes on one PostgreSQL database: exactly-once
// consumption and request_id de-duplication are decided by the database, a
// replica killed in the middle of a large IssueBatch leaves the batch whole
// or absent, a token whose row another session holds fails by its call's
// deadline without being consumed, replicas either share their token keys or
// refuse to start (never a silent split), and all of it works behind
// pgbouncer in transaction mode.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "server/core/crypto.h"
#include "tests/store/pgbouncer.h"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using Stub = v1::MagicLinkService::Stub;

std::unique_ptr<Stub> Connect(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return v1::MagicLinkService::NewStub(
      grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args));
}

v1::IssueBatchRequest Request(int count, const std::string& request_id = "") {
  v1::IssueBatchRequest req;
  for (int i = 0; i < count; ++i) req.add_recipients()->set_email(absl::StrCat("r", i, "@x.io"));
  req.set_purpose("invite");
  req.set_redirect_url("http://localhost/accept");
  req.set_request_id(request_id);
  return req;
}

grpc::Status Issue(Stub& stub, const v1::IssueBatchRequest& req, v1::IssueBatchResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return stub.IssueBatch(&ctx, req, resp);
}

class PostgresReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = ScratchDatabaseUrl();
    ASSERT_FALSE(url_.empty());
    for (int i = 0; i < 3; ++i) {
      // One data folder for all: the replicas must share the token key.
      replicas_.push_back(std::make_unique<ServerProcess>(
          MagiclinkdPath(),
          std::vector<std::string>{"--database=" + url_, "--data_dir=" + dir_.File("data")},
          dir_.File("server.log")));
    }
    for (auto& r : replicas_) ASSERT_OK(r->Start());
    for (auto& r : replicas_) stubs_.push_back(Connect(*r));
  }

  TempDir dir_;
  std::string url_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::vector<std::unique_ptr<Stub>> stubs_;
};

TEST_F(PostgresReplicasTest, EachOfAThousandTokensIsConsumedOnceBy32CallersOverThreeReplicas) {
  constexpr int kTokens = 1000;
  constexpr int kCallers = 32;
  v1::IssueBatchResponse issued;
  ASSERT_TRUE(Issue(*stubs_[0], Request(kTokens), &issued).ok());
  ASSERT_EQ(issued.links_size(), kTokens);

  std::vector<std::atomic<int>> successes(kTokens);
  std::atomic<int> unexpected{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      // Every caller walks all tokens in its own order, through one replica.
      std::vector<int> order(kTokens);
      for (int i = 0; i < kTokens; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), std::mt19937(c));
      Stub& stub = *stubs_[c % 3];
      for (int i : order) {
        v1::VerifyRequest req;
        req.set_token(issued.links(i).token());
        v1::VerifyResponse resp;
        grpc::ClientContext ctx;
        grpc::Status s = stub.Verify(&ctx, req, &resp);
        if (s.ok()) {
          ++successes[i];
        } else if (Reason(s) != "TOKEN_ALREADY_USED") {
          ++unexpected;
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  int total = 0;
  for (int i = 0; i < kTokens; ++i) {
    EXPECT_EQ(successes[i].load(), 1) << "token " << i;
    total += successes[i].load();
  }
  EXPECT_EQ(total, kTokens);
  EXPECT_EQ(unexpected.load(), 0);
}

TEST_F(PostgresReplicasTest, TenRacingRetriesOverReplicasMakeOneBatchWithIdenticalLinks) {
  const v1::IssueBatchRequest req = Request(50, "welcome-wave-1");
  constexpr int kRetries = 10;
  std::vector<v1::IssueBatchResponse> responses(kRetries);
  std::vector<grpc::Status> statuses(kRetries);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRetries; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Issue(*stubs_[i % 3], req, &responses[i]); });
  }
  for (std::thread& t : threads) t.join();
  int fresh = 0;
  for (int i = 0; i < kRetries; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    fresh += !responses[i].replayed();
    ASSERT_EQ(responses[i].links_size(), 50);
    EXPECT_EQ(responses[i].batch_id(), responses[0].batch_id());
    for (int j = 0; j < 50; ++j) {
      EXPECT_EQ(responses[i].links(j).url(), responses[0].links(j).url());
    }
  }
  EXPECT_EQ(fresh, 1);
  PgAdmin admin(url_);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 1);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens"), 50);
}

TEST_F(PostgresReplicasTest, ReplicaKilledMidIssueLeavesTheBatchWholeOrAbsentAndARetryCompletesIt) {
  constexpr int kRecipients = 10000;
  const v1::IssueBatchRequest req = Request(kRecipients, "big-import");
  PgAdmin admin(url_);
  // Kill the replica while the call is in flight: as soon as the server has
  // the request (its batch row or its transaction may or may not exist yet).
  std::thread call([&] {
    v1::IssueBatchResponse ignored;
    Issue(*stubs_[0], req, &ignored);
  });
  for (int i = 0;
       i < 2000 && admin.QueryInt("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                  "AND application_name = 'magiclinkd'") == 0;
       ++i) {
    std::this_thread::yield();
  }
  replicas_[0]->Stop(SIGKILL);
  call.join();

  const int64_t tokens = admin.QueryInt("SELECT count(*) FROM tokens");
  EXPECT_TRUE(tokens == 0 || tokens == kRecipients) << tokens;
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), tokens == 0 ? 0 : 1);

  v1::IssueBatchResponse retried;
  grpc::Status s = Issue(*stubs_[1], req, &retried);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(retried.links_size(), kRecipients);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM tokens"), kRecipients);
  EXPECT_EQ(admin.QueryInt("SELECT count(*) FROM batches"), 1);
  v1::VerifyRequest verify;
  verify.set_token(retried.links(kRecipients - 1).token());
  v1::VerifyResponse claims;
  grpc::ClientContext ctx;
  EXPECT_TRUE(stubs_[2]->Verify(&ctx, verify, &claims).ok());
}

// Replicas on one database, each with its own data folder (one per host).
class KeySharingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = ScratchDatabaseUrl();
    ASSERT_FALSE(url_.empty());
  }

  // A replica with its own data folder `name`, logging to `name`.log.
  std::unique_ptr<ServerProcess> Replica(const std::string& name, const std::string& keys = "",
                                         const std::string& url = "",
                                         std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--database=" + (url.empty() ? url_ : url),
                                     "--data_dir=" + dir_.File(name)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto replica =
        std::make_unique<ServerProcess>(MagiclinkdPath(), args, dir_.File(name + ".log"));
    if (!keys.empty()) replica->SetEnv("MAGICLINK_TOKEN_KEYS", keys);
    return replica;
  }

  std::string Log(const std::string& name) {
    std::ifstream in(dir_.File(name + ".log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static bool ExitedNonZero(const ServerProcess& replica) {
    return WIFEXITED(replica.exit_status()) && WEXITSTATUS(replica.exit_status()) != 0;
  }

  static grpc::Status Consume(Stub& stub, const std::string& token) {
    v1::VerifyRequest req;
    req.set_token(token);
    v1::VerifyResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub.Verify(&ctx, req, &resp);
  }

  // Issues `count` links on `issuer` and consumes each on `verifier`; then
  // each is used up on `issuer` too. Counts every unexpected answer.
  static int CrossVerify(Stub& issuer, Stub& verifier, int count) {
    v1::IssueBatchResponse issued;
    grpc::Status s = Issue(issuer, Request(count), &issued);
    if (!s.ok()) return count;
    int errors = 0;
    for (const v1::IssuedLink& link : issued.links()) {
      if (!Consume(verifier, link.token()).ok()) ++errors;
      if (Reason(Consume(issuer, link.token())) != "TOKEN_ALREADY_USED") ++errors;
    }
    return errors;
  }

  static std::string Secret(char fill) { return Base64UrlEncode(std::string(32, fill)); }

  TempDir dir_;
  std::string url_;
};

TEST_F(KeySharingTest, ASecondReplicaWithItsOwnDataFolderRefusesInsteadOfSplitting) {
  auto first = Replica("a");
  ASSERT_OK(first->Start());  // first start on an empty database: creates its key file
  EXPECT_THAT(Log("a"), ::testing::HasSubstr("\"event\":\"token_keys_created\""));

  auto second = Replica("b");
  EXPECT_FALSE(second->Start().ok());
  EXPECT_TRUE(ExitedNonZero(*second)) << second->exit_status();
  const std::string log = Log("b");
  EXPECT_THAT(log, ::testing::HasSubstr("\"event\":\"token_keys_invalid\""));
  EXPECT_THAT(log, ::testing::HasSubstr("already records keys (k1)"));
  EXPECT_THAT(log, ::testing::HasSubstr("MAGICLINK_TOKEN_KEYS"));
  EXPECT_THAT(log, ::testing::HasSubstr("same key file"));
  // It created no key file of its own.
  EXPECT_FALSE(std::filesystem::exists(dir_.File("b/token-keys")));

  // Given the first replica's key file, it starts and accepts its links.
  std::filesystem::copy_file(dir_.File("a/token-keys"), dir_.File("b/token-keys"));
  ASSERT_OK(second->Start());
  EXPECT_EQ(CrossVerify(*Connect(*first), *Connect(*second), 5), 0);
}

TEST_F(KeySharingTest, AReplicaWithAnotherSecretUnderAKnownKeyIdRefusesToStartNamingIt) {
  auto first = Replica("a", "k1 " + Secret('a'));
  ASSERT_OK(first->Start());
  auto second = Replica("b", "k1 " + Secret('b'));
  EXPECT_FALSE(second->Start().ok());
  EXPECT_TRUE(ExitedNonZero(*second)) << second->exit_status();
  const std::string log = Log("b");
  EXPECT_THAT(log, ::testing::HasSubstr("token key 'k1' has another secret"));
  EXPECT_THAT(log, ::testing::HasSubstr("MAGICLINK_TOKEN_KEYS"));
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(Secret('b'))));
  EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr(Secret('a'))));
  // The same happens to a key file holding another secret under k1.
  ASSERT_EQ(mkdir(dir_.File("c").c_str(), 0700), 0);
  std::ofstream(dir_.File("c/token-keys")) << "k1 " << Secret('c') << "\n";
  chmod(dir_.File("c/token-keys").c_str(), 0600);
  auto third = Replica("c");
  EXPECT_FALSE(third->Start().ok());
  EXPECT_THAT(Log("c"), ::testing::HasSubstr("token key 'k1' has another secret"));
}

TEST_F(KeySharingTest, TwoFirstStartsRacingOnAnEmptyDatabaseLeaveExactlyOneKeySetServing) {
  auto a = Replica("a");
  auto b = Replica("b");
  absl::Status started_a, started_b;
  std::thread ta([&] { started_a = a->Start(); });
  std::thread tb([&] { started_b = b->Start(); });
  ta.join();
  tb.join();
  EXPECT_NE(started_a.ok(), started_b.ok()) << started_a << " / " << started_b;
}

TEST_F(KeySharingTest, ReplicasSharingKeysThroughTheEnvironmentVerifyEachOthersLinks) {
  const std::string keys = absl::StrCat("k1 ", Secret('a'), ";k2 ", Secret('b'));
  auto a = Replica("a", keys);
  auto b = Replica("b", keys);
  ASSERT_OK(a->Start());
  ASSERT_OK(b->Start());
  auto stub_a = Connect(*a);
  auto stub_b = Connect(*b);
  EXPECT_EQ(CrossVerify(*stub_a, *stub_b, 20), 0);
  EXPECT_EQ(CrossVerify(*stub_b, *stub_a, 20), 0);
  // Neither created a key file: the keys come from the environment only.
  EXPECT_FALSE(std::filesystem::exists(dir_.File("a/token-keys")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("b/token-keys")));
}

TEST_F(KeySharingTest, ReplicasBehindPgbouncerInTransactionModeAnswerEveryCallWithoutError) {
  Pgbouncer bouncer;
  ASSERT_OK(bouncer.Start());
  std::ofstream(dir_.File("pooled.json")) << R"({"postgres": {"prepared_statements": false}})";
  const std::string keys = "k1 " + Secret('p');
  const std::string pooled = bouncer.Route(url_);
  const std::vector<std::string> config = {"--config=" + dir_.File("pooled.json")};
  auto a = Replica("a", keys, pooled, config);  // migrates through pgbouncer too
  auto b = Replica("b", keys, pooled, config);
  ASSERT_OK(a->Start());
  ASSERT_OK(b->Start());
  std::atomic<int> errors{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 8; ++c) {
    callers.emplace_back([&, c] {
      auto issuer = Connect(c % 2 == 0 ? *a : *b);
      auto verifier = Connect(c % 2 == 0 ? *b : *a);
      for (int round = 0; round < 3; ++round) errors += CrossVerify(*issuer, *verifier, 20);
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_THAT(Log("a") + Log("b"), ::testing::Not(::testing::HasSubstr("store_internal_error")));
}

grpc::Status VerifyWithin(Stub& stub, const std::string& token, v1::VerifyMode mode,
                          absl::Duration deadline) {
  v1::VerifyRequest req;
  req.set_token(token);
  req.set_mode(mode);
  v1::VerifyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return stub.Verify(&ctx, req, &resp);
}

// The stalled row: another session holds one token's row lock (an open
// transaction after SELECT ... FOR UPDATE). A CONSUME of it with a 1 s
// deadline fails with DEADLINE_EXCEEDED in about that second: the store's
// statement timeout (the time left minus a reserve for the answer) cancels
// the consume statement, which rolls back. Meanwhile other tokens verify
// through every replica, and once the lock is gone the token is still
// outstanding.
TEST_F(PostgresReplicasTest, ATokenLockedByAnotherSessionFailsByItsDeadlineAndStaysOutstanding) {
  constexpr int kTokens = 20;
  v1::IssueBatchResponse issued;
  ASSERT_TRUE(Issue(*stubs_[0], Request(kTokens), &issued).ok());
  PgAdmin locker(url_);
  std::unique_ptr<pqxx::work> hold = LockTokenRow(locker, issued.batch_id(), 0);
  ASSERT_NE(hold, nullptr);

  grpc::Status stalled;
  absl::Duration stalled_took;
  std::thread consume([&] {
    const absl::Time start = absl::Now();
    stalled = VerifyWithin(*stubs_[0], issued.links(0).token(), v1::CONSUME, absl::Seconds(1));
    stalled_took = absl::Now() - start;
  });
  // Other tokens verify while the consume waits for the row.
  PgAdmin admin(url_);
  for (int i = 0; i < 200 && admin.QueryInt("SELECT count(*) FROM pg_stat_activity WHERE "
                                            "application_name = 'magiclinkd' AND "
                                            "wait_event_type = 'Lock'") == 0;
       ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (int i = 1; i < kTokens; ++i) {
    grpc::Status s =
        VerifyWithin(*stubs_[i % 3], issued.links(i).token(), v1::CONSUME, absl::Seconds(1));
    EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  consume.join();
  EXPECT_EQ(stalled.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << stalled.error_message();
  EXPECT_GE(stalled_took, absl::Milliseconds(800));
  EXPECT_LT(stalled_took, absl::Milliseconds(2500));
  std::printf(
      "stalled-row consume: %s after %.3f s\n",
      stalled.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? "DEADLINE_EXCEEDED" : "other",
      absl::ToDoubleSeconds(stalled_took));

  hold->abort();
  hold.reset();
  EXPECT_EQ(
      admin.QueryInt(absl::StrCat("SELECT count(*) FROM tokens WHERE batch_id = '",
                                  issued.batch_id(), "' AND position = 0 AND consumed_at IS NULL")),
      1);
  for (auto& stub : stubs_) {
    EXPECT_TRUE(VerifyWithin(*stub, issued.links(0).token(), v1::PEEK, absl::Seconds(5)).ok());
  }
  EXPECT_TRUE(
      VerifyWithin(*stubs_[1], issued.links(0).token(), v1::CONSUME, absl::Seconds(5)).ok());
}

}  // namespace
}  // namespace magiclink::testing
