// magiclinkctl's flag parser from arbitrary argument lists (NUL-separated):
// never crashes, and what it accepts it reads back consistently (a boolean is
// true or false, a non-repeatable flag has one value, positionals keep order).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/ctl/cli_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> args = absl::StrSplit(text, '\0');
  const std::vector<magiclink::ctl::FlagSpec> specs = {
      {"batch", "ID", ""}, {"progress", "", ""}, {"metadata", "K=V", "", true}};
  absl::StatusOr<magiclink::ctl::ParsedFlags> flags = magiclink::ctl::ParseFlags(args, specs);
  if (!flags.ok()) return 0;
  if (flags->Has("batch") && flags->GetAll("batch").size() != 1) std::abort();
  if (flags->Has("progress")) {
    const std::string value = flags->Get("progress");
    if (value != "true" && value != "false" && value != "1" && value != "0") std::abort();
  }
  if (flags->positional.size() + flags->GetAll("metadata").size() > args.size()) std::abort();
  return 0;
}
