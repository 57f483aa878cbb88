#include "client/ctl/exit_codes.h"

#include <iostream>

#include "magiclink/client/error.h"

namespace magiclink::ctl {

std::string ExitCodeHelp() {
  return "Exit codes:\n"
         "  0  success\n"
         "  1  usage error (unknown command or flag, missing or conflicting flags)\n"
         "  2  invalid input (malformed input file or template; the server refused the request\n"
         "     as INVALID_ARGUMENT, or the request_id was used before with other content)\n"
         "  3  not found or token not usable (TOKEN_NOT_FOUND, BATCH_NOT_FOUND, TOKEN_EXPIRED,\n"
         "     TOKEN_ALREADY_USED, TOKEN_REVOKED, PURPOSE_MISMATCH); the reason is printed\n"
         "  4  unavailable (server unreachable, store down, deadline exceeded); safe to retry\n"
         "  5  denied (missing or bad API key / certificate, or not allowed)\n"
         "  6  any other failure (internal server error, output not writable)\n";
}

ExitCode ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalidInput;
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return kExitNotUsable;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitDenied;
    default:
      return kExitFailure;
  }
}

ExitCode ReportError(const absl::Status& status) {
  const client::Error error(status);
  const std::string label =
      error.reason().empty() ? absl::StatusCodeToString(status.code()) : error.reason();
  std::cerr << "magiclinkctl: " << label << ": " << error.message() << "\n";
  for (const client::FieldViolation& v : error.field_violations()) {
    std::cerr << "  " << v.field << ": " << v.description << "\n";
  }
  return ExitCodeFor(status);
}

ExitCode ReportUsage(const std::string& message) {
  std::cerr << "magiclinkctl: " << message << "\n(see magiclinkctl --help)\n";
  return kExitUsage;
}

}  // namespace magiclink::ctl
