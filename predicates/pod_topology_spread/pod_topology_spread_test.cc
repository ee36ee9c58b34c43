#include "predicates/pod_topology_spread/pod_topology_spread.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"
#include "predicates/testing/cluster.h"
#include "predicates/testing/upstream.h"
#include "scheduler/cache/cache.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using framework::CycleState;
using framework::NodeInfo;
using framework::Status;

using LabelList = std::vector<std::pair<std::string, std::string>>;
namespace upstream = testing::upstream;

// A pod as YAML, built fluently.
class PodYaml {
 public:
  explicit PodYaml(std::string name) : name_(std::move(name)) {}
  PodYaml& Labels(std::string flow) { labels_ = std::move(flow); return *this; }
  PodYaml& On(std::string node) { node_ = std::move(node); return *this; }
  PodYaml& Ns(std::string ns) { ns_ = std::move(ns); return *this; }
  PodYaml& Terminating() { terminating_ = true; return *this; }
  // Extra spec fields in flow style, e.g. "nodeSelector: {disk: ssd}".
  PodYaml& Spec(std::string fields) { spec_.push_back(std::move(fields)); return *this; }
  PodYaml& Spread(std::string constraints) {
    return Spec(absl::StrCat("topologySpreadConstraints: [", constraints, "]"));
  }
  PodYaml& Owner(std::string kind, std::string name) {
    owner_ = absl::StrCat("ownerReferences: [{apiVersion: apps/v1, kind: ", kind,
                          ", name: ", name, ", uid: u-", name, ", controller: true}], ");
    return *this;
  }

  std::string Yaml() const {
    std::vector<std::string> spec = spec_;
    if (!node_.empty()) spec.push_back(absl::StrCat("nodeName: ", node_));
    return absl::StrCat("metadata: {name: ", name_, ", namespace: ", ns_, ", uid: ", ns_, "-",
                        name_, ", ", owner_, "labels: {", labels_, "}",
                        terminating_ ? ", deletionTimestamp: '2024-01-01T00:00:00Z'" : "",
                        "}\nspec: {", absl::StrJoin(spec, ", "), "}");
  }

 private:
  std::string name_;
  std::string ns_ = "default";
  std::string labels_;
  std::string node_;
  std::string owner_;
  bool terminating_ = false;
  std::vector<std::string> spec_;
};

const char kFooSel[] = "{matchExpressions: [{key: foo, operator: Exists}]}";

// One topologySpreadConstraint in flow style. `selector` is the
// labelSelector ("" leaves it out: nil, selects nothing).
std::string Spread(int max_skew, const std::string& key, const std::string& when,
                   const std::string& selector = kFooSel, const std::string& extra = "") {
  std::string out = absl::StrCat("{maxSkew: ", max_skew, ", topologyKey: ", key,
                                 ", whenUnsatisfiable: ", when);
  if (!selector.empty()) absl::StrAppend(&out, ", labelSelector: ", selector);
  if (!extra.empty()) absl::StrAppend(&out, ", ", extra);
  return out + "}";
}
std::string Hard(int max_skew, const std::string& key, const std::string& extra = "") {
  return Spread(max_skew, key, "DoNotSchedule", kFooSel, extra);
}

struct NodeSpec {
  std::string name;
  LabelList labels;
  std::string taints = "";  // flow list, e.g. "[{key: k, value: v, effect: NoSchedule}]"
};

// Nodes and pods compiled from YAML into a cache, and its snapshot.
class World : public testing::ClusterWorld {
 public:
  using ClusterWorld::AddNode;
  using ClusterWorld::AddPod;
  using ClusterWorld::Pod;
  void AddNode(const NodeSpec& spec) { AddNode(spec.name, spec.labels, spec.taints); }
  model::PodPtr Pod(const PodYaml& pod) { return Pod(pod.Yaml()); }
  void AddPod(const PodYaml& pod) { ASSERT_NE(AddPod(pod.Yaml()), nullptr); }
};

config::PodTopologySpreadArgs ListArgs() {
  config::PodTopologySpreadArgs args;
  args.set_defaultingtype("List");
  return args;
}

// Upstream's usual test cluster: two zones of two nodes, each node its own
// "node" domain.
std::vector<NodeSpec> FourNodes() {
  return {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
          {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
          {"node-x", {{"zone", "zone2"}, {"node", "node-x"}}},
          {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}};
}

// `n` pods labelled foo on `node`.
std::vector<PodYaml> FooPods(const std::string& node, int n, const std::string& ns = "default") {
  std::vector<PodYaml> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(PodYaml(absl::StrCat(node, "-", ns, "-", i)).Labels("foo: ''").On(node).Ns(ns));
  }
  return out;
}

std::vector<PodYaml> Concat(std::vector<std::vector<PodYaml>> lists) {
  std::vector<PodYaml> out;
  for (auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

enum class Verdict { kFits, kSkew, kMissingLabel };

struct FilterCase {
  std::string name;
  std::vector<NodeSpec> nodes;
  std::vector<PodYaml> existing;
  PodYaml pod;
  std::map<std::string, Verdict> want;
};

// The reference's form of a verdict.
upstream::Verdict UpstreamVerdict(Verdict v) {
  switch (v) {
    case Verdict::kFits:
      return {};
    case Verdict::kSkew:
      return {upstream::Verdict::Code::kUnschedulable,
              PodTopologySpreadFilter::kErrReasonConstraintsNotMatch};
    case Verdict::kMissingLabel:
      return {upstream::Verdict::Code::kUnschedulableAndUnresolvable,
              PodTopologySpreadFilter::kErrReasonNodeLabelNotMatch};
  }
  return {};
}

void ExpectVerdict(const Status& s, Verdict want, const std::string& node) {
  switch (want) {
    case Verdict::kFits:
      EXPECT_TRUE(s.ok()) << node << ": " << s.Message();
      break;
    case Verdict::kSkew:
      EXPECT_EQ(s.code(), Code::kUnschedulable) << node << ": " << s.Message();
      EXPECT_EQ(s.Message(), PodTopologySpreadFilter::kErrReasonConstraintsNotMatch) << node;
      break;
    case Verdict::kMissingLabel:
      EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable) << node << ": " << s.Message();
      EXPECT_EQ(s.Message(), PodTopologySpreadFilter::kErrReasonNodeLabelNotMatch) << node;
      break;
  }
}

// FilterRows over every row must agree with Filter on every node.
void ExpectRowsAgree(const PodTopologySpreadFilter& plugin, const CycleState& state,
                     const model::Pod& pod, const cache::Snapshot& snapshot) {
  ASSERT_TRUE(plugin.FiltersRows(state, pod));
  const size_t n = snapshot.num_nodes();
  std::vector<uint8_t> passed(n, 1);
  // Two chunks, as the scheduler's parallel loop would split them.
  plugin.FilterRows(state, pod, snapshot.table(), 0, n / 2, passed.data());
  plugin.FilterRows(state, pod, snapshot.table(), n / 2, n, passed.data());
  for (size_t r = 0; r < n; ++r) {
    const NodeInfo& info = *snapshot.nodes()[r];
    EXPECT_EQ(passed[r] != 0, plugin.Filter(state, pod, info).ok()) << info.node()->name;
  }
}

TEST(PodTopologySpreadFilterTest, Table) {
  const Verdict F = Verdict::kFits, S = Verdict::kSkew, M = Verdict::kMissingLabel;
  std::vector<FilterCase> cases = {
      {"no existing pods",
       FourNodes(),
       {},
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", F}}},
      {"pods in another namespace do not count",
       FourNodes(),
       Concat({FooPods("node-a", 1), FooPods("node-x", 2, "other"), FooPods("node-y", 1, "other")}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"zones 3/3: every node fits",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", F}}},
      {"node-b lacks zone: unresolvable there, and its pods do not count",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}}},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-a", 1), FooPods("node-b", 4), FooPods("node-x", 2)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")),
       {{"node-a", F}, {"node-b", M}, {"node-x", S}, {"node-y", S}}},
      {"no node has the key",
       FourNodes(),
       {},
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "rack")),
       {{"node-a", M}, {"node-b", M}, {"node-x", M}, {"node-y", M}}},
      {"nodes 2/1/0/3, maxSkew 1: only node-x",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"nodes 2/1/0/3, maxSkew 2: node-b and node-x",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(2, "node")),
       {{"node-a", S}, {"node-b", F}, {"node-x", F}, {"node-y", S}}},
      {"terminating pods do not count",
       FourNodes(),
       {PodYaml("a1").Labels("foo: ''").On("node-a"), PodYaml("a2").Labels("foo: ''").On("node-a"),
        PodYaml("b1").Labels("foo: ''").On("node-b"),
        PodYaml("y1").Labels("foo: ''").On("node-y").Terminating(),
        PodYaml("y2").Labels("foo: ''").On("node-y").Terminating()},
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"pods that do not match the selector do not count",
       FourNodes(),
       {PodYaml("a1").Labels("bar: ''").On("node-a"), PodYaml("a2").Labels("bar: ''").On("node-a"),
        PodYaml("x1").Labels("foo: ''").On("node-x")},
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")),
       {{"node-a", F}, {"node-b", F}, {"node-x", S}, {"node-y", S}}},
      {"maxSkew 2, the pod matches itself",
       FourNodes(),
       FooPods("node-a", 2),
       PodYaml("p").Labels("foo: ''").Spread(Hard(2, "zone")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"maxSkew 2, the pod does not match itself",
       FourNodes(),
       FooPods("node-a", 2),
       PodYaml("p").Labels("bar: ''").Spread(Hard(2, "zone")),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", F}}},
      {"nodeAffinity Honor: excluded nodes' domains are not eligible (2/~1~/~0~/3)",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")).Spec(
           "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
           "{nodeSelectorTerms: [{matchExpressions: [{key: node, operator: NotIn, "
           "values: [node-b, node-x]}]}]}}}"),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", S}}},
      {"nodeSelector Honor: the same with a nodeSelector",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}, {"disk", "ssd"}}},
        {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}}},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}, {"disk", "ssd"}}}},
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")).Spec("nodeSelector: {disk: ssd}"),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", S}}},
      {"nodeAffinityPolicy Ignore: every node's domain counts",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node", "nodeAffinityPolicy: Ignore")).Spec(
           "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
           "{nodeSelectorTerms: [{matchExpressions: [{key: node, operator: NotIn, "
           "values: [node-b, node-x]}]}]}}}"),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"nodeTaintsPolicy Ignore (default): tainted node-x counts",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}},
         "[{key: dedicated, effect: NoSchedule}]"},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"nodeTaintsPolicy Honor: untolerated node-x does not count",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}},
         "[{key: dedicated, effect: NoSchedule}]"},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node", "nodeTaintsPolicy: Honor")),
       {{"node-a", S}, {"node-b", F}, {"node-x", F}, {"node-y", S}}},
      {"nodeTaintsPolicy Honor: a tolerated taint counts",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}},
         "[{key: dedicated, effect: NoExecute}]"},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node", "nodeTaintsPolicy: Honor")).Spec(
           "tolerations: [{key: dedicated, operator: Exists}]"),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"nodeTaintsPolicy Honor: PreferNoSchedule taints do not exclude",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"zone", "zone1"}, {"node", "node-b"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}},
         "[{key: dedicated, effect: PreferNoSchedule}]"},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node", "nodeTaintsPolicy: Honor")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"minDomains equal to the domains: the minimum is the real one",
       FourNodes(),
       Concat({FooPods("node-a", 1), FooPods("node-b", 1), FooPods("node-x", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone", "minDomains: 2")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"minDomains above the domains: the minimum is 0",
       FourNodes(),
       Concat({FooPods("node-a", 1), FooPods("node-b", 1), FooPods("node-x", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone", "minDomains: 3")),
       {{"node-a", S}, {"node-b", S}, {"node-x", S}, {"node-y", S}}},
      {"minDomains above the domains, maxSkew 2",
       FourNodes(),
       Concat({FooPods("node-a", 1), FooPods("node-b", 1), FooPods("node-x", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(2, "zone", "minDomains: 3")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"minDomains counts only eligible domains (nodeSelector)",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}, {"disk", "ssd"}}},
        {"node-b", {{"zone", "zone2"}, {"node", "node-b"}, {"disk", "ssd"}}},
        {"node-x", {{"zone", "zone3"}, {"node", "node-x"}}}},
       Concat({FooPods("node-a", 1), FooPods("node-b", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone", "minDomains: 3")).Spec(
           "nodeSelector: {disk: ssd}"),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}}},
      {"zone and node: [3/3, 2/1/0/3] only node-x",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone") + ", " + Hard(1, "node")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", S}}},
      {"zone and node: [3/4, 2/1/0/4] no node",
       FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 4)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone") + ", " + Hard(1, "node")),
       {{"node-a", S}, {"node-b", S}, {"node-x", S}, {"node-y", S}}},
      {"zone and node, node-b lacks node: its pods count nowhere",
       {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}}},
        {"node-b", {{"zone", "zone1"}}},
        {"node-x", {{"zone", "zone2"}, {"node", "node-x"}}},
        {"node-y", {{"zone", "zone2"}, {"node", "node-y"}}}},
       Concat({FooPods("node-b", 2), FooPods("node-x", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone") + ", " + Hard(1, "node")),
       {{"node-a", F}, {"node-b", M}, {"node-x", S}, {"node-y", S}}},
      {"two constraints on one key are checked apart",
       FourNodes(),
       {PodYaml("a1").Labels("foo: '', bar: ''").On("node-a"),
        PodYaml("x1").Labels("foo: ''").On("node-x")},
       PodYaml("p").Labels("foo: '', bar: ''").Spread(
           Hard(1, "zone") + ", " +
           Spread(1, "zone", "DoNotSchedule",
                  "{matchExpressions: [{key: bar, operator: Exists}]}")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"matchLabelKeys: only pods with the pod's version count",
       FourNodes(),
       {PodYaml("a1").Labels("foo: '', version: v1").On("node-a"),
        PodYaml("b1").Labels("foo: '', version: v1").On("node-b"),
        PodYaml("x1").Labels("foo: '', version: v2").On("node-x")},
       PodYaml("p").Labels("foo: '', version: v2").Spread(
           Spread(1, "zone", "DoNotSchedule", kFooSel, "matchLabelKeys: [version]")),
       {{"node-a", F}, {"node-b", F}, {"node-x", S}, {"node-y", S}}},
      {"without matchLabelKeys every version counts",
       FourNodes(),
       {PodYaml("a1").Labels("foo: '', version: v1").On("node-a"),
        PodYaml("b1").Labels("foo: '', version: v1").On("node-b"),
        PodYaml("x1").Labels("foo: '', version: v2").On("node-x")},
       PodYaml("p").Labels("foo: '', version: v2").Spread(Hard(1, "zone")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"a nil labelSelector selects nothing, not even the pod",
       FourNodes(),
       FooPods("node-a", 3),
       PodYaml("p").Labels("foo: ''").Spread(Spread(1, "zone", "DoNotSchedule", "")),
       {{"node-a", F}, {"node-b", F}, {"node-x", F}, {"node-y", F}}},
      {"an empty labelSelector selects every pod of the namespace",
       FourNodes(),
       {PodYaml("a1").On("node-a"), PodYaml("a2").Labels("x: y").On("node-a"),
        PodYaml("x1").On("node-x").Ns("other")},
       PodYaml("p").Spread(Spread(1, "zone", "DoNotSchedule", "{}")),
       {{"node-a", S}, {"node-b", S}, {"node-x", F}, {"node-y", F}}},
      {"an empty label value is a domain of its own",
       {{"node-a", {{"rack", ""}}}, {"node-b", {{"rack", "r1"}}}, {"node-x", {{"rack", "r1"}}}},
       Concat({FooPods("node-b", 1), FooPods("node-x", 1)}),
       PodYaml("p").Labels("foo: ''").Spread(Hard(1, "rack")),
       {{"node-a", F}, {"node-b", S}, {"node-x", S}}},
  };
  for (const FilterCase& c : cases) {
    SCOPED_TRACE(c.name);
    World w;
    for (const NodeSpec& n : c.nodes) w.AddNode(n);
    for (const PodYaml& p : c.existing) w.AddPod(p);
    model::PodPtr pod = w.Pod(c.pod);
    ASSERT_NE(pod, nullptr);
    PodTopologySpreadFilter plugin(ListArgs(), w.names);
    CycleState state = w.NewCycle();
    Status pre = plugin.PreFilter(state, *pod, w.snapshot.nodes());
    ASSERT_TRUE(pre.ok()) << pre.Message();
    // The reference, checked on the same hand-worked answers.
    const upstream::FilterResult ref =
        upstream::PodTopologySpreadFilter(ListArgs(), w.api, World::DecodePod(c.pod.Yaml()));
    ASSERT_FALSE(ref.skip);
    for (const auto& [node, want] : c.want) {
      ExpectVerdict(plugin.Filter(state, *pod, w.Info(node)), want, node);
      EXPECT_EQ(ref.nodes.at(node), UpstreamVerdict(want)) << node << " (reference)";
    }
    ExpectRowsAgree(plugin, state, *pod, w.snapshot);
  }
}

TEST(PodTopologySpreadFilterTest, SkipsWithoutDoNotScheduleConstraints) {
  World w;
  for (const NodeSpec& n : FourNodes()) w.AddNode(n);
  PodTopologySpreadFilter plugin(ListArgs(), w.names);
  CycleState state = w.NewCycle();
  model::PodPtr none = w.Pod(PodYaml("p").Labels("foo: ''"));
  EXPECT_TRUE(plugin.PreFilter(state, *none, w.snapshot.nodes()).IsSkip());
  model::PodPtr soft = w.Pod(PodYaml("q").Labels("foo: ''").Spread(
      Spread(1, "zone", "ScheduleAnyway")));
  EXPECT_TRUE(plugin.PreFilter(state, *soft, w.snapshot.nodes()).IsSkip());
  // Filter without PreFilter state is an error, as upstream.
  EXPECT_EQ(plugin.Filter(state, *soft, w.Info("node-a")).code(), Code::kError);
  EXPECT_FALSE(plugin.FiltersRows(state, *soft));
}

TEST(PodTopologySpreadFilterTest, ErrorWithoutSnapshot) {
  World w;
  PodTopologySpreadFilter plugin(ListArgs(), w.names);
  model::PodPtr pod = w.Pod(PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone")));
  CycleState state;
  EXPECT_EQ(plugin.PreFilter(state, *pod, {}).code(), Code::kError);
}

config::PodTopologySpreadArgs ArgsFromYaml(const std::string& yaml) {
  config::PodTopologySpreadArgs args;
  absl::Status s = api::DecodeInto(yaml, &args, "args");
  EXPECT_TRUE(s.ok()) << s;
  return args;
}

TEST(PodTopologySpreadFilterTest, DefaultConstraintsUseTheControllersSelector) {
  const config::PodTopologySpreadArgs args = ArgsFromYaml(
      "defaultingType: List\n"
      "defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]");
  World w;
  for (const NodeSpec& n : FourNodes()) w.AddNode(n);
  // Two pods of ReplicaSet web in zone1, one of another app in zone2.
  w.AddPod(PodYaml("web-1").Labels("app: web, pod-template-hash: h1").Owner("ReplicaSet", "web")
               .On("node-a"));
  w.AddPod(PodYaml("web-2").Labels("app: web, pod-template-hash: h1").Owner("ReplicaSet", "web")
               .On("node-b"));
  w.AddPod(PodYaml("db-1").Labels("app: db").Owner("ReplicaSet", "db").On("node-x"));
  PodTopologySpreadFilter plugin(args, w.names);

  model::PodPtr web = w.Pod(
      PodYaml("web-3").Labels("app: web, pod-template-hash: h1").Owner("ReplicaSet", "web"));
  CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *web, w.snapshot.nodes()).ok());
  ExpectVerdict(plugin.Filter(state, *web, w.Info("node-a")), Verdict::kSkew, "node-a");
  ExpectVerdict(plugin.Filter(state, *web, w.Info("node-x")), Verdict::kFits, "node-x");

  // Pods of a StatefulSet differ in their pod-name label; it is left out.
  w.AddPod(PodYaml("db-0").On("node-a").Owner("StatefulSet", "db").Labels(
      "app: ss, statefulset.kubernetes.io/pod-name: db-0, apps.kubernetes.io/pod-index: '0', "
      "controller-revision-hash: r1"));
  w.AddPod(PodYaml("db-1b").On("node-b").Owner("StatefulSet", "db").Labels(
      "app: ss, statefulset.kubernetes.io/pod-name: db-1, apps.kubernetes.io/pod-index: '1', "
      "controller-revision-hash: r0"));
  model::PodPtr ss = w.Pod(PodYaml("db-2").Owner("StatefulSet", "db").Labels(
      "app: ss, statefulset.kubernetes.io/pod-name: db-2, apps.kubernetes.io/pod-index: '2', "
      "controller-revision-hash: r1"));
  state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *ss, w.snapshot.nodes()).ok());
  ExpectVerdict(plugin.Filter(state, *ss, w.Info("node-a")), Verdict::kSkew, "node-a");
  ExpectVerdict(plugin.Filter(state, *ss, w.Info("node-y")), Verdict::kFits, "node-y");

  // No controller (or one of another kind): nothing to spread.
  model::PodPtr bare = w.Pod(PodYaml("bare").Labels("app: web"));
  EXPECT_TRUE(plugin.PreFilter(state, *bare, w.snapshot.nodes()).IsSkip());
  model::PodPtr job = w.Pod(PodYaml("job").Labels("app: web").Owner("Job", "j"));
  EXPECT_TRUE(plugin.PreFilter(state, *job, w.snapshot.nodes()).IsSkip());
  // A pod with constraints of its own (even soft ones) gets no defaults.
  model::PodPtr own = w.Pod(PodYaml("own").Labels("app: web, pod-template-hash: h1")
                                .Owner("ReplicaSet", "web")
                                .Spread(Spread(1, "zone", "ScheduleAnyway")));
  EXPECT_TRUE(plugin.PreFilter(state, *own, w.snapshot.nodes()).IsSkip());
}

TEST(PodTopologySpreadFilterTest, SystemDefaultingHasNoHardConstraints) {
  config::PodTopologySpreadArgs args;
  args.set_defaultingtype("System");
  World w;
  for (const NodeSpec& n : FourNodes()) w.AddNode(n);
  PodTopologySpreadFilter plugin(args, w.names);
  EXPECT_TRUE(plugin.system_defaulted());
  model::PodPtr web = w.Pod(PodYaml("web").Labels("app: web").Owner("ReplicaSet", "web"));
  CycleState state = w.NewCycle();
  EXPECT_TRUE(plugin.PreFilter(state, *web, w.snapshot.nodes()).IsSkip());
  const auto soft = plugin.Constraints(*web, model::UnsatisfiableAction::kScheduleAnyway);
  ASSERT_EQ(soft.size(), 2u);
  EXPECT_EQ(w.names.Name(soft[0].topology_key), PodTopologySpreadFilter::kLabelHostname);
  EXPECT_EQ(soft[0].max_skew, 3);
  EXPECT_EQ(w.names.Name(soft[1].topology_key), PodTopologySpreadFilter::kLabelTopologyZone);
  EXPECT_EQ(soft[1].max_skew, 5);
}

// Preemption: AddPod/RemovePod change the copy they are given, and Filter
// and FilterRows read the change.
TEST(PodTopologySpreadFilterTest, AddPodAndRemovePod) {
  World w;
  for (const NodeSpec& n : FourNodes()) w.AddNode(n);
  w.AddPod(PodYaml("a1").Labels("foo: ''").On("node-a"));
  w.AddPod(PodYaml("b1").Labels("foo: ''").On("node-b"));
  w.AddPod(PodYaml("x1").Labels("foo: ''").On("node-x"));
  PodTopologySpreadFilter plugin(ListArgs(), w.names);
  model::PodPtr pod = w.Pod(PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")).Spec(
      "nodeSelector: {node: node-a}").Spec("tolerations: []"));
  model::PodPtr free_pod = w.Pod(PodYaml("p").Labels("foo: ''").Spread(Hard(1, "node")));
  CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *free_pod, w.snapshot.nodes()).ok());
  auto fits = [&](const CycleState& s, const std::string& node) {
    return plugin.Filter(s, *free_pod, w.Info(node)).ok();
  };
  // 1/1/1/0: only node-y.
  EXPECT_FALSE(fits(state, "node-a"));
  EXPECT_TRUE(fits(state, "node-y"));

  {  // Removing a1 makes node-a fit; the original state is untouched.
    CycleState copy = state.Clone();
    model::PodPtr a1 = w.cache.GetPod("default/a1");
    ASSERT_TRUE(plugin.RemovePod(copy, *free_pod, *a1, w.Info("node-a")).ok());
    EXPECT_TRUE(fits(copy, "node-a"));
    EXPECT_FALSE(fits(copy, "node-b"));
    EXPECT_TRUE(fits(copy, "node-y"));
    EXPECT_FALSE(fits(state, "node-a"));
    ExpectRowsAgree(plugin, copy, *free_pod, w.snapshot);
    ExpectRowsAgree(plugin, state, *free_pod, w.snapshot);
  }
  {  // Adding a pod on node-y raises the minimum to 1: every node fits.
    CycleState copy = state.Clone();
    model::PodPtr y1 = w.Pod(PodYaml("y1").Labels("foo: ''").On("node-y"));
    ASSERT_TRUE(plugin.AddPod(copy, *free_pod, y1, w.Info("node-y")).ok());
    for (const char* n : {"node-a", "node-b", "node-x", "node-y"}) EXPECT_TRUE(fits(copy, n)) << n;
    ExpectRowsAgree(plugin, copy, *free_pod, w.snapshot);
    // Adding a second one on node-y: node-y fails again, the others fit.
    ASSERT_TRUE(plugin.AddPod(copy, *free_pod, y1, w.Info("node-y")).ok());
    EXPECT_FALSE(fits(copy, "node-y"));
    EXPECT_TRUE(fits(copy, "node-x"));
    ExpectRowsAgree(plugin, copy, *free_pod, w.snapshot);
  }
  {  // Pods of another namespace, or that the selector does not match, change nothing.
    CycleState copy = state.Clone();
    model::PodPtr other_ns = w.Pod(PodYaml("o").Labels("foo: ''").Ns("other").On("node-y"));
    model::PodPtr unmatched = w.Pod(PodYaml("u").Labels("bar: ''").On("node-y"));
    ASSERT_TRUE(plugin.AddPod(copy, *free_pod, other_ns, w.Info("node-y")).ok());
    ASSERT_TRUE(plugin.AddPod(copy, *free_pod, unmatched, w.Info("node-y")).ok());
    EXPECT_TRUE(fits(copy, "node-y"));
    EXPECT_FALSE(fits(copy, "node-x"));
  }
  {  // A node the pod's nodeSelector excludes (Honor) changes nothing.
    CycleState s2 = w.NewCycle();
    ASSERT_TRUE(plugin.PreFilter(s2, *pod, w.snapshot.nodes()).ok());
    // Only node-a is eligible (1 pod): the minimum is 1, node-a fits.
    EXPECT_TRUE(plugin.Filter(s2, *pod, w.Info("node-a")).ok());
    model::PodPtr y1 = w.Pod(PodYaml("y1").Labels("foo: ''").On("node-y"));
    model::PodPtr a2 = w.Pod(PodYaml("a2").Labels("foo: ''").On("node-a"));
    CycleState copy = s2.Clone();
    ASSERT_TRUE(plugin.AddPod(copy, *pod, y1, w.Info("node-y")).ok());
    ASSERT_TRUE(plugin.AddPod(copy, *pod, a2, w.Info("node-a")).ok());
    // node-a (2 pods) is still the only eligible domain: 2 + 1 - 2 fits.
    // Had node-y counted, the minimum would be 1 and node-a would not fit.
    EXPECT_TRUE(plugin.Filter(copy, *pod, w.Info("node-a")).ok());
  }
  // Without PreFilter state AddPod is an error.
  CycleState empty;
  EXPECT_EQ(plugin.AddPod(empty, *free_pod, free_pod, w.Info("node-a")).code(), Code::kError);
}

// AddPod on a node outside the snapshot brings a new eligible domain, which
// counts towards minDomains.
TEST(PodTopologySpreadFilterTest, AddPodOnANewDomainCountsForMinDomains) {
  World w;
  w.AddNode({"node-a", {{"zone", "zone1"}}});
  w.AddNode({"node-x", {{"zone", "zone2"}}});
  w.AddPod(PodYaml("a1").Labels("foo: ''").On("node-a"));
  w.AddPod(PodYaml("x1").Labels("foo: ''").On("node-x"));
  PodTopologySpreadFilter plugin(ListArgs(), w.names);
  model::PodPtr pod =
      w.Pod(PodYaml("p").Labels("foo: ''").Spread(Hard(1, "zone", "minDomains: 3")));
  CycleState state = w.NewCycle();
  ASSERT_TRUE(plugin.PreFilter(state, *pod, w.snapshot.nodes()).ok());
  // Two domains < minDomains 3: the minimum is 0 and 1 + 1 > 1.
  EXPECT_FALSE(plugin.Filter(state, *pod, w.Info("node-a")).ok());

  ::k8s::io::api::core::v1::Node api;
  ASSERT_TRUE(api::DecodeInto("metadata: {name: node-z, labels: {zone: zone3}}", &api, "n").ok());
  auto node = model::CompileNode(api, w.names);
  ASSERT_TRUE(node.ok());
  NodeInfo outside(*node);
  model::PodPtr z1 = w.Pod(PodYaml("z1").Labels("foo: ''").On("node-z"));
  ASSERT_TRUE(plugin.AddPod(state, *pod, z1, outside).ok());
  ASSERT_TRUE(plugin.AddPod(state, *pod, z1, outside).ok());
  // Three domains (1, 1, 2 pods): the minimum is 1.
  EXPECT_TRUE(plugin.Filter(state, *pod, w.Info("node-a")).ok());
  EXPECT_FALSE(plugin.Filter(state, *pod, outside).ok());
  ExpectRowsAgree(plugin, state, *pod, w.snapshot);
}

// ---- Random clusters against the upstream reference ----------------------

// The reference (predicates/testing/upstream.h) reads the API objects the
// world decoded and shares no code with the plugin: not its Constraints(),
// NodeInclusion or selectors, not the compiler, not the index.

const std::vector<std::string> kSelectors = {
    "{matchExpressions: [{key: foo, operator: Exists}]}",
    "{matchLabels: {foo: a}}",
    "{matchExpressions: [{key: bar, operator: NotIn, values: ['1']}]}",
    "{matchExpressions: [{key: bar, operator: DoesNotExist}]}",
    "{matchExpressions: [{key: foo, operator: In, values: [a, b]}], matchLabels: {bar: '2'}}",
    "{}",
    "",  // nil
};

// Generates clusters, pods and constraints from one seed.
class RandomSpread {
 public:
  explicit RandomSpread(uint32_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % n); }

  void AddNodes(World& w, int n) {
    for (int i = 0; i < n; ++i) {
      NodeSpec node{absl::StrCat("n", i), {}};
      if (Pick(10) != 0) node.labels.push_back({"zone", absl::StrCat("z", Pick(3))});
      if (Pick(20) != 0) node.labels.push_back({"node", node.name});
      const int rack = Pick(7);
      if (rack < 5) node.labels.push_back({"rack", rack == 4 ? "" : absl::StrCat("r", rack)});
      if (Pick(2) == 0) node.labels.push_back({"disk", "ssd"});
      switch (Pick(8)) {
        case 0:
          node.taints = "[{key: dedicated, value: x, effect: NoSchedule}]";
          break;
        case 1:
          node.taints = "[{key: gpu, effect: NoExecute}]";
          break;
        case 2:
          node.taints = "[{key: soft, effect: PreferNoSchedule}]";
          break;
      }
      w.AddNode(node);
    }
  }

  // An existing pod on node `node`: labels from a small alphabet, sometimes
  // another namespace, a ReplicaSet's, or terminating.
  PodYaml Existing(const std::string& name, const std::string& node, bool may_terminate) {
    PodYaml p(name);
    std::string labels;
    if (Pick(3) != 0) absl::StrAppend(&labels, "foo: ", Pick(2) ? "a" : "b", ", ");
    if (Pick(2) != 0) absl::StrAppend(&labels, "bar: '", 1 + Pick(2), "', ");
    if (Pick(2) != 0) absl::StrAppend(&labels, "version: v", 1 + Pick(2), ", ");
    if (Pick(3) == 0) absl::StrAppend(&labels, "controller-revision-hash: h", Pick(2), ", ");
    p.Labels(labels).On(node);
    if (Pick(4) == 0) p.Ns("other");
    if (Pick(3) == 0) p.Owner("ReplicaSet", "web");
    if (may_terminate && Pick(10) == 0) p.Terminating();
    return p;
  }

  std::string Constraint() {
    std::string extra;
    if (Pick(3) == 0) absl::StrAppend(&extra, "minDomains: ", 1 + Pick(5), ", ");
    switch (Pick(4)) {
      case 0:
        absl::StrAppend(&extra, "nodeAffinityPolicy: Ignore, ");
        break;
      case 1:
        absl::StrAppend(&extra, "nodeAffinityPolicy: Honor, ");
        break;
    }
    switch (Pick(4)) {
      case 0:
        absl::StrAppend(&extra, "nodeTaintsPolicy: Honor, ");
        break;
      case 1:
        absl::StrAppend(&extra, "nodeTaintsPolicy: Ignore, ");
        break;
    }
    const std::string selector = kSelectors[Pick(kSelectors.size())];
    // The API wants a labelSelector with matchLabelKeys.
    if (!selector.empty() && Pick(4) == 0) absl::StrAppend(&extra, "matchLabelKeys: [version], ");
    if (!extra.empty()) extra.resize(extra.size() - 2);
    const char* keys[] = {"zone", "node", "rack"};
    return Spread(1 + Pick(3), keys[Pick(3)], "DoNotSchedule", selector, extra);
  }

  // The incoming pod: its own constraints, or none (the defaults apply to a
  // ReplicaSet's pod); node constraints and tolerations at random.
  PodYaml Incoming(const std::string& name) {
    PodYaml p(name);
    std::string labels = Pick(2) ? "foo: a, bar: '1'" : "foo: b";
    if (Pick(2) == 0) labels += ", version: v2";
    p.Labels(labels);
    if (Pick(4) == 0) {
      // The default constraints' selector leaves the per-pod labels out.
      if (Pick(2) == 0) labels += ", controller-revision-hash: h0";
      p.Labels(labels).Owner("ReplicaSet", "web");
    } else {
      std::vector<std::string> constraints;
      for (int k = 1 + Pick(3); k > 0; --k) constraints.push_back(Constraint());
      p.Spread(absl::StrJoin(constraints, ", "));
    }
    if (Pick(4) == 0) p.Ns("other");
    if (Pick(2) == 0) p.Spec("nodeSelector: {disk: ssd}");
    if (Pick(4) == 0) {
      p.Spec(
          "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
          "{nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: NotIn, values: "
          "[z1]}]}, {matchExpressions: [{key: rack, operator: In, values: [r0, r1]}]}]}}}");
    }
    switch (Pick(4)) {
      case 0:
        p.Spec("tolerations: [{key: dedicated, operator: Exists}]");
        break;
      case 1:
        p.Spec("tolerations: [{operator: Exists, effect: NoExecute}]");
        break;
    }
    return p;
  }

  config::PodTopologySpreadArgs Args() {
    if (Pick(2) == 0) return ListArgs();
    return ArgsFromYaml(
        "defaultingType: List\n"
        "defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule},"
        " {maxSkew: 2, topologyKey: rack, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: "
        "Honor}]");
  }

 private:
  std::mt19937 rng_;
};

// Filter on every node equals the reference's verdict, and the rows agree.
void ExpectMatchesReference(const PodTopologySpreadFilter& plugin,
                            const config::PodTopologySpreadArgs& args, const World& w,
                            const upstream::Cluster& cluster, const CycleState& state,
                            const model::Pod& pod, const ::k8s::io::api::core::v1::Pod& api_pod,
                            int* checked) {
  const upstream::FilterResult want = upstream::PodTopologySpreadFilter(args, cluster, api_pod);
  ASSERT_FALSE(want.skip);
  for (const NodeInfo* info : w.snapshot.nodes()) {
    const std::string& name = info->node()->name;
    EXPECT_EQ(testing::VerdictOf(plugin.Filter(state, pod, *info)), want.nodes.at(name)) << name;
    ++*checked;
  }
  ExpectRowsAgree(plugin, state, pod, w.snapshot);
}

// Random clusters, pods and constraints: PreFilter + Filter against the
// reference. Then preemption's view, as upstream's preemption produces it
// (each candidate node on its own copy of the state): RemovePod of some of
// one node's pods and AddPod of new ones there, checked against the
// reference on the resulting set of pods. Terminating pods are left out of
// RemovePod: upstream's updateWithPod does not skip them although PreFilter
// never counted them, so no set of pods would explain the result.
TEST(PodTopologySpreadFilterTest, RandomClustersAgreeWithUpstreamReference) {
  int checked = 0, skipped = 0, failing = 0, preemption = 0, changed = 0;
  for (uint32_t round = 0; round < 40; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    RandomSpread gen(20240601 + round);
    World w;
    const int num_nodes = 5 + gen.Pick(30);
    gen.AddNodes(w, num_nodes);
    const int num_pods = gen.Pick(4 * num_nodes);
    for (int i = 0; i < num_pods; ++i) {
      w.AddPod(gen.Existing(absl::StrCat("e", i), absl::StrCat("n", gen.Pick(num_nodes)), true));
    }
    const config::PodTopologySpreadArgs args = gen.Args();
    PodTopologySpreadFilter plugin(args, w.names);
    CycleState state = w.NewCycle();
    for (int trial = 0; trial < 5; ++trial) {
      const PodYaml p = gen.Incoming(absl::StrCat("in", trial));
      SCOPED_TRACE(p.Yaml());
      const auto api_pod = World::DecodePod(p.Yaml());
      model::PodPtr pod = w.Compile(api_pod);
      ASSERT_NE(pod, nullptr);
      const Status pre = plugin.PreFilter(state, *pod, w.snapshot.nodes());
      ASSERT_EQ(pre.IsSkip(), upstream::PodTopologySpreadFilter(args, w.api, api_pod).skip)
          << pre.Message();
      if (pre.IsSkip()) {
        ++skipped;
        continue;
      }
      ASSERT_TRUE(pre.ok()) << pre.Message();
      ExpectMatchesReference(plugin, args, w, w.api, state, *pod, api_pod, &checked);
      for (const NodeInfo* info : w.snapshot.nodes()) {
        failing += !plugin.Filter(state, *pod, *info).ok();
      }

      // Preemption: three candidate nodes, each on its own copy of the
      // state, lose some pods and gain others.
      for (int candidate = 0; candidate < 3; ++candidate) {
        CycleState copy = state.Clone();
        upstream::Cluster after = w.api;
        const NodeInfo& node = *w.snapshot.nodes()[gen.Pick(num_nodes)];
        for (const model::PodPtr& victim : node.pods()) {
          if (victim->terminating || gen.Pick(4) == 0) continue;
          ASSERT_TRUE(plugin.RemovePod(copy, *pod, *victim, node).ok());
          after.pods.erase(std::find_if(after.pods.begin(), after.pods.end(), [&](const auto& a) {
            return a.metadata().name() == victim->name;
          }));
        }
        for (int i = gen.Pick(6); i > 0; --i) {
          const auto added = World::DecodePod(
              gen.Existing(absl::StrCat("add", trial, "-", i), node.node()->name, false).Yaml());
          ASSERT_TRUE(plugin.AddPod(copy, *pod, w.Compile(added), node).ok());
          after.pods.push_back(added);
        }
        ExpectMatchesReference(plugin, args, w, after, copy, *pod, api_pod, &preemption);
        for (const NodeInfo* info : w.snapshot.nodes()) {
          changed +=
              plugin.Filter(copy, *pod, *info).ok() != plugin.Filter(state, *pod, *info).ok();
        }
      }
    }
  }
  // The generator reaches every outcome often enough to mean something.
  EXPECT_GT(checked, 1000);
  EXPECT_GT(preemption, 3000);
  EXPECT_GT(failing, 200);
  EXPECT_GT(skipped, 10);
  EXPECT_GT(changed, 100);  // AddPod/RemovePod turned verdicts
}

}  // namespace
}  // namespace kestrel::predicates
