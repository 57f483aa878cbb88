#include "server/store/token_rows.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace magiclink::token_rows {
namespace {

// The one state table: each state's filter code and condition. `{t}` stands
// for the table qualifier, `{now}` for the time.
struct StateRow {
  TokenState state;
  int code;
  const char* condition;
};
constexpr std::array<StateRow, 4> kStates = {{
    {TokenState::kOutstanding, 1,
     "{t}consumed_at IS NULL AND {t}revoked_at IS NULL AND {t}expires_at > {now}"},
    {TokenState::kConsumed, 2, "{t}consumed_at IS NOT NULL AND {t}revoked_at IS NULL"},
    {TokenState::kRevoked, 3, "{t}revoked_at IS NOT NULL"},
    {TokenState::kExpired, 4,
     "{t}consumed_at IS NULL AND {t}revoked_at IS NULL AND {t}expires_at <= {now}"},
}};

const StateRow& RowOf(TokenState state) {
  for (const StateRow& row : kStates) {
    if (row.state == state) return row;
  }
  return kStates[0];  // unreachable: every TokenState has a row
}

}  // namespace

std::string StateCondition(TokenState state, absl::string_view table, absl::string_view now) {
  const std::string qualifier = table.empty() ? "" : absl::StrCat(table, ".");
  return absl::StrReplaceAll(RowOf(state).condition, {{"{t}", qualifier}, {"{now}", now}});
}

int StateFilterCode(std::optional<TokenState> state) { return state ? RowOf(*state).code : 0; }

std::string StateFilterSql(absl::string_view code, absl::string_view table, absl::string_view now) {
  std::string sql = absl::StrCat("(", code, " = 0");
  for (const StateRow& row : kStates) {
    absl::StrAppend(&sql, " OR (", code, " = ", row.code, " AND ",
                    StateCondition(row.state, table, now), ")");
  }
  sql.push_back(')');
  return sql;
}

std::string CountsByStateSql(absl::string_view table, absl::string_view now) {
  std::string sql;
  for (TokenState state : {TokenState::kOutstanding, TokenState::kConsumed, TokenState::kRevoked,
                           TokenState::kExpired}) {
    absl::StrAppend(&sql, sql.empty() ? "" : ", ", "count(*) FILTER (WHERE ",
                    StateCondition(state, table, now), ")");
  }
  return sql;
}

}  // namespace magiclink::token_rows
