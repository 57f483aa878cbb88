#include "server/core/callers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/core/crypto.h"
#include "server/core/errors.h"
#include "tests/testing/reason_matchers.h"

namespace magiclink {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::StatusIs;

std::string Digest(const std::string& key) { return Sha256(key); }

CallerEntry Entry(const std::string& name, std::vector<std::string> keys,
                  std::vector<std::string> identities = {}) {
  CallerEntry e;
  e.caller.name = name;
  e.caller.scopes = {Scope::kRead};
  for (const std::string& k : keys) e.api_key_sha256.push_back(Digest(k));
  e.tls_identities = std::move(identities);
  return e;
}

TEST(ScopeTest, NamesRoundTrip) {
  for (Scope s : {Scope::kIssue, Scope::kVerify, Scope::kRevoke, Scope::kRead}) {
    EXPECT_EQ(ParseScope(ScopeName(s)), s);
  }
  EXPECT_EQ(ParseScope("admin"), std::nullopt);
  EXPECT_EQ(ParseScope("Issue"), std::nullopt);
}

TEST(CallerTest, RequireScopePurposeAndRedirect) {
  Caller c;
  c.name = "web";
  c.scopes = {Scope::kVerify};
  c.allowed_purposes = {"login"};
  c.allowed_redirect_prefixes = {"https://app.example.com/auth"};
  EXPECT_OK(RequireScope(c, Scope::kVerify));
  EXPECT_THAT(RequireScope(c, Scope::kIssue),
              StatusIs(absl::StatusCode::kPermissionDenied, magiclink::v1::SCOPE_NOT_GRANTED));
  EXPECT_OK(RequirePurpose(c, "login", "purpose"));
  EXPECT_THAT(RequirePurpose(c, "invite", "purpose"),
              StatusIs(absl::StatusCode::kPermissionDenied, magiclink::v1::PURPOSE_NOT_ALLOWED));
  EXPECT_OK(RequireRedirect(c, "https://app.example.com/auth/callback"));
  EXPECT_OK(RequireRedirect(c, "https://app.example.com/auth?x=1"));
  // Prefixes match on a boundary only.
  EXPECT_THAT(RequireRedirect(c, "https://app.example.com/authx"),
              StatusIs(absl::StatusCode::kPermissionDenied, magiclink::v1::REDIRECT_NOT_ALLOWED));
  EXPECT_THAT(RequireRedirect(c, "https://app.example.com.evil.io/auth"),
              StatusIs(absl::StatusCode::kPermissionDenied, magiclink::v1::REDIRECT_NOT_ALLOWED));
}

TEST(CallerTest, UnrestrictedAllowsEverything) {
  Caller c = Caller::Unrestricted("local");
  for (Scope s : {Scope::kIssue, Scope::kVerify, Scope::kRevoke, Scope::kRead}) {
    EXPECT_TRUE(c.HasScope(s));
  }
  EXPECT_FALSE(c.RestrictsPurposes());
  EXPECT_TRUE(c.AllowsRedirect("https://anything.example/"));
}

TEST(CallerDirectoryTest, RejectsInvalidEntries) {
  auto bad = [](CallerEntry e) { return CallerDirectory::Create({std::move(e)}).status(); };
  CallerEntry no_scope = Entry("a", {"k"});
  no_scope.caller.scopes.clear();
  EXPECT_THAT(bad(no_scope), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad(Entry("a", {})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad(Entry("bad name", {"k"})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad(Entry("", {"k"})), StatusIs(absl::StatusCode::kInvalidArgument));
  CallerEntry short_hash = Entry("a", {});
  short_hash.api_key_sha256 = {"abc"};
  EXPECT_THAT(bad(short_hash), StatusIs(absl::StatusCode::kInvalidArgument));
  CallerEntry bad_purpose = Entry("a", {"k"});
  bad_purpose.caller.allowed_purposes = {"Invite!"};
  EXPECT_THAT(bad(bad_purpose), StatusIs(absl::StatusCode::kInvalidArgument));
  CallerEntry bad_prefix = Entry("a", {"k"});
  bad_prefix.caller.allowed_redirect_prefixes = {"ftp://x"};
  EXPECT_THAT(bad(bad_prefix), StatusIs(absl::StatusCode::kInvalidArgument));
  // A caller's prefixes follow the redirect rules too.
  for (const char* prefix : {"https://a.example/auth/../admin/", "https://a.example/a%2Fb/",
                             "https://a.example/auth?TOKEN="}) {
    bad_prefix.caller.allowed_redirect_prefixes = {prefix};
    EXPECT_THAT(bad(bad_prefix), StatusIs(absl::StatusCode::kInvalidArgument)) << prefix;
  }
  CallerEntry needs_cert = Entry("a", {"k"});
  needs_cert.require_client_certificate = true;
  EXPECT_THAT(bad(needs_cert), StatusIs(absl::StatusCode::kInvalidArgument));

  EXPECT_THAT(CallerDirectory::Create({Entry("a", {"k1"}), Entry("a", {"k2"})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CallerDirectory::Create({Entry("a", {"k"}), Entry("b", {"k"})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      CallerDirectory::Create({Entry("a", {}, {"x.internal"}), Entry("b", {}, {"x.internal"})}),
      StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CallerDirectoryTest, EmptyDirectoryIsTheUnrestrictedLocalCaller) {
  CallerDirectory none;
  absl::StatusOr<Caller> c = none.Authenticate(std::string("anything"), {});
  ASSERT_OK(c);
  EXPECT_EQ(c->name, "local");
  EXPECT_TRUE(c->HasScope(Scope::kIssue));
}

TEST(CallerDirectoryTest, AuthenticatesByKeyOrCertificate) {
  CallerEntry ops = Entry("ops", {"ops-key"}, {"ops.internal"});
  ops.require_client_certificate = true;
  absl::StatusOr<CallerDirectory> dir =
      CallerDirectory::Create({Entry("billing", {"old-key", "new-key"}, {"billing.internal"}),
                               Entry("web", {"web-key"}), ops});
  ASSERT_OK(dir);
  EXPECT_EQ(dir->Authenticate(std::string("old-key"), {})->name, "billing");
  EXPECT_EQ(dir->Authenticate(std::string("new-key"), {})->name, "billing");
  EXPECT_EQ(dir->Authenticate(std::string("web-key"), {})->name, "web");
  EXPECT_EQ(dir->Authenticate(std::nullopt, {"billing.internal"})->name, "billing");
  EXPECT_EQ(dir->Authenticate(std::string("new-key"), {"billing.internal"})->name, "billing");
  EXPECT_EQ(dir->Authenticate(std::string("ops-key"), {"ops.internal"})->name, "ops");

  const auto unauthenticated = StatusIs(absl::StatusCode::kUnauthenticated, magiclink::v1::UNAUTHENTICATED);
  EXPECT_THAT(dir->Authenticate(std::nullopt, {}), unauthenticated);
  EXPECT_THAT(dir->Authenticate(std::string("nope"), {}), unauthenticated);
  EXPECT_THAT(dir->Authenticate(std::nullopt, {"unknown.internal"}), unauthenticated);
  // A valid key does not excuse a certificate of another caller.
  EXPECT_THAT(dir->Authenticate(std::string("web-key"), {"billing.internal"}), unauthenticated);
  // One certificate naming two callers is ambiguous.
  EXPECT_THAT(dir->Authenticate(std::nullopt, {"billing.internal", "ops.internal"}),
              unauthenticated);
  // ops' key alone is not enough.
  EXPECT_THAT(dir->Authenticate(std::string("ops-key"), {}), unauthenticated);
  EXPECT_THAT(dir->Authenticate(std::string("nope-key-12345"), {}).status().message(),
              Not(HasSubstr("nope-key-12345")));
}

TEST(CallerDirectoryTest, ApiKeySha256HexMatchesSha256sum) {
  // printf %s 'secret' | sha256sum
  EXPECT_EQ(ApiKeySha256Hex("secret"),
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
}

}  // namespace
}  // namespace magiclink
