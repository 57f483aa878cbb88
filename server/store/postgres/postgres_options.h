// How the PostgreSQL store connects: the one place for these settings and
// their defaults. The config file fills Settings::postgres (server/config),
// and OpenTokenStore adds the URL and the observer before
// PostgresTokenStore::Open; tests build one directly.
//
//   PostgresOptions options;
//   options.url = "postgresql://magiclink@db.internal/magiclink";
//   options.pool_size = 16;
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_OPTIONS_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/observability/store_observer.h"

namespace magiclink {

struct PostgresOptions {
  // A libpq connection URL (postgresql://user:password@host:port/db?param=...)
  // or a key=value connection string. It may hold a password: it is never
  // logged or put in an error message. OpenTokenStore sets it from the
  // database URL it is given.
  std::string url;

  // Most connections the store opens. Calls beyond this many at once wait for
  // a free connection.
  int pool_size = 8;

  // Longest wait for a free connection. A call's own deadline (the
  // TokenStore methods' `deadline`) ends the wait earlier; either way the call fails
  // with UNAVAILABLE (reason STORE_UNAVAILABLE) instead of hanging.
  absl::Duration acquire_timeout = absl::Seconds(2);

  // Longest time to open one connection (libpq connect_timeout, whole
  // seconds, at least 2) unless the URL sets connect_timeout itself.
  absl::Duration connect_timeout = absl::Seconds(3);

  // After a failed connection attempt, calls that need a new connection fail
  // at once for this long instead of each waiting for a dead server; the
  // first call after it tries again, so the store recovers by itself.
  absl::Duration reconnect_backoff = absl::Milliseconds(200);

  // Most Verify CONSUME statements running at once (each on its own pooled
  // connection; at most pool_size). Consumes that arrive while this many run
  // wait and go together in the next statement, up to max_consume_batch calls
  // each: under load PostgreSQL runs one statement for many calls, at light
  // load every call runs at once and alone (PostgresTokenStore::ConsumeBatch).
  int consume_statements = 2;
  int max_consume_batch = 100;

  // The same for small IssueBatch calls (no request_id, no revoke_previous,
  // at most 100 recipients): at most insert_statements insert statements
  // run at once, and calls that arrive meanwhile go together in the next
  // one, up to max_insert_group calls: one transaction and one commit (WAL
  // flush) for all of them (PostgresTokenStore::InsertGroup).
  int insert_statements = 2;
  int max_insert_group = 100;

  // Attempts of a transaction that PostgreSQL aborted for a deadlock or a
  // serialization failure before the call fails with UNAVAILABLE (each within
  // the call's deadline; every such failure that reaches a caller is logged).
  int max_transaction_attempts = 3;

  // Send the store's statements as named prepared statements, prepared once
  // per connection (the fastest way on a direct connection). Set false
  // behind a transaction-pooling proxy (pgbouncer pool_mode=transaction,
  // before pgbouncer 1.21), where a connection's next transaction may run on
  // a server session that never saw its statements: every statement then
  // runs unnamed, parsed, bound and executed in one round trip, and the store
  // leaves no state on any session (docs/operators.md, "Poolers").
  bool prepared_statements = true;

  // Longest a statement may run (PostgreSQL statement_timeout, set per
  // transaction with SET LOCAL). A call's deadline shortens it to the time
  // left minus a reserve for the answer's way back, so a statement is
  // cancelled, and rolled back, before the caller gives up on it: a call
  // that fails has changed nothing. A statement cancelled for the call's
  // deadline answers DEADLINE_EXCEEDED, one cancelled at this cap UNAVAILABLE.
  absl::Duration statement_timeout = absl::Seconds(30);

  // TCP keepalives and tcp_user_timeout on every connection (libpq's
  // keepalives, keepalives_idle, keepalives_interval, keepalives_count,
  // tcp_user_timeout), unless the URL sets them: a connection whose peer
  // vanished (host down, network cut, a firewall dropped the flow) fails
  // within about keepalives_idle + keepalives_count * keepalives_interval
  // when idle, and within tcp_user_timeout when sent data stays
  // unacknowledged, instead of the kernel's default of about two hours.
  bool keepalives = true;
  absl::Duration keepalives_idle = absl::Seconds(10);
  absl::Duration keepalives_interval = absl::Seconds(3);
  int keepalives_count = 3;
  absl::Duration tcp_user_timeout = absl::Seconds(20);

  // Apply pending schema migrations in Open. When false, Open only checks
  // that the schema is current (for deployments that migrate in a separate
  // step with --migrate_only).
  bool migrate = true;

  // Told about the pool and the coalesced consume statements (metrics);
  // nullptr: nothing is observed. Must outlive the store. OpenTokenStore sets
  // it from the observer it is given.
  StoreObserver* observer = nullptr;
};

// INVALID_ARGUMENT naming the bad field; OK when `options` can be used.
absl::Status ValidatePostgresOptions(const PostgresOptions& options);

// The libpq connection string for `options.url` as key=value pairs, with
// connect_timeout, application_name and the keepalive settings added unless
// the URL sets them.
absl::StatusOr<std::string> BuildConninfo(const PostgresOptions& options);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_POSTGRES_OPTIONS_H_
