#include "server/core/email.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace magiclink {
namespace {

bool IsAtext(unsigned char c) {
  if (absl::ascii_isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '/': case '=': case '?': case '^': case '_': case '`': case '{': case '|':
    case '}': case '~': case '-':
      return true;
    default:
      return false;
  }
}

absl::Status CheckLocalPart(absl::string_view local) {
  if (local.empty()) return absl::InvalidArgumentError("the part before '@' is empty");
  if (local.size() > 64) return absl::InvalidArgumentError("the part before '@' exceeds 64 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != absl::string_view::npos) {
    return absl::InvalidArgumentError("the part before '@' has a misplaced '.'");
  }
  for (unsigned char c : local) {
    if (c != '.' && !IsAtext(c)) {
      return absl::InvalidArgumentError(
          c >= 0x80 ? "non-ASCII addresses are not supported"
                    : "the part before '@' contains a character that is not allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDomain(absl::string_view domain) {
  if (domain.empty()) return absl::InvalidArgumentError("the domain is empty");
  if (domain.size() > 253) return absl::InvalidArgumentError("the domain exceeds 253 characters");
  size_t labels = 0;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t end = domain.find('.', start);
    if (end == absl::string_view::npos) end = domain.size();
    const absl::string_view label = domain.substr(start, end - start);
    if (label.empty() || label.size() > 63) {
      return absl::InvalidArgumentError("the domain has an empty or over-long label");
    }
    if (label.front() == '-' || label.back() == '-') {
      return absl::InvalidArgumentError("a domain label starts or ends with '-'");
    }
    for (unsigned char c : label) {
      if (!absl::ascii_isalnum(c) && c != '-') {
        return absl::InvalidArgumentError(
            c >= 0x80 ? "non-ASCII domains are not supported (use the xn-- form)"
                      : "the domain contains a character that is not allowed");
      }
    }
    ++labels;
    start = end + 1;
  }
  if (labels < 2) return absl::InvalidArgumentError("the domain needs at least two labels");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw, size_t max_length) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(raw);
  if (trimmed.empty()) return absl::InvalidArgumentError("the address is empty");
  if (trimmed.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat("the address exceeds ", max_length, " characters"));
  }
  const size_t at = trimmed.find('@');
  if (at == absl::string_view::npos) return absl::InvalidArgumentError("the address has no '@'");
  if (trimmed.find('@', at + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError("the address has more than one '@'");
  }
  const absl::string_view local = trimmed.substr(0, at);
  const absl::string_view domain = trimmed.substr(at + 1);
  if (absl::Status s = CheckLocalPart(local); !s.ok()) return s;
  if (absl::Status s = CheckDomain(domain); !s.ok()) return s;
  return absl::StrCat(local, "@", absl::AsciiStrToLower(domain));
}

}  // namespace magiclink
