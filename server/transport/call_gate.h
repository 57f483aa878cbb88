// Drain support for SIGTERM: counts the API calls in flight and, once closed,
// turns new ones away, so the server can wait exactly as long as its calls
// need instead of as long as its idle client connections stay open (gRPC's
// Shutdown(deadline) waits for every connection to close or the deadline).
//
//   CallGate gate;
//   std::optional<CallGate::Pass> pass = gate.Enter();  // in each RPC
//   if (!pass) return UNAVAILABLE;
//   ...
//   gate.Close();                                       // on SIGTERM
//   gate.WaitIdle(absl::Now() + grace);
#ifndef MAGICLINK_SERVER_TRANSPORT_CALL_GATE_H_
#define MAGICLINK_SERVER_TRANSPORT_CALL_GATE_H_

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace magiclink {

class CallGate {
 public:
  // One admitted call; leaving its scope ends the call. Movable.
  class Pass {
   public:
    explicit Pass(CallGate* gate) : gate_(gate) {}
    Pass(Pass&& other) noexcept : gate_(other.gate_) { other.gate_ = nullptr; }
    Pass& operator=(Pass&&) = delete;
    ~Pass() {
      if (gate_ != nullptr) gate_->Leave();
    }

   private:
    CallGate* gate_;
  };

  // A pass for a new call, or nullopt once the gate is closed.
  std::optional<Pass> Enter() {
    absl::MutexLock lock(&mu_);
    if (closed_) return std::nullopt;
    ++in_flight_;
    return std::optional<Pass>(std::in_place, this);
  }

  // Turns every later call away.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // Waits until no admitted call is in flight or `deadline` passes; true when
  // none is left.
  bool WaitIdle(absl::Time deadline) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithDeadline(absl::Condition(this, &CallGate::Idle), deadline);
  }

  int in_flight() const {
    absl::MutexLock lock(&mu_);
    return in_flight_;
  }

 private:
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; }

  void Leave() {
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_TRANSPORT_CALL_GATE_H_
