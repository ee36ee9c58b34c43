// Workload expansion (load/workloads.h) against what upstream's
// controllers do: names, owner references, labels, the DaemonSet
// controller's node targeting, tolerations and affinity term, Job pod
// counts and labels, and the API server's validation of workloads.

#include "load/workloads.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "load/loader.h"

namespace kestrel::load {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
namespace apps = ::k8s::io::api::apps::v1;
namespace batch = ::k8s::io::api::batch::v1;

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

template <typename T>
T Decode(const std::string& yaml) {
  T msg;
  absl::Status s = api::DecodeInto(yaml, &msg, "test.yaml");
  EXPECT_TRUE(s.ok()) << s;
  return msg;
}

ClaimName AnyName(std::set<std::string>* taken) {
  return [taken](const std::string& name) { return taken->insert(name).second; };
}

bool InAlphabet(absl::string_view s) {
  for (char c : s) {
    if (absl::string_view("bcdfghjklmnpqrstvwxz2456789").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> Tolerations(const v1::PodSpec& spec) {
  std::vector<std::string> out;
  for (const v1::Toleration& t : spec.tolerations()) {
    out.push_back(absl::StrCat(t.key(), " ", t.operator_(), " ", t.value(), " ", t.effect(),
                               t.has_tolerationseconds()
                                   ? absl::StrCat(" ", t.tolerationseconds())
                                   : ""));
  }
  return out;
}

TEST(WorkloadsTest, SafeEncodeStringAsUpstream) {
  // '0'..'9' are bytes 48..57; 48 % 27 = 21 -> '4'.
  EXPECT_EQ(SafeEncodeString("0123456789"), "456789bcdf");
  EXPECT_EQ(SafeEncodeString(""), "");
}

TEST(WorkloadsTest, PodTemplateHashHasUpstreamShapeAndFollowsTheTemplate) {
  auto a = Decode<v1::PodTemplateSpec>("metadata: {labels: {app: web}}\n"
                                       "spec: {containers: [{name: c, image: nginx}]}\n");
  auto b = Decode<v1::PodTemplateSpec>("metadata: {labels: {app: web}}\n"
                                       "spec: {containers: [{name: c, image: nginx:2}]}\n");
  const std::string ha = PodTemplateHash(a, std::nullopt);
  EXPECT_TRUE(InAlphabet(ha)) << ha;
  EXPECT_GE(ha.size(), 1u);
  EXPECT_LE(ha.size(), 10u);
  EXPECT_EQ(ha, PodTemplateHash(a, std::nullopt));
  EXPECT_NE(ha, PodTemplateHash(b, std::nullopt));
  EXPECT_NE(ha, PodTemplateHash(a, 1));
}

TEST(WorkloadsTest, DeploymentNewReplicaSet) {
  auto d = Decode<apps::Deployment>(R"yaml(
metadata: {name: web, namespace: prod, uid: d-uid}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
)yaml");
  apps::ReplicaSet rs = NewReplicaSet(d);
  const std::string hash = PodTemplateHash(d.spec().template_(), std::nullopt);
  EXPECT_EQ(rs.metadata().name(), "web-" + hash);
  EXPECT_EQ(rs.metadata().namespace_(), "prod");
  EXPECT_EQ(rs.spec().replicas(), 1);  // unset: 1
  ASSERT_EQ(rs.metadata().ownerreferences_size(), 1);
  const auto& ref = rs.metadata().ownerreferences(0);
  EXPECT_EQ(ref.apiversion(), "apps/v1");
  EXPECT_EQ(ref.kind(), "Deployment");
  EXPECT_EQ(ref.name(), "web");
  EXPECT_EQ(ref.uid(), "d-uid");
  EXPECT_TRUE(ref.controller());
  EXPECT_TRUE(ref.blockownerdeletion());
  EXPECT_THAT(rs.spec().template_().metadata().labels(),
              UnorderedElementsAre(Pair("app", "web"), Pair("pod-template-hash", hash)));
  EXPECT_THAT(rs.spec().selector().matchlabels(),
              UnorderedElementsAre(Pair("app", "web"), Pair("pod-template-hash", hash)));
  // collisionCount changes the name, as upstream's ComputeHash.
  d.mutable_status()->set_collisioncount(1);
  EXPECT_NE(NewReplicaSet(d).metadata().name(), rs.metadata().name());
}

TEST(WorkloadsTest, ReplicaSetPods) {
  auto rs = Decode<apps::ReplicaSet>(R"yaml(
metadata: {name: web-abc, uid: rs-uid}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {a: b}}
    spec: {containers: [{name: c, image: nginx}], restartPolicy: Always}
)yaml");
  std::set<std::string> taken;
  std::vector<v1::Pod> pods = ReplicaSetPods(rs, 3, AnyName(&taken));
  ASSERT_EQ(pods.size(), 3u);
  std::set<std::string> names;
  for (const v1::Pod& p : pods) {
    const std::string& name = p.metadata().name();
    names.insert(name);
    ASSERT_TRUE(absl::StartsWith(name, "web-abc-")) << name;
    EXPECT_EQ(name.size(), std::string("web-abc-").size() + 5) << name;
    EXPECT_TRUE(InAlphabet(name.substr(8))) << name;
    EXPECT_EQ(p.metadata().namespace_(), "default");
    EXPECT_THAT(p.metadata().labels(), UnorderedElementsAre(Pair("app", "web")));
    EXPECT_THAT(p.metadata().annotations(), UnorderedElementsAre(Pair("a", "b")));
    ASSERT_EQ(p.metadata().ownerreferences_size(), 1);
    EXPECT_EQ(p.metadata().ownerreferences(0).kind(), "ReplicaSet");
    EXPECT_EQ(p.metadata().ownerreferences(0).name(), "web-abc");
    EXPECT_EQ(p.metadata().ownerreferences(0).uid(), "rs-uid");
    EXPECT_TRUE(p.metadata().ownerreferences(0).controller());
    EXPECT_TRUE(p.metadata().ownerreferences(0).blockownerdeletion());
    EXPECT_EQ(p.spec().containers(0).image(), "nginx");
  }
  EXPECT_EQ(names.size(), 3u);
  // The same input names the same pods; a name already taken is skipped.
  std::set<std::string> again;
  again.insert(pods[0].metadata().name());
  std::vector<v1::Pod> second = ReplicaSetPods(rs, 1, AnyName(&again));
  EXPECT_NE(second[0].metadata().name(), pods[0].metadata().name());
  std::set<std::string> fresh;
  EXPECT_EQ(ReplicaSetPods(rs, 1, AnyName(&fresh))[0].metadata().name(), pods[0].metadata().name());
}

TEST(WorkloadsTest, GeneratedNamesCutTheBaseAt58) {
  apps::ReplicaSet rs;
  rs.mutable_metadata()->set_name(std::string(70, 'a'));
  std::set<std::string> taken;
  const std::string name = ReplicaSetPods(rs, 1, AnyName(&taken))[0].metadata().name();
  EXPECT_EQ(name.size(), 63u);
  EXPECT_EQ(name.substr(0, 58), std::string(58, 'a'));
}

TEST(WorkloadsTest, StatefulSetPods) {
  auto ss = Decode<apps::StatefulSet>(R"yaml(
metadata: {name: db, namespace: data}
spec:
  serviceName: db-headless
  selector: {matchLabels: {app: db}}
  ordinals: {start: 2}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: pg}]}
)yaml");
  EXPECT_EQ(StatefulSetFirstOrdinal(ss), 2);
  std::vector<v1::Pod> pods = StatefulSetPods(ss, {2, 3});
  ASSERT_EQ(pods.size(), 2u);
  const std::string revision =
      absl::StrCat("db-", PodTemplateHash(ss.spec().template_(), std::nullopt));
  for (int i = 0; i < 2; ++i) {
    const v1::Pod& p = pods[i];
    const std::string name = absl::StrCat("db-", i + 2);
    EXPECT_EQ(p.metadata().name(), name);
    EXPECT_EQ(p.metadata().namespace_(), "data");
    EXPECT_THAT(p.metadata().labels(),
                UnorderedElementsAre(Pair("app", "db"),
                                     Pair("statefulset.kubernetes.io/pod-name", name),
                                     Pair("apps.kubernetes.io/pod-index", absl::StrCat(i + 2)),
                                     Pair("controller-revision-hash", revision)));
    EXPECT_EQ(p.spec().hostname(), name);
    EXPECT_EQ(p.spec().subdomain(), "db-headless");
    ASSERT_EQ(p.metadata().ownerreferences_size(), 1);
    EXPECT_EQ(p.metadata().ownerreferences(0).kind(), "StatefulSet");
    EXPECT_EQ(p.metadata().ownerreferences(0).name(), "db");
    EXPECT_TRUE(p.metadata().ownerreferences(0).controller());
    // No uid in the manifest: a stand-in, stable.
    EXPECT_EQ(p.metadata().ownerreferences(0).uid(), StandInUid("StatefulSet", "data", "db"));
  }
}

TEST(WorkloadsTest, DaemonSetTolerationsAsUpstreamAddsThem) {
  struct Case {
    std::string name;
    std::string spec;
    std::vector<std::string> want;
  };
  const std::vector<std::string> base = {
      "node.kubernetes.io/not-ready Exists  NoExecute",
      "node.kubernetes.io/unreachable Exists  NoExecute",
      "node.kubernetes.io/disk-pressure Exists  NoSchedule",
      "node.kubernetes.io/memory-pressure Exists  NoSchedule",
      "node.kubernetes.io/pid-pressure Exists  NoSchedule",
      "node.kubernetes.io/unschedulable Exists  NoSchedule",
  };
  std::vector<std::string> host_network = base;
  host_network.push_back("node.kubernetes.io/network-unavailable Exists  NoSchedule");
  const std::vector<Case> cases = {
      {"none", "{}", base},
      {"hostNetwork", "{hostNetwork: true}", host_network},
      // The same key, operator, value and effect: replaced where it is
      // (the 60 s are gone); others are kept, first.
      {"replaces",
       "{tolerations: [{key: dedicated, operator: Equal, value: x, effect: NoSchedule},"
       " {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute,"
       " tolerationSeconds: 60}]}",
       {"dedicated Equal x NoSchedule", "node.kubernetes.io/not-ready Exists  NoExecute",
        "node.kubernetes.io/unreachable Exists  NoExecute",
        "node.kubernetes.io/disk-pressure Exists  NoSchedule",
        "node.kubernetes.io/memory-pressure Exists  NoSchedule",
        "node.kubernetes.io/pid-pressure Exists  NoSchedule",
        "node.kubernetes.io/unschedulable Exists  NoSchedule"}},
  };
  for (const Case& c : cases) {
    auto spec = Decode<v1::PodSpec>(c.spec);
    AddDaemonSetTolerations(&spec);
    EXPECT_EQ(Tolerations(spec), c.want) << c.name;
  }
}

// Upstream nodeShouldRunDaemonPod on nodes of every kind the issue names.
TEST(WorkloadsTest, DaemonSetTargeting) {
  struct Case {
    std::string name;
    std::string template_spec;  // the DaemonSet's template.spec
    std::string node;           // a Node's metadata+spec
    bool want;
  };
  const std::string plain = "{containers: [{name: c, image: agent}]}";
  const std::vector<Case> cases = {
      {"plain node", plain, "metadata: {name: n}", true},
      {"untolerated NoSchedule taint", plain,
       "metadata: {name: n}\nspec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}",
       false},
      {"untolerated NoExecute taint", plain,
       "metadata: {name: n}\nspec: {taints: [{key: k, effect: NoExecute}]}", false},
      {"PreferNoSchedule taint", plain,
       "metadata: {name: n}\nspec: {taints: [{key: k, effect: PreferNoSchedule}]}", true},
      {"tolerated taint",
       "{containers: [{name: c, image: a}], tolerations: [{key: dedicated, operator: Exists}]}",
       "metadata: {name: n}\nspec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}",
       true},
      {"cordoned node", plain,
       "metadata: {name: n}\nspec: {unschedulable: true, taints: [{key: "
       "node.kubernetes.io/unschedulable, effect: NoSchedule}]}",
       true},
      {"not-ready node (NoExecute)", plain,
       "metadata: {name: n}\nspec: {taints: [{key: node.kubernetes.io/not-ready, effect: "
       "NoExecute}]}",
       true},
      {"not-ready node (NoSchedule, TaintNodesByCondition)", plain,
       "metadata: {name: n}\nspec: {taints: [{key: node.kubernetes.io/not-ready, effect: "
       "NoSchedule}]}",
       false},
      {"memory-pressure node", plain,
       "metadata: {name: n}\nspec: {taints: [{key: node.kubernetes.io/memory-pressure, effect: "
       "NoSchedule}]}",
       true},
      {"network-unavailable, pod network", plain,
       "metadata: {name: n}\nspec: {taints: [{key: node.kubernetes.io/network-unavailable, "
       "effect: NoSchedule}]}",
       false},
      {"network-unavailable, host network", "{containers: [{name: c, image: a}], hostNetwork: true}",
       "metadata: {name: n}\nspec: {taints: [{key: node.kubernetes.io/network-unavailable, "
       "effect: NoSchedule}]}",
       true},
      {"nodeSelector matches", "{containers: [{name: c, image: a}], nodeSelector: {disk: ssd}}",
       "metadata: {name: n, labels: {disk: ssd}}", true},
      {"nodeSelector mismatch", "{containers: [{name: c, image: a}], nodeSelector: {disk: ssd}}",
       "metadata: {name: n, labels: {disk: hdd}}", false},
      {"required affinity mismatch",
       "{containers: [{name: c, image: a}], affinity: {nodeAffinity: "
       "{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: "
       "[{key: zone, operator: In, values: [a]}]}]}}}}",
       "metadata: {name: n, labels: {zone: b}}", false},
      {"template nodeName elsewhere", "{containers: [{name: c, image: a}], nodeName: other}",
       "metadata: {name: n}", false},
      {"template nodeName here", "{containers: [{name: c, image: a}], nodeName: n}",
       "metadata: {name: n}", true},
  };
  for (const Case& c : cases) {
    model::Interner names;
    auto ds = Decode<apps::DaemonSet>(absl::StrCat(
        "metadata: {name: agent, namespace: kube-system}\nspec:\n  selector: {matchLabels: "
        "{app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec: ",
        c.template_spec, "\n"));
    v1::Pod new_pod = DaemonSetNewPod(ds);
    absl::StatusOr<model::PodPtr> pod = CompilePodObject(new_pod, names, {});
    ASSERT_TRUE(pod.ok()) << c.name << ": " << pod.status();
    auto api_node = Decode<v1::Node>(c.node);
    absl::StatusOr<model::NodePtr> node = CompileNodeObject(api_node, names, {});
    ASSERT_TRUE(node.ok()) << c.name << ": " << node.status();
    EXPECT_EQ(DaemonSetShouldRun(ds, **pod, **node), c.want) << c.name;
  }
}

TEST(WorkloadsTest, DaemonSetPodsNameTheirNode) {
  auto ds = Decode<apps::DaemonSet>(R"yaml(
metadata: {name: agent, namespace: kube-system, generation: 4}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: agent}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: os, operator: In, values: [linux]}]}]
          preferredDuringSchedulingIgnoredDuringExecution:
          - {weight: 1, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}
)yaml");
  std::set<std::string> taken;
  std::vector<v1::Pod> pods = DaemonSetPods(ds, {"n1", "n2"}, AnyName(&taken));
  ASSERT_EQ(pods.size(), 2u);
  EXPECT_NE(pods[0].metadata().name(), pods[1].metadata().name());
  for (int i = 0; i < 2; ++i) {
    const v1::Pod& p = pods[i];
    EXPECT_TRUE(absl::StartsWith(p.metadata().name(), "agent-")) << p.metadata().name();
    EXPECT_EQ(p.metadata().namespace_(), "kube-system");
    EXPECT_EQ(p.spec().nodename(), "");  // the scheduler binds it
    const v1::NodeAffinity& na = p.spec().affinity().nodeaffinity();
    const v1::NodeSelector& req = na.requiredduringschedulingignoredduringexecution();
    ASSERT_EQ(req.nodeselectorterms_size(), 1);
    ASSERT_EQ(req.nodeselectorterms(0).matchfields_size(), 1);
    EXPECT_EQ(req.nodeselectorterms(0).matchexpressions_size(), 0);
    const v1::NodeSelectorRequirement& r = req.nodeselectorterms(0).matchfields(0);
    EXPECT_EQ(r.key(), "metadata.name");
    EXPECT_EQ(r.operator_(), "In");
    EXPECT_THAT(r.values(), ElementsAre(i == 0 ? "n1" : "n2"));
    EXPECT_EQ(na.preferredduringschedulingignoredduringexecution_size(), 1);
    EXPECT_EQ(p.metadata().labels().at("pod-template-generation"), "4");
    EXPECT_EQ(p.metadata().labels().at("controller-revision-hash"),
              PodTemplateHash(ds.spec().template_(), std::nullopt));
    EXPECT_EQ(p.spec().tolerations_size(), 6);
    ASSERT_EQ(p.metadata().ownerreferences_size(), 1);
    EXPECT_EQ(p.metadata().ownerreferences(0).kind(), "DaemonSet");
    EXPECT_TRUE(p.metadata().ownerreferences(0).controller());
  }
}

TEST(WorkloadsTest, JobPodCount) {
  struct Case {
    std::string spec;
    int32_t want;
  };
  const std::vector<Case> cases = {
      {"{}", 1},
      {"{parallelism: 4}", 4},
      {"{parallelism: 4, completions: 2}", 2},
      {"{parallelism: 2, completions: 10}", 2},
      {"{completions: 5}", 1},
      {"{parallelism: 0}", 0},
      {"{parallelism: 3, suspend: true}", 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(JobPodCount(Decode<batch::JobSpec>(c.spec)), c.want) << c.spec;
  }
}

TEST(WorkloadsTest, JobPods) {
  auto job = Decode<batch::Job>(R"yaml(
metadata: {name: train, uid: job-uid}
spec:
  template:
    metadata: {labels: {app: train, job-name: mine}}
    spec: {containers: [{name: c, image: t}], restartPolicy: OnFailure}
)yaml");
  std::set<std::string> taken;
  std::vector<v1::Pod> pods = JobPods(job, 2, AnyName(&taken));
  ASSERT_EQ(pods.size(), 2u);
  for (const v1::Pod& p : pods) {
    EXPECT_TRUE(absl::StartsWith(p.metadata().name(), "train-")) << p.metadata().name();
    EXPECT_EQ(p.metadata().name().size(), 11u);
    // A label the user set is kept (upstream generateSelector).
    EXPECT_THAT(p.metadata().labels(),
                UnorderedElementsAre(Pair("app", "train"), Pair("job-name", "mine"),
                                     Pair("batch.kubernetes.io/job-name", "train"),
                                     Pair("controller-uid", "job-uid"),
                                     Pair("batch.kubernetes.io/controller-uid", "job-uid")));
    EXPECT_EQ(p.spec().restartpolicy(), "OnFailure");
    ASSERT_EQ(p.metadata().ownerreferences_size(), 1);
    EXPECT_EQ(p.metadata().ownerreferences(0).apiversion(), "batch/v1");
    EXPECT_EQ(p.metadata().ownerreferences(0).kind(), "Job");
    EXPECT_TRUE(p.metadata().ownerreferences(0).controller());
  }

  job.mutable_spec()->set_completionmode("Indexed");
  job.mutable_spec()->set_completions(2);
  std::vector<v1::Pod> indexed = JobPods(job, 2, AnyName(&taken));
  for (int i = 0; i < 2; ++i) {
    const v1::Pod& p = indexed[i];
    EXPECT_TRUE(absl::StartsWith(p.metadata().name(), absl::StrCat("train-", i, "-")))
        << p.metadata().name();
    EXPECT_EQ(p.spec().hostname(), absl::StrCat("train-", i));
    EXPECT_EQ(p.metadata().annotations().at("batch.kubernetes.io/job-completion-index"),
              absl::StrCat(i));
    EXPECT_EQ(p.metadata().labels().at("batch.kubernetes.io/job-completion-index"),
              absl::StrCat(i));
  }
}

TEST(WorkloadsTest, ValidateWorkloadAsTheApiServer) {
  struct Case {
    std::string kind;
    std::string yaml;
    std::string want;  // empty: valid
  };
  const std::string tmpl =
      "  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, "
      "image: i}]}\n";
  const std::vector<Case> cases = {
      {"Deployment", "spec:\n  selector: {matchLabels: {app: web}}\n" + tmpl, ""},
      {"Deployment", "spec:\n  replicas: -1\n  selector: {matchLabels: {app: web}}\n" + tmpl,
       "Deployment default/web: spec.replicas: Invalid value: -1: must be greater than or equal "
       "to 0"},
      {"Deployment", "spec:\n" + tmpl, "Deployment default/web: spec.selector: Required value"},
      {"ReplicaSet", "spec:\n  selector: {}\n" + tmpl,
       "ReplicaSet default/web: spec.selector: Invalid value: {}: empty selector is invalid for "
       "deployment"},
      {"StatefulSet", "spec:\n  selector: {matchLabels: {app: db}}\n" + tmpl,
       "StatefulSet default/web: spec.template.metadata.labels: Invalid value: "
       "map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"},
      {"StatefulSet",
       "spec:\n  podManagementPolicy: Sometimes\n  selector: {matchLabels: {app: web}}\n" + tmpl,
       "StatefulSet default/web: spec.podManagementPolicy: Unsupported value: \"Sometimes\": "
       "supported values: \"OrderedReady\", \"Parallel\""},
      {"DaemonSet", "spec:\n  selector: {matchLabels: {app: web}}\n" + tmpl, ""},
      {"Job", "spec:\n  parallelism: -2\n" + tmpl,
       "Job default/web: spec.parallelism: Invalid value: -2: must be greater than or equal to 0"},
      {"Job", "spec:\n  completionMode: Indexed\n" + tmpl,
       "Job default/web: spec.completions: Required value: when completion mode is Indexed"},
  };
  for (const Case& c : cases) {
    std::unique_ptr<google::protobuf::Message> msg;
    if (c.kind == "Deployment") msg = std::make_unique<apps::Deployment>();
    if (c.kind == "ReplicaSet") msg = std::make_unique<apps::ReplicaSet>();
    if (c.kind == "StatefulSet") msg = std::make_unique<apps::StatefulSet>();
    if (c.kind == "DaemonSet") msg = std::make_unique<apps::DaemonSet>();
    if (c.kind == "Job") msg = std::make_unique<batch::Job>();
    ASSERT_TRUE(api::DecodeInto(c.yaml, msg.get(), "t").ok()) << c.yaml;
    model::Interner names;
    absl::Status s = ValidateWorkload(*msg, absl::StrCat(c.kind, " default/web"), names);
    if (c.want.empty()) {
      EXPECT_TRUE(s.ok()) << c.kind << ": " << s;
    } else {
      EXPECT_EQ(std::string(s.message()), c.want) << c.kind;
    }
  }
}

}  // namespace
}  // namespace kestrel::load
