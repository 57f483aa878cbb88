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
//   struct Lookup { std::string key; absl::StatusOr<Row> result; };
//   Coalescer<Lookup> lookups(/*max_running=*/4, /*max_batch=*/100,
//                             [&](absl::Span<Lookup* const> batch) {
//                               // one statement; sets every item's result
//                             });
//   Lookup me{"k"};
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
#include "absl/types/span.h"

namespace magiclink {

template <typename Item>
class Coalescer {
 public:
  // Runs one batch: must give every item its result, and must not throw (an
  // exception ends the process).
  using RunBatch = std::function<void(absl::Span<Item* const> batch)>;

  Coalescer(int max_running, int max_batch, RunBatch run)
      : max_running_(std::max(1, max_running)),
        max_batch_(static_cast<size_t>(std::max(1, max_batch))),
        run_(std::move(run)) {}

  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  // Calls waiting for a batch to take them (for metrics and tests).
  int waiting() const {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(waiting_.size());
  }

  // Returns once a batch holding `item` has run (on this thread or another).
  void Run(Item& item) {
    Entry me{&item};
    mu_.Lock();
    waiting_.push_back(&me);
    for (;;) {
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return me.done || (!me.taken && running_ < max_running_);
      };
      mu_.Await(absl::Condition(&ready));
      if (me.done) break;
      // Lead the next batch: the oldest waiting requests (this one among
      // them unless more than max_batch_ arrived before it).
      const size_t n = std::min(max_batch_, waiting_.size());
      std::vector<Entry*> entries(waiting_.begin(), waiting_.begin() + n);
      waiting_.erase(waiting_.begin(), waiting_.begin() + n);
      for (Entry* e : entries) e->taken = true;
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
  // Other threads sleep until this batch is done, so an exception out of
  // run_ could not be recovered from: it ends the process here, where it
  // happened, instead of hanging them.
  void RunOrTerminate(absl::Span<Item* const> items) noexcept { run_(items); }

  struct Entry {
    Item* item;
    bool taken = false;  // in a batch that is running or has run
    bool done = false;   // that batch has run
  };

  const int max_running_;
  const size_t max_batch_;
  const RunBatch run_;
  mutable absl::Mutex mu_;
  std::deque<Entry*> waiting_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_STORE_COALESCER_H_
