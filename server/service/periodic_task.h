// Runs a function every `interval` on its own thread until destroyed. Used for
// the sweeper and the store health probe; tests call the functions directly.
#ifndef MAGICLINK_SERVER_SERVICE_PERIODIC_TASK_H_
#define MAGICLINK_SERVER_SERVICE_PERIODIC_TASK_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace magiclink {

class PeriodicTask {
 public:
  // Starts the thread; `task` runs first right away, then every `interval`.
  PeriodicTask(absl::Duration interval, std::function<void()> task)
      : thread_([this, interval, task = std::move(task)] {
          do {
            task();
          } while (!stop_.WaitForNotificationWithTimeout(interval));
        }) {}
  // Stops the loop and joins the thread (waits for a running task to finish).
  ~PeriodicTask() {
    stop_.Notify();
    thread_.join();
  }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace magiclink

#endif  // MAGICLINK_SERVER_SERVICE_PERIODIC_TASK_H_
