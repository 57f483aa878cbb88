// Redirect checks and link building from arbitrary bytes: the input is split
// into an allowed prefix and a URL. Never crashes; an accepted URL really
// starts with the prefix, has no userinfo or fragment, and the built link is
// still an acceptable URL that starts with it and ends with the token.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "server/core/links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\n');
  const std::string prefix =
      split == std::string::npos ? "http://localhost" : input.substr(0, split);
  const std::string url = split == std::string::npos ? input : input.substr(split + 1);
  absl::StatusOr<magiclink::RedirectPolicy> policy = magiclink::RedirectPolicy::Create({prefix});
  if (!policy.ok()) return 0;
  if (!policy->Check(url, 2048).ok()) return 0;
  if (!absl::StartsWith(url, prefix) || !magiclink::CheckUrlShape(url).ok()) std::abort();
  // Whatever follows the prefix cannot change the host: the host part of the
  // URL is the prefix's host, optionally with a numeric port.
  const size_t scheme_end = url.find("://") + 3;
  const size_t host_end = url.find_first_of("/?", scheme_end);
  const std::string url_authority = url.substr(scheme_end, host_end - scheme_end);
  const size_t prefix_host_end = prefix.find_first_of("/?", scheme_end);
  const std::string prefix_authority =
      prefix.substr(scheme_end, prefix_host_end - scheme_end);
  if (url_authority != prefix_authority) {
    if (prefix_host_end != std::string::npos ||
        !absl::StartsWith(url_authority, prefix_authority + ":")) {
      std::abort();
    }
    for (char c : url_authority.substr(prefix_authority.size() + 1)) {
      if (c < '0' || c > '9') std::abort();
    }
  }
  const std::string token(43, 'A');
  const std::string link = magiclink::BuildLink(url, token);
  if (!absl::StartsWith(link, url) || !absl::EndsWith(link, "token=" + token) ||
      !magiclink::CheckUrlShape(link).ok()) {
    std::abort();
  }
  return 0;
}
