// Loading the token keys from their file, creating the file with one fresh key
// on first start so a development server needs no set-up and a restart keeps
// outstanding links valid.
#ifndef MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
#define MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/keyring.h"
#include "server/store/token_store.h"

namespace magiclink {

// Reads `path` ("key_id base64url-secret" per line, '#' comments, newest
// last). When it does not exist, creates it (mode 0600, exclusively, so two
// processes starting together agree) holding one new random key. Refuses a
// file that group or others can read. Error messages never contain a secret.
absl::StatusOr<TokenKeyring> LoadOrCreateTokenKeys(const std::string& path);

// Parses key entries ("key_id base64url-secret", separated by newlines or ';',
// '#' comments, newest last). `source` names where they came from in errors,
// which never contain a secret.
absl::StatusOr<TokenKeyring> ParseTokenKeys(absl::string_view text, absl::string_view source);

// The keys from the environment (MAGICLINK_TOKEN_KEYS) when it is set,
// otherwise from (and, if missing, created in) the file at `path`.
absl::StatusOr<TokenKeyring> LoadTokenKeys(const std::string& from_environment,
                                           const std::string& path);

// The keys a magiclinkd serves with, agreed with its database.
struct AgreedTokenKeys {
  TokenKeyring keyring;
  bool created_file = false;  // this start created the key file
};

// Loads the keys as LoadTokenKeys does, records their check values in
// `store` and refuses (FAILED_PRECONDITION naming the key id and how to share
// keys) a key whose id the database records with another secret: every
// replica of one database must mint links the others accept.
//
// A missing key file is created only when no other process can depend on
// another one: always for a database of one host (`shared_database` false:
// SQLite keeps its zero set-up), and for a shared database (PostgreSQL) only
// while the database records no key at all. Two first starts racing on an
// empty database each create a file; the first to record its check wins and
// the other refuses to start.
absl::StatusOr<AgreedTokenKeys> LoadAgreedTokenKeys(const std::string& from_environment,
                                                    const std::string& path, bool shared_database,
                                                    TokenStore& store);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
