// Audit events: who issued, verified and revoked what, one JSON object per
// line on a stream of its own (a file, or stderr marked "audit": true), apart
// from the diagnostic logs (log.h).
//
// The event types below are all an audit line can say: they have no field for
// a token, a link, an API key, a consume key or a metadata value. Email
// addresses are written only when the operator turns them on
// (audit_include_email); otherwise lines carry counts, ids and positions.
//
//   absl::StatusOr<std::unique_ptr<AuditLog>> audit =
//       AuditLog::Open("/var/log/magiclink/audit.jsonl", /*include_email=*/false);
//   (*audit)->Record(IssueBatchAudit{...});
//   // {"time":"...","audit":true,"event":"IssueBatch","caller":"billing","code":"OK",...}
#ifndef MAGICLINK_SERVER_OBSERVABILITY_AUDIT_H_
#define MAGICLINK_SERVER_OBSERVABILITY_AUDIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace magiclink {

// How a call ended: "OK" or the status code name (e.g. "FAILED_PRECONDITION"),
// and the ErrorInfo reason ("" for OK or a status without one).
struct AuditOutcome {
  std::string code = "OK";
  std::string reason;
};

// One IssueBatch call.
struct IssueBatchAudit {
  std::string caller;
  std::string purpose;
  AuditOutcome outcome;
  std::string batch_id;     // "" when nothing was issued
  int64_t count = 0;        // links in the response
  int64_t rejected = 0;     // recipients skipped with skip_invalid
  bool request_id = false;  // whether the call carried a request_id
  bool replayed = false;    // a request_id retry answered with the earlier batch
  int64_t revoked_previous = 0;
  std::vector<std::string> emails;  // the issued addresses; written only with emails on
};

// One Verify call.
struct VerifyAudit {
  std::string caller;
  std::string mode;  // "CONSUME" or "PEEK"
  AuditOutcome outcome;
  std::string batch_id;         // "" when the token is unknown (or the call was refused earlier)
  std::optional<int> position;  // the recipient's index in its batch
  std::string email;            // written only with emails on
};

// One Revoke call.
struct RevokeAudit {
  std::string caller;
  std::string target;  // "token", "email" or "batch"
  AuditOutcome outcome;
  std::string batch_id;  // for target "batch"
  std::string purpose;   // for target "email", when narrowed
  int64_t count = 0;     // tokens revoked
  std::string email;     // for target "email"; written only with emails on
};

// Writes audit events, one line each, to a file or stderr.
class AuditLog {
 public:
  // Appends to `path` (created with mode 0600), or writes to stderr when
  // `path` is empty. With `include_email`, lines name email addresses.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                        bool include_email);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Each writes one line; thread-safe.
  void Record(const IssueBatchAudit& event);
  void Record(const VerifyAudit& event);
  void Record(const RevokeAudit& event);

 private:
  AuditLog(int fd, bool owns_fd, bool include_email);
  void Write(std::string line);

  const int fd_;
  const bool owns_fd_;
  const bool include_email_;
  absl::Mutex mu_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_OBSERVABILITY_AUDIT_H_
