// The SQLite schema as ordered, versioned migrations.
#ifndef MAGICLINK_SERVER_STORE_SQLITE_MIGRATIONS_H_
#define MAGICLINK_SERVER_STORE_SQLITE_MIGRATIONS_H_

#include "absl/status/status.h"
#include "server/store/sqlite/sqlite_db.h"

namespace magiclink {

// Applies every migration newer than the file's schema version, each in its
// own BEGIN IMMEDIATE transaction, so two processes starting on one file
// apply each migration exactly once. FAILED_PRECONDITION when the file was
// written by a newer magiclink.
absl::Status ApplySqliteMigrations(SqliteDb& db);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_SQLITE_MIGRATIONS_H_
