#include "server/core/keyring.h"

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"

namespace magiclink {
namespace {

bool IsValidKeyId(absl::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<TokenKeyring> TokenKeyring::Create(std::vector<TokenKey> keys) {
  if (keys.empty()) return absl::InvalidArgumentError("at least one token key is required");
  absl::flat_hash_set<std::string> seen;
  std::vector<DerivedKey> derived;
  for (TokenKey& key : keys) {
    if (!IsValidKeyId(key.id)) {
      return absl::InvalidArgumentError(
          "token key ids are 1-32 characters of letters, digits, '_' and '-'");
    }
    if (!seen.insert(key.id).second) {
      return absl::InvalidArgumentError(absl::StrCat("token key id '", key.id, "' is repeated"));
    }
    if (key.secret.size() < kMinKeySecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("token key '", key.id, "' is shorter than ",
                                                     kMinKeySecretBytes, " bytes"));
    }
    // Independent sub-keys per use, derived with HMAC (HKDF is not in the API
    // OpenSSL and BoringSSL share).
    derived.push_back({key.id, HmacSha256Key(HmacSha256(key.secret, "magiclink/v1/token-hash")),
                       HmacSha256(key.secret, "magiclink/v1/replay-seal"),
                       HmacSha256(key.secret, "magiclink/v1/request-fingerprint"),
                       HexEncode(HmacSha256(key.secret, "magiclink/v1/key-check"))});
  }
  return TokenKeyring(std::move(derived));
}

TokenHash TokenKeyring::HashForMinting(absl::string_view token) const {
  const DerivedKey& key = keys_.back();
  return {key.id, key.hash_key.Mac(token)};
}

std::vector<std::string> TokenKeyring::CandidateHashes(absl::string_view token) const {
  std::vector<std::string> out;
  out.reserve(keys_.size());
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    out.push_back(it->hash_key.Mac(token));
  }
  return out;
}

std::string TokenKeyring::FingerprintRequest(absl::string_view content) const {
  return HmacSha256(keys_.back().fingerprint_key, content);
}

bool TokenKeyring::MatchesRequestFingerprint(absl::string_view stored,
                                             absl::string_view content) const {
  bool matched = ConstantTimeEquals(stored, Sha256(content));
  for (const DerivedKey& key : keys_) {
    matched |= ConstantTimeEquals(stored, HmacSha256(key.fingerprint_key, content));
  }
  return matched;
}

std::vector<KeyCheck> TokenKeyring::KeyChecks() const {
  std::vector<KeyCheck> out;
  out.reserve(keys_.size());
  for (const DerivedKey& key : keys_) out.push_back({key.id, key.check});
  return out;
}

absl::Status TokenKeyring::CheckAgainst(const std::vector<KeyCheck>& recorded) const {
  for (const DerivedKey& key : keys_) {
    for (const KeyCheck& other : recorded) {
      if (other.key_id == key.id && !ConstantTimeEquals(other.check, key.check)) {
        return absl::FailedPreconditionError(
            absl::StrCat("token key '", key.id,
                         "' has another secret than the key of that id the database records"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TokenKeyring::Seal(absl::string_view plaintext,
                                               absl::string_view associated_data) const {
  const DerivedKey& key = keys_.back();
  absl::StatusOr<std::string> sealed = AesGcmSeal(key.seal_key, plaintext, associated_data);
  if (!sealed.ok()) return sealed.status();
  // Layout: key id length (1 byte), key id, AES-GCM output.
  return absl::StrCat(std::string(1, static_cast<char>(key.id.size())), key.id, *sealed);
}

absl::StatusOr<std::string> TokenKeyring::Open(absl::string_view sealed,
                                               absl::string_view associated_data) const {
  if (sealed.empty()) return absl::InvalidArgumentError("sealed data is empty");
  const size_t id_len = static_cast<unsigned char>(sealed[0]);
  if (sealed.size() < 1 + id_len) return absl::InvalidArgumentError("sealed data is truncated");
  const absl::string_view id = sealed.substr(1, id_len);
  for (const DerivedKey& key : keys_) {
    if (key.id == id) return AesGcmOpen(key.seal_key, sealed.substr(1 + id_len), associated_data);
  }
  return absl::InvalidArgumentError("sealed under a key that is no longer configured");
}

std::string HashConsumeKey(absl::string_view token, absl::string_view consume_key) {
  return HmacSha256(token, absl::StrCat("magiclink/v1/consume-key/", consume_key));
}

}  // namespace magiclink
