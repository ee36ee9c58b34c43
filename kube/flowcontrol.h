// File: flowcontrol.h
//
// Client-side rate limiting, as client-go's flowcontrol package does it: a
// token bucket of `burst` tokens, full at the start, refilled at `qps`
// tokens per second; each request takes one token and waits until there is
// one. Waiting is done by reserving a token that may only exist in the future
// (golang.org/x/time/rate's Reserve, under client-go's
// NewTokenBucketRateLimiter), so requests that arrive together leave in
// order, each `1/qps` after the one before.
//
// Time comes from a Clock (kube/clock.h), so tests can run the bucket on a
// fake clock.
//
// Example:
//   TokenBucket bucket(/*qps=*/50, /*burst=*/100, RealClock());
//   bucket.Accept();  // returns at once for the first 100 calls
//
// Thread-safe.

#ifndef KESTREL_KUBE_FLOWCONTROL_H_
#define KESTREL_KUBE_FLOWCONTROL_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "kube/clock.h"

namespace kestrel::kube {

class TokenBucket {
 public:
  // `qps` > 0; a `burst` below 1 is taken as 1. `clock` must outlive this.
  TokenBucket(double qps, int burst, Clock* clock);

  // Reserve()
  //
  // Takes a token: now, or the one that will be there after the returned
  // wait (later callers queue behind it).
  absl::Duration Reserve();

  // Accept()
  //
  // Reserve(), then waits that long on the clock.
  void Accept();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  const double qps_;
  const int burst_;
  Clock* const clock_;
  // std::mutex, for ThreadSanitizer (Debian's Abseil is not built for it).
  std::mutex mu_;
  // Tokens at `last_`; negative when reservations run ahead of the refill.
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_FLOWCONTROL_H_
