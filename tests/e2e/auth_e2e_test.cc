// Callers end to end: every RPC with no key, a wrong key, a caller lacking the
// scope, a purpose it may not use and (IssueBatch) a redirect prefix it may not
// use gets the exact code and reason and leaves the store untouched; allowed
// callers work and are recorded as issued_by.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "tests/e2e/test_server.h"
#include "tests/testing/grpc_errors.h"

namespace magiclink::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminKey[] = "mlk_admin_4f9c2a7d1e8b3c6a5f0e9d8c7b6a5f4e";
constexpr char kIssuerKey[] = "mlk_issuer_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
constexpr char kVerifierKey[] = "mlk_verifier_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
constexpr char kRevokerKey[] = "mlk_revoker_1122334455667788990011223344556";
constexpr char kReaderKey[] = "mlk_reader_a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6";
constexpr char kWebKey[] = "mlk_web_3c5e7a9b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c";
constexpr char kWrongKey[] = "mlk_nobody_ffffffffffffffffffffffffffffffff";

CallerEntry Entry(const std::string& name, const std::string& key, std::vector<Scope> scopes,
                  std::vector<std::string> purposes = {}, std::vector<std::string> prefixes = {}) {
  CallerEntry e;
  e.caller.name = name;
  e.caller.scopes = std::move(scopes);
  e.caller.allowed_purposes = std::move(purposes);
  e.caller.allowed_redirect_prefixes = std::move(prefixes);
  e.api_key_sha256 = {Sha256(key)};
  return e;
}

TestServerSecurity Callers() {
  TestServerSecurity security;
  security.callers = *CallerDirectory::Create({
      Entry("admin", kAdminKey, {Scope::kIssue, Scope::kVerify, Scope::kRevoke, Scope::kRead}),
      Entry("issuer", kIssuerKey, {Scope::kIssue}, {"invite"}, {"http://localhost:3000/welcome"}),
      Entry("verifier", kVerifierKey, {Scope::kVerify}, {"invite"}),
      Entry("revoker", kRevokerKey, {Scope::kRevoke}, {"invite"}),
      Entry("reader", kReaderKey, {Scope::kRead}, {"invite"}),
      Entry("web", kWebKey, {Scope::kVerify, Scope::kRevoke}, {"invite", "reset"}),
  });
  return security;
}

// What the store holds, to prove a refused call changed nothing.
struct StoreSnapshot {
  int64_t batches = 0, tokens = 0, consumed = 0, revoked = 0;
  bool operator==(const StoreSnapshot& o) const {
    return batches == o.batches && tokens == o.tokens && consumed == o.consumed &&
           revoked == o.revoked;
  }
};

class AuthE2eTest : public ::testing::Test {
 protected:
  AuthE2eTest() : server_(ServiceOptions{}, Callers()) {}

  void SetUp() override {
    invite_ = MustIssue(kAdminKey, "invite", {"ann@example.com", "bob@example.com"});
    login_ = MustIssue(kAdminKey, "login", {"ann@example.com"});
  }

  static void Authorize(grpc::ClientContext& ctx, const std::string& key) {
    if (!key.empty()) ctx.AddMetadata("authorization", "Bearer " + key);
  }

  static v1::IssueBatchRequest IssueRequest(
      const std::string& purpose, const std::vector<std::string>& emails,
      const std::string& url = "http://localhost:3000/welcome") {
    v1::IssueBatchRequest req;
    for (const std::string& e : emails) req.add_recipients()->set_email(e);
    req.set_purpose(purpose);
    req.set_redirect_url(url);
    return req;
  }

  grpc::Status Issue(const std::string& key, const v1::IssueBatchRequest& req,
                     v1::IssueBatchResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    Authorize(ctx, key);
    v1::IssueBatchResponse ignored;
    return server_.stub().IssueBatch(&ctx, req, resp ? resp : &ignored);
  }

  v1::IssueBatchResponse MustIssue(const std::string& key, const std::string& purpose,
                                   const std::vector<std::string>& emails) {
    v1::IssueBatchResponse resp;
    grpc::Status s = Issue(key, IssueRequest(purpose, emails), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  grpc::Status Verify(const std::string& key, const std::string& token,
                      v1::VerifyMode mode = v1::CONSUME, const std::string& purpose = "") {
    v1::VerifyRequest req;
    req.set_token(token);
    req.set_mode(mode);
    req.set_expected_purpose(purpose);
    v1::VerifyResponse resp;
    grpc::ClientContext ctx;
    Authorize(ctx, key);
    return server_.stub().Verify(&ctx, req, &resp);
  }

  grpc::Status Revoke(const std::string& key, const v1::RevokeRequest& req,
                      int64_t* count = nullptr) {
    v1::RevokeResponse resp;
    grpc::ClientContext ctx;
    Authorize(ctx, key);
    grpc::Status s = server_.stub().Revoke(&ctx, req, &resp);
    if (count != nullptr) *count = resp.revoked_count();
    return s;
  }

  grpc::Status GetBatch(const std::string& key, const std::string& batch_id,
                        v1::GetBatchResponse* out = nullptr) {
    v1::GetBatchRequest req;
    req.set_batch_id(batch_id);
    v1::GetBatchResponse resp;
    grpc::ClientContext ctx;
    Authorize(ctx, key);
    return server_.stub().GetBatch(&ctx, req, out ? out : &resp);
  }

  grpc::Status ListLinks(const std::string& key, const std::string& batch_id,
                         v1::ListLinksResponse* out = nullptr) {
    v1::ListLinksRequest req;
    req.set_batch_id(batch_id);
    v1::ListLinksResponse resp;
    grpc::ClientContext ctx;
    Authorize(ctx, key);
    return server_.stub().ListLinks(&ctx, req, out ? out : &resp);
  }

  StoreSnapshot Snapshot() {
    StoreSnapshot out;
    sqlite3* db = nullptr;
    sqlite3_open_v2(server_.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    auto count = [&](const char* sql) {
      sqlite3_stmt* stmt = nullptr;
      sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
      int64_t n = -1;
      if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
      sqlite3_finalize(stmt);
      return n;
    };
    out.batches = count("SELECT count(*) FROM batches");
    out.tokens = count("SELECT count(*) FROM tokens");
    out.consumed = count("SELECT count(*) FROM tokens WHERE consumed_at IS NOT NULL");
    out.revoked = count("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL");
    sqlite3_close(db);
    return out;
  }

  // Runs `call`, expects `code` and `reason` with exactly one ErrorInfo, and
  // that the store is exactly as before.
  void ExpectRefused(const std::string& what, const std::function<grpc::Status()>& call,
                     grpc::StatusCode code, const std::string& reason) {
    SCOPED_TRACE(what);
    const StoreSnapshot before = Snapshot();
    grpc::Status s = call();
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    GrpcErrorDetails details = DecodeDetails(s);
    EXPECT_EQ(details.error_infos, 1);
    EXPECT_EQ(details.info.reason(), reason);
    EXPECT_EQ(details.info.domain(), "magiclink.v1");
    for (const char* key :
         {kAdminKey, kIssuerKey, kVerifierKey, kRevokerKey, kReaderKey, kWebKey, kWrongKey}) {
      EXPECT_THAT(s.error_message(), Not(HasSubstr(key)));
    }
    EXPECT_TRUE(Snapshot() == before) << "the refused call changed the store";
  }

  // Every token issued in SetUp is still outstanding.
  void ExpectAllOutstanding() {
    for (const v1::IssueBatchResponse* batch : {&invite_, &login_}) {
      for (const v1::IssuedLink& link : batch->links()) {
        EXPECT_TRUE(Verify(kAdminKey, link.token(), v1::PEEK).ok()) << link.email();
      }
    }
  }

  // All five RPCs, each as a function of the API key ("" sends none).
  std::vector<std::pair<std::string, std::function<grpc::Status(const std::string&)>>> AllRpcs() {
    const std::string token = invite_.links(0).token();
    const std::string batch = invite_.batch_id();
    return {
        {"IssueBatch",
         [=](const std::string& k) {
           return Issue(k, IssueRequest("invite", {"new@example.com"}));
         }},
        {"Verify", [=](const std::string& k) { return Verify(k, token); }},
        {"Revoke",
         [=](const std::string& k) {
           v1::RevokeRequest req;
           req.set_token(token);
           return Revoke(k, req);
         }},
        {"GetBatch", [=](const std::string& k) { return GetBatch(k, batch); }},
        {"ListLinks", [=](const std::string& k) { return ListLinks(k, batch); }},
    };
  }

  TestServer server_;
  v1::IssueBatchResponse invite_;
  v1::IssueBatchResponse login_;
};

TEST_F(AuthE2eTest, EveryRpcWithoutKeyIsUnauthenticatedAndChangesNothing) {
  for (auto& [name, call] : AllRpcs()) {
    ExpectRefused(
        name, [&] { return call(""); }, grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED");
  }
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, EveryRpcWithWrongKeyIsUnauthenticatedAndChangesNothing) {
  for (auto& [name, call] : AllRpcs()) {
    ExpectRefused(
        name, [&] { return call(kWrongKey); }, grpc::StatusCode::UNAUTHENTICATED,
        "UNAUTHENTICATED");
  }
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, MalformedOrRepeatedAuthorizationIsUnauthenticated) {
  for (const std::string& value :
       {std::string("Basic ") + kAdminKey, std::string(kAdminKey), std::string("Bearer "),
        std::string("Bearer ") + kAdminKey + " extra"}) {
    ExpectRefused(
        value.substr(0, 8),
        [&] {
          grpc::ClientContext ctx;
          ctx.AddMetadata("authorization", value);
          v1::GetBatchRequest req;
          req.set_batch_id(invite_.batch_id());
          v1::GetBatchResponse resp;
          return server_.stub().GetBatch(&ctx, req, &resp);
        },
        grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED");
  }
  ExpectRefused(
      "two keys",
      [&] {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", std::string("Bearer ") + kAdminKey);
        ctx.AddMetadata("authorization", std::string("Bearer ") + kReaderKey);
        v1::GetBatchRequest req;
        req.set_batch_id(invite_.batch_id());
        v1::GetBatchResponse resp;
        return server_.stub().GetBatch(&ctx, req, &resp);
      },
      grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED");
}

TEST_F(AuthE2eTest, BearerSchemeIsCaseInsensitive) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", std::string("bearer ") + kReaderKey);
  v1::GetBatchRequest req;
  req.set_batch_id(invite_.batch_id());
  v1::GetBatchResponse resp;
  EXPECT_TRUE(server_.stub().GetBatch(&ctx, req, &resp).ok());
}

TEST_F(AuthE2eTest, EveryRpcByCallerLackingTheScopeIsPermissionDeniedAndChangesNothing) {
  // Each RPC called by a caller that has every scope but the one it needs.
  const std::map<std::string, std::string> lacking = {{"IssueBatch", kVerifierKey},
                                                      {"Verify", kIssuerKey},
                                                      {"Revoke", kReaderKey},
                                                      {"GetBatch", kVerifierKey},
                                                      {"ListLinks", kRevokerKey}};
  for (auto& [name, call] : AllRpcs()) {
    const std::string key = lacking.at(name);
    ExpectRefused(
        name, [&] { return call(key); }, grpc::StatusCode::PERMISSION_DENIED, "SCOPE_NOT_GRANTED");
  }
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, RevokePreviousNeedsTheRevokeScope) {
  v1::IssueBatchRequest req = IssueRequest("invite", {"ann@example.com"});
  req.set_revoke_previous(true);
  ExpectRefused(
      "revoke_previous", [&] { return Issue(kIssuerKey, req); },
      grpc::StatusCode::PERMISSION_DENIED, "SCOPE_NOT_GRANTED");
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, EveryRpcWithDisallowedPurposeIsRefusedAndChangesNothing) {
  const std::string login_token = login_.links(0).token();
  ExpectRefused(
      "IssueBatch", [&] { return Issue(kIssuerKey, IssueRequest("login", {"new@example.com"})); },
      grpc::StatusCode::PERMISSION_DENIED, "PURPOSE_NOT_ALLOWED");
  ExpectRefused(
      "Verify CONSUME", [&] { return Verify(kVerifierKey, login_token, v1::CONSUME, "login"); },
      grpc::StatusCode::PERMISSION_DENIED, "PURPOSE_NOT_ALLOWED");
  ExpectRefused(
      "Verify PEEK", [&] { return Verify(kVerifierKey, login_token, v1::PEEK, "login"); },
      grpc::StatusCode::PERMISSION_DENIED, "PURPOSE_NOT_ALLOWED");
  ExpectRefused(
      "Revoke by email",
      [&] {
        v1::RevokeRequest req;
        req.set_email("ann@example.com");
        req.set_purpose("login");
        return Revoke(kRevokerKey, req);
      },
      grpc::StatusCode::PERMISSION_DENIED, "PURPOSE_NOT_ALLOWED");
  // Reads name no purpose: a batch of another purpose is indistinguishable
  // from one that does not exist.
  ExpectRefused(
      "GetBatch", [&] { return GetBatch(kReaderKey, login_.batch_id()); },
      grpc::StatusCode::NOT_FOUND, "BATCH_NOT_FOUND");
  ExpectRefused(
      "ListLinks", [&] { return ListLinks(kReaderKey, login_.batch_id()); },
      grpc::StatusCode::NOT_FOUND, "BATCH_NOT_FOUND");
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, IssueBatchWithDisallowedRedirectPrefixIsPermissionDenied) {
  for (const std::string& url :
       {std::string("http://localhost:3000/admin"), std::string("http://localhost:3000/welcomex"),
        std::string("http://127.0.0.1/welcome")}) {
    ExpectRefused(
        url, [&] { return Issue(kIssuerKey, IssueRequest("invite", {"new@example.com"}, url)); },
        grpc::StatusCode::PERMISSION_DENIED, "REDIRECT_NOT_ALLOWED");
  }
  // A URL the server itself refuses stays INVALID_ARGUMENT.
  ExpectRefused(
      "server policy",
      [&] {
        return Issue(kIssuerKey,
                     IssueRequest("invite", {"new@example.com"}, "https://evil.example/"));
      },
      grpc::StatusCode::INVALID_ARGUMENT, "INVALID_REQUEST");
  ExpectAllOutstanding();
}

TEST_F(AuthE2eTest, PurposeLimitedVerifierCannotConsumeOrSeeOtherPurposes) {
  // No expected_purpose: the caller's purpose is bound anyway.
  ExpectRefused(
      "CONSUME", [&] { return Verify(kVerifierKey, login_.links(0).token()); },
      grpc::StatusCode::FAILED_PRECONDITION, "PURPOSE_MISMATCH");
  ExpectRefused(
      "PEEK", [&] { return Verify(kVerifierKey, login_.links(0).token(), v1::PEEK); },
      grpc::StatusCode::FAILED_PRECONDITION, "PURPOSE_MISMATCH");
  ExpectAllOutstanding();
  EXPECT_TRUE(Verify(kVerifierKey, invite_.links(0).token()).ok());
}

TEST_F(AuthE2eTest, CallerWithSeveralPurposesVerifiesAndRevokesOnlyThose) {
  ExpectRefused(
      "CONSUME login", [&] { return Verify(kWebKey, login_.links(0).token()); },
      grpc::StatusCode::FAILED_PRECONDITION, "PURPOSE_MISMATCH");
  v1::RevokeRequest by_token;
  by_token.set_token(login_.links(0).token());
  int64_t count = -1;
  ASSERT_TRUE(Revoke(kWebKey, by_token, &count).ok());
  EXPECT_EQ(count, 0);
  ExpectAllOutstanding();
  v1::IssueBatchResponse reset = MustIssue(kAdminKey, "reset", {"ann@example.com"});
  EXPECT_TRUE(Verify(kWebKey, reset.links(0).token()).ok());
  EXPECT_TRUE(Verify(kWebKey, invite_.links(1).token(), v1::PEEK).ok());
  v1::RevokeRequest by_email;
  by_email.set_email("ann@example.com");
  ASSERT_TRUE(Revoke(kWebKey, by_email, &count).ok());
  EXPECT_EQ(count, 1);  // ann's invite; her reset is used, her login is not its to touch
  EXPECT_TRUE(Verify(kAdminKey, login_.links(0).token(), v1::PEEK).ok());
}

TEST_F(AuthE2eTest, PurposeLimitedRevokerRevokesOnlyItsPurposes) {
  int64_t count = -1;
  v1::RevokeRequest by_token;
  by_token.set_token(login_.links(0).token());
  ASSERT_TRUE(Revoke(kRevokerKey, by_token, &count).ok());
  EXPECT_EQ(count, 0);
  v1::RevokeRequest by_batch;
  by_batch.set_batch_id(login_.batch_id());
  ASSERT_TRUE(Revoke(kRevokerKey, by_batch, &count).ok());
  EXPECT_EQ(count, 0);
  ExpectAllOutstanding();

  v1::RevokeRequest by_email;
  by_email.set_email("ann@example.com");
  ASSERT_TRUE(Revoke(kRevokerKey, by_email, &count).ok());
  EXPECT_EQ(count, 1);  // ann's invite, not her login
  EXPECT_TRUE(Verify(kAdminKey, login_.links(0).token(), v1::PEEK).ok());
  grpc::Status revoked = Verify(kAdminKey, invite_.links(0).token(), v1::PEEK);
  EXPECT_EQ(Reason(revoked), "TOKEN_REVOKED");
}

TEST_F(AuthE2eTest, GetBatchAndListLinksShowTheCallerThatIssuedTheBatch) {
  v1::IssueBatchResponse issued = MustIssue(kIssuerKey, "invite", {"cat@example.com"});
  v1::GetBatchResponse batch;
  ASSERT_TRUE(GetBatch(kReaderKey, issued.batch_id(), &batch).ok());
  EXPECT_EQ(batch.issued_by(), "issuer");
  v1::ListLinksResponse links;
  ASSERT_TRUE(ListLinks(kReaderKey, issued.batch_id(), &links).ok());
  EXPECT_EQ(links.issued_by(), "issuer");
  ASSERT_EQ(links.links_size(), 1);
  ASSERT_TRUE(GetBatch(kAdminKey, invite_.batch_id(), &batch).ok());
  EXPECT_EQ(batch.issued_by(), "admin");
}

TEST_F(AuthE2eTest, RequestIdsOfDifferentCallersNeverReplayEachOther) {
  v1::IssueBatchRequest req = IssueRequest("invite", {"dan@example.com"});
  req.set_request_id("same-id");
  v1::IssueBatchResponse by_admin, by_issuer;
  ASSERT_TRUE(Issue(kAdminKey, req, &by_admin).ok());
  ASSERT_TRUE(Issue(kIssuerKey, req, &by_issuer).ok());
  EXPECT_FALSE(by_issuer.replayed());
  EXPECT_NE(by_admin.batch_id(), by_issuer.batch_id());
  EXPECT_NE(by_admin.links(0).token(), by_issuer.links(0).token());
}

}  // namespace
}  // namespace magiclink::testing
