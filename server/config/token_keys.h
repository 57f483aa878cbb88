// Loading the token keys from their file, creating the file with one fresh key
// on first start so a development server needs no set-up and a restart keeps
// outstanding links valid.
#ifndef MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
#define MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "server/core/keyring.h"

namespace magiclink {

// Reads `path` ("key_id base64url-secret" per line, '#' comments, newest
// last). When it does not exist, creates it (mode 0600, exclusively, so two
// processes starting together agree) holding one new random key. Refuses a
// file that group or others can read. Error messages never contain a secret.
absl::StatusOr<TokenKeyring> LoadOrCreateTokenKeys(const std::string& path);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CONFIG_TOKEN_KEYS_H_
