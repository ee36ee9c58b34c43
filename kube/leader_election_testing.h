// File: leader_election_testing.h
//
// Test doubles for leader election (testonly): a clock that moves only when
// told, and a Lease kept in memory, shared by the electors of a test, with
// the API server's semantics (resourceVersion, 409 on a stale update, 404,
// AlreadyExists) and injectable failures and latency per elector.
//
// Example:
//   FakeClock clock;
//   MemoryLease lease;
//   MemoryLeaseLock lock_a(&lease), lock_b(&lease);
//   auto a = LeaderElector::Create(config_a, &lock_a, &clock);
//   (*a)->Step();                       // creates the lease, leads
//   lock_a.SetFailing(absl::UnavailableError("partitioned"));
//   clock.Advance(absl::Seconds(10));   // a's renew deadline: a->IsLeader() is false

#ifndef KESTREL_KUBE_LEADER_ELECTION_TESTING_H_
#define KESTREL_KUBE_LEADER_ELECTION_TESTING_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kube/leader_election.h"

namespace kestrel::kube::testing {

// FakeClock
//
// Starts at a fixed instant and moves only by Advance() or Set(). Threads
// blocked in WaitUntil() wake when time reaches their deadline, or, once
// their cancel notification is notified, at the next Advance() (by zero is
// enough). Thread-safe.
class FakeClock : public Clock {
 public:
  FakeClock() = default;
  explicit FakeClock(absl::Time start) : now_(start) {}

  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_);
  void WaitUntil(absl::Time deadline, const absl::Notification& cancel) override
      ABSL_LOCKS_EXCLUDED(mu_);

  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  // Moves to `t`; never backwards (an earlier `t` leaves the clock as is).
  void Set(absl::Time t) ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until `n` threads wait in WaitUntil() for an instant still to
  // come: a test advances time once a Run loop is parked, never racing it.
  void AwaitSleepers(int n) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1700000000);
  // Deadlines of the threads in WaitUntil(), with how many wait for each.
  std::map<absl::Time, int> sleepers_ ABSL_GUARDED_BY(mu_);
};

// MemoryLease
//
// One Lease in memory, as the API server keeps it: absent until created,
// a resourceVersion bumped by every write. Thread-safe.
class MemoryLease {
 public:
  // The stored record, or nullopt when there is no lease.
  std::optional<VersionedRecord> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // Writes `record` unconditionally, as someone other than the electors
  // would (kubectl, another component): creates the lease if need be.
  void Overwrite(const LeaderElectionRecord& record) ABSL_LOCKS_EXCLUDED(mu_);

  // Successful creates and updates so far.
  int writes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class MemoryLeaseLock;

  absl::StatusOr<VersionedRecord> Get() const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> Create(const LeaderElectionRecord& record) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::string> Update(const LeaderElectionRecord& record,
                                     const std::string& resource_version) ABSL_LOCKS_EXCLUDED(mu_);
  std::string Store(const LeaderElectionRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::optional<VersionedRecord> current_ ABSL_GUARDED_BY(mu_);
  int64_t version_ ABSL_GUARDED_BY(mu_) = 100;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
};

// MemoryLeaseLock
//
// One elector's view of a MemoryLease ("kube-system/kube-scheduler"), with
// the API server's errors and messages, and faults to inject.
class MemoryLeaseLock : public LeaseLock {
 public:
  explicit MemoryLeaseLock(MemoryLease* lease) : lease_(lease) {}

  absl::StatusOr<VersionedRecord> Get() override;
  absl::StatusOr<std::string> Create(const LeaderElectionRecord& record) override;
  absl::StatusOr<std::string> Update(const LeaderElectionRecord& record,
                                     const std::string& resource_version) override;
  std::string Describe() const override { return "kube-system/kube-scheduler"; }

  // The next `times` calls fail with `error` and change nothing.
  void FailNext(absl::Status error, int times = 1);
  // Every call fails with `error` until SetFailing(absl::OkStatus()): a
  // partition from the API server.
  void SetFailing(absl::Status error) { failing_ = std::move(error); }
  // Each call first advances `clock` by `latency`: a slow API server (the
  // call acts, and answers, `latency` after it was made).
  void SetLatency(FakeClock* clock, absl::Duration latency) {
    latency_clock_ = clock;
    latency_ = latency;
  }
  // Runs before each Update reaches the lease: lets a test write in
  // between the elector's read and its write (a lost race).
  void BeforeUpdate(std::function<void()> hook) { before_update_ = std::move(hook); }

  // Calls made, failed ones included.
  int calls() const { return calls_; }

 private:
  // Counts the call, applies the latency, and answers an injected failure.
  absl::Status Enter();

  MemoryLease* const lease_;
  absl::Status failing_;
  absl::Status fail_next_;
  int fail_next_times_ = 0;
  FakeClock* latency_clock_ = nullptr;
  absl::Duration latency_;
  std::function<void()> before_update_;
  int calls_ = 0;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_LEADER_ELECTION_TESTING_H_
