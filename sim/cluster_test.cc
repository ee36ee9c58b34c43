// LoadContents: PriorityClass objects and the priority of every pod,
// resolved as the Priority admission plugin does (see cluster.h).

#include "sim/cluster.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/priority.h"

namespace kestrel::sim {
namespace {

using ::testing::HasSubstr;

constexpr char kNode[] = R"(apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "110"}}
---
)";

constexpr char kGold[] = R"(apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: gold}
value: 1000
---
)";

constexpr char kNeverClass[] = R"(apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: quiet}
value: 500
preemptionPolicy: Never
---
)";

constexpr char kDefaultClass[] = R"(apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: batch}
value: -10
globalDefault: true
---
)";

// A pod named `name` with `spec_extra` (flow-style entries) in its spec.
std::string Pod(const std::string& name, const std::string& spec_extra) {
  return absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: {name: ", name,
                      ", namespace: default}\nspec: {", spec_extra,
                      spec_extra.empty() ? "" : ", ", "containers: [{name: c}]}\n---\n");
}

const model::Pod* FindPod(const Cluster& cluster, const std::string& name) {
  for (const auto* pods : {&cluster.pending_pods, &cluster.bound_pods}) {
    for (const model::PodPtr& p : *pods) {
      if (p->name == name) return p.get();
    }
  }
  return nullptr;
}

struct PodCase {
  std::string name;
  std::string classes;  // PriorityClass documents
  std::string spec;     // the pod's extra spec entries
  bool after = false;   // classes come after the pod in the file
  // Want:
  int32_t priority = 0;
  model::PreemptionPolicy policy = model::PreemptionPolicy::kPreemptLowerPriority;
  std::string class_name;
  std::string invalid_reason;
};

TEST(LoadContentsTest, ResolvesPriority) {
  using model::PreemptionPolicy;
  const std::vector<PodCase> cases = {
      {"no class, no default", "", "", false, 0},
      {"named class", kGold, "priorityClassName: gold", false, 1000,
       PreemptionPolicy::kPreemptLowerPriority, "gold"},
      {"class after the pod", kGold, "priorityClassName: gold", true, 1000,
       PreemptionPolicy::kPreemptLowerPriority, "gold"},
      {"class policy", kNeverClass, "priorityClassName: quiet", false, 500,
       PreemptionPolicy::kNever, "quiet"},
      {"built-in", "", "priorityClassName: system-node-critical", false, 2000001000,
       PreemptionPolicy::kPreemptLowerPriority, "system-node-critical"},
      {"global default", kDefaultClass, "", false, -10, PreemptionPolicy::kPreemptLowerPriority,
       "batch"},
      {"global default keeps the pod's policy", kDefaultClass, "preemptionPolicy: Never", false,
       -10, PreemptionPolicy::kNever, "batch"},
      {"no class, explicit priority is kept", kDefaultClass, "priority: 10", false, 10},
      {"no class, explicit policy is kept", "", "preemptionPolicy: Never", false, 0,
       PreemptionPolicy::kNever},
      {"explicit priority that agrees", kGold, "priorityClassName: gold, priority: 1000", false,
       1000, PreemptionPolicy::kPreemptLowerPriority, "gold"},
      {"unknown class", kGold, "priorityClassName: platinum", false, 0,
       PreemptionPolicy::kPreemptLowerPriority, "platinum",
       "no PriorityClass with name platinum was found"},
      {"priority that disagrees", kGold, "priorityClassName: gold, priority: 7", false, 7,
       PreemptionPolicy::kPreemptLowerPriority, "gold",
       "the integer value of priority (7) must not be provided in pod spec; priority admission "
       "controller computed 1000 from the given PriorityClass name"},
      {"policy that disagrees", kGold, "priorityClassName: gold, preemptionPolicy: Never", false,
       0, PreemptionPolicy::kNever, "gold",
       "the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority "
       "admission controller computed PreemptLowerPriority from the given PriorityClass name"},
      // Bound pods run already: never invalid, their spec stands.
      {"bound, named class", kGold, "nodeName: n1, priorityClassName: gold", false, 1000,
       PreemptionPolicy::kPreemptLowerPriority, "gold"},
      {"bound, unknown class", "", "nodeName: n1, priorityClassName: gone, priority: 30", false,
       30, PreemptionPolicy::kPreemptLowerPriority, "gone"},
      {"bound, priority that disagrees", kGold,
       "nodeName: n1, priorityClassName: gold, priority: 7", false, 7,
       PreemptionPolicy::kPreemptLowerPriority, "gold"},
      {"bound, global default", kDefaultClass, "nodeName: n1", false, -10,
       PreemptionPolicy::kPreemptLowerPriority, "batch"},
  };
  for (const PodCase& c : cases) {
    const std::string pod = Pod("p", c.spec);
    const std::string yaml = c.after ? absl::StrCat(kNode, pod, c.classes)
                                     : absl::StrCat(kNode, c.classes, pod);
    absl::StatusOr<Cluster> cluster = LoadContents({{"c.yaml", yaml}});
    ASSERT_TRUE(cluster.ok()) << c.name << ": " << cluster.status();
    const model::Pod* p = FindPod(*cluster, "p");
    ASSERT_NE(p, nullptr) << c.name;
    EXPECT_EQ(p->priority, c.priority) << c.name;
    EXPECT_EQ(p->preemption_policy, c.policy) << c.name;
    EXPECT_EQ(p->priority_class_name, c.class_name) << c.name;
    EXPECT_EQ(p->invalid_reason, c.invalid_reason) << c.name;
  }
}

TEST(LoadContentsTest, KeepsPriorityClasses) {
  absl::StatusOr<Cluster> cluster =
      LoadContents({{"a.yaml", absl::StrCat(kGold, kDefaultClass)}, {"b.yaml", kNeverClass}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_NE(cluster->priority_classes.Find("quiet"), nullptr);
  EXPECT_EQ(cluster->priority_classes.Find("quiet")->value, 500);
  ASSERT_NE(cluster->priority_classes.GlobalDefault(), nullptr);
  EXPECT_EQ(cluster->priority_classes.GlobalDefault()->name, "batch");
  EXPECT_NE(cluster->priority_classes.Find(model::kSystemClusterCritical), nullptr);
}

struct ErrorCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> files;
  std::string error;
};

TEST(LoadContentsTest, PriorityClassErrors) {
  const std::string snapshot_builtin =
      "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
      "metadata: {name: system-cluster-critical}\nvalue: 2000000000\n---\n";
  const std::vector<ErrorCase> cases = {
      {"duplicate in one file",
       {{"c.yaml", absl::StrCat(kGold, kGold)}},
       "c.yaml: PriorityClass gold: metadata.name: Duplicate value: \"gold\""},
      {"duplicate across files",
       {{"a.yaml", kGold}, {"b.yaml", kGold}},
       "b.yaml: PriorityClass gold: metadata.name: Duplicate value: \"gold\""},
      {"built-in listed twice",
       {{"c.yaml", absl::StrCat(snapshot_builtin, snapshot_builtin)}},
       "c.yaml: PriorityClass system-cluster-critical: metadata.name: Duplicate value: "
       "\"system-cluster-critical\""},
      {"two global defaults",
       {{"c.yaml", absl::StrCat(kDefaultClass,
                                "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
                                "metadata: {name: other}\nvalue: 1\nglobalDefault: true\n")}},
       "c.yaml: PriorityClass other: globalDefault: Forbidden: PriorityClass batch is already "
       "marked as default. Only one default can exist"},
      {"value too high",
       {{"c.yaml",
         "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\n"
         "metadata: {name: huge}\nvalue: 1500000000\n"}},
       "c.yaml: PriorityClass huge: value: Forbidden: maximum allowed value of a user defined "
       "priority is 1000000000"},
      {"missing name",
       {{"c.yaml", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nvalue: 1\n"}},
       "c.yaml: PriorityClass : metadata.name: Required value: name or generateName is "
       "required"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<Cluster> cluster = LoadContents(c.files);
    EXPECT_EQ(cluster.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(cluster.status().message(), c.error) << c.name;
  }
  // A snapshot lists the built-ins once: that loads.
  absl::StatusOr<Cluster> cluster = LoadContents({{"c.yaml", snapshot_builtin}});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
}

// Bound pods whose node is in no file load, kept for the cache to hold on
// no node, with one warning per such node.
TEST(LoadContentsTest, PodsOnNodesThatAreNotThere) {
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, std::string>> files;
    std::vector<std::string> warnings;
  };
  const std::vector<Case> cases = {
      {"every node there", {{"c.yaml", absl::StrCat(kNode, Pod("a", "nodeName: n1"))}}, {}},
      {"one pod on a gone node",
       {{"c.yaml", absl::StrCat(kNode, Pod("a", "nodeName: gone"))}},
       {"c.yaml: Pod default/a: spec.nodeName: node \"gone\" is not in the cluster; the pod "
        "counts on no node"}},
      {"several pods on two gone nodes, once per node in order of first mention",
       {{"c.yaml", absl::StrCat(kNode, Pod("a", "nodeName: gone-2"), Pod("b", "nodeName: gone"),
                                Pod("c", "nodeName: n1"), Pod("d", "nodeName: gone-2"))},
        {"more.yaml", Pod("e", "nodeName: gone-2")}},
       {"3 pods are bound to node \"gone-2\", which is not in the cluster; they count on no "
        "node (first: c.yaml: Pod default/a)",
        "c.yaml: Pod default/b: spec.nodeName: node \"gone\" is not in the cluster; the pod "
        "counts on no node"}},
      {"the node in a later file", {{"a.yaml", Pod("a", "nodeName: n1")}, {"b.yaml", kNode}}, {}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Cluster> cluster = LoadContents(c.files);
    ASSERT_TRUE(cluster.ok()) << c.name << ": " << cluster.status();
    EXPECT_EQ(cluster->warnings, c.warnings) << c.name;
    // Nothing is dropped: the cache decides where they count.
    size_t pods = 0;
    for (const auto& [file, content] : c.files) {
      for (size_t at = content.find("kind: Pod"); at != std::string::npos;
           at = content.find("kind: Pod", at + 1)) {
        ++pods;
      }
    }
    EXPECT_EQ(cluster->bound_pods.size(), pods) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::sim
