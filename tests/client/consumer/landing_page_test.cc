// How a user tests their own code with MockConnection: a landing page that
// shows a different page for a used link, with no server involved.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "magiclink/client/client.h"
#include "magiclink/client/mocks/mock_connection.h"

namespace {

using ::testing::Return;

// The code under test.
std::string LandingPage(magiclink::client::Client client, const std::string& token) {
  auto claims = client.Consume(token, "invite");
  if (claims.ok()) return "welcome " + claims->email();
  if (magiclink::client::ReasonOf(claims.status()) == magiclink::v1::TOKEN_ALREADY_USED) {
    return "already used";
  }
  return "error";
}

TEST(LandingPageTest, ShowsWelcomeThenAlreadyUsed) {
  auto mock = std::make_shared<magiclink::client::MockConnection>();
  magiclink::v1::VerifyResponse claims;
  claims.set_email("ann@example.com");
  EXPECT_CALL(*mock, Verify)
      .WillOnce(Return(claims))
      .WillOnce(Return(magiclink::client::MakeError(absl::StatusCode::kFailedPrecondition, "used",
                                                    magiclink::v1::TOKEN_ALREADY_USED)));
  magiclink::client::Client client(mock);
  EXPECT_EQ(LandingPage(client, "t"), "welcome ann@example.com");
  EXPECT_EQ(LandingPage(client, "t"), "already used");
}

}  // namespace
