// A small command-line parser for magiclinkctl: each subcommand declares its
// flags, so every subcommand can say exactly what it accepts in --help and
// reject anything else (absl flags are process-global, which cannot).
//
//   const std::vector<FlagSpec> specs = {{"batch", "ID", "the batch to list"},
//                                        {"progress", "", "force the progress bar"}};
//   absl::StatusOr<ParsedFlags> flags = ParseFlags(args, specs);
//   std::string batch = flags->Get("batch");
#ifndef MAGICLINK_CLIENT_CTL_CLI_FLAGS_H_
#define MAGICLINK_CLIENT_CTL_CLI_FLAGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace magiclink::ctl {

struct FlagSpec {
  std::string name;        // without "--"
  std::string value_name;  // e.g. "FILE"; empty for a boolean flag
  std::string help;
  bool repeatable = false;
};

class ParsedFlags {
 public:
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given, in order (for repeatable flags).
  std::vector<std::string> GetAll(const std::string& name) const;
  // A boolean flag: true when given bare or as =true/=1, false when =false/=0
  // or absent.
  bool GetBool(const std::string& name) const;

  std::vector<std::string> positional;
  bool help = false;  // --help or -h was given

 private:
  friend absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                                const std::vector<FlagSpec>& specs);
  std::map<std::string, std::vector<std::string>> values_;
};

// Parses "--name=value", "--name value" and bare boolean "--name"; "--" ends
// the flags. INVALID_ARGUMENT (a usage error) for an unknown flag, a missing
// value, a value for a boolean other than true/false/1/0, or a repeated
// non-repeatable flag.
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs);

// "  --name=VALUE   help" lines, aligned, for --help.
std::string FormatFlags(const std::vector<FlagSpec>& specs);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_CLI_FLAGS_H_
