// MakeConnection against an in-process fake MagicLinkService: what goes on
// the wire (API key, deadline) and what comes back (rich errors).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "magiclink/client/client.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/client/client_matchers.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientErrorIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Records the metadata and deadline of each call; Verify fails like the real
// server does for a used token.
class FakeService final : public v1::MagicLinkService::Service {
 public:
  grpc::Status GetBatch(grpc::ServerContext* context, const v1::GetBatchRequest* request,
                        v1::GetBatchResponse* response) override {
    Record(context);
    response->set_batch_id(request->batch_id());
    return grpc::Status::OK;
  }
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest*,
                      v1::VerifyResponse*) override {
    Record(context);
    google::rpc::Status details;
    details.set_code(grpc::StatusCode::FAILED_PRECONDITION);
    details.set_message("the token has already been used");
    google::rpc::ErrorInfo info;
    info.set_reason("TOKEN_ALREADY_USED");
    info.set_domain("magiclink.v1");
    details.add_details()->PackFrom(info);
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, details.message(),
                        details.SerializeAsString());
  }

  std::string authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  std::chrono::system_clock::time_point deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }

 private:
  void Record(grpc::ServerContext* context) {
    absl::MutexLock lock(&mu_);
    auto it = context->client_metadata().find("authorization");
    authorization_ = it == context->client_metadata().end()
                         ? ""
                         : std::string(it->second.data(), it->second.size());
    deadline_ = context->deadline();
  }

  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::chrono::system_clock::time_point deadline_ ABSL_GUARDED_BY(mu_);
};

class ClientGrpcConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  Client Connect(const std::string& api_key, absl::Duration timeout = absl::Seconds(30)) {
    ConnectionOptions options;
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.api_key = api_key;
    options.timeout = timeout;
    absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return Client(*connection);
  }

  FakeService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(ClientGrpcConnectionTest, SendsTheApiKeyAsABearerToken) {
  ASSERT_TRUE(Connect("key-123").GetBatch("b_1").ok());
  EXPECT_EQ(service_.authorization(), "Bearer key-123");
}

TEST_F(ClientGrpcConnectionTest, SendsNoAuthorizationWithoutAnApiKey) {
  ASSERT_TRUE(Connect("").GetBatch("b_1").ok());
  EXPECT_EQ(service_.authorization(), "");
}

TEST_F(ClientGrpcConnectionTest, EveryCallCarriesTheConfiguredDeadline) {
  const auto before = std::chrono::system_clock::now();
  ASSERT_TRUE(Connect("", absl::Seconds(7)).GetBatch("b_1").ok());
  const auto after = std::chrono::system_clock::now();
  // gRPC sends the timeout relative and rounded up, and the server turns it
  // back into a time through its own clock conversion: a CI run saw the
  // server's deadline 9 ms past after + 7 s. A second of slack still tells
  // the configured 7 s from any other timeout.
  EXPECT_GT(service_.deadline(), before + std::chrono::seconds(6));
  EXPECT_LE(service_.deadline(), after + std::chrono::seconds(8));
}

TEST_F(ClientGrpcConnectionTest, ServerErrorDetailsReachTheCallerAsATypedError) {
  absl::StatusOr<v1::VerifyResponse> result = Connect("").Consume("tok");
  EXPECT_THAT(result, ClientErrorIs(absl::StatusCode::kFailedPrecondition, magiclink::v1::TOKEN_ALREADY_USED));
  EXPECT_EQ(Error(result.status()).domain(), "magiclink.v1");
  EXPECT_EQ(Error(result.status()).message(), "the token has already been used");
}

TEST(ClientConnectionOptionsTest, UnusableOptionsAreRefusedWithoutEchoingTheKey) {
  auto refused = [](const ConnectionOptions& options) {
    absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
    EXPECT_THAT(connection.status(),
                ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
    return std::string(connection.status().message());
  };
  ConnectionOptions empty_target;
  empty_target.target = "";
  refused(empty_target);
  ConnectionOptions zero_timeout;
  zero_timeout.timeout = absl::ZeroDuration();
  refused(zero_timeout);
  ConnectionOptions bad_key;
  bad_key.api_key = "secret-part\nsecond-line";
  EXPECT_THAT(refused(bad_key), Not(HasSubstr("secret-part")));
  ConnectionOptions half_cert;
  half_cert.tls.enabled = true;
  half_cert.tls.client_cert_chain_pem = "-----BEGIN CERTIFICATE-----";
  refused(half_cert);
  ConnectionOptions certs_without_tls;
  certs_without_tls.tls.root_certs_pem = "-----BEGIN CERTIFICATE-----";
  refused(certs_without_tls);
  ConnectionOptions no_attempts;
  no_attempts.retry.max_attempts = 0;
  refused(no_attempts);
}

}  // namespace
}  // namespace magiclink::client
