#include "predicates/inter_pod_affinity/inter_pod_affinity.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/cluster.h"
#include "predicates/testing/random_affinity.h"
#include "predicates/testing/upstream.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
namespace upstream = testing::upstream;

constexpr char kAffinity[] = "node(s) didn't match pod affinity rules";
constexpr char kAnti[] = "node(s) didn't match pod anti-affinity rules";
constexpr char kExisting[] = "node(s) didn't satisfy existing pods anti-affinity rules";

// n1, n2 in zone z1; n3 in z2; n4 has no zone. Every node has a hostname.
void AddNodes(testing::ClusterWorld& w) {
  w.AddNode("n1", {{"zone", "z1"}, {"kubernetes.io/hostname", "n1"}});
  w.AddNode("n2", {{"zone", "z1"}, {"kubernetes.io/hostname", "n2"}});
  w.AddNode("n3", {{"zone", "z2"}, {"kubernetes.io/hostname", "n3"}});
  w.AddNode("n4", {{"kubernetes.io/hostname", "n4"}});
}

struct Case {
  std::string name;
  std::vector<std::string> existing;  // bound pods (YAML)
  std::string pod;                    // the incoming pod (YAML)
  // Expected reason per node; "" passes. Ignored when `skip`.
  std::map<std::string, std::string> want;
  bool skip = false;  // PreFilter returns Skip
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      namespaces;
};

const char kAffinityDb[] = R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
)";

const char kAntiWebHost[] = R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
        topologyKey: kubernetes.io/hostname
)";

std::vector<Case> Cases() {
  return {
      {"no affinity and no existing anti-affinity: skip",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}"},
       "metadata: {name: p}",
       {},
       true},
      {"affinity: only the zone with a matching pod; nodes without the key fail",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}"},
       kAffinityDb,
       {{"n1", ""}, {"n2", ""}, {"n3", kAffinity}, {"n4", kAffinity}}},
      {"affinity: first pod of a group that matches its own term passes where the key is",
       {"metadata: {name: a, labels: {app: other}}\nspec: {nodeName: n1}"},
       R"(
metadata: {name: p, labels: {app: db}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
)",
       {{"n1", ""}, {"n2", ""}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: no match anywhere and not matching itself fails everywhere",
       {},
       kAffinityDb,
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", kAffinity}, {"n4", kAffinity}}},
      {"affinity: a match in another namespace does not count; the first-pod rule does not "
       "apply when the pod does not match itself",
       {"metadata: {name: a, namespace: other, labels: {app: db}}\nspec: {nodeName: n1}"},
       kAffinityDb,
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", kAffinity}, {"n4", kAffinity}}},
      {"affinity: namespaces list names the other namespace",
       {"metadata: {name: a, namespace: other, labels: {app: db}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        namespaces: [other]
        topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: empty namespaceSelector selects every namespace, known or not",
       {"metadata: {name: a, namespace: unknown-ns, labels: {app: db}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        namespaceSelector: {}
        topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: namespaceSelector matches namespace labels only",
       {"metadata: {name: a, namespace: dev, labels: {app: db}}\nspec: {nodeName: n1}",
        "metadata: {name: b, namespace: ops, labels: {app: db}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        namespaceSelector: {matchLabels: {team: devops}}
        topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}},
       false,
       {{"dev", {{"team", "web"}}}, {"ops", {{"team", "devops"}}}}},
      {"affinity: several terms count only pods matching all of them",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}",
        "metadata: {name: b, labels: {app: db, tier: cache}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
      - labelSelector: {matchLabels: {tier: cache}}
        topologyKey: kubernetes.io/hostname
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: a nil labelSelector matches no pod",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", kAffinity}, {"n4", kAffinity}}},
      {"affinity: an empty labelSelector matches every pod of the namespace",
       {"metadata: {name: a, labels: {x: y}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {}
        topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: matchLabelKeys narrows the selector to the pod's own value",
       {"metadata: {name: a, labels: {app: db, version: v1}}\nspec: {nodeName: n1}",
        "metadata: {name: b, labels: {app: db, version: v2}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p, labels: {version: v2}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        matchLabelKeys: [version]
        topologyKey: zone
)",
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"affinity: mismatchLabelKeys excludes the pod's own value",
       {"metadata: {name: a, labels: {app: db, version: v1}}\nspec: {nodeName: n1}",
        "metadata: {name: b, labels: {app: db, version: v2}}\nspec: {nodeName: n3}"},
       R"(
metadata: {name: p, labels: {version: v2}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        mismatchLabelKeys: [version]
        topologyKey: zone
)",
       {{"n1", ""}, {"n2", ""}, {"n3", kAffinity}, {"n4", kAffinity}}},
      {"affinity: terminating pods still count",
       {"metadata: {name: a, labels: {app: db}, deletionTimestamp: '2024-01-01T00:00:00Z'}\n"
        "spec: {nodeName: n3}"},
       kAffinityDb,
       {{"n1", kAffinity}, {"n2", kAffinity}, {"n3", ""}, {"n4", kAffinity}}},
      {"anti-affinity: the node with a matching pod fails; a node without the key passes",
       {"metadata: {name: a, labels: {app: web}}\nspec: {nodeName: n2}"},
       kAntiWebHost,
       {{"n1", ""}, {"n2", kAnti}, {"n3", ""}, {"n4", ""}}},
      {"anti-affinity per zone: a node lacking the zone label passes",
       {"metadata: {name: a, labels: {app: web}}\nspec: {nodeName: n1}"},
       R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: zone
)",
       {{"n1", kAnti}, {"n2", kAnti}, {"n3", ""}, {"n4", ""}}},
      {"existing anti-affinity: the carrier's zone is closed to pods it matches",
       {R"(
metadata: {name: a, labels: {app: solo}}
spec:
  nodeName: n3
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: zone
)"},
       "metadata: {name: p, labels: {app: web}}",
       {{"n1", ""}, {"n2", ""}, {"n3", kExisting}, {"n4", ""}}},
      {"existing anti-affinity in another namespace does not reach the pod",
       {R"(
metadata: {name: a, namespace: other, labels: {app: solo}}
spec:
  nodeName: n3
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: zone
)"},
       "metadata: {name: p, labels: {app: web}}",
       {},
       true},
      {"existing anti-affinity that does not match the pod: skip",
       {R"(
metadata: {name: a, labels: {app: solo}}
spec:
  nodeName: n3
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
)"},
       "metadata: {name: p, labels: {app: web}}",
       {},
       true},
      {"affinity is checked before anti-affinity, and both before existing anti-affinity",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}",
        "metadata: {name: b, labels: {app: web}}\nspec: {nodeName: n1}",
        R"(
metadata: {name: c, labels: {app: solo}}
spec:
  nodeName: n2
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
)"},
       R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
)",
       {{"n1", kAnti}, {"n2", kExisting}, {"n3", kAffinity}, {"n4", kAffinity}}},
  };
}

TEST(InterPodAffinityFilterTest, Table) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    testing::ClusterWorld w;
    AddNodes(w);
    for (const auto& [ns, labels] : c.namespaces) w.AddNamespace(ns, labels);
    for (const std::string& yaml : c.existing) w.AddPod(yaml);
    model::PodPtr pod = w.Pod(c.pod);
    ASSERT_NE(pod, nullptr);
    framework::CycleState state = w.NewCycle();
    InterPodAffinityFilter plugin;
    framework::Status pre = plugin.PreFilter(state, *pod, w.snapshot.nodes());
    // The reference, checked on the same hand-worked answers.
    const upstream::FilterResult ref =
        upstream::InterPodAffinityFilter(w.api, testing::ClusterWorld::DecodePod(c.pod));
    EXPECT_EQ(ref.skip, c.skip) << "reference";
    for (const auto& [node, want] : c.want) {
      upstream::Verdict expected;
      if (!want.empty()) {
        expected = {want == kAffinity ? upstream::Verdict::Code::kUnschedulableAndUnresolvable
                                      : upstream::Verdict::Code::kUnschedulable,
                    want};
      }
      EXPECT_EQ(ref.nodes.at(node), expected) << node << " (reference)";
    }
    if (c.skip) {
      EXPECT_TRUE(pre.IsSkip()) << pre.Message();
      continue;
    }
    ASSERT_TRUE(pre.ok()) << pre.Message();
    std::vector<uint8_t> passed(w.snapshot.num_nodes(), 1);
    ASSERT_TRUE(plugin.FiltersRows(state, *pod));
    plugin.FilterRows(state, *pod, w.snapshot.table(), 0, passed.size(), passed.data());
    for (size_t r = 0; r < w.snapshot.num_nodes(); ++r) {
      const framework::NodeInfo& info = *w.snapshot.nodes()[r];
      const std::string& node = info.node()->name;
      framework::Status s = plugin.Filter(state, *pod, info);
      const std::string want = c.want.at(node);
      if (want.empty()) {
        EXPECT_TRUE(s.ok()) << node << ": " << s.Message();
      } else {
        EXPECT_EQ(s.Message(), want) << node;
        EXPECT_EQ(s.code(), want == kAffinity ? Code::kUnschedulableAndUnresolvable
                                              : Code::kUnschedulable)
            << node;
      }
      EXPECT_EQ(passed[r] != 0, s.ok()) << node << ": rows and Filter disagree";
    }
  }
}

// The cache keeps the index current: an assumed pod counts at once, a
// forgotten one no longer does.
TEST(InterPodAffinityFilterTest, FollowsAssumeAndForget) {
  testing::ClusterWorld w;
  AddNodes(w);
  model::PodPtr pod = w.Pod(kAntiWebHost);
  InterPodAffinityFilter plugin;

  auto assumed = std::make_shared<model::Pod>(*w.Pod("metadata: {name: a, labels: {app: web}}"));
  assumed->node_name = "n1";
  ASSERT_TRUE(w.cache.AssumePod(assumed).ok());
  framework::CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n1")).Message(), kAnti);

  ASSERT_TRUE(w.cache.ForgetPod(*assumed).ok());
  state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  EXPECT_TRUE(plugin.Filter(state, *pod, w.Info("n1")).ok());
}

// Preemption's view: removing the pods in the way, on a copy of the state.
TEST(InterPodAffinityFilterTest, AddAndRemovePodUpdateOnlyTheCopy) {
  testing::ClusterWorld w;
  AddNodes(w);
  model::PodPtr web = w.AddPod("metadata: {name: a, labels: {app: web}}\nspec: {nodeName: n2}");
  model::PodPtr solo = w.AddPod(R"(
metadata: {name: s, labels: {app: solo}}
spec:
  nodeName: n3
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
)");
  model::PodPtr pod = w.Pod(kAntiWebHost);
  InterPodAffinityFilter plugin;
  framework::CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n2")).Message(), kAnti);
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n3")).Message(), kExisting);

  framework::CycleState copy = state.Clone();
  ASSERT_TRUE(plugin.RemovePod(copy, *pod, *web, w.Info("n2")).ok());
  ASSERT_TRUE(plugin.RemovePod(copy, *pod, *solo, w.Info("n3")).ok());
  EXPECT_TRUE(plugin.Filter(copy, *pod, w.Info("n2")).ok());
  EXPECT_TRUE(plugin.Filter(copy, *pod, w.Info("n3")).ok());
  // The original state, and the index, are untouched.
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n2")).Message(), kAnti);
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n3")).Message(), kExisting);

  ASSERT_TRUE(plugin.AddPod(copy, *pod, web, w.Info("n1")).ok());
  ASSERT_TRUE(plugin.AddPod(copy, *pod, solo, w.Info("n1")).ok());
  EXPECT_EQ(plugin.Filter(copy, *pod, w.Info("n1")).Message(), kAnti);
}

// A nominated pod that preemption or the filters add (AddPod, on a clone)
// may carry a required anti-affinity term on a topology key that no cached
// or incoming pod uses, so the index has no domains for it. AddPod may run
// beside other dry runs and must not register the key; it counts the term
// by the node's label value instead, as upstream's
// topologyToMatchedTermCount does, with the same verdicts as when the key
// is registered.
TEST(InterPodAffinityFilterTest, AddedPodsAntiAffinityOnAnUnregisteredKey) {
  const char* guard_yaml = R"(
metadata: {name: guard, labels: {app: guard}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: rack
)";
  const char* other_yaml = R"(
metadata: {name: other, labels: {app: guard}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: rack
)";
  struct AddCase {
    std::string name;
    std::vector<std::pair<const char*, std::string>> added;    // pod, node
    std::vector<std::pair<const char*, std::string>> removed;  // after adding
    std::map<std::string, std::string> want;
  };
  const std::vector<AddCase> cases = {
      {"added on n1: its rack r1 is closed",
       {{guard_yaml, "n1"}},
       {},
       {{"n1", kExisting}, {"n2", kExisting}, {"n3", ""}, {"n4", ""}}},
      {"added on a node without the key: nothing closes",
       {{guard_yaml, "n4"}},
       {},
       {{"n1", ""}, {"n2", ""}, {"n3", ""}, {"n4", ""}}},
      {"a term that does not match the pod",
       {{other_yaml, "n1"}},
       {},
       {{"n1", ""}, {"n2", ""}, {"n3", ""}, {"n4", ""}}},
      {"added on n1 and n3, removed from n1",
       {{guard_yaml, "n1"}, {guard_yaml, "n3"}},
       {{guard_yaml, "n1"}},
       {{"n1", ""}, {"n2", ""}, {"n3", kExisting}, {"n4", ""}}},
  };
  for (const AddCase& c : cases) {
    for (bool registered : {false, true}) {
      SCOPED_TRACE(c.name + (registered ? ", key registered" : ", key not registered"));
      testing::ClusterWorld w;
      w.AddNode("n1", {{"rack", "r1"}, {"kubernetes.io/hostname", "n1"}});
      w.AddNode("n2", {{"rack", "r1"}, {"kubernetes.io/hostname", "n2"}});
      w.AddNode("n3", {{"rack", "r2"}, {"kubernetes.io/hostname", "n3"}});
      w.AddNode("n4", {{"kubernetes.io/hostname", "n4"}});
      const model::Id rack = w.names.Intern("rack");
      model::PodPtr pod = w.Pod(kAntiWebHost);
      InterPodAffinityFilter plugin;
      framework::CycleState state = w.NewCycle();
      // As when some other pod's term or constraint used the key before.
      if (registered) state.mutable_index()->GetTopology(rack);
      ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());

      framework::CycleState copy = state.Clone();
      ASSERT_EQ(copy.mutable_index(), nullptr);
      for (const auto& [yaml, node] : c.added) {
        ASSERT_TRUE(plugin.AddPod(copy, *pod, w.Pod(yaml), w.Info(node)).ok());
      }
      for (const auto& [yaml, node] : c.removed) {
        ASSERT_TRUE(plugin.RemovePod(copy, *pod, *w.Pod(yaml), w.Info(node)).ok());
      }
      std::vector<uint8_t> passed(w.snapshot.num_nodes(), 1);
      plugin.FilterRows(copy, *pod, w.snapshot.table(), 0, passed.size(), passed.data());
      for (size_t r = 0; r < w.snapshot.num_nodes(); ++r) {
        const framework::NodeInfo& info = *w.snapshot.nodes()[r];
        const std::string& node = info.node()->name;
        framework::Status s = plugin.Filter(copy, *pod, info);
        EXPECT_EQ(s.Message(), c.want.at(node)) << node;
        EXPECT_EQ(passed[r] != 0, s.ok()) << node << ": rows and Filter disagree";
        // The cycle's own state is untouched.
        EXPECT_TRUE(plugin.Filter(state, *pod, info).ok()) << node;
      }
      EXPECT_EQ(w.snapshot.index().FindTopology(rack) != nullptr, registered)
          << "AddPod/RemovePod registered a topology key";
    }
  }
}

TEST(InterPodAffinityFilterTest, FirstPodRuleEndsWhenAMatchingPodAppears) {
  testing::ClusterWorld w;
  AddNodes(w);
  const char* self = R"(
metadata: {name: p, labels: {app: db}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
)";
  model::PodPtr pod = w.Pod(self);
  InterPodAffinityFilter plugin;
  framework::CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  EXPECT_TRUE(plugin.Filter(state, *pod, w.Info("n3")).ok());

  w.AddPod("metadata: {name: first, labels: {app: db}}\nspec: {nodeName: n1}");
  state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  EXPECT_TRUE(plugin.Filter(state, *pod, w.Info("n2")).ok());
  EXPECT_EQ(plugin.Filter(state, *pod, w.Info("n3")).Message(), kAffinity);
}

// ---- Preemption against the upstream reference ------------------------------

// Random clusters and pods; then, on copies of the PreFilter state, random
// sequences of RemovePod and AddPod anywhere in the cluster (upstream's
// counts are exact for any sequence). After each sequence, Filter on every
// node equals the reference (predicates/testing/upstream.h) on the
// resulting set of pods, which reads the API objects and shares no code
// with the plugin, the compiler or the index; and FilterRows agrees.
TEST(InterPodAffinityFilterTest, AddPodAndRemovePodAgreeWithUpstreamReference) {
  // A pod in the cycle's view of the cluster: its API object (bound to its
  // node) and its compiled form.
  struct Placed {
    testing::RandomAffinity::Pod api;
    model::PodPtr pod;
  };
  int checked = 0, failing = 0, changed = 0, sequences = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    testing::RandomAffinity gen(seed);
    testing::ClusterWorld w;
    const int num_nodes = 3 + gen.Rand(6);
    gen.AddNodes(w, num_nodes);
    std::vector<Placed> placed;
    for (int i = 0, n = gen.Rand(4 * num_nodes); i < n; ++i) {
      auto api =
          gen.RandomPod("e" + std::to_string(i), true, "n" + std::to_string(gen.Rand(num_nodes)));
      placed.push_back({api, w.AddPod(api)});
    }
    InterPodAffinityFilter plugin;
    framework::CycleState state = w.NewCycle();
    for (int trial = 0; trial < 4; ++trial) {
      const auto incoming = gen.RandomPod("incoming" + std::to_string(trial), true);
      model::PodPtr pod = w.Compile(incoming);
      ASSERT_NE(pod, nullptr);
      const framework::Status pre = plugin.PreFilter(state, *pod, w.snapshot.nodes());
      ASSERT_EQ(pre.IsSkip(), upstream::InterPodAffinityFilter(w.api, incoming).skip);
      if (pre.IsSkip()) continue;
      ASSERT_TRUE(pre.ok()) << pre.Message();
      for (int sequence = 0; sequence < 3; ++sequence) {
        framework::CycleState copy = state.Clone();
        std::vector<Placed> now = placed;
        for (int op = 1 + gen.Rand(8); op > 0; --op) {
          if (gen.Rand(2) == 0 && !now.empty()) {
            const size_t i = gen.Rand(static_cast<int>(now.size()));
            const std::string& node = now[i].api.spec().nodename();
            ASSERT_TRUE(plugin.RemovePod(copy, *pod, *now[i].pod, w.Info(node)).ok());
            now.erase(now.begin() + i);
          } else {
            const std::string node = "n" + std::to_string(gen.Rand(num_nodes));
            auto api = gen.RandomPod(
                "added" + std::to_string(sequence) + "-" + std::to_string(op), true, node);
            model::PodPtr added = w.Compile(api);
            ASSERT_TRUE(plugin.AddPod(copy, *pod, added, w.Info(node)).ok());
            now.push_back({std::move(api), added});
          }
        }
        upstream::Cluster after = w.api;
        after.pods.clear();
        for (const Placed& p : now) after.pods.push_back(p.api);
        // Where PreFilter would now skip (the last carrier of an
        // anti-affinity term toward the pod is gone), Filter passes every node.
        const upstream::FilterResult want = upstream::InterPodAffinityFilter(after, incoming);
        std::vector<uint8_t> passed(w.snapshot.num_nodes(), 1);
        plugin.FilterRows(copy, *pod, w.snapshot.table(), 0, passed.size(), passed.data());
        for (size_t r = 0; r < w.snapshot.num_nodes(); ++r) {
          const framework::NodeInfo& info = *w.snapshot.nodes()[r];
          const std::string& name = info.node()->name;
          const framework::Status got = plugin.Filter(copy, *pod, info);
          EXPECT_EQ(testing::VerdictOf(got), want.skip ? upstream::Verdict() : want.nodes.at(name))
              << name;
          EXPECT_EQ(passed[r] != 0, got.ok()) << name << ": rows and Filter disagree";
          failing += !got.ok();
          changed += got.ok() != plugin.Filter(state, *pod, info).ok();
          ++checked;
        }
        ++sequences;
      }
    }
  }
  // The generator reaches every outcome often enough to mean something.
  EXPECT_GT(sequences, 300);
  EXPECT_GT(checked, 2000);
  EXPECT_GT(failing, 1000);
  EXPECT_GT(changed, 100);
}

}  // namespace
}  // namespace kestrel::predicates
