#include "kube/leader_election_testing.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kestrel::kube::testing {

absl::Time FakeClock::Now() {
  absl::MutexLock l(&mu_);
  return now_;
}

void FakeClock::WaitUntil(absl::Time deadline, const absl::Notification& cancel) {
  absl::MutexLock l(&mu_);
  ++sleepers_[deadline];
  auto woken = [this, deadline, &cancel]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return now_ >= deadline || cancel.HasBeenNotified();
  };
  mu_.Await(absl::Condition(&woken));
  if (--sleepers_[deadline] == 0) sleepers_.erase(deadline);
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock l(&mu_);
  now_ += d;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock l(&mu_);
  now_ = std::max(now_, t);
}

void FakeClock::AwaitSleepers(int n) {
  auto parked = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int count = 0;
    for (const auto& [deadline, waiting] : sleepers_) {
      if (deadline > now_) count += waiting;
    }
    return count >= n;
  };
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(&parked));
}

std::optional<VersionedRecord> MemoryLease::Current() const {
  absl::MutexLock l(&mu_);
  return current_;
}

void MemoryLease::Overwrite(const LeaderElectionRecord& record) {
  absl::MutexLock l(&mu_);
  Store(record);
}

int MemoryLease::writes() const {
  absl::MutexLock l(&mu_);
  return writes_;
}

absl::StatusOr<VersionedRecord> MemoryLease::Get() const {
  absl::MutexLock l(&mu_);
  if (!current_.has_value()) {
    return absl::NotFoundError(R"(leases.coordination.k8s.io "kube-scheduler" not found)");
  }
  return *current_;
}

absl::StatusOr<std::string> MemoryLease::Create(const LeaderElectionRecord& record) {
  absl::MutexLock l(&mu_);
  if (current_.has_value()) {
    return absl::AlreadyExistsError(
        R"(leases.coordination.k8s.io "kube-scheduler" already exists)");
  }
  return Store(record);
}

absl::StatusOr<std::string> MemoryLease::Update(const LeaderElectionRecord& record,
                                                const std::string& resource_version) {
  absl::MutexLock l(&mu_);
  if (!current_.has_value()) {
    return absl::NotFoundError(R"(leases.coordination.k8s.io "kube-scheduler" not found)");
  }
  if (resource_version != current_->resource_version) {
    return absl::AbortedError(
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"kube-scheduler\": the "
        "object has been modified; please apply your changes to the latest version and try "
        "again");
  }
  return Store(record);
}

std::string MemoryLease::Store(const LeaderElectionRecord& record) {
  current_ = VersionedRecord{record, absl::StrCat(++version_)};
  ++writes_;
  return current_->resource_version;
}

void MemoryLeaseLock::FailNext(absl::Status error, int times) {
  fail_next_ = std::move(error);
  fail_next_times_ = times;
}

absl::Status MemoryLeaseLock::Enter() {
  ++calls_;
  if (latency_clock_ != nullptr) latency_clock_->Advance(latency_);
  if (!failing_.ok()) return failing_;
  if (fail_next_times_ > 0) {
    --fail_next_times_;
    return fail_next_;
  }
  return absl::OkStatus();
}

absl::StatusOr<VersionedRecord> MemoryLeaseLock::Get() {
  absl::Status s = Enter();
  if (!s.ok()) return s;
  return lease_->Get();
}

absl::StatusOr<std::string> MemoryLeaseLock::Create(const LeaderElectionRecord& record) {
  absl::Status s = Enter();
  if (!s.ok()) return s;
  return lease_->Create(record);
}

absl::StatusOr<std::string> MemoryLeaseLock::Update(const LeaderElectionRecord& record,
                                                    const std::string& resource_version) {
  absl::Status s = Enter();
  if (!s.ok()) return s;
  if (before_update_) before_update_();
  return lease_->Update(record, resource_version);
}

}  // namespace kestrel::kube::testing
