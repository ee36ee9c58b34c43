#include "scheduler/cache/cache.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kestrel::cache {
namespace {

model::NodePtr MakeNode(const std::string& name, int64_t milli_cpu = 4000) {
  auto n = std::make_shared<model::Node>();
  n->name = name;
  n->allocatable.milli_cpu = milli_cpu;
  n->allocatable.allowed_pods = 110;
  return n;
}

model::PodPtr MakePod(const std::string& name, const std::string& node,
                      int64_t milli_cpu = 100) {
  auto p = std::make_shared<model::Pod>();
  p->ns = "default";
  p->name = name;
  p->node_name = node;
  p->requests.milli_cpu = milli_cpu;
  p->non_zero_milli_cpu = milli_cpu;
  return p;
}

TEST(CacheTest, AddPodCountsRequestsOnItsNode) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  ASSERT_TRUE(cache.AddNode(MakeNode("n2")).ok());
  ASSERT_TRUE(cache.AddPod(MakePod("a", "n1", 300)).ok());
  Snapshot snap;
  cache.UpdateSnapshot(&snap);
  ASSERT_EQ(snap.num_nodes(), 2u);
  EXPECT_EQ(snap.Get("n1")->requested().milli_cpu, 300);
  EXPECT_EQ(snap.Get("n1")->pods().size(), 1u);
  EXPECT_EQ(snap.Get("n2")->requested().milli_cpu, 0);
}

// A copy carries every node and pod of its base, and from then on the two
// change apart: what the copy assumes, adds or removes the base never sees.
TEST(CacheTest, CopyFromForksTheBase) {
  Cache base;
  ASSERT_TRUE(base.AddNode(MakeNode("n1")).ok());
  ASSERT_TRUE(base.AddNode(MakeNode("n2")).ok());
  ASSERT_TRUE(base.AddPod(MakePod("a", "n1", 300)).ok());
  Snapshot base_snap;
  base.UpdateSnapshot(&base_snap);

  Cache fork;
  fork.CopyFrom(base);
  EXPECT_EQ(fork.num_nodes(), 2u);
  EXPECT_EQ(fork.num_pods(), 1u);
  ASSERT_TRUE(fork.AssumePod(MakePod("b", "n2", 700)).ok());
  ASSERT_TRUE(fork.RemovePod(*MakePod("a", "n1")).ok());
  ASSERT_TRUE(fork.AddNode(MakeNode("n3")).ok());
  Snapshot fork_snap;
  fork.UpdateSnapshot(&fork_snap);
  ASSERT_EQ(fork_snap.num_nodes(), 3u);
  EXPECT_EQ(fork_snap.Get("n1")->requested().milli_cpu, 0);
  EXPECT_EQ(fork_snap.Get("n2")->requested().milli_cpu, 700);

  // The base and its snapshot are as they were.
  base.UpdateSnapshot(&base_snap);
  EXPECT_EQ(base.num_pods(), 1u);
  ASSERT_EQ(base_snap.num_nodes(), 2u);
  EXPECT_EQ(base_snap.Get("n1")->requested().milli_cpu, 300);
  EXPECT_EQ(base_snap.Get("n2")->requested().milli_cpu, 0);
  EXPECT_NE(base.GetPod("default/a"), nullptr);
  EXPECT_EQ(base.GetPod("default/b"), nullptr);
}

// The same, with the base's pods frozen (shared with the copy): the copy's
// changes to pods it shares — confirm, update, remove, remove and add again
// — never reach the base, and each side counts its own pods.
TEST(CacheTest, CopyOfFrozenBaseChangesApart) {
  Cache base;
  ASSERT_TRUE(base.AddNode(MakeNode("n1")).ok());
  ASSERT_TRUE(base.AddPod(MakePod("a", "n1", 100)).ok());
  ASSERT_TRUE(base.AddPod(MakePod("b", "n1", 200)).ok());
  ASSERT_TRUE(base.AssumePod(MakePod("c", "n1", 400)).ok());
  base.Freeze();
  EXPECT_EQ(base.num_pods(), 3u);

  Cache fork;
  fork.CopyFrom(base);
  ASSERT_TRUE(fork.AddPod(MakePod("c", "n1", 400)).ok());  // confirms the assumed pod
  EXPECT_FALSE(fork.IsAssumed(*MakePod("c", "n1")));
  EXPECT_TRUE(base.IsAssumed(*MakePod("c", "n1")));
  ASSERT_TRUE(fork.UpdatePod(*MakePod("a", "n1"), MakePod("a", "n1", 1000)).ok());
  ASSERT_TRUE(fork.RemovePod(*MakePod("b", "n1")).ok());
  EXPECT_EQ(fork.GetPod("default/b"), nullptr);
  EXPECT_EQ(fork.num_pods(), 2u);
  ASSERT_TRUE(fork.AddPod(MakePod("b", "n1", 50)).ok());
  EXPECT_EQ(fork.num_pods(), 3u);
  EXPECT_EQ(fork.AddPod(MakePod("a", "n1")).code(), absl::StatusCode::kAlreadyExists);

  Snapshot fork_snap;
  fork.UpdateSnapshot(&fork_snap);
  EXPECT_EQ(fork_snap.Get("n1")->requested().milli_cpu, 1000 + 50 + 400);
  Snapshot base_snap;
  base.UpdateSnapshot(&base_snap);
  EXPECT_EQ(base_snap.Get("n1")->requested().milli_cpu, 100 + 200 + 400);
  EXPECT_EQ(base.num_pods(), 3u);
  EXPECT_EQ(base.GetPod("default/a")->requests.milli_cpu, 100);
  EXPECT_EQ(base.GetPod("default/b")->requests.milli_cpu, 200);

  // Freezing a cache that has a frozen table and changes of its own keeps
  // what it holds.
  fork.Freeze();
  EXPECT_EQ(fork.num_pods(), 3u);
  EXPECT_EQ(fork.GetPod("default/a")->requests.milli_cpu, 1000);
  EXPECT_EQ(fork.GetPod("default/b")->requests.milli_cpu, 50);
}

TEST(CacheTest, DuplicateNodeAndPodAreRejected) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  EXPECT_EQ(cache.AddNode(MakeNode("n1")).code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(cache.AddPod(MakePod("a", "n1")).ok());
  EXPECT_EQ(cache.AddPod(MakePod("a", "n1")).code(), absl::StatusCode::kAlreadyExists);
}

TEST(CacheTest, AssumeForgetRestoresNode) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  Snapshot snap;
  auto pod = MakePod("a", "n1", 500);
  ASSERT_TRUE(cache.AssumePod(pod).ok());
  EXPECT_TRUE(cache.IsAssumed(*pod));
  cache.UpdateSnapshot(&snap);
  EXPECT_EQ(snap.Get("n1")->requested().milli_cpu, 500);
  ASSERT_TRUE(cache.ForgetPod(*pod).ok());
  cache.UpdateSnapshot(&snap);
  EXPECT_EQ(snap.Get("n1")->requested().milli_cpu, 0);
  EXPECT_TRUE(snap.Get("n1")->pods().empty());
}

TEST(CacheTest, AddConfirmsAssumedPodEvenOnAnotherNode) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  ASSERT_TRUE(cache.AddNode(MakeNode("n2")).ok());
  ASSERT_TRUE(cache.AssumePod(MakePod("a", "n1", 500)).ok());
  ASSERT_TRUE(cache.AddPod(MakePod("a", "n2", 500)).ok());
  EXPECT_FALSE(cache.IsAssumed(*MakePod("a", "n2")));
  Snapshot snap;
  cache.UpdateSnapshot(&snap);
  EXPECT_EQ(snap.Get("n1")->requested().milli_cpu, 0);
  EXPECT_EQ(snap.Get("n2")->requested().milli_cpu, 500);
  // An added pod can't be forgotten.
  EXPECT_FALSE(cache.ForgetPod(*MakePod("a", "n2")).ok());
}

TEST(CacheTest, SnapshotCopiesOnlyChangedNodes) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  ASSERT_TRUE(cache.AddNode(MakeNode("n2")).ok());
  Snapshot snap;
  cache.UpdateSnapshot(&snap);
  const framework::NodeInfo* n1 = snap.Get("n1");
  const uint64_t n2_gen = snap.Get("n2")->generation();
  ASSERT_TRUE(cache.AddPod(MakePod("a", "n1")).ok());
  cache.UpdateSnapshot(&snap);
  // Same object, updated in place; the untouched node keeps its generation.
  EXPECT_EQ(snap.Get("n1"), n1);
  EXPECT_EQ(n1->pods().size(), 1u);
  EXPECT_EQ(snap.Get("n2")->generation(), n2_gen);
}

TEST(CacheTest, SecondSnapshotGetsFullCopy) {
  Cache cache;
  ASSERT_TRUE(cache.AddNode(MakeNode("n1")).ok());
  Snapshot a;
  cache.UpdateSnapshot(&a);
  ASSERT_TRUE(cache.AddPod(MakePod("x", "n1", 200)).ok());
  Snapshot b;
  cache.UpdateSnapshot(&b);
  // `a` missed the change log that `b` drained: it must still converge.
  cache.UpdateSnapshot(&a);
  EXPECT_EQ(a.Get("n1")->requested().milli_cpu, 200);
  EXPECT_EQ(b.Get("n1")->requested().milli_cpu, 200);
}

TEST(CacheTest, PodBeforeNodeAndNodeRemoval) {
  Cache cache;
  ASSERT_TRUE(cache.AddPod(MakePod("a", "late")).ok());
  Snapshot snap;
  cache.UpdateSnapshot(&snap);
  EXPECT_EQ(snap.num_nodes(), 0u);  // a slot without a node is not listed
  ASSERT_TRUE(cache.AddNode(MakeNode("late")).ok());
  cache.UpdateSnapshot(&snap);
  ASSERT_EQ(snap.num_nodes(), 1u);
  EXPECT_EQ(snap.Get("late")->pods().size(), 1u);
  ASSERT_TRUE(cache.RemoveNode("late").ok());
  cache.UpdateSnapshot(&snap);
  EXPECT_EQ(snap.num_nodes(), 0u);
  EXPECT_EQ(snap.Get("late"), nullptr);
  ASSERT_TRUE(cache.RemovePod(*MakePod("a", "late")).ok());
  EXPECT_EQ(cache.num_pods(), 0u);
  EXPECT_FALSE(cache.RemoveNode("late").ok());
}

// Pods whose node the cache does not have are kept aside, as upstream's
// NodeInfo without a Node: counted on no node, in no snapshot and in no
// affinity index, attached when the node is added, and gone without a trace
// when removed. Each step is checked on an incrementally updated snapshot
// and on a fresh one.
TEST(CacheTest, PodsOnUnknownNodesAreKeptAside) {
  model::Interner names;
  const model::Id zone = names.Intern("zone");
  const model::Id app = names.Intern("app");
  const model::Id web = names.Intern("web");
  const model::Id default_ns = names.Intern("default");
  auto node = [&](const std::string& name, const std::string& z) {
    auto n = std::const_pointer_cast<model::Node>(MakeNode(name));
    n->labels = model::Labels({{zone, names.Intern(z), {}}});
    return model::NodePtr(n);
  };
  // Labelled app=web, with a required anti-affinity term against app=web
  // pods per zone.
  auto pod = [&](const std::string& name, const std::string& node_name, int64_t milli_cpu) {
    auto p = std::const_pointer_cast<model::Pod>(MakePod(name, node_name, milli_cpu));
    p->ns_id = default_ns;
    p->labels = model::Labels({{app, web, {}}});
    model::AffinityTerm term;
    term.namespaces = {default_ns};
    term.namespace_selector = model::LabelSelector::Nothing();
    term.selector = model::LabelSelector::Everything();
    term.topology_key = zone;
    p->required_anti_affinity = {term};
    p->has_pod_affinity = true;
    return model::PodPtr(p);
  };
  const AffinityIndex::Clause all{{default_ns}, model::LabelSelector::Nothing(),
                                  model::LabelSelector::Everything()};

  struct Step {
    std::string name;
    std::function<absl::Status(Cache&)> op;
    // Want: the snapshot's nodes in order, each with its requested CPU.
    std::vector<std::pair<std::string, int64_t>> nodes;
    int64_t selected;       // pods the index counts, over all domains
    int64_t anti_carriers;  // pods carrying the anti-affinity term
    size_t unknown;         // CountPodsOnUnknownNodes()
    size_t pods;            // num_pods()
  };
  const std::vector<Step> steps = {
      {"a pod whose node is not there",
       [&](Cache& c) { return c.AddPod(pod("a", "gone", 500)); },
       {{"n1", 0}}, 0, 0, 1, 1},
      {"a second one on the same node",
       [&](Cache& c) { return c.AddPod(pod("b", "gone", 300)); },
       {{"n1", 0}}, 0, 0, 2, 2},
      {"the node arrives: both attached",
       [&](Cache& c) { return c.AddNode(node("gone", "z2")); },
       {{"n1", 0}, {"gone", 800}}, 2, 2, 0, 2},
      {"the node is removed: its pods are kept aside",
       [&](Cache& c) { return c.RemoveNode("gone"); },
       {{"n1", 0}}, 0, 0, 2, 2},
      {"a pod kept aside is removed",
       [&](Cache& c) { return c.RemovePod(*pod("a", "gone", 500)); },
       {{"n1", 0}}, 0, 0, 1, 1},
      {"the node comes back with the pod that is left",
       [&](Cache& c) { return c.AddNode(node("gone", "z2")); },
       {{"n1", 0}, {"gone", 300}}, 1, 1, 0, 1},
      {"a pod on another unknown node",
       [&](Cache& c) { return c.AddPod(pod("c", "late", 700)); },
       {{"n1", 0}, {"gone", 300}}, 1, 1, 1, 2},
      {"removed before its node arrives",
       [&](Cache& c) { return c.RemovePod(*pod("c", "late", 700)); },
       {{"n1", 0}, {"gone", 300}}, 1, 1, 0, 1},
      {"the node arrives empty",
       [&](Cache& c) { return c.AddNode(node("late", "z3")); },
       {{"n1", 0}, {"gone", 300}, {"late", 0}}, 1, 1, 0, 1},
  };

  Cache cache;
  ASSERT_TRUE(cache.AddNode(node("n1", "z1")).ok());
  Snapshot incremental;
  cache.UpdateSnapshot(&incremental);
  const AffinityIndex::SelectionId kept = incremental.index().Select({all}, false);
  for (const Step& step : steps) {
    ASSERT_TRUE(step.op(cache).ok()) << step.name;
    EXPECT_EQ(cache.CountPodsOnUnknownNodes(), step.unknown) << step.name;
    EXPECT_EQ(cache.num_pods(), step.pods) << step.name;
    Snapshot fresh;
    for (Snapshot* snap : {&incremental, &fresh}) {
      const std::string what =
          absl::StrCat(step.name, snap == &fresh ? " (fresh snapshot)" : " (incremental)");
      cache.UpdateSnapshot(snap);
      std::vector<std::pair<std::string, int64_t>> nodes;
      for (const framework::NodeInfo* info : snap->nodes()) {
        nodes.emplace_back(info->node()->name, info->requested().milli_cpu);
      }
      EXPECT_EQ(nodes, step.nodes) << what;
      EXPECT_EQ(snap->table().size(), step.nodes.size()) << what;
      for (const char* name : {"gone", "late"}) {
        const bool listed = std::any_of(step.nodes.begin(), step.nodes.end(),
                                        [&](const auto& n) { return n.first == name; });
        EXPECT_EQ(snap->Get(name) != nullptr, listed) << what << ": " << name;
      }
      const AffinityIndex::SelectionId sel =
          snap == &fresh ? snap->index().Select({all}, false) : kept;
      int64_t selected = 0;
      snap->index().DomainCounts(sel, zone, &selected);
      EXPECT_EQ(selected, step.selected) << what;
      int64_t carriers = 0;
      for (const auto& t : snap->index().existing(AffinityIndex::kRequiredAntiAffinity)) {
        carriers += t.carriers;
      }
      EXPECT_EQ(carriers, step.anti_carriers) << what;
    }
  }
}

// The node table's rows follow the NodeInfos through incremental updates,
// node additions and removals.
TEST(CacheTest, NodeTableTracksNodeInfos) {
  Cache cache;
  Snapshot snap;
  auto check = [&] {
    const framework::NodeTable& t = snap.table();
    ASSERT_EQ(t.size(), snap.num_nodes());
    for (size_t r = 0; r < snap.num_nodes(); ++r) {
      const framework::NodeInfo& n = *snap.nodes()[r];
      EXPECT_EQ(t.alloc_milli_cpu[r], n.allocatable().milli_cpu);
      EXPECT_EQ(t.req_milli_cpu[r], n.requested().milli_cpu);
      EXPECT_EQ(t.nz_milli_cpu[r], n.non_zero_milli_cpu());
      EXPECT_EQ(t.num_pods[r], static_cast<int64_t>(n.pods().size()));
      EXPECT_EQ(t.unschedulable[r], n.unschedulable());
    }
  };
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.AddNode(MakeNode("n" + std::to_string(i))).ok());
  cache.UpdateSnapshot(&snap);
  check();
  ASSERT_TRUE(cache.AddPod(MakePod("a", "n3", 700)).ok());
  ASSERT_TRUE(cache.AssumePod(MakePod("b", "n1", 300)).ok());
  cache.UpdateSnapshot(&snap);
  check();
  EXPECT_EQ(snap.table().req_milli_cpu[3], 700);
  auto cordoned = std::make_shared<model::Node>(*MakeNode("n2", 1000));
  cordoned->unschedulable = true;
  ASSERT_TRUE(cache.UpdateNode(cordoned).ok());
  ASSERT_TRUE(cache.RemoveNode("n0").ok());
  cache.UpdateSnapshot(&snap);
  check();
  ASSERT_EQ(snap.num_nodes(), 4u);
  ASSERT_TRUE(cache.AddNode(MakeNode("n9", 9000)).ok());
  ASSERT_TRUE(cache.ForgetPod(*MakePod("b", "n1", 300)).ok());
  cache.UpdateSnapshot(&snap);
  check();
}

// The snapshot's image summary follows node adds, updates and removals,
// incrementally, and equals a count over the nodes at every step.
TEST(SnapshotTest, ImageSummaryFollowsNodes) {
  auto node = [](const std::string& name, std::vector<std::vector<std::string>> images,
                 int64_t size) {
    auto n = std::const_pointer_cast<model::Node>(MakeNode(name));
    for (auto& names : images) n->images.push_back({names, size});
    return model::NodePtr(n);
  };
  Cache cache;
  Snapshot snapshot;
  ASSERT_TRUE(cache.AddNode(node("n1", {{"nginx:1", "docker.io/nginx:1"}}, 100)).ok());
  ASSERT_TRUE(cache.AddNode(node("n2", {{"nginx:1"}, {"nginx:1"}}, 200)).ok());
  cache.UpdateSnapshot(&snapshot);
  EXPECT_EQ(snapshot.Image("nginx:1").num_nodes, 2);  // n2 lists it twice: once
  EXPECT_EQ(snapshot.Image("nginx:1").size_bytes, 100);  // the first report
  EXPECT_EQ(snapshot.Image("docker.io/nginx:1").num_nodes, 1);
  EXPECT_EQ(snapshot.Image("redis").num_nodes, 0);

  // Incremental: n1 drops the image, n3 arrives with another.
  ASSERT_TRUE(cache.UpdateNode(node("n1", {{"redis"}}, 50)).ok());
  ASSERT_TRUE(cache.AddNode(node("n3", {{"redis"}}, 60)).ok());
  cache.UpdateSnapshot(&snapshot);
  EXPECT_EQ(snapshot.Image("nginx:1").num_nodes, 1);
  EXPECT_EQ(snapshot.Image("docker.io/nginx:1").num_nodes, 0);
  EXPECT_EQ(snapshot.Image("redis").num_nodes, 2);
  EXPECT_EQ(snapshot.Image("redis").size_bytes, 50);

  ASSERT_TRUE(cache.RemoveNode("n2").ok());
  cache.UpdateSnapshot(&snapshot);
  EXPECT_EQ(snapshot.Image("nginx:1").num_nodes, 0);

  // A fresh snapshot counts from scratch and agrees.
  Snapshot fresh;
  cache.UpdateSnapshot(&fresh);
  EXPECT_EQ(fresh.Image("redis").num_nodes, 2);
  EXPECT_EQ(fresh.Image("nginx:1").num_nodes, 0);
}

// With no snapshot update for a long time, the cache stops logging pod
// events and the next update recounts the affinity index: same counts.
TEST(SnapshotTest, AffinityIndexRecountsAfterLongSilence) {
  Cache cache;
  Snapshot snapshot;
  model::Interner names;
  auto node = std::const_pointer_cast<model::Node>(MakeNode("n1"));
  node->labels = model::Labels({{names.Intern("zone"), names.Intern("z1"), {}}});
  ASSERT_TRUE(cache.AddNode(node).ok());
  cache.UpdateSnapshot(&snapshot);
  AffinityIndex::Clause all{{names.Intern("default")}, model::LabelSelector::Nothing(),
                            model::LabelSelector::Everything()};
  const AffinityIndex::SelectionId sel = snapshot.index().Select({all}, false);
  for (int i = 0; i < 6000; ++i) {
    auto p = std::make_shared<model::Pod>();
    p->ns = "default";
    p->ns_id = names.Find("default");
    p->name = "p" + std::to_string(i);
    p->node_name = "n1";
    ASSERT_TRUE(cache.AddPod(p).ok());
    if (i % 2 == 1) {
      ASSERT_TRUE(cache.RemovePod(*p).ok());
    }
  }
  cache.UpdateSnapshot(&snapshot);
  int64_t total = 0;
  snapshot.index().DomainCounts(sel, names.Find("zone"), &total);
  EXPECT_EQ(total, 3000);
  EXPECT_EQ(snapshot.index().RowCounts(sel)[0], 3000);
}

}  // namespace
}  // namespace kestrel::cache
