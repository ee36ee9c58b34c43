#include "priorities/inter_pod_affinity/inter_pod_affinity.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/cluster.h"
#include "predicates/testing/random_affinity.h"
#include "predicates/testing/upstream.h"

namespace kestrel::priorities {
namespace {

using framework::NodeScore;
namespace upstream = testing::upstream;

std::unique_ptr<InterPodAffinity> Make(int32_t hard_weight = 1, bool ignore = false) {
  config::InterPodAffinityArgs args;
  args.set_hardpodaffinityweight(hard_weight);
  args.set_ignorepreferredtermsofexistingpods(ignore);
  auto p = InterPodAffinity::Create(args);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

TEST(InterPodAffinityArgsTest, DefaultsAndValidation) {
  auto p = InterPodAffinity::Create(config::InterPodAffinityArgs());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->hard_pod_affinity_weight(), 1);
  config::InterPodAffinityArgs args;
  args.set_hardpodaffinityweight(101);
  EXPECT_EQ(InterPodAffinity::Create(args).status().message(),
            "hardPodAffinityWeight: Invalid value: 101: not in valid range [0-100]");
  args.set_hardpodaffinityweight(-1);
  EXPECT_FALSE(InterPodAffinity::Create(args).ok());
  args.set_hardpodaffinityweight(0);
  EXPECT_TRUE(InterPodAffinity::Create(args).ok());
}

// n1, n2 in zone z1; n3 in z2; n4 has no zone.
void AddNodes(testing::ClusterWorld& w) {
  w.AddNode("n1", {{"zone", "z1"}, {"kubernetes.io/hostname", "n1"}});
  w.AddNode("n2", {{"zone", "z1"}, {"kubernetes.io/hostname", "n2"}});
  w.AddNode("n3", {{"zone", "z2"}, {"kubernetes.io/hostname", "n3"}});
  w.AddNode("n4", {{"kubernetes.io/hostname", "n4"}});
}

struct ScoreCase {
  std::string name;
  std::vector<std::string> existing;
  std::string pod;
  int32_t hard_weight = 1;
  bool ignore_existing = false;
  bool skip = false;
  std::vector<int64_t> raw;         // n1..n4
  std::vector<int64_t> normalized;  // n1..n4
};

std::vector<ScoreCase> ScoreCases() {
  const char* preferred = R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 5
        podAffinityTerm:
          labelSelector: {matchLabels: {app: db}}
          topologyKey: zone
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 3
        podAffinityTerm:
          labelSelector: {matchLabels: {app: web}}
          topologyKey: kubernetes.io/hostname
)";
  const char* hard_carrier = R"(
metadata: {name: c, labels: {app: db}}
spec:
  nodeName: n3
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: zone
)";
  return {
      {"no terms anywhere: skip", {"metadata: {name: a}\nspec: {nodeName: n1}"},
       "metadata: {name: p}", 1, false, true},
      {"preferred affinity and anti-affinity of the pod",
       {"metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}",
        "metadata: {name: b, labels: {app: db}}\nspec: {nodeName: n4}",
        "metadata: {name: c, labels: {app: web}}\nspec: {nodeName: n2}"},
       preferred, 1, false, false,
       // z1 has one db pod (n4's has no zone): +5 on n1, n2; web on n2: -3.
       {5, 2, 0, 0},
       {100, 40, 0, 0}},
      {"existing pod's required affinity toward the pod counts hardPodAffinityWeight",
       {hard_carrier}, "metadata: {name: p, labels: {app: web}}", 7, false, false,
       {0, 0, 7, 0}, {0, 0, 100, 0}},
      {"hardPodAffinityWeight 0 ignores existing required affinity",
       {hard_carrier}, "metadata: {name: p, labels: {app: web}}", 0, false, true},
      {"existing pods' preferred terms toward the pod, both signs",
       {R"(
metadata: {name: a}
spec:
  nodeName: n1
  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        podAffinityTerm:
          labelSelector: {matchLabels: {app: web}}
          topologyKey: zone
)",
        R"(
metadata: {name: b}
spec:
  nodeName: n2
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 4
        podAffinityTerm:
          labelSelector: {matchLabels: {app: web}}
          topologyKey: kubernetes.io/hostname
)"},
       "metadata: {name: p, labels: {app: web}}", 1, false, false,
       {10, 6, 0, 0},
       {100, 60, 0, 0}},
      {"ignorePreferredTermsOfExistingPods skips a pod without preferred terms",
       {hard_carrier}, "metadata: {name: p, labels: {app: web}}", 1, true, true},
      {"negative scores normalize from the minimum",
       {"metadata: {name: c, labels: {app: web}}\nspec: {nodeName: n2}"},
       R"(
metadata: {name: p, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 3
        podAffinityTerm:
          labelSelector: {matchLabels: {app: web}}
          topologyKey: zone
)",
       1, false, false, {-3, -3, 0, 0}, {0, 0, 100, 100}},
  };
}

TEST(InterPodAffinityScoreTest, Table) {
  for (const ScoreCase& c : ScoreCases()) {
    SCOPED_TRACE(c.name);
    testing::ClusterWorld w;
    AddNodes(w);
    for (const std::string& yaml : c.existing) w.AddPod(yaml);
    model::PodPtr pod = w.Pod(c.pod);
    auto plugin = Make(c.hard_weight, c.ignore_existing);
    framework::CycleState state = w.NewCycle();
    framework::Status pre = plugin->PreScore(state, *pod, w.snapshot.nodes());
    // The reference, checked on the same hand-worked answers.
    config::InterPodAffinityArgs args;
    args.set_hardpodaffinityweight(c.hard_weight);
    args.set_ignorepreferredtermsofexistingpods(c.ignore_existing);
    const upstream::ScoreResult ref = upstream::InterPodAffinityScore(
        args, w.api, testing::ClusterWorld::DecodePod(c.pod), {"n1", "n2", "n3", "n4"});
    EXPECT_EQ(ref.skip, c.skip) << "reference";
    if (!c.skip) {
      EXPECT_EQ(ref.raw, (std::map<std::string, int64_t>{{"n1", c.raw[0]}, {"n2", c.raw[1]},
                                                          {"n3", c.raw[2]}, {"n4", c.raw[3]}}))
          << "reference";
      EXPECT_EQ(ref.normalized,
                (std::map<std::string, int64_t>{{"n1", c.normalized[0]}, {"n2", c.normalized[1]},
                                                {"n3", c.normalized[2]}, {"n4", c.normalized[3]}}))
          << "reference";
    }
    if (c.skip) {
      EXPECT_TRUE(pre.IsSkip()) << pre.Message();
      continue;
    }
    ASSERT_TRUE(pre.ok()) << pre.Message();
    std::vector<NodeScore> scores;
    std::vector<uint32_t> rows;
    for (size_t r = 0; r < w.snapshot.num_nodes(); ++r) {
      auto s = plugin->Score(state, *pod, *w.snapshot.nodes()[r]);
      ASSERT_TRUE(s.ok());
      scores.push_back({w.snapshot.nodes()[r], *s});
      rows.push_back(static_cast<uint32_t>(r));
    }
    std::vector<int64_t> by_rows(rows.size());
    ASSERT_TRUE(plugin->ScoresRows(state, *pod));
    plugin->ScoreRows(state, *pod, w.snapshot.table(), rows, by_rows.data());
    std::vector<int64_t> raw;
    for (const NodeScore& s : scores) raw.push_back(s.score);
    EXPECT_EQ(raw, c.raw);
    EXPECT_EQ(by_rows, c.raw);
    ASSERT_TRUE(plugin->NormalizeScore(state, *pod, absl::MakeSpan(scores)).ok());
    std::vector<int64_t> normalized;
    for (const NodeScore& s : scores) normalized.push_back(s.score);
    EXPECT_EQ(normalized, c.normalized);
  }
}

// ---- The incremental index against the upstream reference -----------------

// The reference (predicates/testing/upstream.h) reads the API objects and
// shares no code with the plugin, the compiler or the index: not
// model::SelectsPod, not the compiled terms or namespace sets.

// Random clusters, random pod churn (add, assume, forget, remove) with the
// snapshot updated incrementally in between: every PreFilter, Filter,
// PreScore, Score and NormalizeScore result of the plugin equals the
// reference's on the cluster as it stands.
TEST(InterPodAffinityPropertyTest, IncrementalIndexMatchesUpstreamReference) {
  int checked_nodes = 0, non_trivial = 0, scored = 0, nonzero = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    testing::RandomAffinity gen(seed);
    testing::ClusterWorld w;
    const int num_nodes = 3 + gen.Rand(6);
    gen.AddNodes(w, num_nodes);
    std::vector<std::string> node_names;
    for (int i = 0; i < num_nodes; ++i) node_names.push_back("n" + std::to_string(i));
    config::InterPodAffinityArgs args;
    args.set_hardpodaffinityweight(gen.Rand(3));
    args.set_ignorepreferredtermsofexistingpods(gen.Rand(4) == 0);
    auto plugin = InterPodAffinity::Create(args);
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    std::vector<model::PodPtr> bound;  // in the cache, added or assumed
    int next = 0;
    for (int step = 0; step < 40; ++step) {
      // Churn.
      if (gen.Rand(10) < 6 || bound.empty()) {
        const auto api = gen.RandomPod("p" + std::to_string(next++), true,
                                       "n" + std::to_string(gen.Rand(num_nodes)));
        bound.push_back(gen.Rand(3) == 0 ? w.AssumePod(api) : w.AddPod(api));
        ASSERT_NE(bound.back(), nullptr);
      } else {
        const size_t i = gen.Rand(static_cast<int>(bound.size()));
        w.DeletePod(*bound[i]);
        bound.erase(bound.begin() + i);
      }
      if (gen.Rand(3) == 0) continue;  // let changes pile up between snapshots

      // Check a random incoming pod against every node.
      const auto incoming = gen.RandomPod("incoming", true);
      model::PodPtr pod = w.Compile(incoming);
      ASSERT_NE(pod, nullptr);
      framework::CycleState state = w.NewCycle();
      const upstream::FilterResult want = upstream::InterPodAffinityFilter(w.api, incoming);
      framework::Status pre = (*plugin)->PreFilter(state, *pod, w.snapshot.nodes());
      ASSERT_EQ(pre.IsSkip(), want.skip) << pre.Message();
      if (!pre.IsSkip()) {
        ASSERT_TRUE(pre.ok()) << pre.Message();
        std::vector<uint8_t> passed(w.snapshot.num_nodes(), 1);
        (*plugin)->FilterRows(state, *pod, w.snapshot.table(), 0, passed.size(), passed.data());
        for (size_t r = 0; r < w.snapshot.num_nodes(); ++r) {
          const framework::NodeInfo& info = *w.snapshot.nodes()[r];
          const framework::Status got = (*plugin)->Filter(state, *pod, info);
          ASSERT_EQ(testing::VerdictOf(got), want.nodes.at(info.node()->name))
              << info.node()->name;
          ASSERT_EQ(passed[r] != 0, got.ok()) << info.node()->name;
          non_trivial += !got.ok();
          ++checked_nodes;
        }
      }
      const upstream::ScoreResult want_scores =
          upstream::InterPodAffinityScore(args, w.api, incoming, node_names);
      framework::Status ps = (*plugin)->PreScore(state, *pod, w.snapshot.nodes());
      ASSERT_EQ(ps.IsSkip(), want_scores.skip) << ps.Message();
      if (ps.IsSkip()) continue;
      ASSERT_TRUE(ps.ok()) << ps.Message();
      std::map<std::string, int64_t> raw;
      std::vector<NodeScore> scores;
      for (const framework::NodeInfo* info : w.snapshot.nodes()) {
        auto s = (*plugin)->Score(state, *pod, *info);
        ASSERT_TRUE(s.ok());
        raw[info->node()->name] = *s;
        scores.push_back({info, *s});
        nonzero += *s != 0;
      }
      ASSERT_EQ(raw, want_scores.raw);
      ASSERT_TRUE((*plugin)->NormalizeScore(state, *pod, absl::MakeSpan(scores)).ok());
      std::map<std::string, int64_t> normalized;
      for (const NodeScore& s : scores) normalized[s.node->node()->name] = s.score;
      ASSERT_EQ(normalized, want_scores.normalized);
      ++scored;
    }
  }
  // The generator reaches every outcome often enough to mean something.
  EXPECT_GT(checked_nodes, 3000);
  EXPECT_GT(non_trivial, 1000);
  EXPECT_GT(scored, 400);
  EXPECT_GT(nonzero, 1000);
}

}  // namespace
}  // namespace kestrel::priorities
