// What is known about a stored token, its state at a given time, and the rule
// that says why a token cannot be used. Stores return TokenClaims; the rules
// here decide what they mean, so every store answers the same way.
//
//   TokenState s = StateAt(claims, now);
//   absl::Status why = CheckUsable(claims, now, "invite");  // e.g. TOKEN_EXPIRED
#ifndef MAGICLINK_SERVER_CORE_TOKEN_STATE_H_
#define MAGICLINK_SERVER_CORE_TOKEN_STATE_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/core/metadata.h"

namespace magiclink {

// A link's state at a point in time.
enum class TokenState { kOutstanding, kConsumed, kRevoked, kExpired };

// Everything stored about one token except its hash.
struct TokenClaims {
  std::string batch_id;
  int position = 0;  // index of the recipient in the issuing request
  std::string email;
  std::string purpose;
  Metadata metadata;
  std::string redirect_url;
  absl::Time issued_at;
  absl::Time expires_at;
  std::optional<absl::Time> consumed_at;
  std::optional<absl::Time> revoked_at;
  // HashConsumeKey() of the consume_key of the successful CONSUME, if any.
  std::string consume_key_hash;
};

// The state of a token at `now`. A token is usable strictly before
// expires_at: at expires_at exactly it is expired.
TokenState StateAt(const TokenClaims& claims, absl::Time now);
// The same from the three timestamps that decide it.
TokenState StateAt(absl::Time expires_at, const std::optional<absl::Time>& consumed_at,
                   const std::optional<absl::Time>& revoked_at, absl::Time now);

// Why a token that was not consumed cannot be used at `now`: PURPOSE_MISMATCH
// (checked first, so a wrong purpose reveals nothing else), TOKEN_REVOKED,
// TOKEN_ALREADY_USED or TOKEN_EXPIRED, all FAILED_PRECONDITION. OK when the
// token is usable.
absl::Status CheckUsable(const TokenClaims& claims, absl::Time now,
                         absl::string_view expected_purpose);

// True when a CONSUME carrying `consume_key_hash` repeats the successful
// CONSUME of this token within `grace` of it, and so gets the original answer.
bool IsGraceRepeat(const TokenClaims& claims, absl::string_view consume_key_hash,
                   absl::Time now, absl::Duration grace);

// The answer for a token that this call did not consume: PURPOSE_MISMATCH
// first; then OK for a grace repeat (see IsGraceRepeat); otherwise
// CheckUsable(). PEEK and CONSUME share it, so a PEEK fails exactly as a
// CONSUME would.
absl::Status CheckVerify(const TokenClaims& claims, absl::Time now,
                         absl::string_view expected_purpose, absl::string_view consume_key_hash,
                         absl::Duration grace);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_TOKEN_STATE_H_
