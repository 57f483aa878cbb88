// A gMock Connection, so code that uses Client can be tested without a
// server. Build server errors with MakeError() from error.h.
//
//   auto mock = std::make_shared<magiclink::client::MockConnection>();
//   EXPECT_CALL(*mock, Verify)
//       .WillOnce(Return(MakeError(absl::StatusCode::kFailedPrecondition, "used",
//                                  v1::TOKEN_ALREADY_USED)));
//   magiclink::client::Client client(mock);
//   MyLandingPage page(client);
//   EXPECT_EQ(page.Open("tok"), kAlreadyUsedPage);
#ifndef MAGICLINK_CLIENT_MOCKS_MOCK_CONNECTION_H_
#define MAGICLINK_CLIENT_MOCKS_MOCK_CONNECTION_H_

#include <gmock/gmock.h>

#include "magiclink/client/connection.h"

namespace magiclink::client {

class MockConnection : public Connection {
 public:
  MOCK_METHOD(absl::StatusOr<v1::IssueBatchResponse>, IssueBatch,
              (const v1::IssueBatchRequest& request), (override));
  MOCK_METHOD(absl::StatusOr<v1::VerifyResponse>, Verify, (const v1::VerifyRequest& request),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::RevokeResponse>, Revoke, (const v1::RevokeRequest& request),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::GetBatchResponse>, GetBatch, (const v1::GetBatchRequest& request),
              (override));
  MOCK_METHOD(absl::StatusOr<v1::ListLinksResponse>, ListLinks,
              (const v1::ListLinksRequest& request), (override));
};

}  // namespace magiclink::client

#endif  // MAGICLINK_CLIENT_MOCKS_MOCK_CONNECTION_H_
