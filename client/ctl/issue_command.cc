// `magiclinkctl issue`: recipients in (CSV / JSON lines), links out (CSV /
// JSON lines / Resend batch payloads). Everything that can be checked is
// checked before the first link is issued, the whole list included (every
// chunk is sent with validate_only first); the calls always carry a
// request_id, so a run that fails half-way can be resumed without issuing
// any recipient twice.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/ctl/command.h"
#include "client/ctl/link_writers.h"
#include "client/ctl/progress_bar.h"
#include "client/ctl/recipients_reader.h"
#include "client/ctl/text_formats.h"
#include "client/src/issue_plan.h"

namespace magiclink::ctl {
namespace {

const char kDescription[] =
    "Issues one link per recipient and writes them out.\n"
    "\n"
    "Input (--input, default stdin): CSV with a header row holding an 'email' column (other\n"
    "columns become per-recipient metadata), or JSON lines ({\"email\": ..., \"name\": ...}).\n"
    "\n"
    "Validation first: every chunk is sent with validate_only before any link is issued.\n"
    "If a recipient is invalid, every bad row of the whole input is printed (input line,\n"
    "address, reason) and nothing is issued (exit 2). With --skip_invalid the valid rows\n"
    "are issued and the rejected ones are written, as CSV 'line,email,reason', to the\n"
    "rejects file: --rejects, by default NAME.rejects.csv next to --output=NAME.EXT, or\n"
    "rejects.csv in --out_dir (with output on stdout, only to stderr unless --rejects).\n"
    "\n"
    "Resuming: lists longer than --chunk_size are issued in several calls. Chunk k always\n"
    "holds recipients k*chunk_size+1 .. (k+1)*chunk_size of the input, less the invalid\n"
    "ones, and is sent under the request_id <request_id>/<k> with skip_invalid off, so\n"
    "its content depends only on the input. After a failure (server down, deadline) the\n"
    "same command with the printed --request_id (and the same --chunk_size) replays what\n"
    "was issued and issues the rest, with or without --skip_invalid: nobody gets a second\n"
    "link.\n"
    "\n"
    "All or nothing: output (and the rejects file) is written only when every chunk has\n"
    "been issued; --output goes to FILE.partial and is renamed to FILE at the end. A run\n"
    "that fails writes no output and leaves an existing FILE as it was; resume it to get\n"
    "the complete output.\n"
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
      {"skip_invalid", "",
       "issue the valid recipients and write the invalid ones to the rejects file"},
      {"rejects", "FILE",
       "rejects file for --skip_invalid (default: NAME.rejects.csv next to --output, "
       "rejects.csv in --out_dir)"},
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

// Why a row was refused; a repeat names the input line it repeats, e.g.
// "duplicate of line 4".
std::string ReasonWithLines(const client::RejectedRecipient& r, const RecipientTable& table) {
  if (r.duplicate_of && *r.duplicate_of < table.rows.size()) {
    return absl::StrCat("duplicate of line ", table.rows[*r.duplicate_of].line);
  }
  return r.reason;
}

// Prints every invalid row: input line, address, reason.
void ReportInvalidRows(const std::vector<client::RejectedRecipient>& rejected,
                       const RecipientTable& table, absl::string_view verb) {
  for (const client::RejectedRecipient& r : rejected) {
    std::cerr << "magiclinkctl: " << verb << " line " << table.rows[r.index].line << " ("
              << absl::CHexEscape(r.email) << "): " << ReasonWithLines(r, table) << "\n";
  }
}

// Where --skip_invalid writes the rejected rows; "" for stderr only.
std::string RejectsPath(const ParsedFlags& flags) {
  if (flags.Has("rejects")) return flags.Get("rejects");
  if (flags.Has("out_dir")) {
    return (std::filesystem::path(flags.Get("out_dir")) / "rejects.csv").string();
  }
  if (!flags.Has("output")) return "";
  const std::filesystem::path output(flags.Get("output"));
  return (output.parent_path() / (output.stem().string() + ".rejects.csv")).string();
}

// Writes the rejects file (header "line,email,reason", one row per rejected
// recipient) through a .partial file renamed into place.
absl::Status WriteRejects(const std::string& path,
                          const std::vector<client::RejectedRecipient>& rejected,
                          const RecipientTable& table) {
  const std::string partial = path + ".partial";
  if (absl::Status created = CreatePrivateFile(partial); !created.ok()) return created;
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  out << "line,email,reason\n";
  for (const client::RejectedRecipient& r : rejected) {
    out << table.rows[r.index].line << "," << CsvField(r.email) << ","
        << CsvField(ReasonWithLines(r, table)) << "\n";
  }
  out.close();
  std::error_code error;
  if (out) std::filesystem::rename(partial, path, error);
  if (!out || error) {
    std::remove(partial.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// Points each "recipients[i]" of a failed call at its input line.
void ReportInputLines(const absl::Status& status, const RecipientTable& table) {
  const client::Error error(status);
  for (const client::FieldViolation& v : error.field_violations()) {
    const std::optional<client::internal::RecipientField> field =
        client::internal::ParseRecipientField(v.field);
    if (field && field->index < table.rows.size()) {
      std::cerr << "  " << v.field << " is input line " << table.rows[field->index].line << "\n";
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

// Sends every chunk of `request` with validate_only, and with skip_invalid so
// that one pass finds every bad row of every chunk: the result's `rejected`
// lists them all, and nothing is written.
absl::StatusOr<client::IssueBatchResult> ValidateList(client::Client& client,
                                                      v1::IssueBatchRequest request,
                                                      const client::IssueOptions& options) {
  request.set_validate_only(true);
  request.set_skip_invalid(true);
  return client.IssueBatch(request, options);
}

// What a run has read and checked before it calls the server.
struct PreparedRun {
  std::string format;  // csv, jsonl or resend
  client::IssueOptions options;
  RecipientTable table;
  v1::IssueBatchRequest request;
  std::optional<ResendPayloadOptions> resend;  // with --format=resend
  bool show_progress = false;
};

// The checks of flags alone: required ones, --format and its companions,
// --chunk_size. On failure reports it and returns the exit code.
std::optional<ExitCode> CheckIssueFlags(const ParsedFlags& flags, PreparedRun& run) {
  for (const char* required : {"purpose", "redirect_url"}) {
    if (!flags.Has(required)) return ReportUsage(absl::StrCat("issue needs --", required));
  }
  run.format = flags.Get("format", "csv");
  if (absl::Status s = CheckFormatFlags(flags, run.format); !s.ok()) {
    return ReportUsage(std::string(s.message()));
  }
  if (flags.Has("chunk_size") &&
      (!absl::SimpleAtoi(flags.Get("chunk_size"), &run.options.chunk_size) ||
       run.options.chunk_size == 0)) {
    return ReportUsage("--chunk_size must be a whole number >= 1");
  }
  return std::nullopt;
}

// Reads --input into run.table. On failure reports it and returns the exit
// code.
std::optional<ExitCode> LoadRecipients(const ParsedFlags& flags, PreparedRun& run) {
  const std::string input_path = flags.Get("input", "-");
  absl::StatusOr<std::string> text = ReadInput(input_path);
  if (!text.ok()) return ReportError(text.status());
  absl::StatusOr<InputFormat> input_format =
      DetectInputFormat(flags.Get("input_format"), input_path, *text);
  if (!input_format.ok()) return ReportUsage(std::string(input_format.status().message()));
  absl::StatusOr<RecipientTable> table = ReadRecipients(*text, *input_format);
  if (!table.ok()) return ReportError(table.status());
  if (table->rows.empty()) {
    return ReportError(absl::InvalidArgumentError("the input has no recipients"));
  }
  run.table = *std::move(table);
  return std::nullopt;
}

// Loads and checks the Resend templates and folder, or creates the partial
// --output file, so nothing is issued for output that cannot be written. On
// failure reports it and returns the exit code.
std::optional<ExitCode> PrepareOutput(const ParsedFlags& flags, PreparedRun& run) {
  if (run.format == "resend") {
    absl::StatusOr<ResendPayloadOptions> loaded = LoadResendOptions(flags);
    if (!loaded.ok()) return ReportError(loaded.status());
    loaded->batch_metadata.insert(run.request.metadata().begin(), run.request.metadata().end());
    absl::Status checked =
        CheckTemplates(*loaded, KnownTemplateNames(run.table, loaded->batch_metadata));
    if (checked.ok()) checked = CheckResendOutDir(loaded->out_dir);
    if (!checked.ok()) return ReportError(checked);
    run.resend = *std::move(loaded);
  } else if (flags.Has("output")) {
    if (absl::Status created = CreatePrivateFile(PartialPath(flags)); !created.ok()) {
      return ReportError(created);
    }
  }
  return std::nullopt;
}

// Every check that needs no server, in the order the user is told about
// them. On failure reports it and returns the exit code.
std::optional<ExitCode> PrepareRun(const ParsedFlags& flags, PreparedRun& run) {
  if (std::optional<ExitCode> failed = CheckIssueFlags(flags, run)) return failed;
  if (std::optional<ExitCode> failed = LoadRecipients(flags, run)) return failed;
  absl::StatusOr<v1::IssueBatchRequest> request = BuildRequest(flags, run.table);
  if (!request.ok()) return ReportUsage(std::string(request.status().message()));
  run.request = *std::move(request);
  if (std::optional<ExitCode> failed = PrepareOutput(flags, run)) return failed;
  run.show_progress = flags.Has("progress")
                          ? flags.GetBool("progress")
                          : isatty(STDERR_FILENO) && run.table.rows.size() > run.options.chunk_size;
  return std::nullopt;
}

// An on_progress callback: draws `bar` when progress is shown and keeps the
// recipients done in `*done` when `done` is not null.
std::function<void(const client::IssueProgress&)> ProgressTo(ProgressBar& bar, size_t* done,
                                                             bool show_progress) {
  return [&bar, done, show_progress](const client::IssueProgress& progress) {
    if (done != nullptr) *done = progress.recipients_done;
    if (show_progress) bar.Update(progress);
  };
}

// Validates the whole list and prints every bad row. Fills `rejected` and
// returns nullopt when issuing may go on (no bad row, or --skip_invalid and
// some row is good); otherwise reports and returns the exit code.
std::optional<ExitCode> ValidateRows(const ParsedFlags& flags, client::Client& client,
                                     const PreparedRun& run,
                                     std::vector<client::RejectedRecipient>& rejected) {
  ProgressBar bar(std::cerr, isatty(STDERR_FILENO) != 0, ProgressBar::Phase::kValidate);
  client::IssueOptions options = run.options;
  options.on_progress = ProgressTo(bar, nullptr, run.show_progress);
  absl::StatusOr<client::IssueBatchResult> validated = ValidateList(client, run.request, options);
  bar.Finish();
  if (!validated.ok()) {
    RemovePartialOutput(flags);
    const ExitCode code = ReportError(validated.status());
    ReportInputLines(validated.status(), run.table);
    std::cerr << "magiclinkctl: nothing was issued\n";
    return code;
  }
  rejected = std::move(validated->rejected);
  const bool skip_invalid = flags.GetBool("skip_invalid");
  if (rejected.empty()) return std::nullopt;
  ReportInvalidRows(rejected, run.table, skip_invalid ? "rejected" : "invalid");
  if (skip_invalid && rejected.size() < run.table.rows.size()) return std::nullopt;
  RemovePartialOutput(flags);
  std::cerr << "magiclinkctl: INVALID_REQUEST: " << rejected.size() << " of "
            << run.table.rows.size() << " recipient(s) are invalid; nothing was issued"
            << (skip_invalid ? ""
                             : " (fix them, or run again with --skip_invalid to issue the others)")
            << "\n";
  return kExitInvalidInput;
}

// Writes the links and, with --skip_invalid, the rejects file, then says what
// was done.
ExitCode WriteResults(const ParsedFlags& flags, const PreparedRun& run,
                      const client::IssueBatchResult& result,
                      const std::vector<client::RejectedRecipient>& rejected,
                      absl::string_view resume_hint) {
  const bool skip_invalid = flags.GetBool("skip_invalid");
  absl::Status written = WriteOutput(flags, run.format, result, run.table, run.resend);
  const std::string rejects_path = RejectsPath(flags);
  if (written.ok() && skip_invalid && !rejects_path.empty()) {
    written = WriteRejects(rejects_path, rejected, run.table);
  }
  if (!written.ok()) {
    RemovePartialOutput(flags);
    const ExitCode code = ReportError(written);
    std::cerr << resume_hint;
    return code;
  }
  std::cerr << "magiclinkctl: issued " << result.links.size() << " link(s) in "
            << result.batches.size() << " batch(es)"
            << (rejected.empty() ? "" : absl::StrCat(", rejected ", rejected.size()))
            << (skip_invalid && !rejects_path.empty() ? absl::StrCat(" (see ", rejects_path, ")")
                                                      : "")
            << "\n";
  return kExitOk;
}

// Issues the valid rows, chunk by chunk on the input's own boundaries and
// with skip_invalid off, so each chunk's content depends only on the input;
// then writes the links and the rejects file.
ExitCode IssueValidRows(const ParsedFlags& flags, client::Client& client, PreparedRun& run,
                        const std::vector<client::RejectedRecipient>& rejected) {
  run.request.set_skip_invalid(false);
  for (const client::RejectedRecipient& r : rejected) run.options.excluded.push_back(r.index);
  ProgressBar bar(std::cerr, isatty(STDERR_FILENO) != 0);
  size_t recipients_done = 0;
  run.options.on_progress = ProgressTo(bar, &recipients_done, run.show_progress);
  absl::StatusOr<client::IssueBatchResult> result = client.IssueBatch(run.request, run.options);
  bar.Finish();
  const std::string resume_hint = absl::StrCat(
      "magiclinkctl: run the same command with --request_id=", run.request.request_id(),
      " to resume: what was issued replays, nobody gets a second link\n");
  if (!result.ok()) {
    RemovePartialOutput(flags);
    const ExitCode code = ReportError(result.status());
    ReportInputLines(result.status(), run.table);
    // After UNAVAILABLE a chunk may have been issued with its answer lost.
    if (recipients_done > 0 || code == kExitUnavailable) std::cerr << resume_hint;
    return code;
  }
  return WriteResults(flags, run, *result, rejected, resume_hint);
}

ExitCode RunIssue(const ParsedFlags& flags, client::Client& client) {
  PreparedRun run;
  if (std::optional<ExitCode> failed = PrepareRun(flags, run)) return *failed;
  std::vector<client::RejectedRecipient> rejected;
  if (std::optional<ExitCode> stop = ValidateRows(flags, client, run, rejected)) return *stop;
  return IssueValidRows(flags, client, run, rejected);
}

}  // namespace

Command IssueCommand() {
  return {"issue",
          "issue links for a CSV / JSON-lines list; write CSV, JSON lines or Resend payloads",
          kDescription, Flags(), RunIssue};
}

}  // namespace magiclink::ctl
