// How both stores map a stored token to the interface's values: the column
// order of a claims row and of a link row, one reader for each, and the one
// table of token states in SQL (the conditions of ListLinks' state filter
// and of GetBatch's counts). SQLite and PostgreSQL statements select the
// columns in this order and spell states with these conditions, so the two
// stores cannot drift apart. Nothing here knows a database driver: a store
// hands the readers its own row type, which needs
//
//   std::string Text(int column) const;
//   int64_t Int(int column) const;
//   std::optional<int64_t> OptionalInt(int column) const;  // nullopt: NULL
//   std::string Blob(int column) const;                     // "": NULL
//
//   absl::StatusOr<TokenClaims> claims = token_rows::ReadClaims(row);
//   std::string filter = token_rows::StateFilterSql("?3", "", "?4");
#ifndef MAGICLINK_SERVER_STORE_TOKEN_ROWS_H_
#define MAGICLINK_SERVER_STORE_TOKEN_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/core/errors.h"
#include "server/core/metadata.h"
#include "server/core/token_state.h"
#include "server/store/token_store.h"

namespace magiclink::token_rows {

// Column order of a row ReadClaims reads. Times are microseconds since the
// Unix epoch. A statement may select more columns after these.
enum ClaimsColumn {
  kClaimsBatchId,
  kClaimsPosition,
  kClaimsEmail,
  kClaimsPurpose,
  kClaimsMetadata,  // JSON object of strings
  kClaimsRedirectUrl,
  kClaimsIssuedAt,
  kClaimsExpiresAt,
  kClaimsConsumedAt,  // NULL: not consumed
  kClaimsRevokedAt,   // NULL: not revoked
  kClaimsConsumeKeyHash,
  kClaimsColumns,  // the number of columns above
};

// Column order of a row ReadLink reads.
enum LinkColumn {
  kLinkPosition,
  kLinkEmail,
  kLinkIssuedAt,
  kLinkExpiresAt,
  kLinkConsumedAt,
  kLinkRevokedAt,
};

// The claims in `row`; INTERNAL when its stored metadata is malformed.
template <typename Row>
absl::StatusOr<TokenClaims> ReadClaims(const Row& row) {
  TokenClaims c;
  c.batch_id = row.Text(kClaimsBatchId);
  c.position = static_cast<int>(row.Int(kClaimsPosition));
  c.email = row.Text(kClaimsEmail);
  c.purpose = row.Text(kClaimsPurpose);
  absl::StatusOr<Metadata> metadata = DecodeMetadataJson(row.Text(kClaimsMetadata));
  if (!metadata.ok()) {
    return ErrorWithReason(absl::StatusCode::kInternal, v1::INTERNAL,
                           "a stored token has malformed metadata");
  }
  c.metadata = *std::move(metadata);
  c.redirect_url = row.Text(kClaimsRedirectUrl);
  c.issued_at = absl::FromUnixMicros(row.Int(kClaimsIssuedAt));
  c.expires_at = absl::FromUnixMicros(row.Int(kClaimsExpiresAt));
  if (std::optional<int64_t> at = row.OptionalInt(kClaimsConsumedAt)) {
    c.consumed_at = absl::FromUnixMicros(*at);
  }
  if (std::optional<int64_t> at = row.OptionalInt(kClaimsRevokedAt)) {
    c.revoked_at = absl::FromUnixMicros(*at);
  }
  c.consume_key_hash = row.Blob(kClaimsConsumeKeyHash);
  return c;
}

// The link in `row`.
template <typename Row>
LinkRecord ReadLink(const Row& row) {
  LinkRecord l;
  l.position = static_cast<int>(row.Int(kLinkPosition));
  l.email = row.Text(kLinkEmail);
  l.issued_at = absl::FromUnixMicros(row.Int(kLinkIssuedAt));
  l.expires_at = absl::FromUnixMicros(row.Int(kLinkExpiresAt));
  if (std::optional<int64_t> at = row.OptionalInt(kLinkConsumedAt)) {
    l.consumed_at = absl::FromUnixMicros(*at);
  }
  if (std::optional<int64_t> at = row.OptionalInt(kLinkRevokedAt)) {
    l.revoked_at = absl::FromUnixMicros(*at);
  }
  return l;
}

// The SQL condition "the token is in `state` at `now`" (what core's StateAt
// decides for one token), over the token columns qualified by `table` ("t"
// or "" for unqualified) and with `now` an SQL expression comparable with
// expires_at (a parameter, or a conversion of one).
std::string StateCondition(TokenState state, absl::string_view table, absl::string_view now);

// The code ListLinks binds for its state filter: 0 for none, else one per
// state (StateFilterSql reads it).
int StateFilterCode(std::optional<TokenState> state);

// "(code = 0 OR (code = 1 AND <outstanding>) OR ...)": keeps the tokens in
// the state the filter code `code` (an SQL parameter) names at `now`.
std::string StateFilterSql(absl::string_view code, absl::string_view table, absl::string_view now);

// GetBatch's four counts of the tokens of `table` in a grouped query, in
// BatchSummary order (outstanding, consumed, revoked, expired) at `now`:
// "count(*) FILTER (WHERE <outstanding>), ...". A batch without tokens (a
// LEFT JOIN's row of NULLs) counts 0 in each.
std::string CountsByStateSql(absl::string_view table, absl::string_view now);

}  // namespace magiclink::token_rows

#endif  // MAGICLINK_SERVER_STORE_TOKEN_ROWS_H_
