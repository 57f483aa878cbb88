// The real magiclinkd binary: safe listen defaults, token-key rotation across
// restarts (file and MAGICLINK_TOKEN_KEYS), and logs that never contain a
// token, link or API key.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "magiclink/v1/magic_link_service.grpc.pb.h"
#include "server/core/callers.h"
#include "server/core/crypto.h"
#include "tests/testing/grpc_errors.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kApiKey[] = "mlk_app_7d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a1c3e5f7b";
constexpr char kWrongKey[] = "mlk_app_0000000000000000111111111111111122222222";

std::string Secret(char fill) { return Base64UrlEncode(std::string(32, fill)); }

class SecurityProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { mkdir(DataDir().c_str(), 0700); }

  std::string DataDir() const { return dir_.File("data"); }

  ServerProcess MakeServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--data_dir=" + DataDir()};
    args.insert(args.end(), extra.begin(), extra.end());
    return ServerProcess(MagiclinkdPath(), args, dir_.File("server.log"));
  }

  std::string Log() const {
    std::ifstream in(dir_.File("server.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string WriteConfig(const std::string& json) {
    const std::string path = dir_.File("config.json");
    std::ofstream(path) << json;
    return path;
  }

  std::string CallersConfig() {
    return WriteConfig(absl::StrCat(R"({"callers": [{"name": "app", "api_key_sha256": [")",
                                    ApiKeySha256Hex(kApiKey),
                                    R"("], "scopes": ["issue", "verify", "revoke", "read"]}]})"));
  }

  void WriteKeyFile(const std::string& content) {
    const std::string path = DataDir() + "/token-keys";
    std::ofstream(path) << content;
    chmod(path.c_str(), 0600);
  }

  static std::unique_ptr<v1::MagicLinkService::Stub> Connect(const ServerProcess& server) {
    return v1::MagicLinkService::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  }

  static void Prepare(grpc::ClientContext& ctx, const std::string& key) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
  }

  static grpc::Status Issue(v1::MagicLinkService::Stub& stub, const std::string& key,
                            std::vector<std::string> emails, v1::IssueBatchResponse* out) {
    v1::IssueBatchRequest req;
    for (const std::string& e : emails) req.add_recipients()->set_email(e);
    req.set_purpose("invite");
    req.set_redirect_url("http://localhost/accept");
    grpc::ClientContext ctx;
    Prepare(ctx, key);
    return stub.IssueBatch(&ctx, req, out);
  }

  static grpc::Status Verify(v1::MagicLinkService::Stub& stub, const std::string& key,
                             const std::string& token, v1::VerifyMode mode = v1::CONSUME) {
    v1::VerifyRequest req;
    req.set_token(token);
    req.set_mode(mode);
    v1::VerifyResponse resp;
    grpc::ClientContext ctx;
    Prepare(ctx, key);
    return stub.Verify(&ctx, req, &resp);
  }

  std::string KeyIdOfBatch(const std::string& batch_id) {
    sqlite3* db = nullptr;
    sqlite3_open_v2((DataDir() + "/magiclink.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT DISTINCT key_id FROM tokens WHERE batch_id = ?", -1, &stmt,
                       nullptr);
    sqlite3_bind_text(stmt, 1, batch_id.c_str(), -1, SQLITE_TRANSIENT);
    std::string out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      absl::StrAppend(&out, out.empty() ? "" : ",",
                      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  TempDir dir_;
};

TEST_F(SecurityProcessTest, DevelopmentServerSaysItServesLoopbackOnly) {
  ServerProcess server = MakeServer();
  ASSERT_TRUE(server.Start().ok()) << Log();
  server.Stop(SIGTERM);
  EXPECT_THAT(Log(), HasSubstr("no_callers_configured"));
  EXPECT_THAT(Log(), HasSubstr("loopback only"));
}

TEST_F(SecurityProcessTest, RefusesPublicAddressWithoutTlsAndCallers) {
  // The later --listen wins over the helper's loopback one.
  ServerProcess server = MakeServer({"--listen=0.0.0.0:0"});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(Log(), HasSubstr("listen_refused"));
  EXPECT_THAT(Log(), HasSubstr("--insecure_allow_public_without_tls_or_callers"));
}

TEST_F(SecurityProcessTest, RefusesPublicAddressWithCallersButWithoutTls) {
  ServerProcess server = MakeServer({"--config=" + CallersConfig(), "--listen=[::]:0"});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(Log(), HasSubstr("listen_refused"));
  EXPECT_THAT(Log(), HasSubstr("without TLS"));
}

TEST_F(SecurityProcessTest, RefusesInvalidCallerConfiguration) {
  ServerProcess server = MakeServer(
      {"--config=" +
       WriteConfig(
           R"({"callers": [{"name": "app", "api_key_sha256": ["abc"], "scopes": ["issue"]}]})")});
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(Log(), HasSubstr("api_key_sha256 must be 64 hex digits"));
  ServerProcess bad_scope =
      MakeServer({"--config=" + WriteConfig(absl::StrCat(
                                    R"({"callers": [{"name": "app", "api_key_sha256": [")",
                                    ApiKeySha256Hex(kApiKey), R"("], "scopes": ["admin"]}]})"))});
  EXPECT_FALSE(bad_scope.Start().ok());
  EXPECT_THAT(Log(), HasSubstr("unknown scope 'admin'"));
}

TEST_F(SecurityProcessTest, LinksMintedBeforeAKeyIsAddedStillVerifyAfterRestart) {
  WriteKeyFile(absl::StrCat("k1 ", Secret('a'), "\n"));
  v1::IssueBatchResponse before;
  {
    ServerProcess server = MakeServer();
    ASSERT_TRUE(server.Start().ok()) << Log();
    auto stub = Connect(server);
    ASSERT_TRUE(Issue(*stub, "", {"a@x.io", "b@x.io", "c@x.io"}, &before).ok());
    stub.reset();
    server.Stop(SIGTERM);
  }
  EXPECT_EQ(KeyIdOfBatch(before.batch_id()), "k1");

  // Rotate: a new key, newest last. Old links verify, new ones use k2.
  WriteKeyFile(absl::StrCat("k1 ", Secret('a'), "\nk2 ", Secret('b'), "\n"));
  v1::IssueBatchResponse after;
  {
    ServerProcess server = MakeServer();
    ASSERT_TRUE(server.Start().ok()) << Log();
    auto stub = Connect(server);
    EXPECT_TRUE(Verify(*stub, "", before.links(0).token(), v1::PEEK).ok());
    EXPECT_TRUE(Verify(*stub, "", before.links(0).token()).ok());
    ASSERT_TRUE(Issue(*stub, "", {"d@x.io"}, &after).ok());
    EXPECT_TRUE(Verify(*stub, "", after.links(0).token(), v1::PEEK).ok());
    stub.reset();
    server.Stop(SIGTERM);
  }
  EXPECT_EQ(KeyIdOfBatch(after.batch_id()), "k2");

  // The same keys from the environment instead of the file: the file is
  // neither read nor created.
  ASSERT_EQ(std::rename((DataDir() + "/token-keys").c_str(), dir_.File("moved-keys").c_str()), 0);
  {
    ServerProcess server = MakeServer();
    server.SetEnv("MAGICLINK_TOKEN_KEYS", absl::StrCat("k1 ", Secret('a'), ";k2 ", Secret('b')));
    ASSERT_TRUE(server.Start().ok()) << Log();
    auto stub = Connect(server);
    EXPECT_TRUE(Verify(*stub, "", before.links(1).token()).ok());
    EXPECT_TRUE(Verify(*stub, "", after.links(0).token()).ok());
    stub.reset();
    server.Stop(SIGTERM);
  }
  struct stat info;
  EXPECT_NE(stat((DataDir() + "/token-keys").c_str(), &info), 0);

  // Retiring k1 voids what it minted; what k2 minted is unaffected.
  {
    ServerProcess server = MakeServer();
    server.SetEnv("MAGICLINK_TOKEN_KEYS", absl::StrCat("k2 ", Secret('b')));
    ASSERT_TRUE(server.Start().ok()) << Log();
    auto stub = Connect(server);
    grpc::Status retired = Verify(*stub, "", before.links(2).token(), v1::PEEK);
    EXPECT_EQ(retired.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(Reason(retired), "TOKEN_NOT_FOUND");
    EXPECT_EQ(Reason(Verify(*stub, "", after.links(0).token(), v1::PEEK)), "TOKEN_ALREADY_USED");
    stub.reset();
    server.Stop(SIGTERM);
  }
  EXPECT_THAT(Log(), Not(HasSubstr(Secret('a'))));
  EXPECT_THAT(Log(), Not(HasSubstr(Secret('b'))));
}

TEST_F(SecurityProcessTest, MalformedTokenKeysFromEnvironmentAreRefusedWithoutEchoingThem) {
  ServerProcess server = MakeServer();
  const std::string secret = Secret('z').substr(0, 20);  // too short
  server.SetEnv("MAGICLINK_TOKEN_KEYS", "k1 " + secret);
  EXPECT_FALSE(server.Start().ok());
  EXPECT_THAT(Log(), HasSubstr("MAGICLINK_TOKEN_KEYS"));
  EXPECT_THAT(Log(), Not(HasSubstr(secret)));
}

TEST_F(SecurityProcessTest, LogsContainNoTokenLinkOrApiKey) {
  std::vector<std::string> secrets = {kApiKey, kWrongKey};
  {
    ServerProcess server = MakeServer({"--config=" + CallersConfig()});
    ASSERT_TRUE(server.Start().ok()) << Log();
    auto stub = Connect(server);
    v1::IssueBatchResponse issued;
    ASSERT_TRUE(Issue(*stub, kApiKey, {"a@x.io", "b@x.io", "c@x.io"}, &issued).ok());
    for (const v1::IssuedLink& link : issued.links()) {
      secrets.push_back(link.token());
      secrets.push_back(link.url());
    }
    EXPECT_TRUE(Verify(*stub, kApiKey, issued.links(0).token(), v1::PEEK).ok());
    EXPECT_TRUE(Verify(*stub, kApiKey, issued.links(0).token()).ok());
    EXPECT_EQ(Reason(Verify(*stub, kApiKey, issued.links(0).token())), "TOKEN_ALREADY_USED");
    EXPECT_EQ(Verify(*stub, kWrongKey, issued.links(1).token()).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(Verify(*stub, "", issued.links(1).token()).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    // A request that fails validation with a token where an email belongs.
    v1::IssueBatchResponse rejected;
    EXPECT_EQ(Issue(*stub, kApiKey, {issued.links(2).token()}, &rejected).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    v1::RevokeRequest revoke;
    revoke.set_token(issued.links(2).token());
    v1::RevokeResponse revoked;
    grpc::ClientContext ctx;
    Prepare(ctx, kApiKey);
    EXPECT_TRUE(stub->Revoke(&ctx, revoke, &revoked).ok());
    stub.reset();
    EXPECT_EQ(server.Stop(SIGTERM), 0);
  }
  const std::string log = Log();
  ASSERT_THAT(log, HasSubstr("\"listening\""));
  for (const std::string& secret : secrets) EXPECT_THAT(log, Not(HasSubstr(secret)));
  // Nor the server's own token secret.
  std::ifstream keys(DataDir() + "/token-keys");
  std::string line;
  while (std::getline(keys, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_THAT(log, Not(HasSubstr(line.substr(line.find(' ') + 1))));
  }
}

}  // namespace
}  // namespace magiclink::testing
