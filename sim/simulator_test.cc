#include "sim/simulator.h"

#include <thread>

#include "gtest/gtest.h"
#include "scheduler/profile.h"

namespace kestrel::sim {
namespace {

constexpr char kCluster[] = R"(
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "2"}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default}
spec:
  containers:
  - {name: c, resources: {requests: {cpu: 600m}}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default}
spec:
  containers:
  - {name: c, resources: {requests: {cpu: 600m}}}
)";

TEST(SimulatorTest, PlacesInOrderAndReportsWhyNot) {
  auto cluster = LoadContents({{"c.yaml", kCluster}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto report = Simulate(*cluster, scheduler::DefaultConfig(), SimOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->placements.size(), 2u);
  EXPECT_EQ(report->placements[0].node, "n1");
  EXPECT_EQ(report->placements[1].node, "");
  EXPECT_EQ(report->placements[1].message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod..");
  EXPECT_EQ(report->scheduled, 1);
  EXPECT_EQ(report->unschedulable, 1);
}

TEST(SimulatorTest, ThreadsFollowConfigParallelismCappedByCores) {
  auto cluster = LoadContents({{"c.yaml", kCluster}});
  ASSERT_TRUE(cluster.ok());
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  auto config = scheduler::ParseConfig(
      "s.yaml",
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "parallelism: 1\n");
  ASSERT_TRUE(config.ok());
  auto one = Host::Create(*cluster, *config, SimOptions{});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->scheduler().parallelizer().threads(), 1);
  // DefaultConfig's parallelism is upstream's 16: capped at the cores.
  auto many = Host::Create(*cluster, scheduler::DefaultConfig(), SimOptions{});
  ASSERT_TRUE(many.ok());
  EXPECT_EQ((*many)->scheduler().parallelizer().threads(), std::min(16, cores));
  // --threads wins.
  SimOptions three;
  three.threads = 3;
  auto explicit_threads = Host::Create(*cluster, *config, three);
  ASSERT_TRUE(explicit_threads.ok());
  EXPECT_EQ((*explicit_threads)->scheduler().parallelizer().threads(), 3);
}

}  // namespace
}  // namespace kestrel::sim
