// Opens the TokenStore a database URL names: "sqlite:PATH" (the embedded
// default) or "postgresql://..." / "postgres://..." (production).
#ifndef MAGICLINK_SERVER_STORE_STORE_FACTORY_H_
#define MAGICLINK_SERVER_STORE_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/observability/store_observer.h"
#include "server/store/postgres/postgres_options.h"
#include "server/store/token_store.h"

namespace magiclink {

// Opens the store and applies pending schema migrations; with an observer
// (nullptr: none), the store reports to it (ObservedTokenStore). `postgres`
// applies to a PostgreSQL URL only: its url and observer fields are replaced
// by `url` and `observer`. INVALID_ARGUMENT for an unknown scheme; the URL's
// password never appears in an error.
absl::StatusOr<std::unique_ptr<TokenStore>> OpenTokenStore(const std::string& url,
                                                           const PostgresOptions& postgres,
                                                           StoreObserver* observer);

// The URL with any password replaced by "***", for logs.
std::string RedactDatabaseUrl(const std::string& url);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_STORE_FACTORY_H_
