#include "server/config/settings.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/config/server_config.pb.h"
#include "server/core/crypto.h"

namespace magiclink {
namespace {

using google::protobuf::util::TimeUtil;

absl::StatusOr<config::ServerConfig> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  config::ServerConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt key must not be silently ignored
  auto status = google::protobuf::util::JsonStringToMessage(text.str(), &config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": ", std::string(status.message())));
  }
  return config;
}

// Applies a duration from the file when present; it must be positive.
absl::Status ApplyDuration(bool present, const google::protobuf::Duration& value,
                           const char* name, absl::Duration& out) {
  if (!present) return absl::OkStatus();
  const int64_t micros = TimeUtil::DurationToMicroseconds(value);
  if (micros <= 0) return absl::InvalidArgumentError(absl::StrCat("config: ", name, " must be positive"));
  out = absl::Microseconds(micros);
  return absl::OkStatus();
}

absl::Status ApplyLimit(int32_t value, const char* name, int& out) {
  if (value < 0) return absl::InvalidArgumentError(absl::StrCat("config: limits.", name, " must not be negative"));
  if (value > 0) out = value;
  return absl::OkStatus();
}

absl::Status ApplyLimit(int32_t value, const char* name, size_t& out) {
  int as_int = static_cast<int>(out);
  if (absl::Status s = ApplyLimit(value, name, as_int); !s.ok()) return s;
  out = static_cast<size_t>(as_int);
  return absl::OkStatus();
}

absl::StatusOr<CallerDirectory> ToCallers(
    const google::protobuf::RepeatedPtrField<config::Caller>& callers) {
  std::vector<CallerEntry> entries;
  for (int i = 0; i < callers.size(); ++i) {
    const config::Caller& c = callers[i];
    const std::string where = absl::StrCat("config: callers[", i, "] ('", c.name(), "'): ");
    CallerEntry e;
    e.caller.name = c.name();
    for (const std::string& hex : c.api_key_sha256()) {
      std::optional<std::string> digest = HexDecode(hex);
      if (!digest || digest->size() != 32) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "api_key_sha256 must be 64 hex digits (sha256sum of the key)"));
      }
      e.api_key_sha256.push_back(*std::move(digest));
    }
    for (const std::string& name : c.scopes()) {
      std::optional<Scope> scope = ParseScope(name);
      if (!scope) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "unknown scope '", name, "' (use issue, verify, revoke, read)"));
      }
      if (!e.caller.HasScope(*scope)) e.caller.scopes.push_back(*scope);
    }
    e.caller.allowed_purposes.assign(c.allowed_purposes().begin(), c.allowed_purposes().end());
    e.caller.allowed_redirect_prefixes.assign(c.allowed_redirect_prefixes().begin(),
                                              c.allowed_redirect_prefixes().end());
    e.tls_identities.assign(c.tls_identities().begin(), c.tls_identities().end());
    e.require_client_certificate = c.require_client_certificate();
    entries.push_back(std::move(e));
  }
  absl::StatusOr<CallerDirectory> directory = CallerDirectory::Create(std::move(entries));
  if (!directory.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", directory.status().message()));
  }
  return directory;
}

absl::Status ApplyFile(const config::ServerConfig& c, Settings& s) {
  if (!c.listen().empty()) s.listen = c.listen();
  if (!c.database().empty()) s.database = c.database();
  if (!c.data_dir().empty()) s.data_dir = c.data_dir();
  if (!c.token_keys_file().empty()) s.token_keys_file = c.token_keys_file();
  s.audit_log = c.audit_log();
  s.audit_include_email = c.audit_include_email();
  if (!c.metrics_listen().empty()) s.metrics_listen = c.metrics_listen();
  s.allowed_redirect_prefixes.assign(c.allowed_redirect_prefixes().begin(),
                                     c.allowed_redirect_prefixes().end());
  absl::StatusOr<CallerDirectory> callers = ToCallers(c.callers());
  if (!callers.ok()) return callers.status();
  s.callers = *std::move(callers);
  s.tls = {c.tls().cert_file(), c.tls().key_file(), c.tls().client_ca_file(),
           c.tls().require_client_certificate()};
  Lifetimes& l = s.service.lifetimes;
  for (absl::Status st : {
           ApplyDuration(c.has_default_ttl(), c.default_ttl(), "default_ttl", l.default_ttl),
           ApplyDuration(c.has_max_ttl(), c.max_ttl(), "max_ttl", l.max_ttl),
           ApplyDuration(c.has_consume_grace(), c.consume_grace(), "consume_grace", l.consume_grace),
           ApplyDuration(c.has_idempotency_window(), c.idempotency_window(), "idempotency_window",
                         l.idempotency_window),
           ApplyDuration(c.has_retention(), c.retention(), "retention", l.retention),
           ApplyDuration(c.has_sweep_interval(), c.sweep_interval(), "sweep_interval",
                         s.sweep_interval),
           ApplyDuration(c.has_shutdown_grace(), c.shutdown_grace(), "shutdown_grace",
                         s.shutdown_grace),
           ApplyDuration(c.postgres().has_acquire_timeout(), c.postgres().acquire_timeout(),
                         "postgres.acquire_timeout", s.postgres.acquire_timeout),
           ApplyDuration(c.postgres().has_connect_timeout(), c.postgres().connect_timeout(),
                         "postgres.connect_timeout", s.postgres.connect_timeout),
           ApplyDuration(c.postgres().has_statement_timeout(), c.postgres().statement_timeout(),
                         "postgres.statement_timeout", s.postgres.statement_timeout),
           ApplyDuration(c.postgres().has_keepalives_idle(), c.postgres().keepalives_idle(),
                         "postgres.keepalives_idle", s.postgres.keepalives_idle),
           ApplyDuration(c.postgres().has_keepalives_interval(), c.postgres().keepalives_interval(),
                         "postgres.keepalives_interval", s.postgres.keepalives_interval),
           ApplyDuration(c.postgres().has_tcp_user_timeout(), c.postgres().tcp_user_timeout(),
                         "postgres.tcp_user_timeout", s.postgres.tcp_user_timeout),
       }) {
    if (!st.ok()) return st;
  }
  if (l.default_ttl > l.max_ttl) {
    return absl::InvalidArgumentError("config: default_ttl exceeds max_ttl");
  }
  if (c.postgres().has_prepared_statements()) {
    s.postgres.prepared_statements = c.postgres().prepared_statements();
  }
  Limits& lim = s.service.limits;
  const config::Limits& cl = c.limits();
  for (absl::Status st : {
           ApplyLimit(cl.max_batch_size(), "max_batch_size", lim.max_batch_size),
           ApplyLimit(cl.max_email_length(), "max_email_length", lim.max_email_length),
           ApplyLimit(cl.max_redirect_url_length(), "max_redirect_url_length",
                      lim.max_redirect_url_length),
           ApplyLimit(cl.max_metadata_entries(), "max_metadata_entries", lim.max_metadata_entries),
           ApplyLimit(cl.max_metadata_bytes(), "max_metadata_bytes", lim.max_metadata_bytes),
           ApplyLimit(cl.max_page_size(), "max_page_size", lim.max_page_size),
           ApplyLimit(c.postgres().pool_size(), "postgres.pool_size", s.postgres.pool_size),
           ApplyLimit(c.postgres().consume_statements(), "postgres.consume_statements",
                      s.postgres.consume_statements),
           ApplyLimit(c.postgres().max_consume_batch(), "postgres.max_consume_batch",
                      s.postgres.max_consume_batch),
           ApplyLimit(c.postgres().insert_statements(), "postgres.insert_statements",
                      s.postgres.insert_statements),
           ApplyLimit(c.postgres().max_insert_group(), "postgres.max_insert_group",
                      s.postgres.max_insert_group),
           ApplyLimit(c.postgres().keepalives_count(), "postgres.keepalives_count",
                      s.postgres.keepalives_count),
       }) {
    if (!st.ok()) return st;
  }
  if (lim.max_email_length > 254) {
    return absl::InvalidArgumentError("config: limits.max_email_length may not exceed 254");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Settings> LoadSettings(const CommandLine& command_line, const EnvLookup& env) {
  Settings settings;
  if (!command_line.config_path.empty()) {
    absl::StatusOr<config::ServerConfig> file = ReadConfigFile(command_line.config_path);
    if (!file.ok()) return file.status();
    if (absl::Status s = ApplyFile(*file, settings); !s.ok()) return s;
  }
  if (std::string db = env("MAGICLINK_DATABASE"); !db.empty()) settings.database = db;
  settings.token_keys = env("MAGICLINK_TOKEN_KEYS");
  if (!command_line.listen.empty()) settings.listen = command_line.listen;
  if (!command_line.database.empty()) settings.database = command_line.database;
  if (!command_line.data_dir.empty()) settings.data_dir = command_line.data_dir;
  if (!command_line.audit_log.empty()) settings.audit_log = command_line.audit_log;
  if (command_line.audit_include_email) settings.audit_include_email = true;
  if (!command_line.metrics_listen.empty()) settings.metrics_listen = command_line.metrics_listen;
  if (settings.database.empty()) {
    settings.database = absl::StrCat("sqlite:", settings.data_dir, "/magiclink.db");
  }
  if (settings.token_keys_file.empty()) {
    settings.token_keys_file = absl::StrCat(settings.data_dir, "/token-keys");
  }
  return settings;
}

}  // namespace magiclink
