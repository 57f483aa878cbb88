// The connection interface under Client: one virtual method per RPC, one
// attempt-agnostic call each. MakeConnection() builds the real one (gRPC with
// deadlines, credentials and safe retries); MockConnection
// (mocks/mock_connection.h) lets code using Client be tested without a
// server.
//
//   absl::StatusOr<std::shared_ptr<Connection>> connection = MakeConnection(options);
//   if (!connection.ok()) return connection.status();
//   Client client(*connection);
#ifndef MAGICLINK_CLIENT_CONNECTION_H_
#define MAGICLINK_CLIENT_CONNECTION_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "magiclink/client/options.h"
#include "magiclink/v1/magic_link_service.pb.h"

namespace magiclink::client {

// One method per MagicLinkService RPC. Implementations are thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual absl::StatusOr<v1::IssueBatchResponse> IssueBatch(
      const v1::IssueBatchRequest& request) = 0;
  virtual absl::StatusOr<v1::VerifyResponse> Verify(const v1::VerifyRequest& request) = 0;
  virtual absl::StatusOr<v1::RevokeResponse> Revoke(const v1::RevokeRequest& request) = 0;
  virtual absl::StatusOr<v1::GetBatchResponse> GetBatch(const v1::GetBatchRequest& request) = 0;
  virtual absl::StatusOr<v1::ListLinksResponse> ListLinks(const v1::ListLinksRequest& request) = 0;
};

// Builds the gRPC connection described by `options`, wrapped in
// MakeRetryingConnection(). INVALID_ARGUMENT when the options are unusable
// (empty target, non-positive timeout, an API key that is not printable
// ASCII, half a client certificate). Does not contact the server.
absl::StatusOr<std::shared_ptr<Connection>> MakeConnection(const ConnectionOptions& options);

// Waits between attempts; the default sleeps the calling thread. Tests pass
// one that records the waits instead.
using Sleeper = std::function<void(absl::Duration)>;

// Decorates `inner` with `policy`, retrying after UNAVAILABLE only the calls
// that are safe to repeat:
//   IssueBatch  only when request_id is set (a repeat replays the batch) or
//               validate_only is (nothing is written);
//   Verify      only in PEEK mode (CONSUME, explicit or by default, never:
//               a consume that reached the server must not be repeated);
//   Revoke, GetBatch, ListLinks  always (they are idempotent or read-only).
// Every other failure is returned as it is.
std::shared_ptr<Connection> MakeRetryingConnection(std::shared_ptr<Connection> inner,
                                                   RetryPolicy policy, Sleeper sleeper = nullptr);

}  // namespace magiclink::client

#endif  // MAGICLINK_CLIENT_CONNECTION_H_
