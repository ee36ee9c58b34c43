// File: fake_clock.h
//
// AutoAdvanceClock, a Clock (kube/clock.h) for tests of code that waits
// without anyone to wake it (the client's rate limiter, its waits between
// retries): every wait returns at once, moving the time to its deadline,
// and is recorded, so tests check waits exactly and never sleep. (For code
// that a test drives step by step, such as leader election, see
// kube/leader_election_testing.h's FakeClock, which only moves when told.)
//
// Example:
//   AutoAdvanceClock clock;
//   TokenBucket bucket(1, 1, &clock);
//   bucket.Accept();
//   bucket.Accept();  // waits 1s on the fake clock
//   EXPECT_THAT(clock.waits(), ElementsAre(absl::Seconds(1)));

#ifndef KESTREL_KUBE_FAKE_CLOCK_H_
#define KESTREL_KUBE_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kube/clock.h"

namespace kestrel::kube {

// Thread-safe.
class AutoAdvanceClock : public Clock {
 public:
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Records the wait and moves the time to `deadline` (if it is later).
  void WaitUntil(absl::Time deadline, const absl::Notification&) override {
    absl::MutexLock lock(&mu_);
    waits_.push_back(deadline - now_);
    if (deadline > now_) now_ = deadline;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  // Every wait so far, as durations from the time it started.
  std::vector<absl::Duration> waits() {
    absl::MutexLock lock(&mu_);
    return waits_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'700'000'000);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_FAKE_CLOCK_H_
