#include "server/core/issue_rules.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/core/email.h"
#include "server/core/errors.h"

namespace magiclink {
namespace {

// Length-prefixed, so no two different requests share an encoding.
void AppendField(std::string& out, absl::string_view value) {
  absl::StrAppend(&out, value.size(), ":", value, ";");
}

void AppendMetadata(std::string& out, const Metadata& metadata) {
  AppendField(out, absl::StrCat(metadata.size()));
  for (const auto& [key, value] : metadata) {
    AppendField(out, key);
    AppendField(out, value);
  }
}

bool IsPrintableAscii(absl::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// A recipient's email as it may appear in an error: escaped and truncated.
std::string Quoted(absl::string_view email) {
  absl::string_view head = email.substr(0, 80);
  return absl::StrCat("\"", absl::CHexEscape(head), email.size() > 80 ? "...\"" : "\"");
}

}  // namespace

std::string PurposeProblem(absl::string_view purpose, size_t max_length) {
  if (purpose.empty()) return "is required";
  if (purpose.size() > max_length) return absl::StrCat("exceeds ", max_length, " characters");
  for (char c : purpose) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                    c == '.';
    if (!ok) return "may contain only a-z, 0-9, '_', '-' and '.'";
  }
  return "";
}

std::string IssueRequestContent(const IssueInput& input) {
  std::string canonical = "magiclink/v1/issue;";
  AppendField(canonical, input.purpose);
  AppendField(canonical, input.ttl ? absl::StrCat(absl::ToInt64Microseconds(*input.ttl)) : "default");
  AppendField(canonical, input.redirect_url);
  AppendMetadata(canonical, input.metadata);
  AppendField(canonical, input.skip_invalid ? "skip" : "atomic");
  AppendField(canonical, input.revoke_previous ? "revoke" : "keep");
  AppendField(canonical, absl::StrCat(input.recipients.size()));
  for (const RecipientInput& r : input.recipients) {
    AppendField(canonical, r.email);
    AppendMetadata(canonical, r.metadata);
  }
  return canonical;
}

absl::StatusOr<IssuePlan> PlanIssue(const IssueInput& input, const Limits& limits,
                                    const Lifetimes& lifetimes, const RedirectPolicy& redirects) {
  std::vector<FieldViolation> request_problems;
  const size_t count = input.recipients.size();
  if (count == 0) {
    request_problems.push_back({"recipients", "at least one recipient is required"});
  } else if (count > static_cast<size_t>(limits.max_batch_size)) {
    request_problems.push_back({"recipients", absl::StrCat("has ", count, " recipients; at most ",
                                                           limits.max_batch_size,
                                                           " are allowed per batch")});
  }
  if (std::string p = PurposeProblem(input.purpose, limits.max_purpose_length); !p.empty()) {
    request_problems.push_back({"purpose", p});
  }
  IssuePlan plan;
  plan.ttl = input.ttl.value_or(lifetimes.default_ttl);
  if (plan.ttl < lifetimes.min_ttl) {
    request_problems.push_back(
        {"ttl", absl::StrCat("must be at least ", absl::FormatDuration(lifetimes.min_ttl))});
  } else if (plan.ttl > lifetimes.max_ttl) {
    request_problems.push_back(
        {"ttl", absl::StrCat("must be at most ", absl::FormatDuration(lifetimes.max_ttl))});
  }
  if (absl::Status s = redirects.Check(input.redirect_url, limits.max_redirect_url_length);
      !s.ok()) {
    request_problems.push_back({"redirect_url", std::string(s.message())});
  }
  CheckMetadata(input.metadata, limits, "metadata", request_problems);
  if (input.request_id.size() > limits.max_request_id_length ||
      !IsPrintableAscii(input.request_id)) {
    request_problems.push_back(
        {"request_id", absl::StrCat("must be at most ", limits.max_request_id_length,
                                    " printable ASCII characters without spaces")});
  }
  // A batch too large to accept is not worth checking recipient by recipient.
  if (count > static_cast<size_t>(limits.max_batch_size)) return InvalidRequest(request_problems);

  std::vector<FieldViolation> recipient_problems;
  absl::flat_hash_map<std::string, int> first_index_of;
  first_index_of.reserve(count);
  plan.recipients.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const RecipientInput& r = input.recipients[i];
    const int index = static_cast<int>(i);
    std::vector<std::string> problems;
    absl::StatusOr<std::string> email = NormalizeEmail(r.email, limits.max_email_length);
    if (!email.ok()) {
      problems.push_back(std::string(email.status().message()));
    } else if (auto [it, inserted] = first_index_of.emplace(*email, index); !inserted) {
      problems.push_back(absl::StrCat("duplicate of recipients[", it->second, "]"));
    }
    Metadata merged = MergeMetadata(input.metadata, r.metadata);
    std::vector<FieldViolation> metadata_problems;
    CheckMetadata(merged, limits, "metadata", metadata_problems);
    for (const FieldViolation& v : metadata_problems) {
      problems.push_back(absl::StrCat(v.field, " (merged with the batch metadata) ", v.description));
    }
    if (problems.empty()) {
      plan.recipients.push_back({index, *std::move(email), std::move(merged)});
      continue;
    }
    const std::string why = absl::StrJoin(problems, "; ");
    if (input.skip_invalid) {
      plan.rejected.push_back({index, r.email, why});
    } else {
      recipient_problems.push_back(
          {absl::StrCat("recipients[", index, "].email"), absl::StrCat(Quoted(r.email), ": ", why)});
    }
  }
  request_problems.insert(request_problems.end(), recipient_problems.begin(),
                          recipient_problems.end());
  if (!request_problems.empty()) return InvalidRequest(request_problems);
  if (plan.recipients.empty()) {
    std::vector<FieldViolation> all;
    for (const RejectedRecipient& r : plan.rejected) {
      all.push_back({absl::StrCat("recipients[", r.index, "].email"),
                     absl::StrCat(Quoted(r.email), ": ", r.reason)});
    }
    all.push_back({"recipients", "no recipient is valid"});
    return InvalidRequest(all);
  }
  return plan;
}

}  // namespace magiclink
