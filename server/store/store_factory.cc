#include "server/store/store_factory.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/store/observed_token_store.h"
#include "server/store/sqlite/sqlite_token_store.h"
#ifdef MAGICLINK_WITH_POSTGRES
#include "server/store/postgres/postgres_token_store.h"
#endif

namespace magiclink {
namespace {

absl::StatusOr<std::unique_ptr<TokenStore>> OpenUnobserved(const std::string& url,
                                                           const StoreOptions& options) {
  if (absl::StartsWith(url, "sqlite:")) {
    const std::string path = url.substr(7);
    if (path.empty()) return absl::InvalidArgumentError("sqlite: URL needs a file path");
    absl::StatusOr<std::unique_ptr<SqliteTokenStore>> store = SqliteTokenStore::Open(path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<TokenStore>(*std::move(store));
  }
  if (absl::StartsWith(url, "postgresql://") || absl::StartsWith(url, "postgres://")) {
#ifdef MAGICLINK_WITH_POSTGRES
    PostgresOptions postgres;
    postgres.url = url;
    postgres.pool_size = options.pool_size;
    postgres.acquire_timeout = options.acquire_timeout;
    postgres.connect_timeout = options.connect_timeout;
    postgres.consume_statements = options.consume_statements;
    postgres.max_consume_batch = options.max_consume_batch;
    postgres.insert_statements = options.insert_statements;
    postgres.max_insert_group = options.max_insert_group;
    postgres.prepared_statements = options.prepared_statements;
    postgres.observer = options.observer;
    postgres.statement_timeout = options.statement_timeout;
    postgres.keepalives_idle = options.keepalives_idle;
    postgres.keepalives_interval = options.keepalives_interval;
    postgres.keepalives_count = options.keepalives_count;
    postgres.tcp_user_timeout = options.tcp_user_timeout;
    absl::StatusOr<std::unique_ptr<PostgresTokenStore>> store = PostgresTokenStore::Open(postgres);
    if (!store.ok()) return store.status();
    return std::unique_ptr<TokenStore>(*std::move(store));
#else
    return absl::UnimplementedError("this magiclinkd was built without PostgreSQL support");
#endif
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "database URL must start with sqlite: or postgresql:// (got ", RedactDatabaseUrl(url), ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenStore>> OpenTokenStore(const std::string& url,
                                                           const StoreOptions& options) {
  absl::StatusOr<std::unique_ptr<TokenStore>> store = OpenUnobserved(url, options);
  if (!store.ok() || options.observer == nullptr) return store;
  return std::unique_ptr<TokenStore>(
      std::make_unique<ObservedTokenStore>(*std::move(store), *options.observer));
}

std::string RedactDatabaseUrl(const std::string& url) {
  // scheme://user:password@host... -> scheme://user:***@host...
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  const size_t at = url.find('@', scheme_end + 3);
  if (at == std::string::npos) return url;
  const size_t colon = url.find(':', scheme_end + 3);
  if (colon == std::string::npos || colon > at) return url;
  return absl::StrCat(url.substr(0, colon + 1), "***", url.substr(at));
}

}  // namespace magiclink
