// How Client::IssueBatch splits one logical request into IssueBatch calls:
// which recipients each chunk sends, under which request_id, and which
// recipients the client refuses itself because they repeat an address from
// another chunk (the server only sees one chunk, so it cannot).
//
//   absl::StatusOr<IssuePlan> plan = PlanIssue(request, 1000, "invite-42");
//   for (const ChunkPlan& chunk : plan->chunks) Send(chunk.request_id, chunk.input_indices);
#ifndef MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_
#define MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "magiclink/client/client.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink::client::internal {

// The server's limit on request_id length.
inline constexpr std::size_t kMaxRequestIdLength = 128;

struct ChunkPlan {
  std::size_t chunk_index = 0;  // position among all chunks; part of request_id
  std::size_t first_index = 0;  // input positions [first_index, end_index) belong to the chunk
  std::size_t end_index = 0;
  std::vector<std::size_t> input_indices;  // the recipients sent, by input position
  std::string request_id;                  // "<base>/<chunk_index>"
};

struct IssuePlan {
  // Chunks with at least one recipient to send. Only a request without any
  // recipient yields one empty chunk, so the server reports that error.
  std::vector<ChunkPlan> chunks;
  std::size_t chunk_count = 0;  // including chunks emptied by `rejected`
  // Cross-chunk duplicates refused locally (only with skip_invalid).
  std::vector<RejectedRecipient> rejected;
};

// "<base>/<chunk_index>": the request_id of one chunk.
std::string ChunkRequestId(absl::string_view base, std::size_t chunk_index);

// A fresh random request_id base (128 bits from std::random_device).
std::string RandomRequestId();

// Plans `request` in chunks of `chunk_size` under `base_request_id`, leaving
// out the input positions in `excluded` (see IssueOptions::excluded).
// INVALID_ARGUMENT (with a BadRequest) when chunk_size is 0, when the derived
// request_ids would exceed kMaxRequestIdLength, or, without skip_invalid,
// when an address repeats one from another chunk.
absl::StatusOr<IssuePlan> PlanIssue(const v1::IssueBatchRequest& request, std::size_t chunk_size,
                                    absl::string_view base_request_id,
                                    const std::vector<std::size_t>& excluded = {});

// Replaces every "recipients[N]" in `text` with replacement(N); where that
// is nullopt, the text is kept as it is.
std::string RewriteRecipientIndices(
    absl::string_view text,
    const std::function<std::optional<std::string>(std::size_t)>& replacement);

// Rewrites every "recipients[N]" in `text` to "recipients[input_indices[N]]",
// turning a chunk's positions into positions in the caller's request.
std::string MapRecipientIndices(absl::string_view text,
                                const std::vector<std::size_t>& input_indices);

}  // namespace magiclink::client::internal

#endif  // MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_
