#include "kube/flowcontrol.h"

#include <algorithm>
#include <mutex>

namespace kestrel::kube {

TokenBucket::TokenBucket(double qps, int burst, Clock* clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock->Now()) {}

absl::Duration TokenBucket::Reserve() {
  std::lock_guard<std::mutex> lock(mu_);
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
  if (wait > absl::ZeroDuration()) SleepFor(clock_, wait);
}

}  // namespace kestrel::kube
