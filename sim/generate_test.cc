
#include "sim/generate.h"

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

GenerateOptions Options(std::string workload, int nodes, int init_pods,
                        int pods, uint64_t seed = 1) {
  GenerateOptions options;
  options.workload = std::move(workload);
  options.nodes = nodes;
  options.init_pods = init_pods;
  options.pods = pods;
  options.seed = seed;
  return options;
}

std::string GenerateOrDie(const GenerateOptions& options) {
  std::ostringstream out;
  absl::Status status = Generate(options, out);
  EXPECT_TRUE(status.ok()) << status;
  return out.str();
}

// The documents of a generated stream, split by kind and binding.
struct Parsed {
  std::vector<YAML::Node> nodes;
  std::vector<YAML::Node> bound_pods;
  std::vector<YAML::Node> unbound_pods;
};

Parsed Parse(const std::string& yaml) {
  Parsed parsed;
  bool seen_pod = false;
  bool seen_unbound = false;
  for (const YAML::Node& doc : YAML::LoadAll(yaml)) {
    EXPECT_EQ(doc["apiVersion"].as<std::string>(), "v1");
    const std::string kind = doc["kind"].as<std::string>();
    if (kind == "Node") {
      EXPECT_FALSE(seen_pod) << "nodes come before pods";
      parsed.nodes.push_back(doc);
    } else if (kind == "Pod") {
      seen_pod = true;
      if (doc["spec"]["nodeName"]) {
        EXPECT_FALSE(seen_unbound) << "bound pods come before unbound pods";
        parsed.bound_pods.push_back(doc);
      } else {
        seen_unbound = true;
        parsed.unbound_pods.push_back(doc);
      }
    } else {
      ADD_FAILURE() << "unexpected kind " << kind;
    }
  }
  return parsed;
}

TEST(WorkloadNamesTest, ListsKnownWorkloadsSorted) {
  EXPECT_THAT(WorkloadNames(), ElementsAre("Demo", "SchedulingBasic"));
}

TEST(GenerateTest, SchedulingBasicCountsAndTemplates) {
  const Parsed parsed =
      Parse(GenerateOrDie(Options("SchedulingBasic", 10, 25, 30)));
  ASSERT_EQ(parsed.nodes.size(), 10);
  ASSERT_EQ(parsed.bound_pods.size(), 25);
  ASSERT_EQ(parsed.unbound_pods.size(), 30);

  const YAML::Node& node = parsed.nodes[3];
  EXPECT_EQ(node["metadata"]["name"].as<std::string>(), "node-3");
  EXPECT_EQ(
      node["metadata"]["labels"]["kubernetes.io/hostname"].as<std::string>(),
      "node-3");
  EXPECT_TRUE(node["metadata"]["labels"]["topology.kubernetes.io/zone"]);
  for (const char* list : {"allocatable", "capacity"}) {
    const YAML::Node resources = node["status"][list];
    EXPECT_EQ(resources["cpu"].as<std::string>(), "4") << list;
    EXPECT_EQ(resources["memory"].as<std::string>(), "32Gi") << list;
    EXPECT_EQ(resources["pods"].as<std::string>(), "110") << list;
    // kubectl quotes quantities that would otherwise read as numbers.
    EXPECT_EQ(resources["cpu"].Tag(), "!") << list;
  }

  const YAML::Node& init = parsed.bound_pods[12];
  EXPECT_EQ(init["metadata"]["name"].as<std::string>(), "init-pod-12");
  EXPECT_EQ(init["metadata"]["namespace"].as<std::string>(), "sched-0");
  // Round-robin: init pod i is on node i mod 10.
  EXPECT_EQ(init["spec"]["nodeName"].as<std::string>(), "node-2");
  EXPECT_EQ(init["status"]["phase"].as<std::string>(), "Running");

  const YAML::Node& pod = parsed.unbound_pods[7];
  EXPECT_EQ(pod["metadata"]["name"].as<std::string>(), "pod-7");
  EXPECT_EQ(pod["metadata"]["namespace"].as<std::string>(), "sched-0");
  EXPECT_EQ(pod["status"]["phase"].as<std::string>(), "Pending");
  const YAML::Node containers = pod["spec"]["containers"];
  ASSERT_EQ(containers.size(), 1);
  for (const char* list : {"requests", "limits"}) {
    const YAML::Node resources = containers[0]["resources"][list];
    EXPECT_EQ(resources["cpu"].as<std::string>(), "100m") << list;
    EXPECT_EQ(resources["memory"].as<std::string>(), "500Mi") << list;
  }
}

TEST(GenerateTest, ZeroPodsGivesOnlyNodes) {
  const Parsed parsed =
      Parse(GenerateOrDie(Options("SchedulingBasic", 3, 0, 0)));
  EXPECT_EQ(parsed.nodes.size(), 3);
  EXPECT_TRUE(parsed.bound_pods.empty());
  EXPECT_TRUE(parsed.unbound_pods.empty());
}

TEST(GenerateTest, DemoHasEveryKindOfPod) {
  const Parsed parsed = Parse(GenerateOrDie(Options("Demo", 200, 300, 2000)));
  ASSERT_EQ(parsed.nodes.size(), 200);
  ASSERT_EQ(parsed.bound_pods.size(), 300);
  ASSERT_EQ(parsed.unbound_pods.size(), 2000);

  std::set<std::string> node_names;
  std::set<std::string> gpu_nodes;
  for (const YAML::Node& node : parsed.nodes) {
    const std::string name = node["metadata"]["name"].as<std::string>();
    node_names.insert(name);
    const YAML::Node taints = node["spec"]["taints"];
    if (!taints) continue;
    ASSERT_EQ(taints.size(), 1);
    EXPECT_EQ(taints[0]["key"].as<std::string>(), "dedicated");
    EXPECT_EQ(taints[0]["value"].as<std::string>(), "gpu");
    EXPECT_EQ(taints[0]["effect"].as<std::string>(), "NoSchedule");
    EXPECT_EQ(node["metadata"]["labels"]["dedicated"].as<std::string>(), "gpu");
    gpu_nodes.insert(name);
  }
  EXPECT_EQ(gpu_nodes.size(), 20);

  // Init pods are on existing nodes, and only GPU pods on GPU nodes.
  for (const YAML::Node& pod : parsed.bound_pods) {
    const std::string node = pod["spec"]["nodeName"].as<std::string>();
    EXPECT_TRUE(node_names.count(node)) << node;
    EXPECT_EQ(gpu_nodes.count(node) == 1, bool(pod["spec"]["tolerations"]))
        << pod["metadata"]["name"].as<std::string>();
  }

  std::map<std::string, int> kinds;
  for (const YAML::Node& pod : parsed.unbound_pods) {
    const std::string name = pod["metadata"]["name"].as<std::string>();
    const std::string kind = name.substr(0, name.find('-'));
    ++kinds[kind];
    const YAML::Node spec = pod["spec"];
    if (kind == "large") {
      EXPECT_EQ(spec["containers"][0]["resources"]["requests"]["cpu"]
                    .as<std::string>(),
                "9");
    } else if (kind == "critical") {
      EXPECT_EQ(pod["metadata"]["namespace"].as<std::string>(), "kube-system");
      EXPECT_EQ(spec["priorityClassName"].as<std::string>(),
                "system-cluster-critical");
      EXPECT_EQ(spec["priority"].as<int>(), 2000000000);
    } else if (kind == "gpu") {
      EXPECT_EQ(spec["tolerations"][0]["key"].as<std::string>(), "dedicated");
      EXPECT_EQ(spec["nodeSelector"]["dedicated"].as<std::string>(), "gpu");
      EXPECT_EQ(spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"]
                    .as<std::string>(),
                "1");
    } else if (kind == "green") {
      EXPECT_EQ(pod["metadata"]["labels"]["color"].as<std::string>(), "green");
      const YAML::Node term =
          spec["affinity"]["podAntiAffinity"]
              ["requiredDuringSchedulingIgnoredDuringExecution"][0];
      EXPECT_EQ(term["labelSelector"]["matchLabels"]["color"].as<std::string>(),
                "green");
      EXPECT_EQ(term["topologyKey"].as<std::string>(),
                "kubernetes.io/hostname");
    } else {
      EXPECT_EQ(kind, "web");
    }
  }
  EXPECT_EQ(kinds["large"], 2);
  EXPECT_EQ(kinds["critical"], 10);
  EXPECT_EQ(kinds["gpu"], 200);
  EXPECT_EQ(kinds["green"], 200);
  EXPECT_EQ(kinds["web"], 1588);
}

TEST(GenerateTest, SameSeedSameBytes) {
  for (const std::string& workload : WorkloadNames()) {
    EXPECT_EQ(GenerateOrDie(Options(workload, 50, 60, 500, 7)),
              GenerateOrDie(Options(workload, 50, 60, 500, 7)))
        << workload;
  }
}

TEST(GenerateTest, DemoDependsOnSeed) {
  EXPECT_NE(GenerateOrDie(Options("Demo", 50, 60, 500, 1)),
            GenerateOrDie(Options("Demo", 50, 60, 500, 2)));
}

TEST(GenerateTest, RejectsBadOptions) {
  struct Case {
    GenerateOptions options;
    std::string message;
  };
  const Case cases[] = {
      {Options("NoSuchWorkload", 10, 0, 0),
       "unknown workload \"NoSuchWorkload\"; known workloads: Demo, "
       "SchedulingBasic"},
      {Options("", 10, 0, 0), "known workloads: Demo, SchedulingBasic"},
      {Options("SchedulingBasic", 0, 0, 0), "nodes must be positive, got 0"},
      {Options("Demo", -3, 0, 0), "nodes must be positive, got -3"},
      {Options("SchedulingBasic", 1, -1, 0), "init pods must not be negative"},
      {Options("SchedulingBasic", 1, 0, -1), "pods must not be negative"},
      // 4 CPU / 100m = 40 pods per node.
      {Options("SchedulingBasic", 2, 81, 0),
       "init pod 80 does not fit on any of the 2 nodes"},
  };
  for (const Case& c : cases) {
    std::ostringstream out;
    const absl::Status status = Generate(c.options, out);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << c.options.workload << ": " << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message));
  }
}

TEST(GenerateTest, InitPodsFillNodesExactly) {
  // 40 pods of 100m fill a 4-CPU node.
  const Parsed parsed =
      Parse(GenerateOrDie(Options("SchedulingBasic", 2, 80, 0)));
  std::map<std::string, int> per_node;
  for (const YAML::Node& pod : parsed.bound_pods) {
    ++per_node[pod["spec"]["nodeName"].as<std::string>()];
  }
  EXPECT_EQ(per_node,
            (std::map<std::string, int>{{"node-0", 40}, {"node-1", 40}}));
}

}  // namespace
}  // namespace kestrel::sim
