// What every magiclinkctl subcommand is: a name, help text, its own flags and
// a function run with the parsed flags and a connected client. main.cc only
// picks one and runs it; the global flags (server, credentials, timeout)
// are shared by all.
#ifndef MAGICLINK_CLIENT_CTL_COMMAND_H_
#define MAGICLINK_CLIENT_CTL_COMMAND_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/ctl/cli_flags.h"
#include "client/ctl/exit_codes.h"
#include "magiclink/client/client.h"

namespace magiclink::ctl {

struct Command {
  std::string name;
  std::string summary;      // one line, for `magiclinkctl --help`
  std::string description;  // the rest of `magiclinkctl <name> --help`
  std::vector<FlagSpec> flags;
  std::function<ExitCode(const ParsedFlags&, client::Client&)> run;
};

Command IssueCommand();
Command VerifyCommand();
Command PeekCommand();
Command RevokeCommand();
Command BatchCommand();
Command LinksCommand();

// --server, --api_key, --api_key_file, --timeout, --max_attempts and the TLS
// flags, accepted before or after the subcommand.
std::vector<FlagSpec> GlobalFlags();

// Builds the client the global flags describe. `getenv` supplies
// MAGICLINK_SERVER and MAGICLINK_API_KEY. INVALID_ARGUMENT for a bad flag
// value or an unreadable key or certificate file.
absl::StatusOr<client::Client> ClientFromFlags(
    const ParsedFlags& flags, const std::function<std::string(const char*)>& getenv);

// The contents of `path` ("-" reads stdin). INVALID_ARGUMENT when it cannot
// be read.
absl::StatusOr<std::string> ReadInput(const std::string& path);

// The token named by --token: its value, or the first line of stdin for
// "-" (which keeps the token out of the process list and shell history).
// INVALID_ARGUMENT when it is missing or empty; the token is never echoed.
absl::StatusOr<std::string> TokenFromFlag(const ParsedFlags& flags);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_COMMAND_H_
