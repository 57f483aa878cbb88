// TLS and mutual TLS end to end, with certificates made by openssl for each
// test run (nothing secret is committed): a client that trusts the server's CA
// gets through, one that does not fails; with mTLS a client without a
// certificate fails, and a certificate can identify a caller instead of, or
// together with, an API key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "server/transport/tls_credentials.h"
#include "tests/e2e/test_server.h"
#include "tests/testing/grpc_errors.h"

namespace magiclink::testing {
namespace {

constexpr char kBillingKey[] = "mlk_billing_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
constexpr char kOpsKey[] = "mlk_ops_0f1e2d3c4b5a69788796a5b4c3d2e1f0";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA, a server certificate for localhost/127.0.0.1 and client certificates,
// all EC P-256 keys made by the openssl command line in a fresh folder.
class Pki {
 public:
  Pki() {
    MakeCa("ca");
    MakeCa("other-ca");
    MakeLeaf("ca", "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    MakeLeaf("ca", "billing", "billing.internal", "extendedKeyUsage=clientAuth");
    MakeLeaf("ca", "ops", "ops.internal", "extendedKeyUsage=clientAuth");
    MakeLeaf("other-ca", "stranger", "billing.internal", "extendedKeyUsage=clientAuth");
  }
  std::string Path(const std::string& name) const { return dir_.File(name); }
  std::string Pem(const std::string& name) const { return ReadFile(Path(name)); }
  bool ok() const { return ok_; }

 private:
  void Run(const std::string& command) {
    const int rc = std::system((command + " >/dev/null 2>&1").c_str());
    if (rc != 0) {
      ok_ = false;
      ADD_FAILURE() << "failed: " << command;
    }
  }
  void MakeCa(const std::string& name) {
    Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                     " -keyout ", Path(name + ".key"), " -out ", Path(name + ".pem"),
                     " -days 2 -subj '/CN=magiclink test ", name, "'"));
  }
  void MakeLeaf(const std::string& ca, const std::string& name, const std::string& cn,
                const std::string& extension) {
    std::ofstream(Path(name + ".ext")) << extension << "\n";
    Run(absl::StrCat("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
                     " -keyout ", Path(name + ".key"), " -out ", Path(name + ".csr"),
                     " -subj '/CN=", cn, "'"));
    Run(absl::StrCat("openssl x509 -req -in ", Path(name + ".csr"), " -CA ", Path(ca + ".pem"),
                     " -CAkey ", Path(ca + ".key"), " -CAcreateserial -days 2 -out ",
                     Path(name + ".pem"), " -extfile ", Path(name + ".ext")));
  }

  TempDir dir_;
  bool ok_ = true;
};

CallerEntry TlsCaller(const std::string& name, const std::string& key, const std::string& identity,
                      bool require_certificate = false) {
  CallerEntry e;
  e.caller = Caller::Unrestricted(name);
  if (!key.empty()) e.api_key_sha256 = {Sha256(key)};
  if (!identity.empty()) e.tls_identities = {identity};
  e.require_client_certificate = require_certificate;
  return e;
}

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pki_.ok()); }

  void StartServer(bool client_ca, bool require_client_certificate) {
    TlsFiles files{pki_.Path("server.pem"), pki_.Path("server.key"),
                   client_ca ? pki_.Path("ca.pem") : "", require_client_certificate};
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeServerCredentials(files);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    TestServerSecurity security;
    security.credentials = *credentials;
    security.callers = *CallerDirectory::Create({
        TlsCaller("billing", kBillingKey, "billing.internal"),
        TlsCaller("ops", kOpsKey, "ops.internal", /*require_certificate=*/true),
    });
    server_ = std::make_unique<TestServer>(ServiceOptions{}, std::move(security));
  }

  // Calls GetBatch for an unknown batch: NOT_FOUND proves the call got
  // through TLS and authentication.
  grpc::Status Call(const std::string& ca, const std::string& client_cert, const std::string& key,
                    std::string* issued_by = nullptr) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = pki_.Pem(ca + ".pem");
    if (!client_cert.empty()) {
      options.pem_cert_chain = pki_.Pem(client_cert + ".pem");
      options.pem_private_key = pki_.Pem(client_cert + ".key");
    }
    auto channel = grpc::CreateChannel(absl::StrCat("localhost:", server_->port()),
                                       grpc::SslCredentials(options));
    auto stub = v1::MagicLinkService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", key));
    v1::IssueBatchRequest req;
    req.add_recipients()->set_email("ann@example.com");
    req.set_purpose("invite");
    req.set_redirect_url("http://localhost/welcome");
    v1::IssueBatchResponse resp;
    grpc::Status s = stub->IssueBatch(&ctx, req, &resp);
    if (s.ok() && issued_by != nullptr) {
      grpc::ClientContext get_ctx;
      if (!key.empty()) get_ctx.AddMetadata("authorization", absl::StrCat("Bearer ", key));
      v1::GetBatchRequest get;
      get.set_batch_id(resp.batch_id());
      v1::GetBatchResponse batch;
      EXPECT_TRUE(stub->GetBatch(&get_ctx, get, &batch).ok());
      *issued_by = batch.issued_by();
    }
    return s;
  }

  Pki pki_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(TlsE2eTest, ClientTrustingTheServerCaSucceedsAndOneThatDoesNotFails) {
  StartServer(/*client_ca=*/false, /*require_client_certificate=*/false);
  std::string issued_by;
  grpc::Status trusted = Call("ca", "", kBillingKey, &issued_by);
  EXPECT_TRUE(trusted.ok()) << trusted.error_message();
  EXPECT_EQ(issued_by, "billing");
  grpc::Status untrusted = Call("other-ca", "", kBillingKey);
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE) << untrusted.error_message();
}

TEST_F(TlsE2eTest, PlaintextClientCannotTalkToTlsServer) {
  StartServer(false, false);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::MagicLinkService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", kBillingKey));
  v1::GetBatchRequest req;
  req.set_batch_id("b_x");
  v1::GetBatchResponse resp;
  EXPECT_EQ(stub->GetBatch(&ctx, req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsE2eTest, MutualTlsWithoutClientCertificateFails) {
  StartServer(/*client_ca=*/true, /*require_client_certificate=*/true);
  grpc::Status s = Call("ca", "", kBillingKey);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsE2eTest, MutualTlsWithCertificateFromAnotherCaFails) {
  StartServer(true, true);
  grpc::Status s = Call("ca", "stranger", "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

TEST_F(TlsE2eTest, ClientCertificateIdentifiesCallerWithoutKey) {
  StartServer(true, true);
  std::string issued_by;
  grpc::Status s = Call("ca", "billing", "", &issued_by);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(issued_by, "billing");
}

TEST_F(TlsE2eTest, KeyAndCertificateOfDifferentCallersAreUnauthenticated) {
  StartServer(true, true);
  grpc::Status s = Call("ca", "billing", kOpsKey);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Reason(s), "UNAUTHENTICATED");
}

TEST_F(TlsE2eTest, CallerRequiringCertificateIsRefusedWithKeyAlone) {
  StartServer(/*client_ca=*/true, /*require_client_certificate=*/false);
  grpc::Status key_only = Call("ca", "", kOpsKey);
  EXPECT_EQ(key_only.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::string issued_by;
  grpc::Status both = Call("ca", "ops", kOpsKey, &issued_by);
  EXPECT_TRUE(both.ok()) << both.error_message();
  EXPECT_EQ(issued_by, "ops");
  // A caller without that requirement may still use its key alone.
  EXPECT_TRUE(Call("ca", "", kBillingKey).ok());
}

TEST(TlsCredentialsTest, RejectsIncompleteOrUnreadableConfiguration) {
  EXPECT_EQ(MakeServerCredentials({"cert.pem", "", "", false}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeServerCredentials({"", "", "ca.pem", false}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MakeServerCredentials({"/nonexistent.pem", "/nonexistent.key", "", false}).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MakeServerCredentials({}).ok());  // plaintext
}

}  // namespace
}  // namespace magiclink::testing
