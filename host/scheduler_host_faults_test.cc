// `kestrel scheduler` through the faults a real API server shows, over
// HTTP against the in-repo server: watch streams cut, 410 Gone on the next
// watch, bindings refused with 500, 503, 409 and 429 (Retry-After 1),
// 500s on the pod lists, latency, every connection closed. Randomized per
// seed; whatever the faults, every schedulable pod ends bound exactly once
// (one 201 for its binding on the server's side), no node holds more than
// it has, and the pods that fit nowhere stay unbound with their condition.

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "host/scheduler_host.h"
#include "host/scheduler_host_testing.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"

namespace kestrel::host {
namespace {

using kube::testing::FakeApiServer;
using kube::testing::FakeApiServerOptions;
using testing::BindingPath;
using testing::NodeJson;
using testing::NodeOf;
using testing::PodJson;
using testing::QuickClient;
using testing::QuickHostOptions;
using testing::WaitFor;
using Json = nlohmann::json;

constexpr char kPodsPrefix[] = "/api/v1/namespaces/default/pods/";

// One fault, drawn from `rng`, injected now.
void InjectFault(FakeApiServer& server, std::mt19937_64& rng) {
  const int times = 1 + static_cast<int>(rng() % 4);
  switch (rng() % 10) {
    case 0:
    case 1:
      server.FailNext("POST", kPodsPrefix, 500, times);  // bindings
      break;
    case 2:
      server.FailNext("POST", kPodsPrefix, 503, times);
      break;
    case 3:
      // Refused before it was done: the client waits the second and retries.
      server.FailNext("POST", kPodsPrefix, 429, 1, /*retry_after_seconds=*/1);
      break;
    case 4:
      // Not "already assigned": nothing was bound, the pod must be retried.
      server.FailNext("POST", kPodsPrefix, 409, 1);
      break;
    case 5:
      server.DropWatches();
      break;
    case 6:
      server.ForceGoneOnNextWatch();
      server.DropWatches();
      break;
    case 7:
      server.FailNext("GET", "/api/v1/pods", 500, times);  // the pods' list and watch
      break;
    case 8:
      server.SetLatency(absl::Milliseconds(1 + rng() % 20), kPodsPrefix);
      break;
    case 9:
      // Requests in flight (bindings too) get no answer: a binding the
      // server did may look failed to the scheduler.
      server.CloseConnections();
      break;
  }
}

int64_t MilliCpu(const std::string& cpu) {
  return absl::EndsWith(cpu, "m") ? std::stoll(cpu.substr(0, cpu.size() - 1))
                                  : std::stoll(cpu) * 1000;
}

class SchedulerHostFaultsTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(SchedulerHostFaultsTest, EverySchedulablePodIsBoundExactlyOnce) {
  std::mt19937_64 rng(GetParam());
  FakeApiServerOptions server_options;
  server_options.history_size = 200;  // so that a resumed watch can be too old
  absl::StatusOr<std::unique_ptr<FakeApiServer>> started = FakeApiServer::Start(server_options);
  ASSERT_TRUE(started.ok()) << started.status();
  FakeApiServer& server = **started;

  const int nodes = 20 + static_cast<int>(rng() % 31);
  const int pods = 200 + static_cast<int>(rng() % 101);
  const int unschedulable = 3;
  for (int i = 0; i < nodes; ++i) {
    ASSERT_TRUE(server.Create(NodeJson(absl::StrCat("node-", i), "4")).ok());
  }
  // Requests that fill at most half of the cluster, so every pod fits
  // whatever the order; a few ask for more than any node has.
  const int64_t budget = nodes * 4000 / 2;
  std::map<std::string, std::string> cpu_of;  // schedulable pods
  int64_t total = 0;
  for (int i = 0; i < pods; ++i) {
    const int64_t cpu = std::min<int64_t>(100 + rng() % 400, (budget - total) / (pods - i));
    cpu_of[absl::StrCat("pod-", i)] = absl::StrCat(std::max<int64_t>(cpu, 1), "m");
    total += std::max<int64_t>(cpu, 1);
  }

  SchedulerHost host(QuickClient(server.url()), QuickHostOptions());
  ASSERT_TRUE(host.Start().ok());

  // Pods arrive in batches, a fault between batches.
  int created = 0;
  for (const auto& [name, cpu] : cpu_of) {
    ASSERT_TRUE(server.Create(PodJson(name, cpu)).ok());
    if (++created % 10 == 0) {
      InjectFault(server, rng);
      absl::SleepFor(absl::Milliseconds(rng() % 20));
    }
  }
  for (int i = 0; i < unschedulable; ++i) {
    ASSERT_TRUE(server.Create(PodJson(absl::StrCat("huge-", i), "64")).ok());
  }
  server.SetLatency(absl::ZeroDuration(), kPodsPrefix);

  const bool all_bound = WaitFor(
      [&] {
        for (const auto& [name, cpu] : cpu_of) {
          if (NodeOf(server, name).empty()) return false;
        }
        return true;
      },
      absl::Minutes(2));
  // The unschedulable pods' condition, written on the same worker pool.
  const bool conditions = WaitFor([&] {
    for (int i = 0; i < unschedulable; ++i) {
      absl::StatusOr<Json> pod = server.Get("Pod", "default", absl::StrCat("huge-", i));
      if (!pod.ok() || !pod->contains("status")) return false;
      bool found = false;
      for (const Json& c : (*pod)["status"].value("conditions", Json::array())) {
        found |= c.value("type", "") == "PodScheduled" && c.value("reason", "") == "Unschedulable";
      }
      if (!found) return false;
    }
    return true;
  });
  host.Stop();

  EXPECT_TRUE(all_bound) << "seed " << GetParam() << ": not every pod was bound";
  EXPECT_TRUE(conditions) << "seed " << GetParam() << ": no Unschedulable condition";
  std::map<std::string, int64_t> used;  // node → milli-CPU
  for (const auto& [name, cpu] : cpu_of) {
    const std::string node = NodeOf(server, name);
    EXPECT_FALSE(node.empty()) << name;
    EXPECT_EQ(server.answered("POST", BindingPath(name), 201), 1) << name << " bound "
                                                                   << "more or less than once";
    used[node] += MilliCpu(cpu);
  }
  for (const auto& [node, milli] : used) {
    EXPECT_LE(milli, 4000) << node << " holds more than it has";
  }
  for (int i = 0; i < unschedulable; ++i) {
    const std::string name = absl::StrCat("huge-", i);
    EXPECT_EQ(NodeOf(server, name), "") << name;
    EXPECT_EQ(server.answered("POST", BindingPath(name), 201), 0) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, SchedulerHostFaultsTest, ::testing::Values(1, 2, 3, 4, 5));

// An expired or revoked token: every request is 401. The host logs, keeps
// retrying with backoff and binds nothing; it neither exits nor crashes,
// and stops cleanly.
TEST(SchedulerHostAuthTest, AnInvalidTokenIsRetriedNotACrash) {
  FakeApiServerOptions server_options;
  server_options.required_token = "current-token";
  absl::StatusOr<std::unique_ptr<FakeApiServer>> started = FakeApiServer::Start(server_options);
  ASSERT_TRUE(started.ok()) << started.status();
  FakeApiServer& server = **started;
  ASSERT_TRUE(server.Create(NodeJson("node-0")).ok());
  ASSERT_TRUE(server.Create(PodJson("pod-0", "100m")).ok());

  SchedulerHost host(QuickClient(server.url(), "expired-token"), QuickHostOptions());
  ASSERT_TRUE(host.Start().ok());
  // Retried: the pods' list is refused again and again.
  EXPECT_TRUE(WaitFor([&] { return server.answered("GET", "/api/v1/pods", 401) >= 3; }));
  EXPECT_FALSE(host.synced());
  host.Stop();
  EXPECT_EQ(NodeOf(server, "pod-0"), "");
  EXPECT_EQ(server.answered("POST", BindingPath("pod-0"), 401), 0);
  EXPECT_EQ(server.answered("POST", BindingPath("pod-0"), 201), 0);
}

}  // namespace
}  // namespace kestrel::host
