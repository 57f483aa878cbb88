// Opens the TokenStore a database URL names: "sqlite:PATH" (the embedded
// default) or "postgresql://..." / "postgres://..." (production).
#ifndef MAGICLINK_SERVER_STORE_STORE_FACTORY_H_
#define MAGICLINK_SERVER_STORE_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/observability/store_observer.h"
#include "server/store/token_store.h"

namespace magiclink {

// Pool and timeout settings that only PostgreSQL uses.
struct StoreOptions {
  int pool_size = 8;
  absl::Duration acquire_timeout = absl::Seconds(2);
  absl::Duration connect_timeout = absl::Seconds(3);
  int consume_statements = 2;
  int max_consume_batch = 100;
  int insert_statements = 2;
  int max_insert_group = 100;
  bool prepared_statements = true;
  // Told what the store does (metrics); nullptr: nothing is observed.
  StoreObserver* observer = nullptr;
  // PostgreSQL statement timeout cap and TCP keepalives (PostgresOptions).
  absl::Duration statement_timeout = absl::Seconds(30);
  absl::Duration keepalives_idle = absl::Seconds(10);
  absl::Duration keepalives_interval = absl::Seconds(3);
  int keepalives_count = 3;
  absl::Duration tcp_user_timeout = absl::Seconds(20);
};

// Opens the store and applies pending schema migrations; with an observer,
// the store reports to it (ObservedTokenStore). INVALID_ARGUMENT for
// an unknown scheme; the URL's password never appears in an error.
absl::StatusOr<std::unique_ptr<TokenStore>> OpenTokenStore(const std::string& url,
                                                           const StoreOptions& options);

// The URL with any password replaced by "***", for logs.
std::string RedactDatabaseUrl(const std::string& url);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_STORE_FACTORY_H_
