// Client::IssueBatch: one logical request, sent as chunks (see issue_plan.h),
// with the chunks' links, rejections and errors mapped back to positions in
// the caller's request.
#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "client/src/issue_plan.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "magiclink/client/client.h"

namespace magiclink::client {
namespace {

using internal::ChunkPlan;

// Adds one chunk's response to `result`, checking that it accounts for every
// recipient sent exactly once (a validation answers with rejections only).
// A server reason names no other recipient (the client sends no repeats), so
// it is kept as it came.
absl::Status MergeChunk(const v1::IssueBatchResponse& response, const ChunkPlan& chunk,
                        bool validate_only, IssueBatchResult& result) {
  const std::size_t sent = chunk.input_indices.size();
  std::vector<bool> rejected(sent, false);
  for (const v1::RejectedRecipient& r : response.rejected()) {
    if (r.index() < 0 || static_cast<std::size_t>(r.index()) >= sent || rejected[r.index()]) {
      return absl::InternalError("IssueBatch response rejected a recipient it was not sent");
    }
    rejected[r.index()] = true;
    result.rejected.push_back({chunk.input_indices[r.index()], r.email(), r.reason()});
  }
  if (validate_only) {
    if (response.links_size() != 0 || !response.batch_id().empty()) {
      return absl::InternalError("IssueBatch validate_only response holds a batch or links");
    }
    return absl::OkStatus();
  }
  if (static_cast<std::size_t>(response.links_size()) +
          static_cast<std::size_t>(response.rejected_size()) !=
      sent) {
    return absl::InternalError(absl::StrCat("IssueBatch response holds ", response.links_size(),
                                            " links and ", response.rejected_size(),
                                            " rejections for ", sent, " recipients"));
  }
  int next_link = 0;
  for (std::size_t i = 0; i < sent; ++i) {
    if (rejected[i]) continue;
    const v1::IssuedLink& link = response.links(next_link++);
    result.links.push_back({chunk.input_indices[i], link.email(), link.url(), link.token(),
                            link.expires_at(), response.batch_id()});
  }
  result.batches.push_back(
      {response.batch_id(), chunk.request_id, chunk.first_index, sent, response.replayed()});
  result.revoked_previous_count += response.revoked_previous_count();
  return absl::OkStatus();
}

// A chunk's "recipients[N]..." field path with N turned into the input
// position; nullopt for another field or a position the chunk does not have.
std::optional<internal::RecipientField> ToInputField(absl::string_view field,
                                                     const ChunkPlan& chunk) {
  std::optional<internal::RecipientField> parsed = internal::ParseRecipientField(field);
  if (!parsed || parsed->index >= chunk.input_indices.size()) return std::nullopt;
  parsed->index = chunk.input_indices[parsed->index];
  return parsed;
}

// With skip_invalid the server still fails a chunk in which no recipient is
// valid ("recipients": "no recipient is valid", plus one violation per
// recipient). For the logical request that is not an error: those recipients
// are rejected like any other invalid one. Returns false when `status` is
// anything else.
bool RejectWholeChunk(const absl::Status& status, const v1::IssueBatchRequest& request,
                      const ChunkPlan& chunk, IssueBatchResult& result) {
  if (!request.skip_invalid() || status.code() != absl::StatusCode::kInvalidArgument) return false;
  const Error error(status);
  std::set<std::size_t> seen;
  std::vector<RejectedRecipient> rejected;
  for (const FieldViolation& v : error.field_violations()) {
    if (v.field == "recipients") continue;
    const std::optional<internal::RecipientField> field = ToInputField(v.field, chunk);
    if (!field || field->rest != ".email" || !seen.insert(field->index).second) return false;
    rejected.push_back(
        {field->index, request.recipients(static_cast<int>(field->index)).email(), v.description});
  }
  if (seen.size() != chunk.input_indices.size()) return false;
  result.rejected.insert(result.rejected.end(), rejected.begin(), rejected.end());
  return true;
}

// "IssueBatch chunk k of n (recipients[a..b]) failed[ after ...]": where in
// the caller's request a chunk failed and how much was issued before.
std::string ChunkFailure(const ChunkPlan& chunk, std::size_t chunk_count) {
  std::string where =
      absl::StrCat("IssueBatch chunk ", chunk.chunk_index + 1, " of ", chunk_count, " (recipients[",
                   chunk.first_index, "..", chunk.end_index - 1, "]) failed");
  if (chunk.first_index > 0) {
    absl::StrAppend(&where, " after recipients[0..", chunk.first_index - 1,
                    "] were issued or rejected");
  }
  return where;
}

// Chunk k's error, told in terms of the caller's request: the BadRequest's
// field paths name input positions, and the message is made anew from
// ChunkFailure and those violations (or the server's message, when it has
// none, as it then names no recipient).
absl::Status ChunkError(const absl::Status& status, const ChunkPlan& chunk,
                        std::size_t chunk_count) {
  if (chunk_count == 1 && chunk.input_indices.size() == chunk.end_index) return status;
  const absl::optional<absl::Cord> payload = status.GetPayload(kStatusDetailsTypeUrl);
  google::rpc::Status details;
  const bool has_details = payload.has_value() && details.ParseFromString(std::string(*payload));
  std::vector<FieldViolation> violations;
  for (google::protobuf::Any& any : *details.mutable_details()) {
    google::rpc::BadRequest bad_request;
    if (!any.Is<google::rpc::BadRequest>() || !any.UnpackTo(&bad_request)) continue;
    for (google::rpc::BadRequest::FieldViolation& v : *bad_request.mutable_field_violations()) {
      if (const std::optional<internal::RecipientField> field = ToInputField(v.field(), chunk)) {
        v.set_field(internal::RecipientFieldPath(field->index, field->rest));
      }
      violations.push_back({v.field(), v.description()});
    }
    any.PackFrom(bad_request);
  }
  const std::string message =
      absl::StrCat(ChunkFailure(chunk, chunk_count), ": ",
                   violations.empty() ? std::string(status.message())
                                      : internal::InvalidRequestMessage(violations));
  absl::Status mapped(status.code(), message);
  if (has_details) {
    details.set_message(message);
    mapped.SetPayload(kStatusDetailsTypeUrl, absl::Cord(details.SerializeAsString()));
  }
  return mapped;
}

}  // namespace

absl::StatusOr<IssueBatchResult> Client::IssueBatch(const v1::IssueBatchRequest& request,
                                                    const IssueOptions& options) {
  const std::string base_request_id =
      request.request_id().empty() ? internal::RandomRequestId() : request.request_id();
  absl::StatusOr<internal::IssuePlan> plan =
      internal::PlanIssue(request, options.chunk_size, base_request_id, options.excluded);
  if (!plan.ok()) return plan.status();

  // Everything but the recipients, copied once rather than once per chunk.
  v1::IssueBatchRequest shared = request;
  shared.clear_recipients();
  IssueBatchResult result;
  result.rejected = std::move(plan->rejected);
  result.links.reserve(request.recipients_size());
  for (const ChunkPlan& chunk : plan->chunks) {
    v1::IssueBatchRequest call = shared;
    call.set_request_id(chunk.request_id);
    call.mutable_recipients()->Reserve(static_cast<int>(chunk.input_indices.size()));
    for (const std::size_t i : chunk.input_indices) {
      *call.add_recipients() = request.recipients(static_cast<int>(i));
    }

    absl::StatusOr<v1::IssueBatchResponse> response = connection_->IssueBatch(call);
    IssueProgress progress;
    if (response.ok()) {
      if (absl::Status merged = MergeChunk(*response, chunk, request.validate_only(), result);
          !merged.ok()) {
        return ChunkError(merged, chunk, plan->chunk_count);
      }
      progress.batch_id = response->batch_id();
      progress.replayed = response->replayed();
    } else if (!RejectWholeChunk(response.status(), request, chunk, result)) {
      return ChunkError(response.status(), chunk, plan->chunk_count);
    }
    if (options.on_progress) {
      progress.chunk_index = chunk.chunk_index;
      progress.chunk_count = plan->chunk_count;
      progress.recipients_done = chunk.end_index;
      progress.recipients_total = request.recipients_size();
      options.on_progress(progress);
    }
  }
  std::sort(
      result.rejected.begin(), result.rejected.end(),
      [](const RejectedRecipient& a, const RejectedRecipient& b) { return a.index < b.index; });
  return result;
}

}  // namespace magiclink::client
