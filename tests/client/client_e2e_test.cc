// The client library against a real magiclinkd child process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "absl/strings/str_cat.h"
#include "magiclink/client/client.h"
#include "tests/client/client_matchers.h"
#include "tests/testing/issue_requests.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientCodeIs;
using ::magiclink::client::testing::ClientErrorIs;
using ::magiclink::testing::Email;
using ::magiclink::testing::InviteRequest;
using ::magiclink::testing::MagiclinkdPath;
using ::magiclink::testing::ServerProcess;
using ::magiclink::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class ClientE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(MagiclinkdPath(), {"--data_dir=" + dir_->path()},
                                dir_->File("server.log"));
    ASSERT_TRUE(server_->Start().ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }

  static Client Connect(const std::string& target) {
    ConnectionOptions options;
    options.target = target;
    options.timeout = absl::Seconds(20);
    options.retry.initial_backoff = absl::Milliseconds(5);
    options.retry.max_backoff = absl::Milliseconds(20);
    absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return Client(*connection);
  }

  Client client_ = Connect(server_->address());
  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* ClientE2eTest::dir_ = nullptr;
ServerProcess* ClientE2eTest::server_ = nullptr;

TEST_F(ClientE2eTest, IssuesInChunksInInputOrderAndConsumesExactlyOnce) {
  int chunks_reported = 0;
  IssueOptions options;
  options.chunk_size = 1000;
  options.on_progress = [&](const IssueProgress&) { ++chunks_reported; };
  absl::StatusOr<IssueBatchResult> issued = client_.IssueBatch(InviteRequest(2500), options);
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(chunks_reported, 3);
  ASSERT_THAT(issued->batches, SizeIs(3));
  ASSERT_THAT(issued->links, SizeIs(2500));
  std::set<std::string> tokens;
  for (size_t i = 0; i < 2500; ++i) {
    ASSERT_EQ(issued->links[i].index, i);
    ASSERT_EQ(issued->links[i].email, Email(i));
    ASSERT_THAT(issued->links[i].url, HasSubstr(issued->links[i].token));
    tokens.insert(issued->links[i].token);
  }
  EXPECT_THAT(tokens, SizeIs(2500));
  EXPECT_EQ(issued->links[1999].batch_id, issued->batches[1].batch_id);

  const IssuedLink& last = issued->links[2499];
  absl::StatusOr<v1::VerifyResponse> peeked = client_.Peek(last.token, "invite");
  ASSERT_TRUE(peeked.ok()) << peeked.status();
  EXPECT_EQ(peeked->email(), Email(2499));
  EXPECT_FALSE(peeked->has_consumed_at());

  absl::StatusOr<v1::VerifyResponse> consumed = client_.Consume(last.token, "invite");
  ASSERT_TRUE(consumed.ok()) << consumed.status();
  EXPECT_EQ(consumed->batch_id(), issued->batches[2].batch_id);
  EXPECT_TRUE(consumed->has_consumed_at());

  absl::StatusOr<v1::VerifyResponse> again = client_.Consume(last.token, "invite");
  EXPECT_THAT(again, ClientErrorIs(absl::StatusCode::kFailedPrecondition,
                                   magiclink::v1::TOKEN_ALREADY_USED));
  EXPECT_EQ(Error(again.status()).domain(), kErrorDomain);
  EXPECT_THAT(Error(again.status()).message(), ::testing::Not(HasSubstr(last.token)));
}

TEST_F(ClientE2eTest, CallingAgainWithTheSameRequestIdReplaysTheSameLinks) {
  const v1::IssueBatchRequest request = InviteRequest(1500, "e2e-replay");
  absl::StatusOr<IssueBatchResult> first = client_.IssueBatch(request);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<IssueBatchResult> second = client_.IssueBatch(request);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_THAT(second->links, SizeIs(1500));
  for (size_t i = 0; i < 1500; ++i) ASSERT_EQ(second->links[i].token, first->links[i].token);
  ASSERT_THAT(second->batches, SizeIs(2));
  EXPECT_TRUE(second->batches[0].replayed);
  EXPECT_TRUE(second->batches[1].replayed);
  EXPECT_EQ(second->batches[1].request_id, "e2e-replay/1");
}

TEST_F(ClientE2eTest, InvalidRecipientInALaterChunkIsNamedByItsInputPosition) {
  v1::IssueBatchRequest request = InviteRequest(1500, "e2e-invalid");
  request.mutable_recipients(1200)->set_email("not-an-email");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request);
  EXPECT_THAT(result,
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  const Error error(result.status());
  ASSERT_THAT(error.field_violations(), SizeIs(1));
  EXPECT_EQ(error.field_violations()[0].field, "recipients[1200].email");
  EXPECT_THAT(error.message(), HasSubstr("chunk 2 of 2"));
}

TEST_F(ClientE2eTest, SkipInvalidAcrossChunksReportsInputPositions) {
  v1::IssueBatchRequest request = InviteRequest(1500, "e2e-skip");
  request.set_skip_invalid(true);
  request.mutable_recipients(1200)->set_email("not-an-email");
  request.mutable_recipients(1300)->set_email(Email(5));  // repeats chunk 1's recipient 5
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->rejected, SizeIs(2));
  EXPECT_EQ(result->rejected[0].index, 1200u);
  EXPECT_EQ(result->rejected[1].index, 1300u);
  EXPECT_EQ(result->rejected[1].reason, "duplicate of recipients[5]");
  ASSERT_THAT(result->links, SizeIs(1498));
  EXPECT_EQ(result->links[1200].index, 1201u);
  EXPECT_EQ(result->links[1200].email, Email(1201));
}

TEST_F(ClientE2eTest, RevokeGetBatchAndListAllLinksAgree) {
  v1::IssueBatchRequest request = InviteRequest(250);
  request.set_purpose("login");
  absl::StatusOr<IssueBatchResult> issued = client_.IssueBatch(request);
  ASSERT_TRUE(issued.ok()) << issued.status();
  const std::string batch_id = issued->batches.at(0).batch_id;

  v1::RevokeRequest revoke;
  revoke.set_email(Email(7));
  revoke.set_purpose("login");
  absl::StatusOr<v1::RevokeResponse> revoked = client_.Revoke(revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->revoked_count(), 1);
  EXPECT_THAT(client_.Consume(issued->links[7].token),
              ClientErrorIs(absl::StatusCode::kFailedPrecondition, magiclink::v1::TOKEN_REVOKED));

  absl::StatusOr<v1::GetBatchResponse> batch = client_.GetBatch(batch_id);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->total(), 250);
  EXPECT_EQ(batch->revoked(), 1);
  EXPECT_EQ(batch->outstanding(), 249);

  v1::ListLinksRequest list;
  list.set_batch_id(batch_id);
  list.set_page_size(100);
  absl::StatusOr<std::vector<v1::LinkInfo>> links = client_.ListAllLinks(list);
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_THAT(*links, SizeIs(250));
  for (int i = 0; i < 250; ++i) ASSERT_EQ((*links)[i].email(), Email(i));
  EXPECT_EQ((*links)[7].state(), v1::REVOKED);

  list.set_state(v1::REVOKED);
  links = client_.ListAllLinks(list);
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, SizeIs(1));
}

TEST_F(ClientE2eTest, UnknownTokenAndBatchAreNotFound) {
  EXPECT_THAT(client_.Peek("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
              ClientErrorIs(absl::StatusCode::kNotFound, magiclink::v1::TOKEN_NOT_FOUND));
  EXPECT_THAT(client_.GetBatch("b_doesnotexist"),
              ClientErrorIs(absl::StatusCode::kNotFound, magiclink::v1::BATCH_NOT_FOUND));
}

TEST_F(ClientE2eTest, UnreachableServerIsUnavailableAfterBoundedRetries) {
  // A port the server listened on and left: nothing answers there now.
  TempDir dir;
  ServerProcess gone(MagiclinkdPath(), {"--data_dir=" + dir.path()});
  ASSERT_TRUE(gone.Start().ok());
  const std::string address = gone.address();
  gone.Stop(SIGKILL);
  EXPECT_THAT(Connect(address).Peek("AAAA"), ClientCodeIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace magiclink::client
