// magiclinkctl's exit codes, a contract with the scripts that call it (also
// listed in `magiclinkctl --help` and docs/client.md), and the one place
// that turns a failed status into a code and a message on stderr.
#ifndef MAGICLINK_CLIENT_CTL_EXIT_CODES_H_
#define MAGICLINK_CLIENT_CTL_EXIT_CODES_H_

#include <string>

#include "absl/status/status.h"

namespace magiclink::ctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,         // unknown command or flag, missing or conflicting flags
  kExitInvalidInput = 2,  // malformed input file or template; INVALID_ARGUMENT, ALREADY_EXISTS
  kExitNotUsable = 3,     // NOT_FOUND, or a token expired / already used / revoked /
                          // issued for another purpose (FAILED_PRECONDITION)
  kExitUnavailable = 4,   // server unreachable, store down, or deadline exceeded
  kExitDenied = 5,        // UNAUTHENTICATED or PERMISSION_DENIED
  kExitFailure = 6,       // anything else: internal errors, output files not writable
};

// The table above, for --help.
std::string ExitCodeHelp();

// The exit code for a failed call.
ExitCode ExitCodeFor(const absl::Status& status);

// Prints "magiclinkctl: <REASON or CODE>: <message>" and one indented line
// per BadRequest field violation to stderr; returns ExitCodeFor(status).
ExitCode ReportError(const absl::Status& status);

// Prints "magiclinkctl: <message>" to stderr and returns kExitUsage.
ExitCode ReportUsage(const std::string& message);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_EXIT_CODES_H_
