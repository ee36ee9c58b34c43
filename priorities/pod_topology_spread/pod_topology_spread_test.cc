#include "priorities/pod_topology_spread/pod_topology_spread.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
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

namespace kestrel::priorities {
namespace {

using framework::CycleState;
using framework::NodeInfo;
using framework::NodeScore;
using framework::Status;
constexpr const char* kLabelHostname = PodTopologySpread::kLabelHostname;
constexpr const char* kLabelTopologyZone = PodTopologySpread::kLabelTopologyZone;

using LabelList = std::vector<std::pair<std::string, std::string>>;
namespace upstream = testing::upstream;

// A pod as YAML: metadata fields and spec fields in flow style.
struct PodYaml {
  std::string name;
  std::string labels;         // "app: web, foo: ''"
  std::string node;           // spec.nodeName
  std::string spec;           // more spec fields
  std::string ns = "default";
  bool terminating = false;
  std::string owner_kind;     // a controller owner reference when set

  std::string Yaml() const {
    std::string owner;
    if (!owner_kind.empty()) {
      owner = absl::StrCat("ownerReferences: [{apiVersion: apps/v1, kind: ", owner_kind,
                           ", name: owner, uid: u1, controller: true}], ");
    }
    std::vector<std::string> fields;
    if (!node.empty()) fields.push_back(absl::StrCat("nodeName: ", node));
    if (!spec.empty()) fields.push_back(spec);
    return absl::StrCat("metadata: {name: ", name, ", namespace: ", ns, ", uid: ", ns, "-", name,
                        ", ", owner, "labels: {", labels, "}",
                        terminating ? ", deletionTimestamp: '2024-01-01T00:00:00Z'" : "",
                        "}\nspec: {", absl::StrJoin(fields, ", "), "}");
  }
};

PodYaml Existing(std::string name, std::string node, std::string labels = "foo: ''") {
  PodYaml p;
  p.name = std::move(name);
  p.node = std::move(node);
  p.labels = std::move(labels);
  return p;
}

// `n` pods labelled foo on `node`.
std::vector<PodYaml> FooPods(const std::string& node, int n) {
  std::vector<PodYaml> out;
  for (int i = 0; i < n; ++i) out.push_back(Existing(absl::StrCat(node, "-", i), node));
  return out;
}

std::vector<PodYaml> Concat(std::vector<std::vector<PodYaml>> lists) {
  std::vector<PodYaml> out;
  for (auto& l : lists) out.insert(out.end(), l.begin(), l.end());
  return out;
}

// One ScheduleAnyway constraint selecting foo, in flow style.
std::string SoftItem(int max_skew, const std::string& key, const std::string& extra = "") {
  return absl::StrCat("{maxSkew: ", max_skew, ", topologyKey: ", key,
                      ", whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchExpressions: "
                      "[{key: foo, operator: Exists}]}",
                      extra.empty() ? "" : ", ", extra, "}");
}
std::string Soft(int max_skew, const std::string& key, const std::string& extra = "") {
  return absl::StrCat("topologySpreadConstraints: [", SoftItem(max_skew, key, extra), "]");
}

struct NodeSpec {
  std::string name;
  LabelList labels;
  std::string taints = "";
};

class World : public testing::ClusterWorld {
 public:
  using ClusterWorld::AddNode;
  using ClusterWorld::AddPod;
  using ClusterWorld::Pod;
  void AddNode(const NodeSpec& spec) { AddNode(spec.name, spec.labels, spec.taints); }
  model::PodPtr Pod(const PodYaml& pod) { return Pod(pod.Yaml()); }
  void AddPod(const PodYaml& pod) { ASSERT_NE(AddPod(pod.Yaml()), nullptr); }

  // The NodeInfos and snapshot rows of `names`, in that order.
  void Feasible(const std::vector<std::string>& node_names,
                std::vector<const NodeInfo*>* infos, std::vector<uint32_t>* rows) const {
    for (const std::string& n : node_names) {
      for (uint32_t r = 0; r < snapshot.num_nodes(); ++r) {
        if (snapshot.nodes()[r]->node()->name == n) {
          infos->push_back(snapshot.nodes()[r]);
          rows->push_back(r);
        }
      }
    }
  }
};

config::PodTopologySpreadArgs Args(const std::string& yaml) {
  config::PodTopologySpreadArgs args;
  absl::Status s = api::DecodeInto(yaml, &args, "args");
  EXPECT_TRUE(s.ok()) << s;
  return args;
}

std::vector<NodeSpec> FourNodes() {
  return {{"node-a", {{"zone", "zone1"}, {"node", "node-a"}, {kLabelHostname, "node-a"}}},
          {"node-b", {{"zone", "zone1"}, {"node", "node-b"}, {kLabelHostname, "node-b"}}},
          {"node-x", {{"zone", "zone2"}, {"node", "node-x"}, {kLabelHostname, "node-x"}}},
          {"node-y", {{"zone", "zone2"}, {"node", "node-y"}, {kLabelHostname, "node-y"}}}};
}

// Raw scores by Score and ScoreRows (which must agree), then normalized.
struct Scored {
  std::map<std::string, int64_t> raw;
  std::map<std::string, int64_t> normalized;
};

Scored ScoreAll(PodTopologySpread& plugin, World& w, CycleState& state, const model::Pod& pod,
                const std::vector<std::string>& feasible) {
  Scored out;
  std::vector<const NodeInfo*> infos;
  std::vector<uint32_t> rows;
  w.Feasible(feasible, &infos, &rows);
  EXPECT_TRUE(plugin.ScoresRows(state, pod));
  std::vector<int64_t> by_rows(rows.size(), -7);
  plugin.ScoreRows(state, pod, w.snapshot.table(), rows, by_rows.data());
  std::vector<NodeScore> scores;
  for (size_t i = 0; i < infos.size(); ++i) {
    absl::StatusOr<int64_t> s = plugin.Score(state, pod, *infos[i]);
    EXPECT_TRUE(s.ok()) << s.status();
    const std::string& name = infos[i]->node()->name;
    EXPECT_EQ(*s, by_rows[i]) << name;
    out.raw[name] = *s;
    scores.push_back({infos[i], *s});
  }
  Status n = plugin.NormalizeScore(state, pod, absl::MakeSpan(scores));
  EXPECT_TRUE(n.ok()) << n.Message();
  for (const NodeScore& s : scores) out.normalized[s.node->node()->name] = s.score;
  return out;
}

struct ScoreCase {
  std::string name;
  std::string args;  // YAML
  std::vector<NodeSpec> nodes;
  std::vector<PodYaml> existing;
  PodYaml pod;
  std::vector<std::string> feasible;
  std::map<std::string, int64_t> want_raw;
  std::map<std::string, int64_t> want;
};

PodYaml Incoming(std::string spec, std::string labels = "foo: ''") {
  PodYaml p;
  p.name = "p";
  p.labels = std::move(labels);
  p.spec = std::move(spec);
  return p;
}

TEST(PodTopologySpreadScoreTest, Table) {
  const std::string list = "defaultingType: List";
  const std::vector<std::string> all4 = {"node-a", "node-b", "node-x", "node-y"};
  const std::vector<PodYaml> spread_2103 =
      Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-y", 3)});
  PodYaml web_pod;
  web_pod.name = "web";
  web_pod.labels = "app: web";
  web_pod.owner_kind = "ReplicaSet";
  auto web = [](std::string name, std::string node) {
    PodYaml p = Existing(std::move(name), std::move(node), "app: web");
    p.owner_kind = "ReplicaSet";
    return p;
  };
  std::vector<NodeSpec> sys_nodes = {
      {"n1", {{kLabelHostname, "n1"}, {kLabelTopologyZone, "z1"}}},
      {"n2", {{kLabelHostname, "n2"}, {kLabelTopologyZone, "z1"}}},
      {"n3", {{kLabelHostname, "n3"}}}};
  std::vector<NodeSpec> sys_nodes_empty_zone = sys_nodes;
  sys_nodes_empty_zone.push_back({"n4", {{kLabelHostname, "n4"}, {kLabelTopologyZone, ""}}});
  PodYaml terminating = Existing("t1", "node-a");
  terminating.terminating = true;
  PodYaml other_ns = Existing("o1", "node-a");
  other_ns.ns = "other";

  std::vector<ScoreCase> cases = {
      {"no existing pods: every node 100", list, FourNodes(), {},
       Incoming(Soft(1, "node")), {"node-a", "node-b"},
       {{"node-a", 0}, {"node-b", 0}}, {{"node-a", 100}, {"node-b", 100}}},
      {"one candidate", list, FourNodes(), spread_2103, Incoming(Soft(1, "node")), {"node-a"},
       {{"node-a", 2}}, {{"node-a", 100}}},
      {"nodes 2/1/0/3, all candidates", list, FourNodes(), spread_2103,
       Incoming(Soft(1, "node")), all4,
       {{"node-a", 4}, {"node-b", 2}, {"node-x", 0}, {"node-y", 5}},
       {{"node-a", 20}, {"node-b", 60}, {"node-x", 100}, {"node-y", 0}}},
      {"nodes 2/1/0/3 by kubernetes.io/hostname (counted in Score)", list, FourNodes(),
       spread_2103, Incoming(Soft(1, kLabelHostname)), all4,
       {{"node-a", 4}, {"node-b", 2}, {"node-x", 0}, {"node-y", 5}},
       {{"node-a", 20}, {"node-b", 60}, {"node-x", 100}, {"node-y", 0}}},
      {"nodes 2/1/0/3, two candidates: the weight is log(2 + 2)", list, FourNodes(), spread_2103,
       Incoming(Soft(1, "node")), {"node-a", "node-b"},
       {{"node-a", 3}, {"node-b", 1}}, {{"node-a", 33}, {"node-b", 100}}},
      {"zones 3/1", list, FourNodes(),
       Concat({FooPods("node-a", 2), FooPods("node-b", 1), FooPods("node-x", 1)}),
       Incoming(Soft(1, "zone")), all4,
       {{"node-a", 4}, {"node-b", 4}, {"node-x", 1}, {"node-y", 1}},
       {{"node-a", 25}, {"node-b", 25}, {"node-x", 100}, {"node-y", 100}}},
      {"zone and node: the sums of both", list, FourNodes(), spread_2103,
       Incoming(absl::StrCat("topologySpreadConstraints: [", SoftItem(1, "zone"), ", ",
                             SoftItem(1, "node"), "]")),
       all4, {{"node-a", 8}, {"node-b", 6}, {"node-x", 4}, {"node-y", 10}},
       {{"node-a", 60}, {"node-b", 80}, {"node-x", 100}, {"node-y", 40}}},
      {"maxSkew 3 adds 2 to every raw score", list, FourNodes(), spread_2103,
       Incoming(Soft(3, "node")), all4,
       {{"node-a", 6}, {"node-b", 4}, {"node-x", 2}, {"node-y", 7}},
       {{"node-a", 42}, {"node-b", 71}, {"node-x", 100}, {"node-y", 28}}},
      {"a node lacking the key is ignored: raw 0, normalized 0",
       list,
       {{"node-a", {{"zone", "zone1"}}},
        {"node-b", {}},
        {"node-x", {{"zone", "zone2"}}},
        {"node-y", {{"zone", "zone2"}}}},
       Concat({FooPods("node-a", 1), FooPods("node-b", 2), FooPods("node-x", 2),
               FooPods("node-y", 1)}),
       Incoming(Soft(1, "zone")), all4,
       {{"node-a", 1}, {"node-b", 0}, {"node-x", 4}, {"node-y", 4}},
       {{"node-a", 100}, {"node-b", 0}, {"node-x", 25}, {"node-y", 25}}},
      {"pods on nodes that are not candidates count", list, FourNodes(),
       Concat({FooPods("node-b", 3), FooPods("node-y", 1)}), Incoming(Soft(1, "zone")),
       {"node-a", "node-x"}, {{"node-a", 4}, {"node-x", 1}},
       {{"node-a", 25}, {"node-x", 100}}},
      {"only the candidates' domains make the weight",
       list,
       {{"node-a", {{"zone", "zone1"}}}, {"node-x", {{"zone", "zone2"}}},
        {"node-z", {{"zone", "zone3"}}}},
       Concat({FooPods("node-a", 1), FooPods("node-x", 2), FooPods("node-z", 5)}),
       Incoming(Soft(1, "zone")), {"node-a", "node-x"}, {{"node-a", 1}, {"node-x", 3}},
       {{"node-a", 100}, {"node-x", 33}}},
      {"nodeAffinityPolicy Honor: pods on excluded nodes do not count",
       list,
       {{"node-a", {{"zone", "zone1"}, {"disk", "ssd"}}},
        {"node-b", {{"zone", "zone1"}}},
        {"node-x", {{"zone", "zone2"}, {"disk", "ssd"}}}},
       Concat({FooPods("node-b", 3), FooPods("node-x", 1)}),
       Incoming(Soft(1, "zone") + ", nodeSelector: {disk: ssd}"), {"node-a", "node-x"},
       {{"node-a", 0}, {"node-x", 1}}, {{"node-a", 100}, {"node-x", 0}}},
      {"nodeAffinityPolicy Ignore: they count",
       list,
       {{"node-a", {{"zone", "zone1"}, {"disk", "ssd"}}},
        {"node-b", {{"zone", "zone1"}}},
        {"node-x", {{"zone", "zone2"}, {"disk", "ssd"}}}},
       Concat({FooPods("node-b", 3), FooPods("node-x", 1)}),
       Incoming(Soft(1, "zone", "nodeAffinityPolicy: Ignore") + ", nodeSelector: {disk: ssd}"),
       {"node-a", "node-x"}, {{"node-a", 4}, {"node-x", 1}},
       {{"node-a", 25}, {"node-x", 100}}},
      {"nodeTaintsPolicy Honor: pods on untolerated nodes do not count",
       list,
       {{"node-a", {{"zone", "zone1"}}},
        {"node-b", {{"zone", "zone1"}}, "[{key: k, effect: NoSchedule}]"},
        {"node-x", {{"zone", "zone2"}}}},
       Concat({FooPods("node-b", 3), FooPods("node-x", 1)}),
       Incoming(Soft(1, "zone", "nodeTaintsPolicy: Honor")), {"node-a", "node-x"},
       {{"node-a", 0}, {"node-x", 1}}, {{"node-a", 100}, {"node-x", 0}}},
      {"terminating pods and other namespaces do not count", list, FourNodes(),
       Concat({{terminating, other_ns}, FooPods("node-x", 1)}), Incoming(Soft(1, "zone")),
       {"node-a", "node-x"}, {{"node-a", 0}, {"node-x", 1}}, {{"node-a", 100}, {"node-x", 0}}},
      {"system defaults: hostname and zone, nodes without a zone still score", "",
       sys_nodes, {web("w1", "n1"), web("w2", "n1"), web("w3", "n3")}, web_pod,
       {"n1", "n2", "n3"}, {{"n1", 12}, {"n2", 9}, {"n3", 4}},
       {{"n1", 33}, {"n2", 58}, {"n3", 100}}},
      {"system defaults: an empty zone value shares the bucket of nodes without one", "",
       sys_nodes_empty_zone, {web("w1", "n1"), web("w2", "n1"), web("w3", "n3")}, web_pod,
       {"n1", "n2", "n3", "n4"}, {{"n1", 12}, {"n2", 9}, {"n3", 4}, {"n4", 7}},
       {{"n1", 33}, {"n2", 58}, {"n3", 100}, {"n4", 75}}},
      {"List defaults: a node without the key is ignored",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: "
       "topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}]",
       sys_nodes, {web("w1", "n1"), web("w3", "n3")}, web_pod, {"n1", "n2", "n3"},
       {{"n1", 1}, {"n2", 1}, {"n3", 0}}, {{"n1", 100}, {"n2", 100}, {"n3", 0}}},
  };
  for (const ScoreCase& c : cases) {
    SCOPED_TRACE(c.name);
    World w;
    for (const NodeSpec& n : c.nodes) w.AddNode(n);
    for (const PodYaml& p : c.existing) w.AddPod(p);
    model::PodPtr pod = w.Pod(c.pod);
    ASSERT_NE(pod, nullptr);
    auto plugin = PodTopologySpread::Create(Args(c.args), w.names);
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    CycleState state = w.NewCycle();
    std::vector<const NodeInfo*> feasible;
    std::vector<uint32_t> rows;
    w.Feasible(c.feasible, &feasible, &rows);
    Status pre = (*plugin)->PreScore(state, *pod, feasible);
    ASSERT_TRUE(pre.ok()) << pre.Message();
    Scored got = ScoreAll(**plugin, w, state, *pod, c.feasible);
    EXPECT_EQ(got.raw, c.want_raw);
    EXPECT_EQ(got.normalized, c.want);
    // The reference, checked on the same hand-worked answers.
    const upstream::ScoreResult ref = upstream::PodTopologySpreadScore(
        Args(c.args), w.api, World::DecodePod(c.pod.Yaml()), c.feasible);
    ASSERT_FALSE(ref.skip);
    EXPECT_EQ(ref.raw, c.want_raw) << "reference";
    EXPECT_EQ(ref.normalized, c.want) << "reference";
  }
}

TEST(PodTopologySpreadScoreTest, PreScoreSkips) {
  World w;
  for (const NodeSpec& n : FourNodes()) w.AddNode(n);
  auto plugin = PodTopologySpread::Create(Args(""), w.names);
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  CycleState state = w.NewCycle();
  std::vector<const NodeInfo*> feasible(w.snapshot.nodes().begin(), w.snapshot.nodes().end());
  // Only DoNotSchedule constraints.
  model::PodPtr hard = w.Pod(Incoming(
      "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "
      "DoNotSchedule, labelSelector: {}}]"));
  EXPECT_TRUE((*plugin)->PreScore(state, *hard, feasible).IsSkip());
  // No constraints and no controller: the system defaults have no selector.
  model::PodPtr bare = w.Pod(Incoming(""));
  EXPECT_TRUE((*plugin)->PreScore(state, *bare, feasible).IsSkip());
  EXPECT_FALSE((*plugin)->ScoresRows(state, *bare));
  EXPECT_EQ((*plugin)->NormalizeScore(state, *bare, {}).code(), framework::Code::kError);
  EXPECT_FALSE((*plugin)->Score(state, *bare, *feasible[0]).ok());
  // No nodes at all.
  World empty;
  auto other = PodTopologySpread::Create(Args(""), empty.names);
  ASSERT_TRUE(other.ok());
  CycleState empty_state = empty.NewCycle();
  model::PodPtr soft = empty.Pod(Incoming(Soft(1, "zone")));
  EXPECT_TRUE((*other)->PreScore(empty_state, *soft, {}).IsSkip());
  // No snapshot.
  CycleState no_snapshot;
  EXPECT_EQ((*other)->PreScore(no_snapshot, *soft, {}).code(), framework::Code::kError);
}

TEST(PodTopologySpreadScoreTest, NormalizeScore) {
  World w;
  w.AddNode({"a", {{"zone", "z1"}}});
  w.AddNode({"b", {{"zone", "z1"}}});
  w.AddNode({"c", {{"zone", "z2"}}});
  w.AddNode({"d", {}});
  auto plugin = PodTopologySpread::Create(Args("defaultingType: List"), w.names);
  ASSERT_TRUE(plugin.ok());
  model::PodPtr pod = w.Pod(Incoming(Soft(1, "zone")));
  CycleState state = w.NewCycle();
  std::vector<const NodeInfo*> all(w.snapshot.nodes().begin(), w.snapshot.nodes().end());
  ASSERT_TRUE((*plugin)->PreScore(state, *pod, all).ok());
  struct Case {
    std::vector<int64_t> raw;  // a, b, c, d (d is ignored)
    std::vector<int64_t> want;
  };
  for (const Case& c : std::vector<Case>{
           {{3, 0, 7, 5}, {57, 100, 0, 0}},  // integer division: 400 / 7
           {{0, 0, 0, 9}, {100, 100, 100, 0}},
           {{4, 4, 4, 0}, {100, 100, 100, 0}},
           {{1, 2, 3, 0}, {100, 66, 33, 0}},
       }) {
    std::vector<NodeScore> scores;
    for (size_t i = 0; i < all.size(); ++i) scores.push_back({all[i], c.raw[i]});
    ASSERT_TRUE((*plugin)->NormalizeScore(state, *pod, absl::MakeSpan(scores)).ok());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(scores[i].score, c.want[i]) << all[i]->node()->name;
    }
  }
}

uint64_t Bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

double FromBits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// GoLog against Go's own math.Log: the table tools/go_math_log printed with
// Go 1.19.8 on amd64 (every weight up to 1,024 domains, the inputs where
// glibc's log or an FMA-contracted build differ from Go, and the edges).
TEST(PodTopologySpreadScoreTest, GoLogIsGosMathLogBitForBit) {
  int weights = 0;
  for (const upstream::GoLogEntry& e : upstream::GoMathLogTable()) {
    const double x = FromBits(e.x);
    const double want = FromBits(e.log);
    SCOPED_TRACE(::testing::Message() << "x = " << x << std::hex << " (0x" << e.x << ")");
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(GoLog(x)));
      continue;
    }
    EXPECT_EQ(Bits(GoLog(x)), e.log) << std::hex << "0x" << Bits(GoLog(x)) << " want 0x" << e.log;
    // The weight of size - 2 domains is log(size).
    if (x >= 2 && x < 1e15 && x == std::floor(x)) {
      EXPECT_EQ(Bits(TopologyNormalizingWeight(static_cast<int64_t>(x) - 2)), e.log);
      ++weights;
    }
  }
  EXPECT_GT(weights, 1100);
}

struct ValidateCase {
  std::string name;
  std::string yaml;
  std::string want;  // "" for success
};

TEST(PodTopologySpreadArgsTest, DefaultsAndValidation) {
  std::vector<ValidateCase> cases = {
      {"empty: System defaulting", "", ""},
      {"List without constraints", "defaultingType: List", ""},
      {"List with constraints",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, "
       "whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: "
       "ScheduleAnyway}, {maxSkew: 2, topologyKey: example.com/Rack_1, whenUnsatisfiable: "
       "ScheduleAnyway}]",
       ""},
      {"unknown defaultingType", "defaultingType: Foo",
       "defaultingType: Unsupported value: \"Foo\": supported values: \"System\", \"List\""},
      {"System with constraints",
       "defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule}]",
       "defaultingType: Invalid value: \"System\": when .defaultConstraints are not empty"},
      {"maxSkew not positive",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 0, topologyKey: zone, "
       "whenUnsatisfiable: DoNotSchedule}]",
       "defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)"},
      {"empty topologyKey",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, whenUnsatisfiable: "
       "DoNotSchedule}]",
       "defaultConstraints[0].topologyKey: Required value: can not be empty"},
      {"topologyKey with two slashes",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: a/b/c, "
       "whenUnsatisfiable: DoNotSchedule}]",
       "defaultConstraints[0].topologyKey: Invalid value: \"a/b/c\": a qualified name must "
       "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
       "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
       "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
       "subdomain prefix and '/' (e.g. 'example.com/MyName')"},
      {"topologyKey with an empty name part",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: example.com/, "
       "whenUnsatisfiable: DoNotSchedule}]",
       "[defaultConstraints[0].topologyKey: Invalid value: \"example.com/\": name part must be "
       "non-empty, defaultConstraints[0].topologyKey: Invalid value: \"example.com/\": name "
       "part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
       "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
       "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"},
      {"topologyKey with an upper-case prefix",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: Example.com/zone, "
       "whenUnsatisfiable: DoNotSchedule}]",
       "defaultConstraints[0].topologyKey: Invalid value: \"Example.com/zone\": prefix part a "
       "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
       "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
       "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
       "[a-z0-9])?)*')"},
      {"whenUnsatisfiable missing",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone}]",
       "defaultConstraints[0].whenUnsatisfiable: Required value: can not be empty"},
      {"whenUnsatisfiable unknown",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, "
       "whenUnsatisfiable: Maybe}]",
       "defaultConstraints[0].whenUnsatisfiable: Unsupported value: \"Maybe\": supported "
       "values: \"DoNotSchedule\", \"ScheduleAnyway\""},
      {"labelSelector forbidden",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, "
       "whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {a: b}}}]",
       "defaultConstraints[0].labelSelector: Forbidden: constraint must not define a selector, "
       "as they deduced for each pod"},
      {"repeated key and action",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: 1, topologyKey: zone, "
       "whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: "
       "DoNotSchedule}]",
       "defaultConstraints[1]: Duplicate value: \"{zone, DoNotSchedule}\""},
      {"several errors",
       "defaultingType: List\ndefaultConstraints: [{maxSkew: -1, topologyKey: '', "
       "whenUnsatisfiable: DoNotSchedule}]",
       "[defaultConstraints[0].maxSkew: Invalid value: -1: not in valid range (0, inf), "
       "defaultConstraints[0].topologyKey: Required value: can not be empty]"},
  };
  for (const ValidateCase& c : cases) {
    SCOPED_TRACE(c.name);
    model::Interner names;
    auto plugin = PodTopologySpread::Create(Args(c.yaml), names);
    if (c.want.empty()) {
      EXPECT_TRUE(plugin.ok()) << plugin.status();
    } else {
      ASSERT_FALSE(plugin.ok());
      EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(plugin.status().message(), c.want);
    }
  }
  config::PodTopologySpreadArgs args;
  SetDefaults(args);
  EXPECT_EQ(args.defaultingtype(), "System");
  model::Interner names;
  auto plugin = PodTopologySpread::Create(config::PodTopologySpreadArgs(), names);
  ASSERT_TRUE(plugin.ok());
  EXPECT_TRUE((*plugin)->system_defaulted());
  EXPECT_EQ((*plugin)->Name(), "PodTopologySpread");
}

// ---- Random clusters against the upstream reference ----------------------

// The reference (predicates/testing/upstream.h) reads the API objects the
// world decoded and shares no code with the plugin: not its Constraints(),
// NodeInclusion, DefaultSelector or TopologyNormalizingWeight (it takes
// Go's own math.Log values), not the compiler, not the index.

const std::vector<std::string> kSelectors = {
    "{matchLabels: {app: web}}",
    "{}",
    "",  // nil
    "{matchExpressions: [{key: foo, operator: Exists}]}",
    "{matchExpressions: [{key: app, operator: NotIn, values: [db]}]}",
    "{matchExpressions: [{key: tier, operator: NotIn, values: [fe]}]}",  // tier is often unset
    "{matchExpressions: [{key: tier, operator: DoesNotExist}, {key: app, operator: In, "
    "values: [web, db]}]}",
};

class RandomScoring {
 public:
  explicit RandomScoring(uint32_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % n); }

  std::vector<std::string> AddNodes(World& w, int n) {
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      NodeSpec node{absl::StrCat("n", i), {}};
      if (Pick(10) != 0) node.labels.push_back({kLabelHostname, node.name});
      const int zone = Pick(6);
      if (zone < 4) {
        node.labels.push_back({kLabelTopologyZone, zone == 3 ? "" : absl::StrCat("z", zone)});
      }
      if (Pick(3) != 0) node.labels.push_back({"rack", absl::StrCat("r", Pick(4))});
      if (Pick(2) == 0) node.labels.push_back({"disk", "ssd"});
      if (Pick(5) == 0) node.taints = "[{key: dedicated, effect: NoExecute}]";
      w.AddNode(node);
      names.push_back(node.name);
    }
    return names;
  }

  PodYaml Existing(const std::string& name, const std::string& node) {
    PodYaml p = ::kestrel::priorities::Existing(name, node, "app: db");
    switch (Pick(4)) {
      case 0:
        p.labels = "foo: '', app: web";
        break;
      case 1:
        p.labels = "foo: '', app: web, tier: fe";
        break;
      case 2:
        p.labels = "app: web, controller-revision-hash: h1";
        break;
    }
    if (Pick(3) == 0) p.owner_kind = "ReplicaSet";
    if (Pick(5) == 0) p.ns = "other";
    if (Pick(10) == 0) p.terminating = true;
    return p;
  }

  PodYaml Incoming(const std::string& name) {
    const char* keys[] = {kLabelHostname, kLabelTopologyZone, "rack"};
    PodYaml p = ::kestrel::priorities::Incoming("", Pick(2) ? "foo: '', app: web" : "app: web");
    p.name = name;
    const int kind = Pick(8);
    if (kind == 0) {
      // No constraints and no controller: no default selector, Skip.
    } else if (kind < 4) {
      p.owner_kind = "ReplicaSet";  // the default constraints
      if (Pick(2) == 0) p.labels += ", controller-revision-hash: h2";
    } else {
      std::vector<std::string> cs;
      for (int k = 1 + Pick(3); k > 0; --k) {
        std::string extra;
        if (Pick(3) == 0) {
          extra += Pick(2) ? ", nodeAffinityPolicy: Ignore" : ", nodeAffinityPolicy: Honor";
        }
        if (Pick(3) == 0) {
          extra += Pick(2) ? ", nodeTaintsPolicy: Honor" : ", nodeTaintsPolicy: Ignore";
        }
        const std::string selector = kSelectors[Pick(kSelectors.size())];
        if (!selector.empty()) {
          extra += ", labelSelector: " + selector;
          if (Pick(4) == 0) extra += ", matchLabelKeys: [foo]";
        }
        cs.push_back(absl::StrCat("{maxSkew: ", 1 + Pick(4), ", topologyKey: ", keys[Pick(3)],
                                  ", whenUnsatisfiable: ScheduleAnyway", extra, "}"));
      }
      p.spec = absl::StrCat("topologySpreadConstraints: [", absl::StrJoin(cs, ", "), "]");
    }
    std::vector<std::string> spec = {p.spec};
    if (Pick(2) == 0) spec.push_back("nodeSelector: {disk: ssd}");
    if (Pick(3) == 0) spec.push_back("tolerations: [{key: dedicated, operator: Exists}]");
    spec.erase(std::remove(spec.begin(), spec.end(), ""), spec.end());
    p.spec = absl::StrJoin(spec, ", ");
    return p;
  }

  // System defaults, or List defaults on the rack and the hostname.
  std::string Args() {
    if (Pick(2) == 0) return "";
    return "defaultingType: List\ndefaultConstraints: [{maxSkew: 2, topologyKey: rack, "
           "whenUnsatisfiable: ScheduleAnyway, nodeTaintsPolicy: Honor}, {maxSkew: 1, "
           "topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway}]";
  }

 private:
  std::mt19937 rng_;
};

TEST(PodTopologySpreadScoreTest, RandomClustersAgreeWithUpstreamReference) {
  int checked = 0, skipped = 0, distinct = 0;
  for (uint32_t round = 0; round < 40; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    RandomScoring gen(7 + round);
    World w;
    const int num_nodes = 3 + gen.Pick(25);
    const std::vector<std::string> node_names = gen.AddNodes(w, num_nodes);
    const int num_pods = gen.Pick(5 * num_nodes);
    for (int i = 0; i < num_pods; ++i) {
      w.AddPod(gen.Existing(absl::StrCat("e", i), node_names[gen.Pick(num_nodes)]));
    }
    const config::PodTopologySpreadArgs args = Args(gen.Args());
    auto plugin = PodTopologySpread::Create(args, w.names);
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    CycleState state = w.NewCycle();
    for (int trial = 0; trial < 6; ++trial) {
      const PodYaml p = gen.Incoming(absl::StrCat("in", trial));
      SCOPED_TRACE(p.Yaml());
      const auto api_pod = World::DecodePod(p.Yaml());
      model::PodPtr pod = w.Compile(api_pod);
      ASSERT_NE(pod, nullptr);
      std::vector<std::string> feasible;
      for (const std::string& n : node_names) {
        if (gen.Pick(4) != 0) feasible.push_back(n);
      }
      if (feasible.empty()) continue;
      std::vector<const NodeInfo*> infos;
      std::vector<uint32_t> rows;
      w.Feasible(feasible, &infos, &rows);
      const upstream::ScoreResult want =
          upstream::PodTopologySpreadScore(args, w.api, api_pod, feasible);
      const Status pre = (*plugin)->PreScore(state, *pod, infos);
      ASSERT_EQ(pre.IsSkip(), want.skip) << pre.Message();
      if (pre.IsSkip()) {
        ++skipped;
        continue;
      }
      ASSERT_TRUE(pre.ok()) << pre.Message();
      const Scored got = ScoreAll(**plugin, w, state, *pod, feasible);
      EXPECT_EQ(got.raw, want.raw);
      EXPECT_EQ(got.normalized, want.normalized);
      checked += static_cast<int>(feasible.size());
      std::set<int64_t> values;
      for (const auto& [n, v] : want.normalized) values.insert(v);
      distinct += values.size() > 2;
    }
  }
  // Enough nodes, and enough trials with several distinct scores.
  EXPECT_GT(checked, 1500);
  EXPECT_GT(distinct, 100);
  EXPECT_GT(skipped, 10);
}

}  // namespace
}  // namespace kestrel::priorities
