
#include "sim/generate.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/objects.h"
#include "sim/cluster.h"
#include "yaml-cpp/yaml.h"
#include "util/hash/fnv.h"

namespace kestrel::sim {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

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
  std::vector<YAML::Node> namespaces;
  std::vector<YAML::Node> nodes;
  std::vector<YAML::Node> bound_pods;
  std::vector<YAML::Node> unbound_pods;
};

Parsed Parse(const std::string& yaml) {
  Parsed parsed;
  bool seen_node = false;
  bool seen_pod = false;
  bool seen_unbound = false;
  for (const YAML::Node& doc : YAML::LoadAll(yaml)) {
    EXPECT_EQ(doc["apiVersion"].as<std::string>(), "v1");
    const std::string kind = doc["kind"].as<std::string>();
    if (kind == "Namespace") {
      EXPECT_FALSE(seen_node || seen_pod) << "namespaces come first";
      parsed.namespaces.push_back(doc);
    } else if (kind == "Node") {
      EXPECT_FALSE(seen_pod) << "nodes come before pods";
      seen_node = true;
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

// The generated stream decoded and compiled as `kestrel simulate` reads it.
Cluster Load(const std::string& yaml) {
  absl::StatusOr<Cluster> cluster = LoadContents({{"generated.yaml", yaml}});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return Cluster();
  return *std::move(cluster);
}

Cluster GenerateAndLoad(const GenerateOptions& options) {
  return Load(GenerateOrDie(options));
}

// Interned ids back to text, for readable expectations.
std::string Name(const Cluster& c, model::Id id) {
  return id == model::kNoId ? "" : std::string(c.names->Name(id));
}

std::map<std::string, std::string> LabelMap(const Cluster& c,
                                            const model::Labels& labels) {
  std::map<std::string, std::string> out;
  for (const model::Label& l : labels.items()) {
    out[Name(c, l.key)] = Name(c, l.value);
  }
  return out;
}

std::string Label(const Cluster& c, const model::Labels& labels,
                  absl::string_view key) {
  const model::Id id = c.names->Find(key);
  return id == model::kNoId ? "" : Name(c, labels.Get(id));
}

// "key in (v1,v2)" for each requirement, ANDed with ", ".
std::string Describe(const Cluster& c,
                     const std::vector<model::Requirement>& requirements) {
  return absl::StrJoin(
      requirements, ", ", [&](std::string* out, const model::Requirement& r) {
        const char* op = r.op == model::SelectorOp::kIn      ? " in "
                         : r.op == model::SelectorOp::kNotIn ? " notin "
                                                             : " ? ";
        absl::StrAppend(out, Name(c, r.key), op, "(",
                        absl::StrJoin(r.values, ",",
                                      [&](std::string* o, model::Id v) {
                                        o->append(Name(c, v));
                                      }),
                        ")");
      });
}

std::string Describe(const Cluster& c, const model::LabelSelector& selector) {
  if (selector.matches_nothing) return "<nothing>";
  return Describe(c, selector.requirements);
}

// An affinity term as "<selector> @<topology key> ns=[...] nsSelector=..."
std::string Describe(const Cluster& c, const model::AffinityTerm& term) {
  std::vector<std::string> namespaces;
  for (model::Id ns : term.namespaces) namespaces.push_back(Name(c, ns));
  std::sort(namespaces.begin(), namespaces.end());
  return absl::StrCat(Describe(c, term.selector), " @",
                      Name(c, term.topology_key), " ns=[",
                      absl::StrJoin(namespaces, ","),
                      "] nsSelector=", Describe(c, term.namespace_selector));
}

// Bound pods per node name.
std::map<std::string, int> PodsPerNode(const Cluster& c) {
  std::map<std::string, int> out;
  for (const model::PodPtr& pod : c.bound_pods) ++out[pod->node_name];
  return out;
}

TEST(WorkloadNamesTest, ListsKnownWorkloadsSorted) {
  EXPECT_THAT(WorkloadNames(),
              ElementsAre("Demo", "MixedSchedulingBasePod", "PreemptionBasic",
                          "PreferredTopologySpreading",
                          "RequiredPodAntiAffinityWithNSSelector", "SchedulingBasic",
                          "SchedulingDaemonset", "SchedulingNodeAffinity",
                          "SchedulingPodAffinity", "SchedulingPodAntiAffinity",
                          "SchedulingPreferredPodAffinity",
                          "SchedulingPreferredPodAntiAffinity",
                          "SchedulingRequiredPodAntiAffinityWithNSSelector",
                          "SchedulingWithNodeInclusionPolicy",
                          "TopologySpreading", "Unschedulable"));
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
  const std::string yaml = GenerateOrDie(Options("Demo", 200, 300, 2000));
  const Parsed parsed = Parse(yaml);
  ASSERT_EQ(parsed.nodes.size(), 200);
  ASSERT_EQ(parsed.bound_pods.size(), 300);
  ASSERT_EQ(parsed.unbound_pods.size(), 2000);

  std::map<std::string, std::string> zone_of;
  std::set<std::string> gpu_nodes;
  std::map<std::string, std::string> pressure_nodes;  // node -> taint key
  for (const YAML::Node& node : parsed.nodes) {
    const std::string name = node["metadata"]["name"].as<std::string>();
    const YAML::Node labels = node["metadata"]["labels"];
    zone_of[name] = labels["topology.kubernetes.io/zone"].as<std::string>();
    EXPECT_TRUE(labels["node.kubernetes.io/instance-type"]) << name;
    const YAML::Node taints = node["spec"]["taints"];
    if (!taints) {
      EXPECT_TRUE(labels["disktype"]) << name;
      continue;
    }
    ASSERT_EQ(taints.size(), 1);
    EXPECT_EQ(taints[0]["effect"].as<std::string>(), "NoSchedule");
    const std::string key = taints[0]["key"].as<std::string>();
    if (key == "dedicated") {
      EXPECT_EQ(taints[0]["value"].as<std::string>(), "gpu");
      EXPECT_EQ(labels["dedicated"].as<std::string>(), "gpu");
      gpu_nodes.insert(name);
    } else {
      // A condition as the node lifecycle controller taints it.
      EXPECT_FALSE(taints[0]["value"]) << name;
      EXPECT_EQ(node["status"]["conditions"][0]["status"].as<std::string>(),
                "True");
      pressure_nodes[name] = key;
    }
  }
  EXPECT_EQ(gpu_nodes.size(), 20);
  EXPECT_EQ(pressure_nodes,
            (std::map<std::string, std::string>{
                {"node-24", "node.kubernetes.io/memory-pressure"},
                {"node-74", "node.kubernetes.io/disk-pressure"},
                {"node-124", "node.kubernetes.io/memory-pressure"},
                {"node-174", "node.kubernetes.io/disk-pressure"}}));

  // Init pods are on existing nodes, only GPU pods on GPU nodes, none on a
  // node under pressure, and frontend pods spread over zones with skew 1.
  std::map<std::string, int> frontends_per_zone;
  for (const YAML::Node& pod : parsed.bound_pods) {
    const std::string name = pod["metadata"]["name"].as<std::string>();
    const std::string node = pod["spec"]["nodeName"].as<std::string>();
    ASSERT_TRUE(zone_of.count(node)) << node;
    EXPECT_EQ(gpu_nodes.count(node) == 1, bool(pod["spec"]["tolerations"]))
        << name;
    EXPECT_EQ(pressure_nodes.count(node), 0) << name;
    const YAML::Node app = pod["metadata"]["labels"]["app"];
    if (app && app.as<std::string>() == "frontend") {
      ++frontends_per_zone[zone_of[node]];
    }
  }
  ASSERT_EQ(frontends_per_zone.size(), 3);
  int most = 0, least = 300;
  for (const auto& [zone, count] : frontends_per_zone) {
    most = std::max(most, count);
    least = std::min(least, count);
  }
  EXPECT_LE(most - least, 1);

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
    } else if (kind == "db") {
      const YAML::Node affinity = spec["affinity"]["nodeAffinity"];
      const YAML::Node required =
          affinity["requiredDuringSchedulingIgnoredDuringExecution"]
                  ["nodeSelectorTerms"][0]["matchExpressions"][0];
      EXPECT_EQ(required["key"].as<std::string>(), "disktype");
      EXPECT_EQ(required["operator"].as<std::string>(), "In");
      EXPECT_EQ(required["values"][0].as<std::string>(), "ssd");
      const YAML::Node preferred =
          affinity["preferredDuringSchedulingIgnoredDuringExecution"][0];
      EXPECT_EQ(preferred["weight"].as<int>(), 50);
      EXPECT_EQ(preferred["preference"]["matchExpressions"][0]["values"][0]
                    .as<std::string>(),
                "standard-8");
    } else if (kind == "api") {
      const YAML::Node required =
          spec["affinity"]["podAffinity"]
              ["requiredDuringSchedulingIgnoredDuringExecution"][0];
      EXPECT_EQ(
          required["labelSelector"]["matchLabels"]["app"].as<std::string>(),
          "web");
      EXPECT_EQ(required["topologyKey"].as<std::string>(),
                "topology.kubernetes.io/zone");
      const YAML::Node preferred =
          spec["affinity"]["podAntiAffinity"]
              ["preferredDuringSchedulingIgnoredDuringExecution"][0];
      EXPECT_EQ(preferred["weight"].as<int>(), 100);
      EXPECT_EQ(preferred["podAffinityTerm"]["topologyKey"].as<std::string>(),
                "kubernetes.io/hostname");
    } else if (kind == "frontend") {
      const YAML::Node spread = spec["topologySpreadConstraints"];
      ASSERT_EQ(spread.size(), 2);
      EXPECT_EQ(spread[0]["topologyKey"].as<std::string>(),
                "topology.kubernetes.io/zone");
      EXPECT_EQ(spread[0]["whenUnsatisfiable"].as<std::string>(),
                "DoNotSchedule");
      EXPECT_EQ(spread[0]["maxSkew"].as<int>(), 1);
      EXPECT_EQ(spread[1]["whenUnsatisfiable"].as<std::string>(),
                "ScheduleAnyway");
    } else {
      EXPECT_EQ(kind, "web");
    }
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"large", 2},
                                               {"critical", 10},
                                               {"gpu", 200},
                                               {"green", 200},
                                               {"db", 100},
                                               {"api", 100},
                                               {"frontend", 100},
                                               {"web", 1288}}));

  // And the loader compiles all of it.
  const Cluster cluster = Load(yaml);
  EXPECT_EQ(cluster.nodes.size(), 200);
  EXPECT_EQ(cluster.bound_pods.size(), 300);
  EXPECT_EQ(cluster.pending_pods.size(), 2000);
}

TEST(GenerateTest, SameSeedSameBytes) {
  for (const std::string& workload : WorkloadNames()) {
    // SchedulingDaemonset and SchedulingWithNodeInclusionPolicy take no init
    // pods; 40 fit every other workload's 50 nodes.
    const bool no_init = workload == "SchedulingDaemonset" ||
                         workload == "SchedulingWithNodeInclusionPolicy";
    const int init_pods = no_init ? 0 : 40;
    EXPECT_EQ(GenerateOrDie(Options(workload, 50, init_pods, 500, 7)),
              GenerateOrDie(Options(workload, 50, init_pods, 500, 7)))
        << workload;
  }
}

// The generator's output is a fixed function of the options, in every
// format: these hashes were taken before generate.cc was split by family
// and must not change unless a workload is meant to change (then take the
// new table from the failure message, and say why in the commit). Protobuf
// bytes are
// stable because map entries are written sorted by key (kube/codec.h).
TEST(GenerateTest, OutputMatchesGoldenHashes) {
  struct Golden {
    const char* workload;
    uint64_t yaml, json, protobuf;
  };
  const Golden kGolden[] = {
      {"Demo", 0x2184a63f15b4119dull, 0x5cf4e7a43d7826aeull,
       0xb7ba235b762e1c09ull},
      {"MixedSchedulingBasePod", 0x3528018af2824f1dull, 0xb15f5392c5a3e0c9ull,
       0x5a7d53d3707e84ecull},
      {"PreemptionBasic", 0x8192a505866a2d37ull, 0x711c50e232814649ull,
       0x7708e92a9a7a63e5ull},
      {"PreferredTopologySpreading", 0x179da85c575b5adbull,
       0x32c350da254a5609ull, 0x2d3f9440b30d8e48ull},
      {"RequiredPodAntiAffinityWithNSSelector", 0x3d4bb3fede250581ull,
       0xdd20735999c45d8bull, 0x6b51705e27509321ull},
      {"SchedulingBasic", 0x7c38e772ca3292dbull, 0x10885d81aa88e965ull,
       0x3fd49423fdc53a05ull},
      {"SchedulingDaemonset", 0x046a6bdef0e91aebull, 0x77c2152f066634a5ull,
       0x3558e433785489d6ull},
      {"SchedulingNodeAffinity", 0x5a10718e0f78b7d7ull, 0x1c3c0571dae647d9ull,
       0x7fb0c33548b05152ull},
      {"SchedulingPodAffinity", 0x30c79001d44c2dabull, 0xf8254a5acc0b5671ull,
       0x2439fc020b71ab69ull},
      {"SchedulingPodAntiAffinity", 0x4f27d5928a59f683ull,
       0x6ec7878dae0bcffbull, 0x396c04e6fb20589full},
      {"SchedulingPreferredPodAffinity", 0x541785ab003595a1ull,
       0xfce950dcc3f64269ull, 0xb7bd2e3db4573690ull},
      {"SchedulingPreferredPodAntiAffinity", 0xbadf6a8b98033295ull,
       0xca5b9dee66660c51ull, 0x398460e9bf119137ull},
      {"SchedulingRequiredPodAntiAffinityWithNSSelector", 0x3d4bb3fede250581ull,
       0xdd20735999c45d8bull, 0x6b51705e27509321ull},
      {"SchedulingWithNodeInclusionPolicy", 0x512ec5161f1fa6c3ull,
       0xadb28f055123cde1ull, 0x317178cac17d0273ull},
      {"TopologySpreading", 0x9a67514cb872373dull, 0x8a13cf2d0278bb5full,
       0x6c8714949a722064ull},
      {"Unschedulable", 0xa46b2a22f3545ca8ull, 0xa66c10166d344a9dull,
       0xbc3d8e35032660fcull},

  };
  std::vector<std::string> seen;
  std::string actual_table;
  for (const std::string& workload : WorkloadNames()) {
    const bool no_init = workload == "SchedulingDaemonset" ||
                         workload == "SchedulingWithNodeInclusionPolicy";
    uint64_t hashes[3];
    const OutputFormat formats[] = {OutputFormat::kYaml, OutputFormat::kJson,
                                    OutputFormat::kProtobuf};
    for (int f = 0; f < 3; ++f) {
      GenerateOptions options = Options(workload, 60, no_init ? 0 : 30, 40, 5);
      options.format = formats[f];
      hashes[f] = util::Fnv1a64(GenerateOrDie(options));
    }
    absl::StrAppend(&actual_table, "      {\"", workload, "\", 0x",
                    absl::Hex(hashes[0], absl::kZeroPad16), "ull, 0x",
                    absl::Hex(hashes[1], absl::kZeroPad16), "ull, 0x",
                    absl::Hex(hashes[2], absl::kZeroPad16), "ull},\n");
    const Golden* golden = nullptr;
    for (const Golden& g : kGolden) {
      if (g.workload == workload) golden = &g;
    }
    if (golden == nullptr) {
      ADD_FAILURE() << workload << " has no golden hashes";
      continue;
    }
    EXPECT_EQ(hashes[0], golden->yaml) << workload << " yaml";
    EXPECT_EQ(hashes[1], golden->json) << workload << " json";
    EXPECT_EQ(hashes[2], golden->protobuf) << workload << " protobuf";
    seen.push_back(workload);
  }
  EXPECT_EQ(seen.size(), std::size(kGolden));
  if (HasFailure()) ADD_FAILURE() << "actual hashes:\n" << actual_table;
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
       "MixedSchedulingBasePod, PreemptionBasic, "},
      {Options("", 10, 0, 0), ", TopologySpreading, Unschedulable"},
      {Options("SchedulingBasic", 0, 0, 0), "nodes must be positive, got 0"},
      {Options("Demo", -3, 0, 0), "nodes must be positive, got -3"},
      {Options("SchedulingBasic", 1, -1, 0), "init pods must not be negative"},
      {Options("SchedulingBasic", 1, 0, -1), "pods must not be negative"},
      // 4 CPU / 100m = 40 pods per node.
      {Options("SchedulingBasic", 2, 81, 0),
       "init pod 80 does not fit on any of the 2 nodes"},
      // One pod per node: they repel each other per hostname.
      {Options("SchedulingPodAntiAffinity", 3, 4, 0),
       "init pod 3 does not fit on any of the 3 nodes"},
      {Options("SchedulingRequiredPodAntiAffinityWithNSSelector", 5, 6, 0),
       "init pod 5 does not fit on any of the 5 nodes"},
      // Four 900m pods fill a 4-CPU node.
      {Options("PreemptionBasic", 2, 9, 0),
       "init pod 8 does not fit on any of the 2 nodes"},
      {Options("SchedulingDaemonset", 5, 1, 10),
       "workload SchedulingDaemonset has no init pods upstream; got "
       "--init-pods=1"},
      {Options("SchedulingWithNodeInclusionPolicy", 5, 2, 10),
       "has no init pods upstream"},
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

// The shape every upstream workload shares: how many nodes and pods, which
// zones, which namespaces, what the pods are called.
TEST(GenerateTest, UpstreamWorkloadShapes) {
  struct Case {
    GenerateOptions options;
    int nodes;
    int bound;
    int pending;
    std::set<std::string> zones;  // empty: nodes have no zone label
    std::string init_namespace;   // of the first init pod
    std::string first_pending;    // namespace/name
  };
  const std::set<std::string> none;
  const std::set<std::string> zone1 = {"zone1"};
  const std::set<std::string> moons = {"moon-1", "moon-2", "moon-3"};
  const Case cases[] = {
      {Options("SchedulingPodAntiAffinity", 10, 4, 6), 10, 4, 6, none,
       "sched-0", "sched-1/anti-affinity-pod-0"},
      {Options("SchedulingPodAffinity", 10, 5, 6), 10, 5, 6, zone1, "sched-0",
       "sched-1/affinity-pod-0"},
      {Options("SchedulingPreferredPodAffinity", 10, 5, 6), 10, 5, 6, none,
       "sched-0", "sched-1/preferred-affinity-pod-0"},
      {Options("SchedulingPreferredPodAntiAffinity", 10, 5, 6), 10, 5, 6, none,
       "sched-0", "sched-1/preferred-anti-affinity-pod-0"},
      {Options("SchedulingNodeAffinity", 10, 5, 6), 10, 5, 6, zone1,
       "namespace-1", "namespace-2/node-affinity-0"},
      {Options("TopologySpreading", 10, 5, 6), 10, 5, 6, moons, "namespace-1",
       "namespace-2/spreading-pod-0"},
      {Options("PreferredTopologySpreading", 10, 5, 6), 10, 5, 6, moons,
       "namespace-1", "namespace-2/spreading-pod-0"},
      {Options("MixedSchedulingBasePod", 10, 10, 6), 10, 10, 6, zone1,
       "sched-0", "namespace-7/pod-0"},
      {Options("SchedulingRequiredPodAntiAffinityWithNSSelector", 10, 6, 4), 10,
       6, 4, none, "init-ns-0", "measure-ns-0/anti-affinity-pod-0"},
      {Options("SchedulingWithNodeInclusionPolicy", 10, 0, 6), 10, 0, 6, none,
       "", "namespace-2/spreading-pod-with-node-inclusion-policy-0"},
      // Upstream's scheduler-perf-node comes on top of the default nodes.
      {Options("SchedulingDaemonset", 10, 0, 6), 11, 0, 6, none, "",
       "namespace-2/daemonset-0"},
      {Options("PreemptionBasic", 10, 40, 6), 10, 40, 6, none, "namespace-1",
       "namespace-2/pod-0"},
      // One 9-CPU pod before every 100th measured pod.
      {Options("Unschedulable", 10, 2, 250), 10, 2, 253, none, "namespace-1",
       "namespace-2/pod-h-0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.options.workload);
    const Cluster cluster = GenerateAndLoad(c.options);
    ASSERT_EQ(cluster.nodes.size(), c.nodes);
    ASSERT_EQ(cluster.bound_pods.size(), c.bound);
    ASSERT_EQ(cluster.pending_pods.size(), c.pending);
    std::set<std::string> zones;
    for (const model::NodePtr& node : cluster.nodes) {
      EXPECT_EQ(Label(cluster, node->labels, "kubernetes.io/hostname"),
                node->name);
      const std::string zone =
          Label(cluster, node->labels, "topology.kubernetes.io/zone");
      if (!zone.empty()) zones.insert(zone);
    }
    EXPECT_EQ(zones, c.zones);
    if (c.bound > 0) {
      EXPECT_EQ(cluster.bound_pods[0]->ns, c.init_namespace);
      EXPECT_EQ(cluster.bound_pods[0]->name, "init-pod-0");
    }
    EXPECT_EQ(cluster.pending_pods[0]->Key(), c.first_pending);
  }
}

TEST(GenerateTest, SchedulingPodAntiAffinityOnePodPerNode) {
  const Cluster c =
      GenerateAndLoad(Options("SchedulingPodAntiAffinity", 10, 10, 3));
  EXPECT_THAT(PodsPerNode(c), SizeIs(10));
  for (const std::vector<model::PodPtr>* pods :
       {&c.bound_pods, &c.pending_pods}) {
    for (const model::PodPtr& pod : *pods) {
      SCOPED_TRACE(pod->Key());
      EXPECT_EQ(LabelMap(c, pod->labels),
                (std::map<std::string, std::string>{{"color", "green"}}));
      EXPECT_EQ(pod->requests.milli_cpu, 100);
      EXPECT_EQ(pod->requests.memory, 500 << 20);
      ASSERT_THAT(pod->required_anti_affinity, SizeIs(1));
      EXPECT_EQ(Describe(c, pod->required_anti_affinity[0]),
                "color in (green) @kubernetes.io/hostname ns=[sched-0,sched-1] "
                "nsSelector=<nothing>");
      EXPECT_TRUE(pod->required_affinity.empty());
    }
  }
}

TEST(GenerateTest, AffinityTemplates) {
  {
    const Cluster c =
        GenerateAndLoad(Options("SchedulingPodAffinity", 4, 8, 2));
    for (const model::PodPtr& pod : c.pending_pods) {
      EXPECT_EQ(Label(c, pod->labels, "color"), "blue");
      ASSERT_THAT(pod->required_affinity, SizeIs(1));
      EXPECT_EQ(Describe(c, pod->required_affinity[0]),
                "color in (blue) @topology.kubernetes.io/zone "
                "ns=[sched-0,sched-1] nsSelector=<nothing>");
    }
    // All nodes are in zone1, so the pods may go anywhere: round-robin.
    EXPECT_EQ(PodsPerNode(c),
              (std::map<std::string, int>{
                  {"node-0", 2}, {"node-1", 2}, {"node-2", 2}, {"node-3", 2}}));
  }
  struct Preferred {
    std::string workload;
    std::string color;
    bool anti;
  };
  for (const Preferred& p :
       {Preferred{"SchedulingPreferredPodAffinity", "red", false},
        Preferred{"SchedulingPreferredPodAntiAffinity", "yellow", true}}) {
    SCOPED_TRACE(p.workload);
    const Cluster c = GenerateAndLoad(Options(p.workload, 4, 8, 2));
    for (const model::PodPtr& pod : c.pending_pods) {
      EXPECT_EQ(Label(c, pod->labels, "color"), p.color);
      const auto& terms =
          p.anti ? pod->preferred_anti_affinity : pod->preferred_affinity;
      const auto& other =
          p.anti ? pod->preferred_affinity : pod->preferred_anti_affinity;
      EXPECT_TRUE(other.empty());
      ASSERT_THAT(terms, SizeIs(1));
      EXPECT_EQ(terms[0].weight, 1);
      EXPECT_EQ(Describe(c, terms[0].term),
                absl::StrCat("color in (", p.color,
                             ") @kubernetes.io/hostname ns=[sched-0,sched-1] "
                             "nsSelector=<nothing>"));
    }
  }
}

TEST(GenerateTest, SchedulingNodeAffinityTemplate) {
  const Cluster c = GenerateAndLoad(Options("SchedulingNodeAffinity", 3, 3, 2));
  for (const std::vector<model::PodPtr>* pods :
       {&c.bound_pods, &c.pending_pods}) {
    for (const model::PodPtr& pod : *pods) {
      ASSERT_TRUE(pod->required_node_affinity.has_value()) << pod->Key();
      const auto& terms = pod->required_node_affinity->terms;
      ASSERT_THAT(terms, SizeIs(1));
      EXPECT_EQ(Describe(c, terms[0].expressions),
                "topology.kubernetes.io/zone in (zone1,zone2)");
      EXPECT_TRUE(terms[0].fields.empty());
    }
  }
}

TEST(GenerateTest, TopologySpreadingTemplates) {
  for (const auto& [workload, action] :
       {std::pair{"TopologySpreading",
                  model::UnsatisfiableAction::kDoNotSchedule},
        std::pair{"PreferredTopologySpreading",
                  model::UnsatisfiableAction::kScheduleAnyway}}) {
    SCOPED_TRACE(workload);
    const Cluster c = GenerateAndLoad(Options(workload, 6, 6, 2));
    // Zones round-robin, as upstream's labelNodePrepareStrategy.
    EXPECT_EQ(Label(c, c.nodes[4]->labels, "topology.kubernetes.io/zone"),
              "moon-2");
    // Init pods are pod-default: no labels, no constraints.
    EXPECT_TRUE(c.bound_pods[0]->labels.empty());
    EXPECT_TRUE(c.bound_pods[0]->spread_constraints.empty());
    for (const model::PodPtr& pod : c.pending_pods) {
      EXPECT_EQ(Label(c, pod->labels, "color"), "blue");
      ASSERT_THAT(pod->spread_constraints, SizeIs(1));
      const model::TopologySpreadConstraint& s = pod->spread_constraints[0];
      EXPECT_EQ(s.max_skew, 5);
      EXPECT_EQ(Name(c, s.topology_key), "topology.kubernetes.io/zone");
      EXPECT_EQ(s.when_unsatisfiable, action);
      EXPECT_EQ(Describe(c, s.selector), "color in (blue)");
    }
  }
}

TEST(GenerateTest, MixedSchedulingBasePodSplitsInitPods) {
  const Cluster c =
      GenerateAndLoad(Options("MixedSchedulingBasePod", 10, 12, 3));
  // 12 over five templates: 3, 3, 2, 2, 2, in upstream's order.
  std::vector<std::string> colors;
  for (const model::PodPtr& pod : c.bound_pods) {
    EXPECT_EQ(pod->ns, "sched-0");
    colors.push_back(Label(c, pod->labels, "color"));
  }
  EXPECT_THAT(colors, ElementsAre("", "", "", "blue", "blue", "blue", "green",
                                  "green", "red", "red", "yellow", "yellow"));
  EXPECT_THAT(c.bound_pods[3]->required_affinity, SizeIs(1));
  EXPECT_THAT(c.bound_pods[6]->required_anti_affinity, SizeIs(1));
  EXPECT_THAT(c.bound_pods[8]->preferred_affinity, SizeIs(1));
  EXPECT_THAT(c.bound_pods[10]->preferred_anti_affinity, SizeIs(1));
  // The two anti-affinity pods are on different nodes.
  EXPECT_NE(c.bound_pods[6]->node_name, c.bound_pods[7]->node_name);
  for (const model::PodPtr& pod : c.pending_pods) {
    EXPECT_TRUE(pod->labels.empty());
    EXPECT_FALSE(pod->has_pod_affinity);
  }
}

TEST(GenerateTest, BenchmarksNameIsTheSameWorkload) {
  EXPECT_EQ(GenerateOrDie(Options("RequiredPodAntiAffinityWithNSSelector", 12, 8, 4)),
            GenerateOrDie(Options("SchedulingRequiredPodAntiAffinityWithNSSelector", 12, 8, 4)));
}

TEST(GenerateTest, RequiredPodAntiAffinityWithNSSelector) {
  const std::string yaml = GenerateOrDie(
      Options("SchedulingRequiredPodAntiAffinityWithNSSelector", 100, 90, 5));
  // 40 init pods per namespace: init-ns-0..2, then measure-ns-0, all first.
  const Parsed parsed = Parse(yaml);
  std::vector<std::string> names;
  for (const YAML::Node& ns : parsed.namespaces) {
    const std::string name = ns["metadata"]["name"].as<std::string>();
    names.push_back(name);
    const YAML::Node labels = ns["metadata"]["labels"];
    EXPECT_EQ(labels["team"].as<std::string>(), "devops") << name;
    EXPECT_EQ(labels["kubernetes.io/metadata.name"].as<std::string>(), name);
  }
  EXPECT_THAT(names, ElementsAre("init-ns-0", "init-ns-1", "init-ns-2",
                                 "measure-ns-0"));

  const Cluster c = Load(yaml);
  std::map<std::string, int> per_namespace;
  for (const model::PodPtr& pod : c.bound_pods) ++per_namespace[pod->ns];
  EXPECT_EQ(per_namespace,
            (std::map<std::string, int>{
                {"init-ns-0", 40}, {"init-ns-1", 40}, {"init-ns-2", 10}}));
  // The selector takes every namespace: one pod per node.
  EXPECT_THAT(PodsPerNode(c), SizeIs(90));
  for (const model::PodPtr& pod : c.pending_pods) {
    EXPECT_EQ(pod->ns, "measure-ns-0");
    ASSERT_THAT(pod->required_anti_affinity, SizeIs(1));
    EXPECT_EQ(Describe(c, pod->required_anti_affinity[0]),
              "color in (green) @kubernetes.io/hostname ns=[] "
              "nsSelector=team in (devops)");
  }
}

TEST(GenerateTest, SchedulingWithNodeInclusionPolicy) {
  const Cluster c =
      GenerateAndLoad(Options("SchedulingWithNodeInclusionPolicy", 10, 0, 4));
  // A fifth of the nodes, the last ones, carry foo:NoSchedule.
  std::vector<std::string> tainted;
  for (const model::NodePtr& node : c.nodes) {
    if (node->taints.empty()) continue;
    tainted.push_back(node->name);
    ASSERT_THAT(node->taints, SizeIs(1));
    EXPECT_EQ(node->taints[0].key, "foo");
    EXPECT_EQ(node->taints[0].value, "");
    EXPECT_EQ(node->taints[0].effect, model::TaintEffect::kNoSchedule);
  }
  EXPECT_THAT(tainted, ElementsAre("node-8", "node-9"));
  for (const model::PodPtr& pod : c.pending_pods) {
    EXPECT_EQ(Label(c, pod->labels, "foo"), "bar");
    ASSERT_THAT(pod->spread_constraints, SizeIs(1));
    const model::TopologySpreadConstraint& s = pod->spread_constraints[0];
    EXPECT_EQ(s.max_skew, 1);
    EXPECT_EQ(Name(c, s.topology_key), "kubernetes.io/hostname");
    EXPECT_EQ(s.when_unsatisfiable, model::UnsatisfiableAction::kDoNotSchedule);
    EXPECT_EQ(s.node_affinity_policy, model::InclusionPolicy::kHonor);
    EXPECT_EQ(s.node_taints_policy, model::InclusionPolicy::kHonor);
    EXPECT_EQ(Describe(c, s.selector), "foo in (bar)");
  }
}

TEST(GenerateTest, SchedulingDaemonset) {
  const Cluster c = GenerateAndLoad(Options("SchedulingDaemonset", 3, 0, 4));
  ASSERT_EQ(c.nodes.size(), 4);
  EXPECT_EQ(c.nodes[0]->name, "scheduler-perf-node");
  EXPECT_EQ(c.nodes[0]->allocatable.allowed_pods, 90000);
  EXPECT_EQ(c.nodes[1]->name, "node-0");
  EXPECT_EQ(c.nodes[1]->allocatable.allowed_pods, 110);
  const model::Id target = c.names->Find("scheduler-perf-node");
  for (const model::PodPtr& pod : c.pending_pods) {
    SCOPED_TRACE(pod->Key());
    EXPECT_TRUE(pod->requests.IsZero());
    ASSERT_TRUE(pod->required_node_affinity.has_value());
    const auto& terms = pod->required_node_affinity->terms;
    ASSERT_THAT(terms, SizeIs(1));
    EXPECT_TRUE(terms[0].expressions.empty());
    ASSERT_THAT(terms[0].fields, SizeIs(1));
    EXPECT_EQ(terms[0].fields[0].op, model::SelectorOp::kIn);
    EXPECT_THAT(terms[0].fields[0].values, ElementsAre(target));
    // The DaemonSet controller's tolerations, all with operator Exists.
    std::vector<std::string> tolerated;
    for (const model::Toleration& t : pod->tolerations) {
      EXPECT_EQ(t.op, model::TolerationOp::kExists);
      tolerated.push_back(Name(c, t.key));
    }
    EXPECT_THAT(tolerated,
                UnorderedElementsAre("node.kubernetes.io/not-ready",
                                     "node.kubernetes.io/unreachable",
                                     "node.kubernetes.io/disk-pressure",
                                     "node.kubernetes.io/memory-pressure",
                                     "node.kubernetes.io/pid-pressure",
                                     "node.kubernetes.io/unschedulable"));
  }
}

TEST(GenerateTest, PreemptionBasic) {
  const Cluster c = GenerateAndLoad(Options("PreemptionBasic", 5, 20, 5));
  // Four 900m low-priority pods per node: 3.6 of 4 CPU.
  EXPECT_EQ(PodsPerNode(c), (std::map<std::string, int>{{"node-0", 4},
                                                        {"node-1", 4},
                                                        {"node-2", 4},
                                                        {"node-3", 4},
                                                        {"node-4", 4}}));
  for (const model::PodPtr& pod : c.bound_pods) {
    EXPECT_EQ(pod->priority, 0);
    EXPECT_EQ(pod->requests.milli_cpu, 900);
  }
  for (const model::PodPtr& pod : c.pending_pods) {
    EXPECT_EQ(pod->priority, 10);
    EXPECT_EQ(pod->requests.milli_cpu, 3000);
    EXPECT_EQ(pod->requests.memory, 500 << 20);
  }
}

TEST(GenerateTest, UnschedulableInterleavesLargePods) {
  const Cluster c = GenerateAndLoad(Options("Unschedulable", 5, 3, 201));
  std::vector<int> large_at;
  for (size_t i = 0; i < c.pending_pods.size(); ++i) {
    const model::Pod& pod = *c.pending_pods[i];
    if (pod.requests.milli_cpu == 9000) {
      large_at.push_back(static_cast<int>(i));
      EXPECT_EQ(pod.priority, 10);
      EXPECT_EQ(pod.ns, "namespace-2");
    } else {
      EXPECT_EQ(pod.requests.milli_cpu, 100);
      EXPECT_EQ(pod.priority, 0);
      EXPECT_EQ(pod.ns, "namespace-3");
    }
  }
  // Before measured pods 0, 100 and 200.
  EXPECT_THAT(large_at, ElementsAre(0, 101, 202));
  EXPECT_THAT(c.bound_pods, Each(::testing::Pointee(::testing::Field(
                                &model::Pod::ns, "namespace-1"))));
}

}  // namespace
}  // namespace kestrel::sim
