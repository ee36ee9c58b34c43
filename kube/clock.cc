#include "kube/clock.h"

#include "absl/time/clock.h"

namespace kestrel::kube {
namespace {

class WallClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void WaitUntil(absl::Time deadline, const absl::Notification& cancel) override {
    cancel.WaitForNotificationWithDeadline(deadline);
  }
};

}  // namespace

Clock* RealClock() {
  static Clock* const clock = new WallClock();
  return clock;
}

void SleepFor(Clock* clock, absl::Duration d) {
  static const absl::Notification* const never = new absl::Notification();
  clock->WaitUntil(clock->Now() + d, *never);
}

}  // namespace kestrel::kube
