#include "server/store/postgres/postgres_options.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace magiclink {
namespace {

// Quotes a value for a key=value connection string.
std::string QuoteConninfoValue(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using ParsedConninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// Parses `url` with libpq. libpq's parse errors echo parts of the URL, which
// may hold a password, so they are replaced by a fixed message.
absl::StatusOr<ParsedConninfo> Parse(const std::string& url) {
  char* error = nullptr;
  ParsedConninfo parsed(PQconninfoParse(url.c_str(), &error));
  if (error != nullptr) PQfreemem(error);
  if (parsed == nullptr) {
    return absl::InvalidArgumentError(
        "database URL: not a valid PostgreSQL connection URL or key=value string");
  }
  return parsed;
}

}  // namespace

absl::Status ValidatePostgresOptions(const PostgresOptions& options) {
  if (options.url.empty()) return absl::InvalidArgumentError("database URL: must not be empty");
  if (absl::StatusOr<ParsedConninfo> parsed = Parse(options.url); !parsed.ok()) {
    return parsed.status();
  }
  if (options.pool_size < 1 || options.pool_size > 1000) {
    return absl::InvalidArgumentError("database pool size: must be between 1 and 1000");
  }
  if (options.acquire_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("database acquire timeout: must be positive");
  }
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("database connect timeout: must be positive");
  }
  if (options.reconnect_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("database reconnect backoff: must not be negative");
  }
  if (options.consume_statements < 1) {
    return absl::InvalidArgumentError("database consume statements: must be at least 1");
  }
  if (options.max_consume_batch < 1 || options.max_consume_batch > 1000) {
    return absl::InvalidArgumentError("database consume batch: must be between 1 and 1000");
  }
  if (options.insert_statements < 1) {
    return absl::InvalidArgumentError("database insert statements: must be at least 1");
  }
  if (options.max_insert_group < 1 || options.max_insert_group > 1000) {
    return absl::InvalidArgumentError("database insert group: must be between 1 and 1000");
  }
  if (options.max_transaction_attempts < 1) {
    return absl::InvalidArgumentError("database transaction attempts: must be at least 1");
  }
  if (options.statement_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("database statement timeout: must be at least 1ms");
  }
  if (options.keepalives) {
    if (options.keepalives_idle < absl::Seconds(1) ||
        options.keepalives_interval < absl::Seconds(1)) {
      return absl::InvalidArgumentError(
          "database keepalives: idle and interval must be at least 1s");
    }
    if (options.keepalives_count < 1) {
      return absl::InvalidArgumentError("database keepalives: count must be at least 1");
    }
  }
  if (options.tcp_user_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("database tcp_user_timeout: must not be negative");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BuildConninfo(const PostgresOptions& options) {
  absl::StatusOr<ParsedConninfo> parsed = Parse(options.url);
  if (!parsed.ok()) return parsed.status();
  std::string out;
  absl::flat_hash_set<std::string> set_by_url;
  for (const PQconninfoOption* o = parsed->get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const absl::string_view keyword = o->keyword;
    set_by_url.insert(std::string(keyword));
    absl::StrAppend(&out, out.empty() ? "" : " ", keyword, "=", QuoteConninfoValue(o->val));
  }
  const bool has_connect_timeout = set_by_url.contains("connect_timeout");
  const bool has_application_name = set_by_url.contains("application_name");
  // Adds keyword=value unless the URL set the keyword.
  auto add_default = [&](absl::string_view keyword, int64_t value) {
    if (set_by_url.contains(keyword)) return;
    absl::StrAppend(&out, out.empty() ? "" : " ", keyword, "=", value);
  };
  add_default("keepalives", options.keepalives ? 1 : 0);
  if (options.keepalives) {
    add_default("keepalives_idle", absl::ToInt64Seconds(options.keepalives_idle));
    add_default("keepalives_interval", absl::ToInt64Seconds(options.keepalives_interval));
    add_default("keepalives_count", options.keepalives_count);
  }
  // Milliseconds; 0 leaves the kernel's default.
  add_default("tcp_user_timeout", absl::ToInt64Milliseconds(options.tcp_user_timeout));
  if (!has_connect_timeout) {
    // libpq takes whole seconds and treats anything below 2 as 2.
    const int64_t seconds = std::max<int64_t>(
        2, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(options.connect_timeout))));
    absl::StrAppend(&out, out.empty() ? "" : " ", "connect_timeout=", seconds);
  }
  if (!has_application_name) {
    // Names our sessions in pg_stat_activity for operators.
    absl::StrAppend(&out, out.empty() ? "" : " ", "application_name=magiclinkd");
  }
  return out;
}

}  // namespace magiclink
