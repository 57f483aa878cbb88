// Loading the token keys from their file, creating the file with one fresh key
// on first start so a development server needs no set-up and a restart keeps
// outstanding links valid.
#ifndef MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
#define MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/keyring.h"

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

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
