// Where token and id randomness comes from. The server uses the system CSPRNG;
// tests inject a deterministic source (tests/testing/sequence_token_source.h)
// so their tokens are reproducible.
//
//   CsprngTokenSource source;
//   absl::StatusOr<std::string> token = source.NewToken();  // 43 URL-safe chars
//   absl::StatusOr<std::vector<std::string>> tokens = source.NewTokens(1000);
#ifndef MAGICLINK_SERVER_CORE_TOKEN_SOURCE_H_
#define MAGICLINK_SERVER_CORE_TOKEN_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace magiclink {

// Bytes of randomness in a token (256 bits) and in a batch id (128 bits).
inline constexpr size_t kTokenBytes = 32;
inline constexpr size_t kBatchIdBytes = 16;
// Length of a token's text form: base64url of kTokenBytes, unpadded.
inline constexpr size_t kTokenLength = 43;

// Produces random bytes for tokens and ids.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // Returns `n` random bytes.
  virtual absl::StatusOr<std::string> Bytes(size_t n) = 0;

  // Returns a new token: kTokenBytes random bytes as base64url text.
  absl::StatusOr<std::string> NewToken();
  // Returns `count` new tokens, as NewToken would, from one Bytes() call,
  // because the CSPRNG's cost is per call, not per byte.
  absl::StatusOr<std::vector<std::string>> NewTokens(size_t count);
  // Returns a new batch id: "b_" and kBatchIdBytes random bytes as base64url.
  absl::StatusOr<std::string> NewBatchId();
};

// The system CSPRNG (RAND_bytes).
class CsprngTokenSource final : public TokenSource {
 public:
  absl::StatusOr<std::string> Bytes(size_t n) override;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_TOKEN_SOURCE_H_
