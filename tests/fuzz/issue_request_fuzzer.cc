// The whole IssueBatch validation from arbitrary bytes, as the server sees a
// request: bytes -> IssueBatchRequest (protobuf parse) -> the transport's
// DecodeIssueBatch -> the core's PlanIssue, with small limits so the fuzzer
// reaches them. Never crashes; an accepted plan respects every limit, and a
// refusal is INVALID_ARGUMENT with at least one field violation.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "magiclink/v1/magic_link_service.pb.h"
#include "server/core/errors.h"
#include "server/core/issue_rules.h"
#include "server/core/links.h"
#include "server/transport/request_decoding.h"

// Protobuf logs every string field that is not UTF-8; that is expected here.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  magiclink::v1::IssueBatchRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<magiclink::IssueInput> input = magiclink::DecodeIssueBatch(request);
  if (!input.ok()) {
    if (input.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  magiclink::Limits limits;
  limits.max_batch_size = 8;
  limits.max_metadata_entries = 4;
  limits.max_metadata_bytes = 128;
  static const magiclink::RedirectPolicy* policy = new magiclink::RedirectPolicy(
      *magiclink::RedirectPolicy::Create(magiclink::DevelopmentRedirectPrefixes()));
  absl::StatusOr<magiclink::IssuePlan> plan =
      magiclink::PlanIssue(*input, limits, magiclink::Lifetimes(), *policy);
  if (!plan.ok()) {
    if (plan.status().code() != absl::StatusCode::kInvalidArgument ||
        magiclink::FieldViolations(plan.status()).empty()) {
      std::abort();
    }
    return 0;
  }
  if (plan->recipients.empty() ||
      plan->recipients.size() + plan->rejected.size() != input->recipients.size() ||
      static_cast<int>(input->recipients.size()) > limits.max_batch_size) {
    std::abort();
  }
  std::set<std::string> emails;
  for (const magiclink::PlannedRecipient& r : plan->recipients) {
    if (!emails.insert(r.email).second) std::abort();  // duplicates are refused
    if (static_cast<int>(r.metadata.size()) > limits.max_metadata_entries) std::abort();
    size_t bytes = 0;
    for (const auto& [k, v] : r.metadata) bytes += k.size() + v.size();
    if (bytes > limits.max_metadata_bytes) std::abort();
  }
  return 0;
}
