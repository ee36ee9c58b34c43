// PreFilterResult: a pod whose required node affinity pins node names (every
// DaemonSet pod) is filtered and scored on those nodes alone, and the others
// count as upstream counts them: "node(s) didn't satisfy plugin(s)
// [NodeAffinity]" in the FitError, "Preemption is not helpful for
// scheduling" in preemption's.

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"

namespace kestrel::scheduler {
namespace {

constexpr int64_t kGi = int64_t{1} << 30;

// Preemption deletes its victims from the cache, as the host's informer
// would after the API server deletes them.
class CacheDeleter : public framework::PodDeleter {
 public:
  explicit CacheDeleter(std::unique_ptr<cache::Cache>* cache) : cache_(cache) {}
  absl::Status DeletePod(const model::Pod& victim, const model::Pod&) override {
    return (*cache_)->RemovePod(victim);
  }

 private:
  std::unique_ptr<cache::Cache>* cache_;
};

class PreFilterResultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Scheduler> Make(bool pre_filter_result = true, uint64_t seed = 1) {
    framework::Handle handle;
    handle.interner = &names_;
    handle.nominator = &nominator_;
    handle.deleter = &deleter_;
    auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
    EXPECT_TRUE(profiles.ok()) << profiles.status();
    Scheduler::Options options;
    options.seed = seed;
    options.threads = 1;
    options.pre_filter_result = pre_filter_result;
    return std::make_unique<Scheduler>(cache_.get(), *std::move(profiles), options);
  }

  void AddNode(const std::string& name, int64_t milli_cpu, bool unschedulable = false) {
    auto n = std::make_shared<model::Node>();
    n->name = name;
    n->name_id = names_.Intern(name);
    n->allocatable.milli_cpu = milli_cpu;
    n->allocatable.memory = 32 * kGi;
    n->allocatable.allowed_pods = 110;
    n->unschedulable = unschedulable;
    ASSERT_TRUE(cache_->AddNode(n).ok());
  }

  std::shared_ptr<model::Pod> Pod(const std::string& name, int64_t milli_cpu,
                                  int32_t priority = 0) {
    auto p = std::make_shared<model::Pod>();
    p->ns = "default";
    p->name = name;
    p->uid = name;
    p->scheduler_name = "default-scheduler";
    p->requests.milli_cpu = milli_cpu;
    p->requests.memory = kGi;
    p->non_zero_milli_cpu = milli_cpu;
    p->non_zero_memory = kGi;
    p->priority = priority;
    return p;
  }

  // One required term per entry, each pinning the names given (matchFields
  // metadata.name In), as the DaemonSet controller writes them.
  std::shared_ptr<model::Pod> Pinned(const std::string& name, int64_t milli_cpu,
                       const std::vector<std::vector<std::string>>& terms, int32_t priority = 0) {
    auto p = Pod(name, milli_cpu, priority);
    model::NodeSelector sel;
    for (const auto& names : terms) {
      model::NodeSelectorTerm term;
      std::vector<model::Id> ids;
      for (const std::string& n : names) ids.push_back(names_.Intern(n));
      std::sort(ids.begin(), ids.end());
      term.fields.push_back({model::kNoId, model::SelectorOp::kIn, ids, 0});
      sel.terms.push_back(term);
    }
    p->required_node_affinity = sel;
    return p;
  }

  void Bind(std::shared_ptr<model::Pod> pod, const std::string& node) {
    pod->node_name = node;
    ASSERT_TRUE(cache_->AddPod(pod).ok());
  }

  model::Interner names_;
  std::unique_ptr<cache::Cache> cache_ = std::make_unique<cache::Cache>();
  framework::Nominator nominator_;
  CacheDeleter deleter_{&cache_};
};

TEST_F(PreFilterResultTest, Table) {
  struct Case {
    std::string name;
    std::vector<std::vector<std::string>> terms;
    int64_t milli_cpu;
    std::string node;  // empty: unschedulable
    int evaluated;
    std::string message;
    std::vector<std::string> plugins;
  };
  const std::vector<Case> cases = {
      {"fits on its node", {{"n3"}}, 500, "n3", 1, "", {}},
      {"two terms, one node cordoned", {{"n1"}, {"n2"}}, 500, "n2", 2, "", {}},
      // More than the node's allocatable: unresolvable, as upstream.
      {"larger than its node",
       {{"n3"}},
       3000,
       "",
       1,
       "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) "
       "[NodeAffinity]. preemption: 0/5 nodes are available: 5 Preemption is not helpful for "
       "scheduling..",
       {"NodeAffinity", "NodeResourcesFit"}},
      // n3 holds a pod of the same priority (see below): nothing to evict.
      {"its node is full",
       {{"n3"}},
       1500,
       "",
       1,
       "0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) "
       "[NodeAffinity]. preemption: 0/5 nodes are available: 1 No preemption victims found for "
       "incoming pod, 4 Preemption is not helpful for scheduling..",
       {"NodeAffinity", "NodeResourcesFit"}},
      {"names a node that does not exist",
       {{"ghost"}},
       500,
       "",
       0,
       "0/5 nodes are available: 5 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: "
       "0/5 nodes are available: 5 Preemption is not helpful for scheduling..",
       {"NodeAffinity"}},
      {"its only node is cordoned",
       {{"n1"}},
       500,
       "",
       1,
       "0/5 nodes are available: 1 node(s) were unschedulable, 4 node(s) didn't satisfy "
       "plugin(s) [NodeAffinity]. preemption: 0/5 nodes are available: 5 Preemption is not "
       "helpful for scheduling..",
       {"NodeAffinity", "NodeUnschedulable"}},
      // Built below: one term whose two requirements pin different nodes.
      {"terms that conflict",
       {},
       500,
       "",
       5,
       "0/5 nodes are available: pod affinity terms conflict. preemption: 0/5 nodes are "
       "available: 5 Preemption is not helpful for scheduling..",
       {"NodeAffinity"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    cache_ = std::make_unique<cache::Cache>();
    AddNode("n1", 2000, /*unschedulable=*/true);
    AddNode("n2", 2000);
    AddNode("n3", 2000);
    AddNode("n4", 4000);
    AddNode("n5", 4000);
    Bind(Pod("busy", 1000), "n3");
    auto s = Make();
    std::shared_ptr<model::Pod> pod = Pinned("ds", c.milli_cpu, c.terms);
    if (c.name == "terms that conflict") {
      model::NodeSelector sel;
      model::NodeSelectorTerm term;
      term.fields.push_back({model::kNoId, model::SelectorOp::kIn, {names_.Intern("n1")}, 0});
      term.fields.push_back({model::kNoId, model::SelectorOp::kIn, {names_.Intern("n2")}, 0});
      sel.terms.push_back(term);
      pod->required_node_affinity = sel;
    }
    ScheduleResult r = s->ScheduleOne(pod);
    EXPECT_EQ(r.node, c.node) << r.message;
    EXPECT_EQ(r.message, c.message);
    EXPECT_EQ(r.evaluated_nodes, c.evaluated);
    EXPECT_EQ(r.unschedulable_plugins, c.plugins);
  }
}

TEST_F(PreFilterResultTest, FitReasonsCountTheLeftOutNodes) {
  AddNode("n1", 2000);
  AddNode("n2", 2000);
  AddNode("n3", 2000);
  auto s = Make();
  s->UpdateSnapshot();
  framework::CycleState state = s->NewCycleState();
  Diagnosis d;
  ScheduleResult r = s->SchedulePod(*s->ProfileFor(*Pod("x", 0)), state,
                                    *Pinned("ds", 3000, {{"n2"}}), &d);
  ASSERT_EQ(r.node, "");
  ASSERT_EQ(r.fit_reasons.size(), 2u);
  EXPECT_EQ(r.fit_reasons[0].plugin, "NodeAffinity");
  EXPECT_EQ(r.fit_reasons[0].reason, "node(s) didn't satisfy plugin(s) [NodeAffinity]");
  EXPECT_EQ(r.fit_reasons[0].nodes, 2);
  EXPECT_EQ(r.fit_reasons[1].plugin, "NodeResourcesFit");
  EXPECT_EQ(r.fit_reasons[1].nodes, 1);
  EXPECT_EQ(d.node_to_status.num_evaluated(), 1u);
  EXPECT_EQ(d.node_to_status.absent_nodes(), 2u);
}

TEST_F(PreFilterResultTest, PreemptsOnlyOnThePinnedNode) {
  AddNode("n1", 2000);
  AddNode("n2", 2000);
  AddNode("n3", 2000);
  // Every node is full of low-priority pods; only n2's may go.
  for (const char* n : {"n1", "n2", "n3"}) Bind(Pod(std::string("low-") + n, 2000), n);
  auto s = Make();
  ScheduleResult r = s->ScheduleOne(Pinned("ds", 1000, {{"n2"}}, /*priority=*/1000));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.nominated_node, "n2");
  ASSERT_EQ(r.victims.size(), 1u);
  EXPECT_EQ(r.victims[0]->name, "low-n2");
}

// Random clusters and pinned pods: with the PreFilterResult, each pod goes
// where the reference (every node filtered) puts it, and when it fits
// nowhere the pinned nodes' statuses are the reference's, the others
// counted as left out.
TEST_F(PreFilterResultTest, SameAsFilteringEveryNode) {
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  int placed = 0, unschedulable = 0;
  for (int round = 0; round < 20; ++round) {
    cache_ = std::make_unique<cache::Cache>();
    const int num_nodes = 3 + pick(30);
    for (int i = 0; i < num_nodes; ++i) {
      AddNode("n" + std::to_string(i), 1000 * (1 + pick(4)), pick(6) == 0);
    }
    for (int i = 0; i < 40; ++i) {
      // 1-2 terms of 1-3 names, now and then a node that does not exist.
      std::vector<std::vector<std::string>> terms(1 + pick(2));
      for (auto& t : terms) {
        for (int k = 0, m = 1 + pick(3); k < m; ++k) {
          t.push_back(pick(10) == 0 ? "gone" : "n" + std::to_string(pick(num_nodes)));
        }
      }
      std::shared_ptr<model::Pod> pod =
          Pinned("p" + std::to_string(i), 250 * (1 + pick(8)), terms);
      if (pick(3) == 0) {
        model::Toleration tol;
        tol.key = names_.Intern("node.kubernetes.io/unschedulable");
        tol.op = model::TolerationOp::kExists;
        pod->tolerations.push_back(tol);
      }
      // Both on the same state, from a fresh scheduler each (same start
      // node, same seed), placing nothing.
      auto narrowed = Make(true, round);
      auto reference = Make(false, round);
      narrowed->UpdateSnapshot();
      reference->UpdateSnapshot();
      framework::CycleState s1 = narrowed->NewCycleState();
      framework::CycleState s2 = reference->NewCycleState();
      Diagnosis d1, d2;
      const framework::Framework& fw1 = *narrowed->ProfileFor(*pod);
      const framework::Framework& fw2 = *reference->ProfileFor(*pod);
      ScheduleResult r1 = narrowed->SchedulePod(fw1, s1, *pod, &d1);
      ScheduleResult r2 = reference->SchedulePod(fw2, s2, *pod, &d2);
      ASSERT_EQ(r1.node, r2.node) << "round " << round << " pod " << i;
      ASSERT_EQ(r1.feasible_nodes, r2.feasible_nodes);
      if (r1.node.empty()) {
        ++unschedulable;
        // The reference's statuses of the pinned nodes.
        std::set<std::string> pinned;
        for (const auto& t : terms) pinned.insert(t.begin(), t.end());
        std::map<std::string, std::vector<std::string>> want;
        d2.node_to_status.ForEach([&](const framework::NodeInfo* node, const framework::Status& s) {
          if (pinned.count(node->node()->name) > 0) want[node->node()->name] = s.reasons();
        });
        std::map<std::string, std::vector<std::string>> got;
        d1.node_to_status.ForEach([&](const framework::NodeInfo* node, const framework::Status& s) {
          got[node->node()->name] = s.reasons();
        });
        EXPECT_EQ(got, want) << "round " << round << " pod " << i;
        EXPECT_EQ(d1.node_to_status.absent_nodes() + d1.node_to_status.num_evaluated(),
                  static_cast<size_t>(num_nodes));
      } else {
        ++placed;
        // Place it, so the next pods see it (a fresh scheduler: the first
        // moved its start node on by the nodes it filtered, as upstream's).
        ASSERT_EQ(Make(true, round)->ScheduleOne(pod).node, r1.node);
      }
    }
  }
  // Both outcomes happened often enough to mean something.
  EXPECT_GT(placed, 100);
  EXPECT_GT(unschedulable, 100);
}

}  // namespace
}  // namespace kestrel::scheduler
