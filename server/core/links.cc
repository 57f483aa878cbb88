#include "server/core/links.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/core/crypto.h"
#include "server/core/token_source.h"

namespace magiclink {

namespace {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` with each %XX escape decoded once (and, for query parameter names,
// '+' as a space); a '%' not followed by two hex digits stays as it is.
std::string PercentDecodeOnce(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigitValue(text[i + 1]) >= 0 &&
        HexDigitValue(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(HexDigitValue(text[i + 1]) * 16 + HexDigitValue(text[i + 2])));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Every form `text` takes as it is percent-decoded again and again, as a
// chain of servers (a proxy, a framework, an application) may do: the text
// itself first, then each decoding until one changes nothing. Each decoding
// shortens the text, so there are at most text.size() / 2 + 1 forms.
std::vector<std::string> DecodedForms(absl::string_view text, bool plus_is_space) {
  std::vector<std::string> forms = {std::string(text)};
  while (true) {
    std::string next = PercentDecodeOnce(forms.back(), plus_is_space);
    if (next == forms.back()) return forms;
    forms.push_back(std::move(next));
  }
}

// The path and query of an http(s) URL that passed CheckUrlShape's scheme
// and authority checks; `query` is nullopt without a '?'.
struct PathAndQuery {
  absl::string_view path;
  std::optional<absl::string_view> query;
};

PathAndQuery SplitPathAndQuery(absl::string_view url) {
  const size_t scheme_end = url.find("://") + 3;
  const size_t path_start = std::min(url.find_first_of("/?", scheme_end), url.size());
  const size_t query_mark = url.find('?', path_start);
  PathAndQuery parts;
  parts.path = url.substr(path_start, query_mark - path_start);
  if (query_mark != absl::string_view::npos) parts.query = url.substr(query_mark + 1);
  return parts;
}

// A browser resolves "." and ".." segments before it sends the request
// (RFC 3986 section 5.2.4), and servers that decode before they normalise
// also resolve "%2e" forms, "%2f" / "%5c" as separators and "..;" (path
// parameters, as Tomcat reads them). Any of these could carry the URL out of
// the prefix it matched, so none is accepted, in any case or encoding depth.
absl::Status CheckPathStaysInPlace(absl::string_view path) {
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    for (const std::string& form : DecodedForms(segment, /*plus_is_space=*/false)) {
      if (form.find_first_of("/\\") != std::string::npos) {
        return absl::InvalidArgumentError(
            "path holds an encoded slash or backslash (%2F or %5C), which a server may read as a "
            "separator");
      }
      const absl::string_view name = absl::string_view(form).substr(0, form.find(';'));
      if (name == "." || name == "..") {
        return absl::InvalidArgumentError(
            "path holds a '.' or '..' segment (plain or percent-encoded), which a browser or "
            "server resolves to another path");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckNoTokenParameter(absl::string_view url) {
  const std::optional<absl::string_view> query = SplitPathAndQuery(url).query;
  if (!query) return absl::OkStatus();
  // Some frameworks also split parameters on ';' (Python before 3.9.2).
  for (absl::string_view parameter : absl::StrSplit(*query, absl::ByAnyChar("&;"))) {
    const absl::string_view name = parameter.substr(0, parameter.find('='));
    for (const std::string& form : DecodedForms(name, /*plus_is_space=*/true)) {
      const std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(form));
      // "token[]" and "token[x]" fill the same parameter in PHP and Rails.
      if (lower == "token" || absl::StartsWith(lower, "token[")) {
        return absl::InvalidArgumentError(
            "must not carry a 'token' query parameter: the link adds its own, and a landing page "
            "may read the first one");
      }
    }
  }
  return absl::OkStatus();
}

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
  return CheckPathStaysInPlace(SplitPathAndQuery(url).path);
}

absl::StatusOr<RedirectPolicy> RedirectPolicy::Create(std::vector<std::string> prefixes) {
  for (const std::string& prefix : prefixes) {
    absl::Status s = CheckUrlShape(prefix);
    if (s.ok()) s = CheckNoTokenParameter(prefix);
    if (!s.ok()) {
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
  if (absl::Status s = CheckNoTokenParameter(url); !s.ok()) return s;
  for (const std::string& prefix : prefixes_) {
    if (MatchesPrefix(url, prefix)) return absl::OkStatus();
  }
  return absl::InvalidArgumentError("does not start with an allowed redirect prefix");
}

std::string BuildLink(absl::string_view redirect_url, absl::string_view token) {
  // A '?' ends the URL as a separator only when it starts the query; a later
  // one is part of a value ("?next=/a?" needs "&token=").
  const size_t query_mark = redirect_url.find('?');
  absl::string_view separator = "&";
  if (query_mark == absl::string_view::npos) {
    separator = "?";
  } else if (query_mark + 1 == redirect_url.size() || redirect_url.back() == '&') {
    separator = "";
  }
  return absl::StrCat(redirect_url, separator, "token=", token);
}

bool IsWellFormedToken(absl::string_view token) {
  if (token.size() != kTokenLength) return false;
  std::optional<std::string> bytes = Base64UrlDecode(token);
  return bytes.has_value() && bytes->size() == kTokenBytes;
}

}  // namespace magiclink
