// The security parts of the configuration: callers and TLS from the config
// file, token keys from the environment, and where the server may listen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "server/config/exposure.h"
#include "server/config/settings.h"
#include "server/config/token_keys.h"
#include "server/core/crypto.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace magiclink {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::StatusIs;

class SecuritySettingsTest : public ::testing::Test {
 protected:
  absl::StatusOr<Settings> Load(const std::string& json,
                                std::map<std::string, std::string> env = {}) {
    const std::string path = dir_.File("config.json");
    std::ofstream(path) << json;
    return LoadSettings({path, "", "", ""}, [env](const char* name) {
      auto it = env.find(name);
      return it == env.end() ? std::string() : it->second;
    });
  }
  testing::TempDir dir_;
};

TEST_F(SecuritySettingsTest, ParsesCallersAndTls) {
  absl::StatusOr<Settings> s = Load(absl::StrCat(R"({
    "callers": [{
      "name": "billing",
      "api_key_sha256": [")",
                                                 ApiKeySha256Hex("k"), R"("],
      "scopes": ["issue", "read"],
      "allowed_purposes": ["invite"],
      "allowed_redirect_prefixes": ["https://app.example.com/welcome"],
      "tls_identities": ["billing.internal"],
      "require_client_certificate": true
    }],
    "tls": {"cert_file": "s.pem", "key_file": "s.key", "client_ca_file": "ca.pem",
            "require_client_certificate": true}
  })"));
  ASSERT_OK(s);
  ASSERT_EQ(s->callers.entries().size(), 1u);
  const CallerEntry& e = s->callers.entries()[0];
  EXPECT_EQ(e.caller.name, "billing");
  EXPECT_TRUE(e.caller.HasScope(Scope::kIssue));
  EXPECT_TRUE(e.caller.HasScope(Scope::kRead));
  EXPECT_FALSE(e.caller.HasScope(Scope::kVerify));
  EXPECT_THAT(e.caller.allowed_purposes, ::testing::ElementsAre("invite"));
  EXPECT_TRUE(e.require_client_certificate);
  EXPECT_EQ(s->callers.Authenticate(std::string("k"), {"billing.internal"})->name, "billing");
  EXPECT_EQ(s->tls.cert_file, "s.pem");
  EXPECT_EQ(s->tls.client_ca_file, "ca.pem");
  EXPECT_TRUE(s->tls.require_client_certificate);
}

TEST_F(SecuritySettingsTest, PostgresPoolAndCoalescingComeFromTheConfigFile) {
  absl::StatusOr<Settings> defaults = Load("{}");
  ASSERT_OK(defaults);
  EXPECT_EQ(defaults->postgres.pool_size, 8);
  EXPECT_EQ(defaults->postgres.consume_statements, 2);
  EXPECT_EQ(defaults->postgres.max_consume_batch, 100);
  // The defaults docs/operators.md states.
  EXPECT_EQ(defaults->postgres.acquire_timeout, absl::Seconds(2));
  EXPECT_EQ(defaults->postgres.connect_timeout, absl::Seconds(3));
  EXPECT_EQ(defaults->postgres.insert_statements, 2);
  EXPECT_EQ(defaults->postgres.max_insert_group, 100);

  absl::StatusOr<Settings> s = Load(R"({"postgres": {"pool_size": 16, "consume_statements": 3,
                                                     "max_consume_batch": 50,
                                                     "insert_statements": 4,
                                                     "max_insert_group": 20}})");
  ASSERT_OK(s);
  EXPECT_EQ(s->postgres.pool_size, 16);
  EXPECT_EQ(s->postgres.consume_statements, 3);
  EXPECT_EQ(s->postgres.max_consume_batch, 50);
  EXPECT_EQ(s->postgres.insert_statements, 4);
  EXPECT_EQ(s->postgres.max_insert_group, 20);

  EXPECT_THAT(Load(R"({"postgres": {"consume_statements": -1}})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Load(R"({"postgres": {"max_insert_group": -1}})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecuritySettingsTest, PreparedStatementsAreOnUnlessTheConfigTurnsThemOff) {
  absl::StatusOr<Settings> defaults = Load("{}");
  ASSERT_OK(defaults);
  EXPECT_TRUE(defaults->postgres.prepared_statements);
  absl::StatusOr<Settings> pooled = Load(R"({"postgres": {"prepared_statements": false}})");
  ASSERT_OK(pooled);
  EXPECT_FALSE(pooled->postgres.prepared_statements);
  absl::StatusOr<Settings> explicit_on = Load(R"({"postgres": {"preparedStatements": true}})");
  ASSERT_OK(explicit_on);
  EXPECT_TRUE(explicit_on->postgres.prepared_statements);
  EXPECT_THAT(Load(R"({"postgres": {"prepared_statements": 2}})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SecuritySettingsTest, AuditGoesToStderrWithoutEmailsUnlessConfigured) {
  absl::StatusOr<Settings> defaults = Load("{}");
  ASSERT_OK(defaults);
  EXPECT_EQ(defaults->audit_log, "");
  EXPECT_FALSE(defaults->audit_include_email);

  absl::StatusOr<Settings> s =
      Load(R"({"audit_log": "/var/log/magiclink/audit.jsonl", "audit_include_email": true})");
  ASSERT_OK(s);
  EXPECT_EQ(s->audit_log, "/var/log/magiclink/audit.jsonl");
  EXPECT_TRUE(s->audit_include_email);

  const std::string path = dir_.File("config.json");
  absl::StatusOr<Settings> flags =
      LoadSettings({path, "", "", "", "/tmp/audit-from-flag.jsonl", false},
                   [](const char*) { return std::string(); });
  ASSERT_OK(flags);
  EXPECT_EQ(flags->audit_log, "/tmp/audit-from-flag.jsonl");  // the flag wins over the file
}

TEST_F(SecuritySettingsTest, RejectsBadCallers) {
  EXPECT_THAT(Load(R"({"callers": [{"name": "a", "api_key_sha256": ["zz"], "scopes": ["read"]}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Load(absl::StrCat(R"({"callers": [{"name": "a", "api_key_sha256": [")",
                                ApiKeySha256Hex("k"), R"("], "scopes": ["root"]}]})")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Load(R"({"callers": [{"name": "a", "scopes": ["read"]}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Load(R"({"callers": [{"name": "a", "api_key": "plaintext"}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument));  // unknown key
}

TEST_F(SecuritySettingsTest, TokenKeysComeFromTheEnvironment) {
  const std::string keys = absl::StrCat("k1 ", Base64UrlEncode(std::string(32, 'a')), ";k2 ",
                                        Base64UrlEncode(std::string(32, 'b')));
  absl::StatusOr<Settings> s = Load("{}", {{"MAGICLINK_TOKEN_KEYS", keys}});
  ASSERT_OK(s);
  absl::StatusOr<TokenKeyring> ring = LoadTokenKeys(s->token_keys, dir_.File("unused"));
  ASSERT_OK(ring);
  EXPECT_EQ(ring->HashForMinting("t").key_id, "k2");  // the last key mints
  EXPECT_EQ(ring->CandidateHashes("t").size(), 2u);
}

TEST(TokenKeysTest, ParseRejectsMalformedEntriesWithoutEchoingSecrets) {
  const std::string short_secret = Base64UrlEncode(std::string(8, 'x'));
  absl::StatusOr<TokenKeyring> ring = ParseTokenKeys("k1 " + short_secret, "MAGICLINK_TOKEN_KEYS");
  EXPECT_THAT(ring, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ring.status().message(), HasSubstr("MAGICLINK_TOKEN_KEYS"));
  EXPECT_THAT(ring.status().message(), Not(HasSubstr(short_secret)));
  EXPECT_THAT(ParseTokenKeys("k1", "env"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTokenKeys("", "env"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTokenKeys("# only a comment\n", "env"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ExposureTest, LocalAddresses) {
  for (const char* local : {"127.0.0.1:50051", "127.1.2.3:0", "[::1]:50051", "localhost:50051",
                            "LOCALHOST:1", "unix:/tmp/magiclink.sock"}) {
    EXPECT_TRUE(IsLocalListenAddress(local)) << local;
  }
  for (const char* public_address :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051", "example.com:443",
        "127.0.0.1.example.com:1", "128.0.0.1:1", "localhost.example.com:1"}) {
    EXPECT_FALSE(IsLocalListenAddress(public_address)) << public_address;
  }
}

TEST(ExposureTest, PublicAddressNeedsTlsAndCallersOrTheLoudFlag) {
  Settings s;
  s.listen = "0.0.0.0:50051";
  EXPECT_THAT(CheckExposure(s, false), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckExposure(s, true));
  s.tls = {"s.pem", "s.key", "", false};
  EXPECT_THAT(CheckExposure(s, false), StatusIs(absl::StatusCode::kFailedPrecondition));
  CallerEntry e;
  e.caller = Caller::Unrestricted("app");
  e.api_key_sha256 = {Sha256("k")};
  s.callers = *CallerDirectory::Create({e});
  EXPECT_OK(CheckExposure(s, false));
  s.tls = {};
  EXPECT_THAT(CheckExposure(s, false).message(), HasSubstr("TLS"));
  s.listen = "127.0.0.1:50051";
  EXPECT_OK(CheckExposure(s, false));
}

TEST_F(SecuritySettingsTest, MetricsListenComesFromTheConfigFileAndTheFlagWins) {
  absl::StatusOr<Settings> off = Load("{}");
  ASSERT_OK(off);
  EXPECT_EQ(off->metrics_listen, "");  // off by default
  absl::StatusOr<Settings> s = Load(R"({"metrics_listen": "127.0.0.1:9464"})");
  ASSERT_OK(s);
  EXPECT_EQ(s->metrics_listen, "127.0.0.1:9464");
  std::ofstream(dir_.File("m.json")) << R"({"metrics_listen": "127.0.0.1:9464"})";
  CommandLine command_line;
  command_line.config_path = dir_.File("m.json");
  command_line.metrics_listen = "127.0.0.1:9999";
  absl::StatusOr<Settings> flag =
      LoadSettings(command_line, [](const char*) { return std::string(); });
  ASSERT_OK(flag);
  EXPECT_EQ(flag->metrics_listen, "127.0.0.1:9999");
  EXPECT_THAT(Load(R"({"metrics": "127.0.0.1:9464"})"),
              StatusIs(absl::StatusCode::kInvalidArgument));  // unknown key
}

TEST(ExposureTest, PublicMetricsAddressNeedsItsOwnFlag) {
  Settings s;
  EXPECT_OK(CheckMetricsExposure(s, false));  // metrics off
  s.metrics_listen = "127.0.0.1:9464";
  EXPECT_OK(CheckMetricsExposure(s, false));
  s.metrics_listen = "0.0.0.0:9464";
  EXPECT_THAT(CheckMetricsExposure(s, false), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CheckMetricsExposure(s, false).message(), HasSubstr("--metrics_allow_public"));
  EXPECT_OK(CheckMetricsExposure(s, true));
  // TLS and callers protect the gRPC port, not the metrics port.
  s.tls = {"s.pem", "s.key", "", false};
  EXPECT_THAT(CheckMetricsExposure(s, false), StatusIs(absl::StatusCode::kFailedPrecondition));
  s.metrics_listen = "unix:/tmp/metrics.sock";
  EXPECT_THAT(CheckMetricsExposure(s, false), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace magiclink
