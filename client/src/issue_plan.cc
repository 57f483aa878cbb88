#include "client/src/issue_plan.h"

#include <random>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace magiclink::client::internal {
namespace {

// The server's notion of "the same address" (trimmed, domain lower-cased),
// or "" for an address it will reject anyway; the server reports those.
std::string DuplicateKey(absl::string_view raw) {
  const absl::string_view email = absl::StripAsciiWhitespace(raw);
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || email.find('@', at + 1) != absl::string_view::npos) {
    return "";
  }
  return absl::StrCat(email.substr(0, at + 1), absl::AsciiStrToLower(email.substr(at + 1)));
}

absl::Status InvalidRequest(absl::string_view message,
                            const std::vector<FieldViolation>& violations) {
  return MakeError(absl::StatusCode::kInvalidArgument, message, v1::INVALID_REQUEST, {},
                   violations);
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
  if (chunk_size == 0) {
    return InvalidRequest("invalid request: chunk_size must be at least 1",
                          {{"chunk_size", "must be at least 1"}});
  }
  const std::size_t total = request.recipients_size();
  IssuePlan plan;
  plan.chunk_count = total == 0 ? 1 : (total + chunk_size - 1) / chunk_size;
  const std::string last_id = ChunkRequestId(base_request_id, plan.chunk_count - 1);
  if (last_id.size() > kMaxRequestIdLength) {
    const std::string why =
        absl::StrCat("must leave room for the chunk suffix (\"/", plan.chunk_count - 1,
                     "\") within ", kMaxRequestIdLength, " characters");
    return InvalidRequest(absl::StrCat("invalid request: request_id: ", why),
                          {{"request_id", why}});
  }

  std::vector<bool> is_excluded(total, false);
  for (const std::size_t i : excluded) {
    if (i < total) is_excluded[i] = true;
  }
  std::unordered_map<std::string, std::size_t> first_index_of;
  std::vector<FieldViolation> duplicates;
  for (std::size_t c = 0; c < plan.chunk_count; ++c) {
    ChunkPlan chunk;
    chunk.chunk_index = c;
    chunk.first_index = c * chunk_size;
    chunk.end_index = std::min(total, chunk.first_index + chunk_size);
    chunk.request_id = ChunkRequestId(base_request_id, c);
    for (std::size_t i = chunk.first_index; i < chunk.end_index; ++i) {
      if (is_excluded[i]) continue;
      const std::string& email = request.recipients(static_cast<int>(i)).email();
      const std::string key = DuplicateKey(email);
      if (!key.empty()) {
        const auto [it, inserted] = first_index_of.emplace(key, i);
        // Repeats inside one chunk are left to the server, which names them
        // in the same words.
        if (!inserted && it->second < chunk.first_index) {
          const std::string why = absl::StrCat("duplicate of recipients[", it->second, "]");
          if (request.skip_invalid()) {
            plan.rejected.push_back({i, email, why});
          } else {
            duplicates.push_back({absl::StrCat("recipients[", i, "].email"), why});
          }
          continue;
        }
      }
      chunk.input_indices.push_back(i);
    }
    if (!chunk.input_indices.empty() || total == 0) plan.chunks.push_back(std::move(chunk));
  }
  if (!duplicates.empty()) {
    std::string message = absl::StrCat("invalid request: ", duplicates.front().field, ": ",
                                       duplicates.front().description);
    if (duplicates.size() > 1) absl::StrAppend(&message, " (and ", duplicates.size() - 1, " more)");
    return InvalidRequest(message, duplicates);
  }
  return plan;
}

std::string RewriteRecipientIndices(
    absl::string_view text,
    const std::function<std::optional<std::string>(std::size_t)>& replacement) {
  static constexpr absl::string_view kPrefix = "recipients[";
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t start = text.find(kPrefix, pos);
    if (start == absl::string_view::npos) break;
    const std::size_t digits = start + kPrefix.size();
    const std::size_t close = text.find(']', digits);
    std::size_t index = 0;
    std::optional<std::string> replaced;
    if (close != absl::string_view::npos &&
        absl::SimpleAtoi(text.substr(digits, close - digits), &index)) {
      replaced = replacement(index);
    }
    if (!replaced) {
      absl::StrAppend(&out, text.substr(pos, digits - pos));
      pos = digits;
      continue;
    }
    absl::StrAppend(&out, text.substr(pos, start - pos), *replaced);
    pos = close + 1;
  }
  absl::StrAppend(&out, text.substr(pos));
  return out;
}

std::string MapRecipientIndices(absl::string_view text,
                                const std::vector<std::size_t>& input_indices) {
  return RewriteRecipientIndices(text, [&](std::size_t index) -> std::optional<std::string> {
    if (index >= input_indices.size()) return std::nullopt;
    return absl::StrCat("recipients[", input_indices[index], "]");
  });
}

}  // namespace magiclink::client::internal
