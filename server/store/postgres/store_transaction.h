// One store call's work on a pooled connection, with a statement timeout that
// lives only as long as the transaction it is set in (SET LOCAL): nothing is
// left on the connection by the timeout. It records the name of each
// statement it runs, so a failure can be logged by statement name without
// the statement's text or values. Statements are sent as its StatementMode
// says (statements.h): named and prepared per connection, or unnamed with no
// state on the server session (behind pgbouncer pool_mode=transaction).
//
// Three ways to run statements:
//  - Autocommit(name, args...): the statement is a transaction of its own.
//    kPrepared: sent with its timeout in one round trip (one simple-protocol
//    message "SET LOCAL statement_timeout = N; EXECUTE name(...)", which
//    PostgreSQL runs as one implicit transaction). kUnnamed: EXECUTE needs a
//    statement prepared on the session, so it runs as "BEGIN; SET LOCAL ...",
//    the statement unnamed (exec_params), then COMMIT: three round trips, no
//    state left on the session. For calls of one statement.
//  - Statement / Params: statements of one transaction, begun with its
//    timeout on first use (one round trip) and ended by Commit() or, without
//    it, rolled back by the destructor.
//  - Read(name, args...) / ReadSql: a read-only statement alone, without the timeout
//    (reads wait for no row lock and change nothing).
//
//   StoreTransaction::Trace trace;
//   StoreTransaction tx(connection, StatementMode::kPrepared, absl::Milliseconds(900), &trace);
//   pqxx::result rows = tx.Autocommit(pgsql::kRevokeByBatch, batch_id, now_us);
//
// PostgreSQL cancels a statement that runs past the timeout (SQLSTATE 57014)
// and its transaction rolls back: nothing it did stays.
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "pqxx/connection"
#include "pqxx/nontransaction"
#include "pqxx/result"
#include "server/store/postgres/statements.h"

namespace magiclink {

class StoreTransaction {
 public:
  // What a transaction leaves behind for its caller, also when it ends in an
  // exception.
  struct Trace {
    // The statement running or last run ("begin" before any).
    const char* statement = "begin";
    // The transaction could not be rolled back: the connection may still be
    // inside it and must not be reused.
    bool unclean = false;
  };

  // Statements run through this object are sent as `mode` says and get
  // `statement_timeout` each (rounded up to whole milliseconds, at least 1).
  // Sends nothing yet.
  StoreTransaction(pqxx::connection& connection, StatementMode mode,
                   absl::Duration statement_timeout, Trace* trace);
  // Rolls back a transaction begun and not committed.
  ~StoreTransaction();
  StoreTransaction(const StoreTransaction&) = delete;
  StoreTransaction& operator=(const StoreTransaction&) = delete;

  // Runs the statement `name` (statements.h) as a transaction of its own.
  // Not inside a begun transaction. Arguments are strings or integers.
  template <typename... Args>
  pqxx::result Autocommit(const char* name, const Args&... args) {
    if (mode_ == StatementMode::kUnnamed) {
      pqxx::result result = Statement(name, args...);
      Commit();
      return result;
    }
    // Sent as quoted literals in one simple-protocol message.
    std::string sql = absl::StrCat(timeout_sql_, "; EXECUTE ", name);
    const char* separator = "(";
    ((absl::StrAppend(&sql, separator, tx_.quote(args)), separator = ", "), ...);
    if (sizeof...(args) > 0) sql.push_back(')');
    trace_->statement = name;
    // libpqxx prepares a statement on the server on its first exec_prepared;
    // EXECUTE inside a plain query needs it there already (a no-op after
    // the first time on this connection).
    tx_.conn().prepare_now(name);
    return tx_.exec(sql);
  }

  // Runs the read-only statement `name` (statements.h) on its own,
  // without the timeout: a read takes no row locks, so it never waits for a
  // writer, and it changes nothing whenever it ends. Setting the timeout
  // (an implicit transaction, SET LOCAL, EXECUTE parsed from text) measured
  // about twice the PostgreSQL CPU of a PEEK. Not inside a begun transaction.
  template <typename... Args>
  pqxx::result Read(const char* name, Args&&... args) {
    trace_->statement = name;
    return ExecStatement(tx_, mode_, name, std::forward<Args>(args)...);
  }

  // Runs the statement `name` (statements.h) in this transaction.
  template <typename... Args>
  pqxx::result Statement(const char* name, Args&&... args) {
    Begin();
    trace_->statement = name;
    return ExecStatement(tx_, mode_, name, std::forward<Args>(args)...);
  }

  // Runs `sql` with parameters, unprepared, in this transaction; `name`
  // names it in logs.
  template <typename... Args>
  pqxx::result Params(const char* name, const std::string& sql, Args&&... args) {
    Begin();
    trace_->statement = name;
    return tx_.exec_params(sql, std::forward<Args>(args)...);
  }

  // Runs the read-only `sql` (no parameters) on its own, like Read; `name`
  // names it in logs.
  pqxx::result ReadSql(const char* name, const std::string& sql);

  // Commits the transaction (if one was begun). Throws pqxx exceptions (a
  // lost connection here leaves the outcome unknown).
  void Commit();

 private:
  // Sends BEGIN and the timeout (one round trip) unless already begun.
  void Begin();

  pqxx::nontransaction tx_;
  const StatementMode mode_;
  Trace* const trace_;
  const std::string timeout_sql_;  // "SET LOCAL statement_timeout = N"
  bool open_ = false;
};

// The statement_timeout a transaction gets: the time left until `deadline`
// minus a reserve for carrying the answer back (a tenth of the time left, at
// most 100 ms), capped at `cap`. Zero or negative when no time is left.
absl::Duration StatementTimeoutFor(absl::Time deadline, absl::Time now, absl::Duration cap);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_
