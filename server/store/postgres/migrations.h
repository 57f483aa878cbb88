// The PostgreSQL schema as numbered migrations, and the one way they are
// applied: at start-up, in one transaction that first takes a
// transaction-scoped advisory lock, so replicas starting together apply each
// migration once and the others wait, then find nothing left to do.
//
//   absl::StatusOr<int> version = MigratePostgres(options);  // --migrate_only
#ifndef MAGICLINK_SERVER_STORE_POSTGRES_MIGRATIONS_H_
#define MAGICLINK_SERVER_STORE_POSTGRES_MIGRATIONS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pqxx/connection"
#include "server/store/postgres/postgres_options.h"

namespace magiclink {

// The schema version this binary reads and writes.
int LatestPostgresSchemaVersion();

// Applies every migration the database lacks and returns the schema version.
// FAILED_PRECONDITION when the database is newer than this binary;
// UNAVAILABLE when the connection fails.
absl::StatusOr<int> ApplyPostgresMigrations(pqxx::connection& connection);

// The schema version recorded in the database (0 for an empty database).
absl::StatusOr<int> CurrentPostgresSchemaVersion(pqxx::connection& connection);

// Connects with `options`, applies pending migrations and disconnects.
// Returns the schema version; UNAVAILABLE when PostgreSQL cannot be reached;
// FAILED_PRECONDITION when the database is newer than this binary.
absl::StatusOr<int> MigratePostgres(const PostgresOptions& options);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_POSTGRES_MIGRATIONS_H_
