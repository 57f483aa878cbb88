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

TEST(LinksTest, EnforcesTheLengthLimit) {
  RedirectPolicy dev = Policy(DevelopmentRedirectPrefixes());
  const std::string url = "http://localhost/" + std::string(100, 'a');
  EXPECT_OK(dev.Check(url, url.size()));
  EXPECT_FALSE(dev.Check(url, url.size() - 1).ok());
}

TEST(LinksTest, RejectsMalformedPrefixesInConfiguration) {
  EXPECT_FALSE(RedirectPolicy::Create({"ftp://x"}).ok());
  EXPECT_FALSE(RedirectPolicy::Create({"https://user@x.example"}).ok());
}

TEST(LinksTest, BuildLinkAppendsTheTokenToTheQuery) {
  EXPECT_EQ(BuildLink("http://localhost/welcome", "T"), "http://localhost/welcome?token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?a=1", "T"), "http://localhost/w?a=1&token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?", "T"), "http://localhost/w?token=T");
  EXPECT_EQ(BuildLink("http://localhost/w?a=1&", "T"), "http://localhost/w?a=1&token=T");
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
