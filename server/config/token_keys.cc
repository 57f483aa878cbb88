#include "server/config/token_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/core/crypto.h"

namespace magiclink {
namespace {

absl::Status CreateKeyFile(const std::string& path) {
  absl::StatusOr<std::string> secret = RandomBytes(32);
  if (!secret.ok()) return secret.status();
  const std::string content =
      absl::StrCat("# magiclink token keys: key_id base64url-secret, newest last\nk1 ",
                   Base64UrlEncode(*secret), "\n");
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();  // another process won the race
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create token key file ", path, ": ", std::strerror(errno)));
  }
  const ssize_t written = write(fd, content.data(), content.size());
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (written != static_cast<ssize_t>(content.size()) || !synced) {
    unlink(path.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write token key file ", path));
  }
  return absl::OkStatus();
}

// How to give every replica the same keys, for refusals.
constexpr char kShareKeysAdvice[] =
    "every magiclinkd on one database must use the same token keys: set MAGICLINK_TOKEN_KEYS "
    "from one secret store on all of them, or give them all the same key file";

}  // namespace

absl::StatusOr<TokenKeyring> LoadOrCreateTokenKeys(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) {
    if (absl::Status s = CreateKeyFile(path); !s.ok()) return s;
  }
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read token key file ", path));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("token key file ", path, " is readable by group or others; chmod 600 it"));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseTokenKeys(text.str(), absl::StrCat("token key file ", path));
}

absl::StatusOr<TokenKeyring> ParseTokenKeys(absl::string_view text, absl::string_view source) {
  std::vector<TokenKey> keys;
  int entry_number = 0;
  for (absl::string_view line : absl::StrSplit(text, absl::ByAnyChar("\n;"))) {
    ++entry_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::optional<std::string> secret =
        parts.size() == 2 ? Base64UrlDecode(parts[1]) : std::nullopt;
    if (!secret) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " entry ", entry_number, ": expected \"key_id base64url-secret\""));
    }
    keys.push_back({std::string(parts[0]), *std::move(secret)});
  }
  absl::StatusOr<TokenKeyring> ring = TokenKeyring::Create(std::move(keys));
  if (!ring.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", ring.status().message()));
  }
  return ring;
}

absl::StatusOr<TokenKeyring> LoadTokenKeys(const std::string& from_environment,
                                           const std::string& path) {
  if (!from_environment.empty()) return ParseTokenKeys(from_environment, "MAGICLINK_TOKEN_KEYS");
  return LoadOrCreateTokenKeys(path);
}

absl::StatusOr<AgreedTokenKeys> LoadAgreedTokenKeys(const std::string& from_environment,
                                                    const std::string& path, bool shared_database,
                                                    TokenStore& store) {
  bool created_file = false;
  if (from_environment.empty() && access(path.c_str(), F_OK) != 0) {
    if (shared_database) {
      absl::StatusOr<std::vector<KeyCheck>> recorded = store.RecordKeyChecks({}, kNoDeadline);
      if (!recorded.ok()) return recorded.status();
      if (!recorded->empty()) {
        std::vector<std::string> ids;
        for (const KeyCheck& check : *recorded) ids.push_back(check.key_id);
        return absl::FailedPreconditionError(absl::StrCat(
            "no token keys here (MAGICLINK_TOKEN_KEYS is unset and ", path,
            " does not exist), and the database already records keys (", absl::StrJoin(ids, ", "),
            ") that other replicas use; a new key file would split ",
            "the replicas, so none is created: ", kShareKeysAdvice));
      }
    }
    if (absl::Status s = CreateKeyFile(path); !s.ok()) return s;
    created_file = true;
  }
  absl::StatusOr<TokenKeyring> ring = LoadTokenKeys(from_environment, path);
  if (!ring.ok()) return ring.status();
  absl::StatusOr<std::vector<KeyCheck>> recorded =
      store.RecordKeyChecks(ring->KeyChecks(), kNoDeadline);
  if (!recorded.ok()) return recorded.status();
  if (absl::Status s = ring->CheckAgainst(*recorded); !s.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        s.message(), " (from ",
        from_environment.empty() ? absl::StrCat("key file ", path) : "MAGICLINK_TOKEN_KEYS",
        "): links minted here would be rejected elsewhere; ", kShareKeysAdvice));
  }
  return AgreedTokenKeys{*std::move(ring), created_file};
}

}  // namespace magiclink
