// Operator commands: `revoke`, `batch` (GetBatch) and `links` (ListLinks,
// every page). None of them ever prints a token or URL.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/ctl/command.h"
#include "client/ctl/text_formats.h"

namespace magiclink::ctl {
namespace {

std::string TimeOrEmpty(const google::protobuf::Timestamp& t, bool present) {
  return present ? google::protobuf::util::TimeUtil::ToString(t) : "";
}

ExitCode RunRevoke(const ParsedFlags& flags, client::Client& client) {
  const int targets = flags.Has("token") + flags.Has("email") + flags.Has("batch");
  if (targets != 1) return ReportUsage("revoke needs exactly one of --token, --email, --batch");
  if (flags.Has("purpose") && !flags.Has("email")) {
    return ReportUsage("--purpose narrows --email only");
  }
  v1::RevokeRequest request;
  if (flags.Has("token")) {
    absl::StatusOr<std::string> token = TokenFromFlag(flags);
    if (!token.ok()) return ReportUsage(std::string(token.status().message()));
    request.set_token(*token);
  } else if (flags.Has("email")) {
    request.set_email(flags.Get("email"));
    request.set_purpose(flags.Get("purpose"));
  } else {
    request.set_batch_id(flags.Get("batch"));
  }
  absl::StatusOr<v1::RevokeResponse> revoked = client.Revoke(request);
  if (!revoked.ok()) return ReportError(revoked.status());
  std::cout << "{\"revoked_count\":" << revoked->revoked_count() << "}\n";
  return kExitOk;
}

ExitCode RunBatch(const ParsedFlags& flags, client::Client& client) {
  if (!flags.Has("batch")) return ReportUsage("batch needs --batch");
  absl::StatusOr<v1::GetBatchResponse> batch = client.GetBatch(flags.Get("batch"));
  if (!batch.ok()) return ReportError(batch.status());
  // Written by hand rather than with MessageToJsonString, which would print
  // the int64 counts as strings.
  std::cout << "{\"batch_id\":" << JsonString(batch->batch_id())
            << ",\"purpose\":" << JsonString(batch->purpose())
            << ",\"issued_by\":" << JsonString(batch->issued_by()) << ",\"created_at\":"
            << JsonString(google::protobuf::util::TimeUtil::ToString(batch->created_at()))
            << ",\"redirect_url\":" << JsonString(batch->redirect_url())
            << ",\"total\":" << batch->total() << ",\"outstanding\":" << batch->outstanding()
            << ",\"consumed\":" << batch->consumed() << ",\"revoked\":" << batch->revoked()
            << ",\"expired\":" << batch->expired() << "}\n";
  return kExitOk;
}

ExitCode RunLinks(const ParsedFlags& flags, client::Client& client) {
  if (!flags.Has("batch")) return ReportUsage("links needs --batch");
  const std::string format = flags.Get("format", "jsonl");
  if (format != "jsonl" && format != "csv") return ReportUsage("--format must be jsonl or csv");
  v1::ListLinksRequest request;
  request.set_batch_id(flags.Get("batch"));
  if (flags.Has("state")) {
    v1::LinkState state;
    if (!v1::LinkState_Parse(absl::AsciiStrToUpper(flags.Get("state")), &state) ||
        state == v1::LINK_STATE_UNSPECIFIED) {
      return ReportUsage("--state must be outstanding, consumed, revoked or expired");
    }
    request.set_state(state);
  }
  if (flags.Has("page_size")) {
    int page_size = 0;
    if (!absl::SimpleAtoi(flags.Get("page_size"), &page_size) || page_size < 1) {
      return ReportUsage("--page_size must be a whole number >= 1");
    }
    request.set_page_size(page_size);
  }
  if (format == "csv") {
    std::cout << "index,email,state,issued_at,expires_at,consumed_at,revoked_at\n";
  }
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.preserve_proto_field_names = true;
  // So every line has the same keys, index 0 included.
  json_options.always_print_primitive_fields = true;
  absl::Status listed = client.ForEachLink(request, [&](const v1::LinkInfo& link) {
    if (format == "csv") {
      std::cout << link.index() << "," << CsvField(link.email()) << ","
                << absl::AsciiStrToLower(v1::LinkState_Name(link.state())) << ","
                << TimeOrEmpty(link.issued_at(), link.has_issued_at()) << ","
                << TimeOrEmpty(link.expires_at(), link.has_expires_at()) << ","
                << TimeOrEmpty(link.consumed_at(), link.has_consumed_at()) << ","
                << TimeOrEmpty(link.revoked_at(), link.has_revoked_at()) << "\n";
    } else {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(link, &json, json_options);
      std::cout << json << "\n";
    }
    return static_cast<bool>(std::cout);
  });
  std::cout.flush();
  if (!listed.ok()) return ReportError(listed);
  return kExitOk;
}

}  // namespace

Command RevokeCommand() {
  return {"revoke",
          "revoke outstanding links by token, by email (and purpose) or by batch",
          "Revokes outstanding tokens and prints {\"revoked_count\": N}. Idempotent: revoking\n"
          "again succeeds with 0.\n",
          {{"token", "TOKEN|-", "one token; - reads it from stdin"},
           {"email", "ADDRESS", "every outstanding token of this address"},
           {"purpose", "LABEL", "with --email: only tokens of this purpose"},
           {"batch", "ID", "every outstanding token of this batch"}},
          RunRevoke};
}

Command BatchCommand() {
  return {"batch",
          "show a batch: purpose, issuer, created_at and counts by state",
          "Prints the batch as one JSON object: batch_id, purpose, issued_by, created_at,\n"
          "redirect_url, total, outstanding, consumed, revoked, expired.\n",
          {{"batch", "ID", "the batch id from issue (required)"}},
          RunBatch};
}

Command LinksCommand() {
  return {"links",
          "list a batch's links (email, state, timestamps), every page",
          "Lists the batch's links in issue order, fetching every page: JSON lines (default)\n"
          "or CSV. Shows email, state and timestamps, never a token or URL.\n",
          {{"batch", "ID", "the batch id (required)"},
           {"state", "STATE", "only outstanding, consumed, revoked or expired links"},
           {"format", "jsonl|csv", "output format (default jsonl)"},
           {"page_size", "N", "links per call (default: server's)"}},
          RunLinks};
}

}  // namespace magiclink::ctl
