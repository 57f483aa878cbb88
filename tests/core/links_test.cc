#include "server/core/links.h"

#include <gtest/gtest.h>

#include "server/core/token_source.h"
#include "tests/testing/sequence_token_source.h"
#include "tests/testing/status_matchers.h"

namespace magiclink {
namespace {

RedirectPolicy Policy(std::vector<std::string> prefixes) {
  return *RedirectPolicy::Create(std::move(prefixes));
}

TEST(LinksTest, PrefixesMatchOnlyOnABoundary) {
  RedirectPolicy dev = Policy(DevelopmentRedirectPrefixes());
  EXPECT_OK(dev.Check("http://localhost", 2048));
  EXPECT_OK(dev.Check("http://localhost:3000/welcome", 2048));
  EXPECT_OK(dev.Check("http://localhost/welcome?x=1", 2048));
  EXPECT_OK(dev.Check("http://127.0.0.1:8080/", 2048));
  EXPECT_FALSE(dev.Check("http://localhost.evil.example/", 2048).ok());
  EXPECT_FALSE(dev.Check("http://127.0.0.10/", 2048).ok());
  EXPECT_FALSE(dev.Check("https://localhost/", 2048).ok());
  // After a host prefix only a port may follow.
  EXPECT_OK(dev.Check("http://localhost:3000", 2048));
  EXPECT_OK(dev.Check("http://localhost:3000?x=1", 2048));
  for (const char* bad : {"http://localhost:evil.example/", "http://localhost:80.evil.example/",
                          "http://localhost:/x", "http://localhost:123456/",
                          "http://127.0.0.1:8080evil/"}) {
    EXPECT_FALSE(dev.Check(bad, 2048).ok()) << bad;
  }

  // A trailing '&' is a boundary in a query, not in a host.
  EXPECT_OK(Policy({"https://a.example/x?s=1&"}).Check("https://a.example/x?s=1&t=2", 2048));
  EXPECT_FALSE(Policy({"https://a.example&"}).Check("https://a.example&.evil.example/", 2048).ok());

  RedirectPolicy app = Policy({"https://app.example.com/invite"});
  EXPECT_OK(app.Check("https://app.example.com/invite/accept", 2048));
  EXPECT_FALSE(app.Check("https://app.example.com/invite-evil", 2048).ok());
  EXPECT_FALSE(app.Check("https://app.example.com/", 2048).ok());
}

TEST(LinksTest, RejectsDangerousUrlShapes) {
  RedirectPolicy dev = Policy(DevelopmentRedirectPrefixes());
  for (const char* bad : {"", "localhost/x", "javascript:alert(1)", "http://localhost:@evil.example/",
                          "http://localhost@evil.example/", "http://localhost/a b",
                          "http://localhost/#frag", "http://localhost\\@evil.example",
                          "http://localhost/\xC3\xA9", "http://localhost/\n"}) {
    EXPECT_THAT(dev.Check(bad, 2048), testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(LinksTest, NothingAfterAPrefixCanLeaveItOnceResolved) {
  RedirectPolicy auth = Policy({"http://localhost:3000/auth/"});
  EXPECT_OK(auth.Check("http://localhost:3000/auth/welcome", 2048));
  EXPECT_OK(auth.Check("http://localhost:3000/auth/a%20b/%41", 2048));
  for (const char* bad :
       {"http://localhost:3000/auth/../admin/steal", "http://localhost:3000/auth/%2e%2e/admin",
        "http://localhost:3000/auth/./../x", "http://localhost:3000/auth/%2E%2e/admin",
        "http://localhost:3000/auth/.%2E/admin", "http://localhost:3000/auth/./x",
        "http://localhost:3000/auth/x/.", "http://localhost:3000/auth/x/..",
        "http://localhost:3000/auth/..;jsessionid=1/admin",
        "http://localhost:3000/auth/%25%32%65./x", "http://localhost:3000/auth/..%2fadmin",
        "http://localhost:3000/auth/..%2Fadmin", "http://localhost:3000/auth/..%5cadmin",
        "http://localhost:3000/auth/..%5Cadmin", "http://localhost:3000/auth/..\\admin",
        "http://localhost:3000/auth/%252F"}) {
    EXPECT_THAT(auth.Check(bad, 2048), testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  // Not even where the prefix's host alone would allow it.
  EXPECT_FALSE(Policy(DevelopmentRedirectPrefixes()).Check("http://localhost/a/../b", 2048).ok());
  // The prefix match ends on a segment boundary.
  EXPECT_FALSE(
      Policy({"http://localhost:3000/auth"}).Check("http://localhost:3000/auth..", 2048).ok());
  EXPECT_FALSE(
      Policy({"http://localhost:3000/auth"}).Check("http://localhost:3000/auth%2fx", 2048).ok());
  EXPECT_FALSE(
      Policy({"http://localhost:3000/auth"}).Check("http://localhost:3000/auth;x", 2048).ok());
}

TEST(LinksTest, TheCallerCannotSupplyTheTokenParameter) {
  RedirectPolicy dev = Policy(DevelopmentRedirectPrefixes());
  for (const char* bad : {"http://localhost/w?token=ATTACKER", "http://localhost/w?x=1&token=a",
                          "http://localhost/w?ToKeN=a", "http://localhost/w?%74%6F%6B%65%6E=a",
                          "http://localhost/w?%2574oken=a", "http://localhost/w?token",
                          "http://localhost/w?token=", "http://localhost/w?token%5B%5D=a",
                          "http://localhost/w?x;token=a", "http://localhost/w?%20token=a"}) {
    EXPECT_THAT(dev.Check(bad, 2048), testing::StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_FALSE(CheckNoTokenParameter(bad).ok()) << bad;
  }
  EXPECT_OK(dev.Check("http://localhost/w?tokenx=a&x=token&a_token=1", 2048));
  // The link itself carries exactly one: its own.
  EXPECT_FALSE(CheckNoTokenParameter(BuildLink("http://localhost/w", "T")).ok());
}

TEST(LinksTest, EnforcesTheLengthLimit) {
  RedirectPolicy dev = Policy(DevelopmentRedirectPrefixes());
  const std::string url = "http://localhost/" + std::string(100, 'a');
  EXPECT_OK(dev.Check(url, url.size()));
  EXPECT_FALSE(dev.Check(url, url.size() - 1).ok());
}

TEST(LinksTest, RejectsMalformedPrefixesInConfiguration) {
  EXPECT_FALSE(RedirectPolicy::Create({"ftp://x"}).ok());
  EXPECT_FALSE(RedirectPolicy::Create({"https://user@x.example"}).ok());
  EXPECT_FALSE(RedirectPolicy::Create({"https://x.example/a/../b/"}).ok());
  EXPECT_FALSE(RedirectPolicy::Create({"https://x.example/a%2fb/"}).ok());
  EXPECT_FALSE(RedirectPolicy::Create({"https://x.example/a?token="}).ok());
}

TEST(LinksTest, BuildLinkAppendsTheTokenToTheQuery) {
  EXPECT_EQ(BuildLink("http://localhost/welcome", "T"), "http://localhost/welcome?token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?a=1", "T"), "http://localhost/w?a=1&token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?", "T"), "http://localhost/w?token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?a=1&", "T"), "http://localhost/w?a=1&token=T");
  // A '?' inside the query is part of a value, not a separator.
  EXPECT_EQ(BuildLink("http://localhost/?j=be?", "T"), "http://localhost/?j=be?&token=T");
}

TEST(LinksTest, RecognisesWellFormedTokens) {
  SequenceTokenSource source;
  const std::string token = *source.NewToken();
  EXPECT_EQ(token.size(), kTokenLength);
  EXPECT_TRUE(IsWellFormedToken(token));
  EXPECT_FALSE(IsWellFormedToken(token.substr(1)));
  EXPECT_FALSE(IsWellFormedToken(token + "A"));
  std::string bad = token;
  bad[5] = '+';
  EXPECT_FALSE(IsWellFormedToken(bad));
  EXPECT_FALSE(IsWellFormedToken(""));
}

}  // namespace
}  // namespace magiclink
