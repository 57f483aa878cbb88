#include "server/store/postgres/pg_errors.h"

#include <exception>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pqxx/except"
#include "server/core/errors.h"
#include "server/store/postgres/statements.h"

namespace magiclink {
namespace {

PgFailure Unavailable(absl::string_view message, bool connection_unusable) {
  return {StoreUnavailable(message), false, connection_unusable, ""};
}

PgFailure Internal(absl::string_view message) {
  // A connection that hit an unexpected error may be mid-protocol (e.g. in a
  // COPY): closing it is cheaper than reasoning about its state.
  return {ErrorWithReason(absl::StatusCode::kInternal, v1::INTERNAL, message), false, true, ""};
}

// `query` is what libpqxx reports as the failed query: a statement's name or
// SQL, which becomes its name (statements.h), or anything else, left out.
PgFailure Classify(absl::string_view operation, const std::string& state, absl::string_view query) {
  const absl::string_view statement = StatementName(query);
  const std::string where = absl::StrCat(" during ", operation, " (SQLSTATE ", state,
                                         statement.empty() ? "" : ", statement ", statement, ")");
  // Class 08: connection exception; 57P01-57P03: the server is shutting down
  // or starting; 25006: we are talking to a read-only standby (after a
  // failover): a new connection may reach the new primary.
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P") || state == "25006") {
    return Unavailable(absl::StrCat("PostgreSQL connection unusable", where), true);
  }
  // Class 53: out of disk, memory or connections.
  if (absl::StartsWith(state, "53")) {
    return Unavailable(absl::StrCat("PostgreSQL is out of resources", where), false);
  }
  // 57014: cancelled (statement_timeout or an operator).
  if (state == "57014") {
    return Unavailable(absl::StrCat("PostgreSQL cancelled the statement", where), false);
  }
  // 40001 serialization failure, 40P01 deadlock: the transaction was rolled
  // back and may simply be run again.
  if (state == "40001" || state == "40P01") {
    return {StoreUnavailable(absl::StrCat("PostgreSQL kept aborting the transaction", where)), true,
            false, ""};
  }
  PgFailure failure = Internal(absl::StrCat("PostgreSQL error", where));
  // A plain SQL error leaves the session usable once the transaction ends.
  failure.connection_unusable = false;
  return failure;
}

PgFailure FromSqlState(absl::string_view operation, const std::string& state,
                       absl::string_view query) {
  PgFailure failure = Classify(operation, state, query);
  failure.sqlstate = state;
  return failure;
}

}  // namespace

PgFailure ClassifyCurrentException(absl::string_view operation) {
  try {
    throw;
  } catch (const pqxx::broken_connection&) {
    return Unavailable(absl::StrCat("lost the PostgreSQL connection during ", operation), true);
  } catch (const pqxx::in_doubt_error&) {
    return Unavailable(absl::StrCat("lost the PostgreSQL connection while committing ", operation,
                                    "; the outcome is unknown"),
                       true);
  } catch (const pqxx::statement_completion_unknown&) {
    return Unavailable(absl::StrCat("PostgreSQL could not tell whether ", operation, " completed"),
                       true);
  } catch (const pqxx::serialization_failure&) {
    return FromSqlState(operation, "40001", "");
  } catch (const pqxx::deadlock_detected&) {
    return FromSqlState(operation, "40P01", "");
  } catch (const pqxx::sql_error& e) {
    return FromSqlState(operation, e.sqlstate(), e.query());
  } catch (const pqxx::failure&) {
    // libpqxx reports some server-side losses (e.g. a FATAL during shutdown
    // that arrives without a SQLSTATE) as a bare failure.
    return Unavailable(absl::StrCat("PostgreSQL failed during ", operation), true);
  } catch (const std::exception&) {
    return Internal(absl::StrCat("unexpected error during ", operation));
  } catch (...) {
    return Internal(absl::StrCat("unexpected error during ", operation));
  }
}

}  // namespace magiclink
