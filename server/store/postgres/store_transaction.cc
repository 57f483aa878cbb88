#include "server/store/postgres/store_transaction.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace magiclink {

namespace {

std::string TimeoutSql(absl::Duration statement_timeout) {
  const int64_t ms = std::max<int64_t>(
      1, absl::ToInt64Milliseconds(absl::Ceil(statement_timeout, absl::Milliseconds(1))));
  // SET LOCAL ends with the transaction; a plain SET would stay on the
  // (possibly shared) session.
  return absl::StrCat("SET LOCAL statement_timeout = ", ms);
}

}  // namespace

StoreTransaction::StoreTransaction(pqxx::connection& connection, StatementMode mode,
                                   absl::Duration statement_timeout, Trace* trace)
    : tx_(connection), mode_(mode), trace_(trace), timeout_sql_(TimeoutSql(statement_timeout)) {}

void StoreTransaction::Begin() {
  if (open_) return;
  trace_->statement = "begin";
  tx_.exec(absl::StrCat("BEGIN; ", timeout_sql_));
  open_ = true;
}

StoreTransaction::~StoreTransaction() {
  if (!open_) return;
  try {
    tx_.exec("ROLLBACK");
  } catch (...) {
    trace_->unclean = true;
  }
}

pqxx::result StoreTransaction::ReadSql(const char* name, const std::string& sql) {
  trace_->statement = name;
  return tx_.exec(sql);
}

void StoreTransaction::Commit() {
  if (!open_) return;
  trace_->statement = "commit";
  // Whatever happens now, a ROLLBACK cannot help: after a failed COMMIT the
  // transaction is over or the connection is gone.
  open_ = false;
  tx_.exec("COMMIT");
}

absl::Duration StatementTimeoutFor(absl::Time deadline, absl::Time now, absl::Duration cap) {
  const absl::Duration left = deadline - now;
  if (left <= absl::ZeroDuration()) return absl::ZeroDuration();
  const absl::Duration reserve = std::min(absl::Milliseconds(100), left / 10);
  return std::min(cap, left - reserve);
}

}  // namespace magiclink
