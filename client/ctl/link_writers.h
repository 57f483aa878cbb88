// The outputs of `magiclinkctl issue`: the issued links as CSV or JSON lines,
// or as Resend batch payloads (POST /emails/batch takes at most 100 messages
// per call, so the messages are split into out-0001.json, out-0002.json, ...,
// each a JSON array of {from, to, subject, html[, text]}).
//
// Every link row carries the recipient's metadata from the input, so mail
// merges downstream can use it. These files hold live tokens: they are the
// product, and the only place magiclinkctl ever writes one.
#ifndef MAGICLINK_CLIENT_CTL_LINK_WRITERS_H_
#define MAGICLINK_CLIENT_CTL_LINK_WRITERS_H_

#include <cstddef>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/ctl/message_template.h"
#include "client/ctl/recipients_reader.h"
#include "magiclink/client/client.h"

namespace magiclink::ctl {

// The placeholder values for one link: the batch metadata, overridden by the
// recipient's metadata, overridden by link, email and expires_at.
std::map<std::string, std::string> TemplateValues(
    const client::IssuedLink& link, const RecipientRow& row,
    const std::map<std::string, std::string>& batch_metadata);

// The placeholder names TemplateValues can fill for `table`.
std::set<std::string> KnownTemplateNames(const RecipientTable& table,
                                         const std::map<std::string, std::string>& batch_metadata);

// Header "email,url,token,expires_at,batch_id,<metadata columns...>", then
// one row per link. `table.rows[link.index]` is the link's recipient.
void WriteLinksCsv(const std::vector<client::IssuedLink>& links, const RecipientTable& table,
                   std::ostream& out);

// One JSON object per line: email, url, token, expires_at, batch_id,
// metadata.
void WriteLinksJsonLines(const std::vector<client::IssuedLink>& links, const RecipientTable& table,
                         std::ostream& out);

struct ResendPayloadOptions {
  std::string out_dir;  // must exist and hold no out-*.json (see CheckResendOutDir)
  std::string from;
  MessageTemplate subject;
  MessageTemplate html;
  std::optional<MessageTemplate> text;  // Resend derives text from html when absent
  std::map<std::string, std::string> batch_metadata;
  std::size_t messages_per_file = 100;
};

// Creates (or truncates) `path` readable and writable by its owner only, as
// fits a file of live tokens.
absl::Status CreatePrivateFile(const std::string& path);

// Creates `out_dir` when missing; INVALID_ARGUMENT when it already holds
// out-*.json files, which a sender script would otherwise mix with this
// run's payloads.
absl::Status CheckResendOutDir(const std::string& out_dir);

// Writes the payload files; returns their paths in order.
absl::StatusOr<std::vector<std::string>> WriteResendPayloads(
    const std::vector<client::IssuedLink>& links, const RecipientTable& table,
    const ResendPayloadOptions& options);

}  // namespace magiclink::ctl

#endif  // MAGICLINK_CLIENT_CTL_LINK_WRITERS_H_
