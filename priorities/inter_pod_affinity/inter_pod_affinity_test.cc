#include "priorities/inter_pod_affinity/inter_pod_affinity.h"

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/cluster.h"

namespace kestrel::priorities {
namespace {

using framework::NodeScore;

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

// ---- The incremental index against a naive scan over every pod ----------

// Upstream's algorithms, written as plainly as possible: every pod of every
// node, every time.
class Naive {
 public:
  Naive(const cache::Snapshot& snapshot, int32_t hard_weight)
      : snapshot_(snapshot), hard_weight_(hard_weight) {}

  const model::Labels* NsLabels(model::Id ns) const {
    auto it = snapshot_.namespaces().find(ns);
    return it == snapshot_.namespaces().end() ? nullptr : &it->second;
  }
  const model::Labels& NsLabelsOrEmpty(model::Id ns) const {
    static const model::Labels empty;
    const model::Labels* l = NsLabels(ns);
    return l ? *l : empty;
  }

  using Pair = std::pair<model::Id, model::Id>;

  // "" when the node fits, else the reason; "skip" when PreFilter skips.
  std::string Filter(const model::Pod& pod, const model::Node& target) const {
    std::map<Pair, int64_t> existing, affinity, anti;
    for (const framework::NodeInfo* info : snapshot_.nodes()) {
      const model::Node& node = *info->node();
      for (const model::PodPtr& e : info->pods()) {
        for (const model::AffinityTerm& t : e->required_anti_affinity) {
          const model::Id v = node.labels.Get(t.topology_key);
          if (v != model::kNoId && t.Matches(pod.ns_id, pod.labels, &NsLabelsOrEmpty(pod.ns_id))) {
            ++existing[{t.topology_key, v}];
          }
        }
        bool all = !pod.required_affinity.empty();
        for (const model::AffinityTerm& t : pod.required_affinity) {
          all = all && t.Matches(e->ns_id, e->labels, NsLabels(e->ns_id));
        }
        if (all) {
          for (const model::AffinityTerm& t : pod.required_affinity) {
            const model::Id v = node.labels.Get(t.topology_key);
            if (v != model::kNoId) ++affinity[{t.topology_key, v}];
          }
        }
        for (const model::AffinityTerm& t : pod.required_anti_affinity) {
          const model::Id v = node.labels.Get(t.topology_key);
          if (v != model::kNoId && t.Matches(e->ns_id, e->labels, NsLabels(e->ns_id))) {
            ++anti[{t.topology_key, v}];
          }
        }
      }
    }
    if (existing.empty() && pod.required_affinity.empty() && pod.required_anti_affinity.empty()) {
      return "skip";
    }
    bool pods_exist = true;
    for (const model::AffinityTerm& t : pod.required_affinity) {
      const model::Id v = target.labels.Get(t.topology_key);
      if (v == model::kNoId) return "affinity";
      if (affinity[{t.topology_key, v}] <= 0) pods_exist = false;
    }
    if (!pods_exist) {
      bool self = true;
      for (const model::AffinityTerm& t : pod.required_affinity) {
        self = self && t.Matches(pod.ns_id, pod.labels, NsLabels(pod.ns_id));
      }
      bool empty = true;
      for (const auto& [k, v] : affinity) empty = empty && v == 0;
      if (!(empty && self)) return "affinity";
    }
    for (const model::AffinityTerm& t : pod.required_anti_affinity) {
      const model::Id v = target.labels.Get(t.topology_key);
      if (v != model::kNoId && anti[{t.topology_key, v}] > 0) return "anti";
    }
    for (const model::Label& l : target.labels.items()) {
      auto it = existing.find({l.key, l.value});
      if (it != existing.end() && it->second > 0) return "existing";
    }
    return "";
  }

  // Raw scores per node in snapshot order; empty when PreScore skips.
  std::vector<int64_t> Scores(const model::Pod& pod) const {
    std::map<model::Id, std::map<model::Id, int64_t>> topo;
    auto process = [&](const model::AffinityTerm& t, int64_t weight, const model::Pod& target,
                       const model::Labels* ns_labels, const model::Node& node) {
      if (!t.Matches(target.ns_id, target.labels, ns_labels)) return;
      const model::Id v = node.labels.Get(t.topology_key);
      if (v == model::kNoId) return;
      topo[t.topology_key][v] += weight;
    };
    const bool has_constraints =
        !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
    for (const framework::NodeInfo* info : snapshot_.nodes()) {
      const model::Node& node = *info->node();
      for (const model::PodPtr& e : info->pods()) {
        if (!has_constraints && !e->has_pod_affinity) continue;
        for (const auto& w : pod.preferred_affinity) {
          process(w.term, w.weight, *e, NsLabels(e->ns_id), node);
        }
        for (const auto& w : pod.preferred_anti_affinity) {
          process(w.term, -w.weight, *e, NsLabels(e->ns_id), node);
        }
        if (hard_weight_ > 0) {
          for (const auto& t : e->required_affinity) {
            process(t, hard_weight_, pod, &NsLabelsOrEmpty(pod.ns_id), node);
          }
        }
        for (const auto& w : e->preferred_affinity) {
          process(w.term, w.weight, pod, &NsLabelsOrEmpty(pod.ns_id), node);
        }
        for (const auto& w : e->preferred_anti_affinity) {
          process(w.term, -w.weight, pod, &NsLabelsOrEmpty(pod.ns_id), node);
        }
      }
    }
    std::vector<int64_t> out;
    if (topo.empty()) return out;
    for (const framework::NodeInfo* info : snapshot_.nodes()) {
      int64_t score = 0;
      for (const auto& [key, values] : topo) {
        const model::Id v = info->node()->labels.Get(key);
        if (v == model::kNoId) continue;
        auto it = values.find(v);
        if (it != values.end()) score += it->second;
      }
      out.push_back(score);
    }
    return out;
  }

 private:
  const cache::Snapshot& snapshot_;
  int32_t hard_weight_;
};

class RandomWorld {
 public:
  explicit RandomWorld(uint64_t seed) : rng_(seed) {
    for (const char* k : {"zone", "kubernetes.io/hostname", "rack"}) keys_.push_back(names().Intern(k));
    for (const char* ns : {"ns0", "ns1", "ns2", "ns3"}) namespaces_.push_back(names().Intern(ns));
    team_ = names().Intern("team");
    app_ = names().Intern("app");
    tier_ = names().Intern("tier");
    for (const char* v : {"a", "b", "c"}) values_.push_back(names().Intern(v));
  }

  model::Interner& names() { return w.names; }
  int Rand(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  void AddNodes(int n) {
    const char* zones[] = {"z1", "z2", "z3"};
    const char* racks[] = {"r1", "r2"};
    for (int i = 0; i < n; ++i) {
      std::vector<std::pair<std::string, std::string>> labels;
      const std::string name = "n" + std::to_string(i);
      if (Rand(5) > 0) labels.push_back({"zone", zones[Rand(3)]});
      if (Rand(6) > 0) labels.push_back({"kubernetes.io/hostname", name});
      if (Rand(2) > 0) labels.push_back({"rack", racks[Rand(2)]});
      w.AddNode(name, labels);
    }
    // ns3 has no Namespace object.
    w.AddNamespace("ns0", {{"team", "a"}});
    w.AddNamespace("ns1", {{"team", "b"}});
    w.AddNamespace("ns2", {});
  }

  model::LabelSelector RandomSelector() {
    switch (Rand(6)) {
      case 0:
        return model::LabelSelector::Nothing();
      case 1:
        return model::LabelSelector::Everything();
      default: {
        model::LabelSelector s = model::LabelSelector::Everything();
        model::Requirement r;
        r.key = Rand(2) ? app_ : tier_;
        r.op = static_cast<model::SelectorOp>(Rand(4));  // In, NotIn, Exists, DoesNotExist
        if (r.op == model::SelectorOp::kIn || r.op == model::SelectorOp::kNotIn) {
          r.values = {values_[Rand(3)]};
        }
        s.requirements.push_back(r);
        return s;
      }
    }
  }

  model::AffinityTerm RandomTerm(model::Id own_ns) {
    model::AffinityTerm t;
    t.selector = RandomSelector();
    t.topology_key = keys_[Rand(3)];
    switch (Rand(4)) {
      case 0:
        t.namespaces = {own_ns};
        t.namespace_selector = model::LabelSelector::Nothing();
        break;
      case 1:
        t.namespaces = {namespaces_[Rand(4)], namespaces_[Rand(4)]};
        std::sort(t.namespaces.begin(), t.namespaces.end());
        t.namespaces.erase(std::unique(t.namespaces.begin(), t.namespaces.end()),
                           t.namespaces.end());
        t.namespace_selector = model::LabelSelector::Nothing();
        break;
      case 2:
        t.namespace_selector = model::LabelSelector::Everything();
        break;
      case 3: {
        t.namespace_selector = model::LabelSelector::Everything();
        model::Requirement r;
        r.key = team_;
        r.op = Rand(2) ? model::SelectorOp::kIn : model::SelectorOp::kDoesNotExist;
        if (r.op == model::SelectorOp::kIn) r.values = {values_[Rand(2)]};
        t.namespace_selector.requirements.push_back(r);
        break;
      }
    }
    return t;
  }

  model::PodPtr RandomPod(const std::string& name, bool with_terms) {
    auto p = std::make_shared<model::Pod>();
    p->name = name;
    p->ns_id = namespaces_[Rand(4)];
    p->ns = std::string(names().Name(p->ns_id));
    std::vector<model::Label> labels;
    if (Rand(4) > 0) labels.push_back({app_, values_[Rand(3)], {}});
    if (Rand(2) > 0) labels.push_back({tier_, values_[Rand(3)], {}});
    p->labels = model::Labels(std::move(labels));
    p->terminating = Rand(10) == 0;
    if (with_terms && Rand(3) > 0) {
      p->has_pod_affinity = true;
      for (int i = Rand(3) - 1; i > 0; --i) p->required_affinity.push_back(RandomTerm(p->ns_id));
      for (int i = Rand(3) - 1; i > 0; --i) {
        p->required_anti_affinity.push_back(RandomTerm(p->ns_id));
      }
      for (int i = Rand(3) - 1; i > 0; --i) {
        p->preferred_affinity.push_back({RandomTerm(p->ns_id), 1 + Rand(100)});
      }
      for (int i = Rand(3) - 1; i > 0; --i) {
        p->preferred_anti_affinity.push_back({RandomTerm(p->ns_id), 1 + Rand(100)});
      }
    }
    return p;
  }

  testing::ClusterWorld w;

 private:
  std::mt19937_64 rng_;
  std::vector<model::Id> keys_, namespaces_, values_;
  model::Id team_, app_, tier_;
};

std::string ReasonName(const framework::Status& s) {
  if (s.ok()) return "";
  const std::string m = s.Message();
  if (m == predicates::InterPodAffinityFilter::kErrReasonAffinityRulesNotMatch) return "affinity";
  if (m == predicates::InterPodAffinityFilter::kErrReasonAntiAffinityRulesNotMatch) return "anti";
  if (m == predicates::InterPodAffinityFilter::kErrReasonExistingAntiAffinityRulesNotMatch) {
    return "existing";
  }
  return "error: " + m;
}

// Random clusters, random pod churn (add, assume, forget, remove) with the
// snapshot updated incrementally in between: every verdict and raw score of
// the plugin equals the naive scan's.
TEST(InterPodAffinityPropertyTest, IncrementalIndexMatchesNaiveScan) {
  int checked_nodes = 0, non_trivial = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    RandomWorld rw(seed);
    const int num_nodes = 3 + rw.Rand(6);
    rw.AddNodes(num_nodes);
    const int32_t hard_weight = rw.Rand(3);
    auto plugin = Make(hard_weight);
    std::vector<model::PodPtr> bound;  // in the cache, added or assumed
    std::vector<bool> assumed;
    int next = 0;
    for (int step = 0; step < 40; ++step) {
      // Churn.
      const int op = rw.Rand(10);
      if (op < 6 || bound.empty()) {
        model::PodPtr p = rw.RandomPod("p" + std::to_string(next++), true);
        auto placed = std::make_shared<model::Pod>(*p);
        placed->node_name = "n" + std::to_string(rw.Rand(num_nodes));
        const bool assume = rw.Rand(3) == 0;
        ASSERT_TRUE((assume ? rw.w.cache.AssumePod(placed) : rw.w.cache.AddPod(placed)).ok());
        bound.push_back(placed);
        assumed.push_back(assume);
      } else {
        const size_t i = rw.Rand(static_cast<int>(bound.size()));
        ASSERT_TRUE((assumed[i] ? rw.w.cache.ForgetPod(*bound[i])
                                : rw.w.cache.RemovePod(*bound[i]))
                        .ok());
        bound.erase(bound.begin() + i);
        assumed.erase(assumed.begin() + i);
      }
      if (rw.Rand(3) == 0) continue;  // let changes pile up between snapshots

      // Check a random incoming pod against every node.
      model::PodPtr pod = rw.RandomPod("incoming", true);
      framework::CycleState state = rw.w.NewCycle();
      Naive naive(rw.w.snapshot, hard_weight);
      framework::Status pre = plugin->PreFilter(state, *pod, rw.w.snapshot.nodes());
      const bool naive_skip =
          naive.Filter(*pod, *rw.w.snapshot.nodes()[0]->node()) == "skip";
      ASSERT_EQ(pre.IsSkip(), naive_skip) << pre.Message();
      if (!pre.IsSkip()) {
        ASSERT_TRUE(pre.ok()) << pre.Message();
        std::vector<uint8_t> passed(rw.w.snapshot.num_nodes(), 1);
        plugin->FilterRows(state, *pod, rw.w.snapshot.table(), 0, passed.size(), passed.data());
        for (size_t r = 0; r < rw.w.snapshot.num_nodes(); ++r) {
          const framework::NodeInfo& info = *rw.w.snapshot.nodes()[r];
          const std::string got = ReasonName(plugin->Filter(state, *pod, info));
          ASSERT_EQ(got, naive.Filter(*pod, *info.node())) << info.node()->name;
          ASSERT_EQ(passed[r] != 0, got.empty()) << info.node()->name;
          non_trivial += !got.empty();
          ++checked_nodes;
        }
      }
      framework::Status ps = plugin->PreScore(state, *pod, rw.w.snapshot.nodes());
      std::vector<int64_t> want = naive.Scores(*pod);
      ASSERT_EQ(ps.IsSkip(), want.empty()) << ps.Message();
      if (ps.ok()) {
        for (size_t r = 0; r < rw.w.snapshot.num_nodes(); ++r) {
          auto s = plugin->Score(state, *pod, *rw.w.snapshot.nodes()[r]);
          ASSERT_TRUE(s.ok());
          ASSERT_EQ(*s, want[r]) << rw.w.snapshot.nodes()[r]->node()->name;
        }
      }
    }
  }
  // The generator reaches both outcomes often enough to mean something.
  EXPECT_GT(checked_nodes, 2000);
  EXPECT_GT(non_trivial, 300);
}

}  // namespace
}  // namespace kestrel::priorities
