// Mail templates for Resend payloads: text with {{name}} placeholders
// ({{link}}, {{email}}, {{expires_at}} and metadata keys such as {{name}}).
// Placeholders are checked against the known names before any link is
// issued, so a typo costs nothing.
//
//   absl::StatusOr<MessageTemplate> t = MessageTemplate::Parse("<a href=\"{{link}}\">Join</a>");
//   absl::Status ok = t->CheckNames({"link", "email"});
//   std::string html = t->Render({{"link", url}}, /*html_escape=*/true);
#ifndef MAGICLINK_CLIENT_CTL_MESSAGE_TEMPLATE_H_
#define MAGICLINK_CLIENT_CTL_MESSAGE_TEMPLATE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace magiclink::ctl {

class MessageTemplate {
 public:
  // INVALID_ARGUMENT for a "{{" without "}}" or an empty placeholder.
  static absl::StatusOr<MessageTemplate> Parse(absl::string_view text);

  // INVALID_ARGUMENT naming every placeholder not in `known`.
  absl::Status CheckNames(const std::set<std::string>& known) const;

  // The text with each placeholder replaced by its value (empty when
  // `values` has none), HTML-escaped when `html_escape`.
  std::string Render(const std::map<std::string, std::string>& values, bool html_escape) const;

 private:
  struct Part {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder's name
  };
  std::vector<Part> parts_;
};

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_MESSAGE_TEMPLATE_H_
