// Crypto primitives. Built twice: against OpenSSL (crypto_test) and against
// BoringSSL (crypto_boringssl_test), since the module targets their shared API.
#include "server/core/crypto.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

TEST(CryptoTest, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, PrecomputedHmacKeyMatchesRfc4231AndOneShotHmac) {
  EXPECT_EQ(HexEncode(HmacSha256Key("Jefe").Mac("what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231 test case 6: a 131-byte key is hashed first.
  EXPECT_EQ(HexEncode(HmacSha256Key(std::string(131, '\xaa'))
                          .Mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  const std::string key(64, 'k');
  const HmacSha256Key precomputed(key);
  for (const std::string& message : {std::string(), std::string("a"), std::string(200, 'm')}) {
    EXPECT_EQ(precomputed.Mac(message), HmacSha256(key, message));
    EXPECT_EQ(precomputed.Mac(message), precomputed.Mac(message));  // no state carried over
  }
}

TEST(CryptoTest, Sha256MatchesKnownDigest) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, RandomBytesAreFreshEachCall) {
  absl::StatusOr<std::string> a = RandomBytes(32);
  absl::StatusOr<std::string> b = RandomBytes(32);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

TEST(CryptoTest, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(CryptoTest, Base64UrlMatchesRfc4648Vectors) {
  // RFC 4648 section 10, with the URL alphabet and no padding.
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(CryptoTest, Base64UrlRoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 7) {
    const std::string data = all.substr(0, len);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)), data) << len;
  }
}

TEST(CryptoTest, Base64UrlDecodeRejectsMalformedText) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());     // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());    // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("Zm 9").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zg=").has_value());     // partial padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v\n").has_value());  // trailing line break
  EXPECT_FALSE(Base64UrlDecode(" Zm9v").has_value());   // leading space
  EXPECT_EQ(Base64UrlDecode("Zm9vYg"), "foob");
}

TEST(CryptoTest, HexRoundTripsAndRejectsMalformed) {
  EXPECT_EQ(HexDecode("00ff7A"), std::string("\x00\xff\x7a", 3));
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_FALSE(HexDecode(" a").has_value());
  EXPECT_FALSE(HexDecode("0x").has_value());
  EXPECT_EQ(HexDecode(""), "");
  EXPECT_EQ(HexEncode(std::string("\x00\xab", 2)), "00ab");
}

TEST(CryptoTest, AesGcmRoundTripsAndDetectsTampering) {
  const std::string key(32, 'k');
  absl::StatusOr<std::string> sealed = AesGcmSeal(key, "secret tokens", "batch-1");
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find("secret tokens"), std::string::npos);
  absl::StatusOr<std::string> opened = AesGcmOpen(key, *sealed, "batch-1");
  ASSERT_OK(opened);
  EXPECT_EQ(*opened, "secret tokens");

  EXPECT_THAT(AesGcmOpen(key, *sealed, "batch-2"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  std::string tampered = *sealed;
  tampered[14] ^= 1;
  EXPECT_THAT(AesGcmOpen(key, tampered, "batch-1"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AesGcmOpen(std::string(32, 'x'), *sealed, "batch-1"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AesGcmOpen(key, "short", "batch-1"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CryptoTest, AesGcmUsesAFreshNonceEachTime) {
  const std::string key(32, 'k');
  EXPECT_NE(*AesGcmSeal(key, "same", ""), *AesGcmSeal(key, "same", ""));
}

TEST(CryptoTest, AesGcmRejectsWrongKeySize) {
  EXPECT_THAT(AesGcmSeal("short", "x", ""), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace magiclink
