#include "sim/simulator.h"

#include <string>
#include <thread>
#include <vector>

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

// A pod with scheduling gates never enters the queue: it is not placed,
// with the SchedulingGates message, and takes no room from the next pod.
// With the plugin disabled in the profile, it is scheduled.
TEST(SimulatorTest, GatedPodIsNotPlaced) {
  constexpr char kGated[] = R"(
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "2"}}
---
apiVersion: v1
kind: Pod
metadata: {name: gated, namespace: default}
spec:
  schedulingGates: [{name: example.com/quota}]
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
  auto cluster = LoadContents({{"c.yaml", kGated}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto report = Simulate(*cluster, scheduler::DefaultConfig(), SimOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->placements.size(), 2u);
  EXPECT_EQ(report->placements[0].pod, "default/gated");
  EXPECT_EQ(report->placements[0].node, "");
  EXPECT_EQ(report->placements[0].message, "waiting for scheduling gates: [example.com/quota]");
  EXPECT_EQ(report->placements[1].node, "n1");

  auto config = scheduler::ParseConfig("c.yaml", R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    multiPoint:
      disabled: [{name: SchedulingGates}]
)");
  ASSERT_TRUE(config.ok()) << config.status();
  report = Simulate(*cluster, *config, SimOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placements[0].node, "n1");
  EXPECT_EQ(report->placements[1].node, "");
}

// A StatefulSet with podManagementPolicy OrderedReady creates pod N only
// once pod N-1 runs: when db-1 does not fit, db-2 is never created;
// Parallel creates (and so tries) every pod.
TEST(SimulatorTest, OrderedReadyStatefulSetWaitsForTheOrdinalBefore) {
  constexpr char kNode[] = R"(
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
)";
  for (const std::string policy : {"OrderedReady", "Parallel"}) {
    const std::string set = R"(
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  podManagementPolicy: )" + policy + R"(
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: i, resources: {requests: {cpu: 600m}}}]}
)";
    auto cluster = LoadContents({{"c.yaml", std::string(kNode) + set}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    auto report = Simulate(*cluster, scheduler::DefaultConfig(), SimOptions{});
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->placements.size(), 3u) << policy;
    EXPECT_EQ(report->placements[0].node, "n1") << policy;
    EXPECT_EQ(report->placements[1].node, "") << policy;
    EXPECT_EQ(report->placements[2].pod, "default/db-2") << policy;
    EXPECT_EQ(report->placements[2].message,
              policy == "Parallel"
                  ? report->placements[1].message
                  : "not created yet: its StatefulSet (podManagementPolicy OrderedReady) creates "
                    "it once default/db-1 is Running and Ready")
        << policy;
    ASSERT_EQ(report->workloads.size(), 1u);
    EXPECT_EQ(report->workloads[0].created, 3);
  }
}

// Raw manifests are defaulted as the API server would have done it
// (api/defaults.h), for bound and pending pods alike.
struct DefaultingCase {
  std::string name;
  std::string yaml;  // one node n1, then pods; the last pod is scheduled
  std::string node;  // want: the pending pod's node, or empty
  std::string message;
};

TEST(SimulatorTest, PodsAreDefaultedAsTheApiServerWould) {
  const std::string node =
      "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
      "status: {allocatable: {cpu: 1000m, memory: 1Gi, pods: \"10\"}}\n---\n";
  const std::string no_victims =
      " preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..";
  const std::vector<DefaultingCase> cases = {
      // The issue's smallest case: the bound pod's limit is its request.
      {"bound pod with limits only",
       node + R"(apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: default}
spec:
  nodeName: n1
  containers:
  - {name: c, resources: {limits: {cpu: 800m}}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers:
  - {name: c, resources: {requests: {cpu: 500m}}}
)",
       "", "0/1 nodes are available: 1 Insufficient cpu." + no_victims},
      {"pending pod with limits only, in an init container",
       node + R"(apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: default}
spec:
  nodeName: n1
  containers:
  - {name: c, resources: {requests: {cpu: 800m}}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  initContainers:
  - {name: i, resources: {limits: {cpu: 500m}}}
  containers:
  - {name: c}
)",
       "", "0/1 nodes are available: 1 Insufficient cpu." + no_victims},
      {"bound pod on the host network holds its container port",
       node + R"(apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: default}
spec:
  nodeName: n1
  hostNetwork: true
  containers:
  - {name: c, ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers:
  - {name: c, ports: [{containerPort: 80, hostPort: 8080, protocol: TCP}]}
)",
       "", "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod "
           "ports." + no_victims},
      // DefaultTolerationSeconds: every pod tolerates not-ready:NoExecute.
      {"not-ready NoExecute taint is tolerated",
       R"(apiVersion: v1
kind: Node
metadata: {name: n1}
spec:
  taints: [{key: node.kubernetes.io/not-ready, effect: NoExecute}]
status: {allocatable: {cpu: 1000m, memory: 1Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  containers:
  - {name: c}
)",
       "n1", ""},
  };
  for (const DefaultingCase& c : cases) {
    auto cluster = LoadContents({{"c.yaml", c.yaml}});
    ASSERT_TRUE(cluster.ok()) << c.name << ": " << cluster.status();
    SimOptions options;
    options.rescheduler = false;
    auto report = Simulate(*cluster, scheduler::DefaultConfig(), options);
    ASSERT_TRUE(report.ok()) << c.name << ": " << report.status();
    ASSERT_EQ(report->placements.size(), 1u) << c.name;
    EXPECT_EQ(report->placements[0].node, c.node) << c.name;
    EXPECT_EQ(report->placements[0].message, c.message) << c.name;
  }
}

// Pods bound to a node that is not in the cluster count on no node: not
// against capacity, not in affinity, not as running pods.
TEST(SimulatorTest, PodsOnUnknownNodesCountNowhere) {
  constexpr char kDump[] = R"(
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, zone: z1}}
status: {allocatable: {cpu: "4", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: running, namespace: default}
spec:
  nodeName: n1
  containers:
  - {name: c, resources: {requests: {cpu: 500m}}}
---
apiVersion: v1
kind: Pod
metadata: {name: ghost-1, namespace: default, labels: {app: web}}
spec:
  nodeName: gone-node
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: zone, labelSelector: {matchLabels: {app: web}}}
  containers:
  - {name: c, resources: {requests: {cpu: "4"}}}
---
apiVersion: v1
kind: Pod
metadata: {name: ghost-2, namespace: default, labels: {app: web}}
spec:
  nodeName: gone-node
  containers:
  - {name: c, resources: {limits: {cpu: "4"}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {topologyKey: zone, labelSelector: {matchLabels: {app: web}}}
  containers:
  - {name: c, resources: {requests: {cpu: "3"}}}
)";
  auto cluster = LoadContents({{"dump.yaml", kDump}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_EQ(cluster->warnings.size(), 1u);
  auto report = Simulate(*cluster, scheduler::DefaultConfig(), SimOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->placements.size(), 1u);
  EXPECT_EQ(report->placements[0].node, "n1") << report->placements[0].message;
  EXPECT_EQ(report->nodes, 1);
  EXPECT_EQ(report->existing_pods, 1);
  EXPECT_EQ(report->pods_on_unknown_nodes, 2);
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
