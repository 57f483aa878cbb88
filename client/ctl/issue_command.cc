// `magiclinkctl issue`: recipients in (CSV / JSON lines), links out (CSV /
// JSON lines / Resend batch payloads). Everything that can be checked is
// checked before the first link is issued; the call always carries a
// request_id, so a run that fails half-way can be resumed without issuing
// any recipient twice.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/ctl/command.h"
#include "client/ctl/link_writers.h"
#include "client/ctl/progress_bar.h"
#include "client/ctl/recipients_reader.h"
#include "client/src/issue_plan.h"

namespace magiclink::ctl {
namespace {

const char kDescription[] =
    "Issues one link per recipient and writes them out.\n"
    "\n"
    "Input (--input, default stdin): CSV with a header row holding an 'email' column (other\n"
    "columns become per-recipient metadata), or JSON lines ({\"email\": ..., \"name\": ...}).\n"
    "Lists longer than --chunk_size are issued in several calls; each call is idempotent\n"
    "under the run's request_id, so after a failure the same command with the printed\n"
    "--request_id resumes without issuing anyone twice.\n"
    "\n"
    "Output (--format): csv (default) or jsonl to --output or stdout, or resend: files\n"
    "out-0001.json, out-0002.json, ... in --out_dir, each a JSON array of at most 100\n"
    "messages {from, to, subject, html, text} for Resend's POST /emails/batch. Templates\n"
    "(--subject, --template, --text_template) use {{link}}, {{email}}, {{expires_at}} and\n"
    "metadata keys such as {{name}}; values are HTML-escaped in --template.\n"
    "Output files hold live tokens and are created readable by their owner only.\n"
    "\n"
    "Example:\n"
    "  magiclinkctl issue --purpose=invite --redirect_url=https://app.example.com/welcome \\\n"
    "    --input=invites.csv --format=resend --out_dir=payloads \\\n"
    "    --from='Acme <hello@acme.dev>' --subject='Your invite, {{name}}' \\\n"
    "    --template=invite.html\n";

std::vector<FlagSpec> Flags() {
  return {
      {"purpose", "LABEL", "purpose bound to every token, e.g. invite (required)"},
      {"redirect_url", "URL", "page the links open; the token is appended (required)"},
      {"input", "FILE", "recipients file, - for stdin (default -)"},
      {"input_format", "csv|jsonl", "input format (default: from the file name or content)"},
      {"ttl", "DURATION", "how long the links stay valid, e.g. 72h (default: server's)"},
      {"metadata", "KEY=VALUE", "batch metadata copied into every token", true},
      {"request_id", "ID", "idempotency key of this run (default: a random one)"},
      {"skip_invalid", "", "issue the valid recipients and report the invalid ones"},
      {"revoke_previous", "",
       "revoke earlier outstanding links of this purpose for these addresses"},
      {"chunk_size", "N", "recipients per IssueBatch call (default 1000)"},
      {"format", "csv|jsonl|resend", "output format (default csv)"},
      {"output", "FILE", "csv/jsonl output file (default stdout)"},
      {"out_dir", "DIR", "resend: folder for out-NNNN.json; must hold none yet (required)"},
      {"from", "SENDER", "resend: the from address, e.g. 'Acme <hello@acme.dev>' (required)"},
      {"subject", "TEXT", "resend: subject template (required)"},
      {"template", "FILE", "resend: HTML body template (required)"},
      {"text_template", "FILE", "resend: plain-text body template (default: Resend derives it)"},
      {"progress", "",
       "progress on stderr; default: on when stderr is a terminal and the list needs more than "
       "one call"},
  };
}

// What --format=resend needs, loaded and checked before anything is issued.
absl::StatusOr<ResendPayloadOptions> LoadResendOptions(const ParsedFlags& flags) {
  ResendPayloadOptions options;
  options.out_dir = flags.Get("out_dir");
  options.from = flags.Get("from");
  absl::StatusOr<MessageTemplate> subject = MessageTemplate::Parse(flags.Get("subject"));
  if (!subject.ok()) return subject.status();
  options.subject = *std::move(subject);
  absl::StatusOr<std::string> html = ReadInput(flags.Get("template"));
  if (!html.ok()) return html.status();
  absl::StatusOr<MessageTemplate> html_template = MessageTemplate::Parse(*html);
  if (!html_template.ok()) return html_template.status();
  options.html = *std::move(html_template);
  if (flags.Has("text_template")) {
    absl::StatusOr<std::string> text = ReadInput(flags.Get("text_template"));
    if (!text.ok()) return text.status();
    absl::StatusOr<MessageTemplate> text_template = MessageTemplate::Parse(*text);
    if (!text_template.ok()) return text_template.status();
    options.text = *std::move(text_template);
  }
  return options;
}

absl::Status CheckTemplates(const ResendPayloadOptions& options,
                            const std::set<std::string>& known) {
  for (const MessageTemplate* t : {&options.subject, &options.html}) {
    if (absl::Status s = t->CheckNames(known); !s.ok()) return s;
  }
  if (options.text.has_value()) return options.text->CheckNames(known);
  return absl::OkStatus();
}

// Flags that belong to one output format only, rejected with the others.
absl::Status CheckFormatFlags(const ParsedFlags& flags, const std::string& format) {
  const bool resend = format == "resend";
  if (!resend && format != "csv" && format != "jsonl") {
    return absl::InvalidArgumentError("--format must be csv, jsonl or resend");
  }
  for (const char* flag : {"out_dir", "from", "subject", "template"}) {
    if (resend && !flags.Has(flag)) {
      return absl::InvalidArgumentError(absl::StrCat("--format=resend needs --", flag));
    }
  }
  for (const char* flag : {"out_dir", "from", "subject", "template", "text_template"}) {
    if (!resend && flags.Has(flag)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " needs --format=resend"));
    }
  }
  if (resend && flags.Has("output")) {
    return absl::InvalidArgumentError("--output does not apply to --format=resend (use --out_dir)");
  }
  return absl::OkStatus();
}

// The request, minus recipients' validation (the server's job).
absl::StatusOr<v1::IssueBatchRequest> BuildRequest(const ParsedFlags& flags,
                                                   const RecipientTable& table) {
  v1::IssueBatchRequest request;
  request.set_purpose(flags.Get("purpose"));
  request.set_redirect_url(flags.Get("redirect_url"));
  request.set_skip_invalid(flags.GetBool("skip_invalid"));
  request.set_revoke_previous(flags.GetBool("revoke_previous"));
  request.set_request_id(flags.Get("request_id", client::internal::RandomRequestId()));
  if (flags.Has("ttl")) {
    absl::Duration ttl;
    if (!absl::ParseDuration(flags.Get("ttl"), &ttl) || ttl <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--ttl must be a positive duration such as 72h");
    }
    request.mutable_ttl()->set_seconds(absl::ToInt64Seconds(ttl));
  }
  for (const std::string& entry : flags.GetAll("metadata")) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError("--metadata takes KEY=VALUE");
    }
    (*request.mutable_metadata())[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const RecipientRow& row : table.rows) {
    v1::Recipient* recipient = request.add_recipients();
    recipient->set_email(row.email);
    recipient->mutable_metadata()->insert(row.metadata.begin(), row.metadata.end());
  }
  return request;
}

// Points each "recipients[i]" of a failed call at its input line.
void ReportInputLines(const absl::Status& status, const RecipientTable& table) {
  const client::Error error(status);
  for (const client::FieldViolation& v : error.field_violations()) {
    size_t index = 0;
    if (std::sscanf(v.field.c_str(), "recipients[%zu]", &index) == 1 && index < table.rows.size()) {
      std::cerr << "  " << v.field << " is input line " << table.rows[index].line << "\n";
    }
  }
}

// --output is written next to itself and renamed into place at the end, so a
// failed run neither leaves a half-written file nor clobbers an old one.
std::string PartialPath(const ParsedFlags& flags) { return flags.Get("output") + ".partial"; }

void RemovePartialOutput(const ParsedFlags& flags) {
  if (flags.Has("output")) std::remove(PartialPath(flags).c_str());
}

absl::Status WriteOutput(const ParsedFlags& flags, const std::string& format,
                         const client::IssueBatchResult& result, const RecipientTable& table,
                         const std::optional<ResendPayloadOptions>& resend) {
  if (resend.has_value()) {
    absl::StatusOr<std::vector<std::string>> files =
        WriteResendPayloads(result.links, table, *resend);
    if (!files.ok()) return files.status();
    std::cerr << "magiclinkctl: wrote " << files->size() << " Resend payload file(s) to "
              << resend->out_dir << "\n";
    return absl::OkStatus();
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (flags.Has("output")) {
    file.open(PartialPath(flags), std::ios::binary | std::ios::trunc);
    out = &file;
  }
  if (format == "jsonl") {
    WriteLinksJsonLines(result.links, table, *out);
  } else {
    WriteLinksCsv(result.links, table, *out);
  }
  out->flush();
  if (!*out) return absl::InternalError("cannot write the links");
  if (flags.Has("output")) {
    file.close();
    std::error_code error;
    std::filesystem::rename(PartialPath(flags), flags.Get("output"), error);
    if (error) return absl::InternalError(absl::StrCat("cannot write ", flags.Get("output")));
  }
  return absl::OkStatus();
}

ExitCode RunIssue(const ParsedFlags& flags, client::Client& client) {
  for (const char* required : {"purpose", "redirect_url"}) {
    if (!flags.Has(required)) return ReportUsage(absl::StrCat("issue needs --", required));
  }
  const std::string format = flags.Get("format", "csv");
  if (absl::Status s = CheckFormatFlags(flags, format); !s.ok()) {
    return ReportUsage(std::string(s.message()));
  }
  client::IssueOptions options;
  if (flags.Has("chunk_size") && (!absl::SimpleAtoi(flags.Get("chunk_size"), &options.chunk_size) ||
                                  options.chunk_size == 0)) {
    return ReportUsage("--chunk_size must be a whole number >= 1");
  }

  const std::string input_path = flags.Get("input", "-");
  absl::StatusOr<std::string> text = ReadInput(input_path);
  if (!text.ok()) return ReportError(text.status());
  absl::StatusOr<InputFormat> input_format =
      DetectInputFormat(flags.Get("input_format"), input_path, *text);
  if (!input_format.ok()) return ReportUsage(std::string(input_format.status().message()));
  absl::StatusOr<RecipientTable> table = ReadRecipients(*text, *input_format);
  if (!table.ok()) return ReportError(table.status());
  if (table->rows.empty())
    return ReportError(absl::InvalidArgumentError("the input has no recipients"));

  absl::StatusOr<v1::IssueBatchRequest> request = BuildRequest(flags, *table);
  if (!request.ok()) return ReportUsage(std::string(request.status().message()));
  std::optional<ResendPayloadOptions> resend;
  if (format == "resend") {
    absl::StatusOr<ResendPayloadOptions> loaded = LoadResendOptions(flags);
    if (!loaded.ok()) return ReportError(loaded.status());
    loaded->batch_metadata.insert(request->metadata().begin(), request->metadata().end());
    absl::Status checked =
        CheckTemplates(*loaded, KnownTemplateNames(*table, loaded->batch_metadata));
    if (checked.ok()) checked = CheckResendOutDir(loaded->out_dir);
    if (!checked.ok()) return ReportError(checked);
    resend = *std::move(loaded);
  } else if (flags.Has("output")) {
    if (absl::Status created = CreatePrivateFile(PartialPath(flags)); !created.ok()) {
      return ReportError(created);
    }
  }

  const bool show_progress = flags.Has("progress")
                                 ? flags.GetBool("progress")
                                 : isatty(STDERR_FILENO) && table->rows.size() > options.chunk_size;
  ProgressBar bar(std::cerr, isatty(STDERR_FILENO) != 0);
  size_t recipients_done = 0;
  options.on_progress = [&](const client::IssueProgress& progress) {
    recipients_done = progress.recipients_done;
    if (show_progress) bar.Update(progress);
  };
  absl::StatusOr<client::IssueBatchResult> result = client.IssueBatch(*request, options);
  bar.Finish();
  const std::string resume_hint =
      absl::StrCat("magiclinkctl: run the same command with --request_id=", request->request_id(),
                   " to resume: what was issued replays, nobody gets a second link\n");
  if (!result.ok()) {
    RemovePartialOutput(flags);
    const ExitCode code = ReportError(result.status());
    ReportInputLines(result.status(), *table);
    // After UNAVAILABLE a chunk may have been issued with its answer lost.
    if (recipients_done > 0 || code == kExitUnavailable) std::cerr << resume_hint;
    return code;
  }
  for (const client::RejectedRecipient& r : result->rejected) {
    std::cerr << "magiclinkctl: rejected line " << table->rows[r.index].line << " (" << r.email
              << "): " << r.reason << "\n";
  }
  if (absl::Status written = WriteOutput(flags, format, *result, *table, resend); !written.ok()) {
    RemovePartialOutput(flags);
    const ExitCode code = ReportError(written);
    std::cerr << resume_hint;
    return code;
  }
  std::cerr << "magiclinkctl: issued " << result->links.size() << " link(s) in "
            << result->batches.size() << " batch(es)"
            << (result->rejected.empty() ? ""
                                         : absl::StrCat(", rejected ", result->rejected.size()))
            << "\n";
  return kExitOk;
}

}  // namespace

Command IssueCommand() {
  return {"issue",
          "issue links for a CSV / JSON-lines list; write CSV, JSON lines or Resend payloads",
          kDescription, Flags(), RunIssue};
}

}  // namespace magiclink::ctl
