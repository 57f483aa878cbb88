#include "server/store/coalescer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace magiclink {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

struct Item {
  int value = 0;
  int result = -1;
  std::thread::id ran_on;
};

// Records every batch's values; the batch holding `block_on` waits for
// `release` before it finishes.
class Recorder {
 public:
  explicit Recorder(int block_on = -1) : block_on_(block_on) {}

  void Run(absl::Span<Item* const> batch) {
    std::vector<int> values;
    for (Item* item : batch) {
      values.push_back(item->value);
      item->result = item->value * 2;
      item->ran_on = std::this_thread::get_id();
    }
    const bool block = std::count(values.begin(), values.end(), block_on_) > 0;
    {
      absl::MutexLock lock(&mu_);
      batches_.push_back(values);
    }
    if (block) {
      blocked.Notify();
      release.WaitForNotification();
    }
  }

  std::vector<std::vector<int>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }

  absl::Notification blocked;
  absl::Notification release;

 private:
  const int block_on_;
  absl::Mutex mu_;
  std::vector<std::vector<int>> batches_;
};

// Starts a thread per value; each runs its item through `coalescer`.
std::vector<std::thread> RunEach(Coalescer<Item>& coalescer, std::vector<Item>& items) {
  std::vector<std::thread> threads;
  for (Item& item : items) threads.emplace_back([&coalescer, &item] { coalescer.Run(item); });
  return threads;
}

// Yields until `n` calls wait for a batch (they only ever wait on the mutex).
void AwaitWaiting(const Coalescer<Item>& coalescer, int n) {
  while (coalescer.waiting() < n) std::this_thread::yield();
}

// One batch at a time, the first of which (item 0) is running and held.
struct HeldCoalescer {
  explicit HeldCoalescer(int max_batch)
      : coalescer(1, max_batch, [this](absl::Span<Item* const> b) { recorder.Run(b); }),
        leader([this] { coalescer.Run(first); }) {
    recorder.blocked.WaitForNotification();
  }

  void ReleaseAndJoin(std::vector<std::thread>& threads) {
    recorder.release.Notify();
    leader.join();
    for (std::thread& t : threads) t.join();
  }

  Recorder recorder{/*block_on=*/0};
  Item first{0};
  Coalescer<Item> coalescer;
  std::thread leader;
};

TEST(CoalescerTest, ACallAloneRunsAtOnceOnItsOwnThread) {
  Recorder recorder;
  Coalescer<Item> coalescer(2, 100, [&](absl::Span<Item* const> b) { recorder.Run(b); });
  Item item{21};
  coalescer.Run(item);
  EXPECT_EQ(item.result, 42);
  EXPECT_EQ(item.ran_on, std::this_thread::get_id());
  EXPECT_THAT(recorder.batches(), ElementsAre(ElementsAre(21)));
}

TEST(CoalescerTest, CallsThatArriveWhileEveryBatchRunsGoTogetherInTheNext) {
  HeldCoalescer held(/*max_batch=*/100);
  std::vector<Item> items = {{1}, {2}, {3}, {4}, {5}};
  std::vector<std::thread> threads = RunEach(held.coalescer, items);
  AwaitWaiting(held.coalescer, 5);
  held.ReleaseAndJoin(threads);

  const std::vector<std::vector<int>> batches = held.recorder.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_THAT(batches[0], ElementsAre(0));
  EXPECT_THAT(batches[1], UnorderedElementsAre(1, 2, 3, 4, 5));
  for (const Item& item : items) EXPECT_EQ(item.result, item.value * 2);
  EXPECT_EQ(held.coalescer.waiting(), 0);
}

TEST(CoalescerTest, ABatchTakesAtMostMaxBatchCallsOldestFirst) {
  HeldCoalescer held(/*max_batch=*/2);
  // Queued one at a time, so their order is known.
  std::vector<Item> items = {{1}, {2}, {3}, {4}, {5}};
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] { held.coalescer.Run(items[i]); });
    AwaitWaiting(held.coalescer, i + 1);
  }
  held.ReleaseAndJoin(threads);

  EXPECT_THAT(held.recorder.batches(),
              ElementsAre(ElementsAre(0), ElementsAre(1, 2), ElementsAre(3, 4), ElementsAre(5)));
  for (const Item& item : items) EXPECT_EQ(item.result, item.value * 2);
}

TEST(CoalescerTest, ManyThreadsRunEveryCallOnceWithAtMostMaxRunningBatchesAtOnce) {
  constexpr int kThreads = 32;
  constexpr int kCallsEach = 200;
  constexpr int kMaxRunning = 3;
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  std::vector<std::atomic<int>> runs(kThreads * kCallsEach);
  Coalescer<Item> coalescer(kMaxRunning, 10, [&](absl::Span<Item* const> batch) {
    const int now = ++running;
    int seen = most_running.load();
    while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
    }
    EXPECT_LE(batch.size(), 10u);
    for (Item* item : batch) {
      ++runs[item->value];
      item->result = item->value * 2;
    }
    --running;
  });
  absl::Notification go;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      go.WaitForNotification();
      for (int i = 0; i < kCallsEach; ++i) {
        Item item{t * kCallsEach + i};
        coalescer.Run(item);
        if (item.result != item.value * 2) ++wrong;
      }
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(wrong.load(), 0);
  for (size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "call " << i;
  EXPECT_LE(most_running.load(), kMaxRunning);
  EXPECT_EQ(coalescer.waiting(), 0);
}

}  // namespace
}  // namespace magiclink
