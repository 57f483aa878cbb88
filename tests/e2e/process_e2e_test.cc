// The real magiclinkd binary as a child process: links survive a clean stop
// and a SIGKILL, SIGTERM exits cleanly, and start-up refuses bad set-ups.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/server_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

std::unique_ptr<v1::MagicLinkService::Stub> Connect(const ServerProcess& server) {
  return v1::MagicLinkService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
}

v1::IssueBatchResponse IssueOrDie(v1::MagicLinkService::Stub& stub, int count) {
  v1::IssueBatchRequest req;
  for (int i = 0; i < count; ++i) req.add_recipients()->set_email(absl::StrCat("p", i, "@x.io"));
  req.set_purpose("invite");
  req.set_redirect_url("http://localhost/accept");
  v1::IssueBatchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status s = stub.IssueBatch(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

grpc::Status Consume(v1::MagicLinkService::Stub& stub, const std::string& token) {
  v1::VerifyRequest req;
  req.set_token(token);
  v1::VerifyResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub.Verify(&ctx, req, &resp);
}

class ProcessE2eTest : public ::testing::Test {
 protected:
  ServerProcess MakeServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data_dir=" + dir_.File("data")};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(MagiclinkdPath(), args, dir_.File("server.log"));
  }
  std::string Log() {
    std::ifstream in(dir_.File("server.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  TempDir dir_;
};

TEST_F(ProcessE2eTest, LinksSurviveACleanRestartAndSigtermExitsZero) {
  ServerProcess server = MakeServer();
  ASSERT_OK(server.Start());
  v1::IssueBatchResponse issued = IssueOrDie(*Connect(server), 5);
  ASSERT_EQ(issued.links_size(), 5);
  ASSERT_TRUE(Consume(*Connect(server), issued.links(0).token()).ok());
  const int status = server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(Log(), ::testing::HasSubstr("\"event\":\"stopped\""));

  ServerProcess again = MakeServer();
  ASSERT_OK(again.Start());
  auto stub = Connect(again);
  EXPECT_EQ(Reason(Consume(*stub, issued.links(0).token())), "TOKEN_ALREADY_USED");
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(Consume(*stub, issued.links(i).token()).ok()) << i;
}

TEST_F(ProcessE2eTest, LinksSurviveSigkill) {
  ServerProcess server = MakeServer();
  ASSERT_OK(server.Start());
  v1::IssueBatchResponse issued = IssueOrDie(*Connect(server), 1000);
  ASSERT_EQ(issued.links_size(), 1000);
  server.Stop(SIGKILL);

  ServerProcess again = MakeServer();
  ASSERT_OK(again.Start());
  auto stub = Connect(again);
  for (int i : {0, 500, 999}) EXPECT_TRUE(Consume(*stub, issued.links(i).token()).ok()) << i;
}

TEST_F(ProcessE2eTest, TwoProcessesOnOneFileConsumeEachTokenOnce) {
  ServerProcess a = MakeServer();
  ServerProcess b = MakeServer();
  ASSERT_OK(a.Start());
  ASSERT_OK(b.Start());
  v1::IssueBatchResponse issued = IssueOrDie(*Connect(a), 30);
  auto stub_a = Connect(a);
  auto stub_b = Connect(b);
  int successes = 0;
  for (const v1::IssuedLink& link : issued.links()) {
    grpc::Status ra, rb;
    std::thread ta([&] { ra = Consume(*stub_a, link.token()); });
    std::thread tb([&] { rb = Consume(*stub_b, link.token()); });
    ta.join();
    tb.join();
    successes += ra.ok() + rb.ok();
    EXPECT_TRUE(ra.ok() != rb.ok()) << ra.error_message() << " / " << rb.error_message();
  }
  EXPECT_EQ(successes, 30);
}

TEST_F(ProcessE2eTest, KeyFileIsCreatedPrivateAndReusedAcrossRestarts) {
  ServerProcess server = MakeServer();
  ASSERT_OK(server.Start());
  server.Stop(SIGTERM);
  struct stat info;
  ASSERT_EQ(stat(dir_.File("data/token-keys").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  std::ifstream in(dir_.File("data/token-keys"));
  const std::string keys(std::istreambuf_iterator<char>(in), {});
  // The secret is never logged.
  const std::string secret = keys.substr(keys.rfind(' ') + 1, 20);
  EXPECT_EQ(Log().find(secret), std::string::npos);

  chmod(dir_.File("data/token-keys").c_str(), 0644);
  ServerProcess loose = MakeServer();
  EXPECT_FALSE(loose.Start().ok());
  EXPECT_THAT(Log(), ::testing::HasSubstr("readable by group or others"));
}

TEST_F(ProcessE2eTest, SigtermWithOnlyIdleConnectionsExitsWithinASecond) {
  ServerProcess server = MakeServer();  // shutdown_grace 10 s
  ASSERT_OK(server.Start());
  auto stub = Connect(server);
  IssueOrDie(*stub, 1);  // the connection is up, and idle from here on
  const absl::Time sent = absl::Now();
  const int status = server.Stop(SIGTERM);
  EXPECT_LT(absl::Now() - sent, absl::Seconds(1));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(ProcessE2eTest, SigtermLetsTheCallInFlightFinishAndTurnsNewCallsAway) {
  ServerProcess server = MakeServer();
  ASSERT_OK(server.Start());
  auto stub = Connect(server);
  const std::string token = IssueOrDie(*stub, 1).links(0).token();

  // Hold SQLite's write lock, so the next IssueBatch waits in the store.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("data/magiclink.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  v1::IssueBatchRequest three;
  for (int i = 0; i < 3; ++i) three.add_recipients()->set_email(absl::StrCat("q", i, "@x.io"));
  three.set_purpose("invite");
  three.set_redirect_url("http://localhost/accept");
  v1::IssueBatchResponse three_links;
  std::future<grpc::Status> in_flight = std::async(std::launch::async, [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub->IssueBatch(&ctx, three, &three_links);
  });
  // Let the call reach the store and wait there on the lock (SQLite's busy
  // timeout is 5 s, far more than the rest of this test needs).
  absl::SleepFor(absl::Seconds(1));

  server.SendSignal(SIGTERM);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckResponse::ServingStatus seen =
      grpc::health::v1::HealthCheckResponse::SERVING;
  for (int i = 0; i < 50 && seen == grpc::health::v1::HealthCheckResponse::SERVING; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    if (health->Check(&ctx, req, &resp).ok()) seen = resp.status();
    if (seen == grpc::health::v1::HealthCheckResponse::SERVING) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  EXPECT_EQ(seen, grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  // A new call is refused and changes nothing.
  grpc::Status refused = Consume(*stub, token);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Reason(refused), "SERVER_DRAINING");

  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  const absl::Time released = absl::Now();
  // The call in flight completed. (Had a loaded machine not yet handed it to a
  // handler at SIGTERM, it is turned away like any new call: never cancelled,
  // never left without an answer that says what happened.)
  const grpc::Status issued = in_flight.get();
  if (issued.ok()) {
    EXPECT_EQ(three_links.links_size(), 3);
  } else {
    EXPECT_EQ(issued.error_code(), grpc::StatusCode::UNAVAILABLE) << issued.error_message();
    EXPECT_EQ(Reason(issued), "SERVER_DRAINING") << issued.error_message();
  }
  const int status = server.WaitForExit();
  EXPECT_LT(absl::Now() - released, absl::Seconds(3));  // not the 10 s grace
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  sqlite3_close(db);

  // The refused consume did nothing: the token is still there to consume.
  ServerProcess again = MakeServer();
  ASSERT_OK(again.Start());
  auto stub2 = Connect(again);
  EXPECT_TRUE(Consume(*stub2, token).ok());
}

TEST_F(ProcessE2eTest, ASecondServerOnATakenPortExitsNonZeroSayingAddressInUse) {
  ServerProcess first = MakeServer();
  ASSERT_OK(first.Start());
  // Its own data folder, as a second deployment on the same host would have:
  // with SO_REUSEPORT both would listen and split the connections.
  const std::string listen = absl::StrCat("--listen=127.0.0.1:", first.port());
  ServerProcess second(MagiclinkdPath(), {"--data_dir=" + dir_.File("other"), listen},
                       dir_.File("second.log"));
  EXPECT_FALSE(second.Start().ok());
  EXPECT_TRUE(WIFEXITED(second.exit_status()) && WEXITSTATUS(second.exit_status()) != 0)
      << second.exit_status();
  std::ifstream in(dir_.File("second.log"));
  const std::string log(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(log, ::testing::HasSubstr("\"event\":\"listen_failed\""));
  EXPECT_THAT(log, ::testing::HasSubstr(absl::StrCat("cannot listen on 127.0.0.1:", first.port(),
                                                     ": Address already in use")));
  // The first still owns the port and answers.
  EXPECT_EQ(IssueOrDie(*Connect(first), 1).links_size(), 1);
}

TEST_F(ProcessE2eTest, UnknownConfigKeyIsRefusedAtStartup) {
  std::ofstream(dir_.File("config.json")) << R"({"listen": "127.0.0.1:0", "max_tll": "60s"})";
  ServerProcess server = MakeServer({"--config=" + dir_.File("config.json")});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(Log(), ::testing::HasSubstr("max_tll"));
}

}  // namespace
}  // namespace magiclink::testing
