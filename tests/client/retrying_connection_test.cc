// Which calls MakeRetryingConnection repeats, how often, and how long it
// waits in between; the sleeper records instead of sleeping.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "magiclink/client/connection.h"
#include "magiclink/client/mocks/mock_connection.h"
#include "tests/client/client_matchers.h"

namespace magiclink::client {
namespace {

using ::magiclink::client::testing::ClientCodeIs;
using ::testing::Each;
using ::testing::Ge;
using ::testing::Le;
using ::testing::Property;
using ::testing::Return;
using ::testing::SizeIs;

absl::Status Unavailable() {
  return MakeError(absl::StatusCode::kUnavailable, "store down", magiclink::v1::STORE_UNAVAILABLE);
}

class ClientRetryTest : public ::testing::Test {
 protected:
  std::shared_ptr<Connection> Retrying(RetryPolicy policy = {}) {
    return MakeRetryingConnection(mock_, policy,
                                  [this](absl::Duration d) { sleeps_.push_back(d); });
  }

  std::shared_ptr<MockConnection> mock_ = std::make_shared<MockConnection>();
  std::vector<absl::Duration> sleeps_;
};

TEST_F(ClientRetryTest, ConsumeIsNeverRetried) {
  EXPECT_CALL(*mock_, Verify).Times(1).WillOnce(Return(Unavailable()));
  v1::VerifyRequest request;
  request.set_token("t");
  request.set_mode(v1::CONSUME);
  EXPECT_THAT(Retrying()->Verify(request), ClientCodeIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(sleeps_, SizeIs(0));
}

TEST_F(ClientRetryTest, UnspecifiedModeIsAConsumeAndNeverRetried) {
  EXPECT_CALL(*mock_, Verify).Times(1).WillOnce(Return(Unavailable()));
  v1::VerifyRequest request;
  request.set_token("t");
  EXPECT_THAT(Retrying()->Verify(request), ClientCodeIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientRetryTest, PeekIsRetriedAfterUnavailableUntilItSucceeds) {
  v1::VerifyResponse claims;
  claims.set_email("ann@example.com");
  EXPECT_CALL(*mock_, Verify)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(claims));
  v1::VerifyRequest request;
  request.set_mode(v1::PEEK);
  absl::StatusOr<v1::VerifyResponse> result = Retrying()->Verify(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->email(), "ann@example.com");
  EXPECT_THAT(sleeps_, SizeIs(2));
}

TEST_F(ClientRetryTest, IssueBatchWithoutRequestIdIsNeverRetried) {
  EXPECT_CALL(*mock_, IssueBatch).Times(1).WillOnce(Return(Unavailable()));
  v1::IssueBatchRequest request;
  request.add_recipients()->set_email("ann@example.com");
  EXPECT_THAT(Retrying()->IssueBatch(request), ClientCodeIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(sleeps_, SizeIs(0));
}

TEST_F(ClientRetryTest, IssueBatchValidationIsRetriedEvenWithoutRequestId) {
  EXPECT_CALL(*mock_, IssueBatch)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(v1::IssueBatchResponse()));
  v1::IssueBatchRequest request;
  request.add_recipients()->set_email("ann@example.com");
  request.set_validate_only(true);
  EXPECT_TRUE(Retrying()->IssueBatch(request).ok());
  EXPECT_THAT(sleeps_, SizeIs(1));
}

TEST_F(ClientRetryTest, IssueBatchWithRequestIdIsRetriedWithTheSameId) {
  v1::IssueBatchResponse issued;
  issued.set_batch_id("b_1");
  EXPECT_CALL(*mock_, IssueBatch(Property(&v1::IssueBatchRequest::request_id, "job/0")))
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(issued));
  v1::IssueBatchRequest request;
  request.set_request_id("job/0");
  absl::StatusOr<v1::IssueBatchResponse> result = Retrying()->IssueBatch(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->batch_id(), "b_1");
}

TEST_F(ClientRetryTest, RevokeGetBatchAndListLinksAreRetried) {
  EXPECT_CALL(*mock_, Revoke)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(v1::RevokeResponse()));
  EXPECT_CALL(*mock_, GetBatch)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(v1::GetBatchResponse()));
  EXPECT_CALL(*mock_, ListLinks)
      .WillOnce(Return(Unavailable()))
      .WillOnce(Return(v1::ListLinksResponse()));
  std::shared_ptr<Connection> connection = Retrying();
  EXPECT_TRUE(connection->Revoke(v1::RevokeRequest()).ok());
  EXPECT_TRUE(connection->GetBatch(v1::GetBatchRequest()).ok());
  EXPECT_TRUE(connection->ListLinks(v1::ListLinksRequest()).ok());
  EXPECT_THAT(sleeps_, SizeIs(3));
}

TEST_F(ClientRetryTest, OnlyUnavailableIsRetried) {
  for (const absl::StatusCode code :
       {absl::StatusCode::kDeadlineExceeded, absl::StatusCode::kInternal,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kNotFound,
        absl::StatusCode::kUnauthenticated}) {
    EXPECT_CALL(*mock_, GetBatch).Times(1).WillOnce(Return(absl::Status(code, "no")));
    EXPECT_THAT(Retrying()->GetBatch(v1::GetBatchRequest()), ClientCodeIs(code));
    ::testing::Mock::VerifyAndClearExpectations(mock_.get());
  }
  EXPECT_THAT(sleeps_, SizeIs(0));
}

TEST_F(ClientRetryTest, AttemptsAreBoundedAndTheLastErrorIsReturned) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  EXPECT_CALL(*mock_, GetBatch).Times(3).WillRepeatedly(Return(Unavailable()));
  EXPECT_THAT(Retrying(policy)->GetBatch(v1::GetBatchRequest()),
              ClientCodeIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(sleeps_, SizeIs(2));
}

TEST_F(ClientRetryTest, OneAttemptMeansNoRetries) {
  RetryPolicy policy;
  policy.max_attempts = 1;
  EXPECT_CALL(*mock_, ListLinks).Times(1).WillOnce(Return(Unavailable()));
  EXPECT_THAT(Retrying(policy)->ListLinks(v1::ListLinksRequest()),
              ClientCodeIs(absl::StatusCode::kUnavailable));
}

TEST_F(ClientRetryTest, BackoffGrowsExponentiallyWithJitterUpToTheCap) {
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.multiplier = 2.0;
  policy.max_backoff = absl::Milliseconds(300);
  EXPECT_CALL(*mock_, GetBatch).Times(5).WillRepeatedly(Return(Unavailable()));
  (void)Retrying(policy)->GetBatch(v1::GetBatchRequest());
  ASSERT_THAT(sleeps_, SizeIs(4));
  // Each wait lies in [cap / 2, cap] for caps 100, 200, 300, 300 ms.
  const absl::Duration caps[] = {absl::Milliseconds(100), absl::Milliseconds(200),
                                 absl::Milliseconds(300), absl::Milliseconds(300)};
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(sleeps_[i], caps[i] / 2) << "retry " << i;
    EXPECT_LE(sleeps_[i], caps[i]) << "retry " << i;
  }
}

TEST_F(ClientRetryTest, JitterSpreadsTheWaits) {
  RetryPolicy policy;
  policy.max_attempts = 2;
  policy.initial_backoff = absl::Seconds(1);
  EXPECT_CALL(*mock_, GetBatch).WillRepeatedly(Return(Unavailable()));
  std::shared_ptr<Connection> connection = Retrying(policy);
  for (int i = 0; i < 20; ++i) (void)connection->GetBatch(v1::GetBatchRequest());
  ASSERT_THAT(sleeps_, SizeIs(20));
  EXPECT_THAT(sleeps_, Each(Ge(absl::Milliseconds(500))));
  EXPECT_THAT(sleeps_, Each(Le(absl::Seconds(1))));
  // Twenty identical draws from a continuous distribution would mean no jitter.
  EXPECT_NE(*std::min_element(sleeps_.begin(), sleeps_.end()),
            *std::max_element(sleeps_.begin(), sleeps_.end()));
}

}  // namespace
}  // namespace magiclink::client
