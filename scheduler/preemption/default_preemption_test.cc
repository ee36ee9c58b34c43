// DefaultPreemption end to end: the PostFilter plugin inside a real
// scheduling cycle, on a sim::Host (the host's deleter, budgets and
// nominator wired into the Handle as in `kestrel simulate`). The cases
// follow upstream's pkg/scheduler/framework/plugins/defaultpreemption and
// pkg/scheduler/framework/preemption semantics: who may preempt, which
// nodes are candidates, which victims, which node wins, budgets, nominated
// pods, plugin args, and inter-pod (anti-)affinity.

#include "scheduler/preemption/default_preemption.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/config/config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/objects.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"
#include "sim/cluster.h"
#include "sim/simulator.h"

namespace kestrel::preemption {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// ---------------------------------------------------------------------------
// Cluster YAML.

struct NodeDoc {
  std::string name;
  std::string cpu = "2";
  std::string labels;  // extra labels, flow style: "disk: ssd"
  std::string spec;    // spec contents, flow style: "unschedulable: true"
};

std::string Yaml(const NodeDoc& n) {
  return absl::StrCat(
      "apiVersion: v1\nkind: Node\nmetadata:\n  name: ", n.name,
      "\n  labels: {kubernetes.io/hostname: ", n.name, n.labels.empty() ? "" : ", ", n.labels,
      "}\n", n.spec.empty() ? "" : absl::StrCat("spec: {", n.spec, "}\n"),
      "status:\n  allocatable: {cpu: \"", n.cpu, "\", memory: 4Gi, pods: \"110\"}\n");
}

struct PodDoc {
  std::string name;
  std::string node;  // empty: pending
  int64_t priority = 0;
  std::string cpu = "1";
  std::string start;   // status.startTime; empty: none (not started)
  std::string labels;  // flow style; empty: "app: <name>"
  std::string extra;   // more spec lines, each indented by two spaces
};

std::string Yaml(const PodDoc& p) {
  std::string out = absl::StrCat(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: ", p.name,
      ", namespace: default, labels: {", p.labels.empty() ? "app: " + p.name : p.labels,
      "}}\nspec:\n");
  if (!p.node.empty()) absl::StrAppend(&out, "  nodeName: ", p.node, "\n");
  absl::StrAppend(&out, "  priority: ", p.priority, "\n",
                  "  containers: [{name: c, image: app, resources: {requests: {cpu: \"", p.cpu,
                  "\"}}}]\n", p.extra);
  if (!p.node.empty()) {
    absl::StrAppend(&out, "status: {phase: Running",
                    p.start.empty() ? "" : absl::StrCat(", startTime: \"", p.start, "\""),
                    "}\n");
  }
  return out;
}

// A budget for pods labelled app=<app> in `ns`.
std::string Pdb(const std::string& name, const std::string& app, int allowed,
                const std::string& ns = "default", const std::string& disrupted = "") {
  return absl::StrCat(
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: ", name,
      ", namespace: ", ns, "}\nspec:\n  maxUnavailable: 0\n  selector: {matchLabels: {app: ", app,
      "}}\nstatus: {currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, disruptionsAllowed: ",
      allowed, disrupted.empty() ? "" : absl::StrCat(", disruptedPods: {", disrupted, "}"),
      "}\n");
}

constexpr char kT0800[] = "2024-05-01T08:00:00Z";
constexpr char kT0900[] = "2024-05-01T09:00:00Z";
constexpr char kT1000[] = "2024-05-01T10:00:00Z";
constexpr char kT1100[] = "2024-05-01T11:00:00Z";
constexpr char kT1200[] = "2024-05-01T12:00:00Z";

constexpr char kConfigHeader[] =
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

std::vector<std::string> Keys(const std::vector<model::PodPtr>& pods) {
  std::vector<std::string> out;
  for (const model::PodPtr& p : pods) out.push_back(p->Key());
  return out;
}

// ---------------------------------------------------------------------------
// A host around a cluster: the objects of `docs`, the real scheduler with
// DefaultPreemption, the host's deleter, budgets and nominator.

class PreemptionTest : public ::testing::Test {
 protected:
  void Load(const std::vector<std::string>& docs,
            const config::KubeSchedulerConfiguration& config = scheduler::DefaultConfig(),
            uint64_t seed = 1) {
    auto cluster = sim::LoadContents({{"c.yaml", absl::StrJoin(docs, "---\n")}});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    host_.reset();
    cluster_ = std::make_unique<sim::Cluster>(*std::move(cluster));
    sim::SimOptions options;
    options.seed = seed;
    options.rescheduler = false;
    auto host = sim::Host::Create(*cluster_, config, options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = *std::move(host);
  }

  model::PodPtr Pending(const std::string& name) const {
    for (const model::PodPtr& p : cluster_->pending_pods) {
      if (p->name == name) return p;
    }
    ADD_FAILURE() << "no pending pod " << name;
    return std::make_shared<model::Pod>();
  }

  // The node the cache has `name` (namespace default) on; "" when it is gone.
  std::string CachedOn(const std::string& name) const {
    model::PodPtr p = host_->cache().GetPod("default/" + name);
    return p == nullptr ? "" : p->node_name;
  }

  std::string NominatedOf(const std::string& name) const {
    return host_->nominator().NodeOf("default/" + name);
  }

  std::unique_ptr<sim::Cluster> cluster_;
  std::unique_ptr<sim::Host> host_;
};

// ---------------------------------------------------------------------------
// The basic path: preempt, nominate, place.

// n1 (2 cpu): low-1 (10, started 09:00), low-2 (10, started 10:00),
// keeper (1000) on n2 fills it. urgent (100, 1 cpu) fits nowhere.
std::vector<std::string> BasicDocs() {
  return {Yaml(NodeDoc{"n1"}),
          Yaml(NodeDoc{"n2"}),
          Yaml(PodDoc{"low-1", "n1", 10, "1", kT0900}),
          Yaml(PodDoc{"low-2", "n1", 10, "1", kT1000}),
          Yaml(PodDoc{"keeper", "n2", 1000, "2", kT0900}),
          Yaml(PodDoc{"urgent", "", 100, "1"})};
}

TEST_F(PreemptionTest, HigherPriorityPodPreemptsAndIsNominated) {
  ASSERT_NO_FATAL_FAILURE(Load(BasicDocs()));
  model::PodPtr urgent = Pending("urgent");
  scheduler::ScheduleResult r = host_->Schedule(urgent);

  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kUnschedulable);
  EXPECT_EQ(r.message, "0/2 nodes are available: 2 Insufficient cpu.");
  EXPECT_EQ(r.nominated_node, "n1");
  // One cpu is enough: low-1 started first, so it is more important and put
  // back first; low-2 goes.
  EXPECT_THAT(Keys(r.victims), ElementsAre("default/low-2"));
  EXPECT_EQ(CachedOn("low-2"), "");
  EXPECT_EQ(CachedOn("low-1"), "n1");
  EXPECT_EQ(CachedOn("keeper"), "n2");
  EXPECT_EQ(CachedOn("urgent"), "");  // not assumed: placed by a later cycle

  // The nominator holds urgent, with nominatedNodeName set.
  EXPECT_EQ(NominatedOf("urgent"), "n1");
  EXPECT_EQ(host_->nominator().size(), 1u);
  const std::vector<model::PodPtr>& on_n1 = host_->nominator().PodsOn("n1");
  ASSERT_EQ(on_n1.size(), 1u);
  EXPECT_EQ(on_n1[0]->Key(), "default/urgent");
  EXPECT_EQ(on_n1[0]->nominated_node_name, "n1");
  // The pod the caller holds is not changed.
  EXPECT_EQ(urgent->nominated_node_name, "");

  // The next cycle places it on its nominated node; the nomination is gone.
  scheduler::ScheduleResult placed = host_->Place(urgent);
  EXPECT_EQ(placed.node, "n1");
  EXPECT_EQ(placed.nominated_node, "");
  EXPECT_THAT(placed.victims, IsEmpty());
  EXPECT_EQ(CachedOn("urgent"), "n1");
  EXPECT_EQ(NominatedOf("urgent"), "");
  EXPECT_TRUE(host_->nominator().empty());
}

TEST_F(PreemptionTest, PlacePreemptsThenPlacesInOneCall) {
  ASSERT_NO_FATAL_FAILURE(Load(BasicDocs()));
  scheduler::ScheduleResult r = host_->Place(Pending("urgent"));
  EXPECT_EQ(r.node, "n1");
  EXPECT_EQ(r.nominated_node, "");
  EXPECT_THAT(Keys(r.victims), ElementsAre("default/low-2"));
  EXPECT_EQ(CachedOn("urgent"), "n1");
  EXPECT_EQ(CachedOn("low-2"), "");
  EXPECT_TRUE(host_->nominator().empty());
}

// ---------------------------------------------------------------------------
// Nothing to evict, and who may not preempt.

struct NoPreemptionCase {
  std::string name;
  std::vector<std::string> docs;
  std::string pod;
  std::string want_message;
};

class NoPreemptionTest : public PreemptionTest,
                         public ::testing::WithParamInterface<NoPreemptionCase> {};

TEST_P(NoPreemptionTest, NothingDeletedOrNominated) {
  const NoPreemptionCase& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(Load(c.docs));
  const size_t pods_before = host_->cache().num_pods();
  scheduler::ScheduleResult r = host_->Place(Pending(c.pod));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kUnschedulable);
  EXPECT_EQ(r.message, c.want_message);
  EXPECT_EQ(r.nominated_node, "");
  EXPECT_THAT(r.victims, IsEmpty());
  EXPECT_EQ(host_->cache().num_pods(), pods_before);
  EXPECT_TRUE(host_->nominator().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NoPreemptionTest,
    ::testing::Values(
        // Every pod on every node has the preemptor's priority.
        NoPreemptionCase{"NoVictims",
                         {Yaml(NodeDoc{"n1"}), Yaml(NodeDoc{"n2"}), Yaml(NodeDoc{"n3"}),
                          Yaml(PodDoc{"a", "n1", 100, "2", kT0900}),
                          Yaml(PodDoc{"b", "n2", 100, "2", kT0900}),
                          Yaml(PodDoc{"c", "n3", 500, "2", kT0900}),
                          Yaml(PodDoc{"p", "", 100, "1"})},
                         "p",
                         "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes "
                         "are available: 3 No preemption victims found for incoming pod.."},
        // Equal priority is never a victim: evicting only the lower-priority
        // pod does not free enough, so nothing is evicted at all.
        NoPreemptionCase{"EqualPriorityNeverVictim",
                         {Yaml(NodeDoc{"n1"}), Yaml(PodDoc{"same", "n1", 100, "1", kT0900}),
                          Yaml(PodDoc{"low", "n1", 10, "1", kT0900}),
                          Yaml(PodDoc{"p", "", 100, "2"})},
                         "p",
                         "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes "
                         "are available: 1 Insufficient cpu.."},
        NoPreemptionCase{"PreemptionPolicyNever",
                         {Yaml(NodeDoc{"n1"}), Yaml(PodDoc{"low", "n1", 10, "2", kT0900}),
                          Yaml(PodDoc{"p", "", 100, "1", "", "",
                                      "  preemptionPolicy: Never\n"})},
                         "p",
                         "0/1 nodes are available: 1 Insufficient cpu. preemption: not "
                         "eligible due to preemptionPolicy=Never.."}),
    [](const ::testing::TestParamInfo<NoPreemptionCase>& info) { return info.param.name; });

TEST_F(PreemptionTest, EqualPriorityPodsAreNotVictimsButLowerOnesAre) {
  // Two pods of the preemptor's priority and one lower, one cpu each; the
  // preemptor needs one cpu: only the lower one may go.
  ASSERT_NO_FATAL_FAILURE(Load({Yaml(NodeDoc{"n1", "3"}),
                                Yaml(PodDoc{"same-1", "n1", 100, "1", kT1200}),
                                Yaml(PodDoc{"same-2", "n1", 100, "1", kT1200}),
                                Yaml(PodDoc{"low", "n1", 99, "1", kT0800}),
                                Yaml(PodDoc{"p", "", 100, "1"})}));
  scheduler::ScheduleResult r = host_->Place(Pending("p"));
  EXPECT_EQ(r.node, "n1");
  EXPECT_THAT(Keys(r.victims), ElementsAre("default/low"));
  EXPECT_EQ(CachedOn("same-1"), "n1");
  EXPECT_EQ(CachedOn("same-2"), "n1");
}

// ---------------------------------------------------------------------------
// Nodes where preemption cannot help.

struct UnresolvableCase {
  std::string name;
  NodeDoc bad;              // fails for good, whatever is evicted
  std::string bad_pod_cpu;  // its pod, of the lowest priority
  std::string pod_extra;    // preemptor's extra spec
  std::string bad_reason;   // the filter's reason on `bad`
};

class UnresolvableTest : public PreemptionTest,
                         public ::testing::WithParamInterface<UnresolvableCase> {
 protected:
  std::vector<std::string> Docs(int64_t good_pod_priority) const {
    const UnresolvableCase& c = GetParam();
    return {Yaml(c.bad), Yaml(NodeDoc{"good", "2", "disk: ssd"}),
            Yaml(PodDoc{"cheap", c.bad.name, 1, c.bad_pod_cpu, kT1200}),
            Yaml(PodDoc{"on-good", "good", good_pod_priority, "2", kT0800}),
            Yaml(PodDoc{"p", "", 100, "2", "", "", c.pod_extra})};
  }
};

TEST_P(UnresolvableTest, NeverChosenEvenWithTheCheapestVictims) {
  ASSERT_NO_FATAL_FAILURE(Load(Docs(50)));
  scheduler::ScheduleResult r = host_->Schedule(Pending("p"));
  EXPECT_EQ(r.nominated_node, "good");
  EXPECT_THAT(Keys(r.victims), ElementsAre("default/on-good"));
  EXPECT_EQ(CachedOn("cheap"), GetParam().bad.name);
  EXPECT_EQ(CachedOn("on-good"), "");
}

TEST_P(UnresolvableTest, HistogramSaysPreemptionIsNotHelpful) {
  const UnresolvableCase& c = GetParam();
  // The pod on "good" now has the preemptor's priority: no victims there.
  ASSERT_NO_FATAL_FAILURE(Load(Docs(100)));
  scheduler::ScheduleResult r = host_->Place(Pending("p"));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.nominated_node, "");
  std::vector<std::string> reasons = {"Insufficient cpu", c.bad_reason};
  std::string filters = reasons[0] == reasons[1]
                            ? "2 Insufficient cpu"
                            : absl::StrCat("1 ", std::min(reasons[0], reasons[1]), ", 1 ",
                                           std::max(reasons[0], reasons[1]));
  EXPECT_EQ(r.message,
            absl::StrCat("0/2 nodes are available: ", filters,
                         ". preemption: 0/2 nodes are available: 1 No preemption victims found "
                         "for incoming pod, 1 Preemption is not helpful for scheduling.."));
  EXPECT_EQ(CachedOn("cheap"), c.bad.name);
  EXPECT_EQ(CachedOn("on-good"), "good");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UnresolvableTest,
    ::testing::Values(
        UnresolvableCase{"NodeAffinity", NodeDoc{"bad", "2", "disk: hdd"}, "2",
                         "  nodeSelector: {disk: ssd}\n",
                         "node(s) didn't match Pod's node affinity/selector"},
        UnresolvableCase{"RequiredNodeAffinity", NodeDoc{"bad", "2", "disk: hdd"}, "2",
                         "  affinity:\n    nodeAffinity:\n"
                         "      requiredDuringSchedulingIgnoredDuringExecution:\n"
                         "        nodeSelectorTerms:\n"
                         "        - matchExpressions: [{key: disk, operator: In, values: [ssd]}]\n",
                         "node(s) didn't match Pod's node affinity/selector"},
        UnresolvableCase{"UntoleratedTaint",
                         NodeDoc{"bad", "2", "disk: ssd",
                                 "taints: [{key: dedicated, value: infra, effect: NoSchedule}]"},
                         "2", "", "node(s) had untolerated taint {dedicated: infra}"},
        UnresolvableCase{"Cordoned", NodeDoc{"bad", "2", "disk: ssd", "unschedulable: true"},
                         "2", "", "node(s) were unschedulable"},
        // Too small even empty (upstream 1.31+: UnschedulableAndUnresolvable).
        UnresolvableCase{"TooSmallEvenEmpty", NodeDoc{"bad", "1", "disk: ssd"}, "1", "",
                         "Insufficient cpu"}),
    [](const ::testing::TestParamInfo<UnresolvableCase>& info) { return info.param.name; });

TEST_F(PreemptionTest, OnlyUnresolvableNodes) {
  ASSERT_NO_FATAL_FAILURE(Load({Yaml(NodeDoc{"n1", "2", "", "unschedulable: true"}),
                                Yaml(PodDoc{"cheap", "n1", 1, "2", kT0900}),
                                Yaml(PodDoc{"p", "", 100, "1"})}));
  scheduler::ScheduleResult r = host_->Place(Pending("p"));
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are "
            "available: 1 Preemption is not helpful for scheduling..");
  EXPECT_EQ(CachedOn("cheap"), "n1");
  EXPECT_TRUE(host_->nominator().empty());
}

// ---------------------------------------------------------------------------
// Which candidate wins. Each node has 2 cpu, full; the preemptor needs them
// all unless said otherwise, so every pod listed on a node is a victim.

struct RankCase {
  std::string name;
  std::vector<PodDoc> pods;  // bound to n1 / n2
  std::vector<std::string> pdbs;
  std::string preemptor_cpu;
  std::string want_node;
  std::vector<std::string> want_victims;
};

class RankTest : public PreemptionTest, public ::testing::WithParamInterface<RankCase> {};

TEST_P(RankTest, PicksTheBestCandidateWhateverTheOffset) {
  const RankCase& c = GetParam();
  std::vector<std::string> docs = {Yaml(NodeDoc{"n1"}), Yaml(NodeDoc{"n2"})};
  for (const PodDoc& p : c.pods) docs.push_back(Yaml(p));
  for (const std::string& pdb : c.pdbs) docs.push_back(pdb);
  docs.push_back(Yaml(PodDoc{"p", "", 100, c.preemptor_cpu}));
  // The dry run starts at a random node: the seed must not matter.
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    ASSERT_NO_FATAL_FAILURE(Load(docs, scheduler::DefaultConfig(), seed));
    scheduler::ScheduleResult r = host_->Schedule(Pending("p"));
    EXPECT_EQ(r.nominated_node, c.want_node);
    EXPECT_THAT(Keys(r.victims), ElementsAreArray(c.want_victims));
    for (const PodDoc& p : c.pods) {
      const bool victim = std::find(c.want_victims.begin(), c.want_victims.end(),
                                    "default/" + p.name) != c.want_victims.end();
      EXPECT_EQ(CachedOn(p.name), victim ? "" : p.node) << p.name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RankTest,
    ::testing::Values(
        // 1. Fewest PDB violations beats a lower victim priority.
        RankCase{"FewestPdbViolations",
                 {PodDoc{"guarded", "n1", 10, "2", kT1000},
                  PodDoc{"free", "n2", 50, "2", kT1000}},
                 {Pdb("guard", "guarded", 0)},
                 "2",
                 "n2",
                 {"default/free"}},
        // 2. Lowest priority of the most important victim.
        RankCase{"LowestHighestPriority",
                 {PodDoc{"a", "n1", 10, "2", kT1000}, PodDoc{"b", "n2", 50, "2", kT1000}},
                 {},
                 "2",
                 "n1",
                 {"default/a"}},
        RankCase{"LowestHighestPriorityOverFewerVictims",
                 {PodDoc{"a", "n1", 50, "2", kT1000}, PodDoc{"b", "n2", 10, "1", kT1000},
                  PodDoc{"c", "n2", 10, "1", kT1000}},
                 {},
                 "2",
                 "n2",
                 {"default/b", "default/c"}},
        // 3. Same most important victim: lowest sum of priorities.
        RankCase{"LowestPrioritySum",
                 {PodDoc{"a", "n1", 50, "1", kT1000}, PodDoc{"b", "n1", 50, "1", kT1000},
                  PodDoc{"c", "n2", 50, "1", kT1000}, PodDoc{"d", "n2", 10, "1", kT1000}},
                 {},
                 "2",
                 "n2",
                 {"default/c", "default/d"}},
        // 4. Same shifted sum (each priority + 2^31): n1's is
        // (0 + 2^31) + (-2^31 + 2^31) = 2^31, n2's 0 + 2^31. Fewest victims.
        RankCase{"FewestVictims",
                 {PodDoc{"x", "n1", 0, "1", kT1000},
                  PodDoc{"y", "n1", -2147483648LL, "1", kT1000},
                  PodDoc{"z", "n2", 0, "2", kT1000}},
                 {},
                 "2",
                 "n2",
                 {"default/z"}},
        // 5. Then the latest start among the highest-priority victims.
        RankCase{"LatestStartTime",
                 {PodDoc{"a", "n1", 10, "2", kT0900}, PodDoc{"b", "n2", 10, "2", kT1100}},
                 {},
                 "2",
                 "n2",
                 {"default/b"}},
        RankCase{"LatestStartTimeOnFirstNode",
                 {PodDoc{"a", "n1", 10, "2", kT1100}, PodDoc{"b", "n2", 10, "2", kT0900}},
                 {},
                 "2",
                 "n1",
                 {"default/a"}},
        // Only the highest-priority victims' start times count: n1's earliest
        // of them is 11:00, n2's 10:00 (n1 has the earliest victim overall).
        RankCase{"StartTimeOfHighestPriorityVictimsOnly",
                 {PodDoc{"a", "n1", 50, "1", kT1100}, PodDoc{"b", "n1", 10, "1", kT0800},
                  PodDoc{"c", "n2", 50, "1", kT1000}, PodDoc{"d", "n2", 10, "1", kT1200}},
                 {},
                 "2",
                 "n1",
                 {"default/a", "default/b"}}),
    [](const ::testing::TestParamInfo<RankCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// PodDisruptionBudgets.

struct PdbCase {
  std::string name;
  std::vector<PodDoc> pods;  // on n1 (2 cpu), or n2
  std::vector<std::string> pdbs;
  std::string preemptor_cpu;
  std::string want_node;
  std::vector<std::string> want_victims;
  std::vector<int32_t> want_allowed_after;  // per budget, in file order
};

class PdbTest : public PreemptionTest, public ::testing::WithParamInterface<PdbCase> {};

TEST_P(PdbTest, Preempts) {
  const PdbCase& c = GetParam();
  std::vector<std::string> docs = {Yaml(NodeDoc{"n1"}), Yaml(NodeDoc{"n2"})};
  bool uses_n2 = false;
  for (const PodDoc& p : c.pods) {
    docs.push_back(Yaml(p));
    uses_n2 = uses_n2 || p.node == "n2";
  }
  // n2 is full of pods no one may evict unless a case uses it.
  if (!uses_n2) docs.push_back(Yaml(PodDoc{"keeper", "n2", 1000, "2", kT0800}));
  for (const std::string& pdb : c.pdbs) docs.push_back(pdb);
  docs.push_back(Yaml(PodDoc{"p", "", 100, c.preemptor_cpu}));
  ASSERT_NO_FATAL_FAILURE(Load(docs));

  scheduler::ScheduleResult r = host_->Place(Pending("p"));
  EXPECT_EQ(r.node, c.want_node);
  EXPECT_THAT(Keys(r.victims), ElementsAreArray(c.want_victims));
  for (const std::string& v : c.want_victims) {
    EXPECT_EQ(host_->cache().GetPod(v), nullptr) << v;
  }
  std::vector<int32_t> allowed;
  for (const model::PdbPtr& pdb : host_->pdbs()) allowed.push_back(pdb->disruptions_allowed);
  EXPECT_THAT(allowed, ElementsAreArray(c.want_allowed_after));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PdbTest,
    ::testing::Values(
        // Every candidate breaks a budget: preemption happens anyway; the
        // budget stays at 0.
        PdbCase{"OnlyCandidateViolates",
                {PodDoc{"db", "n1", 10, "2", kT1000, "app: db"}},
                {Pdb("db", "db", 0)},
                "2",
                "n1",
                {"default/db"},
                {0}},
        PdbCase{"EveryCandidateViolates",
                {PodDoc{"db-1", "n1", 10, "2", kT1000, "app: db"},
                 PodDoc{"db-2", "n2", 20, "2", kT1000, "app: db"}},
                {Pdb("db", "db", 0)},
                "2",
                "n1",
                {"default/db-1"},
                {0}},
        PdbCase{"BudgetSpentByOne",
                {PodDoc{"db", "n1", 10, "2", kT1000, "app: db"}},
                {Pdb("db", "db", 2)},
                "2",
                "n1",
                {"default/db"},
                {1}},
        // Two victims, one disruption allowed: one violation; the budget
        // does not go below 0.
        PdbCase{"TwoVictimsOneAllowed",
                {PodDoc{"db-1", "n1", 10, "1", kT1000, "app: db"},
                 PodDoc{"db-2", "n1", 10, "1", kT1100, "app: db"}},
                {Pdb("db", "db", 1)},
                "2",
                "n1",
                {"default/db-1", "default/db-2"},
                {0}},
        // One cpu needed on n1. Without a budget "late" (started later, less
        // important) is the victim.
        PdbCase{"NoBudgetLeastImportantGoes",
                {PodDoc{"early", "n1", 10, "1", kT0900}, PodDoc{"late", "n1", 10, "1", kT1000}},
                {},
                "1",
                "n1",
                {"default/late"},
                {}},
        // A budget that would break over "late": it is put back first, and
        // "early" goes instead.
        PdbCase{"ViolatingPodPutBackFirst",
                {PodDoc{"early", "n1", 10, "1", kT0900}, PodDoc{"late", "n1", 10, "1", kT1000}},
                {Pdb("late", "late", 0)},
                "1",
                "n1",
                {"default/early"},
                {0}},
        PdbCase{"BudgetWithRoomIsNoViolation",
                {PodDoc{"early", "n1", 10, "1", kT0900}, PodDoc{"late", "n1", 10, "1", kT1000}},
                {Pdb("late", "late", 1)},
                "1",
                "n1",
                {"default/late"},
                {0}},
        PdbCase{"BudgetOfAnotherNamespace",
                {PodDoc{"early", "n1", 10, "1", kT0900}, PodDoc{"late", "n1", 10, "1", kT1000}},
                {Pdb("late", "late", 0, "other")},
                "1",
                "n1",
                {"default/late"},
                {0}},
        // Already in disruptedPods: the API server counted it; no violation.
        PdbCase{"AlreadyDisruptedIsNoViolation",
                {PodDoc{"early", "n1", 10, "1", kT0900}, PodDoc{"late", "n1", 10, "1", kT1000}},
                {Pdb("late", "late", 0, "default", "late: \"2024-05-01T10:30:00Z\"")},
                "1",
                "n1",
                {"default/late"},
                {0}}),
    [](const ::testing::TestParamInfo<PdbCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Nominated pods.

// n1 (2 cpu): low-1 (10, 09:00), low-2 (10, 10:00). "nominee" (100, 1 cpu)
// preempts low-2 and is nominated to n1; then another pod comes.
std::vector<std::string> NominatedDocs() {
  return {Yaml(NodeDoc{"n1"}),
          Yaml(PodDoc{"low-1", "n1", 10, "1", kT0900}),
          Yaml(PodDoc{"low-2", "n1", 10, "1", kT1000}),
          Yaml(PodDoc{"nominee", "", 100, "1"}),
          Yaml(PodDoc{"prio-10", "", 10, "1"}),
          Yaml(PodDoc{"prio-50", "", 50, "1"}),
          Yaml(PodDoc{"prio-100", "", 100, "1"}),
          Yaml(PodDoc{"prio-200", "", 200, "1"}),
          Yaml(PodDoc{"prio-200-big", "", 200, "2"})};
}

struct NominatedCase {
  std::string pod;
  std::string want_node;
  std::string want_nominated;
  std::vector<std::string> want_victims;
  std::string want_message;
  std::string want_nominee_node;  // the nominee's nomination afterwards
};

class NominatedPodsTest : public PreemptionTest,
                          public ::testing::WithParamInterface<NominatedCase> {};

TEST_P(NominatedPodsTest, RoomFreedForTheNomineeIsKept) {
  const NominatedCase& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(Load(NominatedDocs()));
  scheduler::ScheduleResult first = host_->Schedule(Pending("nominee"));
  ASSERT_EQ(first.nominated_node, "n1");
  ASSERT_THAT(Keys(first.victims), ElementsAre("default/low-2"));
  ASSERT_EQ(NominatedOf("nominee"), "n1");

  scheduler::ScheduleResult r = host_->Schedule(Pending(c.pod));
  EXPECT_EQ(r.node, c.want_node);
  EXPECT_EQ(r.nominated_node, c.want_nominated);
  EXPECT_THAT(Keys(r.victims), ElementsAreArray(c.want_victims));
  EXPECT_EQ(r.message, c.want_message);
  EXPECT_EQ(NominatedOf(c.pod), c.want_nominated);
  EXPECT_EQ(NominatedOf("nominee"), c.want_nominee_node);
  EXPECT_EQ(CachedOn("low-1"), c.want_victims.empty() ? "n1" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, NominatedPodsTest,
    ::testing::Values(
        // Lower priority, nothing it may evict: the free cpu is the
        // nominee's, so it does not fit.
        NominatedCase{"prio-10", "", "", {},
                      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                      "available: 1 No preemption victims found for incoming pod..",
                      "n1"},
        // Lower priority that may evict low-1: the nominee still counts in
        // the dry run, so low-1 has to go.
        NominatedCase{"prio-50", "", "n1", {"default/low-1"},
                      "0/1 nodes are available: 1 Insufficient cpu.", "n1"},
        // Equal priority: nominated pods of priority >= the pod's count.
        NominatedCase{"prio-100", "", "n1", {"default/low-1"},
                      "0/1 nodes are available: 1 Insufficient cpu.", "n1"},
        // Higher priority: the nominee does not count; the pod takes the
        // free cpu, and the nominee keeps its nomination.
        NominatedCase{"prio-200", "n1", "", {}, "", "n1"},
        // Higher priority that preempts on n1: the lower-priority nominee
        // loses its nomination there.
        NominatedCase{"prio-200-big", "", "n1", {"default/low-1"},
                      "0/1 nodes are available: 1 Insufficient cpu.", ""}),
    [](const ::testing::TestParamInfo<NominatedCase>& info) {
      std::string name = info.param.pod;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST_F(PreemptionTest, WithoutTheNominationTheLowerPodFits) {
  // Control for the prio-10 case: the same room, freed without a nominee.
  ASSERT_NO_FATAL_FAILURE(Load(NominatedDocs()));
  ASSERT_TRUE(host_->Delete(*host_->cache().GetPod("default/low-2")).ok());
  scheduler::ScheduleResult r = host_->Schedule(Pending("prio-10"));
  EXPECT_EQ(r.node, "n1");
  EXPECT_THAT(r.victims, IsEmpty());
}

TEST_F(PreemptionTest, NominatedNodeIsEvaluatedFirst) {
  // n2 (4 cpu) is full of a pod the preemptor may not evict; once that pod
  // is gone n2 is the better node, but the nominee goes where it preempted.
  std::vector<std::string> docs = {Yaml(NodeDoc{"n1"}), Yaml(NodeDoc{"n2", "4"}),
                                   Yaml(PodDoc{"keep", "n1", 100, "1", kT0900}),
                                   Yaml(PodDoc{"low", "n1", 10, "1", kT0900}),
                                   Yaml(PodDoc{"big", "n2", 1000, "4", kT0900}),
                                   Yaml(PodDoc{"p", "", 100, "1"})};
  ASSERT_NO_FATAL_FAILURE(Load(docs));
  model::PodPtr p = Pending("p");
  scheduler::ScheduleResult first = host_->Schedule(p);
  ASSERT_EQ(first.nominated_node, "n1");
  ASSERT_THAT(Keys(first.victims), ElementsAre("default/low"));
  ASSERT_TRUE(host_->Delete(*host_->cache().GetPod("default/big")).ok());

  // As a fresh pod (no nomination), it would go to the empty n2.
  scheduler::ScheduleResult fresh = host_->Schedule(p);
  EXPECT_EQ(fresh.node, "n2");

  ASSERT_NO_FATAL_FAILURE(Load(docs));
  first = host_->Schedule(p);
  ASSERT_EQ(first.nominated_node, "n1");
  ASSERT_TRUE(host_->Delete(*host_->cache().GetPod("default/big")).ok());
  scheduler::ScheduleResult placed = host_->Place(p);
  EXPECT_EQ(placed.node, "n1");
  EXPECT_TRUE(host_->nominator().empty());
}

// n1 (2 cpu): keep (100), dying (10, being deleted: its victim from an
// earlier preemption, still terminating).
std::vector<std::string> TerminatingDocs() {
  return {Yaml(NodeDoc{"n1"}), Yaml(PodDoc{"keep", "n1", 100, "1", kT0900}),
          "apiVersion: v1\nkind: Pod\nmetadata: {name: dying, namespace: default, labels: "
          "{app: dying}, deletionTimestamp: \"2024-05-01T10:30:00Z\"}\nspec:\n  nodeName: n1\n"
          "  priority: 10\n  containers: [{name: c, image: app, resources: {requests: {cpu: "
          "\"1\"}}}]\nstatus: {phase: Running, startTime: \"2024-05-01T09:00:00Z\"}\n",
          Yaml(PodDoc{"p", "", 100, "1"})};
}

TEST_F(PreemptionTest, NotEligibleWhileAVictimTerminatesOnTheNominatedNode) {
  ASSERT_NO_FATAL_FAILURE(Load(TerminatingDocs()));
  auto nominated = std::make_shared<model::Pod>(*Pending("p"));
  nominated->nominated_node_name = "n1";
  scheduler::ScheduleResult r = host_->Schedule(nominated);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a "
            "terminating pod on the nominated node..");
  EXPECT_EQ(r.nominated_node, "");
  EXPECT_THAT(r.victims, IsEmpty());
  EXPECT_EQ(CachedOn("dying"), "n1");

  // Without a nomination the terminating pod is an ordinary victim.
  ASSERT_NO_FATAL_FAILURE(Load(TerminatingDocs()));
  r = host_->Schedule(Pending("p"));
  EXPECT_EQ(r.nominated_node, "n1");
  EXPECT_THAT(Keys(r.victims), ElementsAre("default/dying"));
}

// A pod whose later preemption attempt finds no candidate loses its old
// nomination: upstream's Evaluator.Preempt returns
// NewPostFilterResultWithNominatedNode("") with the Unschedulable status, and
// the failure handler (AddNominatedPod with ModeOverride and an empty name)
// clears it, so it no longer holds room it does not wait for.
TEST_F(PreemptionTest, FailedPreemptionClearsTheNomination) {
  ASSERT_NO_FATAL_FAILURE(Load({Yaml(NodeDoc{"n1"}),
                                Yaml(PodDoc{"keep", "n1", 100, "1", kT0900}),
                                Yaml(PodDoc{"low", "n1", 10, "1", kT0900}),
                                Yaml(PodDoc{"nominee", "", 100, "1"}),
                                Yaml(PodDoc{"vip", "", 200, "1"}),
                                Yaml(PodDoc{"small", "", 5, "1"})}));
  scheduler::ScheduleResult first = host_->Schedule(Pending("nominee"));
  ASSERT_EQ(first.nominated_node, "n1");
  // vip outranks the nominee and takes the room.
  ASSERT_EQ(host_->Schedule(Pending("vip")).node, "n1");
  ASSERT_EQ(NominatedOf("nominee"), "n1");

  // The nominee's next cycle: n1 holds keep (100) and vip (200), nothing to
  // evict anywhere.
  scheduler::ScheduleResult again = host_->Place(Pending("nominee"));
  EXPECT_EQ(again.node, "");
  EXPECT_EQ(again.nominated_node, "");
  EXPECT_EQ(again.message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod..");
  EXPECT_EQ(NominatedOf("nominee"), "");

  // The effect: once vip is gone, a lower-priority pod is kept off the room
  // by a nomination nobody waits on.
  ASSERT_TRUE(host_->Delete(*host_->cache().GetPod("default/vip")).ok());
  EXPECT_EQ(host_->Schedule(Pending("small")).node, "n1");
}

// ---------------------------------------------------------------------------
// DefaultPreemptionArgs.

config::KubeSchedulerConfiguration PreemptionConfig(const std::string& args) {
  auto cfg = scheduler::ParseConfig(
      "sched.yaml", absl::StrCat(kConfigHeader,
                                 "profiles:\n- pluginConfig:\n  - name: DefaultPreemption\n"
                                 "    args: {",
                                 args, "}\n"));
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? *cfg : config::KubeSchedulerConfiguration();
}

struct ArgsErrorCase {
  std::string name;
  std::string args;
  std::string want;  // after "initializing plugin \"DefaultPreemption\": "
};

class ArgsErrorTest : public ::testing::TestWithParam<ArgsErrorCase> {};

TEST_P(ArgsErrorTest, RejectedWhenBuildingTheProfile) {
  const ArgsErrorCase& c = GetParam();
  auto cluster = sim::LoadContents({{"c.yaml", Yaml(NodeDoc{"n1"})}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto host = sim::Host::Create(*cluster, PreemptionConfig(c.args), sim::SimOptions{});
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(host.status().message(),
            absl::StrCat("profiles[0] (default-scheduler): initializing plugin "
                         "\"DefaultPreemption\": ",
                         c.want));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ArgsErrorTest,
    ::testing::Values(
        ArgsErrorCase{"PercentageAbove100", "minCandidateNodesPercentage: 101",
                      "minCandidateNodesPercentage: Invalid value: 101: not in valid range "
                      "[0, 100]"},
        ArgsErrorCase{"NegativePercentage", "minCandidateNodesPercentage: -1",
                      "minCandidateNodesPercentage: Invalid value: -1: not in valid range "
                      "[0, 100]"},
        ArgsErrorCase{"NegativeAbsolute", "minCandidateNodesAbsolute: -1",
                      "minCandidateNodesAbsolute: Invalid value: -1: not in valid range "
                      "[0, inf)"},
        ArgsErrorCase{"BothZero", "minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 0",
                      "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the "
                      "same time as minCandidateNodesAbsolute, minCandidateNodesAbsolute: "
                      "Invalid value: 0: cannot be zero at the same time as "
                      "minCandidateNodesPercentage]"}),
    [](const ::testing::TestParamInfo<ArgsErrorCase>& info) { return info.param.name; });

const DefaultPreemption* PluginOf(sim::Host& host) {
  model::Pod pod;
  pod.scheduler_name = scheduler::kDefaultSchedulerName;
  const framework::Framework* fw = host.scheduler().ProfileFor(pod);
  if (fw == nullptr) return nullptr;
  return dynamic_cast<const DefaultPreemption*>(fw->plugin(DefaultPreemption::kName));
}

// n1's victim has priority 10, n2's 50: the best candidate is n1.
std::vector<std::string> TwoCandidateDocs() {
  return {Yaml(NodeDoc{"n1"}), Yaml(NodeDoc{"n2"}), Yaml(PodDoc{"a", "n1", 10, "2", kT1000}),
          Yaml(PodDoc{"b", "n2", 50, "2", kT1000}), Yaml(PodDoc{"p", "", 100, "2"})};
}

TEST_F(PreemptionTest, DefaultArgs) {
  ASSERT_NO_FATAL_FAILURE(Load(TwoCandidateDocs()));
  const DefaultPreemption* plugin = PluginOf(*host_);
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->args().min_candidate_nodes_percentage, 10);
  EXPECT_EQ(plugin->args().min_candidate_nodes_absolute, 100);
}

TEST_F(PreemptionTest, ArgsReachThePlugin) {
  ASSERT_NO_FATAL_FAILURE(
      Load(TwoCandidateDocs(),
           PreemptionConfig("minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1")));
  const DefaultPreemption* plugin = PluginOf(*host_);
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->args().min_candidate_nodes_percentage, 0);
  EXPECT_EQ(plugin->args().min_candidate_nodes_absolute, 1);
}

TEST_F(PreemptionTest, EnoughCandidatesStopsTheDryRun) {
  // With the defaults every node is dry-run (at least 100 candidates): n1,
  // whatever node the dry run starts at. With one candidate enough, the
  // first non-violating candidate from the random offset is taken, so some
  // seeds give n2.
  std::set<std::string> by_default, with_one;
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    ASSERT_NO_FATAL_FAILURE(Load(TwoCandidateDocs(), scheduler::DefaultConfig(), seed));
    by_default.insert(host_->Schedule(Pending("p")).nominated_node);
    ASSERT_NO_FATAL_FAILURE(Load(
        TwoCandidateDocs(),
        PreemptionConfig("minCandidateNodesPercentage: 0, minCandidateNodesAbsolute: 1"), seed));
    with_one.insert(host_->Schedule(Pending("p")).nominated_node);
  }
  EXPECT_THAT(by_default, ElementsAre("n1"));
  EXPECT_THAT(with_one, ElementsAre("n1", "n2"));
}

// ---------------------------------------------------------------------------
// Inter-pod (anti-)affinity: the dry run's RemovePod/AddPod keep the
// PreFilter state of InterPodAffinity in step with the node copy.

std::string AntiAffinity(const std::string& app, const std::string& key) {
  return absl::StrCat(
      "  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
      "      - labelSelector: {matchLabels: {app: ",
      app, "}}\n        topologyKey: ", key, "\n");
}

std::string Affinity(const std::string& app) {
  return absl::StrCat(
      "  affinity:\n    podAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
      "      - labelSelector: {matchLabels: {app: ",
      app, "}}\n        topologyKey: kubernetes.io/hostname\n");
}

constexpr char kHostname[] = "kubernetes.io/hostname";
constexpr char kZone[] = "topology.kubernetes.io/zone";

struct AffinityCase {
  std::string name;
  std::vector<std::string> docs;  // the preemptor is "p"
  std::string want_message;
  std::string want_nominated;
  std::vector<std::string> want_victims;
  std::string want_placed;  // where Place puts p afterwards; "" for none
};

class AffinityTest : public PreemptionTest,
                     public ::testing::WithParamInterface<AffinityCase> {};

TEST_P(AffinityTest, Preempts) {
  const AffinityCase& c = GetParam();
  ASSERT_NO_FATAL_FAILURE(Load(c.docs));
  scheduler::ScheduleResult r = host_->Schedule(Pending("p"));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.message, c.want_message);
  EXPECT_EQ(r.nominated_node, c.want_nominated);
  EXPECT_THAT(Keys(r.victims), ElementsAreArray(c.want_victims));
  for (const std::string& v : c.want_victims) {
    EXPECT_EQ(host_->cache().GetPod(v), nullptr) << v;
  }
  scheduler::ScheduleResult placed = host_->Place(Pending("p"));
  EXPECT_EQ(placed.node, c.want_placed);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AffinityTest,
    ::testing::Values(
        // An existing lower-priority pod's anti-affinity (symmetry) blocks p.
        AffinityCase{"ExistingPodsAntiAffinity",
                     {Yaml(NodeDoc{"n1", "4"}),
                      Yaml(PodDoc{"guard", "n1", 10, "1", kT1000, "", AntiAffinity("web", kHostname)}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "app: web"})},
                     "0/1 nodes are available: 1 node(s) didn't satisfy existing pods "
                     "anti-affinity rules.",
                     "n1",
                     {"default/guard"},
                     "n1"},
        // p's own anti-affinity against a lower-priority pod.
        AffinityCase{"OwnAntiAffinity",
                     {Yaml(NodeDoc{"n1", "4"}), Yaml(PodDoc{"db", "n1", 10, "1", kT1000}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "", AntiAffinity("db", kHostname)})},
                     "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.",
                     "n1",
                     {"default/db"},
                     "n1"},
        // Other lower-priority pods on the node are put back (AddPod), only
        // the one p repels is evicted, whichever is more important.
        AffinityCase{"OnlyTheRepelledPodGoes",
                     {Yaml(NodeDoc{"n1", "4"}), Yaml(PodDoc{"db", "n1", 10, "1", kT0800}),
                      Yaml(PodDoc{"other-1", "n1", 10, "1", kT0900}),
                      Yaml(PodDoc{"other-2", "n1", 5, "1", kT1000}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "", AntiAffinity("db", kHostname)})},
                     "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.",
                     "n1",
                     {"default/db"},
                     "n1"},
        // The repelled pod has p's priority: nothing to evict.
        AffinityCase{"RepelledPodOfEqualPriority",
                     {Yaml(NodeDoc{"n1", "4"}), Yaml(PodDoc{"db", "n1", 100, "1", kT1000}),
                      Yaml(PodDoc{"other", "n1", 10, "1", kT1000}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "", AntiAffinity("db", kHostname)})},
                     "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. "
                     "preemption: 0/1 nodes are available: 1 node(s) didn't match pod "
                     "anti-affinity rules..",
                     "",
                     {},
                     ""},
        // Zone anti-affinity: the repelled pod is on n2; n1, in the same
        // zone, has nothing to evict. Only n2 is a candidate.
        AffinityCase{"ZoneAntiAffinityPodOnOtherNode",
                     {Yaml(NodeDoc{"n1", "4", absl::StrCat(kZone, ": a")}),
                      Yaml(NodeDoc{"n2", "4", absl::StrCat(kZone, ": a")}),
                      Yaml(PodDoc{"db", "n2", 10, "1", kT1000}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "", AntiAffinity("db", kZone)})},
                     "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.",
                     "n2",
                     {"default/db"},
                     "n2"},
        // Required affinity no pod satisfies: UnschedulableAndUnresolvable.
        AffinityCase{"UnmetAffinityIsNotHelped",
                     {Yaml(NodeDoc{"n1", "4"}), Yaml(PodDoc{"cheap", "n1", 1, "1", kT1000}),
                      Yaml(PodDoc{"p", "", 100, "1", "", "", Affinity("missing")})},
                     "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. "
                     "preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                     "scheduling..",
                     "",
                     {},
                     ""}),
    [](const ::testing::TestParamInfo<AffinityCase>& info) { return info.param.name; });

}  // namespace
}  // namespace kestrel::preemption
