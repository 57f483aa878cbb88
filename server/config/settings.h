// magiclinkd's settings: built once in main from the config file, the
// environment and flags (in rising precedence), then passed down as values.
//
//   absl::StatusOr<Settings> s = LoadSettings(flags, getenv);
#ifndef MAGICLINK_SERVER_CONFIG_SETTINGS_H_
#define MAGICLINK_SERVER_CONFIG_SETTINGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/callers.h"
#include "server/service/link_service.h"
#include "server/transport/tls_credentials.h"

namespace magiclink {

// Connection pool and timeouts for a PostgreSQL store.
struct PostgresSettings {
  int pool_size = 8;
  absl::Duration acquire_timeout = absl::Seconds(2);
  absl::Duration connect_timeout = absl::Seconds(3);
  int consume_statements = 2;
  int max_consume_batch = 100;
  int insert_statements = 2;
  int max_insert_group = 100;
  bool prepared_statements = true;  // false behind pgbouncer pool_mode=transaction
  absl::Duration statement_timeout = absl::Seconds(30);
  absl::Duration keepalives_idle = absl::Seconds(10);
  absl::Duration keepalives_interval = absl::Seconds(3);
  int keepalives_count = 3;
  absl::Duration tcp_user_timeout = absl::Seconds(20);
};

struct Settings {
  std::string listen = "127.0.0.1:50051";
  std::string database;  // sqlite:PATH or postgresql://...
  std::string data_dir = "magiclink-data";
  std::string token_keys_file;
  std::vector<std::string> allowed_redirect_prefixes;
  ServiceOptions service;
  PostgresSettings postgres;
  absl::Duration sweep_interval = absl::Seconds(60);
  absl::Duration shutdown_grace = absl::Seconds(10);
  // Configured callers; empty: development server (loopback only).
  CallerDirectory callers;
  TlsFiles tls;
  // Token keys from MAGICLINK_TOKEN_KEYS ("key_id base64url-secret" entries
  // separated by newlines or ';', newest last). A secret: never log it. When
  // set, token_keys_file is not used.
  std::string token_keys;
  // Audit events: appended to this file; empty: stderr.
  std::string audit_log;
  // Whether audit events name email addresses.
  bool audit_include_email = false;
  // host:port serving GET /metrics; empty: no metrics listener.
  std::string metrics_listen;
};

// What the command line said; empty strings mean "not given".
struct CommandLine {
  std::string config_path;
  std::string listen;
  std::string database;
  std::string data_dir;
  std::string audit_log;
  bool audit_include_email = false;  // true turns it on whatever the file says
  std::string metrics_listen;
};

// Reads an environment variable; returns "" when unset.
using EnvLookup = std::function<std::string(const char*)>;

// Builds the settings: defaults, then the JSON config file (unknown keys and
// invalid values are INVALID_ARGUMENT naming the key), then the environment
// (MAGICLINK_DATABASE, so a password need not be on the command line;
// MAGICLINK_TOKEN_KEYS, so token secrets need not be in a file), then
// the flags. Fills derived defaults (database and key file under data_dir).
absl::StatusOr<Settings> LoadSettings(const CommandLine& command_line, const EnvLookup& env);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CONFIG_SETTINGS_H_
