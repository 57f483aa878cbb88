#include "server/core/keyring.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

using testing::StatusIs;

const std::string kSecretA(32, 'a');
const std::string kSecretB(32, 'b');

TEST(KeyringTest, NewestKeyMintsAndEveryKeyVerifies) {
  TokenKeyring old_ring = *TokenKeyring::Create({{"k1", kSecretA}});
  TokenKeyring rotated = *TokenKeyring::Create({{"k1", kSecretA}, {"k2", kSecretB}});
  const TokenHash minted_before = old_ring.HashForMinting("tok");
  EXPECT_EQ(minted_before.key_id, "k1");
  EXPECT_EQ(minted_before.hash.size(), 32u);

  const TokenHash minted_after = rotated.HashForMinting("tok");
  EXPECT_EQ(minted_after.key_id, "k2");
  EXPECT_NE(minted_after.hash, minted_before.hash);

  std::vector<std::string> candidates = rotated.CandidateHashes("tok");
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0], minted_after.hash);   // newest first
  EXPECT_EQ(candidates[1], minted_before.hash);  // old links still match
}

TEST(KeyringTest, KeyChecksTellSecretsApartWithoutRevealingThem) {
  TokenKeyring ring = *TokenKeyring::Create({{"k1", kSecretA}, {"k2", kSecretB}});
  std::vector<KeyCheck> checks = ring.KeyChecks();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].key_id, "k1");
  EXPECT_EQ(checks[1].key_id, "k2");
  // The documented derivation, and nothing of the secret or the hash key.
  EXPECT_EQ(checks[0].check, HexEncode(HmacSha256(kSecretA, "magiclink/v1/key-check")));
  EXPECT_EQ(checks[0].check.find(HexEncode(kSecretA)), std::string::npos);
  EXPECT_NE(checks[0].check, checks[1].check);

  EXPECT_OK(ring.CheckAgainst(checks));
  EXPECT_OK(ring.CheckAgainst({{"k9", "00"}}));  // ids it does not have: no conflict
  TokenKeyring other = *TokenKeyring::Create({{"k2", kSecretA}});
  absl::Status conflict = ring.CheckAgainst(other.KeyChecks());
  EXPECT_THAT(conflict, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(conflict.message().find("'k2'"), std::string::npos) << conflict;
}

TEST(KeyringTest, HashDependsOnTheSecret) {
  TokenKeyring a = *TokenKeyring::Create({{"k1", kSecretA}});
  TokenKeyring b = *TokenKeyring::Create({{"k1", kSecretB}});
  EXPECT_NE(a.HashForMinting("tok").hash, b.HashForMinting("tok").hash);
}

TEST(KeyringTest, RejectsBadKeySets) {
  EXPECT_THAT(TokenKeyring::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenKeyring::Create({{"k1", "short"}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenKeyring::Create({{"bad id", kSecretA}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenKeyring::Create({{"k1", kSecretA}, {"k1", kSecretB}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyringTest, SealedDataOpensUnderAnyConfiguredKeyOnly) {
  TokenKeyring old_ring = *TokenKeyring::Create({{"k1", kSecretA}});
  const std::string sealed = *old_ring.Seal("tokens", "batch");
  TokenKeyring rotated = *TokenKeyring::Create({{"k1", kSecretA}, {"k2", kSecretB}});
  EXPECT_EQ(*rotated.Open(sealed, "batch"), "tokens");
  TokenKeyring without_k1 = *TokenKeyring::Create({{"k2", kSecretB}});
  EXPECT_THAT(without_k1.Open(sealed, "batch"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(rotated.Open(sealed, "other batch"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(rotated.Open("", "batch"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(KeyringTest, RequestFingerprintsAreKeyedAndSurviveRotation) {
  const std::string content = "magiclink/v1/issue;6:invite;...";
  TokenKeyring old_ring = *TokenKeyring::Create({{"k1", kSecretA}});
  const std::string fingerprint = old_ring.FingerprintRequest(content);
  // An HMAC under a sub-key of the secret, not a bare hash: a copy of the
  // database cannot confirm a guess of what was sent.
  EXPECT_EQ(fingerprint,
            HmacSha256(HmacSha256(kSecretA, "magiclink/v1/request-fingerprint"), content));
  EXPECT_NE(fingerprint, Sha256(content));
  EXPECT_NE(fingerprint, HmacSha256(kSecretA, content));
  EXPECT_NE(fingerprint, TokenKeyring::Create({{"k1", kSecretB}})->FingerprintRequest(content));

  TokenKeyring rotated = *TokenKeyring::Create({{"k1", kSecretA}, {"k2", kSecretB}});
  EXPECT_NE(rotated.FingerprintRequest(content), fingerprint);  // the newest key fingerprints
  EXPECT_TRUE(rotated.MatchesRequestFingerprint(fingerprint, content));
  EXPECT_TRUE(rotated.MatchesRequestFingerprint(rotated.FingerprintRequest(content), content));
  EXPECT_FALSE(rotated.MatchesRequestFingerprint(fingerprint, content + "x"));
  EXPECT_FALSE(rotated.MatchesRequestFingerprint("", content));
  // Once k1 is gone, its fingerprints no longer match (its sealed replays
  // could not be opened either).
  EXPECT_FALSE(
      TokenKeyring::Create({{"k2", kSecretB}})->MatchesRequestFingerprint(fingerprint, content));
  // Rows stored before fingerprints were keyed still match within their window.
  EXPECT_TRUE(rotated.MatchesRequestFingerprint(Sha256(content), content));
  EXPECT_FALSE(rotated.MatchesRequestFingerprint(Sha256(content + "x"), content));
}

TEST(KeyringTest, ConsumeKeyHashIsBoundToTheToken) {
  EXPECT_EQ(HashConsumeKey("t1", "session"), HashConsumeKey("t1", "session"));
  EXPECT_NE(HashConsumeKey("t1", "session"), HashConsumeKey("t2", "session"));
  EXPECT_NE(HashConsumeKey("t1", "session"), HashConsumeKey("t1", "other"));
}

}  // namespace
}  // namespace magiclink
