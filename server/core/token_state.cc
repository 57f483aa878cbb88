#include "server/core/token_state.h"

#include "server/core/crypto.h"
#include "server/core/errors.h"

namespace magiclink {

TokenState StateAt(absl::Time expires_at, const std::optional<absl::Time>& consumed_at,
                   const std::optional<absl::Time>& revoked_at, absl::Time now) {
  if (revoked_at) return TokenState::kRevoked;
  if (consumed_at) return TokenState::kConsumed;
  if (now >= expires_at) return TokenState::kExpired;
  return TokenState::kOutstanding;
}

TokenState StateAt(const TokenClaims& claims, absl::Time now) {
  return StateAt(claims.expires_at, claims.consumed_at, claims.revoked_at, now);
}

absl::Status CheckUsable(const TokenClaims& claims, absl::Time now,
                         absl::string_view expected_purpose) {
  constexpr absl::StatusCode kState = absl::StatusCode::kFailedPrecondition;
  if (!expected_purpose.empty() && expected_purpose != claims.purpose) {
    return ErrorWithReason(kState, v1::PURPOSE_MISMATCH,
                           "the token was issued for a different purpose");
  }
  switch (StateAt(claims, now)) {
    case TokenState::kRevoked:
      return ErrorWithReason(kState, v1::TOKEN_REVOKED, "the token has been revoked");
    case TokenState::kConsumed:
      return ErrorWithReason(kState, v1::TOKEN_ALREADY_USED, "the token has already been used");
    case TokenState::kExpired:
      return ErrorWithReason(kState, v1::TOKEN_EXPIRED, "the token has expired");
    case TokenState::kOutstanding:
      break;
  }
  return absl::OkStatus();
}

bool IsGraceRepeat(const TokenClaims& claims, absl::string_view consume_key_hash,
                   absl::Time now, absl::Duration grace) {
  if (!claims.consumed_at || claims.revoked_at || consume_key_hash.empty() ||
      claims.consume_key_hash.empty()) {
    return false;
  }
  return now < *claims.consumed_at + grace &&
         ConstantTimeEquals(claims.consume_key_hash, consume_key_hash);
}

absl::Status CheckVerify(const TokenClaims& claims, absl::Time now,
                         absl::string_view expected_purpose, absl::string_view consume_key_hash,
                         absl::Duration grace) {
  if (!expected_purpose.empty() && expected_purpose != claims.purpose) {
    return CheckUsable(claims, now, expected_purpose);
  }
  if (IsGraceRepeat(claims, consume_key_hash, now, grace)) return absl::OkStatus();
  return CheckUsable(claims, now, expected_purpose);
}

}  // namespace magiclink
