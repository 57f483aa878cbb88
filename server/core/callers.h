// Callers: who may use the service and for what. A Caller is the authenticated
// identity of one call (its name is recorded as a batch's issued_by) with the
// scopes, purposes and redirect prefixes it is allowed. A CallerDirectory is
// the configured set of callers and answers "which caller do these
// credentials name?" without ever holding a plaintext API key.
//
//   absl::StatusOr<CallerDirectory> dir = CallerDirectory::Create(entries);
//   absl::StatusOr<Caller> caller = dir->Authenticate(bearer_key, tls_identities);
//   if (absl::Status s = RequireScope(*caller, Scope::kIssue); !s.ok()) return s;
//
// Nothing here touches gRPC: the transport extracts the credentials from a
// call, and the service applies the rules before it touches the store.
#ifndef MAGICLINK_SERVER_CORE_CALLERS_H_
#define MAGICLINK_SERVER_CORE_CALLERS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink {

// What a caller may do. Each RPC needs one scope (IssueBatch with
// revoke_previous needs kIssue and kRevoke).
enum class Scope { kIssue, kVerify, kRevoke, kRead };

// "issue", "verify", "revoke", "read".
const char* ScopeName(Scope scope);

// The scope named `name`; nullopt for an unknown name.
std::optional<Scope> ParseScope(absl::string_view name);

// The authenticated identity of a call and what it may do.
struct Caller {
  std::string name;
  std::vector<Scope> scopes;
  // Purposes the caller may issue, verify, revoke and read; empty: any.
  std::vector<std::string> allowed_purposes;
  // Redirect-URL prefixes the caller may issue links for (matched on a
  // boundary, like the server's allowed prefixes); empty: any the server
  // allows.
  std::vector<std::string> allowed_redirect_prefixes;

  // A caller with every scope and no restriction: what a development server
  // without configured callers treats every call as.
  static Caller Unrestricted(std::string name);

  bool HasScope(Scope scope) const;
  bool RestrictsPurposes() const { return !allowed_purposes.empty(); }
  bool AllowsPurpose(absl::string_view purpose) const;
  bool AllowsRedirect(absl::string_view url) const;
};

// PERMISSION_DENIED (reason SCOPE_NOT_GRANTED) unless `caller` has `scope`.
absl::Status RequireScope(const Caller& caller, Scope scope);

// PERMISSION_DENIED (reason PURPOSE_NOT_ALLOWED) unless `caller` may use
// `purpose`; `field` names the request field in the message.
absl::Status RequirePurpose(const Caller& caller, absl::string_view purpose,
                            absl::string_view field);

// PERMISSION_DENIED (reason REDIRECT_NOT_ALLOWED) unless `url` starts with one
// of the caller's redirect prefixes.
absl::Status RequireRedirect(const Caller& caller, absl::string_view url);

// A configured caller and the credentials that identify it.
struct CallerEntry {
  Caller caller;
  // SHA-256 digests (32 raw bytes each) of the caller's API keys; several
  // allow a key to be rotated without downtime.
  std::vector<std::string> api_key_sha256;
  // TLS client-certificate identities (subject common name or any subject
  // alternative name) that name this caller on a mutual-TLS connection.
  std::vector<std::string> tls_identities;
  // When true, the caller's API key is accepted only on a connection whose
  // verified client certificate also names this caller.
  bool require_client_certificate = false;
};

// The configured callers. Immutable, cheap to share by const reference.
class CallerDirectory {
 public:
  // No callers: a development server (every call is Caller::Unrestricted).
  CallerDirectory() = default;

  // Validates and builds the directory. INVALID_ARGUMENT naming the caller for:
  // a name outside 1-64 characters of [A-Za-z0-9_.-] or used twice; no scope;
  // no credential; an API key hash that is not 64 hex digits or is shared by
  // two callers; a malformed purpose or redirect prefix; a TLS identity shared
  // by two callers; require_client_certificate without a TLS identity.
  static absl::StatusOr<CallerDirectory> Create(std::vector<CallerEntry> entries);

  // True when no callers are configured.
  bool empty() const { return entries_.empty(); }
  const std::vector<CallerEntry>& entries() const { return entries_; }

  // Decides who is calling from the presented credentials: `bearer_key` (the
  // API key from "authorization: Bearer", nullopt when absent) and the
  // identities of a verified TLS client certificate (empty without one).
  // UNAUTHENTICATED (reason UNAUTHENTICATED) when there are none, when they
  // name no caller, or when the key and the certificate name different
  // callers. Messages never contain the key. With no callers configured,
  // returns Caller::Unrestricted("local") whatever was presented.
  absl::StatusOr<Caller> Authenticate(const std::optional<std::string>& bearer_key,
                                      const std::vector<std::string>& tls_identities) const;

 private:
  explicit CallerDirectory(std::vector<CallerEntry> entries) : entries_(std::move(entries)) {}

  std::vector<CallerEntry> entries_;
};

// The hex SHA-256 of an API key, as configured in api_key_sha256.
std::string ApiKeySha256Hex(absl::string_view api_key);

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_CALLERS_H_
