#include "client/ctl/cli_flags.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace magiclink::ctl {
namespace {

const FlagSpec* Find(const std::vector<FlagSpec>& specs, const std::string& name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

std::string ParsedFlags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> ParsedFlags::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

bool ParsedFlags::GetBool(const std::string& name) const {
  const std::string value = Get(name, "false");
  return value == "true" || value == "1";
}

// Hand-written: CLI11 reads "-x" and a value starting with '-' as options (here
// they are a positional and a value) and absl flags are process-global, not per
// subcommand; tests/fuzz/cli_flags_fuzzer.cc covers it.
absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                       const std::vector<FlagSpec>& specs) {
  ParsedFlags parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(),
                               args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--") || arg == "-") {
      parsed.positional.push_back(arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const FlagSpec* spec = Find(specs, name);
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->value_name.empty()) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value (--", name, "=", spec->value_name, ")"));
    }
    if (spec->value_name.empty() && value != "true" && value != "false" && value != "1" &&
        value != "0") {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " takes true or false"));
    }
    std::vector<std::string>& values = parsed.values_[name];
    if (!values.empty() && !spec->repeatable) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", name, " given more than once"));
    }
    values.push_back(std::move(value));
  }
  return parsed;
}

std::string FormatFlags(const std::vector<FlagSpec>& specs) {
  std::vector<std::string> heads;
  size_t width = 0;
  for (const FlagSpec& spec : specs) {
    heads.push_back(absl::StrCat(
        "--", spec.name, spec.value_name.empty() ? "" : absl::StrCat("=", spec.value_name)));
    width = std::max(width, heads.back().size());
  }
  std::string out;
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::StrAppend(&out, "  ", heads[i], std::string(width - heads[i].size() + 2, ' '),
                    specs[i].help, specs[i].repeatable ? " (repeatable)" : "", "\n");
  }
  return out;
}

}  // namespace magiclink::ctl
