// File: clock.h
//
// The scheduling queue's time source: backoff expiry and the unschedulable
// timeout are read from it, so the simulator runs the queue in virtual time,
// the API host in wall time, and tests on a FakeClock (fake_clock.h). Its own
// interface, so that scheduler/ does not depend on kube/.
//
// Example:
//   Clock* clock = RealClock();
//   absl::Time now = clock->Now();

#ifndef KESTREL_SCHEDULER_QUEUE_CLOCK_H_
#define KESTREL_SCHEDULER_QUEUE_CLOCK_H_

#include "absl/time/time.h"

namespace kestrel::queue {

// Clock
//
// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock (absl::Now); one for the process, never deleted.
Clock* RealClock();

}  // namespace kestrel::queue

#endif  // KESTREL_SCHEDULER_QUEUE_CLOCK_H_
