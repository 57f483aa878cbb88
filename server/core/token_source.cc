#include "server/core/token_source.h"

#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"

namespace magiclink {

absl::StatusOr<std::string> TokenSource::NewToken() {
  absl::StatusOr<std::string> bytes = Bytes(kTokenBytes);
  if (!bytes.ok()) return bytes.status();
  return Base64UrlEncode(*bytes);
}

absl::StatusOr<std::vector<std::string>> TokenSource::NewTokens(size_t count) {
  absl::StatusOr<std::string> bytes = Bytes(count * kTokenBytes);
  if (!bytes.ok()) return bytes.status();
  std::vector<std::string> tokens;
  tokens.reserve(count);
  const absl::string_view all = *bytes;
  for (size_t i = 0; i < count; ++i) {
    tokens.push_back(Base64UrlEncode(all.substr(i * kTokenBytes, kTokenBytes)));
  }
  return tokens;
}

absl::StatusOr<std::string> TokenSource::NewBatchId() {
  absl::StatusOr<std::string> bytes = Bytes(kBatchIdBytes);
  if (!bytes.ok()) return bytes.status();
  return absl::StrCat("b_", Base64UrlEncode(*bytes));
}

absl::StatusOr<std::string> CsprngTokenSource::Bytes(size_t n) { return RandomBytes(n); }

}  // namespace magiclink
