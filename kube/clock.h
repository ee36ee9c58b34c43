// File: clock.h
//
// The time source of kube/: leader election's timers, the client's rate
// limiter and its waits between retries. Tests inject fake clocks
// (kube/leader_election_testing.h, kube/fake_clock.h) so that nothing in a
// test waits on the wall clock.
//
// Example:
//   Clock* clock = RealClock();
//   clock->WaitUntil(clock->Now() + absl::Seconds(1), stop);  // or until `stop`

#ifndef KESTREL_KUBE_CLOCK_H_
#define KESTREL_KUBE_CLOCK_H_

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace kestrel::kube {

// Clock
//
// A time source, and how its users wait. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Blocks until Now() >= deadline or `cancel` is notified.
  virtual void WaitUntil(absl::Time deadline, const absl::Notification& cancel) = 0;
};

// The wall clock (absl::Now); one for the process, never deleted.
Clock* RealClock();

// SleepFor()
//
// Waits `d` on `clock`, with nothing to cut it short.
void SleepFor(Clock* clock, absl::Duration d);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_CLOCK_H_
