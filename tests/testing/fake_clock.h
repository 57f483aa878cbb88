// A Clock that moves only when a test tells it to, so expiry is tested without
// sleeping.
//
//   FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
//   clock.Advance(absl::Hours(25));
#ifndef MAGICLINK_TESTS_TESTING_FAKE_CLOCK_H_
#define MAGICLINK_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/core/clock.h"

namespace magiclink {

// A clock that moves only when told to; thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Moves the clock forward (or back, for a negative `d`).
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  // Sets the clock to `t`.
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace magiclink

#endif  // MAGICLINK_TESTS_TESTING_FAKE_CLOCK_H_
