// How Client::IssueBatch splits one logical request into IssueBatch calls:
// which recipients each chunk sends, under which request_id, and which
// recipients the client refuses itself because they repeat an earlier
// address (the server only sees one chunk, so it cannot find repeats across
// chunks; the client finds them all, with the server's own address rule).
// Also the one parser of "recipients[N]..." field paths.
//
//   absl::StatusOr<IssuePlan> plan = PlanIssue(request, 1000, "invite-42");
//   for (const ChunkPlan& chunk : plan->chunks) Send(chunk.request_id, chunk.input_indices);
#ifndef MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_
#define MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_

#include <cstddef>
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
  // Repeated addresses refused locally (only with skip_invalid).
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
// when an address repeats an earlier one (listing the repeats only).
absl::StatusOr<IssuePlan> PlanIssue(const v1::IssueBatchRequest& request, std::size_t chunk_size,
                                    absl::string_view base_request_id,
                                    const std::vector<std::size_t>& excluded = {});

// A BadRequest field path about one recipient: "recipients[<index>]<rest>",
// e.g. index 3 and rest ".email".
struct RecipientField {
  std::size_t index = 0;
  std::string rest;
};

// Parses a field path naming a recipient; nullopt for any other field.
std::optional<RecipientField> ParseRecipientField(absl::string_view field);

// "recipients[<index>]<rest>", the inverse of ParseRecipientField.
std::string RecipientFieldPath(std::size_t index, absl::string_view rest);

// "invalid request: F: D (and N more)" from the first violation and the
// count of the others: the message of an INVALID_REQUEST the client makes or
// maps, built from the BadRequest rather than from another message.
std::string InvalidRequestMessage(const std::vector<FieldViolation>& violations);

}  // namespace magiclink::client::internal

#endif  // MAGICLINK_CLIENT_SRC_ISSUE_PLAN_H_
