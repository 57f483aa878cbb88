// magiclinkctl: picks the subcommand, parses its flags plus the global ones,
// connects and runs it. Exit codes: see exit_codes.h.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/ctl/command.h"

namespace magiclink::ctl {
namespace {

std::vector<Command> Commands() {
  return {IssueCommand(),  VerifyCommand(), PeekCommand(),
          RevokeCommand(), BatchCommand(),  LinksCommand()};
}

void PrintOverview(std::ostream& out) {
  out << "magiclinkctl: issue, verify and revoke magic links with a magiclinkd server.\n\n"
         "Usage: magiclinkctl [global flags] <command> [flags]\n"
         "       magiclinkctl help <command>\n\nCommands:\n";
  for (const Command& command : Commands()) {
    out << "  " << command.name << std::string(8 - command.name.size(), ' ') << command.summary
        << "\n";
  }
  out << "\nGlobal flags:\n" << FormatFlags(GlobalFlags()) << "\n" << ExitCodeHelp();
}

void PrintCommandHelp(const Command& command) {
  std::cout << "Usage: magiclinkctl " << command.name << " [flags]\n\n"
            << command.description << "\nFlags:\n"
            << FormatFlags(command.flags) << "\nGlobal flags:\n"
            << FormatFlags(GlobalFlags()) << "\n"
            << ExitCodeHelp();
}

const Command* FindCommand(const std::vector<Command>& commands, const std::string& name) {
  for (const Command& command : commands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

// Index of the subcommand's name: the first argument that is neither a flag
// nor the value of a global flag given as "--flag value".
size_t CommandIndex(const std::vector<std::string>& args) {
  const std::vector<FlagSpec> globals = GlobalFlags();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "-")) return i;
    if (arg.find('=') != std::string::npos) continue;
    for (const FlagSpec& spec : globals) {
      if (arg == "--" + spec.name && !spec.value_name.empty()) ++i;
    }
  }
  return args.size();
}

int Main(const std::vector<std::string>& args) {
  const std::vector<Command> commands = Commands();
  const size_t at = CommandIndex(args);
  if (at == args.size()) {
    // Asking for help succeeds; calling without a command is a usage error.
    const bool asked = std::any_of(args.begin(), args.end(), [](const std::string& arg) {
      return arg == "--help" || arg == "-h";
    });
    PrintOverview(asked ? std::cout : std::cerr);
    return asked ? kExitOk : kExitUsage;
  }
  const auto command_arg = args.begin() + static_cast<std::ptrdiff_t>(at);
  std::vector<std::string> rest(args.begin(), command_arg);
  rest.insert(rest.end(), command_arg + 1, args.end());
  if (args[at] == "help") {
    const size_t topic = CommandIndex(rest);
    if (topic == rest.size()) {
      PrintOverview(std::cout);
      return kExitOk;
    }
    const Command* command = FindCommand(commands, rest[topic]);
    if (command == nullptr) return ReportUsage("unknown command " + rest[topic]);
    PrintCommandHelp(*command);
    return kExitOk;
  }
  const Command* command = FindCommand(commands, args[at]);
  if (command == nullptr) return ReportUsage("unknown command " + args[at]);

  std::vector<FlagSpec> specs = GlobalFlags();
  specs.insert(specs.end(), command->flags.begin(), command->flags.end());
  absl::StatusOr<ParsedFlags> flags = ParseFlags(rest, specs);
  if (!flags.ok()) return ReportUsage(std::string(flags.status().message()));
  if (flags->help) {
    PrintCommandHelp(*command);
    return kExitOk;
  }
  if (!flags->positional.empty()) {
    return ReportUsage("unexpected argument " + flags->positional[0]);
  }
  absl::StatusOr<client::Client> client = ClientFromFlags(*flags, [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  });
  if (!client.ok()) return ReportUsage(std::string(client.status().message()));
  return command->run(*flags, *client);
}

}  // namespace
}  // namespace magiclink::ctl

int main(int argc, char** argv) {
  return magiclink::ctl::Main(std::vector<std::string>(argv + 1, argv + argc));
}
