// What a libpqxx exception means for the caller: the one place that turns
// PostgreSQL failures into absl::Status. Messages name the operation, the
// SQLSTATE and the statement's name (statements.h), never its SQL or a value
// from it (pqxx messages quote the statement, and PostgreSQL's DETAIL lines
// quote key values).
//
//   try { ... } catch (...) {
//     PgFailure f = ClassifyCurrentException("ConsumeToken");
//     if (f.connection_unusable) lease.MarkBroken();
//     if (f.retry) continue;
//     return f.status;
//   }
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_PG_ERRORS_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_PG_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace magiclink {

struct PgFailure {
  // UNAVAILABLE (reason STORE_UNAVAILABLE) when retrying the call later may
  // succeed: connection lost, server shutting down or out of resources,
  // statement cancelled, outcome of a commit unknown, a read-only standby.
  // INTERNAL for anything else (a bug, a schema out of step).
  absl::Status status;
  // The transaction was rolled back by a deadlock or serialization failure:
  // running it again is safe and will likely succeed.
  bool retry = false;
  // The connection must not be reused.
  bool connection_unusable = false;
  // PostgreSQL's SQLSTATE, for logs; "" when the failure has none (e.g. a
  // lost connection).
  std::string sqlstate;
};

// Classifies the exception being handled. Call only inside a catch block.
// `operation` names what failed (e.g. "InsertBatch") in the message.
PgFailure ClassifyCurrentException(absl::string_view operation);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_PG_ERRORS_H_
