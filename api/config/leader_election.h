// File: leader_election.h
//
// The `leaderElection` block of a KubeSchedulerConfiguration, defaulted and
// validated as kube-scheduler does it, with its durations parsed from Go's
// text form ("15s"). Defaults (upstream's v1 SetDefaults and component-base's
// RecommendedDefaultLeaderElectionConfiguration): leaderElect true,
// leaseDuration 15s, renewDeadline 10s, retryPeriod 2s (a zero duration also
// takes the default), resourceLock "leases", resourceName "kube-scheduler",
// resourceNamespace "kube-system". Validation (component-base
// ValidateLeaderElectionConfiguration, only when leaderElect is true): every
// duration positive and leaseDuration greater than renewDeadline, with
// upstream's field errors; resourceLock must be "leases", the only lock that
// client-go still has.
//
// Example:
//   leaderElection:
//     leaseDuration: 30s
//     renewDeadline: 20s
//
//   absl::StatusOr<LeaderElectionSettings> le =
//       LeaderElectionFromConfig(cfg, "sched.yaml");  // 30s, 20s, 2s, ...

#ifndef KESTREL_API_CONFIG_LEADER_ELECTION_H_
#define KESTREL_API_CONFIG_LEADER_ELECTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/config/config.pb.h"

namespace kestrel::config {

// The defaulted, typed form of LeaderElectionConfiguration.
struct LeaderElectionSettings {
  bool leader_elect = true;
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  std::string resource_lock = "leases";
  std::string resource_name = "kube-scheduler";
  std::string resource_namespace = "kube-system";
};

// LeaderElectionFromConfig()
//
// The settings of `config.leaderElection`, defaulted and validated. Errors
// are InvalidArgument and read "<file_name>: leaderElection.<field>: ...":
// Go's message for a duration that does not parse (`time: invalid duration
// "x"`), upstream's field errors for values it rejects (several as "[a, b]").
absl::StatusOr<LeaderElectionSettings> LeaderElectionFromConfig(
    const KubeSchedulerConfiguration& config, absl::string_view file_name);

}  // namespace kestrel::config

#endif  // KESTREL_API_CONFIG_LEADER_ELECTION_H_
