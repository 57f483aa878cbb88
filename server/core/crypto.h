// Cryptographic primitives for magiclink, written only against the API that
// OpenSSL 3 and BoringSSL share, so the same code builds with either (the
// server links OpenSSL through gRPC; the crypto tests also run on BoringSSL).
//
// This is the one place that touches libcrypto. Example:
//
//   std::string key = magiclink::RandomBytes(32).value();
//   std::string mac = magiclink::HmacSha256(key, "message");
//   std::string text = magiclink::Base64UrlEncode(mac);
#ifndef MAGICLINK_SERVER_CORE_CRYPTO_H_
#define MAGICLINK_SERVER_CORE_CRYPTO_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink {

// Returns `n` bytes from the system CSPRNG, or INTERNAL if it fails.
absl::StatusOr<std::string> RandomBytes(size_t n);

// Returns the 32-byte HMAC-SHA-256 of `message` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view message);

// HMAC-SHA-256 under one fixed key whose key schedule is done once, for keys
// that hash many messages (every token of a batch): each Mac() resumes two
// saved digest states instead of setting up HMAC again. Equal to
// HmacSha256(key, message). Thread-safe; movable, not copyable.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(absl::string_view key);
  HmacSha256Key(HmacSha256Key&&) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&&) noexcept;
  ~HmacSha256Key();

  std::string Mac(absl::string_view message) const;

 private:
  struct State;  // the digest states after absorbing key ^ ipad and key ^ opad
  std::unique_ptr<State> state_;
};

// Returns the 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// Compares two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Encodes bytes as unpadded base64url (RFC 4648 section 5).
std::string Base64UrlEncode(absl::string_view bytes);

// Decodes unpadded base64url; nullopt for any character outside the alphabet,
// padding, or an impossible length.
std::optional<std::string> Base64UrlDecode(absl::string_view text);

// Encodes bytes as lower-case hex.
std::string HexEncode(absl::string_view bytes);

// Decodes hex (either case); nullopt when malformed.
std::optional<std::string> HexDecode(absl::string_view text);

// AES-256-GCM: returns nonce(12) || ciphertext || tag(16). `key` must be 32
// bytes; `associated_data` is authenticated but not encrypted.
absl::StatusOr<std::string> AesGcmSeal(absl::string_view key, absl::string_view plaintext,
                                       absl::string_view associated_data);

// Opens what AesGcmSeal produced; INVALID_ARGUMENT (nothing more specific, by
// design) when the key, data or associated data do not match.
absl::StatusOr<std::string> AesGcmOpen(absl::string_view key, absl::string_view sealed,
                                       absl::string_view associated_data);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_CRYPTO_H_
