// The client library and magiclinkctl against a magiclinkd that requires
// credentials and serves TLS with client certificates: API keys, scopes,
// certificate identities, and the exit code a script sees when it is denied.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/substitute.h"
#include "magiclink/client/client.h"
#include "tests/client/client_matchers.h"
#include "tests/client/ctl_runner.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientErrorIs;
using ::magiclink::ctl::testing::CtlRun;
using ::magiclink::ctl::testing::ReadFile;
using ::magiclink::ctl::testing::RunCtl;
using ::magiclink::ctl::testing::WriteFile;
using ::magiclink::testing::MagiclinkdPath;
using ::magiclink::testing::ServerProcess;
using ::magiclink::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

// Test-only keys; the config holds their SHA-256 (printf %s KEY | sha256sum).
constexpr char kMailerKey[] = "mailer-key-2yqDk0v7uSg5nX1TzQ8wLr4JpHcA6bFe";
constexpr char kMailerKeySha256[] =
    "be9c0997ee04e90a5a473a5175bdcc7ca5601a1c8b07eb4420a66ee147a1fc3a";
constexpr char kWebTierKey[] = "webtier-key-9NfR3sWq7ZkP1xLm5TgV8yHc2DjB4aUe";
constexpr char kWebTierKeySha256[] =
    "6fa76ee2bf19392517fec27afbe6dc3005398b8ac718a9d4d1bf17dd4382c350";

std::string Tls(const std::string& name) {
  return std::string(MAGICLINK_TLS_TESTDATA) + "/" + name;
}

class ClientSecureE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // "mailer" may do everything with its key; "web" may only verify; the
    // test client certificate alone identifies "operator", who may read.
    WriteFile(dir_->File("config.json"),
              absl::Substitute(R"json({
  "callers": [
    {"name": "mailer", "api_key_sha256": ["$0"], "scopes": ["issue", "verify", "revoke", "read"]},
    {"name": "web", "api_key_sha256": ["$1"], "scopes": ["verify"]},
    {"name": "operator", "tls_identities": ["magiclink test client"], "scopes": ["read"]}
  ],
  "tls": {"cert_file": "$2", "key_file": "$3", "client_ca_file": "$4"}
})json",
                               kMailerKeySha256, kWebTierKeySha256, Tls("server.pem"),
                               Tls("server.key"), Tls("ca.pem")));
    server_ = new ServerProcess(
        MagiclinkdPath(), {"--data_dir=" + dir_->path(), "--config=" + dir_->File("config.json")},
        dir_->File("server.log"));
    ASSERT_TRUE(server_->Start().ok()) << ReadFile(dir_->File("server.log"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static ConnectionOptions Options(const std::string& api_key) {
    ConnectionOptions options;
    options.target = server_->address();
    options.api_key = api_key;
    options.tls.enabled = true;
    options.tls.root_certs_pem = ReadFile(Tls("ca.pem"));
    options.retry.max_attempts = 1;
    return options;
  }
  static Client Connect(const ConnectionOptions& options) {
    absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return Client(*connection);
  }
  static v1::IssueBatchRequest Invites() {
    v1::IssueBatchRequest request;
    request.set_purpose("invite");
    request.set_redirect_url("http://localhost:3000/welcome");
    for (const char* email : {"ann@example.com", "bob@example.com", "cy@example.com"}) {
      request.add_recipients()->set_email(email);
    }
    return request;
  }

  TempDir work_;
  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* ClientSecureE2eTest::dir_ = nullptr;
ServerProcess* ClientSecureE2eTest::server_ = nullptr;

TEST_F(ClientSecureE2eTest, ApiKeyOverTlsIssuesAndTheWebTierKeyConsumes) {
  IssueOptions chunks;
  chunks.chunk_size = 2;
  absl::StatusOr<IssueBatchResult> issued =
      Connect(Options(kMailerKey)).IssueBatch(Invites(), chunks);
  ASSERT_TRUE(issued.ok()) << issued.status();
  ASSERT_EQ(issued->links.size(), 3u);
  absl::StatusOr<v1::VerifyResponse> claims =
      Connect(Options(kWebTierKey)).Consume(issued->links[2].token, "invite");
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->email(), "cy@example.com");
}

TEST_F(ClientSecureE2eTest, MissingOrUnknownKeyIsUnauthenticatedAndNotEchoed) {
  EXPECT_THAT(Connect(Options("")).GetBatch("b_x"),
              ClientErrorIs(absl::StatusCode::kUnauthenticated, magiclink::v1::UNAUTHENTICATED));
  const std::string wrong = "wrong-key-Zq81xN4mB7cV2kL9pR3tY6wE0aS5dF";
  absl::StatusOr<v1::GetBatchResponse> result = Connect(Options(wrong)).GetBatch("b_x");
  EXPECT_THAT(result, ClientErrorIs(absl::StatusCode::kUnauthenticated, magiclink::v1::UNAUTHENTICATED));
  EXPECT_THAT(result.status().message(), Not(HasSubstr(wrong)));
}

TEST_F(ClientSecureE2eTest, KeyWithoutTheScopeIsPermissionDenied) {
  EXPECT_THAT(Connect(Options(kWebTierKey)).IssueBatch(Invites()),
              ClientErrorIs(absl::StatusCode::kPermissionDenied, magiclink::v1::SCOPE_NOT_GRANTED));
}

TEST_F(ClientSecureE2eTest, ClientCertificateAloneIdentifiesItsCaller) {
  ConnectionOptions options = Options("");
  options.tls.client_cert_chain_pem = ReadFile(Tls("client.pem"));
  options.tls.client_private_key_pem = ReadFile(Tls("client.key"));
  // "operator" may read: an unknown batch is NOT_FOUND, not UNAUTHENTICATED.
  EXPECT_THAT(Connect(options).GetBatch("b_doesnotexist"),
              ClientErrorIs(absl::StatusCode::kNotFound, magiclink::v1::BATCH_NOT_FOUND));
  // ...and may not issue.
  EXPECT_THAT(Connect(options).IssueBatch(Invites()),
              ClientErrorIs(absl::StatusCode::kPermissionDenied, magiclink::v1::SCOPE_NOT_GRANTED));
}

TEST_F(ClientSecureE2eTest, CtlUsesTheKeyFromTheEnvironmentAndExitsFiveWhenDenied) {
  const std::vector<std::string> issue = {"--server=" + server_->address(),
                                          "--tls_ca=" + Tls("ca.pem"), "issue", "--purpose=invite",
                                          "--redirect_url=http://localhost:3000/welcome"};
  const std::string csv = "email\ndee@example.com\n";

  const CtlRun allowed = RunCtl(work_, issue, csv, {{"MAGICLINK_API_KEY", kMailerKey}});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, HasSubstr("dee@example.com"));

  const CtlRun anonymous = RunCtl(work_, issue, csv);
  EXPECT_EQ(anonymous.exit_code, 5);
  EXPECT_THAT(anonymous.err, HasSubstr("UNAUTHENTICATED"));

  const CtlRun web = RunCtl(work_, issue, csv, {{"MAGICLINK_API_KEY", kWebTierKey}});
  EXPECT_EQ(web.exit_code, 5);
  EXPECT_THAT(web.err, HasSubstr("SCOPE_NOT_GRANTED"));
  for (const CtlRun* run : {&allowed, &anonymous, &web}) {
    EXPECT_THAT(run->err, Not(HasSubstr(kMailerKey)));
    EXPECT_THAT(run->err, Not(HasSubstr(kWebTierKey)));
  }
}

TEST_F(ClientSecureE2eTest, CtlWithAClientCertificateReadsBatches) {
  const CtlRun batch = RunCtl(work_, {"--server=" + server_->address(), "--tls_ca=" + Tls("ca.pem"),
                                      "--tls_cert=" + Tls("client.pem"),
                                      "--tls_key=" + Tls("client.key"), "batch", "--batch=b_nope"});
  EXPECT_EQ(batch.exit_code, 3);
  EXPECT_THAT(batch.err, HasSubstr("BATCH_NOT_FOUND"));
}

}  // namespace
}  // namespace magiclink::client
