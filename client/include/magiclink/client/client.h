// The magiclink C++ client: a cheap value type (copy it freely; copies share
// one connection) over a Connection.
//
//   auto connection = magiclink::client::MakeConnection(options);
//   magiclink::client::Client client(*connection);
//
//   magiclink::v1::IssueBatchRequest request;
//   request.set_purpose("invite");
//   request.set_redirect_url("https://app.example.com/welcome");
//   request.set_request_id("invite-2024-06-cohort");  // makes the whole call resumable
//   for (const std::string& email : emails) request.add_recipients()->set_email(email);
//   absl::StatusOr<IssueBatchResult> issued = client.IssueBatch(request);
//   for (const IssuedLink& link : issued->links) Send(link.email, link.url);
//
//   absl::StatusOr<magiclink::v1::VerifyResponse> claims = client.Consume(token, "invite");
#ifndef MAGICLINK_CLIENT_CLIENT_H_
#define MAGICLINK_CLIENT_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "magiclink/client/connection.h"
#include "magiclink/client/error.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink::client {

// Recipients per IssueBatch call unless IssueOptions says otherwise. Small
// enough that a chunk's request and response stay far below gRPC's default
// 4 MiB message limit even with maximal metadata and redirect URLs, that a
// failed chunk costs little to retry and that progress moves visibly; large
// enough that per-call overhead is negligible next to the chunk's writes.
inline constexpr std::size_t kDefaultChunkSize = 1000;

// Reported after each chunk of an IssueBatch call succeeds.
struct IssueProgress {
  std::size_t chunk_index = 0;  // 0-based
  std::size_t chunk_count = 0;
  std::size_t recipients_done = 0;  // issued or rejected so far
  std::size_t recipients_total = 0;
  std::string batch_id;   // the chunk's batch
  bool replayed = false;  // the server replayed an earlier call with this chunk's request_id
};

struct IssueOptions {
  // Recipients per IssueBatch call, at least 1 and at most the server's
  // max_batch_size (10,000 by default).
  std::size_t chunk_size = kDefaultChunkSize;
  // Called on the calling thread after each chunk; may be empty.
  std::function<void(const IssueProgress&)> on_progress;
  // Positions in the request's recipients not to send, typically those a
  // validate_only pass rejected. Chunks keep the boundaries they have
  // without exclusions (chunk k covers positions [k * chunk_size,
  // (k + 1) * chunk_size) and sends those not excluded), so chunk k's
  // content and request_id depend only on the request and this list, and a
  // chunk left empty is not sent. Excluded recipients appear in neither
  // links nor rejected.
  std::vector<std::size_t> excluded;
};

// One link, in the order of the request's recipients.
struct IssuedLink {
  std::size_t index = 0;  // position in IssueBatchRequest.recipients
  std::string email;      // normalised by the server
  std::string url;        // the link to send
  std::string token;      // the plaintext token; handle like a password
  google::protobuf::Timestamp expires_at;
  std::string batch_id;  // the batch (chunk) the link belongs to
};

// A recipient not issued because skip_invalid was set.
struct RejectedRecipient {
  std::size_t index = 0;  // position in IssueBatchRequest.recipients
  std::string email;      // as sent
  std::string reason;
  // Set when the address repeats that of the recipient at this position
  // (`reason` then says "duplicate of recipients[i]").
  std::optional<std::size_t> duplicate_of;
};

// One server-side batch created by an IssueBatch call.
struct IssuedBatch {
  std::string batch_id;
  std::string request_id;       // the derived request_id the chunk was sent with
  std::size_t first_index = 0;  // of the chunk's first recipient in the request
  std::size_t recipient_count = 0;
  bool replayed = false;
};

struct IssueBatchResult {
  std::vector<IssuedBatch> batches;         // one per chunk, in order
  std::vector<IssuedLink> links;            // input order
  std::vector<RejectedRecipient> rejected;  // input order
  std::int64_t revoked_previous_count = 0;  // summed over the chunks
};

class Client {
 public:
  explicit Client(std::shared_ptr<Connection> connection);

  // Issues one link per recipient of `request`, in calls of at most
  // options.chunk_size recipients, and returns the links in input order.
  //
  // Each chunk is sent with its own request_id, "<request_id>/<chunk index>",
  // derived from request.request_id(); when that is empty a random id is
  // generated for this call. So a chunk retried after UNAVAILABLE replays
  // instead of issuing twice, and calling IssueBatch again with the same
  // request and request_id after a failure resumes it: finished chunks replay,
  // the rest are issued. Only a caller-chosen request_id allows that resume.
  //
  // Atomicity is per chunk: a failure in chunk k leaves chunks 0..k-1 issued
  // (reported through on_progress) and returns chunk k's error, with
  // "recipients[i]" field paths in its BadRequest (and the message built
  // from them) and the rejected list mapped to positions in `request`.
  // Repeated addresses are found before anything is sent (INVALID_ARGUMENT
  // listing them, or rejected entries with skip_invalid), by the server's
  // own address rule, because the server only sees one chunk at a time.
  // `request.request_id()` may be at most 128 - len("/<last chunk index>")
  // characters.
  //
  // With request.validate_only() every chunk is validated as it would be
  // issued and nothing is written: the result has no links and no batches;
  // with skip_invalid its `rejected` lists every recipient a real call would
  // reject (across all chunks, including repeats from another chunk), and
  // without it the first failing chunk's INVALID_ARGUMENT is returned.
  // Validation calls are retried after UNAVAILABLE even without a request_id.
  absl::StatusOr<IssueBatchResult> IssueBatch(const v1::IssueBatchRequest& request,
                                              const IssueOptions& options = {});

  // Verifies a token in the mode the request names (CONSUME by default).
  absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& request);
  // Uses `token` up and returns its claims. Never retried.
  absl::StatusOr<v1::VerifyResponse> Consume(const std::string& token,
                                             const std::string& expected_purpose = "");
  // Checks `token` without using it up; fails exactly as Consume would.
  absl::StatusOr<v1::VerifyResponse> Peek(const std::string& token,
                                          const std::string& expected_purpose = "");

  // Revokes outstanding tokens by token, email (+ purpose) or batch.
  absl::StatusOr<v1::RevokeResponse> Revoke(const v1::RevokeRequest& request);
  // A batch's purpose, issuer and counts by state.
  absl::StatusOr<v1::GetBatchResponse> GetBatch(const std::string& batch_id);
  // One page of a batch's links.
  absl::StatusOr<v1::ListLinksResponse> ListLinks(const v1::ListLinksRequest& request);

  // Calls `on_link` for every link matching `request`, fetching page after
  // page from request.page_token(); stops early, returning OK, when `on_link`
  // returns false.
  absl::Status ForEachLink(v1::ListLinksRequest request,
                           const std::function<bool(const v1::LinkInfo&)>& on_link);
  // All links matching `request`, every page.
  absl::StatusOr<std::vector<v1::LinkInfo>> ListAllLinks(const v1::ListLinksRequest& request);

 private:
  std::shared_ptr<Connection> connection_;
};

}  // namespace magiclink::client

#endif  // MAGICLINK_CLIENT_CLIENT_H_
