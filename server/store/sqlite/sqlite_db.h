// A thin RAII layer over the SQLite C API: one connection, cached prepared
// statements, and SQLite result codes turned into absl::Status. Not
// thread-safe: the owner serialises access.
//
//   absl::StatusOr<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path);
//   SqliteStatement* s = (*db)->Prepare("SELECT 1 WHERE ?1 = ?1").value();
//   s->BindInt(1, 7);
//   absl::StatusOr<bool> row = s->Step();
#ifndef MAGICLINK_SERVER_STORE_SQLITE_SQLITE_DB_H_
#define MAGICLINK_SERVER_STORE_SQLITE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink {

// Turns a SQLite result code into a status: busy, locked, I/O and open
// failures are UNAVAILABLE (retry later); the rest INTERNAL.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// A prepared statement, reset and unbound each time it is handed out.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() { sqlite3_finalize(stmt_); }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void BindText(int index, absl::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int index, absl::string_view value) {
    sqlite3_bind_blob(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int index) { sqlite3_bind_null(stmt_, index); }

  // Steps once: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done, for statements that return no rows.
  absl::Status Run();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;
  std::string Blob(int column) const;
  std::optional<int64_t> OptionalInt(int column) const {
    return IsNull(column) ? std::nullopt : std::optional<int64_t>(Int(column));
  }

  // Makes the statement ready for new bindings.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One SQLite connection.
class SqliteDb {
 public:
  // Opens (creating if needed) the database file with WAL journaling, a busy
  // timeout and foreign keys on.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        absl::Duration busy_timeout);
  ~SqliteDb();

  // Runs SQL that returns no rows (may hold several statements).
  absl::Status Exec(const std::string& sql);
  // Returns the cached prepared statement for `sql`, reset and unbound.
  absl::StatusOr<SqliteStatement*> Prepare(const std::string& sql);
  // Rows changed by the last statement.
  int64_t Changes() const { return sqlite3_changes64(db_); }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  absl::flat_hash_map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

// Runs a transaction: BEGIN IMMEDIATE (so the write lock is taken up front and
// two processes never deadlock upgrading), then COMMIT, or ROLLBACK if `body`
// fails.
template <typename Fn>
auto InTransaction(SqliteDb& db, Fn&& body) -> decltype(body()) {
  if (absl::Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto result = body();
  if (!result.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return result;
  }
  if (absl::Status s = db.Exec("COMMIT"); !s.ok()) {
    db.Exec("ROLLBACK").IgnoreError();
    return s;
  }
  return result;
}

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_SQLITE_SQLITE_DB_H_
