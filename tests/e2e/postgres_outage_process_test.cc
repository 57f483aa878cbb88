// PostgreSQL stopped under a running magiclinkd: calls fail fast with
// UNAVAILABLE, health goes NOT_SERVING, and when PostgreSQL returns the same
// process serves again and every link issued before the outage verifies.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/store/postgres_test_support.h"
#include "tests/testing/grpc_errors.h"
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

  ASSERT_TRUE(RunPgCtl("stop -m fast"));
  grpc::Status during = Verify(*stub, issued.links(1).token());
  EXPECT_EQ(during.error_code(), grpc::StatusCode::UNAVAILABLE) << during.error_message();
  EXPECT_EQ(Reason(during), "STORE_UNAVAILABLE");
  EXPECT_TRUE(AwaitHealth(*health, HealthCheckResponse::NOT_SERVING));

  ASSERT_TRUE(RunPgCtl("start -w"));
  EXPECT_TRUE(AwaitHealth(*health, HealthCheckResponse::SERVING));
  for (int i = 1; i < 20; ++i) {
    grpc::Status s = Verify(*stub, issued.links(i).token());
    EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  EXPECT_EQ(Reason(Verify(*stub, issued.links(0).token())), "TOKEN_ALREADY_USED");
}

}  // namespace
}  // namespace magiclink::testing
