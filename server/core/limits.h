// Limits on every input and the lifetimes of tokens and idempotency records.
// Both are plain values built once from configuration and passed down.
#ifndef MAGICLINK_SERVER_CORE_LIMITS_H_
#define MAGICLINK_SERVER_CORE_LIMITS_H_

#include <cstddef>

#include "absl/time/time.h"

namespace magiclink {

// Size limits; each violation is INVALID_ARGUMENT naming the field.
struct Limits {
  int max_batch_size = 10000;
  size_t max_email_length = 254;
  size_t max_purpose_length = 64;
  size_t max_redirect_url_length = 2048;
  size_t max_request_id_length = 128;
  size_t max_consume_key_length = 256;
  // Metadata: entries and total bytes (keys plus values) of one map, applied to
  // the batch map and to each recipient's merged map.
  int max_metadata_entries = 32;
  size_t max_metadata_key_length = 64;
  size_t max_metadata_bytes = 4096;
  int default_page_size = 100;
  int max_page_size = 1000;
};

// How long things live.
struct Lifetimes {
  absl::Duration default_ttl = absl::Hours(24);
  absl::Duration max_ttl = absl::Hours(24 * 30);
  // Shortest TTL a caller may ask for.
  absl::Duration min_ttl = absl::Seconds(1);
  // A repeated CONSUME with the same consume_key within this time of the first
  // one returns the original success.
  absl::Duration consume_grace = absl::Seconds(30);
  // How long a request_id replays the original batch.
  absl::Duration idempotency_window = absl::Hours(24);
  // How long expired, used and revoked tokens are kept before the sweeper
  // deletes them.
  absl::Duration retention = absl::Hours(24 * 7);
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_LIMITS_H_
