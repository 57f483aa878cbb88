#include "server/observability/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/core/json.h"

namespace magiclink {
namespace {

// Builds {"time":...,"audit":true,"event":...,<fields>} one field at a time.
class Line {
 public:
  explicit Line(const char* event) {
    text_ = "{\"time\":";
    AppendJsonString(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()), text_);
    text_ += ",\"audit\":true,\"event\":";
    AppendJsonString(event, text_);
  }
  Line& String(const char* key, const std::string& value) {
    Key(key);
    AppendJsonString(value, text_);
    return *this;
  }
  // Left out when empty.
  Line& OptionalString(const char* key, const std::string& value) {
    return value.empty() ? *this : String(key, value);
  }
  Line& Number(const char* key, int64_t value) {
    Key(key);
    absl::StrAppend(&text_, value);
    return *this;
  }
  Line& Bool(const char* key, bool value) {
    Key(key);
    text_ += value ? "true" : "false";
    return *this;
  }
  Line& Strings(const char* key, const std::vector<std::string>& values) {
    Key(key);
    text_ += '[';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) text_ += ',';
      AppendJsonString(values[i], text_);
    }
    text_ += ']';
    return *this;
  }
  Line& Outcome(const AuditOutcome& outcome) {
    return String("code", outcome.code).OptionalString("reason", outcome.reason);
  }
  std::string Finish() && { return std::move(text_) + "}\n"; }

 private:
  void Key(const char* key) {
    text_ += ',';
    AppendJsonString(key, text_);
    text_ += ':';
  }
  std::string text_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path,
                                                         bool include_email) {
  if (path.empty()) {
    return std::unique_ptr<AuditLog>(new AuditLog(STDERR_FILENO, false, include_email));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit_log: cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, true, include_email));
}

AuditLog::AuditLog(int fd, bool owns_fd, bool include_email)
    : fd_(fd), owns_fd_(owns_fd), include_email_(include_email) {}

AuditLog::~AuditLog() {
  if (owns_fd_) ::close(fd_);
}

void AuditLog::Write(std::string line) {
  absl::MutexLock lock(&mu_);
  // One write per line where the kernel allows it, so lines from several
  // processes appending to one file do not interleave.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it: the diagnostic log is stderr too
    done += static_cast<size_t>(n);
  }
}

void AuditLog::Record(const IssueBatchAudit& event) {
  Line line("IssueBatch");
  line.String("caller", event.caller)
      .String("purpose", event.purpose)
      .Outcome(event.outcome)
      .OptionalString("batch_id", event.batch_id)
      .Number("count", event.count)
      .Number("rejected", event.rejected)
      .Bool("request_id", event.request_id)
      .Bool("replayed", event.replayed)
      .Number("revoked_previous", event.revoked_previous);
  if (include_email_) line.Strings("emails", event.emails);
  Write(std::move(line).Finish());
}

void AuditLog::Record(const VerifyAudit& event) {
  Line line("Verify");
  line.String("caller", event.caller)
      .String("mode", event.mode)
      .Outcome(event.outcome)
      .OptionalString("batch_id", event.batch_id);
  if (event.position) line.Number("position", *event.position);
  if (include_email_) line.OptionalString("email", event.email);
  Write(std::move(line).Finish());
}

void AuditLog::Record(const RevokeAudit& event) {
  Line line("Revoke");
  line.String("caller", event.caller)
      .String("target", event.target)
      .Outcome(event.outcome)
      .OptionalString("batch_id", event.batch_id)
      .OptionalString("purpose", event.purpose)
      .Number("count", event.count);
  if (include_email_) line.OptionalString("email", event.email);
  Write(std::move(line).Finish());
}

}  // namespace magiclink
