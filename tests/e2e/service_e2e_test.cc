// magiclink end to end: the generated C++ stub over a real TCP port to a real
// server on a real SQLite file. Time is a FakeClock the tests move.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/testing/fake_clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/core/crypto.h"
#include "server/transport/request_decoding.h"
#include "tests/e2e/test_server.h"
#include "tests/testing/grpc_errors.h"

namespace magiclink::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using v1::IssueBatchRequest;
using v1::IssueBatchResponse;
using v1::VerifyResponse;

class ServiceE2eTest : public ::testing::Test {
 protected:
  static IssueBatchRequest Request(const std::vector<std::string>& emails,
                                   const std::string& purpose = "invite") {
    IssueBatchRequest req;
    for (const std::string& e : emails) req.add_recipients()->set_email(e);
    req.set_purpose(purpose);
    req.set_redirect_url("http://localhost:3000/welcome");
    return req;
  }

  grpc::Status Issue(const IssueBatchRequest& req, IssueBatchResponse* resp) {
    grpc::ClientContext ctx;
    return server_.stub().IssueBatch(&ctx, req, resp);
  }

  IssueBatchResponse MustIssue(const std::vector<std::string>& emails,
                               const std::string& purpose = "invite") {
    IssueBatchResponse resp;
    grpc::Status s = Issue(Request(emails, purpose), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  grpc::Status Verify(const std::string& token, v1::VerifyMode mode = v1::CONSUME,
                      const std::string& purpose = "", const std::string& key = "",
                      VerifyResponse* out = nullptr) {
    v1::VerifyRequest req;
    req.set_token(token);
    req.set_mode(mode);
    req.set_expected_purpose(purpose);
    req.set_consume_key(key);
    VerifyResponse ignored;
    grpc::ClientContext ctx;
    return server_.stub().Verify(&ctx, req, out ? out : &ignored);
  }

  int64_t Revoke(const v1::RevokeRequest& req) {
    v1::RevokeResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = server_.stub().Revoke(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.revoked_count();
  }

  v1::GetBatchResponse GetBatch(const std::string& id) {
    v1::GetBatchRequest req;
    req.set_batch_id(id);
    v1::GetBatchResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = server_.stub().GetBatch(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  int64_t CountRows(const std::string& table) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(server_.db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, ("SELECT count(*) FROM " + table).c_str(), -1, &stmt, nullptr);
    int64_t n = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  TestServer server_;
};

TEST_F(ServiceE2eTest, IssuePeekConsumeThenConsumeAgainIsAlreadyUsed) {
  IssueBatchRequest req = Request({"Ann@Example.COM", "bob@example.com"});
  req.mutable_metadata()->insert({"team", "blue"});
  (*req.mutable_recipients(0)->mutable_metadata())["name"] = "Ann";
  IssueBatchResponse issued;
  ASSERT_TRUE(Issue(req, &issued).ok());
  ASSERT_THAT(issued.links(), SizeIs(2));
  const v1::IssuedLink& link = issued.links(0);
  EXPECT_EQ(link.email(), "Ann@example.com");
  EXPECT_EQ(link.token().size(), 43u);
  EXPECT_EQ(link.url(), "http://localhost:3000/welcome?token=" + link.token());
  EXPECT_EQ(link.expires_at().seconds(), 1'800'000'000 + 24 * 3600);
  EXPECT_FALSE(issued.batch_id().empty());

  VerifyResponse peeked;
  ASSERT_TRUE(Verify(link.token(), v1::PEEK, "", "", &peeked).ok());
  EXPECT_EQ(peeked.email(), "Ann@example.com");
  EXPECT_FALSE(peeked.has_consumed_at());
  ASSERT_TRUE(Verify(link.token(), v1::PEEK).ok());  // peeking twice is fine

  server_.clock().Advance(absl::Minutes(3));
  VerifyResponse claims;
  ASSERT_TRUE(Verify(link.token(), v1::CONSUME, "invite", "", &claims).ok());
  EXPECT_EQ(claims.email(), "Ann@example.com");
  EXPECT_EQ(claims.purpose(), "invite");
  EXPECT_EQ(claims.batch_id(), issued.batch_id());
  EXPECT_EQ(claims.redirect_url(), "http://localhost:3000/welcome");
  EXPECT_EQ(claims.metadata().at("team"), "blue");
  EXPECT_EQ(claims.metadata().at("name"), "Ann");
  EXPECT_EQ(claims.issued_at().seconds(), 1'800'000'000);
  EXPECT_EQ(claims.consumed_at().seconds(), 1'800'000'000 + 180);

  grpc::Status again = Verify(link.token());
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  GrpcErrorDetails details = DecodeDetails(again);
  EXPECT_EQ(details.error_infos, 1);
  EXPECT_EQ(details.info.reason(), "TOKEN_ALREADY_USED");
  EXPECT_EQ(details.info.domain(), "magiclink.v1");
  grpc::Status peek_used = Verify(link.token(), v1::PEEK);
  EXPECT_EQ(peek_used.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(peek_used), "TOKEN_ALREADY_USED");

  // The other link is untouched.
  EXPECT_TRUE(Verify(issued.links(1).token()).ok());
}

TEST_F(ServiceE2eTest, UnknownAndMalformedTokensAreRefusedClearly) {
  const std::string unknown(43, 'A');
  grpc::Status s = Verify(unknown);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reason(s), "TOKEN_NOT_FOUND");
  grpc::Status peek = Verify(unknown, v1::PEEK);
  EXPECT_EQ(peek.error_code(), grpc::StatusCode::NOT_FOUND);

  for (const std::string& bad : {std::string(""), std::string("short"), std::string(43, '+')}) {
    grpc::Status m = Verify(bad);
    EXPECT_EQ(m.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    GrpcErrorDetails d = DecodeDetails(m);
    EXPECT_EQ(d.info.reason(), "INVALID_REQUEST");
    ASSERT_EQ(d.bad_requests, 1);
    EXPECT_EQ(d.bad_request.field_violations(0).field(), "token");
  }
}

TEST_F(ServiceE2eTest, ConsumeKeyRepeatWithinGraceReturnsTheOriginalSuccessOnly) {
  IssueBatchResponse issued = MustIssue({"a@example.com"});
  const std::string token = issued.links(0).token();
  VerifyResponse first;
  ASSERT_TRUE(Verify(token, v1::CONSUME, "", "session-1", &first).ok());

  server_.clock().Advance(absl::Seconds(29));
  VerifyResponse repeat;
  ASSERT_TRUE(Verify(token, v1::CONSUME, "", "session-1", &repeat).ok());
  EXPECT_EQ(repeat.consumed_at().seconds(), first.consumed_at().seconds());
  EXPECT_EQ(repeat.email(), "a@example.com");
  EXPECT_EQ(Reason(Verify(token, v1::CONSUME, "", "session-2")), "TOKEN_ALREADY_USED");
  EXPECT_EQ(Reason(Verify(token, v1::CONSUME)), "TOKEN_ALREADY_USED");

  server_.clock().Advance(absl::Seconds(1));  // grace (30 s) is over
  EXPECT_EQ(Reason(Verify(token, v1::CONSUME, "", "session-1")), "TOKEN_ALREADY_USED");
}

TEST_F(ServiceE2eTest, PurposeMismatchDoesNotConsume) {
  IssueBatchResponse issued = MustIssue({"a@example.com"});
  const std::string token = issued.links(0).token();
  grpc::Status wrong = Verify(token, v1::CONSUME, "login");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(wrong), "PURPOSE_MISMATCH");
  EXPECT_EQ(Reason(Verify(token, v1::PEEK, "login")), "PURPOSE_MISMATCH");
  EXPECT_TRUE(Verify(token, v1::CONSUME, "invite").ok());
}

TEST_F(ServiceE2eTest, TokensExpireAtTheirExactExpiry) {
  IssueBatchRequest req = Request({"a@example.com", "b@example.com"});
  req.mutable_ttl()->set_seconds(600);
  IssueBatchResponse issued;
  ASSERT_TRUE(Issue(req, &issued).ok());
  server_.clock().Advance(absl::Seconds(600) - absl::Microseconds(1));
  EXPECT_TRUE(Verify(issued.links(0).token()).ok());
  server_.clock().Advance(absl::Microseconds(1));
  grpc::Status expired = Verify(issued.links(1).token());
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(expired), "TOKEN_EXPIRED");
  EXPECT_EQ(Reason(Verify(issued.links(1).token(), v1::PEEK)), "TOKEN_EXPIRED");
}

TEST_F(ServiceE2eTest, RevokeByTokenEmailAndBatchIsIdempotent) {
  IssueBatchResponse b1 = MustIssue({"a@example.com", "b@example.com", "c@example.com"});
  IssueBatchResponse b2 = MustIssue({"a@example.com"}, "login");

  v1::RevokeRequest by_token;
  by_token.set_token(b1.links(0).token());
  EXPECT_EQ(Revoke(by_token), 1);
  EXPECT_EQ(Revoke(by_token), 0);
  grpc::Status revoked = Verify(b1.links(0).token());
  EXPECT_EQ(revoked.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(revoked), "TOKEN_REVOKED");

  v1::RevokeRequest by_email;
  by_email.set_email(" a@EXAMPLE.com");  // normalised like IssueBatch
  by_email.set_purpose("login");
  EXPECT_EQ(Revoke(by_email), 1);
  EXPECT_EQ(Reason(Verify(b2.links(0).token())), "TOKEN_REVOKED");

  ASSERT_TRUE(Verify(b1.links(1).token()).ok());  // consumed ones are not "revoked"
  v1::RevokeRequest by_batch;
  by_batch.set_batch_id(b1.batch_id());
  EXPECT_EQ(Revoke(by_batch), 1);
  EXPECT_EQ(Revoke(by_batch), 0);
  EXPECT_EQ(Reason(Verify(b1.links(2).token())), "TOKEN_REVOKED");

  v1::RevokeRequest none;
  grpc::ClientContext ctx;
  v1::RevokeResponse resp;
  EXPECT_EQ(server_.stub().Revoke(&ctx, none, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceE2eTest, RevokePreviousReplacesOutstandingLinksOfThatPurpose) {
  IssueBatchResponse first = MustIssue({"a@example.com", "b@example.com"});
  IssueBatchRequest again = Request({"a@example.com"});
  again.set_revoke_previous(true);
  IssueBatchResponse second;
  ASSERT_TRUE(Issue(again, &second).ok());
  EXPECT_EQ(second.revoked_previous_count(), 1);
  EXPECT_EQ(Reason(Verify(first.links(0).token())), "TOKEN_REVOKED");
  EXPECT_TRUE(Verify(first.links(1).token()).ok());
  EXPECT_TRUE(Verify(second.links(0).token()).ok());
}

TEST_F(ServiceE2eTest, GetBatchCountsAndListLinksPaginates) {
  std::vector<std::string> emails;
  for (int i = 0; i < 7; ++i) emails.push_back(absl::StrCat("user", i, "@example.com"));
  IssueBatchResponse issued = MustIssue(emails);
  ASSERT_TRUE(Verify(issued.links(0).token()).ok());
  v1::RevokeRequest revoke;
  revoke.set_token(issued.links(1).token());
  Revoke(revoke);

  v1::GetBatchResponse batch = GetBatch(issued.batch_id());
  EXPECT_EQ(batch.purpose(), "invite");
  EXPECT_EQ(batch.issued_by(), "local");
  EXPECT_EQ(batch.total(), 7);
  EXPECT_EQ(batch.outstanding(), 5);
  EXPECT_EQ(batch.consumed(), 1);
  EXPECT_EQ(batch.revoked(), 1);
  EXPECT_EQ(batch.expired(), 0);
  server_.clock().Advance(absl::Hours(24));
  batch = GetBatch(issued.batch_id());
  EXPECT_EQ(batch.outstanding(), 0);
  EXPECT_EQ(batch.expired(), 5);

  std::vector<std::string> listed;
  std::string page_token;
  int pages = 0;
  do {
    v1::ListLinksRequest req;
    req.set_batch_id(issued.batch_id());
    req.set_page_size(3);
    req.set_page_token(page_token);
    v1::ListLinksResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(server_.stub().ListLinks(&ctx, req, &resp).ok());
    for (const v1::LinkInfo& l : resp.links()) listed.push_back(l.email());
    if (pages == 0) {
      EXPECT_EQ(resp.links(0).state(), v1::CONSUMED);
      EXPECT_EQ(resp.links(1).state(), v1::REVOKED);
      EXPECT_EQ(resp.links(2).state(), v1::EXPIRED);
      EXPECT_TRUE(resp.links(0).has_consumed_at());
      EXPECT_TRUE(resp.links(1).has_revoked_at());
    }
    page_token = resp.next_page_token();
    ++pages;
  } while (!page_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, emails);

  v1::ListLinksRequest filtered;
  filtered.set_batch_id(issued.batch_id());
  filtered.set_state(v1::EXPIRED);
  v1::ListLinksResponse expired;
  grpc::ClientContext ctx;
  ASSERT_TRUE(server_.stub().ListLinks(&ctx, filtered, &expired).ok());
  EXPECT_THAT(expired.links(), SizeIs(5));

  v1::ListLinksRequest bad_token = filtered;
  bad_token.set_page_token("garbage");
  grpc::ClientContext ctx2;
  EXPECT_EQ(server_.stub().ListLinks(&ctx2, bad_token, &expired).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetBatchRequest unknown;
  unknown.set_batch_id("b_nope");
  v1::GetBatchResponse ignored;
  grpc::ClientContext ctx3;
  grpc::Status nf = server_.stub().GetBatch(&ctx3, unknown, &ignored);
  EXPECT_EQ(nf.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reason(nf), "BATCH_NOT_FOUND");
}

TEST_F(ServiceE2eTest, RequestIdReplaysTheSameLinksAndRefusesDifferentContent) {
  IssueBatchRequest req = Request({"a@example.com", "b@example.com"});
  req.set_request_id("invite-2026-11-25");
  IssueBatchResponse first;
  ASSERT_TRUE(Issue(req, &first).ok());
  EXPECT_FALSE(first.replayed());

  server_.clock().Advance(absl::Hours(1));
  IssueBatchResponse replay;
  ASSERT_TRUE(Issue(req, &replay).ok());
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.batch_id(), first.batch_id());
  ASSERT_EQ(replay.links_size(), 2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(replay.links(i).token(), first.links(i).token());
    EXPECT_EQ(replay.links(i).url(), first.links(i).url());
    EXPECT_EQ(replay.links(i).email(), first.links(i).email());
    EXPECT_EQ(replay.links(i).expires_at().seconds(), first.links(i).expires_at().seconds());
  }
  EXPECT_EQ(GetBatch(first.batch_id()).total(), 2);
  EXPECT_EQ(CountRows("batches"), 1);

  IssueBatchRequest changed = req;
  changed.add_recipients()->set_email("c@example.com");
  IssueBatchResponse conflict;
  grpc::Status s = Issue(changed, &conflict);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(s), "REQUEST_ID_CONFLICT");
  EXPECT_EQ(CountRows("tokens"), 2);
}

// What the batches table holds as the request's fingerprint.
std::string StoredFingerprint(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT request_fingerprint FROM batches", -1, &stmt, nullptr);
  std::string fingerprint;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    fingerprint.assign(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                       sqlite3_column_bytes(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return fingerprint;
}

TEST_F(ServiceE2eTest, StoredRequestFingerprintIsKeyedNotABareHashOfTheRequest) {
  IssueBatchRequest req = Request({"a@example.com", "b@example.com"});
  req.set_request_id("keyed-fingerprint");
  IssueBatchResponse first;
  ASSERT_TRUE(Issue(req, &first).ok());
  const std::string content = IssueRequestContent(*DecodeIssueBatch(req));
  const std::string stored = StoredFingerprint(server_.db_path());
  ASSERT_EQ(stored.size(), 32u);
  // Someone holding the database alone cannot confirm a guess of the
  // recipients: the fingerprint is not SHA-256 of the request's content (nor
  // of its serialized form), but an HMAC under a sub-key of the server key.
  EXPECT_NE(stored, Sha256(content));
  EXPECT_NE(stored, Sha256(req.SerializeAsString()));
  EXPECT_EQ(stored, HmacSha256(HmacSha256(std::string(32, 's'), "magiclink/v1/request-fingerprint"),
                               content));

  // A batch stored by a server from before fingerprints were keyed (bare
  // SHA-256) still replays within its window, and still refuses other content.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(server_.db_path().c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "UPDATE batches SET request_fingerprint = ?", -1, &stmt, nullptr);
  const std::string legacy = Sha256(content);
  sqlite3_bind_blob(stmt, 1, legacy.data(), static_cast<int>(legacy.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  IssueBatchResponse replay;
  ASSERT_TRUE(Issue(req, &replay).ok());
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.links(1).token(), first.links(1).token());
  IssueBatchRequest changed = req;
  changed.set_purpose("login");
  grpc::Status s = Issue(changed, &replay);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(s), "REQUEST_ID_CONFLICT");
}

TEST_F(ServiceE2eTest, ValidateOnlyAnswersAsIssueBatchWouldAndWritesNothing) {
  IssueBatchRequest req = Request({"nope", "a@example.com", "a@EXAMPLE.com", "b@example.com"});
  req.set_request_id("validate-first");
  IssueBatchResponse real_answer;
  const grpc::Status real = Issue(req, &real_answer);
  ASSERT_EQ(real.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Without skip_invalid: the very same error and BadRequest.
  IssueBatchRequest validate = req;
  validate.set_validate_only(true);
  IssueBatchResponse resp;
  grpc::Status s = Issue(validate, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), real.error_message());
  EXPECT_EQ(s.error_details(), real.error_details());

  // With skip_invalid: the would-be rejected list, and no batch or link.
  validate.set_skip_invalid(true);
  s = Issue(validate, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.batch_id(), "");
  EXPECT_EQ(resp.links_size(), 0);
  ASSERT_EQ(resp.rejected_size(), 2);
  EXPECT_EQ(resp.rejected(0).index(), 0);
  EXPECT_EQ(resp.rejected(1).index(), 2);
  EXPECT_THAT(resp.rejected(1).reason(), HasSubstr("duplicate of recipients[1]"));

  // Request-level problems and the redirect rules are judged the same way.
  IssueBatchRequest bad_url = Request({"a@example.com"});
  bad_url.set_redirect_url("http://localhost:3000/auth/%2e%2e/admin");
  bad_url.set_validate_only(true);
  s = Issue(bad_url, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DecodeDetails(s).bad_request.field_violations(0).field(), "redirect_url");
  EXPECT_EQ(CountRows("batches"), 0);
  EXPECT_EQ(CountRows("tokens"), 0);

  // Nothing stored: the real call with the same request_id, and other content
  // than any validation sent, issues afresh.
  IssueBatchRequest fixed = Request({"a@example.com", "b@example.com"});
  fixed.set_request_id("validate-first");
  fixed.set_validate_only(true);
  ASSERT_TRUE(Issue(fixed, &resp).ok());
  EXPECT_EQ(CountRows("batches"), 0);
  fixed.set_validate_only(false);
  ASSERT_TRUE(Issue(fixed, &resp).ok());
  EXPECT_FALSE(resp.replayed());
  EXPECT_EQ(resp.links_size(), 2);
  EXPECT_EQ(CountRows("tokens"), 2);
  // And validate_only is not part of the content: validating again after the
  // batch exists is fine, and the retry replays.
  fixed.set_validate_only(true);
  ASSERT_TRUE(Issue(fixed, &resp).ok());
  fixed.set_validate_only(false);
  IssueBatchResponse replay;
  ASSERT_TRUE(Issue(fixed, &replay).ok());
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(CountRows("tokens"), 2);
}

// Issue 12's table, against a real server: each redirect_url is refused with
// INVALID_ARGUMENT, reason INVALID_REQUEST, a BadRequest naming redirect_url,
// and nothing is written.
TEST_F(ServiceE2eTest, RedirectUrlsThatLeaveTheirPrefixOrCarryATokenAreRefused) {
  for (const char* url :
       {"http://localhost:3000/auth/../admin/steal", "http://localhost:3000/auth/%2e%2e/admin",
        "http://localhost:3000/auth/./../x", "http://localhost:3000/auth/welcome?token=ATTACKER",
        "http://localhost:3000/auth/%2E%2e/admin", "http://localhost:3000/auth/..%2Fadmin",
        "http://localhost:3000/auth/welcome?ToKen=ATTACKER",
        "http://localhost:3000/auth/welcome?%74oken=ATTACKER"}) {
    IssueBatchRequest req = Request({"a@example.com"});
    req.set_redirect_url(url);
    IssueBatchResponse resp;
    const grpc::Status s = Issue(req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << url;
    EXPECT_EQ(Reason(s), "INVALID_REQUEST") << url;
    const GrpcErrorDetails d = DecodeDetails(s);
    ASSERT_EQ(d.bad_request.field_violations_size(), 1) << url;
    EXPECT_EQ(d.bad_request.field_violations(0).field(), "redirect_url") << url;
  }
  EXPECT_EQ(CountRows("batches"), 0);
}

TEST_F(ServiceE2eTest, RacingRetriesWithOneRequestIdGetOneBatchAndIdenticalLinks) {
  IssueBatchRequest req = Request({"a@example.com", "b@example.com", "c@example.com"});
  req.set_request_id("race");
  constexpr int kCallers = 10;
  std::vector<IssueBatchResponse> responses(kCallers);
  std::vector<grpc::Status> statuses(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Issue(req, &responses[i]); });
  }
  for (std::thread& t : threads) t.join();
  int fresh = 0;
  for (int i = 0; i < kCallers; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    fresh += !responses[i].replayed();
    EXPECT_EQ(responses[i].batch_id(), responses[0].batch_id());
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(responses[i].links(j).token(), responses[0].links(j).token());
    }
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(CountRows("batches"), 1);
  EXPECT_EQ(CountRows("tokens"), 3);
}

TEST_F(ServiceE2eTest, InvalidBatchListsEveryBadRecipientAndWritesNothing) {
  IssueBatchRequest req =
      Request({"good@example.com", "nope", "good@EXAMPLE.com", "x@y", "fine@example.com"});
  IssueBatchResponse resp;
  grpc::Status s = Issue(req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  GrpcErrorDetails d = DecodeDetails(s);
  EXPECT_EQ(d.error_infos, 1);
  EXPECT_EQ(d.info.reason(), "INVALID_REQUEST");
  ASSERT_EQ(d.bad_requests, 1);
  std::vector<std::string> fields;
  for (const auto& v : d.bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_THAT(fields, ElementsAre("recipients[1].email", "recipients[2].email",
                                  "recipients[3].email"));
  EXPECT_THAT(d.bad_request.field_violations(1).description(), HasSubstr("duplicate"));
  EXPECT_EQ(CountRows("batches"), 0);
  EXPECT_EQ(CountRows("tokens"), 0);

  IssueBatchRequest bad_request = Request({"a@example.com"});
  bad_request.set_purpose("");
  bad_request.set_redirect_url("https://evil.example/");
  bad_request.mutable_ttl()->set_seconds(-5);
  s = Issue(bad_request, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  d = DecodeDetails(s);
  ASSERT_EQ(d.bad_request.field_violations_size(), 1);
  EXPECT_EQ(d.bad_request.field_violations(0).field(), "ttl");
  bad_request.clear_ttl();
  s = Issue(bad_request, &resp);
  d = DecodeDetails(s);
  fields.clear();
  for (const auto& v : d.bad_request.field_violations()) fields.push_back(v.field());
  EXPECT_THAT(fields, ElementsAre("purpose", "redirect_url"));
  EXPECT_EQ(CountRows("tokens"), 0);
}

TEST_F(ServiceE2eTest, SkipInvalidIssuesTheValidRecipientsAndReportsTheRest) {
  IssueBatchRequest req = Request({"nope", "a@example.com", "a@example.com", "b@example.com"});
  req.set_skip_invalid(true);
  IssueBatchResponse resp;
  ASSERT_TRUE(Issue(req, &resp).ok());
  ASSERT_EQ(resp.links_size(), 2);
  EXPECT_EQ(resp.links(0).email(), "a@example.com");
  EXPECT_EQ(resp.links(1).email(), "b@example.com");
  ASSERT_EQ(resp.rejected_size(), 2);
  EXPECT_EQ(resp.rejected(0).index(), 0);
  EXPECT_EQ(resp.rejected(1).index(), 2);
  EXPECT_THAT(resp.rejected(1).reason(), HasSubstr("duplicate"));
  EXPECT_EQ(GetBatch(resp.batch_id()).total(), 2);
}

TEST_F(ServiceE2eTest, TenThousandRecipientBatchIssuesEveryLinkInOrder) {
  std::vector<std::string> emails;
  for (int i = 0; i < 10000; ++i) emails.push_back(absl::StrCat("person", i, "@example.com"));
  IssueBatchResponse resp = MustIssue(emails);
  ASSERT_EQ(resp.links_size(), 10000);
  std::set<std::string> tokens;
  for (int i = 0; i < 10000; ++i) {
    EXPECT_EQ(resp.links(i).email(), emails[i]);
    tokens.insert(resp.links(i).token());
  }
  EXPECT_EQ(tokens.size(), 10000u);
  EXPECT_EQ(GetBatch(resp.batch_id()).total(), 10000);
  for (int i : {0, 4999, 9999}) EXPECT_TRUE(Verify(resp.links(i).token()).ok());

  emails.push_back("one-too-many@example.com");
  IssueBatchResponse too_big;
  grpc::Status s = Issue(Request(emails), &too_big);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(DecodeDetails(s).bad_request.field_violations(0).field(), "recipients");
}

TEST_F(ServiceE2eTest, SixtyFourConcurrentConsumersGetExactlyOneSuccessPerToken) {
  constexpr int kTokens = 40;
  constexpr int kThreads = 64;
  std::vector<std::string> emails;
  for (int i = 0; i < kTokens; ++i) emails.push_back(absl::StrCat("c", i, "@example.com"));
  IssueBatchResponse issued = MustIssue(emails);
  for (int t = 0; t < kTokens; ++t) {
    std::atomic<int> ok{0};
    std::atomic<int> used{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        grpc::Status s = Verify(issued.links(t).token());
        if (s.ok()) ++ok;
        else if (Reason(s) == "TOKEN_ALREADY_USED") ++used;
        else ++other;
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(ok.load(), 1) << "token " << t;
    EXPECT_EQ(used.load(), kThreads - 1);
    EXPECT_EQ(other.load(), 0);
  }
}

TEST_F(ServiceE2eTest, HealthServiceReportsServing) {
  auto health = grpc::health::v1::Health::NewStub(server_.channel());
  for (const char* service : {"", "magiclink.v1.MagicLinkService"}) {
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(ServiceE2eTest, DatabaseFilesHoldNoTokenOrLinkInPlaintext) {
  IssueBatchRequest req = Request({"a@example.com", "b@example.com", "c@example.com"});
  req.set_request_id("stored-encrypted");
  IssueBatchResponse resp;
  ASSERT_TRUE(Issue(req, &resp).ok());
  ASSERT_TRUE(Verify(resp.links(0).token(), v1::CONSUME, "", "browser-session").ok());
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm"}) bytes += ReadAll(server_.db_path() + suffix);
  ASSERT_GT(bytes.size(), 0u);
  ASSERT_NE(bytes.find("a@example.com"), std::string::npos);  // the search works
  for (const v1::IssuedLink& link : resp.links()) {
    EXPECT_EQ(bytes.find(link.token()), std::string::npos);
    EXPECT_EQ(bytes.find(link.url()), std::string::npos);
  }
  EXPECT_EQ(bytes.find("browser-session"), std::string::npos);
}

}  // namespace
}  // namespace magiclink::testing
