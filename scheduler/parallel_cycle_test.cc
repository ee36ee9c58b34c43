// Scheduling cycles on clusters big enough to run in parallel: filter, score
// and preemption's dry runs give exactly the same answers with 1, 2 and 4
// threads. The clusters are built in memory (2,048 nodes; nodes and pods
// compiled from a few YAML templates, then copied), so the tests stay fast,
// also under ThreadSanitizer, where they run too (tag "concurrency":
// `bazel test --config=tsan --test_tag_filters=concurrency`, part of
// ./test.sh).
//
// Below Parallelizer's thresholds (1,024 nodes for per-node plugins, 32
// times that for passes over the node table) a pass runs on the caller
// alone, whatever the thread count; Scheduler::Options::min_parallel_nodes
// lowers them so that the node-table passes are split too (2,048 nodes over
// 4 threads: chunks of 128 in four ranges of 512). Preemption's dry runs
// are split from 128 nodes on.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"

namespace kestrel::scheduler {
namespace {

constexpr int kNodes = 2048;
constexpr int kThreads[] = {1, 2, 4};

// Nodes and pods compiled from YAML templates, so that selectors, terms
// and taints go through the real compiler; instances are copies.
class World {
 public:
  model::NodePtr Node(const std::string& yaml) {
    ::k8s::io::api::core::v1::Node node;
    absl::Status s = api::DecodeInto(yaml, &node, "node");
    EXPECT_TRUE(s.ok()) << s << "\n" << yaml;
    auto compiled = model::CompileNode(node, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status() << "\n" << yaml;
    return compiled.ok() ? *compiled : std::make_shared<model::Node>();
  }

  model::PodPtr Pod(const std::string& yaml) {
    ::k8s::io::api::core::v1::Pod pod;
    absl::Status s = api::DecodeInto(yaml, &pod, "pod");
    EXPECT_TRUE(s.ok()) << s << "\n" << yaml;
    auto compiled = model::CompilePod(pod, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status() << "\n" << yaml;
    return compiled.ok() ? *compiled : std::make_shared<model::Pod>();
  }

  // A copy of `tmpl` named `name`, labelled with its hostname and `extra`.
  void AddNode(const model::Node& tmpl, const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& extra) {
    auto n = std::make_shared<model::Node>(tmpl);
    n->name = name;
    n->name_id = names.Intern(name);
    std::vector<model::Label> labels = tmpl.labels.items();
    labels.push_back({names.Intern("kubernetes.io/hostname"), n->name_id, {}});
    for (const auto& [k, v] : extra) labels.push_back({names.Intern(k), names.Intern(v), {}});
    n->labels = model::Labels(std::move(labels));
    nodes.push_back(std::move(n));
  }

  // A copy of `tmpl` named `name`, bound to `node` (empty: pending).
  static std::shared_ptr<model::Pod> Copy(const model::Pod& tmpl, const std::string& name,
                                          const std::string& node = "",
                                          int start_minute = 0) {
    auto p = std::make_shared<model::Pod>(tmpl);
    p->name = name;
    p->uid = name;
    p->node_name = node;
    if (!node.empty()) p->start_time = absl::FromUnixSeconds(1700000000 + 60 * start_minute);
    return p;
  }

  model::Interner names;
  std::vector<model::NodePtr> nodes;
  std::vector<model::PodPtr> bound;    // in the cache from the start
  std::vector<model::PodPtr> pending;  // scheduled in order
};

// Deletes preemption's victims from the cache at once, as the simulator does.
class CacheDeleter : public framework::PodDeleter {
 public:
  explicit CacheDeleter(cache::Cache* cache) : cache_(cache) {}
  absl::Status DeletePod(const model::Pod& victim, const model::Pod&) override {
    return cache_->RemovePod(victim);
  }

 private:
  cache::Cache* cache_;
};

// One scheduler over a fresh cache of the world's nodes and bound pods,
// with a nominator and a deleter, so that preemption runs.
class Host {
 public:
  Host(World& w, const config::KubeSchedulerConfiguration& config, Scheduler::Options options)
      : deleter_(&cache_) {
    for (const model::NodePtr& n : w.nodes) EXPECT_TRUE(cache_.AddNode(n).ok());
    for (const model::PodPtr& p : w.bound) EXPECT_TRUE(cache_.AddPod(p).ok()) << p->Key();
    framework::Handle handle;
    handle.interner = &w.names;
    handle.nominator = &nominator_;
    handle.deleter = &deleter_;
    handle.seed = options.seed;
    auto profiles = BuildProfiles(config, InTreeRegistry(), handle);
    EXPECT_TRUE(profiles.ok()) << profiles.status();
    scheduler_ = std::make_unique<Scheduler>(&cache_, *std::move(profiles), options);
  }

  Scheduler& scheduler() { return *scheduler_; }
  framework::Nominator& nominator() { return nominator_; }

  // Everything a cycle answers, as one line.
  std::string Schedule(const model::PodPtr& pod) {
    ScheduleResult r = scheduler_->ScheduleOne(pod);
    std::vector<std::string> victims;
    for (const model::PodPtr& v : r.victims) victims.push_back(v->Key());
    return absl::StrCat(pod->Key(), " -> ", r.node, " | ", r.message, " | evaluated ",
                        r.evaluated_nodes, ", feasible ", r.feasible_nodes, " | nominated ",
                        r.nominated_node, " | victims ", absl::StrJoin(victims, ","));
  }

 private:
  cache::Cache cache_;
  framework::Nominator nominator_;
  CacheDeleter deleter_;
  std::unique_ptr<Scheduler> scheduler_;
};

// ---------------------------------------------------------------------------
// A mixed cluster: resources, taints, images, zones; existing pods with
// required and preferred (anti-)affinity; pending pods for every default
// plugin, and high-priority pods that fit only by preempting.

std::unique_ptr<World> MixedWorld() {
  auto w = std::make_unique<World>();
  const model::NodePtr standard = w->Node(R"(
metadata: {name: t, labels: {disk: ssd}}
status:
  allocatable: {cpu: "4", memory: 16Gi, pods: "110"}
  images: [{names: ["registry.example/app:1"], sizeBytes: 500000000}]
)");
  const model::NodePtr big = w->Node(R"(
metadata: {name: t, labels: {disk: hdd}}
status: {allocatable: {cpu: "8", memory: 32Gi, pods: "110"}}
)");
  const model::NodePtr gpu = w->Node(R"(
metadata: {name: t, labels: {disk: ssd}}
spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}
status: {allocatable: {cpu: "8", memory: 32Gi, pods: "110", example.com/gpu: "4"}}
)");
  const model::NodePtr spot = w->Node(R"(
metadata: {name: t, labels: {disk: hdd}}
spec: {taints: [{key: spot, value: "true", effect: PreferNoSchedule}]}
status: {allocatable: {cpu: "4", memory: 16Gi, pods: "3"}}
)");
  for (int i = 0; i < kNodes; ++i) {
    const model::NodePtr& t = i % 10 == 3 ? gpu : i % 7 == 2 ? spot : i % 4 == 1 ? big : standard;
    w->AddNode(*t, absl::StrCat("n", i), {{"topology.kubernetes.io/zone", absl::StrCat("z", i % 3)}});
  }

  const model::PodPtr web = w->Pod(R"(
metadata: {name: t, namespace: default, labels: {app: web}}
spec: {priority: 0, containers: [{name: c, image: "registry.example/app:1", resources: {requests: {cpu: "1", memory: 2Gi}}}]}
)");
  const model::PodPtr db = w->Pod(R"(
metadata: {name: t, namespace: default, labels: {app: db}}
spec:
  priority: 10
  containers: [{name: c, image: db, resources: {requests: {cpu: "2", memory: 4Gi}}}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: db}}, topologyKey: kubernetes.io/hostname}
)");
  const model::PodPtr cache_pod = w->Pod(R"(
metadata: {name: t, namespace: default, labels: {app: cache}}
spec:
  priority: 5
  containers: [{name: c, image: cache, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 50
        podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: topology.kubernetes.io/zone}
)");
  for (int i = 0; i < kNodes; ++i) {
    const std::string node = absl::StrCat("n", i);
    if (i % 10 == 3) continue;  // gpu nodes stay empty
    if (i % 2 == 0) w->bound.push_back(World::Copy(*web, absl::StrCat("web-", i), node, i % 11));
    if (i % 3 == 0 || i % 4 == 1) {
      w->bound.push_back(World::Copy(*db, absl::StrCat("db-", i), node, i % 13));
    }
    if (i % 5 == 0) w->bound.push_back(World::Copy(*cache_pod, absl::StrCat("cache-", i), node, 1));
  }

  const std::vector<model::PodPtr> pending = {
      w->Pod(R"(
metadata: {name: plain, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: "registry.example/app:1", resources: {requests: {cpu: 200m, memory: 256Mi}}}]}
)"),
      w->Pod(R"(
metadata: {name: spread, namespace: default, labels: {app: web}}
spec:
  containers: [{name: c, image: web, resources: {requests: {cpu: 300m}}}]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
  - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}
)"),
      w->Pod(R"(
metadata: {name: anti, namespace: default, labels: {app: db}}
spec:
  containers: [{name: c, image: db, resources: {requests: {cpu: 500m}}}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: db}}, topologyKey: kubernetes.io/hostname}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
)"),
      w->Pod(R"(
metadata: {name: near-db, namespace: default, labels: {app: api}}
spec:
  containers: [{name: c, image: api, resources: {requests: {cpu: 250m}}}]
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: db}}, topologyKey: topology.kubernetes.io/zone}
)"),
      w->Pod(R"(
metadata: {name: ssd, namespace: default, labels: {app: batch}}
spec:
  containers: [{name: c, image: batch, resources: {requests: {cpu: "1", memory: 1Gi}}}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: disk, operator: In, values: [ssd]}]}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 20, preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [z1]}]}}
)"),
      w->Pod(R"(
metadata: {name: trainer, namespace: default, labels: {app: ml}}
spec:
  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
  containers: [{name: c, image: ml, resources: {requests: {cpu: "2", example.com/gpu: "1"}, limits: {example.com/gpu: "1"}}}]
)"),
      w->Pod(R"(
metadata: {name: port, namespace: default, labels: {app: proxy}}
spec:
  tolerations: [{key: spot, operator: Exists}]
  containers: [{name: c, image: proxy, ports: [{containerPort: 80, hostPort: 8080}], resources: {requests: {cpu: 100m}}}]
)"),
      // Fits only by preempting on an 8-cpu node.
      w->Pod(R"(
metadata: {name: urgent, namespace: default, labels: {app: urgent}}
spec:
  priority: 1000
  containers: [{name: c, image: urgent, resources: {requests: {cpu: 7500m}}}]
)"),
      // Fits nowhere, even on an empty node: every node is dry-run.
      w->Pod(R"(
metadata: {name: huge, namespace: default, labels: {app: huge}}
spec:
  priority: 1000
  containers: [{name: c, image: huge, resources: {requests: {cpu: "64"}}}]
)"),
  };
  // Rounds of every kind, so later pods meet what earlier ones changed:
  // assumed pods, deleted victims, nominated pods.
  for (int round = 0; round < 3; ++round) {
    for (const model::PodPtr& p : pending) {
      if (p->name == "huge" && round > 0) continue;
      w->pending.push_back(World::Copy(*p, absl::StrCat(p->name, "-", round)));
    }
  }
  return w;
}

struct Mode {
  const char* name;
  bool use_node_table;
  size_t min_parallel_nodes;
};

// The node-table passes split over threads (lowered threshold), and every
// plugin per node (the default threshold, which 2,048 nodes pass).
const Mode kModes[] = {
    {"NodeTable", true, 1},
    {"PerNode", false, 0},
};

class ParallelCycleTest : public ::testing::TestWithParam<Mode> {
 protected:
  Scheduler::Options Options(int threads) const {
    Scheduler::Options o;
    o.seed = 5;
    o.threads = threads;
    o.use_node_table = GetParam().use_node_table;
    o.min_parallel_nodes = GetParam().min_parallel_nodes;
    return o;
  }
};

TEST_P(ParallelCycleTest, FilterAndPreemptionAnswerTheSameWhateverTheThreads) {
  std::unique_ptr<World> w = MixedWorld();
  std::vector<std::string> want;
  for (int threads : kThreads) {
    Host run(*w, DefaultConfig(), Options(threads));
    ASSERT_EQ(run.scheduler().parallelizer().threads(), threads);
    std::vector<std::string> got;
    for (const model::PodPtr& p : w->pending) got.push_back(run.Schedule(p));
    if (threads == 1) {
      want = got;
      continue;
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], want[i]) << "threads=" << threads;
    }
  }
  // The run went through every path: placed, preempted, unschedulable.
  auto count = [&](const std::string& part) {
    return std::count_if(want.begin(), want.end(),
                         [&](const std::string& s) { return s.find(part) != std::string::npos; });
  };
  EXPECT_EQ(count("-> n"), want.size() - 4) << absl::StrJoin(want, "\n");
  EXPECT_EQ(count("| victims default/"), 3) << absl::StrJoin(want, "\n");
  EXPECT_EQ(count("->  |"), 4) << absl::StrJoin(want, "\n");  // urgent x3, huge
  EXPECT_EQ(count("0/2048 nodes are available"), 4) << absl::StrJoin(want, "\n");
}

TEST_P(ParallelCycleTest, ScoresAreTheSameWhateverTheThreads) {
  std::unique_ptr<World> w = MixedWorld();
  // Per pod: every plugin's weighted score on every feasible node, then the
  // totals, with and without keeping per-plugin scores.
  std::vector<std::vector<int64_t>> want;
  std::vector<std::vector<uint32_t>> feasible_rows;  // per pod, from the first run
  size_t scored_nodes = 0;
  for (int threads : kThreads) {
    Host run(*w, DefaultConfig(), Options(threads));
    Scheduler& s = run.scheduler();
    s.UpdateSnapshot();
    framework::NodeInfoList nodes = s.snapshot().nodes();
    std::vector<std::vector<int64_t>> got;
    for (size_t k = 0; k < 9; ++k) {  // one of each kind
      const model::Pod& pod = *w->pending[k];
      const framework::Framework& fw = *s.ProfileFor(pod);
      framework::CycleState state = s.NewCycleState();
      ASSERT_TRUE(s.RunPreFilter(fw, state, pod).ok()) << pod.name;
      if (threads == 1) {
        std::vector<uint32_t> rows;
        for (size_t r = 0; r < nodes.size(); ++r) {
          if (fw.RunFilterPlugins(state, pod, *nodes[r]).ok()) rows.push_back(r);
        }
        feasible_rows.push_back(std::move(rows));
      }
      const std::vector<uint32_t>& rows = feasible_rows[k];
      if (rows.size() < 2) continue;  // nothing to rank
      std::vector<const framework::NodeInfo*> feasible;
      for (uint32_t r : rows) feasible.push_back(nodes[r]);
      state.feasible_rows = rows;
      ASSERT_TRUE(fw.RunPreScorePlugins(state, pod, feasible).ok()) << pod.name;
      const absl::Span<const uint32_t> table_rows =
          GetParam().use_node_table ? absl::MakeConstSpan(rows) : absl::Span<const uint32_t>();
      std::vector<int64_t> line;
      for (bool keep : {true, false}) {
        ScoreTable table;
        table.keep_per_plugin = keep;
        ASSERT_TRUE(s.RunScorePlugins(fw, state, pod, feasible, table_rows, &table).ok())
            << pod.name;
        if (keep) {
          for (const auto& plugin : table.by_plugin) {
            for (const framework::NodeScore& ns : plugin) line.push_back(ns.score);
          }
        }
        for (int64_t t : table.total) line.push_back(t + table.offset);
      }
      if (threads == 1) scored_nodes += rows.size();
      got.push_back(std::move(line));
    }
    if (threads == 1) {
      want = std::move(got);
      continue;
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], want[i]) << "pod " << i << ", threads=" << threads;
    }
  }
  EXPECT_GT(scored_nodes, 4 * size_t{kNodes});  // several pods, on most nodes each
}

INSTANTIATE_TEST_SUITE_P(Modes, ParallelCycleTest, ::testing::ValuesIn(kModes),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// Preemption's dry runs run in parallel (DefaultPreemption's min_parallel is
// 1) and add the nominated pods of a node through the PreFilter extensions
// (InterPodAffinity::AddPod). A nominated pod's required anti-affinity on a
// topology key that no cached or incoming pod uses must count there, as
// upstream's topologyToMatchedTermCount does, without the dry runs touching
// the snapshot's shared AffinityIndex (registration is for the scheduling
// thread only). Under TSan this is the case that reported the race.

TEST(NominatedPodsTest, AntiAffinityOnAKeyNoOtherPodUsesInParallelDryRuns) {
  World w;
  const model::NodePtr node = w.Node(R"(
metadata: {name: t}
status: {allocatable: {cpu: "2", memory: 8Gi, pods: "110"}}
)");
  for (int i = 0; i < kNodes; ++i) {
    w.AddNode(*node, absl::StrCat("n", i), {{"example.com/rack", absl::StrCat("r", i / 8)}});
  }
  // Every node is full of low-priority pods; those on the nodes that get a
  // nominated guard below are the cheapest to evict, so that preemption
  // would pick such a node if the guard did not keep web pods out.
  const model::PodPtr filler = w.Pod(R"(
metadata: {name: t, namespace: default, labels: {app: filler}}
spec: {priority: 100, containers: [{name: c, image: f, resources: {requests: {cpu: "1"}}}]}
)");
  for (int i = 0; i < kNodes; ++i) {
    for (int k = 0; k < 2; ++k) {
      auto p = World::Copy(*filler, absl::StrCat("filler-", i, "-", k), absl::StrCat("n", i), k);
      if (i % 4 == 0) p->priority = 0;
      w.bound.push_back(std::move(p));
    }
  }
  // Nominated to every fourth node: a pod that keeps web pods out of its
  // rack. Nothing else uses the rack key.
  const model::PodPtr guard = w.Pod(R"(
metadata: {name: t, namespace: default, labels: {app: guard}}
spec:
  priority: 2000
  containers: [{name: c, image: g, resources: {requests: {cpu: "1"}}}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: web}}, topologyKey: example.com/rack}
)");
  // One web pod per host: InterPodAffinity's PreFilter has state, so its
  // AddPod runs in the dry runs.
  const model::PodPtr web = w.Pod(R"(
metadata: {name: t, namespace: default, labels: {app: web}}
spec:
  priority: 500
  containers: [{name: c, image: w, resources: {requests: {cpu: "1"}}}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}
)");
  // 20% of the nodes are dry-run: 409, in parallel chunks of 128 or more.
  auto config = ParseConfig("config.yaml", R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: DefaultPreemption
    args: {minCandidateNodesPercentage: 20, minCandidateNodesAbsolute: 100}
)");
  ASSERT_TRUE(config.ok()) << config.status();

  std::vector<std::string> want;
  for (int threads : kThreads) {
    Scheduler::Options options;
    options.seed = 3;
    options.threads = threads;
    Host run(w, *config, options);
    for (int i = 0; i < kNodes; i += 4) {
      auto g = World::Copy(*guard, absl::StrCat("guard-", i));
      g->nominated_node_name = absl::StrCat("n", i);
      run.nominator().Add(g, g->nominated_node_name);
    }
    std::vector<std::string> got;
    for (int k = 0; k < 3; ++k) {
      model::PodPtr pod = World::Copy(*web, absl::StrCat("web-", k));
      got.push_back(run.Schedule(pod));
      // The guard's anti-affinity counted on its node: web goes elsewhere,
      // evicting one filler of priority 100.
      const std::string nominated = run.nominator().NodeOf(pod->Key());
      ASSERT_FALSE(nominated.empty()) << got.back();
      EXPECT_NE(std::stoi(nominated.substr(1)) % 4, 0) << got.back();
      EXPECT_NE(got.back().find("| victims default/filler-"), std::string::npos) << got.back();
    }
    if (threads == 1) {
      want = got;
    } else {
      EXPECT_EQ(got, want) << "threads=" << threads;
    }
    // The dry runs counted the guards' terms without registering the key.
    EXPECT_EQ(run.scheduler().snapshot().index().FindTopology(
                  w.names.Find("example.com/rack")),
              nullptr);
  }
}

}  // namespace
}  // namespace kestrel::scheduler
