// Property test: every plugin's node-table fast path (FilterRows, ScoreRows)
// agrees exactly with its per-node reference (Filter, Score), on random
// clusters and pods, under several profiles. New plugins in the in-tree
// registry are covered as soon as a profile here enables them.

#include <algorithm>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "scheduler/cache/cache.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"

namespace kestrel::scheduler {
namespace {

constexpr int64_t kGi = int64_t{1} << 30;

class RowsEquivalenceTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    gpu_ = names_.Intern("example.com/gpu");
    unschedulable_key_ = names_.Intern("node.kubernetes.io/unschedulable");
  }

  model::NodePtr RandomNode(int i) {
    auto n = std::make_shared<model::Node>();
    n->name = "n" + std::to_string(i);
    n->allocatable.milli_cpu = Pick({0, 500, 1000, 4000});
    n->allocatable.memory = Pick({0, kGi, 4 * kGi, 32 * kGi});
    n->allocatable.ephemeral_storage = Pick({0, 10 * kGi});
    n->allocatable.allowed_pods = Pick({0, 1, 3, 110});
    if (Pick({0, 1}) == 1) n->allocatable.SetScalar(gpu_, Pick({1, 4}));
    n->unschedulable = Pick({0, 0, 0, 1}) == 1;
    // Topology labels (sometimes missing) and taints, for the affinity,
    // spreading and taint plugins.
    std::vector<model::Label> labels;
    if (Pick({0, 1, 1, 1}) == 1) {
      labels.push_back({names_.Intern("zone"), names_.Intern("z" + std::to_string(Pick({1, 2, 3}))), {}});
    }
    if (Pick({0, 1, 1, 1}) == 1) {
      labels.push_back({names_.Intern("kubernetes.io/hostname"), names_.Intern(n->name), {}});
    }
    n->labels = model::Labels(std::move(labels));
    n->name_id = names_.Intern(n->name);
    if (Pick({0, 0, 0, 1}) == 1) n->taints.push_back(MakeTaint("soft", model::TaintEffect::kPreferNoSchedule));
    if (Pick({0, 0, 0, 0, 1}) == 1) n->taints.push_back(MakeTaint("hard", model::TaintEffect::kNoSchedule));
    return n;
  }

  model::Taint MakeTaint(const std::string& key, model::TaintEffect effect) {
    model::Taint t;
    t.key = key;
    t.key_id = names_.Intern(key);
    t.effect = effect;
    return t;
  }

  model::AffinityTerm Term(model::Id topology_key) {
    model::AffinityTerm t;
    t.namespaces = {names_.Intern("default")};
    t.selector = model::LabelSelector::Everything();
    t.selector.requirements.push_back(
        {names_.Intern("app"), model::SelectorOp::kIn, {names_.Intern("a")}, 0});
    t.topology_key = topology_key;
    return t;
  }

  model::PodPtr RandomPod(const std::string& name, const std::string& node) {
    auto p = std::make_shared<model::Pod>();
    p->ns = "default";
    p->name = name;
    p->node_name = node;
    p->scheduler_name = "default-scheduler";
    p->requests.milli_cpu = Pick({0, 0, 100, 500, 700, 1000, 3000});
    p->requests.memory = Pick({0, 0, kGi / 2, kGi, 3 * kGi});
    p->requests.ephemeral_storage = Pick({0, 0, kGi});
    if (Pick({0, 0, 0, 1}) == 1) p->requests.SetScalar(gpu_, Pick({0, 1, 2}));
    // Non-zero defaults apply when a request is absent; model that loosely.
    p->non_zero_milli_cpu = p->requests.milli_cpu == 0 ? model::kDefaultMilliCpuRequest
                                                       : p->requests.milli_cpu;
    p->non_zero_memory =
        p->requests.memory == 0 ? model::kDefaultMemoryRequest : p->requests.memory;
    if (Pick({0, 0, 0, 1}) == 1) {
      model::Toleration t;
      t.key = unschedulable_key_;
      t.op = model::TolerationOp::kExists;
      p->tolerations.push_back(t);
    }
    p->ns_id = names_.Intern(p->ns);
    if (Pick({0, 1}) == 1) {
      p->labels = model::Labels({{names_.Intern("app"), names_.Intern("a"), {}}});
    }
    if (Pick({0, 0, 1}) == 1) {
      model::Toleration t;
      t.key = names_.Intern(Pick({0, 1}) == 1 ? "soft" : "hard");
      t.op = model::TolerationOp::kExists;
      p->tolerations.push_back(t);
    }
    const model::Id zone = names_.Intern("zone");
    const model::Id host = names_.Intern("kubernetes.io/hostname");
    switch (Pick({0, 0, 1, 2, 3, 4, 5})) {
      case 1:
        p->required_anti_affinity.push_back(Term(host));
        break;
      case 2:
        p->required_affinity.push_back(Term(zone));
        break;
      case 3:
        p->preferred_affinity.push_back({Term(zone), 7});
        p->preferred_anti_affinity.push_back({Term(host), 3});
        break;
      case 4:
      case 5: {
        model::TopologySpreadConstraint c;
        c.max_skew = static_cast<int32_t>(Pick({1, 2}));
        c.topology_key = Pick({0, 1}) == 1 ? zone : host;
        c.when_unsatisfiable = Pick({0, 1}) == 1 ? model::UnsatisfiableAction::kDoNotSchedule
                                                 : model::UnsatisfiableAction::kScheduleAnyway;
        c.selector = Term(zone).selector;
        p->spread_constraints.push_back(c);
        break;
      }
    }
    // Node selectors and required node affinity, every operator.
    if (Pick({0, 0, 1}) == 1) {
      p->node_selector.push_back({zone, model::SelectorOp::kIn, {names_.Intern("z1")}, 0});
    }
    if (Pick({0, 1}) == 1) {
      model::NodeSelector sel;
      for (int t = static_cast<int>(Pick({0, 1, 2})); t > 0; --t) {
        model::NodeSelectorTerm term;
        const auto op = static_cast<model::SelectorOp>(Pick({0, 1, 2, 3, 4}));
        model::Requirement r{Pick({0, 1}) == 1 ? zone : host, op, {}, 0};
        if (op == model::SelectorOp::kIn || op == model::SelectorOp::kNotIn) {
          r.values = {names_.Intern("z" + std::to_string(Pick({1, 2, 4}))),
                      names_.Intern("n" + std::to_string(Pick({1, 2, 3})))};
          std::sort(r.values.begin(), r.values.end());
        }
        if (op == model::SelectorOp::kGt) r.number = 1;  // non-numeric labels: never
        if (Pick({0, 0, 1}) == 0) term.expressions.push_back(r);
        if (Pick({0, 0, 1}) == 1) {
          term.fields.push_back({model::kNoId,
                                 Pick({0, 1}) == 1 ? model::SelectorOp::kIn
                                                   : model::SelectorOp::kNotIn,
                                 {names_.Intern("n" + std::to_string(Pick({0, 1, 2, 3})))},
                                 0});
        }
        sel.terms.push_back(term);
      }
      p->required_node_affinity = sel;
    }
    p->has_pod_affinity = !p->required_affinity.empty() || !p->required_anti_affinity.empty() ||
                          !p->preferred_affinity.empty() || !p->preferred_anti_affinity.empty();
    return p;
  }

  int64_t Pick(std::initializer_list<int64_t> choices) {
    std::uniform_int_distribution<size_t> d(0, choices.size() - 1);
    return *(choices.begin() + d(rng_));
  }

  std::mt19937_64 rng_{42};
  model::Interner names_;
  model::Id gpu_ = model::kNoId;
  model::Id unschedulable_key_ = model::kNoId;
};

TEST_P(RowsEquivalenceTest, RowsAgreeWithPerNode) {
  auto cfg = ParseConfig("test.yaml", GetParam());
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  framework::Handle handle;
  handle.interner = &names_;
  auto profiles = BuildProfiles(*cfg, InTreeRegistry(), handle);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  const framework::Framework& fw = *(*profiles)[0];

  int rows_filtered = 0, rows_scored = 0, uniform_scored = 0;
  for (int round = 0; round < 20; ++round) {
    cache::Cache cache;
    const int num_nodes = 40;
    for (int i = 0; i < num_nodes; ++i) ASSERT_TRUE(cache.AddNode(RandomNode(i)).ok());
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(cache
                      .AddPod(RandomPod("e" + std::to_string(i),
                                        "n" + std::to_string(Pick({0, 1, 2, 3, 5, 8, 13}))))
                      .ok());
    }
    cache::Snapshot snapshot;
    cache.UpdateSnapshot(&snapshot);
    framework::NodeInfoList nodes = snapshot.nodes();
    std::vector<uint32_t> rows(nodes.size());
    for (size_t r = 0; r < rows.size(); ++r) rows[r] = static_cast<uint32_t>(r);

    for (int k = 0; k < 30; ++k) {
      model::PodPtr pod = RandomPod("p", "");
      framework::CycleState state;
      state.snapshot = &snapshot;
      state.set_mutable_index(&snapshot.index());
      fw.RunPreFilterPlugins(state, *pod, nodes);
      fw.RunPreScorePlugins(state, *pod, nodes);
      for (const framework::FilterPlugin* f : fw.filter_plugins()) {
        if (!f->FiltersRows(state, *pod)) continue;
        ++rows_filtered;
        std::vector<uint8_t> passed(nodes.size(), 1);
        f->FilterRows(state, *pod, snapshot.table(), 0, nodes.size(), passed.data());
        for (size_t r = 0; r < nodes.size(); ++r) {
          EXPECT_EQ(passed[r] == 1, f->Filter(state, *pod, *nodes[r]).ok())
              << f->Name() << " on " << nodes[r]->node()->name;
        }
      }
      for (const auto& w : fw.score_plugins()) {
        int64_t uniform = -1;
        if (w.plugin->UniformScore(state, *pod, &uniform)) {
          ++uniform_scored;
          // Every node's score, normalized, is the uniform one.
          std::vector<framework::NodeScore> scores;
          for (const framework::NodeInfo* n : nodes) {
            absl::StatusOr<int64_t> s = w.plugin->Score(state, *pod, *n);
            ASSERT_TRUE(s.ok());
            scores.push_back({n, *s});
          }
          if (w.plugin->NormalizesScores()) {
            ASSERT_TRUE(w.plugin->NormalizeScore(state, *pod, absl::MakeSpan(scores)).ok());
          }
          for (const framework::NodeScore& s : scores) {
            EXPECT_EQ(s.score, uniform) << w.plugin->Name() << " on " << s.node->node()->name;
          }
        }
        if (!w.plugin->ScoresRows(state, *pod)) continue;
        ++rows_scored;
        std::vector<int64_t> out(nodes.size());
        w.plugin->ScoreRows(state, *pod, snapshot.table(), rows, out.data());
        for (size_t r = 0; r < nodes.size(); ++r) {
          absl::StatusOr<int64_t> want = w.plugin->Score(state, *pod, *nodes[r]);
          ASSERT_TRUE(want.ok());
          EXPECT_EQ(out[r], *want) << w.plugin->Name() << " on " << nodes[r]->node()->name;
        }
      }
    }
  }
  // The fast paths were exercised, not skipped.
  EXPECT_GT(rows_filtered, 0);
  EXPECT_GT(rows_scored, 0);
  EXPECT_GT(uniform_scored, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, RowsEquivalenceTest,
    ::testing::Values(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
        R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 3}, {name: memory, weight: 1}, {name: ephemeral-storage, weight: 2}]
  - name: NodeResourcesBalancedAllocation
    args:
      resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}, {name: ephemeral-storage, weight: 1}]
)",
        R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      ignoredResourceGroups: [example.com]
)",
        R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 2}]
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 10}, {utilization: 60, score: 3}, {utilization: 100, score: 0}]
)"));

// A pod asking for an extended resource that no node has: no column exists,
// and the rows reject every node, as Filter does.
TEST(NodeTableScalarTest, ResourceNoNodeHasFitsNowhere) {
  model::Interner names;
  cache::Cache cache;
  for (int i = 0; i < 3; ++i) {
    auto n = std::make_shared<model::Node>();
    n->name = "n" + std::to_string(i);
    n->allocatable.milli_cpu = 4000;
    n->allocatable.allowed_pods = 10;
    ASSERT_TRUE(cache.AddNode(n).ok());
  }
  cache::Snapshot snapshot;
  cache.UpdateSnapshot(&snapshot);
  framework::Handle handle;
  handle.interner = &names;
  auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
  ASSERT_TRUE(profiles.ok());
  const framework::Framework& fw = *(*profiles)[0];
  model::Pod pod;
  pod.requests.SetScalar(names.Intern("example.com/fpga"), 1);
  framework::CycleState state;
  for (const framework::FilterPlugin* f : fw.filter_plugins()) {
    if (f->Name() != "NodeResourcesFit") continue;
    ASSERT_TRUE(f->FiltersRows(state, pod));
    std::vector<uint8_t> passed(3, 1);
    f->FilterRows(state, pod, snapshot.table(), 0, 3, passed.data());
    EXPECT_EQ(passed, (std::vector<uint8_t>{0, 0, 0}));
    EXPECT_EQ(f->Filter(state, pod, *snapshot.nodes()[0]).Message(),
              "Insufficient example.com/fpga");
  }
}

// The whole cycle: with and without the node table, the same placements and
// the same messages, pod after pod.
TEST(NodeTableCycleTest, SamePlacementsWithAndWithoutTable) {
  auto run = [](bool use_table) {
    std::mt19937_64 rng(7);
    auto pick = [&](std::initializer_list<int64_t> c) {
      return *(c.begin() + std::uniform_int_distribution<size_t>(0, c.size() - 1)(rng));
    };
    model::Interner names;
    cache::Cache cache;
    for (int i = 0; i < 200; ++i) {
      auto n = std::make_shared<model::Node>();
      n->name = "n" + std::to_string(i);
      n->allocatable.milli_cpu = pick({1000, 2000, 4000});
      n->allocatable.memory = pick({2 * kGi, 8 * kGi});
      n->allocatable.allowed_pods = pick({2, 10, 110});
      n->unschedulable = pick({0, 0, 0, 0, 1}) == 1;
      cache.AddNode(n).IgnoreError();
    }
    framework::Handle handle;
    handle.interner = &names;
    auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
    Scheduler::Options options;
    options.seed = 3;
    options.threads = 2;
    options.use_node_table = use_table;
    Scheduler s(&cache, *std::move(profiles), options);
    std::vector<std::string> out;
    for (int i = 0; i < 1500; ++i) {
      auto p = std::make_shared<model::Pod>();
      p->ns = "default";
      p->name = "p" + std::to_string(i);
      p->scheduler_name = "default-scheduler";
      p->requests.milli_cpu = pick({0, 100, 250, 900});
      p->requests.memory = pick({0, kGi / 4, kGi});
      p->non_zero_milli_cpu = p->requests.milli_cpu ? p->requests.milli_cpu : 100;
      p->non_zero_memory = p->requests.memory ? p->requests.memory : model::kDefaultMemoryRequest;
      ScheduleResult r = s.ScheduleOne(p);
      out.push_back(r.node + "|" + r.message);
    }
    return out;
  };
  const std::vector<std::string> with_table = run(true);
  EXPECT_EQ(with_table, run(false));
  // The run filled the cluster: some pods were rejected, with messages.
  EXPECT_NE(std::count_if(with_table.begin(), with_table.end(),
                          [](const std::string& s) { return s[0] == '|'; }),
            0);
}

}  // namespace
}  // namespace kestrel::scheduler
