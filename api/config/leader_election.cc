#include "api/config/leader_election.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/go_duration.h"
#include "api/validation.h"

namespace kestrel::config {
namespace {

constexpr char kPath[] = "leaderElection";

// A metav1.Duration field: unset or zero keeps `*out` (the default), as
// RecommendedDefaultLeaderElectionConfiguration compares with the zero value.
absl::Status ParseDurationField(bool has, const std::string& text, absl::string_view field,
                                absl::Duration* out) {
  if (!has) return absl::OkStatus();
  absl::StatusOr<absl::Duration> d = api::ParseGoDuration(text);
  if (!d.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(kPath, ".", field, ": ", d.status().message()));
  }
  if (*d != absl::ZeroDuration()) *out = *d;
  return absl::OkStatus();
}

// resourcelock.New: every lock but "leases" is gone from client-go; its
// message, wrapped as kube-scheduler's makeLeaderElectionConfig does.
absl::Status CheckResourceLock(const std::string& lock) {
  std::string why;
  if (lock == "leases") return absl::OkStatus();
  if (lock == "endpoints") {
    why = "endpoints lock is removed, migrate to endpointsleases (using version v0.27.x)";
  } else if (lock == "configmaps") {
    why = "configmaps lock is removed, migrate to configmapsleases (using version v0.27.x)";
  } else if (lock == "endpointsleases") {
    why = "endpointsleases lock is removed, migrate to leases";
  } else if (lock == "configmapsleases") {
    why = "configmapsleases lock is removed, migrated to leases";
  } else {
    why = absl::StrCat("Invalid lock-type ", lock);
  }
  return absl::InvalidArgumentError(
      absl::StrCat(kPath, ".resourceLock: couldn't create resource lock: ", why));
}

// component-base ValidateLeaderElectionConfiguration, in its order.
std::vector<std::string> Validate(const LeaderElectionSettings& s) {
  std::vector<std::string> errs;
  if (!s.leader_elect) return errs;
  const auto invalid = [&errs](absl::string_view field, absl::Duration value,
                               absl::string_view detail) {
    errs.push_back(absl::StrCat(kPath, ".", field,
                                ": Invalid value: ", api::FormatGoDuration(value), ": ", detail));
  };
  if (s.lease_duration <= absl::ZeroDuration()) {
    invalid("leaseDuration", s.lease_duration, "must be greater than zero");
  }
  if (s.renew_deadline <= absl::ZeroDuration()) {
    invalid("renewDeadline", s.renew_deadline, "must be greater than zero");
  }
  if (s.retry_period <= absl::ZeroDuration()) {
    invalid("retryPeriod", s.retry_period, "must be greater than zero");
  }
  if (s.lease_duration <= s.renew_deadline) {
    // Upstream shows renewDeadline's value under leaseDuration.
    invalid("leaseDuration", s.renew_deadline, "must be greater than `RenewDeadline`");
  }
  return errs;
}

}  // namespace

absl::StatusOr<LeaderElectionSettings> LeaderElectionFromConfig(
    const KubeSchedulerConfiguration& config, absl::string_view file_name) {
  const LeaderElectionConfiguration& le = config.leaderelection();
  LeaderElectionSettings s;
  const auto fail = [file_name](const absl::Status& status) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", status.message()));
  };
  if (le.has_leaderelect()) s.leader_elect = le.leaderelect();
  for (absl::Status status : {ParseDurationField(le.has_leaseduration(), le.leaseduration(),
                                                 "leaseDuration", &s.lease_duration),
                              ParseDurationField(le.has_renewdeadline(), le.renewdeadline(),
                                                 "renewDeadline", &s.renew_deadline),
                              ParseDurationField(le.has_retryperiod(), le.retryperiod(),
                                                 "retryPeriod", &s.retry_period)}) {
    if (!status.ok()) return fail(status);
  }
  if (!le.resourcelock().empty()) s.resource_lock = le.resourcelock();
  if (!le.resourcename().empty()) s.resource_name = le.resourcename();
  if (!le.resourcenamespace().empty()) s.resource_namespace = le.resourcenamespace();

  absl::Status valid = api::AggregateErrors(Validate(s));
  if (!valid.ok()) return fail(valid);
  if (s.leader_elect) {
    absl::Status lock = CheckResourceLock(s.resource_lock);
    if (!lock.ok()) return fail(lock);
  }
  return s;
}

}  // namespace kestrel::config
