// Redirect checks and link building from arbitrary bytes: the input is split
// into an allowed prefix and a URL. Never crashes; an accepted URL really
// starts with the prefix, has no userinfo or fragment, and the built link is
// still an acceptable URL that starts with it and ends with the token.
//
// And nothing after an allowed prefix can leave it once a browser resolves
// it: the accepted URL's path, read as a browser or a server that decodes
// before it normalises reads it (%2e as '.', %2f and %5c and '\' as '/',
// "..;" as "..", then RFC 3986 section 5.2.4 dot-segment removal), is the
// path as sent, so the prefix it matched is the prefix it opens. The link's
// only "token" parameter, read as a framework reads query names (decoded,
// any case), is the one BuildLink appended.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/core/links.h"

namespace {

// A reference reading written independently of links.cc.
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string DecodeAll(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && Hex(s[i + 1]) >= 0 && Hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(Hex(s[i + 1]) * 16 + Hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

// What a browser, or a server that decodes before normalising, makes of a
// path: split at '/', '\\', %2f and %5c; a segment that is "." or ".." once
// %2e is decoded (ignoring ";..." after it) resolved away; the rest kept as
// sent.
std::string BrowserPath(const std::string& path) {
  std::vector<std::string> segments(1);
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const std::string escape = absl::AsciiStrToLower(path.substr(i + 1, 2));
      if (escape == "2f" || escape == "5c") {
        segments.emplace_back();
        i += 2;
        continue;
      }
    }
    if (path[i] == '/' || path[i] == '\\') {
      segments.emplace_back();
      continue;
    }
    segments.back() += path[i];
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string name;
    const std::string& raw = segments[i];
    for (size_t j = 0; j < raw.size(); ++j) {
      if (raw[j] == '%' && j + 2 < raw.size() &&
          absl::AsciiStrToLower(raw.substr(j + 1, 2)) == "2e") {
        name += '.';
        j += 2;
      } else {
        name += raw[j];
      }
    }
    name = name.substr(0, name.find(';'));
    const bool last = i + 1 == segments.size();
    if (name == "." || name == "..") {
      if (name == ".." && out.size() > 1) out.pop_back();
      if (last) out.push_back("");
    } else {
      out.push_back(raw);
    }
  }
  return absl::StrJoin(out, "/");
}

}  // namespace

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
  // Nor the path, once resolved: it is the path as sent.
  const size_t path_start = host_end == std::string::npos ? url.size() : host_end;
  const size_t query_mark = url.find('?', path_start);
  const std::string path = url.substr(path_start, query_mark - path_start);
  if (BrowserPath(path) != path) std::abort();

  const std::string token(43, 'A');
  const std::string link = magiclink::BuildLink(url, token);
  if (!absl::StartsWith(link, url) || !absl::EndsWith(link, "token=" + token) ||
      !magiclink::CheckUrlShape(link).ok()) {
    std::abort();
  }
  // The link holds exactly one "token" parameter, however its names are read.
  const std::string query = link.substr(link.find('?') + 1);
  int tokens = 0;
  for (absl::string_view parameter : absl::StrSplit(query, absl::ByAnyChar("&;"))) {
    std::string name = std::string(parameter.substr(0, parameter.find('=')));
    for (int depth = 0; depth < 4; ++depth) name = DecodeAll(name);
    tokens += absl::AsciiStrToLower(absl::StripAsciiWhitespace(name)) == "token";
  }
  if (tokens != 1) std::abort();
  return 0;
}
