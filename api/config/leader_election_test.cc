#include "api/config/leader_election.h"

#include <string>

#include "absl/time/time.h"
#include "api/decode.h"
#include "gtest/gtest.h"

namespace kestrel::config {
namespace {

// The config file's leaderElection block, decoded as the config loader does.
absl::StatusOr<LeaderElectionSettings> FromYaml(const std::string& block) {
  KubeSchedulerConfiguration cfg;
  absl::Status s = api::DecodeInto(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n" + block,
      &cfg, "sched.yaml: KubeSchedulerConfiguration");
  if (!s.ok()) return s;
  return LeaderElectionFromConfig(cfg, "sched.yaml");
}

TEST(LeaderElectionFromConfigTest, DefaultsAsKubeScheduler) {
  for (const std::string& block : {std::string(""), std::string("leaderElection: {}\n"),
                                   std::string("leaderElection:\n  leaseDuration: 0s\n")}) {
    absl::StatusOr<LeaderElectionSettings> s = FromYaml(block);
    ASSERT_TRUE(s.ok()) << block << s.status();
    EXPECT_TRUE(s->leader_elect);
    EXPECT_EQ(s->lease_duration, absl::Seconds(15));
    EXPECT_EQ(s->renew_deadline, absl::Seconds(10));
    EXPECT_EQ(s->retry_period, absl::Seconds(2));
    EXPECT_EQ(s->resource_lock, "leases");
    EXPECT_EQ(s->resource_name, "kube-scheduler");
    EXPECT_EQ(s->resource_namespace, "kube-system");
  }
}

TEST(LeaderElectionFromConfigTest, ReadsEveryField) {
  absl::StatusOr<LeaderElectionSettings> s = FromYaml(R"(leaderElection:
  leaderElect: false
  leaseDuration: 1m30s
  renewDeadline: 45.5s
  retryPeriod: 500ms
  resourceLock: leases
  resourceName: kestrel
  resourceNamespace: scheduling
)");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->leader_elect);
  EXPECT_EQ(s->lease_duration, absl::Seconds(90));
  EXPECT_EQ(s->renew_deadline, absl::Milliseconds(45500));
  EXPECT_EQ(s->retry_period, absl::Milliseconds(500));
  EXPECT_EQ(s->resource_name, "kestrel");
  EXPECT_EQ(s->resource_namespace, "scheduling");
}

TEST(LeaderElectionFromConfigTest, RejectsWithUpstreamMessages) {
  const struct {
    std::string name;
    std::string block;
    std::string message;
  } cases[] = {
      {"not a duration", "leaderElection:\n  leaseDuration: 15\n",
       R"(sched.yaml: leaderElection.leaseDuration: time: missing unit in duration "15")"},
      {"unknown unit", "leaderElection:\n  retryPeriod: 2sec\n",
       R"(sched.yaml: leaderElection.retryPeriod: time: unknown unit "sec" in duration "2sec")"},
      {"negative retry", "leaderElection:\n  retryPeriod: -2s\n",
       "sched.yaml: leaderElection.retryPeriod: Invalid value: -2s: must be greater than zero"},
      {"lease not above renew", "leaderElection:\n  leaseDuration: 10s\n",
       "sched.yaml: leaderElection.leaseDuration: Invalid value: 10s: must be greater than "
       "`RenewDeadline`"},
      {"several", "leaderElection:\n  renewDeadline: -1m\n  leaseDuration: -1h\n",
       "sched.yaml: [leaderElection.leaseDuration: Invalid value: -1h0m0s: must be greater than "
       "zero, leaderElection.renewDeadline: Invalid value: -1m0s: must be greater than zero, "
       "leaderElection.leaseDuration: Invalid value: -1m0s: must be greater than "
       "`RenewDeadline`]"},
      {"endpoints lock", "leaderElection:\n  resourceLock: endpoints\n",
       "sched.yaml: leaderElection.resourceLock: couldn't create resource lock: endpoints lock "
       "is removed, migrate to endpointsleases (using version v0.27.x)"},
      {"unknown lock", "leaderElection:\n  resourceLock: secrets\n",
       "sched.yaml: leaderElection.resourceLock: couldn't create resource lock: Invalid "
       "lock-type secrets"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<LeaderElectionSettings> s = FromYaml(c.block);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(s.status().message(), c.message) << c.name;
  }
}

// Upstream validates only when leader election is on; a bad duration still
// fails to decode.
TEST(LeaderElectionFromConfigTest, ValidatesOnlyWhenElecting) {
  absl::StatusOr<LeaderElectionSettings> off =
      FromYaml("leaderElection:\n  leaderElect: false\n  leaseDuration: 5s\n  resourceLock: x\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(off->lease_duration, absl::Seconds(5));
  EXPECT_FALSE(FromYaml("leaderElection:\n  leaderElect: false\n  leaseDuration: x\n").ok());
}

}  // namespace
}  // namespace kestrel::config
