#include "server/core/email.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

using testing::StatusIs;

TEST(EmailTest, TrimsAndLowerCasesOnlyTheDomain) {
  EXPECT_EQ(*NormalizeEmail("  Ann.Lee+tag@Example.COM\t", 254), "Ann.Lee+tag@example.com");
  EXPECT_EQ(*NormalizeEmail("o'brien@sub.example.co.uk", 254), "o'brien@sub.example.co.uk");
  EXPECT_EQ(*NormalizeEmail("x@xn--bcher-kva.example", 254), "x@xn--bcher-kva.example");
}

TEST(EmailTest, RejectsMalformedAddresses) {
  for (const char* bad : {"", "   ", "plain", "@example.com", "a@", "a@@example.com",
                          "a@b@example.com", ".a@example.com", "a.@example.com", "a..b@example.com",
                          "a b@example.com", "a@localhost", "a@-x.example.com", "a@x-.example.com",
                          "a@exa mple.com", "a@example..com", "a@example.com.", "\"a\"@example.com",
                          "a@exa_mple.com", "caf\xC3\xA9@example.com", "a@b\xC3\xBC.de",
                          "a\n@example.com"}) {
    EXPECT_THAT(NormalizeEmail(bad, 254), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(EmailTest, EnforcesLengthLimits) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(NormalizeEmail(local64 + "@example.com", 254).ok());
  EXPECT_FALSE(NormalizeEmail(local64 + "a@example.com", 254).ok());
  const std::string label63(63, 'b');
  EXPECT_TRUE(NormalizeEmail("a@" + label63 + ".com", 254).ok());
  EXPECT_FALSE(NormalizeEmail("a@" + label63 + "b.com", 254).ok());
  // Exactly at the configured total limit, and one past it.
  const std::string at_limit = "a@" + std::string(30, 'c') + ".com";  // 36 characters
  EXPECT_TRUE(NormalizeEmail(at_limit, 36).ok());
  EXPECT_FALSE(NormalizeEmail(at_limit, 35).ok());
}

}  // namespace
}  // namespace magiclink
