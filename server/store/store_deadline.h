// A per-call deadline for store operations. The TokenStore interface carries
// no deadline, so the service layer sets the gRPC call's deadline for the
// current thread and a store that can block (the PostgreSQL store waiting for
// a pooled connection) stops waiting when it passes.
//
//   {
//     ScopedStoreDeadline deadline(absl::FromChrono(context->deadline()));
//     store.ConsumeToken(hashes, request, now);  // waits for a connection at most until then
//   }
//
// Scopes nest; the innermost one wins while it lives. Without a scope the
// deadline is absl::InfiniteFuture() and a store's own limits apply.
#ifndef MAGICLINK_SERVER_STORE_STORE_DEADLINE_H_
#define MAGICLINK_SERVER_STORE_STORE_DEADLINE_H_

#include "absl/time/time.h"

namespace magiclink {

class ScopedStoreDeadline {
 public:
  // Sets `deadline` for the store calls this thread makes while the scope lives.
  explicit ScopedStoreDeadline(absl::Time deadline) : previous_(current_) { current_ = deadline; }
  ~ScopedStoreDeadline() { current_ = previous_; }
  ScopedStoreDeadline(const ScopedStoreDeadline&) = delete;
  ScopedStoreDeadline& operator=(const ScopedStoreDeadline&) = delete;

  // The deadline of the innermost live scope on this thread, or
  // absl::InfiniteFuture() when there is none.
  static absl::Time Current() { return current_; }

 private:
  static inline thread_local absl::Time current_ = absl::InfiniteFuture();
  absl::Time previous_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_STORE_DEADLINE_H_
