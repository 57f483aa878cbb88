#include "client/src/issue_plan.h"

#include <algorithm>
#include <limits>
#include <random>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "server/core/email.h"

namespace magiclink::client::internal {
namespace {

constexpr absl::string_view kRecipientsPrefix = "recipients[";

absl::Status InvalidRequest(const std::vector<FieldViolation>& violations) {
  return MakeError(absl::StatusCode::kInvalidArgument, InvalidRequestMessage(violations),
                   v1::INVALID_REQUEST, {}, violations);
}

// The chunk suffix of the last chunk must fit in the server's request_id.
absl::Status CheckRoomForChunkSuffix(absl::string_view base_request_id, std::size_t chunk_count) {
  if (ChunkRequestId(base_request_id, chunk_count - 1).size() <= kMaxRequestIdLength) {
    return absl::OkStatus();
  }
  return InvalidRequest(
      {{"request_id", absl::StrCat("must leave room for the chunk suffix (\"/", chunk_count - 1,
                                   "\") within ", kMaxRequestIdLength, " characters")}});
}

// For each input position to send, the earlier one whose address it repeats,
// if any. "The same address" is the server's rule itself (NormalizeEmail,
// linked from server/core), so the client and a server that sees the whole
// list agree; an address the server rejects is no one's repeat (the server
// reports it). The length limit is the server's to enforce.
std::vector<std::optional<std::size_t>> FindRepeats(const v1::IssueBatchRequest& request,
                                                    const std::vector<bool>& to_send) {
  std::vector<std::optional<std::size_t>> repeat_of(to_send.size());
  std::unordered_map<std::string, std::size_t> first_index_of;
  for (std::size_t i = 0; i < to_send.size(); ++i) {
    if (!to_send[i]) continue;
    absl::StatusOr<std::string> address = NormalizeEmail(
        request.recipients(static_cast<int>(i)).email(), std::numeric_limits<std::size_t>::max());
    if (!address.ok()) continue;
    const auto [it, inserted] = first_index_of.emplace(*std::move(address), i);
    if (!inserted) repeat_of[i] = it->second;
  }
  return repeat_of;
}

// Chunk k covers input positions [k * chunk_size, (k + 1) * chunk_size) and
// sends those marked in `to_send`; a chunk with nothing to send is left out.
std::vector<ChunkPlan> SplitIntoChunks(const std::vector<bool>& to_send, std::size_t chunk_size,
                                       std::size_t chunk_count, absl::string_view base_request_id) {
  const std::size_t total = to_send.size();
  std::vector<ChunkPlan> chunks;
  for (std::size_t c = 0; c < chunk_count; ++c) {
    ChunkPlan chunk;
    chunk.chunk_index = c;
    chunk.first_index = c * chunk_size;
    chunk.end_index = std::min(total, chunk.first_index + chunk_size);
    chunk.request_id = ChunkRequestId(base_request_id, c);
    for (std::size_t i = chunk.first_index; i < chunk.end_index; ++i) {
      if (to_send[i]) chunk.input_indices.push_back(i);
    }
    if (!chunk.input_indices.empty() || total == 0) chunks.push_back(std::move(chunk));
  }
  return chunks;
}

}  // namespace

std::string ChunkRequestId(absl::string_view base, std::size_t chunk_index) {
  return absl::StrCat(base, "/", chunk_index);
}

std::string RandomRequestId() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> word;
  return absl::StrFormat("mlc-%08x%08x%08x%08x", word(device), word(device), word(device),
                         word(device));
}

absl::StatusOr<IssuePlan> PlanIssue(const v1::IssueBatchRequest& request, std::size_t chunk_size,
                                    absl::string_view base_request_id,
                                    const std::vector<std::size_t>& excluded) {
  if (chunk_size == 0) return InvalidRequest({{"chunk_size", "must be at least 1"}});
  const std::size_t total = request.recipients_size();
  IssuePlan plan;
  plan.chunk_count = total == 0 ? 1 : (total + chunk_size - 1) / chunk_size;
  if (absl::Status s = CheckRoomForChunkSuffix(base_request_id, plan.chunk_count); !s.ok()) {
    return s;
  }

  std::vector<bool> to_send(total, true);
  for (const std::size_t i : excluded) {
    if (i < total) to_send[i] = false;
  }
  const std::vector<std::optional<std::size_t>> repeat_of = FindRepeats(request, to_send);
  std::vector<FieldViolation> repeats;
  for (std::size_t i = 0; i < total; ++i) {
    if (!repeat_of[i]) continue;
    to_send[i] = false;
    std::string why = absl::StrCat("duplicate of ", RecipientFieldPath(*repeat_of[i], ""));
    if (request.skip_invalid()) {
      plan.rejected.push_back(
          {i, request.recipients(static_cast<int>(i)).email(), std::move(why), repeat_of[i]});
    } else {
      repeats.push_back({RecipientFieldPath(i, ".email"), std::move(why)});
    }
  }
  if (!repeats.empty()) return InvalidRequest(repeats);
  plan.chunks = SplitIntoChunks(to_send, chunk_size, plan.chunk_count, base_request_id);
  return plan;
}

std::optional<RecipientField> ParseRecipientField(absl::string_view field) {
  if (!absl::ConsumePrefix(&field, kRecipientsPrefix)) return std::nullopt;
  const std::size_t close = field.find(']');
  if (close == absl::string_view::npos) return std::nullopt;
  const absl::string_view digits = field.substr(0, close);
  RecipientField parsed;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &parsed.index)) {
    return std::nullopt;
  }
  parsed.rest = std::string(field.substr(close + 1));
  return parsed;
}

std::string RecipientFieldPath(std::size_t index, absl::string_view rest) {
  return absl::StrCat(kRecipientsPrefix, index, "]", rest);
}

std::string InvalidRequestMessage(const std::vector<FieldViolation>& violations) {
  std::string message = "invalid request";
  if (violations.empty()) return message;
  absl::StrAppend(&message, ": ", violations.front().field, ": ", violations.front().description);
  if (violations.size() > 1) absl::StrAppend(&message, " (and ", violations.size() - 1, " more)");
  return message;
}

}  // namespace magiclink::client::internal
