// Runs concurrent requests of one kind together: at most `max_running`
// batches run at once, and a request that arrives while they all run waits
// and goes with the next batch, together with every request that arrived
// meanwhile (oldest first, at most `max_batch` per batch). Under light load
// each request runs alone and at once; under heavy load a database sees one
// statement for many requests instead of one statement each.
//
// There is no timer and no background thread: the calling threads take turns
// running batches. A thread whose request is in a batch another thread runs
// sleeps until that batch is done.
//
// With Deadlines, a request never waits for a batch past its own deadline:
// one whose deadline passes while it waits, or before a batch takes it, is
// answered by `expire` and never handed to `run` (so it changes nothing).
// Once in a running batch it waits for that batch; `run` must end in time
// for the earliest deadline in the batch (PostgresTokenStore's statement
// timeout does).
//
//   struct Lookup { std::string key; absl::Time deadline; absl::StatusOr<Row> result; };
//   Coalescer<Lookup> lookups(/*max_running=*/4, /*max_batch=*/100,
//                             [&](absl::Span<Lookup* const> batch) {
//                               // one statement; sets every item's result
//                             },
//                             {[](const Lookup& l) { return l.deadline; },
//                              [](Lookup& l) { l.result = absl::DeadlineExceededError("late"); }});
//   Lookup me{"k", absl::Now() + absl::Seconds(1)};
//   lookups.Run(me);  // me.result is set when this returns
#ifndef MAGICLINK_SERVER_STORE_COALESCER_H_
#define MAGICLINK_SERVER_STORE_COALESCER_H_

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/core/clock.h"

namespace magiclink {

template <typename Item>
class Coalescer {
 public:
  // Runs one batch: must give every item its result, and must not throw (an
  // exception ends the process).
  using RunBatch = std::function<void(absl::Span<Item* const> batch)>;

  // How requests' deadlines are read and answered. Without `of`, requests
  // have none.
  struct Deadlines {
    // The request's deadline.
    std::function<absl::Time(const Item&)> of;
    // Answers a request whose deadline passed before a batch took it. Runs
    // under the coalescer's lock: it must only set the item's result.
    std::function<void(Item&)> expire;
    // What "now" is (nullptr: the system clock). After moving a FakeClock,
    // call CheckDeadlines() so waiting requests look at it again.
    const Clock* clock = nullptr;
  };

  Coalescer(int max_running, int max_batch, RunBatch run, Deadlines deadlines = {})
      : max_running_(std::max(1, max_running)),
        max_batch_(static_cast<size_t>(std::max(1, max_batch))),
        run_(std::move(run)),
        deadlines_(std::move(deadlines)),
        clock_(deadlines_.clock != nullptr ? deadlines_.clock : &system_clock_) {}

  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  // Calls waiting for a batch to take them (for metrics and tests).
  int waiting() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(waiting_.size());
  }

  // Makes waiting requests compare their deadlines with the clock now (they
  // do by themselves at their deadline on the system clock).
  void CheckDeadlines() {
    absl::MutexLock lock(&mu_);  // unlocking re-evaluates every waiter's condition
  }

  // Returns once a batch holding `item` has run (on this thread or another),
  // or once `item` was answered by `expire`.
  void Run(Item& item) {
    Entry me{&item, deadlines_.of ? deadlines_.of(item) : absl::InfiniteFuture()};
    mu_.Lock();
    if (Expired(me.deadline)) {
      deadlines_.expire(item);
      mu_.Unlock();
      return;
    }
    waiting_.push_back(&me);
    for (;;) {
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return me.done || (!me.taken && (running_ < max_running_ || Expired(me.deadline)));
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), WakeAt(me.deadline));
      if (me.done) break;
      if (me.taken) continue;
      if (Expired(me.deadline)) {
        waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &me));
        deadlines_.expire(item);
        break;
      }
      if (running_ >= max_running_) continue;  // woke at a deadline the clock has not reached
      // Lead the next batch: the oldest waiting requests (this one among
      // them unless more than max_batch_ arrived before it), answering those
      // out of time instead of running them.
      std::vector<Entry*> entries;
      while (!waiting_.empty() && entries.size() < max_batch_) {
        Entry* e = waiting_.front();
        waiting_.pop_front();
        e->taken = true;
        if (Expired(e->deadline)) {
          deadlines_.expire(*e->item);
          e->done = true;
        } else {
          entries.push_back(e);
        }
      }
      if (entries.empty()) continue;
      ++running_;
      mu_.Unlock();
      std::vector<Item*> items;
      items.reserve(entries.size());
      for (Entry* e : entries) items.push_back(e->item);
      RunOrTerminate(absl::MakeConstSpan(items));
      mu_.Lock();
      --running_;
      for (Entry* e : entries) e->done = true;
    }
    mu_.Unlock();
  }

 private:
  struct Entry {
    Item* item;
    absl::Time deadline;
    bool taken = false;  // in a batch that is running or has run
    bool done = false;   // that batch has run, or the item was expired
  };

  bool Expired(absl::Time deadline) const {
    return deadline != absl::InfiniteFuture() && clock_->Now() >= deadline;
  }

  // The system-clock time at which `deadline` on clock_ comes.
  absl::Time WakeAt(absl::Time deadline) const {
    if (deadline == absl::InfiniteFuture()) return deadline;
    return absl::Now() + (deadline - clock_->Now());
  }

  // Other threads sleep until this batch is done, so an exception out of
  // run_ could not be recovered from: it ends the process here, where it
  // happened, instead of hanging them.
  void RunOrTerminate(absl::Span<Item* const> items) noexcept { run_(items); }

  const int max_running_;
  const size_t max_batch_;
  const RunBatch run_;
  const Deadlines deadlines_;
  SystemClock system_clock_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::deque<Entry*> waiting_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_COALESCER_H_
