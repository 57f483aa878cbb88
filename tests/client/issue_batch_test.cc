// Client::IssueBatch over a mock connection: chunking, order, request_id
// derivation, index mapping of rejections and errors, progress.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/src/issue_plan.h"
#include "magiclink/client/client.h"
#include "magiclink/client/mocks/mock_connection.h"
#include "tests/client/client_matchers.h"
#include "tests/testing/issue_requests.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientCodeIs;
using ::magiclink::client::testing::ClientErrorIs;
using ::magiclink::testing::Email;
using ::magiclink::testing::InviteRequest;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::IsEmpty;
using ::testing::Return;
using ::testing::SizeIs;

// What a server does: one link per recipient, in order, batch named after
// the request_id. Records every request it is sent.
class FakeIssuer {
 public:
  absl::StatusOr<v1::IssueBatchResponse> operator()(const v1::IssueBatchRequest& request) {
    requests.push_back(request);
    v1::IssueBatchResponse response;
    response.set_batch_id("b_" + request.request_id());
    for (const v1::Recipient& r : request.recipients()) {
      v1::IssuedLink* link = response.add_links();
      link->set_email(r.email());
      link->set_token("tok-" + r.email());
      link->set_url("http://localhost:3000/welcome?token=tok-" + r.email());
    }
    return response;
  }
  std::vector<v1::IssueBatchRequest> requests;
};

class ClientIssueBatchTest : public ::testing::Test {
 protected:
  void ServeWith(FakeIssuer& issuer) {
    EXPECT_CALL(*mock_, IssueBatch(_)).WillRepeatedly(Invoke(std::ref(issuer)));
  }
  std::shared_ptr<MockConnection> mock_ = std::make_shared<MockConnection>();
  Client client_{mock_};
};

TEST_F(ClientIssueBatchTest, SplitsIntoChunksAndReturnsLinksInInputOrder) {
  FakeIssuer issuer;
  ServeWith(issuer);
  absl::StatusOr<IssueBatchResult> result =
      client_.IssueBatch(InviteRequest(2500), {1000, nullptr});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(issuer.requests, SizeIs(3));
  EXPECT_EQ(issuer.requests[0].recipients_size(), 1000);
  EXPECT_EQ(issuer.requests[1].recipients_size(), 1000);
  EXPECT_EQ(issuer.requests[2].recipients_size(), 500);
  EXPECT_EQ(issuer.requests[1].recipients(0).email(), Email(1000));
  ASSERT_THAT(result->links, SizeIs(2500));
  for (size_t i = 0; i < 2500; ++i) {
    ASSERT_EQ(result->links[i].index, i);
    ASSERT_EQ(result->links[i].email, Email(i));
    ASSERT_EQ(result->links[i].token, "tok-" + Email(i));
  }
  ASSERT_THAT(result->batches, SizeIs(3));
  EXPECT_EQ(result->batches[2].first_index, 2000u);
  EXPECT_EQ(result->batches[2].recipient_count, 500u);
  EXPECT_EQ(result->links[2499].batch_id, result->batches[2].batch_id);
  EXPECT_THAT(result->rejected, IsEmpty());
}

TEST_F(ClientIssueBatchTest, DefaultChunkSizeIsOneThousand) {
  FakeIssuer issuer;
  ServeWith(issuer);
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(1001)).ok());
  ASSERT_THAT(issuer.requests, SizeIs(2));
  EXPECT_EQ(issuer.requests[0].recipients_size(), 1000);
}

TEST_F(ClientIssueBatchTest, DerivesEachChunkRequestIdFromTheCallersAndCopiesTheRest) {
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(25, "cohort-7");
  request.mutable_ttl()->set_seconds(3600);
  (*request.mutable_metadata())["campaign"] = "spring";
  request.set_skip_invalid(true);
  request.set_revoke_previous(true);
  ASSERT_TRUE(client_.IssueBatch(request, {10, nullptr}).ok());
  ASSERT_THAT(issuer.requests, SizeIs(3));
  for (size_t c = 0; c < 3; ++c) {
    const v1::IssueBatchRequest& sent = issuer.requests[c];
    EXPECT_EQ(sent.request_id(), absl::StrCat("cohort-7/", c));
    EXPECT_EQ(sent.purpose(), "invite");
    EXPECT_EQ(sent.redirect_url(), "http://localhost:3000/welcome");
    EXPECT_EQ(sent.ttl().seconds(), 3600);
    EXPECT_EQ(sent.metadata().at("campaign"), "spring");
    EXPECT_TRUE(sent.skip_invalid());
    EXPECT_TRUE(sent.revoke_previous());
  }
}

TEST_F(ClientIssueBatchTest, SingleChunkStillGetsADerivedRequestId) {
  FakeIssuer issuer;
  ServeWith(issuer);
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(3, "one")).ok());
  ASSERT_THAT(issuer.requests, SizeIs(1));
  EXPECT_EQ(issuer.requests[0].request_id(), "one/0");
}

TEST_F(ClientIssueBatchTest, WithoutRequestIdEachCallGetsItsOwnRandomBaseSharedByItsChunks) {
  FakeIssuer issuer;
  ServeWith(issuer);
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(20), {10, nullptr}).ok());
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(20), {10, nullptr}).ok());
  ASSERT_THAT(issuer.requests, SizeIs(4));
  auto base = [](const v1::IssueBatchRequest& r) {
    const std::string& id = r.request_id();
    return id.substr(0, id.rfind('/'));
  };
  EXPECT_FALSE(base(issuer.requests[0]).empty());
  EXPECT_EQ(issuer.requests[0].request_id(), base(issuer.requests[0]) + "/0");
  EXPECT_EQ(issuer.requests[1].request_id(), base(issuer.requests[0]) + "/1");
  EXPECT_EQ(base(issuer.requests[2]), base(issuer.requests[3]));
  EXPECT_NE(base(issuer.requests[0]), base(issuer.requests[2]));
}

TEST_F(ClientIssueBatchTest, RequestIdWithoutRoomForTheChunkSuffixIsRefusedBeforeSending) {
  EXPECT_CALL(*mock_, IssueBatch).Times(0);
  const std::string id(127, 'x');  // "/2" would make 129 characters
  absl::StatusOr<IssueBatchResult> result =
      client_.IssueBatch(InviteRequest(25, id), {10, nullptr});
  EXPECT_THAT(result,
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  EXPECT_EQ(Error(result.status()).field_violations().at(0).field, "request_id");
}

TEST_F(ClientIssueBatchTest, RequestIdFillingTheLimitExactlyIsAccepted) {
  FakeIssuer issuer;
  ServeWith(issuer);
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(5, std::string(126, 'x'))).ok());
  EXPECT_EQ(issuer.requests.at(0).request_id().size(), 128u);
}

TEST_F(ClientIssueBatchTest, ZeroChunkSizeIsInvalid) {
  EXPECT_CALL(*mock_, IssueBatch).Times(0);
  EXPECT_THAT(client_.IssueBatch(InviteRequest(5), {0, nullptr}),
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
}

TEST_F(ClientIssueBatchTest, ReportsProgressAfterEachChunk) {
  FakeIssuer issuer;
  ServeWith(issuer);
  std::vector<IssueProgress> seen;
  IssueOptions options;
  options.chunk_size = 1000;
  options.on_progress = [&](const IssueProgress& p) { seen.push_back(p); };
  ASSERT_TRUE(client_.IssueBatch(InviteRequest(2500, "p"), options).ok());
  ASSERT_THAT(seen, SizeIs(3));
  EXPECT_EQ(seen[0].recipients_done, 1000u);
  EXPECT_EQ(seen[1].recipients_done, 2000u);
  EXPECT_EQ(seen[2].recipients_done, 2500u);
  EXPECT_EQ(seen[2].chunk_index, 2u);
  EXPECT_EQ(seen[2].chunk_count, 3u);
  EXPECT_EQ(seen[2].recipients_total, 2500u);
  EXPECT_EQ(seen[1].batch_id, "b_p/1");
}

TEST_F(ClientIssueBatchTest, ServerRejectionsAreMappedToInputPositions) {
  // The second chunk's server rejects its recipient 3 (input 13).
  EXPECT_CALL(*mock_, IssueBatch).WillRepeatedly(Invoke([](const v1::IssueBatchRequest& request) {
    v1::IssueBatchResponse response;
    response.set_batch_id("b_" + request.request_id());
    for (int i = 0; i < request.recipients_size(); ++i) {
      if (request.request_id() == "s/1" && i == 3) {
        v1::RejectedRecipient* r = response.add_rejected();
        r->set_index(3);
        r->set_email(request.recipients(i).email());
        r->set_reason("the address has no '@'");
        continue;
      }
      response.add_links()->set_email(request.recipients(i).email());
    }
    return response;
  }));
  v1::IssueBatchRequest request = InviteRequest(25, "s");
  request.set_skip_invalid(true);
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request, {10, nullptr});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->rejected, SizeIs(1));
  EXPECT_EQ(result->rejected[0].index, 13u);
  EXPECT_EQ(result->rejected[0].email, Email(13));
  EXPECT_EQ(result->rejected[0].reason, "the address has no '@'");
  EXPECT_EQ(result->rejected[0].duplicate_of, std::nullopt);
  ASSERT_THAT(result->links, SizeIs(24));
  EXPECT_EQ(result->links[12].index, 12u);
  EXPECT_EQ(result->links[13].index, 14u);
  EXPECT_EQ(result->links[13].email, Email(14));
}

TEST_F(ClientIssueBatchTest, ChunkErrorNamesInputPositionsAndStopsThere) {
  FakeIssuer issuer;
  EXPECT_CALL(*mock_, IssueBatch)
      .WillOnce(Invoke(std::ref(issuer)))
      .WillOnce(Return(MakeError(absl::StatusCode::kInvalidArgument,
                                 "invalid request: recipients[5].email: the address has no '@'",
                                 magiclink::v1::INVALID_REQUEST, {},
                                 {{"recipients[5].email", "\"x\": the address has no '@'"},
                                  {"recipients[7].email", "\"y\": the address has no '@'"},
                                  {"purpose", "is required"}})));
  absl::StatusOr<IssueBatchResult> result =
      client_.IssueBatch(InviteRequest(25, "e"), {10, nullptr});
  EXPECT_THAT(result,
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  const Error error(result.status());
  EXPECT_THAT(error.message(), HasSubstr("chunk 2 of 3"));
  EXPECT_THAT(error.message(),
              HasSubstr("failed after recipients[0..9] were issued or rejected: invalid request: "
                        "recipients[15].email: \"x\": the address has no '@' (and 2 more)"));
  EXPECT_THAT(error.field_violations(),
              ElementsAre(FieldViolation{"recipients[15].email", "\"x\": the address has no '@'"},
                          FieldViolation{"recipients[17].email", "\"y\": the address has no '@'"},
                          FieldViolation{"purpose", "is required"}));
  EXPECT_THAT(issuer.requests, SizeIs(1));
}

TEST_F(ClientIssueBatchTest, SingleChunkErrorIsReturnedAsTheServerSentIt) {
  const absl::Status sent = MakeError(absl::StatusCode::kAlreadyExists, "request_id reused",
                                      magiclink::v1::REQUEST_ID_CONFLICT);
  EXPECT_CALL(*mock_, IssueBatch).WillOnce(Return(sent));
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(InviteRequest(3, "r"));
  EXPECT_EQ(result.status(), sent);
}

TEST_F(ClientIssueBatchTest, AddressRepeatedAcrossChunksIsRefusedBeforeSending) {
  EXPECT_CALL(*mock_, IssueBatch).Times(0);
  v1::IssueBatchRequest request = InviteRequest(25, "d");
  request.mutable_recipients(15)->set_email(" user3@EXAMPLE.com ");
  request.mutable_recipients(22)->set_email("user4@example.com");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request, {10, nullptr});
  EXPECT_THAT(result,
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  EXPECT_THAT(Error(result.status()).field_violations(),
              ElementsAre(FieldViolation{"recipients[15].email", "duplicate of recipients[3]"},
                          FieldViolation{"recipients[22].email", "duplicate of recipients[4]"}));
}

TEST_F(ClientIssueBatchTest, AddressRepeatedWithinAChunkIsRefusedBeforeSending) {
  EXPECT_CALL(*mock_, IssueBatch).Times(0);
  v1::IssueBatchRequest request = InviteRequest(5, "w");
  request.mutable_recipients(4)->set_email("\tuser1@Example.Com");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request);
  EXPECT_THAT(result,
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
  EXPECT_EQ(Error(result.status()).message(),
            "invalid request: recipients[4].email: duplicate of recipients[1]");
  EXPECT_THAT(Error(result.status()).field_violations(),
              ElementsAre(FieldViolation{"recipients[4].email", "duplicate of recipients[1]"}));
}

TEST_F(ClientIssueBatchTest, RepeatsAreRejectedLocallyWithSkipInvalidAndTheFirstIsSent) {
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(6, "r");
  request.set_skip_invalid(true);
  request.mutable_recipients(2)->set_email("user0@EXAMPLE.com");
  request.mutable_recipients(5)->set_email(" user0@example.com");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->rejected, SizeIs(2));
  EXPECT_EQ(result->rejected[0].index, 2u);
  EXPECT_EQ(result->rejected[0].email, "user0@EXAMPLE.com");
  EXPECT_EQ(result->rejected[0].duplicate_of, 0u);
  EXPECT_EQ(result->rejected[1].index, 5u);
  EXPECT_EQ(result->rejected[1].reason, "duplicate of recipients[0]");
  ASSERT_THAT(issuer.requests, SizeIs(1));
  ASSERT_EQ(issuer.requests[0].recipients_size(), 4);
  EXPECT_EQ(issuer.requests[0].recipients(2).email(), Email(3));
  ASSERT_THAT(result->links, SizeIs(4));
  EXPECT_EQ(result->links[2].index, 3u);
}

TEST_F(ClientIssueBatchTest, AnAddressTheServerRejectsIsNoOnesRepeat) {
  // Both copies go to the server, which names each bad address itself.
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(4, "i");
  request.mutable_recipients(1)->set_email("no-at-sign");
  request.mutable_recipients(3)->set_email("no-at-sign");
  ASSERT_TRUE(client_.IssueBatch(request).ok());
  ASSERT_THAT(issuer.requests, SizeIs(1));
  EXPECT_EQ(issuer.requests[0].recipients_size(), 4);
}

TEST_F(ClientIssueBatchTest, LocalPartCaseMakesADifferentAddress) {
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(15, "c");
  request.mutable_recipients(12)->set_email("USER3@example.com");
  ASSERT_TRUE(client_.IssueBatch(request, {10, nullptr}).ok());
}

TEST_F(ClientIssueBatchTest, AddressRepeatedAcrossChunksIsRejectedLocallyWithSkipInvalid) {
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(25, "k");
  request.set_skip_invalid(true);
  request.mutable_recipients(15)->set_email("user3@example.com");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request, {10, nullptr});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(result->rejected, SizeIs(1));
  EXPECT_EQ(result->rejected[0].index, 15u);
  EXPECT_EQ(result->rejected[0].reason, "duplicate of recipients[3]");
  EXPECT_EQ(result->rejected[0].duplicate_of, 3u);
  ASSERT_THAT(issuer.requests, SizeIs(3));
  EXPECT_EQ(issuer.requests[1].recipients_size(), 9);
  ASSERT_THAT(result->links, SizeIs(24));
  EXPECT_EQ(result->links[15].index, 16u);
}

TEST_F(ClientIssueBatchTest, ChunkWithNoValidRecipientIsRejectedNotFailedWithSkipInvalid) {
  FakeIssuer issuer;
  EXPECT_CALL(*mock_, IssueBatch)
      .WillOnce(Invoke(std::ref(issuer)))
      .WillOnce(Return(MakeError(absl::StatusCode::kInvalidArgument, "invalid request",
                                 magiclink::v1::INVALID_REQUEST, {},
                                 {{"recipients[0].email", "\"a\": the address has no '@'"},
                                  {"recipients[1].email", "\"b\": the address has no '@'"},
                                  {"recipients", "no recipient is valid"}})));
  v1::IssueBatchRequest request = InviteRequest(4, "w");
  request.set_skip_invalid(true);
  request.mutable_recipients(2)->set_email("a");
  request.mutable_recipients(3)->set_email("b");
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request, {2, nullptr});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->links, SizeIs(2));
  ASSERT_THAT(result->rejected, SizeIs(2));
  EXPECT_EQ(result->rejected[0].index, 2u);
  EXPECT_EQ(result->rejected[0].email, "a");
  EXPECT_EQ(result->rejected[1].index, 3u);
}

TEST_F(ClientIssueBatchTest, WholeChunkInvalidWithoutSkipInvalidIsAnError) {
  EXPECT_CALL(*mock_, IssueBatch)
      .WillOnce(Return(MakeError(
          absl::StatusCode::kInvalidArgument, "invalid request", magiclink::v1::INVALID_REQUEST, {},
          {{"recipients[0].email", "bad"}, {"recipients[1].email", "bad"}})));
  EXPECT_THAT(client_.IssueBatch(InviteRequest(2, "n")),
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
}

TEST_F(ClientIssueBatchTest, ResponseThatDoesNotAccountForEveryRecipientIsAnError) {
  v1::IssueBatchResponse short_response;
  short_response.add_links()->set_email(Email(0));
  EXPECT_CALL(*mock_, IssueBatch).WillOnce(Return(short_response));
  EXPECT_THAT(client_.IssueBatch(InviteRequest(2, "x")), ClientCodeIs(absl::StatusCode::kInternal));
}

TEST_F(ClientIssueBatchTest, ValidateOnlyCollectsEveryChunksWouldBeRejectionsAndIssuesNothing) {
  std::vector<v1::IssueBatchRequest> sent;
  EXPECT_CALL(*mock_, IssueBatch).WillRepeatedly(Invoke([&](const v1::IssueBatchRequest& request) {
    sent.push_back(request);
    v1::IssueBatchResponse response;  // no batch, no links
    for (int i = 0; i < request.recipients_size(); ++i) {
      if (request.recipients(i).email() != "bad") continue;
      v1::RejectedRecipient* r = response.add_rejected();
      r->set_index(i);
      r->set_email("bad");
      r->set_reason("the address has no '@'");
    }
    return response;
  }));
  v1::IssueBatchRequest request = InviteRequest(25, "v");
  request.set_validate_only(true);
  request.set_skip_invalid(true);
  request.mutable_recipients(1)->set_email("bad");
  request.mutable_recipients(24)->set_email("bad");
  request.mutable_recipients(15)->set_email(Email(3));  // repeats chunk 0's
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(request, {10, nullptr});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_THAT(sent, SizeIs(3));
  for (const v1::IssueBatchRequest& call : sent) EXPECT_TRUE(call.validate_only());
  EXPECT_THAT(result->links, IsEmpty());
  EXPECT_THAT(result->batches, IsEmpty());
  ASSERT_THAT(result->rejected, SizeIs(3));
  EXPECT_EQ(result->rejected[0].index, 1u);
  EXPECT_EQ(result->rejected[1].index, 15u);
  EXPECT_EQ(result->rejected[1].reason, "duplicate of recipients[3]");
  EXPECT_EQ(result->rejected[2].index, 24u);
}

TEST_F(ClientIssueBatchTest, ExcludedRecipientsLeaveChunkBoundariesAndRequestIdsWhereTheyWere) {
  FakeIssuer issuer;
  ServeWith(issuer);
  IssueOptions options;
  options.chunk_size = 10;
  options.excluded = {0, 12, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
  absl::StatusOr<IssueBatchResult> result = client_.IssueBatch(InviteRequest(35, "x"), options);
  ASSERT_TRUE(result.ok()) << result.status();
  // Chunk 2 (positions 20-29) is empty and not sent; chunk 3 keeps its id.
  ASSERT_THAT(issuer.requests, SizeIs(3));
  EXPECT_EQ(issuer.requests[0].request_id(), "x/0");
  EXPECT_EQ(issuer.requests[0].recipients_size(), 9);
  EXPECT_EQ(issuer.requests[0].recipients(0).email(), Email(1));
  EXPECT_EQ(issuer.requests[1].request_id(), "x/1");
  EXPECT_EQ(issuer.requests[1].recipients(2).email(), Email(13));
  EXPECT_EQ(issuer.requests[2].request_id(), "x/3");
  EXPECT_EQ(issuer.requests[2].recipients(0).email(), Email(30));
  ASSERT_THAT(result->links, SizeIs(35 - 12));
  EXPECT_EQ(result->links[0].index, 1u);
  EXPECT_EQ(result->links[11].index, 13u);
  EXPECT_EQ(result->links[18].index, 30u);
  EXPECT_THAT(result->rejected, IsEmpty());
}

TEST_F(ClientIssueBatchTest, ValidateOnlyResponseWithLinksIsAnError) {
  FakeIssuer issuer;
  ServeWith(issuer);
  v1::IssueBatchRequest request = InviteRequest(2, "v");
  request.set_validate_only(true);
  EXPECT_THAT(client_.IssueBatch(request), ClientCodeIs(absl::StatusCode::kInternal));
}

TEST_F(ClientIssueBatchTest, EmptyRequestIsSentOnceSoTheServerJudgesIt) {
  EXPECT_CALL(*mock_, IssueBatch)
      .WillOnce(Return(MakeError(absl::StatusCode::kInvalidArgument, "no recipients",
                                 magiclink::v1::INVALID_REQUEST)));
  EXPECT_THAT(client_.IssueBatch(InviteRequest(0, "z")),
              ClientErrorIs(absl::StatusCode::kInvalidArgument, magiclink::v1::INVALID_REQUEST));
}

TEST(RecipientFieldTest, ParsesOnlyRecipientFieldPaths) {
  const std::optional<internal::RecipientField> email =
      internal::ParseRecipientField("recipients[1500].email");
  ASSERT_TRUE(email.has_value());
  EXPECT_EQ(email->index, 1500u);
  EXPECT_EQ(email->rest, ".email");
  EXPECT_EQ(internal::RecipientFieldPath(email->index, email->rest), "recipients[1500].email");
  const std::optional<internal::RecipientField> metadata =
      internal::ParseRecipientField("recipients[0].metadata[\"a]\"]");
  ASSERT_TRUE(metadata.has_value());
  EXPECT_EQ(metadata->index, 0u);
  EXPECT_EQ(metadata->rest, ".metadata[\"a]\"]");
  for (const char* other : {"recipients", "recipients[]", "recipients[x].email", "recipients[+1]",
                            "recipients[ 1]", "recipients[1", "purpose", "metadata[recipients[1]]",
                            "recipients[99999999999999999999999]"}) {
    EXPECT_EQ(internal::ParseRecipientField(other), std::nullopt) << other;
  }
}

}  // namespace
}  // namespace magiclink::client
