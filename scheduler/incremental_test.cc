// The incremental selection (Scheduler::Options::incremental) against the
// full path it stands beside: BestRows against a brute-force scan, the
// snapshot's row log, and whole runs of random workloads — pods cloned
// from a few templates, the cluster changing between cycles (nodes added,
// updated and removed, pods deleted, preemption) — where both paths, with
// the same seed, must place every pod on the same node with the same
// message.

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "scheduler/best_rows.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"

namespace kestrel::scheduler {
namespace {

constexpr int64_t kGi = int64_t{1} << 30;

// ---------------------------------------------------------------------------
// BestRows

TEST(BestRowsTest, AgreesWithAScan) {
  std::mt19937_64 rng(11);
  for (size_t n : {1, 2, 3, 7, 64, 100, 1000}) {
    BestRows best;
    best.Reset(n);
    std::vector<int64_t> values(n, BestRows::kNone);
    EXPECT_EQ(best.top().count, 0u);
    for (int step = 0; step < 400; ++step) {
      const size_t row = rng() % n;
      // Few distinct values, so that ties are common.
      const int64_t v = rng() % 5 == 0 ? BestRows::kNone : static_cast<int64_t>(rng() % 4);
      best.Set(row, v);
      values[row] = v;
      if (step % 50 == 49) {
        // Now and then many rows at once: Assign, then Rebuild.
        for (size_t r = 0; r < n; r += 1 + rng() % 3) {
          values[r] = rng() % 5 == 0 ? BestRows::kNone : static_cast<int64_t>(rng() % 4);
          best.Assign(r, values[r]);
        }
        best.Rebuild();
      }
      const int64_t max = *std::max_element(values.begin(), values.end());
      const auto count = static_cast<uint32_t>(std::count(values.begin(), values.end(), max));
      if (max == BestRows::kNone) {
        EXPECT_EQ(best.top().count, 0u);
        continue;
      }
      ASSERT_EQ(best.top().value, max);
      ASSERT_EQ(best.top().count, count);
      // The k-th best counting from `from`, wrapping around.
      const size_t from = rng() % n;
      std::vector<uint32_t> order;
      for (size_t i = 0; i < n; ++i) {
        const size_t r = (from + i) % n;
        if (values[r] == max) order.push_back(static_cast<uint32_t>(r));
      }
      for (uint32_t k = 0; k < count; ++k) {
        ASSERT_EQ(best.KthBest(from, k), order[k]) << "n=" << n << " from=" << from << " k=" << k;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The snapshot's row log

TEST(SnapshotRowLogTest, ListsTheRowsEachUpdateRewrote) {
  cache::Cache cache;
  for (int i = 0; i < 4; ++i) {
    auto n = std::make_shared<model::Node>();
    n->name = "n" + std::to_string(i);
    n->allocatable.milli_cpu = 1000;
    n->allocatable.allowed_pods = 10;
    ASSERT_TRUE(cache.AddNode(n).ok());
  }
  cache::Snapshot snapshot;
  cache.UpdateSnapshot(&snapshot);
  const uint64_t first = snapshot.updates();
  std::vector<uint32_t> rows;
  // Nothing is known from before the table was built.
  EXPECT_FALSE(snapshot.RowsChangedSince(first - 1, &rows));
  EXPECT_TRUE(snapshot.RowsChangedSince(first, &rows));
  EXPECT_TRUE(rows.empty());

  auto pod = std::make_shared<model::Pod>();
  pod->ns = "default";
  pod->name = "p";
  pod->node_name = "n2";
  pod->requests.milli_cpu = 100;
  ASSERT_TRUE(cache.AddPod(pod).ok());
  cache.UpdateSnapshot(&snapshot);
  rows.clear();
  ASSERT_TRUE(snapshot.RowsChangedSince(first, &rows));
  EXPECT_EQ(rows, std::vector<uint32_t>{2});
  rows.clear();
  ASSERT_TRUE(snapshot.RowsChangedSince(snapshot.updates(), &rows));
  EXPECT_TRUE(rows.empty());

  // A new node renumbers nothing here, but the node set changed: the table
  // is rebuilt and what came before is unknown.
  auto n4 = std::make_shared<model::Node>();
  n4->name = "n4";
  ASSERT_TRUE(cache.AddNode(n4).ok());
  cache.UpdateSnapshot(&snapshot);
  rows.clear();
  EXPECT_FALSE(snapshot.RowsChangedSince(first, &rows));
  EXPECT_TRUE(snapshot.RowsChangedSince(snapshot.updates(), &rows));
}

// ---------------------------------------------------------------------------
// Whole runs: incremental and full, the same placements.

class World {
 public:
  // `soft_taints`: some nodes have PreferNoSchedule taints. TaintToleration
  // then scores them apart, normalized by the highest count; without, its
  // score is uniform.
  World(uint64_t seed, bool soft_taints) : rng_(seed), soft_taints_(soft_taints) {
    zone_ = names_.Intern("zone");
    host_ = names_.Intern("kubernetes.io/hostname");
    gpu_ = names_.Intern("example.com/gpu");
  }

  int64_t Pick(std::initializer_list<int64_t> choices) {
    std::uniform_int_distribution<size_t> d(0, choices.size() - 1);
    return *(choices.begin() + d(rng_));
  }

  model::Taint MakeTaint(const std::string& key, model::TaintEffect effect) {
    model::Taint t;
    t.key = key;
    t.key_id = names_.Intern(key);
    t.effect = effect;
    return t;
  }

  model::NodePtr RandomNode(const std::string& name) {
    auto n = std::make_shared<model::Node>();
    n->name = name;
    n->name_id = names_.Intern(name);
    n->allocatable.milli_cpu = Pick({1000, 2000, 4000, 8000});
    n->allocatable.memory = Pick({2 * kGi, 8 * kGi, 16 * kGi});
    n->allocatable.ephemeral_storage = Pick({0, 20 * kGi});
    n->allocatable.allowed_pods = Pick({3, 10, 110});
    if (Pick({0, 0, 0, 1}) == 1) n->allocatable.SetScalar(gpu_, Pick({1, 4}));
    n->unschedulable = Pick({0, 0, 0, 0, 0, 1}) == 1;
    std::vector<model::Label> labels;
    labels.push_back({zone_, names_.Intern("z" + std::to_string(Pick({1, 2, 3}))), {}});
    labels.push_back({host_, n->name_id, {}});
    if (Pick({0, 1}) == 1) labels.push_back({names_.Intern("disk"), names_.Intern("ssd"), {}});
    n->labels = model::Labels(std::move(labels));
    if (soft_taints_ && Pick({0, 0, 0, 0, 1}) == 1) {
      n->taints.push_back(MakeTaint("soft", model::TaintEffect::kPreferNoSchedule));
      // Counts of 2 on a few: when those fill up, the highest count moves.
      if (Pick({0, 0, 1}) == 1) {
        n->taints.push_back(MakeTaint("soft2", model::TaintEffect::kPreferNoSchedule));
      }
    }
    if (Pick({0, 0, 0, 0, 0, 1}) == 1) {
      n->taints.push_back(MakeTaint("hard", model::TaintEffect::kNoSchedule));
    }
    return n;
  }

  model::AffinityTerm Term(model::Id topology_key) {
    model::AffinityTerm t;
    t.namespaces = {names_.Intern("default")};
    t.selector = model::LabelSelector::Everything();
    t.selector.requirements.push_back(
        {names_.Intern("app"), model::SelectorOp::kIn, {names_.Intern("t0")}, 0});
    t.topology_key = topology_key;
    return t;
  }

  // A template: requests, tolerations, node selection and ports that the
  // row-local plugins read; now and then affinity or spreading, which are
  // not row-local (those cycles take the full path).
  model::Pod RandomTemplate(int t) {
    model::Pod p;
    p.ns = "default";
    p.ns_id = names_.Intern("default");
    p.scheduler_name = "default-scheduler";
    p.labels = model::Labels({{names_.Intern("app"), names_.Intern("t" + std::to_string(t)), {}}});
    p.priority = static_cast<int32_t>(Pick({0, 0, 0, 100, 1000}));
    p.requests.milli_cpu = Pick({0, 100, 250, 500, 1500});
    p.requests.memory = Pick({0, kGi / 4, kGi, 3 * kGi});
    p.requests.ephemeral_storage = Pick({0, 0, kGi});
    if (Pick({0, 0, 0, 0, 1}) == 1) p.requests.SetScalar(gpu_, 1);
    p.non_zero_milli_cpu =
        p.requests.milli_cpu == 0 ? model::kDefaultMilliCpuRequest : p.requests.milli_cpu;
    p.non_zero_memory = p.requests.memory == 0 ? model::kDefaultMemoryRequest : p.requests.memory;
    if (Pick({0, 0, 1}) == 1) {
      model::Toleration tol;
      tol.key = names_.Intern(Pick({0, 1}) == 1 ? "soft" : "hard");
      tol.op = model::TolerationOp::kExists;
      p.tolerations.push_back(tol);
    }
    if (Pick({0, 0, 0, 1}) == 1) {
      model::Toleration tol;
      tol.key = names_.Intern("node.kubernetes.io/unschedulable");
      tol.op = model::TolerationOp::kExists;
      p.tolerations.push_back(tol);
    }
    if (Pick({0, 0, 1}) == 1) {
      p.node_selector.push_back(
          {zone_, model::SelectorOp::kIn, {names_.Intern("z" + std::to_string(Pick({1, 2})))}, 0});
    }
    if (Pick({0, 0, 0, 1}) == 1) {
      model::NodeSelector sel;
      model::NodeSelectorTerm term;
      term.expressions.push_back({names_.Intern("disk"), model::SelectorOp::kExists, {}, 0});
      sel.terms.push_back(term);
      if (Pick({0, 1}) == 1) {
        model::NodeSelectorTerm by_name;
        by_name.fields.push_back({model::kNoId, model::SelectorOp::kIn,
                                  {names_.Intern("n" + std::to_string(Pick({1, 2, 3})))}, 0});
        // Alone, the name pins the pod (a PreFilterResult, as a DaemonSet
        // pod's); beside the label term, it does not.
        if (Pick({0, 1}) == 1) sel.terms.clear();
        sel.terms.push_back(by_name);
      }
      p.required_node_affinity = sel;
    }
    if (Pick({0, 0, 0, 0, 1}) == 1) p.host_ports.push_back({model::Protocol::kTCP, "0.0.0.0", 8080});
    if (Pick({0, 0, 0, 1}) == 1) {
      p.preferred_node_affinity.push_back({5, model::NodeSelectorTerm{
                                                  {{zone_, model::SelectorOp::kIn,
                                                    {names_.Intern("z3")}, 0}},
                                                  {},
                                                  {}}});
      // Two weights: nodes matching both score highest, and when they
      // fill up the highest raw score moves, and every node's normalized
      // score with it.
      if (Pick({0, 1}) == 1) {
        p.preferred_node_affinity.push_back(
            {3, model::NodeSelectorTerm{
                    {{names_.Intern("disk"), model::SelectorOp::kExists, {}, 0}}, {}, {}}});
      }
    }
    switch (Pick({0, 0, 0, 0, 0, 1, 2, 3})) {
      case 1:
        p.required_anti_affinity.push_back(Term(host_));
        break;
      case 2:
        p.preferred_affinity.push_back({Term(zone_), 7});
        break;
      case 3: {
        model::TopologySpreadConstraint c;
        c.max_skew = 1;
        c.topology_key = zone_;
        c.when_unsatisfiable = Pick({0, 1}) == 1 ? model::UnsatisfiableAction::kDoNotSchedule
                                                 : model::UnsatisfiableAction::kScheduleAnyway;
        c.selector = Term(zone_).selector;
        p.spread_constraints.push_back(c);
        break;
      }
    }
    p.has_pod_affinity = !p.required_affinity.empty() || !p.required_anti_affinity.empty() ||
                         !p.preferred_affinity.empty() || !p.preferred_anti_affinity.empty();
    return p;
  }

  std::mt19937_64& rng() { return rng_; }
  model::Interner& names() { return names_; }

 private:
  std::mt19937_64 rng_;
  bool soft_taints_;
  model::Interner names_;
  model::Id zone_, host_, gpu_;
};

// Deletes preemption's victims from the cache at once.
class CacheDeleter : public framework::PodDeleter {
 public:
  explicit CacheDeleter(cache::Cache* cache) : cache_(cache) {}
  absl::Status DeletePod(const model::Pod& victim, const model::Pod&) override {
    return cache_->RemovePod(victim);
  }

 private:
  cache::Cache* cache_;
};

struct RunResult {
  std::vector<std::string> placements;
  Scheduler::Stats stats;
};

// One run: the same seed draws the same cluster, templates and changes
// whatever `incremental` is, since the scheduler's choices feed back only
// through which pods exist (the world draws from its own generator).
RunResult RunWorkload(const std::string& config_yaml, bool incremental, uint64_t seed) {
  World w(seed, /*soft_taints=*/seed % 3 == 0);
  cache::Cache cache;
  CacheDeleter deleter(&cache);
  framework::Nominator nominator;
  auto config = ParseConfig("test.yaml", config_yaml);
  EXPECT_TRUE(config.ok()) << config.status();
  framework::Handle handle;
  handle.interner = &w.names();
  handle.deleter = &deleter;
  handle.nominator = &nominator;
  handle.seed = seed;
  int num_nodes = 0;
  std::vector<std::string> node_names;
  for (; num_nodes < 130; ++num_nodes) {
    node_names.push_back("n" + std::to_string(num_nodes));
    EXPECT_TRUE(cache.AddNode(w.RandomNode(node_names.back())).ok());
  }
  std::vector<model::Pod> templates;
  for (int t = 0; t < 6; ++t) templates.push_back(w.RandomTemplate(t));
  // Templates' names intern now: plugins must not intern while scheduling.
  auto profiles = BuildProfiles(*config, InTreeRegistry(), handle);
  EXPECT_TRUE(profiles.ok()) << profiles.status();
  Scheduler::Options options;
  options.seed = seed;
  options.threads = 2;
  options.min_parallel_nodes = 16;  // the parallel full pass, on 130 nodes
  options.incremental = incremental;
  options.percentage_of_nodes_to_score = config->percentageofnodestoscore();
  Scheduler s(&cache, *std::move(profiles), options);

  RunResult out;
  std::vector<model::PodPtr> bound;
  size_t t = 0;
  for (int i = 0; i < 500; ++i) {
    // The cluster changes between cycles, now and then.
    switch (w.Pick({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})) {
      case 1: {  // a node joins
        node_names.push_back("n" + std::to_string(num_nodes++));
        EXPECT_TRUE(cache.AddNode(w.RandomNode(node_names.back())).ok());
        break;
      }
      case 2: {  // a node changes: taints, labels, allocatable, cordon
        const std::string& name = node_names[w.rng()() % node_names.size()];
        EXPECT_TRUE(cache.UpdateNode(w.RandomNode(name)).ok());
        break;
      }
      case 3: {  // a node goes, with its pods
        if (node_names.size() < 10) break;
        const size_t k = w.rng()() % node_names.size();
        const std::string name = node_names[k];
        node_names.erase(node_names.begin() + static_cast<long>(k));
        std::vector<model::PodPtr> kept;
        for (const model::PodPtr& p : bound) {
          if (p->node_name == name) {
            // Preemption may have deleted it already.
            if (cache.GetPod(p->Key()) != nullptr) {
              EXPECT_TRUE(cache.RemovePod(*p).ok());
            }
          } else {
            kept.push_back(p);
          }
        }
        bound.swap(kept);
        EXPECT_TRUE(cache.RemoveNode(name).ok());
        break;
      }
      case 4: {  // a pod finishes
        if (bound.empty()) break;
        const size_t k = w.rng()() % bound.size();
        // Preemption may have deleted it already.
        if (cache.GetPod(bound[k]->Key()) != nullptr) {
          EXPECT_TRUE(cache.RemovePod(*bound[k]).ok());
        }
        bound.erase(bound.begin() + static_cast<long>(k));
        break;
      }
    }
    // Runs of the same template, as a ReplicaSet's pods come.
    if (w.Pick({0, 0, 0, 1}) == 1) t = w.rng()() % templates.size();
    auto pod = std::make_shared<model::Pod>(templates[t]);
    pod->name = absl::StrCat("p", i);
    pod->uid = pod->name;
    ScheduleResult r = s.ScheduleOne(pod);
    // What the queue and reports read beside the message, too.
    std::string line = absl::StrCat(pod->name, " ", r.node, "|", r.message, "|",
                                    absl::StrJoin(r.unschedulable_plugins, ","), "|");
    for (const ReasonCount& c : r.fit_reasons) {
      absl::StrAppend(&line, c.plugin, ":", c.reason, ":", c.nodes, ";");
    }
    if (r.node.empty() && !r.nominated_node.empty()) {
      // The victims are gone: the nominated pod's next cycle places it.
      model::PodPtr nominated = nominator.Get(pod->Key());
      if (nominated != nullptr) {
        r = s.ScheduleOne(nominated);
        absl::StrAppend(&line, " then ", r.node, "|", r.message);
      }
    }
    if (!r.node.empty()) {
      model::PodPtr assumed = cache.GetPod(pod->Key());
      EXPECT_NE(assumed, nullptr);
      EXPECT_TRUE(cache.AddPod(assumed).ok());
      bound.push_back(assumed);
    } else {
      nominator.Delete(*pod);
    }
    out.placements.push_back(std::move(line));
  }
  out.stats = s.stats();
  return out;
}

struct Profile {
  const char* config;
  bool scores_kept;  // false: sampling, so every cycle scores the full way
};

class IncrementalEquivalenceTest : public ::testing::TestWithParam<Profile> {};

TEST_P(IncrementalEquivalenceTest, SamePlacementsAsTheFullPath) {
  Scheduler::Stats total;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const RunResult full = RunWorkload(GetParam().config, /*incremental=*/false, seed);
    const RunResult incremental = RunWorkload(GetParam().config, /*incremental=*/true, seed);
    ASSERT_EQ(full.placements.size(), incremental.placements.size());
    for (size_t i = 0; i < full.placements.size(); ++i) {
      ASSERT_EQ(incremental.placements[i], full.placements[i])
          << "seed " << seed << ", pod " << i;
    }
    EXPECT_EQ(full.stats.filter_incremental + full.stats.score_incremental +
                  full.stats.feasible_reused + full.stats.diagnosis_kept,
              0);
    total.filter_incremental += incremental.stats.filter_incremental;
    total.feasible_reused += incremental.stats.feasible_reused;
    total.filter_full += incremental.stats.filter_full;
    total.score_incremental += incremental.stats.score_incremental;
    total.score_full += incremental.stats.score_full;
    total.diagnosis_kept += incremental.stats.diagnosis_kept;
    total.score_renormalized += incremental.stats.score_renormalized;
  }

  // Both ways ran: the incremental path was taken, and so was the full one
  // (templates with affinity or spreading, changed templates).
  EXPECT_GT(total.filter_incremental, 100);
  EXPECT_GT(total.filter_full, 100);
  // Pods that fit nowhere took their diagnosis from kept verdicts.
  EXPECT_GT(total.diagnosis_kept, 100);
  if (GetParam().scores_kept) {
    // Without sampling, cycles whose changed rows kept their verdicts
    // reused the feasible list.
    EXPECT_GT(total.feasible_reused, 50);
    EXPECT_GT(total.score_incremental, 100);
    // Normalizing plugins (soft taints, two preferred terms) kept their raw
    // scores, and the highest moved now and then.
    EXPECT_GT(total.score_renormalized, 0);
  } else {
    EXPECT_EQ(total.score_incremental, 0);
    EXPECT_EQ(total.feasible_reused, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, IncrementalEquivalenceTest,
    ::testing::Values(
        Profile{"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n",
                true},
        Profile{R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 3}, {name: memory, weight: 1}, {name: example.com/gpu, weight: 2}]
)",
                true},
        Profile{R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    score:
      enabled:
      - {name: NodeResourcesBalancedAllocation, weight: 7}
)",
                true},
        // Sampling: the filter verdicts are kept, the scores are not.
        Profile{R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
)",
                false}));

}  // namespace
}  // namespace kestrel::scheduler
