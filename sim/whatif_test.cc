#include "sim/whatif.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "scheduler/profile.h"
#include "sim/fork_store.h"

namespace kestrel::sim {
namespace {

namespace v1 = ::k8s::io::api::core::v1;

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  EXPECT_TRUE(content.ok()) << content.status();
  return content.ok() ? *content : "";
}

std::unique_ptr<WhatIf> Load(const std::string& path) {
  auto cluster = LoadFiles({path});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return nullptr;
  auto w = WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
  EXPECT_TRUE(w.ok()) << w.status();
  return w.ok() ? *std::move(w) : nullptr;
}

// The one object of `yaml`, a T (v1::Pod, v1::Node).
template <typename T>
T FromYaml(const std::string& yaml) {
  T out;
  absl::Status s = api::DecodeEach("object.yaml", yaml, [&](api::Object obj) {
    out.CopyFrom(*obj.message);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

constexpr char kWebTemplate[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default, labels: {app: probe}}
spec:
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: 500m, memory: 256Mi}}
)";

constexpr char kOnePerHostTemplate[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default, labels: {app: probe}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: probe}}
        topologyKey: kubernetes.io/hostname
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: 100m}}
)";

// Place answers what `kestrel simulate` (without the rescheduler) reports for
// the same pods: each testdata cluster's pending pods, asked as a request
// against its bound pods. The preemption clusters check victims and
// nominations too.
TEST(WhatIfTest, PlaceEqualsSimulate) {
  for (const std::string dir :
       {"small", "plugins", "preemption/high-priority", "preemption/high-priority-pdb",
        "preemption/never", "critical/kube-dns"}) {
    SCOPED_TRACE(dir);
    const std::string path = absl::StrCat("testdata/", dir, "/cluster.yaml");
    auto cluster = LoadFiles({path});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    SimOptions sim_options;
    sim_options.rescheduler = false;
    auto report = Simulate(*cluster, scheduler::DefaultConfig(), sim_options);
    ASSERT_TRUE(report.ok()) << report.status();
    std::vector<model::PodPtr> pods = cluster->pending_pods;
    ASSERT_FALSE(pods.empty());
    auto w = WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
    ASSERT_TRUE(w.ok()) << w.status();
    auto placed = (*w)->Place(pods, WhatIfOptions{});
    ASSERT_TRUE(placed.ok()) << placed.status();
    ASSERT_EQ(placed->size(), report->placements.size());
    for (size_t i = 0; i < placed->size(); ++i) {
      const Placement& got = (*placed)[i];
      const Placement& want = report->placements[i];
      EXPECT_EQ(got.pod, want.pod);
      EXPECT_EQ(got.node, want.node) << got.pod;
      EXPECT_EQ(got.message, want.message) << got.pod;
      EXPECT_EQ(got.victims, want.victims) << got.pod;
      EXPECT_EQ(got.nominated_node, want.nominated_node) << got.pod;
    }
  }
}

// A question never changes the base: asking twice gives the same answer,
// and a Place in between does not use up room a later Capacity sees.
TEST(WhatIfTest, QuestionsDoNotChangeTheBase) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto pod = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto first = w->Capacity(*pod, 0, {});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT(first->count, 0);
  auto placed = w->Place({*pod}, {});
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_EQ(placed->size(), 1u);
  EXPECT_FALSE((*placed)[0].node.empty());
  auto second = w->Capacity(*pod, 0, {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->count, first->count);
  EXPECT_EQ(second->per_node, first->per_node);
  EXPECT_EQ(second->stopped_by, first->stopped_by);
}

// The cluster file with `extra` (documents) and `probes` copies of
// `probe_yaml` (named "probe", renamed probe-1, probe-2, ...) appended, its
// own pending pods dropped (they are not part of the question), scheduled
// one by one by Simulate (preemption off, no rescheduler).
struct Probed {
  Cluster cluster;
  Report report;
};
Probed SimulateProbes(const std::string& cluster_path, std::string extra,
                      const std::string& probe_yaml, int probes) {
  for (int i = 1; i <= probes; ++i) {
    std::string doc = probe_yaml;
    const size_t at = doc.find("name: probe,");
    doc.replace(at, 12, absl::StrCat("name: probe-", i, ","));
    absl::StrAppend(&extra, "---\n", doc);
  }
  Probed out;
  auto cluster = LoadContents({{cluster_path, Read(cluster_path)}, {"extra.yaml", extra}});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  if (!cluster.ok()) return out;
  out.cluster = *std::move(cluster);
  std::vector<model::PodPtr>& pending = out.cluster.pending_pods;
  pending.erase(
      std::remove_if(pending.begin(), pending.end(),
                     [](const model::PodPtr& p) { return p->name.rfind("probe-", 0) != 0; }),
      pending.end());
  config::KubeSchedulerConfiguration config = scheduler::DefaultConfig();
  config.add_profiles()->mutable_plugins()->mutable_postfilter()->add_disabled()->set_name("*");
  SimOptions options;
  options.rescheduler = false;
  auto report = Simulate(out.cluster, config, options);
  EXPECT_TRUE(report.ok()) << report.status();
  if (report.ok()) out.report = *std::move(report);
  return out;
}

// Brute force: the template's copies scheduled one by one (SimulateProbes).
// Capacity's count is the copies placed before the first that was not, its
// per-node counts theirs, stopped_by that copy's message.
CapacityResult BruteForce(const std::string& cluster_path, const std::string& tmpl, int copies) {
  const Probed probed = SimulateProbes(cluster_path, "", tmpl, copies);
  CapacityResult out;
  std::map<std::string, int64_t> per_node;
  for (const Placement& p : probed.report.placements) {
    if (p.pod.find("/probe-") == std::string::npos) continue;
    if (p.node.empty()) {
      out.stopped_by = p.message;
      break;
    }
    ++out.count;
    ++per_node[p.node];
  }
  for (const model::NodePtr& n : probed.cluster.nodes) {
    if (per_node.count(n->name) > 0) out.per_node.emplace_back(n->name, per_node[n->name]);
  }
  return out;
}

TEST(WhatIfTest, CapacityEqualsSchedulingCopiesOneByOne) {
  struct Case {
    std::string cluster;
    std::string tmpl;
  };
  const std::vector<Case> cases = {
      {"testdata/small/cluster.yaml", kWebTemplate},
      {"testdata/small/cluster.yaml", kOnePerHostTemplate},
      {"testdata/plugins/cluster.yaml", kWebTemplate},
      {"testdata/plugins/cluster.yaml", kOnePerHostTemplate},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cluster + c.tmpl);
    std::unique_ptr<WhatIf> w = Load(c.cluster);
    ASSERT_NE(w, nullptr);
    auto pod = w->CompilePod(FromYaml<v1::Pod>(c.tmpl), "template");
    ASSERT_TRUE(pod.ok()) << pod.status();
    auto got = w->Capacity(*pod, 0, {});
    ASSERT_TRUE(got.ok()) << got.status();
    const CapacityResult want = BruteForce(c.cluster, c.tmpl, static_cast<int>(got->count) + 2);
    EXPECT_GT(got->count, 0);
    EXPECT_EQ(got->count, want.count);
    EXPECT_EQ(got->per_node, want.per_node);
    EXPECT_EQ(got->stopped_by, want.stopped_by);
    EXPECT_NE(got->stopped_by, "");
  }
}

TEST(WhatIfTest, CapacityStopsAtTheLimit) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto pod = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto got = w->Capacity(*pod, 3, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count, 3);
  EXPECT_EQ(got->stopped_by, "");
}

// The interrupt is asked before every pod; its status is the answer.
TEST(WhatIfTest, InterruptStopsTheQuestion) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto pod = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
  ASSERT_TRUE(pod.ok()) << pod.status();
  int asked = 0;
  WhatIfOptions options;
  options.interrupt = [&]() {
    return ++asked > 3 ? absl::DeadlineExceededError("deadline exceeded") : absl::OkStatus();
  };
  auto got = w->Capacity(*pod, 0, options);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(asked, 4);
  asked = 0;
  auto placed = w->Place({*pod}, options);
  EXPECT_TRUE(placed.ok()) << placed.status();
}

// Bad pods are InvalidArgument naming where in the request they are and the field.
TEST(WhatIfTest, BadPodsNameTheField) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  struct Case {
    std::string yaml;
    std::string want;  // a substring of the message
  };
  const std::vector<Case> cases = {
      {"kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec: {}\n",
       "pods[1]: Pod default/x: spec.containers: Required value"},
      {"kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec:\n  nodeName: node-a\n"
       "  containers: [{name: c, image: i}]\n",
       "pods[1]: Pod default/x: spec.nodeName: Invalid value: \"node-a\""},
      {"kind: Pod\napiVersion: v1\nmetadata: {name: x}\nspec:\n  containers:\n"
       "  - {name: c, image: i, resources: {requests: {cpu: \"1\"}, limits: {cpu: 500m}}}\n",
       "pods[1]: Pod default/x: spec.containers[0].resources.requests: Invalid value: \"1\": "
       "must be less than or equal to cpu limit"},
      {"kind: Pod\napiVersion: v1\nmetadata: {name: \"X_y\"}\nspec:\n  containers: [{name: c, "
       "image: i}]\n",
       "pods[1]: Pod default/X_y: metadata.name: Invalid value: \"X_y\""},
  };
  for (const Case& c : cases) {
    auto pod = w->CompilePod(FromYaml<v1::Pod>(c.yaml), "pods[1]");
    ASSERT_FALSE(pod.ok()) << c.yaml;
    EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(pod.status().message().find(c.want), std::string::npos) << pod.status();
  }
  // A name taken by a bound pod or by another pod of the request.
  auto pod = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "pods[0]");
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto twice = w->Place({*pod, *pod}, {});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(twice.status().message(), "pods[1].metadata.name: Duplicate value: \"default/probe\"");
}

// Many questions at once against one base give the answers they give one
// at a time (run under ThreadSanitizer by ./test.sh).
TEST(WhatIfTest, ConcurrentQuestionsAnswerAsSerial) {
  std::unique_ptr<WhatIf> w = Load("testdata/plugins/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto cluster = LoadFiles({"testdata/plugins/cluster.yaml"});
  ASSERT_TRUE(cluster.ok());
  auto web = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
  auto one = w->CompilePod(FromYaml<v1::Pod>(kOnePerHostTemplate), "template");
  ASSERT_TRUE(web.ok() && one.ok());
  auto serial_capacity = w->Capacity(*one, 0, {});
  ASSERT_TRUE(serial_capacity.ok());
  std::vector<model::PodPtr> batch;
  for (int i = 0; i < 6; ++i) {
    auto copy = std::make_shared<model::Pod>(**web);
    copy->name = absl::StrCat("batch-", i);
    batch.push_back(copy);
  }
  WhatIfOptions seeded;
  seeded.seed = 7;
  auto serial_place = w->Place(batch, seeded);
  ASSERT_TRUE(serial_place.ok()) << serial_place.status();

  constexpr int kThreads = 4;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        // Compiling while others schedule exercises the shared interner.
        auto pod = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
        if (!pod.ok()) ++mismatches;
        if (t % 2 == 0) {
          auto got = w->Capacity(*one, 0, {});
          if (!got.ok() || got->count != serial_capacity->count ||
              got->per_node != serial_capacity->per_node ||
              got->stopped_by != serial_capacity->stopped_by) {
            ++mismatches;
          }
        } else {
          auto got = w->Place(batch, seeded);
          if (!got.ok() || got->size() != serial_place->size()) {
            ++mismatches;
            continue;
          }
          for (size_t i = 0; i < got->size(); ++i) {
            if ((*got)[i].node != (*serial_place)[i].node) ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// --- ScaleUp ---------------------------------------------------------------

// A node of `cpu` cores and `memory`, in zone-3.
NodeTemplate Template(const std::string& name, const std::string& cpu, const std::string& memory,
                      int64_t max_count) {
  NodeTemplate t;
  t.name = name;
  t.node = FromYaml<v1::Node>(absl::StrCat(
      "apiVersion: v1\nkind: Node\nmetadata:\n  name: ignored\n  labels: {topology.kubernetes.io/"
      "zone: zone-3, pool: ",
      name, "}\nstatus:\n  allocatable: {cpu: \"", cpu, "\", memory: ", memory,
      ", pods: \"110\"}\n"));
  t.max_count = max_count;
  return t;
}

std::vector<std::string> Keys(const std::vector<Placement>& placements) {
  std::vector<std::string> out;
  for (const Placement& p : placements) out.push_back(absl::StrCat(p.pod, "@", p.node));
  return out;
}

// testdata/small's pending pods, asked with no pods: five fit the cluster as
// it is, where simulate.golden.txt puts them; big-batch (32 cpu) fits no
// 8-cpu node and one 64-cpu node.
TEST(WhatIfScaleUpTest, GoldenOnSmallCluster) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto got =
      w->ScaleUp({}, {Template("m5", "8", "32Gi", 10), Template("huge", "64", "256Gi", 2)}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Keys(got->fit_existing),
            (std::vector<std::string>{"default/web-1@node-gpu", "default/with-init@node-b",
                                      "ml/gpu-job@node-gpu", "default/web-2@node-a",
                                      "default/idle@node-gpu"}));
  ASSERT_EQ(got->templates.size(), 2u);
  const TemplateScaleUp& m5 = got->templates[0];
  EXPECT_EQ(m5.name, "m5");
  EXPECT_EQ(m5.nodes_needed, 0);
  EXPECT_TRUE(m5.nodes.empty());
  EXPECT_FALSE(m5.max_count_reached);
  ASSERT_EQ(m5.unplaced.size(), 1u);
  EXPECT_EQ(m5.unplaced[0].pod, "default/big-batch");
  // Its last attempt had the template node m5-1 beside the five (node-small
  // is short of cpu and full); ScaleUp never preempts.
  EXPECT_EQ(m5.unplaced[0].message,
            "0/6 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, 5 "
            "Insufficient cpu.");
  const TemplateScaleUp& huge = got->templates[1];
  EXPECT_EQ(huge.name, "huge");
  EXPECT_EQ(huge.nodes_needed, 1);
  ASSERT_EQ(huge.nodes.size(), 1u);
  EXPECT_EQ(huge.nodes[0].name, "huge-1");
  EXPECT_EQ(huge.nodes[0].pods, (std::vector<std::string>{"default/big-batch"}));
  EXPECT_TRUE(huge.unplaced.empty());
  EXPECT_TRUE(got->no_template.empty());
}

constexpr char kSmallWeb[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: default, labels: {app: probe}}
spec:
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: "1", memory: 1Gi}}
)";

std::vector<model::PodPtr> Copies(const WhatIf& w, const std::string& yaml, int n) {
  std::vector<model::PodPtr> out;
  for (int i = 1; i <= n; ++i) {
    v1::Pod pod = FromYaml<v1::Pod>(yaml);
    pod.mutable_metadata()->set_name(absl::StrCat("probe-", i));
    auto compiled = w.CompilePod(pod, absl::StrCat("pods[", i - 1, "]"));
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    if (compiled.ok()) out.push_back(*compiled);
  }
  return out;
}

// Brute force: `nodes` copies of the template written into the cluster
// file as nodes, the pods scheduled by SimulateProbes. Returns the pods
// placed.
std::set<std::string> PlacedWithNodes(const std::string& cluster_path, const NodeTemplate& t,
                                      int nodes, const std::string& pod_yaml, int pods) {
  std::string extra;
  for (int i = 1; i <= nodes; ++i) {
    const std::string name = absl::StrCat(t.name, "-", i);
    absl::StrAppend(
        &extra, "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: ", name,
        "\n  labels: {kubernetes.io/hostname: ", name,
        ", topology.kubernetes.io/zone: zone-3, pool: ", t.name,
        "}\nstatus:\n  allocatable: {cpu: \"", t.node.status().allocatable().at("cpu").string(),
        "\", memory: ", t.node.status().allocatable().at("memory").string(), ", pods: \"110\"}\n");
  }
  const Probed probed = SimulateProbes(cluster_path, std::move(extra), pod_yaml, pods);
  std::set<std::string> out;
  for (const Placement& p : probed.report.placements) {
    if (!p.node.empty()) out.insert(p.pod);
  }
  return out;
}

// ScaleUp's answer checked against the cluster with the nodes added by
// hand: with nodes_needed template nodes Simulate places exactly the pods
// ScaleUp places, and with one node fewer it places fewer.
TEST(WhatIfScaleUpTest, NodesNeededEqualsBruteForce) {
  struct Case {
    std::string cluster;
    std::string pod;
    int pods;
    NodeTemplate tmpl;
  };
  const std::vector<Case> cases = {
      // 20 one-cpu pods; 4-cpu nodes take 4 each.
      {"testdata/small/cluster.yaml", kSmallWeb, 20, Template("pool", "4", "16Gi", 20)},
      // One per host: every pod past the schedulable hosts needs a node.
      {"testdata/small/cluster.yaml", kOnePerHostTemplate, 7, Template("pool", "4", "16Gi", 20)},
      {"testdata/plugins/cluster.yaml", kSmallWeb, 30, Template("pool", "8", "8Gi", 20)},
      {"testdata/plugins/cluster.yaml", kOnePerHostTemplate, 9, Template("pool", "2", "2Gi", 20)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.cluster + c.pod);
    std::unique_ptr<WhatIf> w = Load(c.cluster);
    ASSERT_NE(w, nullptr);
    std::vector<model::PodPtr> pods = Copies(*w, c.pod, c.pods);
    auto got = w->ScaleUp(pods, {c.tmpl}, {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->templates.size(), 1u);
    const TemplateScaleUp& t = got->templates[0];
    EXPECT_GT(t.nodes_needed, 0);
    EXPECT_FALSE(t.max_count_reached);
    std::set<std::string> placed;
    for (const Placement& p : got->fit_existing) placed.insert(p.pod);
    std::set<std::string> unplaced;
    for (const Unplaced& u : t.unplaced) unplaced.insert(u.pod);
    for (const model::PodPtr& p : pods) {
      if (unplaced.count(p->Key()) == 0) placed.insert(p->Key());
    }
    int64_t on_new = 0;
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      EXPECT_EQ(t.nodes[i].name, absl::StrCat("pool-", i + 1));
      EXPECT_FALSE(t.nodes[i].pods.empty()) << t.nodes[i].name;
      on_new += static_cast<int64_t>(t.nodes[i].pods.size());
    }
    EXPECT_EQ(static_cast<int64_t>(placed.size()),
              static_cast<int64_t>(got->fit_existing.size()) + on_new);
    EXPECT_EQ(PlacedWithNodes(c.cluster, c.tmpl, static_cast<int>(t.nodes_needed), c.pod, c.pods),
              placed);
    EXPECT_LT(
        PlacedWithNodes(c.cluster, c.tmpl, static_cast<int>(t.nodes_needed) - 1, c.pod, c.pods)
            .size(),
        placed.size());
  }
}

// Each template is evaluated on its own fork: asked together or alone, a
// template gets the same answer; max_count caps the nodes and says so.
TEST(WhatIfScaleUpTest, TemplatesAreIndependentAndCapped) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  std::vector<model::PodPtr> pods = Copies(*w, kSmallWeb, 30);
  const NodeTemplate small = Template("small", "2", "8Gi", 3);
  const NodeTemplate big = Template("big", "16", "64Gi", 5);
  auto both = w->ScaleUp(pods, {small, big}, {});
  auto alone = w->ScaleUp(pods, {big}, {});
  ASSERT_TRUE(both.ok() && alone.ok());
  const TemplateScaleUp& s = both->templates[0];
  EXPECT_EQ(s.nodes_needed, 3);
  EXPECT_TRUE(s.max_count_reached);
  EXPECT_FALSE(s.unplaced.empty());
  const TemplateScaleUp& b = both->templates[1];
  EXPECT_FALSE(b.max_count_reached);
  EXPECT_TRUE(b.unplaced.empty());
  EXPECT_EQ(b.nodes_needed, alone->templates[0].nodes_needed);
  ASSERT_EQ(b.nodes.size(), alone->templates[0].nodes.size());
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    EXPECT_EQ(b.nodes[i].name, alone->templates[0].nodes[i].name);
    EXPECT_EQ(b.nodes[i].pods, alone->templates[0].nodes[i].pods);
  }
  // The big template places every pod: none is left for no template.
  EXPECT_TRUE(both->no_template.empty());
  EXPECT_EQ(alone->no_template.size(), 0u);
  auto small_only = w->ScaleUp(pods, {small}, {});
  ASSERT_TRUE(small_only.ok());
  EXPECT_EQ(small_only->no_template.size(), s.unplaced.size());
}

// A pod too big for a template node gets one added and removed again: the
// pods after it find no stray node, and the node they need is <name>-1.
TEST(WhatIfScaleUpTest, APodThatFitsNoNewNodeLeavesNoNode) {
  auto cluster = LoadContents(
      {{"c.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: tiny}\nstatus:\n  allocatable: {cpu: "
        "100m, memory: 1Gi, pods: \"10\"}\n"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto w = WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
  ASSERT_TRUE(w.ok()) << w.status();
  v1::Pod huge = FromYaml<v1::Pod>(kSmallWeb);
  huge.mutable_metadata()->set_name("huge");
  (*huge.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests())["cpu"]
      .set_string("32");
  auto huge_pod = (*w)->CompilePod(huge, "pods[0]");
  ASSERT_TRUE(huge_pod.ok()) << huge_pod.status();
  std::vector<model::PodPtr> pods = {*huge_pod};
  for (const model::PodPtr& p : Copies(**w, kSmallWeb, 2)) pods.push_back(p);
  auto got = (*w)->ScaleUp(pods, {Template("pool", "4", "16Gi", 5)}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->fit_existing.empty());
  const TemplateScaleUp& t = got->templates[0];
  EXPECT_EQ(t.nodes_needed, 1);
  ASSERT_EQ(t.nodes.size(), 1u);
  EXPECT_EQ(t.nodes[0].name, "pool-1");
  EXPECT_EQ(t.nodes[0].pods, (std::vector<std::string>{"default/probe-1", "default/probe-2"}));
  ASSERT_EQ(t.unplaced.size(), 1u);
  EXPECT_EQ(t.unplaced[0].pod, "default/huge");
  EXPECT_EQ(t.unplaced[0].message, "0/2 nodes are available: 2 Insufficient cpu.");
  ASSERT_EQ(got->no_template.size(), 1u);
  EXPECT_EQ(got->no_template[0].pod, "default/huge");
}

TEST(WhatIfScaleUpTest, BadTemplatesNameTheField) {
  auto cluster = LoadContents(
      {{"c.yaml",
        "apiVersion: v1\nkind: Node\nmetadata: {name: pool-1}\nstatus:\n  allocatable: {cpu: "
        "500m, memory: 1Gi, pods: \"10\"}\n"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto w = WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<model::PodPtr> pods = Copies(**w, kSmallWeb, 1);
  NodeTemplate bad_quantity = Template("q", "4", "16Gi", 1);
  (*bad_quantity.node.mutable_status()->mutable_allocatable())["cpu"].set_string("four");
  struct Case {
    std::vector<NodeTemplate> templates;
    std::string want;
  };
  const std::vector<Case> cases = {
      {{}, "node_templates: Required value"},
      {{Template("", "4", "16Gi", 1)}, "node_templates[0].name: Required value"},
      {{Template("ok", "4", "16Gi", 1), Template("Big_Pool", "4", "16Gi", 1)},
       "node_templates[1].name: Invalid value: \"Big_Pool\": a lowercase RFC 1123 label"},
      {{Template("ok", "4", "16Gi", 0)},
       "node_templates[0].max_count: Invalid value: 0: must be greater than or equal to 1"},
      {{Template("ok", "4", "16Gi", 1), Template("ok", "8", "16Gi", 1)},
       "node_templates[1].name: Duplicate value: \"ok\""},
      {{bad_quantity}, "node_templates[0].node: Node q-1: status.allocatable"},
      {{Template("pool", "4", "16Gi", 1)},
       "node_templates[0].name: new node \"pool-1\" would have the name of a node the cluster "
       "has"},
  };
  for (const Case& c : cases) {
    auto got = (*w)->ScaleUp(pods, c.templates, {});
    ASSERT_FALSE(got.ok()) << c.want;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.want), std::string::npos) << got.status();
  }
}

// --- Drain -----------------------------------------------------------------

std::vector<std::string> Lines(const std::vector<NodeDrain>& drains) {
  std::vector<std::string> out;
  for (const NodeDrain& n : drains) {
    out.push_back(absl::StrCat(n.node, n.drainable ? " drainable" : " not drainable"));
    for (const DrainedPod& p : n.pods) {
      out.push_back(absl::StrCat("  ", p.pod, " ", ActionName(p.action),
                                 p.node.empty() ? "" : " -> ", p.node, p.reason.empty() ? "" : ": ",
                                 p.reason));
    }
  }
  return out;
}

// testdata/drain/cluster.yaml's header says what each drain should do.
TEST(WhatIfDrainTest, GoldenOnDrainCluster) {
  std::unique_ptr<WhatIf> w = Load("testdata/drain/cluster.yaml");
  ASSERT_NE(w, nullptr);
  struct Case {
    std::vector<std::string> nodes;
    DrainOptions drain;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {{"node-3"},
       {},
       {"node-3 drainable", "  default/web-c moved -> node-1",
        "  default/batch-1 moved -> node-1"}},
      {{"node-2", "node-3"},
       {},
       {"node-2 not drainable", "  default/web-b moved -> node-1",
        "  default/api-1 unplaced: 0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were "
        "unschedulable.",
        "node-3 not drainable",
        "  default/web-c blocked: evicting it would violate PodDisruptionBudget default/web (no "
        "disruption allowed)",
        "  default/batch-1 moved -> node-1"}},
      {{"node-1"},
       {},
       {"node-1 not drainable",
        "  kube-system/agent-node-1 stays: DaemonSet pod: daemonset/agent runs it on every node",
        "  kube-system/kube-proxy-node-1 stays: mirror pod: the kubelet runs it from a file on "
        "the node",
        "  default/web-a unplaced: 0/3 nodes are available: 1 node(s) were unschedulable, 2 "
        "Insufficient cpu.",
        "  default/cache-0 blocked: pod with local storage present: cache-0 (emptyDir volume "
        "\"scratch\"; allow with delete_local_data)",
        "  default/lone blocked: default/lone is not replicated"}},
      {{"node-1"},
       {.delete_local_data = true},
       {"node-1 not drainable",
        "  kube-system/agent-node-1 stays: DaemonSet pod: daemonset/agent runs it on every node",
        "  kube-system/kube-proxy-node-1 stays: mirror pod: the kubelet runs it from a file on "
        "the node",
        "  default/web-a unplaced: 0/3 nodes are available: 1 node(s) were unschedulable, 2 "
        "Insufficient cpu.",
        "  default/cache-0 moved -> node-3",
        "  default/lone blocked: default/lone is not replicated"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.nodes, ","));
    auto got = w->Drain(c.nodes, c.drain, {});
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(Lines(*got), c.want);
  }
}

// Brute force: the drained nodes cordoned and the pods Drain evicted made
// pending again, in the cluster Simulate schedules (preemption off, no
// rescheduler): each goes where Drain says, or fails with its message.
TEST(WhatIfDrainTest, MovesEqualSimulateOnTheCordonedCluster) {
  const std::string path = "testdata/drain/cluster.yaml";
  for (const std::vector<std::string>& nodes : std::vector<std::vector<std::string>>{
           {"node-3"}, {"node-2", "node-3"}, {"node-2"}, {"node-1"}}) {
    SCOPED_TRACE(absl::StrJoin(nodes, ","));
    std::unique_ptr<WhatIf> w = Load(path);
    ASSERT_NE(w, nullptr);
    auto got = w->Drain(nodes, {.delete_local_data = true}, {});
    ASSERT_TRUE(got.ok()) << got.status();
    std::map<std::string, const DrainedPod*> evicted;
    for (const NodeDrain& n : *got) {
      for (const DrainedPod& p : n.pods) {
        if (p.action == DrainedPod::Action::kMoved || p.action == DrainedPod::Action::kUnplaced) {
          evicted[p.pod] = &p;
        }
      }
    }
    ASSERT_FALSE(evicted.empty());
    auto cluster = LoadFiles({path});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    for (model::NodePtr& n : cluster->nodes) {
      if (std::find(nodes.begin(), nodes.end(), n->name) == nodes.end()) continue;
      auto cordoned = std::make_shared<model::Node>(*n);
      cordoned->unschedulable = true;
      n = cordoned;
    }
    std::vector<model::PodPtr> bound;
    for (const model::PodPtr& p : cluster->bound_pods) {
      if (evicted.count(p->Key()) == 0) {
        bound.push_back(p);
        continue;
      }
      auto pending = std::make_shared<model::Pod>(*p);
      pending->node_name.clear();
      cluster->pending_pods.push_back(pending);
    }
    cluster->bound_pods = bound;
    config::KubeSchedulerConfiguration config = scheduler::DefaultConfig();
    config.add_profiles()->mutable_plugins()->mutable_postfilter()->add_disabled()->set_name("*");
    SimOptions options;
    options.rescheduler = false;
    auto report = Simulate(*cluster, config, options);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->placements.size(), evicted.size());
    for (const Placement& p : report->placements) {
      const DrainedPod& d = *evicted[p.pod];
      EXPECT_EQ(d.node, p.node) << p.pod;
      if (p.node.empty()) {
        EXPECT_EQ(d.reason, p.message) << p.pod;
      }
    }
  }
}

TEST(WhatIfDrainTest, BadNodesNameTheField) {
  std::unique_ptr<WhatIf> w = Load("testdata/drain/cluster.yaml");
  ASSERT_NE(w, nullptr);
  struct Case {
    std::vector<std::string> nodes;
    std::string want;
  };
  const std::vector<Case> cases = {
      {{}, "nodes: Required value"},
      {{"node-1", ""}, "nodes[1]: Required value"},
      {{"node-9"}, "nodes[0]: Not found: \"node-9\""},
      {{"node-1", "node-2", "node-1"}, "nodes[2]: Duplicate value: \"node-1\""},
  };
  for (const Case& c : cases) {
    auto got = w->Drain(c.nodes, {}, {});
    ASSERT_FALSE(got.ok()) << c.want;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.want);
  }
}

// A drain never changes the base: the budget it spends is whole again for
// the next question.
TEST(WhatIfDrainTest, BudgetsAreSpentOnTheForkOnly) {
  std::unique_ptr<WhatIf> w = Load("testdata/drain/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto first = w->Drain({"node-2", "node-3"}, {}, {});
  auto second = w->Drain({"node-3"}, {}, {});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE((*second)[0].drainable);
  EXPECT_EQ((*second)[0].pods[0].action, DrainedPod::Action::kMoved);
}

// --- Kept forks (fork_id) --------------------------------------------------

// A kept Place is the start of the next question: its pods are there (a
// second Place of the same name is a duplicate, Capacity counts less), and
// the base is untouched.
TEST(WhatIfForkTest, QuestionsBuildOnAKeptFork) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  v1::Pod copy = FromYaml<v1::Pod>(kWebTemplate);
  copy.mutable_metadata()->set_name("copy");
  auto probe = w->CompilePod(copy, "template");
  ASSERT_TRUE(probe.ok());
  auto base_capacity = w->Capacity(*probe, 0, {});
  ASSERT_TRUE(base_capacity.ok());

  std::vector<model::PodPtr> pods = Copies(*w, kSmallWeb, 3);
  std::shared_ptr<const KeptState> kept;
  WhatIfOptions keep;
  keep.keep = &kept;
  auto placed = w->Place(pods, keep);
  ASSERT_TRUE(placed.ok()) << placed.status();
  ASSERT_NE(kept, nullptr);

  WhatIfOptions from;
  from.from = kept;
  auto again = w->Place({pods[0]}, from);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(again.status().message(),
            "pods[0].metadata.name: Duplicate value: \"default/probe-1\"");
  auto capacity = w->Capacity(*probe, 0, from);
  ASSERT_TRUE(capacity.ok()) << capacity.status();
  // Three 1-cpu pods took the room of six 500m copies.
  EXPECT_EQ(capacity->count, base_capacity->count - 6);
  auto base_again = w->Capacity(*probe, 0, {});
  ASSERT_TRUE(base_again.ok());
  EXPECT_EQ(base_again->count, base_capacity->count);
  // Building on the same kept fork twice gives the same answer: it is not
  // changed by the questions asked on it.
  auto capacity_again = w->Capacity(*probe, 0, from);
  ASSERT_TRUE(capacity_again.ok());
  EXPECT_EQ(capacity_again->count, capacity->count);
  EXPECT_EQ(capacity_again->per_node, capacity->per_node);
}

// Deltas change the fork before the question: a node added takes copies,
// a node removed takes none; bad deltas name the field.
TEST(WhatIfForkTest, DeltasApplyBeforeTheQuestion) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  auto probe = w->CompilePod(FromYaml<v1::Pod>(kWebTemplate), "template");
  ASSERT_TRUE(probe.ok());
  auto base = w->Capacity(*probe, 0, {});
  ASSERT_TRUE(base.ok());

  WhatIfOptions add;
  add.delta.add_nodes.push_back(Template("extra", "4", "16Gi", 1).node);
  add.delta.add_nodes.back().mutable_metadata()->set_name("extra-1");
  auto more = w->Capacity(*probe, 0, add);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->count, base->count + 8);  // 4 cpu / 500m
  ASSERT_FALSE(more->per_node.empty());
  EXPECT_EQ(more->per_node.back(), (std::pair<std::string, int64_t>{"extra-1", 8}));

  WhatIfOptions remove;
  remove.delta.remove_nodes = {"node-b"};
  remove.delta.remove_pods = {"default/db-0"};
  auto fewer = w->Capacity(*probe, 0, remove);
  ASSERT_TRUE(fewer.ok()) << fewer.status();
  for (const auto& [node, count] : fewer->per_node) EXPECT_NE(node, "node-b");
  EXPECT_LT(fewer->count, base->count);

  WhatIfOptions bound;
  v1::Pod running = FromYaml<v1::Pod>(kSmallWeb);
  running.mutable_spec()->set_nodename("node-a");
  bound.delta.add_pods.push_back(running);
  auto less = w->Capacity(*probe, 0, bound);
  ASSERT_TRUE(less.ok()) << less.status();
  EXPECT_EQ(less->count, base->count - 2);  // the 1-cpu pod on node-a

  struct Case {
    ForkDelta delta;
    std::string want;
  };
  std::vector<Case> cases(5);
  cases[0].delta.remove_pods = {"default/nope"};
  cases[0].want = "delta.remove_pods[0]: Not found: \"default/nope\"";
  cases[1].delta.remove_nodes = {"node-a", "node-z"};
  cases[1].want = "delta.remove_nodes[1]: Not found: \"node-z\"";
  cases[2].delta.add_nodes = {
      FromYaml<v1::Node>("apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n")};
  cases[2].want = "delta.add_nodes[0].metadata.name: Duplicate value: \"node-a\"";
  cases[3].delta.add_pods = {FromYaml<v1::Pod>(kSmallWeb)};
  cases[3].want = "delta.add_pods[0].spec.nodeName: Required value";
  running.mutable_metadata()->set_name("db-0");
  cases[4].delta.add_pods = {running};
  cases[4].want = "delta.add_pods[0].metadata.name: Duplicate value: \"default/db-0\"";
  for (const Case& c : cases) {
    WhatIfOptions o;
    o.delta = c.delta;
    auto got = w->Capacity(*probe, 0, o);
    ASSERT_FALSE(got.ok()) << c.want;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.want), std::string::npos) << got.status();
  }
}

// A drain kept: the drained nodes stay cordoned for the next question.
TEST(WhatIfForkTest, KeptDrainStaysCordoned) {
  std::unique_ptr<WhatIf> w = Load("testdata/drain/cluster.yaml");
  ASSERT_NE(w, nullptr);
  std::shared_ptr<const KeptState> kept;
  WhatIfOptions keep;
  keep.keep = &kept;
  auto drained = w->Drain({"node-3"}, {}, keep);
  ASSERT_TRUE(drained.ok()) << drained.status();
  ASSERT_NE(kept, nullptr);
  WhatIfOptions from;
  from.from = kept;
  // node-3 is cordoned and empty now; draining node-1 with local data
  // allowed sends cache-0 nowhere: node-1 is now full of node-3's pods.
  auto next = w->Drain({"node-1"}, {.delete_local_data = true}, from);
  ASSERT_TRUE(next.ok()) << next.status();
  const NodeDrain& n = (*next)[0];
  ASSERT_EQ(n.pods.size(), 7u);  // node-1's five and the two node-3 gave it
  EXPECT_EQ(n.pods[3].pod, "default/cache-0");
  EXPECT_EQ(n.pods[3].action, DrainedPod::Action::kUnplaced);
  // ScaleUp keeps nothing.
  auto scale = w->ScaleUp({}, {Template("p", "4", "4Gi", 1)}, keep);
  EXPECT_EQ(scale.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ForkStoreTest, ExpiresUnknownAndCap) {
  std::unique_ptr<WhatIf> w = Load("testdata/small/cluster.yaml");
  ASSERT_NE(w, nullptr);
  std::shared_ptr<const WhatIf> whatif = std::move(w);
  absl::Time now = absl::FromUnixSeconds(1000);
  ForkStore::Options options;
  options.ttl = absl::Minutes(5);
  options.max_forks = 2;
  options.now = [&now] { return now; };
  ForkStore store(options);
  auto a = store.Put({whatif, nullptr});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->size(), 32u);
  now += absl::Minutes(2);
  auto b = store.Put({whatif, nullptr});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(*a, *b);
  auto c = store.Put({whatif, nullptr});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c.status().message(),
            "keep_fork: 2 forks are kept, the most this server keeps; one expires 5m after it was "
            "kept");
  EXPECT_TRUE(store.Get(*a).ok());
  now += absl::Minutes(3);  // a is 5 minutes old: gone; b lives on
  auto gone = store.Get(*a);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(),
            absl::StrCat("fork_id: Not found: \"", *a,
                         "\": no such fork, or it expired (forks live 5m)"));
  EXPECT_TRUE(store.Get(*b).ok());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.Put({whatif, nullptr}).ok());  // room again
  EXPECT_EQ(store.Get("0123").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kestrel::sim
