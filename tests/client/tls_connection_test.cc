// The TLS options of MakeConnection against an in-process server that
// requires mutual TLS, using the throwaway PKI in testdata/tls.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "magiclink/client/client.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "tests/client/client_matchers.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientCodeIs;

std::string Pem(const std::string& name) {
  std::ifstream in(std::string(MAGICLINK_TLS_TESTDATA) + "/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_FALSE(buffer.str().empty()) << name;
  return buffer.str();
}

class EchoService final : public v1::MagicLinkService::Service {
  grpc::Status GetBatch(grpc::ServerContext*, const v1::GetBatchRequest* request,
                        v1::GetBatchResponse* response) override {
    response->set_batch_id(request->batch_id());
    return grpc::Status::OK;
  }
};

class ClientTlsConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = Pem("ca.pem");
    ssl.pem_key_cert_pairs.push_back({Pem("server.key"), Pem("server.pem")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  // Mutual TLS with the test CA and client certificate; tests take parts away.
  ConnectionOptions MutualTls() {
    ConnectionOptions options;
    options.target = "127.0.0.1:" + std::to_string(port_);
    options.tls.enabled = true;
    options.tls.root_certs_pem = Pem("ca.pem");
    options.tls.client_cert_chain_pem = Pem("client.pem");
    options.tls.client_private_key_pem = Pem("client.key");
    options.retry.max_attempts = 1;
    return options;
  }

  absl::Status GetBatch(const ConnectionOptions& options) {
    absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
    if (!connection.ok()) return connection.status();
    absl::StatusOr<v1::GetBatchResponse> batch = Client(*connection).GetBatch("b_1");
    if (batch.ok() && batch->batch_id() != "b_1") return absl::InternalError("wrong echo");
    return batch.status();
  }

  EchoService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(ClientTlsConnectionTest, MutualTlsWithTheRightCertificatesConnects) {
  EXPECT_TRUE(GetBatch(MutualTls()).ok());
}

TEST_F(ClientTlsConnectionTest, ServerRequiringAClientCertificateRefusesOneWithout) {
  ConnectionOptions options = MutualTls();
  options.tls.client_cert_chain_pem.clear();
  options.tls.client_private_key_pem.clear();
  EXPECT_THAT(GetBatch(options), ClientCodeIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientTlsConnectionTest, ServerCertificateFromAnUntrustedCaIsRefused) {
  ConnectionOptions options = MutualTls();
  options.tls.root_certs_pem = Pem("other-ca.pem");
  EXPECT_THAT(GetBatch(options), ClientCodeIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientTlsConnectionTest, ServerNameOverrideIsCheckedAgainstTheCertificate) {
  ConnectionOptions options = MutualTls();
  options.tls.server_name_override = "localhost";
  EXPECT_TRUE(GetBatch(options).ok());
  options.tls.server_name_override = "other.example.com";
  EXPECT_THAT(GetBatch(options), ClientCodeIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientTlsConnectionTest, PlaintextClientCannotTalkToATlsServer) {
  ConnectionOptions options;
  options.target = "127.0.0.1:" + std::to_string(port_);
  options.retry.max_attempts = 1;
  EXPECT_THAT(GetBatch(options), ClientCodeIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace magiclink::client
