// File: fake_clock.h
//
// FakeClock, a Clock (clock.h) that moves only when a test says so.
//
// Example:
//   FakeClock clock;
//   SchedulingQueue queue(sort, {.clock = &clock});
//   clock.Advance(absl::Seconds(1));
//   queue.FlushBackoffQCompleted();

#ifndef KESTREL_SCHEDULER_QUEUE_FAKE_CLOCK_H_
#define KESTREL_SCHEDULER_QUEUE_FAKE_CLOCK_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "scheduler/queue/clock.h"

namespace kestrel::queue {

// Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::FromUnixSeconds(1'700'000'000)) : now_(now) {}

  absl::Time Now() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;  // std::, so TSan sees it (see .bazelrc)
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::queue

#endif  // KESTREL_SCHEDULER_QUEUE_FAKE_CLOCK_H_
