#include "client/ctl/message_template.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/ctl/text_formats.h"

namespace magiclink::ctl {

absl::StatusOr<MessageTemplate> MessageTemplate::Parse(absl::string_view text) {
  MessageTemplate parsed;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == absl::string_view::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("the template has a \"{{\" without \"}}\" at offset ", open));
    }
    const absl::string_view name =
        absl::StripAsciiWhitespace(text.substr(open + 2, close - open - 2));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the template has an empty placeholder at offset ", open));
    }
    if (open > pos) parsed.parts_.push_back({false, std::string(text.substr(pos, open - pos))});
    parsed.parts_.push_back({true, std::string(name)});
    pos = close + 2;
  }
  if (pos < text.size()) parsed.parts_.push_back({false, std::string(text.substr(pos))});
  return parsed;
}

absl::Status MessageTemplate::CheckNames(const std::set<std::string>& known) const {
  std::set<std::string> unknown;
  for (const Part& part : parts_) {
    if (part.placeholder && known.count(part.text) == 0) unknown.insert("{{" + part.text + "}}");
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("the template uses ", absl::StrJoin(unknown, ", "),
                   ", which is neither link, email, expires_at nor a metadata column (known: ",
                   absl::StrJoin(known, ", "), ")"));
}

std::string MessageTemplate::Render(const std::map<std::string, std::string>& values,
                                    bool html_escape) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.placeholder) {
      out += part.text;
      continue;
    }
    auto it = values.find(part.text);
    if (it == values.end()) continue;
    out += html_escape ? HtmlEscape(it->second) : it->second;
  }
  return out;
}

}  // namespace magiclink::ctl
