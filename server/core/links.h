// Redirect URLs and links: which redirect URLs are allowed, and the one place
// that turns a redirect URL and a token into the link that is mailed.
//
//   RedirectPolicy policy({"https://app.example.com/welcome"});
//   if (absl::Status s = policy.Check(url); s.ok()) {
//     std::string link = BuildLink(url, token);  // ...?token=<token>
//   }
#ifndef MAGICLINK_SERVER_CORE_LINKS_H_
#define MAGICLINK_SERVER_CORE_LINKS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink {

// The prefixes a development server allows when none are configured.
std::vector<std::string> DevelopmentRedirectPrefixes();

// Checks that `url` is an absolute http(s) URL without userinfo, fragment,
// backslash, spaces, control or non-ASCII characters, whose path a browser
// opens as written: no "." or ".." segment (also percent-encoded, in any
// case, at any encoding depth, or followed by ";..."), no encoded slash or
// backslash (%2F, %5C). INVALID_ARGUMENT says why.
absl::Status CheckUrlShape(absl::string_view url);

// Checks that `url` has no query parameter named "token" (in any case, with
// the name percent-encoded at any depth, or as "token[...]"): the link's own
// parameter, which BuildLink appends, must be the only one.
absl::Status CheckNoTokenParameter(absl::string_view url);

// Allowed redirect-URL prefixes. A URL matches a prefix only on a boundary:
// "http://localhost" allows "http://localhost:3000/x" and "http://localhost/x"
// but not "http://localhost.evil.example" nor "http://localhost:evil.example"
// (after a host, ':' must start a numeric port).
class RedirectPolicy {
 public:
  // INVALID_ARGUMENT when a prefix is itself not a well-formed URL (the same
  // checks as a redirect URL's, including the token parameter).
  static absl::StatusOr<RedirectPolicy> Create(std::vector<std::string> prefixes);

  // OK when `url` passes CheckUrlShape and CheckNoTokenParameter and starts
  // with an allowed prefix.
  absl::Status Check(absl::string_view url, size_t max_length) const;

  // True when `url` starts with `prefix` on a boundary.
  static bool MatchesPrefix(absl::string_view url, absl::string_view prefix);

  const std::vector<std::string>& prefixes() const { return prefixes_; }

 private:
  explicit RedirectPolicy(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {}
  std::vector<std::string> prefixes_;
};

// The link for `token`: `redirect_url` with "token=<token>" added to its query.
std::string BuildLink(absl::string_view redirect_url, absl::string_view token);

// True when `token` has the shape of a magiclink token (kTokenLength
// base64url characters encoding kTokenBytes bytes).
bool IsWellFormedToken(absl::string_view token);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_LINKS_H_
