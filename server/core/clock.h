// Time as the rules see it. Everything that depends on "now" takes a Clock, so
// tests drive expiry with a fake clock (tests/testing/fake_clock.h) instead of
// sleeping.
//
//   SystemClock clock;
//   absl::Time now = clock.Now();
#ifndef MAGICLINK_SERVER_CORE_CLOCK_H_
#define MAGICLINK_SERVER_CORE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace magiclink {

// A source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current time.
  virtual absl::Time Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_CORE_CLOCK_H_
