// PostgreSQL stopped under a running magiclinkd: calls fail fast with
// UNAVAILABLE, health goes NOT_SERVING within a few seconds, and when
// PostgreSQL returns the same process serves again and every link issued
// before the outage verifies. And health tells the truth the other way: a
// replica whose every pooled connection is busy for longer than
// acquire_timeout stays SERVING, because health checks PostgreSQL on a
// connection of its own.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "pqxx/pqxx"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/issue_requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using grpc::health::v1::HealthCheckResponse;

HealthCheckResponse::ServingStatus Health(grpc::health::v1::Health::Stub& health) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("magiclink.v1.MagicLinkService");
  HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  if (!health.Check(&ctx, req, &resp).ok()) return HealthCheckResponse::UNKNOWN;
  return resp.status();
}

// The health probe runs once a second in the server; wait (bounded) for the
// state it reports to change. This waits for the system under test, it does
// not time anything.
bool AwaitHealth(grpc::health::v1::Health::Stub& health, HealthCheckResponse::ServingStatus want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (Health(health) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

grpc::Status Verify(v1::MagicLinkService::Stub& stub, const std::string& token) {
  v1::VerifyRequest req;
  req.set_token(token);
  v1::VerifyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  return stub.Verify(&ctx, req, &resp);
}

TEST(PostgresOutageProcessTest, UnavailableDuringOutageAndRecoversWithoutRestart) {
  TempDir dir;
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  ServerProcess server(MagiclinkdPath(), {"--database=" + url, "--data_dir=" + dir.File("data")},
                       dir.File("server.log"));
  ASSERT_OK(server.Start());
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::MagicLinkService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  ASSERT_EQ(Health(*health), HealthCheckResponse::SERVING);

  v1::IssueBatchRequest req;
  for (int i = 0; i < 20; ++i) req.add_recipients()->set_email(absl::StrCat("o", i, "@x.io"));
  req.set_purpose("invite");
  req.set_redirect_url("http://localhost/accept");
  v1::IssueBatchResponse issued;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->IssueBatch(&ctx, req, &issued).ok());
  }
  ASSERT_TRUE(Verify(*stub, issued.links(0).token()).ok());

  const absl::Time stopping = absl::Now();
  ASSERT_TRUE(RunPgCtl("stop -m fast"));
  const absl::Time stop = absl::Now();
  grpc::Status during = Verify(*stub, issued.links(1).token());
  EXPECT_EQ(during.error_code(), grpc::StatusCode::UNAVAILABLE) << during.error_message();
  EXPECT_EQ(Reason(during), "STORE_UNAVAILABLE");
  ASSERT_TRUE(AwaitHealth(*health, HealthCheckResponse::NOT_SERVING));
  // The probe runs once a second on its own connection, which the stopping
  // server closes: a few seconds at most (generous for a loaded machine).
  const absl::Duration to_not_serving = absl::Now() - stop;
  EXPECT_LT(to_not_serving, absl::Seconds(5));
  std::printf("health NOT_SERVING %.2f s after PostgreSQL had stopped (pg_ctl stop took %.2f s)\n",
              absl::ToDoubleSeconds(to_not_serving), absl::ToDoubleSeconds(stop - stopping));

  ASSERT_TRUE(RunPgCtl("start -w"));
  EXPECT_TRUE(AwaitHealth(*health, HealthCheckResponse::SERVING));
  for (int i = 1; i < 20; ++i) {
    grpc::Status s = Verify(*stub, issued.links(i).token());
    EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  EXPECT_EQ(Reason(Verify(*stub, issued.links(0).token())), "TOKEN_ALREADY_USED");
}

// The pool saturated: pool_size 1, its one connection held by a CONSUME
// that waits for a row another session has locked, for three times
// acquire_timeout. Other calls fail for want of a connection meanwhile (the
// pool is really saturated), yet every health check says SERVING, and the
// server never logs store_down.
TEST(PostgresHealthProcessTest, ASaturatedPoolKeepsTheReplicaServing) {
  TempDir dir;
  const std::string url = ScratchDatabaseUrl();
  ASSERT_FALSE(url.empty());
  std::ofstream(dir.File("config.json"))
      << R"({"postgres": {"pool_size": 1, "acquire_timeout": "1s", "consume_statements": 1}})";
  ServerProcess server(MagiclinkdPath(),
                       {"--database=" + url, "--data_dir=" + dir.File("data"),
                        "--config=" + dir.File("config.json")},
                       dir.File("server.log"));
  ASSERT_OK(server.Start());
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto stub = v1::MagicLinkService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);
  ASSERT_TRUE(AwaitHealth(*health, HealthCheckResponse::SERVING));

  v1::IssueBatchResponse issued;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->IssueBatch(&ctx, InviteRequest(2), &issued).ok());
  }
  PgAdmin locker(url);
  std::unique_ptr<pqxx::work> hold = LockTokenRow(locker, issued.batch_id(), 0);
  ASSERT_NE(hold, nullptr);

  // Holds the pool's only connection until the lock goes (at most 10 s).
  grpc::Status held;
  std::thread consume([&] { held = Verify(*stub, issued.links(0).token()); });
  PgAdmin admin(url);
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    waiting = admin.QueryInt(
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                  "'magiclinkd' AND wait_event_type = 'Lock'") == 1;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting) << "the CONSUME never waited for the locked row";

  // Three times acquire_timeout: with health on the pool, the probe would
  // have failed twice by now.
  int checks = 0, serving = 0;
  const absl::Time until = absl::Now() + absl::Seconds(3);
  while (absl::Now() < until) {
    ++checks;
    serving += Health(*health) == HealthCheckResponse::SERVING;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The pool is saturated: a call that needs a connection gets none.
  v1::VerifyRequest peek;
  peek.set_token(issued.links(1).token());
  peek.set_mode(v1::PEEK);
  v1::VerifyResponse claims;
  grpc::ClientContext ctx;
  const grpc::Status starved = stub->Verify(&ctx, peek, &claims);
  EXPECT_EQ(starved.error_code(), grpc::StatusCode::UNAVAILABLE) << starved.error_message();
  EXPECT_EQ(Reason(starved), "STORE_UNAVAILABLE");

  hold->abort();
  hold.reset();
  consume.join();
  EXPECT_TRUE(held.ok()) << held.error_message();
  EXPECT_EQ(serving, checks);
  std::printf("pool saturated for 3 s (acquire_timeout 1 s): %d of %d health checks SERVING\n",
              serving, checks);
  std::ifstream log(dir.File("server.log"));
  const std::string text(std::istreambuf_iterator<char>(log), {});
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("store_down")));
}

}  // namespace
}  // namespace magiclink::testing
