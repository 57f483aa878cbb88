#include "server/store/coalescer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/core/clock.h"
#include "tests/testing/fake_clock.h"

namespace magiclink {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

struct Item {
  int value = 0;
  int result = -1;
  std::thread::id ran_on{};
  absl::Time deadline = absl::InfiniteFuture();
  bool expired = false;
};

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// Deadlines read from Item::deadline on `clock`; expiry sets Item::expired.
Coalescer<Item>::Deadlines ItemDeadlines(const Clock* clock) {
  return {[](const Item& item) { return item.deadline; }, [](Item& item) { item.expired = true; },
          clock};
}

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
// Deadlines, when given, are read on `clock`.
struct HeldCoalescer {
  explicit HeldCoalescer(int max_batch, const Clock* clock = nullptr)
      : coalescer(
            1, max_batch, [this](absl::Span<Item* const> b) { recorder.Run(b); },
            clock != nullptr ? ItemDeadlines(clock) : Coalescer<Item>::Deadlines{}),
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

TEST(CoalescerTest, ACallPastItsDeadlineIsAnsweredWithoutRunning) {
  FakeClock clock(kT0);
  Recorder recorder;
  Coalescer<Item> coalescer(
      2, 100, [&](absl::Span<Item* const> b) { recorder.Run(b); }, ItemDeadlines(&clock));
  Item late{1};
  late.deadline = kT0;  // "now" is the deadline: no time left
  coalescer.Run(late);
  EXPECT_TRUE(late.expired);
  EXPECT_EQ(late.result, -1);
  Item in_time{2};
  in_time.deadline = kT0 + absl::Milliseconds(1);
  coalescer.Run(in_time);
  EXPECT_FALSE(in_time.expired);
  EXPECT_EQ(in_time.result, 4);
  EXPECT_THAT(recorder.batches(), ElementsAre(ElementsAre(2)));
}

TEST(CoalescerTest, AWaitingCallReturnsAtItsDeadlineWhileTheBatchAheadStillRuns) {
  FakeClock clock(kT0);
  HeldCoalescer held(/*max_batch=*/100, &clock);
  std::vector<Item> items = {{1}, {2}};
  items[0].deadline = kT0 + absl::Seconds(1);
  std::vector<std::thread> threads = RunEach(held.coalescer, items);
  AwaitWaiting(held.coalescer, 2);

  clock.Advance(absl::Seconds(1));
  held.coalescer.CheckDeadlines();
  // Item 1's call returns while batch 0 is still held: it did not wait for
  // the batch ahead, and it never ran.
  threads[0].join();
  EXPECT_TRUE(items[0].expired);
  EXPECT_EQ(items[0].result, -1);
  EXPECT_EQ(held.coalescer.waiting(), 1);

  threads.erase(threads.begin());
  held.ReleaseAndJoin(threads);
  EXPECT_THAT(held.recorder.batches(), ElementsAre(ElementsAre(0), ElementsAre(2)));
  EXPECT_FALSE(items[1].expired);
  EXPECT_EQ(items[1].result, 4);
}

TEST(CoalescerTest, CallsThatRanOutOfTimeBeforeTheirBatchStartsAreLeftOutOfIt) {
  FakeClock clock(kT0);
  HeldCoalescer held(/*max_batch=*/100, &clock);
  std::vector<Item> items = {{1}, {2}, {3}};
  items[0].deadline = kT0 + absl::Seconds(1);
  items[1].deadline = kT0 + absl::Seconds(5);
  items[2].deadline = kT0 + absl::Seconds(2);
  std::vector<std::thread> threads = RunEach(held.coalescer, items);
  AwaitWaiting(held.coalescer, 3);
  // The clock passes two of the deadlines while batch 0 runs; whether each
  // call notices by itself or the next batch's leader does, neither runs.
  clock.Advance(absl::Seconds(3));
  held.ReleaseAndJoin(threads);

  EXPECT_THAT(held.recorder.batches(), ElementsAre(ElementsAre(0), ElementsAre(2)));
  EXPECT_TRUE(items[0].expired);
  EXPECT_FALSE(items[1].expired);
  EXPECT_TRUE(items[2].expired);
  EXPECT_EQ(items[0].result, -1);
  EXPECT_EQ(items[1].result, 4);
  EXPECT_EQ(items[2].result, -1);
}

}  // namespace
}  // namespace magiclink
