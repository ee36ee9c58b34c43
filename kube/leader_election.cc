#include "kube/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kestrel::kube {
namespace {

// Lease times are MicroTime: what is written is what a later read returns.
absl::Time TruncateToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

// client-go: time.Duration(JitterFactor * float64(d)), truncated to whole
// nanoseconds.
absl::Duration Scaled(absl::Duration d, double factor) {
  return absl::Nanoseconds(
      static_cast<int64_t>(factor * static_cast<double>(absl::ToInt64Nanoseconds(d))));
}

absl::Status Validate(const LeaderElectionConfig& c, const LeaseLock* lock, const Clock* clock) {
  // NewLeaderElector's checks, in its order.
  const char* problem = nullptr;
  if (c.lease_duration <= c.renew_deadline) {
    problem = "leaseDuration must be greater than renewDeadline";
  } else if (c.renew_deadline <= Scaled(c.retry_period, kJitterFactor)) {
    problem = "renewDeadline must be greater than retryPeriod*JitterFactor";
  } else if (c.lease_duration < absl::Nanoseconds(1)) {
    problem = "leaseDuration must be greater than zero";
  } else if (c.renew_deadline < absl::Nanoseconds(1)) {
    problem = "renewDeadline must be greater than zero";
  } else if (c.retry_period < absl::Nanoseconds(1)) {
    problem = "retryPeriod must be greater than zero";
  } else if (!c.callbacks.on_started_leading) {
    problem = "OnStartedLeading callback must not be nil";
  } else if (!c.callbacks.on_stopped_leading) {
    problem = "OnStoppedLeading callback must not be nil";
  } else if (lock == nullptr) {
    problem = "Lock must not be nil.";
  } else if (c.identity.empty()) {
    problem = "Lock identity is empty";
  } else if (clock == nullptr) {
    problem = "Clock must not be nil.";  // Kestrel's: client-go has no clock to pass
  }
  return problem == nullptr ? absl::OkStatus() : absl::InvalidArgumentError(problem);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(LeaderElectionConfig config,
                                                                     LeaseLock* lock,
                                                                     Clock* clock) {
  absl::Status valid = Validate(config, lock, clock);
  if (!valid.ok()) return valid;
  auto own = std::make_unique<absl::BitGen>();
  absl::BitGenRef random(*own);
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(std::move(config), lock, clock, std::move(own), random));
}

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(LeaderElectionConfig config,
                                                                     LeaseLock* lock, Clock* clock,
                                                                     absl::BitGenRef random) {
  absl::Status valid = Validate(config, lock, clock);
  if (!valid.ok()) return valid;
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(std::move(config), lock, clock, nullptr, random));
}

LeaderElector::LeaderElector(LeaderElectionConfig config, LeaseLock* lock, Clock* clock,
                             std::unique_ptr<absl::BitGen> own_random, absl::BitGenRef random)
    : config_(std::move(config)),
      lock_(lock),
      clock_(clock),
      own_random_(std::move(own_random)),
      random_(random) {}

void LeaderElector::Run(const absl::Notification& cancel) {
  while (!cancel.HasBeenNotified()) {
    const absl::Time next = Step();
    if (done()) return;
    clock_->WaitUntil(next, cancel);
  }
  Shutdown();
}

absl::Time LeaderElector::Step() {
  absl::MutexLock step(&step_mu_);
  switch (state_) {
    case State::kAcquiring:
      return StepAcquiring();
    case State::kLeading:
      return StepLeading();
    case State::kDone:
      break;
  }
  return absl::InfiniteFuture();
}

absl::Time LeaderElector::StepAcquiring() {
  const absl::Time now = clock_->Now();
  if (now < next_try_) return next_try_;
  if (!announced_) {
    Log(absl::StrCat("attempting to acquire leader lease ", lock_->Describe(), "..."));
    announced_ = true;
  }
  const bool acquired = TryAcquireOrRenew(now);
  MaybeReportTransition();
  const absl::Time after = clock_->Now();
  if (!acquired) {
    // wait.JitterUntil, sliding: the wait starts when the try returns.
    next_try_ = after + Jittered(config_.retry_period);
    return next_try_;
  }
  const absl::Time deadline = now + config_.renew_deadline;
  if (after >= deadline) {
    // The write took longer than the renew deadline: the lease is ours, but
    // leadership would already be over. Try again; the next try renews it.
    next_try_ = after + Jittered(config_.retry_period);
    return next_try_;
  }
  {
    absl::MutexLock l(&mu_);
    leading_ = true;
    renew_deadline_ = deadline;
  }
  state_ = State::kLeading;
  next_try_ = after + config_.retry_period;
  Log(absl::StrCat("successfully acquired lease ", lock_->Describe()));
  config_.callbacks.on_started_leading();
  return std::min(next_try_, deadline);
}

absl::Time LeaderElector::StepLeading() {
  absl::Time deadline;
  {
    absl::MutexLock l(&mu_);
    deadline = renew_deadline_;
  }
  const absl::Time now = clock_->Now();
  if (now >= deadline) {
    Log(absl::StrCat("failed to renew lease ", lock_->Describe(),
                     ": timed out waiting for the condition"));
    StopLeading();
    return absl::InfiniteFuture();
  }
  if (now < next_try_) return std::min(next_try_, deadline);

  const bool renewed = TryAcquireOrRenew(now);
  MaybeReportTransition();
  const absl::Time after = clock_->Now();
  if (!ObservedHolderIsMe()) {
    // Another replica holds the lease: no point waiting for the deadline.
    StopLeading();
    return absl::InfiniteFuture();
  }
  if (renewed && after < deadline) {
    absl::MutexLock l(&mu_);
    renew_deadline_ = deadline = now + config_.renew_deadline;
  } else if (after >= deadline) {
    // IsLeader() already turned false at the deadline; a renewal that came
    // back later must not turn it true again.
    Log(absl::StrCat("failed to renew lease ", lock_->Describe(),
                     ": timed out waiting for the condition"));
    StopLeading();
    return absl::InfiniteFuture();
  }
  // wait.Until and PollImmediateUntil both wait retryPeriod after a try.
  next_try_ = after + config_.retry_period;
  return std::min(next_try_, deadline);
}

void LeaderElector::Shutdown() {
  absl::MutexLock step(&step_mu_);
  if (state_ == State::kLeading) {
    StopLeading();
    return;
  }
  // Not leading, but the lease may still be ours (an acquisition that came
  // back too late): release it all the same.
  if (state_ == State::kAcquiring && config_.release_on_cancel) Release();
  state_ = State::kDone;
}

void LeaderElector::StopLeading() {
  {
    absl::MutexLock l(&mu_);
    leading_ = false;
  }
  state_ = State::kDone;
  config_.callbacks.on_stopped_leading();
  if (config_.release_on_cancel) Release();
}

bool LeaderElector::TryAcquireOrRenew(absl::Time now) {
  now = TruncateToMicros(now);
  LeaderElectionRecord desired;
  desired.holder_identity = config_.identity;
  desired.lease_duration_seconds = static_cast<int>(absl::ToInt64Seconds(config_.lease_duration));
  desired.acquire_time = now;
  desired.renew_time = now;

  // 1. The leader's fast path: update the record it wrote last, assuming
  // nobody else wrote since.
  if (ObservedHolderIsMe() && LeaseValid(now)) {
    {
      absl::MutexLock l(&mu_);
      desired.acquire_time = observed_record_.acquire_time;
      desired.leader_transitions = observed_record_.leader_transitions;
    }
    absl::StatusOr<std::string> rv = lock_->Update(desired, observed_resource_version_);
    if (rv.ok()) {
      SetObserved(desired, *rv);
      return true;
    }
    // (sic: upstream's spelling.)
    Log(absl::StrCat("Failed to update lock optimitically: ", rv.status().message(),
                     ", falling back to slow path"));
  }

  // 2. Read the lease, or create it.
  absl::StatusOr<VersionedRecord> current = lock_->Get();
  if (!current.ok()) {
    if (!absl::IsNotFound(current.status())) {
      Log(absl::StrCat("error retrieving resource lock ", lock_->Describe(), ": ",
                       current.status().message()));
      return false;
    }
    absl::StatusOr<std::string> rv = lock_->Create(desired);
    if (!rv.ok()) {
      Log(absl::StrCat("error initially creating leader election record: ", rv.status().message()));
      return false;
    }
    SetObserved(desired, *rv);
    return true;
  }

  // 3. Note a change of record (this is what expiry is measured from), and
  // leave a lease that another holds and that has not expired.
  const LeaderElectionRecord& old = current->record;
  if (!observed_raw_.has_value() || *observed_raw_ != old) {
    SetObserved(old, current->resource_version);
    observed_raw_ = old;
  } else {
    observed_resource_version_ = current->resource_version;
  }
  if (!old.holder_identity.empty() && LeaseValid(now) && !ObservedHolderIsMe()) {
    Log(absl::StrCat("lock is held by ", old.holder_identity, " and has not yet expired"));
    return false;
  }

  // 4. Take or renew it, naming the version read.
  if (old.holder_identity == config_.identity) {
    desired.acquire_time = old.acquire_time;
    desired.leader_transitions = old.leader_transitions;
  } else {
    desired.leader_transitions = old.leader_transitions + 1;
  }
  absl::StatusOr<std::string> rv = lock_->Update(desired, current->resource_version);
  if (!rv.ok()) {
    Log(absl::StrCat("Failed to update lock: ", rv.status().message()));
    return false;
  }
  SetObserved(desired, *rv);
  return true;
}

void LeaderElector::Release() {
  if (!ObservedHolderIsMe()) return;
  const absl::Time now = TruncateToMicros(clock_->Now());
  LeaderElectionRecord released;
  {
    absl::MutexLock l(&mu_);
    released.leader_transitions = observed_record_.leader_transitions;
  }
  released.lease_duration_seconds = 1;
  released.acquire_time = now;
  released.renew_time = now;
  absl::StatusOr<std::string> rv = lock_->Update(released, observed_resource_version_);
  if (!rv.ok()) {
    Log(absl::StrCat("Failed to release lock: ", rv.status().message()));
    return;
  }
  SetObserved(released, *rv);
}

void LeaderElector::MaybeReportTransition() {
  const std::string holder = GetLeader();
  if (holder == reported_leader_) return;
  reported_leader_ = holder;
  if (config_.callbacks.on_new_leader) config_.callbacks.on_new_leader(holder);
}

void LeaderElector::SetObserved(const LeaderElectionRecord& record,
                                const std::string& resource_version) {
  observed_resource_version_ = resource_version;
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  observed_record_ = record;
  observed_time_ = now;
}

bool LeaderElector::ObservedHolderIsMe() const {
  absl::MutexLock l(&mu_);
  return observed_record_.holder_identity == config_.identity;
}

bool LeaderElector::LeaseValid(absl::Time now) const {
  absl::MutexLock l(&mu_);
  return observed_time_ + absl::Seconds(observed_record_.lease_duration_seconds) > now;
}

absl::Duration LeaderElector::Jittered(absl::Duration d) {
  // wait.Jitter: d + rand.Float64() * maxFactor * d.
  return d + Scaled(d, absl::Uniform(random_, 0.0, 1.0) * kJitterFactor);
}

void LeaderElector::Log(absl::string_view message) const {
  if (config_.log) config_.log(message);
}

bool LeaderElector::IsLeader() const {
  absl::MutexLock l(&mu_);
  return leading_ && clock_->Now() < renew_deadline_;
}

std::string LeaderElector::GetLeader() const {
  absl::MutexLock l(&mu_);
  return observed_record_.holder_identity;
}

absl::Status LeaderElector::Check(absl::Duration max_tolerable_expired_lease) const {
  absl::MutexLock l(&mu_);
  if (!leading_) return absl::OkStatus();
  if (clock_->Now() - observed_time_ > config_.lease_duration + max_tolerable_expired_lease) {
    return absl::UnavailableError(
        absl::StrCat("failed election to renew leadership on lease ", config_.name));
  }
  return absl::OkStatus();
}

bool LeaderElector::done() const {
  absl::MutexLock step(&step_mu_);
  return state_ == State::kDone;
}

absl::StatusOr<std::string> NewIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) {
    return absl::InternalError(absl::StrCat("unable to get hostname: ", std::strerror(errno)));
  }
  absl::BitGen random;
  return absl::StrCat(host, "_", NewUuid(random));
}

std::string NewUuid(absl::BitGenRef random) {
  uint8_t b[16];
  for (uint8_t& byte : b) byte = absl::Uniform<uint8_t>(random);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                         b[12], b[13], b[14], b[15]);
}

absl::Duration LeaseRequestTimeout(absl::Duration renew_deadline) {
  return std::max(absl::Seconds(1), renew_deadline / 2);
}

}  // namespace kestrel::kube
