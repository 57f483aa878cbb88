#include "server/core/links.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "server/core/token_source.h"

namespace magiclink {

std::vector<std::string> DevelopmentRedirectPrefixes() {
  return {"http://localhost", "http://127.0.0.1"};
}

absl::Status CheckUrlShape(absl::string_view url) {
  absl::string_view rest;
  if (absl::StartsWith(url, "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWith(url, "http://")) {
    rest = url.substr(7);
  } else {
    return absl::InvalidArgumentError("must start with http:// or https://");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7F) {
      return absl::InvalidArgumentError("contains a space, control or non-ASCII character");
    }
    if (c == '\\') return absl::InvalidArgumentError("contains a backslash");
    if (c == '#') return absl::InvalidArgumentError("must not contain a fragment ('#')");
  }
  const size_t authority_end = rest.find_first_of("/?");
  const absl::string_view authority = rest.substr(0, authority_end);
  if (authority.empty()) return absl::InvalidArgumentError("has no host");
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError("must not contain user information ('@')");
  }
  return absl::OkStatus();
}

absl::StatusOr<RedirectPolicy> RedirectPolicy::Create(std::vector<std::string> prefixes) {
  for (const std::string& prefix : prefixes) {
    if (absl::Status s = CheckUrlShape(prefix); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowed redirect prefix '", prefix, "' ", s.message()));
    }
  }
  return RedirectPolicy(std::move(prefixes));
}

bool RedirectPolicy::MatchesPrefix(absl::string_view url, absl::string_view prefix) {
  if (!absl::StartsWith(url, prefix)) return false;
  if (url.size() == prefix.size()) return true;
  const char last = prefix.back();
  if (last == '/' || last == '?') return true;
  // '&' closes a query parameter only inside a query, not in a host.
  if (last == '&' && prefix.find('?') != absl::string_view::npos) return true;
  const char next = url[prefix.size()];
  if (next == '/' || next == '?') return true;
  if (next != ':') return false;
  // Only a port may follow a host: "http://localhost:3000/x", never
  // "http://localhost:evil" or "https://app.example.com:443.evil.example".
  size_t end = prefix.size() + 1;
  while (end < url.size() && url[end] >= '0' && url[end] <= '9') ++end;
  const size_t digits = end - prefix.size() - 1;
  return digits >= 1 && digits <= 5 && (end == url.size() || url[end] == '/' || url[end] == '?');
}

absl::Status RedirectPolicy::Check(absl::string_view url, size_t max_length) const {
  if (url.empty()) return absl::InvalidArgumentError("is required");
  if (url.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat("exceeds ", max_length, " characters"));
  }
  if (absl::Status s = CheckUrlShape(url); !s.ok()) return s;
  for (const std::string& prefix : prefixes_) {
    if (MatchesPrefix(url, prefix)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError("does not start with an allowed redirect prefix");
}

std::string BuildLink(absl::string_view redirect_url, absl::string_view token) {
  absl::string_view separator = "?";
  if (redirect_url.find('?') != absl::string_view::npos) {
    const char last = redirect_url.back();
    separator = (last == '?' || last == '&') ? "" : "&";
  }
  return absl::StrCat(redirect_url, separator, "token=", token);
}

bool IsWellFormedToken(absl::string_view token) {
  if (token.size() != kTokenLength) return false;
  std::optional<std::string> bytes = Base64UrlDecode(token);
  return bytes.has_value() && bytes->size() == kTokenBytes;
}

}  // namespace magiclink
