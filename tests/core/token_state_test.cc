#include "server/core/token_state.h"

#include <gtest/gtest.h>

#include "tests/testing/reason_matchers.h"

namespace magiclink {
namespace {

using testing::StatusIs;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;

TokenClaims Claims() {
  TokenClaims c;
  c.purpose = "invite";
  c.issued_at = absl::FromUnixSeconds(1000);
  c.expires_at = absl::FromUnixSeconds(2000);
  return c;
}

TEST(TokenStateTest, ExpiresExactlyAtExpiresAt) {
  const TokenClaims c = Claims();
  EXPECT_EQ(StateAt(c, c.expires_at - absl::Nanoseconds(1)), TokenState::kOutstanding);
  EXPECT_EQ(StateAt(c, c.expires_at), TokenState::kExpired);
  EXPECT_OK(CheckUsable(c, c.expires_at - absl::Nanoseconds(1), ""));
  EXPECT_THAT(CheckUsable(c, c.expires_at, ""), StatusIs(kPrecondition, magiclink::v1::TOKEN_EXPIRED));
}

TEST(TokenStateTest, RevokedAndConsumedWinOverExpiry) {
  TokenClaims c = Claims();
  c.consumed_at = absl::FromUnixSeconds(1500);
  EXPECT_EQ(StateAt(c, absl::FromUnixSeconds(3000)), TokenState::kConsumed);
  EXPECT_THAT(CheckUsable(c, absl::FromUnixSeconds(3000), ""),
              StatusIs(kPrecondition, magiclink::v1::TOKEN_ALREADY_USED));
  c.consumed_at.reset();
  c.revoked_at = absl::FromUnixSeconds(1500);
  EXPECT_EQ(StateAt(c, absl::FromUnixSeconds(3000)), TokenState::kRevoked);
  EXPECT_THAT(CheckUsable(c, absl::FromUnixSeconds(1600), ""),
              StatusIs(kPrecondition, magiclink::v1::TOKEN_REVOKED));
}

TEST(TokenStateTest, PurposeMismatchIsReportedBeforeAnythingElse) {
  TokenClaims c = Claims();
  c.revoked_at = absl::FromUnixSeconds(1500);
  EXPECT_THAT(CheckUsable(c, absl::FromUnixSeconds(3000), "login"),
              StatusIs(kPrecondition, magiclink::v1::PURPOSE_MISMATCH));
  EXPECT_THAT(CheckVerify(c, absl::FromUnixSeconds(3000), "login", "", absl::Seconds(30)),
              StatusIs(kPrecondition, magiclink::v1::PURPOSE_MISMATCH));
}

TEST(TokenStateTest, GraceRepeatNeedsTheSameKeyInsideTheWindow) {
  TokenClaims c = Claims();
  c.consumed_at = absl::FromUnixSeconds(1500);
  c.consume_key_hash = "key";
  const absl::Duration grace = absl::Seconds(30);
  const absl::Time inside = *c.consumed_at + grace - absl::Nanoseconds(1);
  const absl::Time at_end = *c.consumed_at + grace;
  EXPECT_TRUE(IsGraceRepeat(c, "key", inside, grace));
  EXPECT_FALSE(IsGraceRepeat(c, "key", at_end, grace));
  EXPECT_FALSE(IsGraceRepeat(c, "other", inside, grace));
  EXPECT_FALSE(IsGraceRepeat(c, "", inside, grace));
  EXPECT_OK(CheckVerify(c, inside, "", "key", grace));
  EXPECT_OK(CheckVerify(c, inside, "invite", "key", grace));
  EXPECT_THAT(CheckVerify(c, at_end, "", "key", grace),
              StatusIs(kPrecondition, magiclink::v1::TOKEN_ALREADY_USED));
  EXPECT_THAT(CheckVerify(c, inside, "", "other", grace),
              StatusIs(kPrecondition, magiclink::v1::TOKEN_ALREADY_USED));
  // A consume without a key leaves nothing a later key could match.
  c.consume_key_hash.clear();
  EXPECT_FALSE(IsGraceRepeat(c, "", inside, grace));
}

}  // namespace
}  // namespace magiclink
