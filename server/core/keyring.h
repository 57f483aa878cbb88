// The server's token keys: the one place that turns a token into what is
// stored (a keyed hash), that fingerprints a request_id's request and that
// seals the material an idempotent replay needs.
//
// Several keys may be configured. The newest (last) one mints; all of them
// verify, so a secret can rotate without voiding outstanding links.
//
//   absl::StatusOr<TokenKeyring> ring = TokenKeyring::Create({{"k1", secret}});
//   TokenHash h = ring->HashForMinting(token);           // stored with the row
//   std::vector<std::string> c = ring->CandidateHashes(token);  // looked up
#ifndef MAGICLINK_SERVER_CORE_KEYRING_H_
#define MAGICLINK_SERVER_CORE_KEYRING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/crypto.h"

namespace magiclink {

// Minimum length of a key's secret, in bytes.
inline constexpr size_t kMinKeySecretBytes = 32;

// One configured key.
struct TokenKey {
  std::string id;      // 1-32 characters of [A-Za-z0-9_-]; stored with each token.
  std::string secret;  // At least kMinKeySecretBytes random bytes.
};

// What the database records per key id so that replicas can tell whether they
// share a secret: derived from the secret, useless for hashing or sealing.
struct KeyCheck {
  std::string key_id;
  std::string check;  // lower-case hex of HMAC-SHA-256(secret, "magiclink/v1/key-check")

  bool operator==(const KeyCheck& other) const {
    return key_id == other.key_id && check == other.check;
  }
};

// What a token is stored as.
struct TokenHash {
  std::string key_id;
  std::string hash;  // 32 bytes.
};

// Immutable set of token keys; cheap to share by const reference.
class TokenKeyring {
 public:
  // Builds a keyring; the last key mints. INVALID_ARGUMENT for an empty list,
  // a malformed or repeated id, or a short secret.
  static absl::StatusOr<TokenKeyring> Create(std::vector<TokenKey> keys);

  // The keyed hash a new token is stored under (newest key).
  TokenHash HashForMinting(absl::string_view token) const;

  // The hash of `token` under every key, newest first: a stored token matches
  // exactly one of them.
  std::vector<std::string> CandidateHashes(absl::string_view token) const;

  // The fingerprint stored with a request_id's batch: HMAC-SHA-256 of the
  // request's content (IssueRequestContent) under the newest key, so a copy
  // of the database alone cannot confirm a guess of what was sent.
  std::string FingerprintRequest(absl::string_view content) const;

  // True when `stored` is the fingerprint of `content` under any configured
  // key (a retry may cross a key rotation), or the bare SHA-256 of `content`
  // that servers stored before fingerprints were keyed (such rows matter only
  // within the idempotency window after an upgrade). Compares in constant
  // time.
  bool MatchesRequestFingerprint(absl::string_view stored, absl::string_view content) const;

  // Every key's check value, oldest first.
  std::vector<KeyCheck> KeyChecks() const;

  // FAILED_PRECONDITION naming the first key whose id is in `recorded` with
  // another check value (another secret under the same id); OK otherwise.
  absl::Status CheckAgainst(const std::vector<KeyCheck>& recorded) const;

  // Encrypts `plaintext` (bound to `associated_data`) under the newest key.
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view associated_data) const;

  // Decrypts what Seal produced under any configured key; INVALID_ARGUMENT if
  // the key is gone or the data was altered.
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view associated_data) const;

 private:
  struct DerivedKey {
    std::string id;
    HmacSha256Key hash_key;       // HMAC key for token hashes.
    std::string seal_key;         // AES-256-GCM key for replay material.
    std::string fingerprint_key;  // HMAC key for request fingerprints.
    std::string check;            // KeyCheck::check
  };
  explicit TokenKeyring(std::vector<DerivedKey> keys) : keys_(std::move(keys)) {}

  std::vector<DerivedKey> keys_;  // Oldest first; never empty.
};

// Hashes a caller's consume_key under the token it is used with, so the stored
// value is useless without the token.
std::string HashConsumeKey(absl::string_view token, absl::string_view consume_key);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_KEYRING_H_
