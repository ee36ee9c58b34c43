// File: leader_election.h
//
// Leader election among scheduler replicas on a coordination.k8s.io/v1
// Lease, with the semantics of client-go's tools/leaderelection (and so
// interoperable with kube-scheduler replicas on the same lease):
//
//   * The lease holds a LeaderElectionRecord: the holder's identity
//     (`<hostname>_<uuid>`, see NewIdentity), leaseDurationSeconds,
//     acquireTime, renewTime and leaseTransitions.
//   * A candidate acquires only a lease that does not exist, that nobody
//     holds (empty holder, after a release), or that has expired. Expiry is
//     judged by the candidate's own clock: leaseDurationSeconds after the
//     candidate last *saw the record change*, never by the record's
//     renewTime, so clock skew between replicas does not matter.
//   * Every write names the resourceVersion it read; a 409 means another
//     replica won, and the loser is not leader.
//   * Acquisition is retried every retryPeriod, jittered by up to
//     JitterFactor (1.2) times it; the leader renews every retryPeriod.
//   * leaseTransitions counts changes of holder; a renewal keeps it and the
//     acquireTime.
//   * With release_on_cancel, stopping (Shutdown, or Run's cancel) writes
//     the lease back with an empty holder and leaseDurationSeconds 1, so
//     another replica takes over at once instead of after expiry.
//
// The guarantee: a leader that has not renewed for renewDeadline stops being
// leader (IsLeader() turns false at that instant, whatever its loop is doing,
// and OnStoppedLeading runs at its next step), and renewDeadline <
// leaseDuration; another candidate can acquire only leaseDuration after it
// saw the leader's last renewal, which is later. So two replicas never both
// hold IsLeader(), provided their clocks run at the same rate and nothing but
// the electors writes the lease.
//
// Where Kestrel differs from client-go, on purpose:
//   * renewDeadline is counted from the start of the last successful renewal
//     (client-go counts it from the start of a round of retries, up to one
//     retryPeriod later, which leaseDuration > renewDeadline does not cover).
//   * IsLeader() means "acting as leader": it is false once the renew
//     deadline has passed, and as soon as the lease shows another holder.
//   * OnStoppedLeading runs only after OnStartedLeading did (client-go calls
//     it whenever Run returns), and before the release, so the lease is
//     never free while this replica still acts.
//   * The first renewal comes retryPeriod after acquiring (client-go renews
//     at once).
//
// The elector is a state machine driven by Step(): each Step does what is due
// at the clock's Now() and answers when the next step is due. Run() drives it
// on the calling thread in production; tests call Step() directly with a
// clock they control, so they need no sleeps.
//
// Example:
//   LeaderElectionConfig config;
//   ASSIGN_OR_RETURN(config.identity, NewIdentity());
//   config.release_on_cancel = true;
//   config.callbacks.on_started_leading = [&] { scheduler.Start(); };
//   config.callbacks.on_stopped_leading = [&] { scheduler.Stop(); };
//   ASSIGN_OR_RETURN(auto elector, LeaderElector::Create(config, &lock, RealClock()));
//   absl::Notification cancel;            // notified on SIGTERM
//   elector->Run(cancel);                 // returns on cancel or lost lease

#ifndef KESTREL_KUBE_LEADER_ELECTION_H_
#define KESTREL_KUBE_LEADER_ELECTION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kube/clock.h"

namespace kestrel::kube {

// client-go's JitterFactor: acquisition retries wait retryPeriod times a
// random factor in [1, 1 + JitterFactor).
inline constexpr double kJitterFactor = 1.2;

// LeaderElectionRecord
//
// What a lease says (client-go's resourcelock.LeaderElectionRecord), mapped
// to and from LeaseSpec: holderIdentity, leaseDurationSeconds, acquireTime
// and renewTime (MicroTime: microsecond precision), leaseTransitions.
struct LeaderElectionRecord {
  // Empty: nobody holds the lease (it was released) and anyone may take it.
  std::string holder_identity;
  int lease_duration_seconds = 0;
  absl::Time acquire_time = absl::UnixEpoch();
  absl::Time renew_time = absl::UnixEpoch();
  int leader_transitions = 0;

  friend bool operator==(const LeaderElectionRecord& a, const LeaderElectionRecord& b) {
    return a.holder_identity == b.holder_identity &&
           a.lease_duration_seconds == b.lease_duration_seconds &&
           a.acquire_time == b.acquire_time && a.renew_time == b.renew_time &&
           a.leader_transitions == b.leader_transitions;
  }
  friend bool operator!=(const LeaderElectionRecord& a, const LeaderElectionRecord& b) {
    return !(a == b);
  }
};

// A record as stored, with the resourceVersion that an update must name.
struct VersionedRecord {
  LeaderElectionRecord record;
  std::string resource_version;
};

// LeaseLock
//
// The object an election is held on: one Lease. Implementations: the HTTP
// one on kube::Client (lease_lock.h), and an in-memory one for tests
// (leader_election_testing.h). Called from the elector's thread only.
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;

  // The lease's record and resourceVersion; NotFound when there is no lease.
  virtual absl::StatusOr<VersionedRecord> Get() = 0;

  // Creates the lease holding `record`; answers its resourceVersion. Fails
  // (AlreadyExists, or Aborted for an HTTP 409) when it exists already.
  virtual absl::StatusOr<std::string> Create(const LeaderElectionRecord& record) = 0;

  // Replaces the lease's record if its resourceVersion is still
  // `resource_version`; answers the new one. Aborted (HTTP 409) when the
  // lease changed since: another replica wrote it first.
  virtual absl::StatusOr<std::string> Update(const LeaderElectionRecord& record,
                                             const std::string& resource_version) = 0;

  // "<namespace>/<name>", for messages.
  virtual std::string Describe() const = 0;
};

// LeaderCallbacks
//
// Run on the elector's thread, from Step, Shutdown or Run, without the
// elector's lock held: they may call IsLeader() and GetLeader(), but not
// Step(), Shutdown() or Run(). They should return promptly (start work on
// another thread), except on_stopped_leading, which should return only once
// the leader's work has stopped: the lease may be released right after.
struct LeaderCallbacks {
  // Required. This replica is now the leader.
  std::function<void()> on_started_leading;
  // Required. This replica is no longer the leader: the renew deadline
  // passed, the lease shows another holder, or the elector was shut down.
  // Called once, and only after on_started_leading.
  std::function<void()> on_stopped_leading;
  // Optional. The lease shows a holder other than the last one reported
  // (the first one seen included); "" once it was released and nobody
  // holds it yet.
  std::function<void(const std::string& identity)> on_new_leader;
};

// LeaderElectionConfig
//
// client-go's LeaderElectionConfig; the durations default to kube-scheduler's.
struct LeaderElectionConfig {
  // Unique among the candidates: NewIdentity().
  std::string identity;
  // How long a candidate waits, after it last saw the record change, before
  // it may take the lease. Written to the lease in whole seconds.
  absl::Duration lease_duration = absl::Seconds(15);
  // How long the leader keeps leading without a successful renewal.
  absl::Duration renew_deadline = absl::Seconds(10);
  // How often to try to acquire (jittered) and to renew.
  absl::Duration retry_period = absl::Seconds(2);
  // Release the lease when stopped (kube-scheduler sets it).
  bool release_on_cancel = false;
  // Names the election in Check()'s message ("kube-scheduler").
  std::string name;
  LeaderCallbacks callbacks;
  // Optional: client-go's log lines ("successfully acquired lease
  // kube-system/kube-scheduler", "Failed to update lock: ...").
  std::function<void(absl::string_view message)> log;
};

// LeaderElector
//
// Thread-safe: IsLeader(), GetLeader() and Check() from any thread; Step(),
// Shutdown() and Run() from one thread at a time (they serialize).
// One election per object: once it is done (leadership lost, or shut
// down), a new LeaderElector is needed, as a new process would be.
class LeaderElector {
 public:
  // Create()
  //
  // Validates `config` as client-go's NewLeaderElector does, with its
  // messages (InvalidArgument): "leaseDuration must be greater than
  // renewDeadline", "renewDeadline must be greater than
  // retryPeriod*JitterFactor", "<x> must be greater than zero", "<callback>
  // callback must not be nil", "Lock must not be nil.", "Lock identity is
  // empty". `lock` and `clock` must outlive the elector. `random` draws the
  // jitter; without it the elector seeds its own generator.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(LeaderElectionConfig config,
                                                               LeaseLock* lock, Clock* clock);
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(LeaderElectionConfig config,
                                                               LeaseLock* lock, Clock* clock,
                                                               absl::BitGenRef random);

  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Run()
  //
  // Steps the election, waiting on the clock in between, until leadership is
  // lost (returns after on_stopped_leading) or `cancel` is notified (then
  // Shutdown()). Returns at once if the election is already done.
  void Run(const absl::Notification& cancel) ABSL_LOCKS_EXCLUDED(step_mu_, mu_);

  // Step()
  //
  // Does what is due at the clock's Now(): a try to acquire or renew, or
  // giving up leadership at the renew deadline. Answers when the next step
  // is due (absl::InfiniteFuture() once done). Stepping early is harmless;
  // stepping late only delays the callbacks, not IsLeader() turning false.
  absl::Time Step() ABSL_LOCKS_EXCLUDED(step_mu_, mu_);

  // Shutdown()
  //
  // Stops the election (Go's context cancellation): a leader stops leading
  // (on_stopped_leading) and, with release_on_cancel, releases the lease.
  void Shutdown() ABSL_LOCKS_EXCLUDED(step_mu_, mu_);

  // Whether this replica is the leader now: it acquired the lease, last
  // renewed it less than renew_deadline ago, and has not seen another
  // holder.
  bool IsLeader() const ABSL_LOCKS_EXCLUDED(mu_);

  // The holder of the lease as last seen ("" before the first look, and
  // while nobody holds it).
  std::string GetLeader() const ABSL_LOCKS_EXCLUDED(mu_);

  // Check()
  //
  // The health check (client-go's HealthzAdaptor): an error when this
  // replica still acts on leadership (on_stopped_leading not yet called)
  // but last renewed more than lease_duration + `max_tolerable_expired_lease`
  // ago, i.e. its election loop is stuck. kube-scheduler tolerates 20s.
  absl::Status Check(absl::Duration max_tolerable_expired_lease) const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the election is over (lost or shut down).
  bool done() const ABSL_LOCKS_EXCLUDED(step_mu_);

  const std::string& identity() const { return config_.identity; }

 private:
  enum class State { kAcquiring, kLeading, kDone };

  LeaderElector(LeaderElectionConfig config, LeaseLock* lock, Clock* clock,
                std::unique_ptr<absl::BitGen> own_random, absl::BitGenRef random);

  absl::Time StepAcquiring() ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  absl::Time StepLeading() ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  // client-go's tryAcquireOrRenew, at `now` (the try's start).
  bool TryAcquireOrRenew(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  // Leaves the leading state: on_stopped_leading, then the release if
  // configured; the election is done.
  void StopLeading() ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  // client-go's release(): an empty holder, leaseDurationSeconds 1.
  void Release() ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  void MaybeReportTransition() ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);

  // Records what the lease now says, seen (or written) at the clock's Now().
  void SetObserved(const LeaderElectionRecord& record, const std::string& resource_version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  bool ObservedHolderIsMe() const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the observed record has not expired at `now` by our clock.
  bool LeaseValid(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration Jittered(absl::Duration d) ABSL_EXCLUSIVE_LOCKS_REQUIRED(step_mu_);
  void Log(absl::string_view message) const;

  const LeaderElectionConfig config_;
  LeaseLock* const lock_;
  Clock* const clock_;
  const std::unique_ptr<absl::BitGen> own_random_;  // null when one was given

  // The election loop's state: touched by the stepping thread only.
  mutable absl::Mutex step_mu_;
  absl::BitGenRef random_ ABSL_GUARDED_BY(step_mu_);
  State state_ ABSL_GUARDED_BY(step_mu_) = State::kAcquiring;
  absl::Time next_try_ ABSL_GUARDED_BY(step_mu_) = absl::InfinitePast();
  bool announced_ ABSL_GUARDED_BY(step_mu_) = false;
  // The resourceVersion of the lease as last read or written.
  std::string observed_resource_version_ ABSL_GUARDED_BY(step_mu_);
  // The record as last read (client-go's observedRawRecord): the observed
  // time moves only when a read shows something different.
  std::optional<LeaderElectionRecord> observed_raw_ ABSL_GUARDED_BY(step_mu_);
  std::string reported_leader_ ABSL_GUARDED_BY(step_mu_);

  // What other threads read.
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(step_mu_);
  LeaderElectionRecord observed_record_ ABSL_GUARDED_BY(mu_);
  absl::Time observed_time_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Between on_started_leading and on_stopped_leading.
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  // Start of the last successful acquire or renewal, plus renew_deadline.
  absl::Time renew_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// NewIdentity()
//
// kube-scheduler's identity for the lease: "<hostname>_<uuid>", the UUID a
// random (version 4) one so that two processes on one host differ.
absl::StatusOr<std::string> NewIdentity();

// A random (version 4) UUID, lower-case "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx".
std::string NewUuid(absl::BitGenRef random);

// The timeout for the lease's API calls (client-go's NewFromKubeconfig):
// half the renew deadline, at least a second, so that one hung request does
// not cost the leadership.
absl::Duration LeaseRequestTimeout(absl::Duration renew_deadline);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_LEADER_ELECTION_H_
