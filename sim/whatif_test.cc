#include "sim/whatif.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "scheduler/profile.h"

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

v1::Pod PodFromYaml(const std::string& yaml) {
  v1::Pod out;
  absl::Status s = api::DecodeEach("pod.yaml", yaml, [&](api::Object obj) {
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
  auto pod = w->CompilePod(PodFromYaml(kWebTemplate), "template");
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

// Brute force: the template's copies appended to the cluster file as
// pending pods, scheduled one by one by Simulate (preemption off, no
// rescheduler). Capacity's count is the copies placed before the first that
// was not, its per-node counts theirs, stopped_by that copy's message.
CapacityResult BruteForce(const std::string& cluster_path, const std::string& tmpl, int copies) {
  std::string extra;
  for (int i = 1; i <= copies; ++i) {
    std::string doc = tmpl;
    const size_t at = doc.find("name: probe,");
    doc.replace(at, 12, absl::StrCat("name: probe-", i, ","));
    absl::StrAppend(&extra, "---\n", doc);
  }
  auto cluster = LoadContents({{cluster_path, Read(cluster_path)}, {"copies.yaml", extra}});
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  // The cluster file's own pending pods are not part of the question.
  std::vector<model::PodPtr>& pending = cluster->pending_pods;
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [](const model::PodPtr& p) {
                                 return p->name.rfind("probe-", 0) != 0;
                               }),
                pending.end());
  config::KubeSchedulerConfiguration config = scheduler::DefaultConfig();
  config.add_profiles()->mutable_plugins()->mutable_postfilter()->add_disabled()->set_name("*");
  SimOptions options;
  options.rescheduler = false;
  auto report = Simulate(*cluster, config, options);
  EXPECT_TRUE(report.ok()) << report.status();
  CapacityResult out;
  std::map<std::string, int64_t> per_node;
  for (const Placement& p : report->placements) {
    if (p.pod.find("/probe-") == std::string::npos) continue;
    if (p.node.empty()) {
      out.stopped_by = p.message;
      break;
    }
    ++out.count;
    ++per_node[p.node];
  }
  for (const model::NodePtr& n : cluster->nodes) {
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
    auto pod = w->CompilePod(PodFromYaml(c.tmpl), "template");
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
  auto pod = w->CompilePod(PodFromYaml(kWebTemplate), "template");
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
  auto pod = w->CompilePod(PodFromYaml(kWebTemplate), "template");
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
    auto pod = w->CompilePod(PodFromYaml(c.yaml), "pods[1]");
    ASSERT_FALSE(pod.ok()) << c.yaml;
    EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(pod.status().message().find(c.want), std::string::npos) << pod.status();
  }
  // A name taken by a bound pod or by another pod of the request.
  auto pod = w->CompilePod(PodFromYaml(kWebTemplate), "pods[0]");
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
  auto web = w->CompilePod(PodFromYaml(kWebTemplate), "template");
  auto one = w->CompilePod(PodFromYaml(kOnePerHostTemplate), "template");
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
        auto pod = w->CompilePod(PodFromYaml(kWebTemplate), "template");
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

}  // namespace
}  // namespace kestrel::sim
