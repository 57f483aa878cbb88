#include "server/core/callers.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/core/crypto.h"
#include "server/core/errors.h"
#include "server/core/issue_rules.h"
#include "server/core/links.h"

namespace magiclink {
namespace {

constexpr size_t kMaxCallerNameLength = 64;
constexpr size_t kMaxPurposeLength = 64;

bool IsCallerName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxCallerNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

absl::Status Unauthenticated(absl::string_view message) {
  return ErrorWithReason(absl::StatusCode::kUnauthenticated, v1::UNAUTHENTICATED, message);
}

absl::Status BadCaller(absl::string_view name, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("caller '", name, "': ", problem));
}

absl::Status CheckEntry(const CallerEntry& e) {
  const Caller& c = e.caller;
  if (!IsCallerName(c.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "caller name '", c.name, "' must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.'"));
  }
  if (c.scopes.empty()) return BadCaller(c.name, "has no scopes");
  if (e.api_key_sha256.empty() && e.tls_identities.empty()) {
    return BadCaller(c.name, "has neither an api_key_sha256 nor a tls_identity");
  }
  if (e.require_client_certificate && e.tls_identities.empty()) {
    return BadCaller(c.name, "require_client_certificate needs a tls_identity");
  }
  for (const std::string& hash : e.api_key_sha256) {
    if (hash.size() != 32) return BadCaller(c.name, "api_key_sha256 must be 64 hex digits");
  }
  for (const std::string& purpose : c.allowed_purposes) {
    if (std::string p = PurposeProblem(purpose, kMaxPurposeLength); !p.empty()) {
      return BadCaller(c.name, absl::StrCat("allowed purpose '", purpose, "' ", p));
    }
  }
  for (const std::string& prefix : c.allowed_redirect_prefixes) {
    absl::Status s = CheckUrlShape(prefix);
    if (s.ok()) s = CheckNoTokenParameter(prefix);
    if (!s.ok()) {
      return BadCaller(c.name,
                       absl::StrCat("allowed redirect prefix '", prefix, "' ", s.message()));
    }
  }
  for (const std::string& id : e.tls_identities) {
    if (id.empty()) return BadCaller(c.name, "a tls_identity is empty");
  }
  return absl::OkStatus();
}

}  // namespace

const char* ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kIssue:
      return "issue";
    case Scope::kVerify:
      return "verify";
    case Scope::kRevoke:
      return "revoke";
    case Scope::kRead:
      return "read";
  }
  return "?";
}

std::optional<Scope> ParseScope(absl::string_view name) {
  for (Scope s : {Scope::kIssue, Scope::kVerify, Scope::kRevoke, Scope::kRead}) {
    if (name == ScopeName(s)) return s;
  }
  return std::nullopt;
}

Caller Caller::Unrestricted(std::string name) {
  Caller caller;
  caller.name = std::move(name);
  caller.scopes = {Scope::kIssue, Scope::kVerify, Scope::kRevoke, Scope::kRead};
  return caller;
}

bool Caller::HasScope(Scope scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool Caller::AllowsPurpose(absl::string_view purpose) const {
  if (allowed_purposes.empty()) return true;
  return std::find(allowed_purposes.begin(), allowed_purposes.end(), purpose) !=
         allowed_purposes.end();
}

bool Caller::AllowsRedirect(absl::string_view url) const {
  if (allowed_redirect_prefixes.empty()) return true;
  for (const std::string& prefix : allowed_redirect_prefixes) {
    if (RedirectPolicy::MatchesPrefix(url, prefix)) return true;
  }
  return false;
}

absl::Status RequireScope(const Caller& caller, Scope scope) {
  if (caller.HasScope(scope)) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kPermissionDenied, v1::SCOPE_NOT_GRANTED,
      absl::StrCat("caller '", caller.name, "' lacks the '", ScopeName(scope), "' scope"));
}

absl::Status RequirePurpose(const Caller& caller, absl::string_view purpose,
                            absl::string_view field) {
  if (caller.AllowsPurpose(purpose)) return absl::OkStatus();
  return ErrorWithReason(
      absl::StatusCode::kPermissionDenied, v1::PURPOSE_NOT_ALLOWED,
      absl::StrCat(field, ": caller '", caller.name, "' may not use this purpose"));
}

absl::Status RequireRedirect(const Caller& caller, absl::string_view url) {
  if (caller.AllowsRedirect(url)) return absl::OkStatus();
  return ErrorWithReason(absl::StatusCode::kPermissionDenied, v1::REDIRECT_NOT_ALLOWED,
                         absl::StrCat("redirect_url: caller '", caller.name,
                                      "' may not issue links for this redirect prefix"));
}

absl::StatusOr<CallerDirectory> CallerDirectory::Create(std::vector<CallerEntry> entries) {
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_map<std::string, std::string> key_owner;
  absl::flat_hash_map<std::string, std::string> identity_owner;
  for (const CallerEntry& e : entries) {
    if (absl::Status s = CheckEntry(e); !s.ok()) return s;
    const std::string& name = e.caller.name;
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("caller name '", name, "' is used twice"));
    }
    for (const std::string& hash : e.api_key_sha256) {
      if (auto [it, inserted] = key_owner.emplace(hash, name); !inserted) {
        return BadCaller(name,
                         absl::StrCat("shares an api_key_sha256 with caller '", it->second, "'"));
      }
    }
    for (const std::string& id : e.tls_identities) {
      if (auto [it, inserted] = identity_owner.emplace(id, name); !inserted) {
        return BadCaller(
            name, absl::StrCat("shares tls_identity '", id, "' with caller '", it->second, "'"));
      }
    }
  }
  return CallerDirectory(std::move(entries));
}

absl::StatusOr<Caller> CallerDirectory::Authenticate(
    const std::optional<std::string>& bearer_key,
    const std::vector<std::string>& tls_identities) const {
  if (entries_.empty()) return Caller::Unrestricted("local");

  // Every configured hash is compared, in constant time, whatever matches.
  const CallerEntry* by_key = nullptr;
  if (bearer_key) {
    const std::string digest = Sha256(*bearer_key);
    for (const CallerEntry& e : entries_) {
      for (const std::string& hash : e.api_key_sha256) {
        if (ConstantTimeEquals(digest, hash)) by_key = &e;
      }
    }
    if (by_key == nullptr) return Unauthenticated("the API key is not valid");
  }
  const CallerEntry* by_certificate = nullptr;
  for (const CallerEntry& e : entries_) {
    for (const std::string& id : e.tls_identities) {
      if (std::find(tls_identities.begin(), tls_identities.end(), id) == tls_identities.end()) {
        continue;
      }
      if (by_certificate != nullptr && by_certificate != &e) {
        return Unauthenticated("the client certificate names more than one caller");
      }
      by_certificate = &e;
    }
  }
  if (by_key != nullptr) {
    if (by_certificate != nullptr && by_certificate != by_key) {
      return Unauthenticated("the API key and the client certificate name different callers");
    }
    if (by_key->require_client_certificate && by_certificate != by_key) {
      return Unauthenticated("this caller's API key is accepted only with its client certificate");
    }
    return by_key->caller;
  }
  if (by_certificate != nullptr) return by_certificate->caller;
  return Unauthenticated(
      "no credentials: send \"authorization: Bearer <api key>\" or a client certificate");
}

std::string ApiKeySha256Hex(absl::string_view api_key) { return HexEncode(Sha256(api_key)); }

}  // namespace magiclink
