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
#include "absl/time/time.h"

namespace magiclink {

// Bytes of randomness in a token (256 bits).
inline constexpr size_t kTokenBytes = 32;
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
  // Returns a new batch id: "b_" and 22 base64url characters, the first 8
  // the Unix time of `created` in milliseconds, the other 14 random (84
  // bits). The characters are taken from the base64url alphabet in byte
  // order ("-0-9A-Z_a-z"), so ids compare as their creation times do in a
  // byte-wise (COLLATE "C") index: each new batch goes to the right edge of
  // batches_pkey and tokens_batch_position, pages that stay in memory,
  // instead of a random leaf of each (docs/performance.md, "The 10M table,
  // quiet"). An id says when its batch was made, as GetBatch does; it is a
  // name, not a secret (a token is the secret).
  absl::StatusOr<std::string> NewBatchId(absl::Time created);
};

// The system CSPRNG (RAND_bytes).
class CsprngTokenSource final : public TokenSource {
 public:
  absl::StatusOr<std::string> Bytes(size_t n) override;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_TOKEN_SOURCE_H_
