// File: fake_clock.h
//
// A Clock for tests: time stands still until the test (or a Sleep) moves
// it, and every Sleep is recorded.
//
// Example:
//   FakeClock clock;
//   TokenBucket bucket(1, 1, &clock);
//   bucket.Accept();
//   bucket.Accept();  // sleeps 1s on the fake clock
//   EXPECT_THAT(clock.sleeps(), ElementsAre(absl::Seconds(1)));

#ifndef KESTREL_KUBE_FAKE_CLOCK_H_
#define KESTREL_KUBE_FAKE_CLOCK_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kube/flowcontrol.h"

namespace kestrel::kube {

// Thread-safe.
class FakeClock : public Clock {
 public:
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Records `d` and moves the time forward by it.
  void Sleep(absl::Duration d) override {
    absl::MutexLock lock(&mu_);
    sleeps_.push_back(d);
    now_ += d;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'700'000'000);
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_FAKE_CLOCK_H_
