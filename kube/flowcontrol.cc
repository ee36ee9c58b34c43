#include "kube/flowcontrol.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace kestrel::kube {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  void Sleep(absl::Duration d) override { absl::SleepFor(d); }
};

}  // namespace

Clock* Clock::Real() {
  static Clock* clock = new RealClock();
  return clock;
}

TokenBucket::TokenBucket(double qps, int burst, Clock* clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock->Now()) {}

absl::Duration TokenBucket::Reserve() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  if (now > last_) {
    tokens_ = std::min<double>(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return absl::ZeroDuration();
  return absl::Seconds(-tokens_ / qps_);
}

void TokenBucket::Accept() {
  const absl::Duration wait = Reserve();
  if (wait > absl::ZeroDuration()) clock_->Sleep(wait);
}

}  // namespace kestrel::kube
