#include "server/core/token_source.h"

#include <algorithm>
#include <cstdint>

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

namespace {

// The base64url alphabet in byte order: a string of these sorts like the
// numbers its characters encode.
constexpr char kSortedBase64Url[] =
    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
constexpr int kTimeChars = 8;     // 48 bits of milliseconds: until the year 10889
constexpr int kRandomChars = 14;  // 84 random bits
constexpr size_t kRandomBytes = 11;

}  // namespace

absl::StatusOr<std::string> TokenSource::NewBatchId(absl::Time created) {
  absl::StatusOr<std::string> bytes = Bytes(kRandomBytes);
  if (!bytes.ok()) return bytes.status();
  const uint64_t millis =
      static_cast<uint64_t>(std::max<int64_t>(0, absl::ToUnixMillis(created)));
  std::string id = "b_";
  id.reserve(2 + kTimeChars + kRandomChars);
  for (int shift = 6 * (kTimeChars - 1); shift >= 0; shift -= 6) {
    id.push_back(kSortedBase64Url[(millis >> shift) & 63]);
  }
  uint32_t pending = 0;  // bits of *bytes not yet written, the oldest first
  int pending_bits = 0;
  for (const unsigned char byte : *bytes) {
    pending = (pending << 8) | byte;
    pending_bits += 8;
    while (pending_bits >= 6 && id.size() < 2 + kTimeChars + kRandomChars) {
      pending_bits -= 6;
      id.push_back(kSortedBase64Url[(pending >> pending_bits) & 63]);
    }
    pending &= (1u << pending_bits) - 1;
  }
  return id;
}

absl::StatusOr<std::string> CsprngTokenSource::Bytes(size_t n) { return RandomBytes(n); }

}  // namespace magiclink
