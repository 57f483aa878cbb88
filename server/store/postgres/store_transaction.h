// One store call's transaction on a pooled connection, with a statement
// timeout that lives only as long as the transaction (SET LOCAL): nothing is
// left on the connection, so it behaves the same behind a transaction-pooling
// proxy. It records the name of each statement it runs, so a failure can be
// logged by statement name without the statement's text or values.
//
//   StoreTransaction::Trace trace;
//   StoreTransaction tx(connection, absl::Milliseconds(900), &trace);
//   pqxx::result rows = tx.Prepared(pgsql::kRevokeByBatch, batch_id, now_us);
//   tx.Commit();  // without it, the destructor rolls back
//
// PostgreSQL cancels a statement that runs past the timeout (SQLSTATE 57014)
// and the transaction rolls back: nothing it did stays.
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "pqxx/connection"
#include "pqxx/nontransaction"
#include "pqxx/result"

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

  // Begins a transaction whose statements PostgreSQL cancels after
  // `statement_timeout` each (rounded up to whole milliseconds, at least 1).
  // One round trip. Throws pqxx exceptions.
  StoreTransaction(pqxx::connection& connection, absl::Duration statement_timeout, Trace* trace);
  // Rolls back unless committed.
  ~StoreTransaction();
  StoreTransaction(const StoreTransaction&) = delete;
  StoreTransaction& operator=(const StoreTransaction&) = delete;

  // Runs the prepared statement `name` (statements.h).
  template <typename... Args>
  pqxx::result Prepared(const char* name, Args&&... args) {
    trace_->statement = name;
    return tx_.exec_prepared(name, std::forward<Args>(args)...);
  }

  // Runs `sql` with parameters, unprepared; `name` names it in logs.
  template <typename... Args>
  pqxx::result Params(const char* name, const std::string& sql, Args&&... args) {
    trace_->statement = name;
    return tx_.exec_params(sql, std::forward<Args>(args)...);
  }

  // Runs `sql` without parameters; `name` names it in logs.
  pqxx::result Exec(const char* name, const std::string& sql);

  // Commits. Throws pqxx exceptions (a lost connection here leaves the
  // outcome unknown).
  void Commit();

 private:
  pqxx::nontransaction tx_;
  Trace* const trace_;
  bool open_ = false;
};

// The statement_timeout a transaction gets: the time left until `deadline`
// minus a reserve for carrying the answer back (a tenth of the time left, at
// most 100 ms), capped at `cap`. Zero or negative when no time is left.
absl::Duration StatementTimeoutFor(absl::Time deadline, absl::Time now, absl::Duration cap);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_STORE_TRANSACTION_H_
