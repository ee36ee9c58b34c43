// LoadContents with workloads: expansion in file order, pods already in a
// dump not created twice, DaemonSet targeting over the cluster's nodes,
// --scale, skipped kinds, and errors that name file, object and field.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/cluster.h"

namespace kestrel::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string Node(const std::string& name, const std::string& extra = "") {
  return absl::StrCat("apiVersion: v1\nkind: Node\nmetadata: {name: ", name,
                      ", labels: {kubernetes.io/hostname: ", name, "}}\n", extra,
                      "status: {allocatable: {cpu: \"4\", memory: 8Gi, pods: \"110\"}}\n---\n");
}

std::string Pod(const std::string& name, const std::string& meta_extra = "",
                const std::string& spec_extra = "") {
  return absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: {name: ", name,
                      ", namespace: default", meta_extra, "}\nspec: {", spec_extra,
                      "containers: [{name: c, image: i}]}\n---\n");
}

std::string Template(const std::string& app, const std::string& spec_extra = "") {
  return absl::StrCat("  selector: {matchLabels: {app: ", app,
                      "}}\n  template:\n    metadata: {labels: {app: ", app,
                      "}}\n    spec: {", spec_extra, "containers: [{name: c, image: i}]}\n");
}

std::string Deployment(const std::string& name, int replicas, const std::string& spec_extra = "") {
  return absl::StrCat("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ", name,
                      "}\nspec:\n  replicas: ", replicas, "\n", Template(name, spec_extra),
                      "---\n");
}

std::string StatefulSet(const std::string& name, int replicas, const std::string& extra = "") {
  return absl::StrCat("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ", name,
                      "}\nspec:\n  replicas: ", replicas, "\n  serviceName: ", name, "\n", extra,
                      Template(name), "---\n");
}

std::vector<std::string> PendingNames(const Cluster& c) {
  std::vector<std::string> out;
  for (const model::PodPtr& p : c.pending_pods) out.push_back(p->name);
  return out;
}

absl::StatusOr<Cluster> Load(const std::string& content, LoadOptions options = {}) {
  return LoadContents({{"w.yaml", content}}, options);
}

TEST(WorkloadExpansionTest, PodsTakeTheWorkloadsPlaceInFileOrder) {
  absl::StatusOr<Cluster> c =
      Load(Node("n1") + Pod("a") + Deployment("web", 2, "") + Pod("b") + StatefulSet("db", 3));
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> names = PendingNames(*c);
  ASSERT_EQ(names.size(), 7u);
  EXPECT_EQ(names[0], "a");
  EXPECT_TRUE(absl::StartsWith(names[1], "web-")) << names[1];
  EXPECT_TRUE(absl::StartsWith(names[2], "web-")) << names[2];
  EXPECT_EQ(names[3], "b");
  EXPECT_EQ(names[4], "db-0");
  EXPECT_EQ(names[5], "db-1");
  EXPECT_EQ(names[6], "db-2");
  // The ReplicaSet is the controller: PodTopologySpread's default
  // constraints apply to these pods.
  const model::Pod& web = *c->pending_pods[1];
  ASSERT_EQ(web.owners.size(), 1u);
  EXPECT_EQ(web.owners[0].kind, "ReplicaSet");
  EXPECT_TRUE(web.owners[0].controller);
  EXPECT_TRUE(absl::StartsWith(names[1], web.owners[0].name + "-"));
  EXPECT_EQ(web.owners[0].name.size(), names[1].size() - 6);
  // OrderedReady: each pod waits for the one before.
  EXPECT_THAT(c->waits_for, UnorderedElementsAre(Pair("default/db-1", "default/db-0"),
                                                 Pair("default/db-2", "default/db-1")));
  ASSERT_EQ(c->workloads.size(), 2u);
  EXPECT_EQ(c->workloads[0].Ref(), "deployment/web");
  EXPECT_EQ(c->workloads[0].created, 2);
  EXPECT_EQ(c->workloads[1].Ref(), "statefulset/db");
  EXPECT_EQ(c->workloads[1].created, 3);
  EXPECT_EQ(c->workloads[1].note, "");
}

// kubectl get deploy -o yaml writes a List; a DeploymentList in JSON too.
TEST(WorkloadExpansionTest, ListsOfWorkloads) {
  absl::StatusOr<Cluster> c = Load(
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: a}, spec: {replicas: 2, "
      "selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: "
      "{containers: [{name: c, image: i}]}}}}\n"
      "---\n"
      "{\"apiVersion\": \"apps/v1\", \"kind\": \"DeploymentList\", \"items\": [{\"metadata\": "
      "{\"name\": \"b\"}, \"kind\": \"Deployment\", \"apiVersion\": \"apps/v1\", \"spec\": "
      "{\"selector\": {\"matchLabels\": {\"app\": \"b\"}}, \"template\": {\"metadata\": "
      "{\"labels\": {\"app\": \"b\"}}, \"spec\": {\"containers\": [{\"name\": \"c\"}]}}}}]}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->workloads.size(), 2u);
  EXPECT_EQ(c->workloads[0].created, 2);
  EXPECT_EQ(c->workloads[1].created, 1);
  EXPECT_EQ(c->pending_pods.size(), 3u);
}

TEST(WorkloadExpansionTest, TemplatesAreDefaultedAsPods) {
  // Requests from limits, as SetDefaults_Pod; the default tolerations.
  absl::StatusOr<Cluster> c = Load(
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs}\nspec:\n  selector: "
      "{matchLabels: {app: x}}\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n"
      "      containers: [{name: c, image: i, resources: {limits: {cpu: 1500m}}}]\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->pending_pods.size(), 1u);  // replicas unset: 1
  EXPECT_EQ(c->pending_pods[0]->requests.milli_cpu, 1500);
  EXPECT_EQ(c->pending_pods[0]->scheduler_name, "default-scheduler");
  EXPECT_EQ(c->pending_pods[0]->tolerations.size(), 2u);
}

TEST(WorkloadExpansionTest, ParallelStatefulSetIsNotedAndDoesNotWait) {
  absl::StatusOr<Cluster> c =
      Load(StatefulSet("db", 2, "  podManagementPolicy: Parallel\n  ordinals: {start: 5}\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(PendingNames(*c), ElementsAre("db-5", "db-6"));
  EXPECT_TRUE(c->waits_for.empty());
  ASSERT_EQ(c->workloads.size(), 1u);
  EXPECT_THAT(c->workloads[0].note, HasSubstr("podManagementPolicy Parallel"));
}

// One pod per node the DaemonSet controller targets; the scheduler then
// places each on its node by the matchFields term.
TEST(WorkloadExpansionTest, DaemonSetTargetsNodesAsTheController) {
  const std::string nodes =
      Node("plain") +
      Node("gpu", "spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}\n") +
      Node("cordoned",
           "spec: {unschedulable: true, taints: [{key: node.kubernetes.io/unschedulable, "
           "effect: NoSchedule}]}\n") +
      Node("not-ready",
           "spec: {taints: [{key: node.kubernetes.io/not-ready, effect: NoSchedule}, "
           "{key: node.kubernetes.io/not-ready, effect: NoExecute}]}\n") +
      Node("unreachable",
           "spec: {taints: [{key: node.kubernetes.io/unreachable, effect: NoExecute}]}\n") +
      Node("has-one");
  const std::string ds =
      "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: kube-system}\n"
      "spec:\n" +
      Template("agent") + "---\n";
  const std::string ssd_ds =
      "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ssd}\nspec:\n" +
      Template("ssd", "nodeSelector: {kubernetes.io/hostname: plain}, ") + "---\n";
  // A pod of `agent` runs on has-one already.
  const std::string running =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: agent-old, namespace: kube-system, "
      "ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: u, "
      "controller: true}]}\nspec: {nodeName: has-one, containers: [{name: c, image: i}]}\n"
      "---\n";
  absl::StatusOr<Cluster> c = Load(nodes + running + ds + ssd_ds);
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> targeted;
  for (const model::PodPtr& p : c->pending_pods) {
    ASSERT_TRUE(p->required_node_affinity.has_value()) << p->name;
    std::string where;
    for (const model::NodePtr& n : c->nodes) {
      if (model::MatchesRequiredNodeAffinity(*p, *n)) where += n->name;
    }
    targeted.push_back(absl::StrCat(p->ns, " ", where));
    EXPECT_EQ(p->owners[0].kind, "DaemonSet");
  }
  // Not the GPU node (untolerated NoSchedule), not the not-ready one (its
  // NoSchedule taint), not has-one (a pod there already); the cordoned and
  // unreachable ones, yes.
  EXPECT_THAT(targeted, ElementsAre("kube-system plain", "kube-system cordoned",
                                    "kube-system unreachable", "default plain"));
  ASSERT_EQ(c->workloads.size(), 2u);
  EXPECT_EQ(c->workloads[0].Ref(), "daemonset/kube-system/agent");
  EXPECT_EQ(c->workloads[0].wanted, 4);
  EXPECT_EQ(c->workloads[0].present, 1);
  EXPECT_EQ(c->workloads[0].created, 3);
  EXPECT_EQ(c->workloads[0].note, "targets 4 of 6 nodes");
  EXPECT_EQ(c->workloads[1].created, 1);
}

TEST(WorkloadExpansionTest, WorkloadsInTheDumpAreNotExpandedTwice) {
  auto owned = [](const std::string& pod, const std::string& kind, const std::string& owner,
                  const std::string& labels) {
    return Pod(pod,
               absl::StrCat(", labels: {", labels, "}, ownerReferences: [{apiVersion: apps/v1, "
                            "kind: ", kind, ", name: ", owner, ", uid: u, controller: true}]"),
               "nodeName: n1, ");
  };
  struct Case {
    std::string name;
    std::string dump;
    std::string workload;
    int present, created;
  };
  const std::vector<Case> cases = {
      {"deployment by pod-template-hash",
       owned("web-h1-a", "ReplicaSet", "web-h1", "app: web, pod-template-hash: h1") +
           owned("web-h1-b", "ReplicaSet", "web-h1", "app: web, pod-template-hash: h1") +
           owned("web-h1-c", "ReplicaSet", "web-h1", "app: web, pod-template-hash: h1"),
       Deployment("web", 3), 3, 0},
      {"deployment by its ReplicaSet object",
       "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-old, ownerReferences: "
       "[{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]}\n"
       "spec:\n  replicas: 1\n" +
           Template("web") + "---\n" + owned("web-old-a", "ReplicaSet", "web-old", "app: web"),
       Deployment("web", 3), 1, 2},
      {"another deployment's pods do not count",
       owned("webx-h1-a", "ReplicaSet", "webx-h1", "app: web, pod-template-hash: h1"),
       Deployment("web", 2), 0, 2},
      {"statefulset: the missing ordinal only",
       owned("db-1", "StatefulSet", "db", "app: db"), StatefulSet("db", 3), 1, 2},
      {"job", owned("j-a", "Job", "j", "app: j"),
       "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 2\n  "
       "template: {spec: {containers: [{name: c, image: i}], restartPolicy: Never}}\n",
       1, 1},
  };
  for (const Case& tc : cases) {
    absl::StatusOr<Cluster> c = Load(Node("n1") + tc.dump + tc.workload);
    ASSERT_TRUE(c.ok()) << tc.name << ": " << c.status();
    const WorkloadExpansion& w = c->workloads.back();
    EXPECT_EQ(w.present, tc.present) << tc.name;
    EXPECT_EQ(w.created, tc.created) << tc.name;
    EXPECT_EQ(c->pending_pods.size(), static_cast<size_t>(tc.created)) << tc.name;
    if (tc.created == 0) {
      EXPECT_EQ(w.Summary(), "deployment/web: 3 pods already in the cluster; not expanded");
    }
  }
  // The StatefulSet's missing ordinals are 0 and 2; 2 waits for 1 (running).
  absl::StatusOr<Cluster> c =
      Load(Node("n1") + owned("db-1", "StatefulSet", "db", "app: db") + StatefulSet("db", 3));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(PendingNames(*c), ElementsAre("db-0", "db-2"));
  EXPECT_THAT(c->waits_for, UnorderedElementsAre(Pair("default/db-2", "default/db-1")));
}

TEST(WorkloadExpansionTest, DeploymentsReplicaSetIsNotExpandedOnItsOwn) {
  const std::string rs =
      "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-h1, ownerReferences: "
      "[{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]}\n"
      "spec:\n  replicas: 2\n" +
      Template("web") + "---\n";
  absl::StatusOr<Cluster> c = Load(rs + Deployment("web", 2));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pending_pods.size(), 2u);
  ASSERT_EQ(c->workloads.size(), 2u);
  EXPECT_EQ(c->workloads[0].note, "part of deployment/web; not expanded on its own");
  EXPECT_EQ(c->workloads[0].created, 0);
}

TEST(WorkloadExpansionTest, Scale) {
  const std::string input =
      Deployment("web", 2) + StatefulSet("db", 2) +
      "apiVersion: batch/v1\nkind: Job\nmetadata: {name: train, namespace: ml}\nspec:\n  "
      "template: {spec: {containers: [{name: c, image: i}], restartPolicy: Never}}\n---\n";
  LoadOptions options;
  for (const char* flag : {"deployment/web=5", "sts/db=1", "job/ml/train=3"}) {
    absl::StatusOr<ScaleRequest> r = ParseScale(flag);
    ASSERT_TRUE(r.ok()) << r.status();
    options.scale.push_back(*r);
  }
  absl::StatusOr<Cluster> c = Load(input, options);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->workloads.size(), 3u);
  EXPECT_EQ(c->workloads[0].created, 5);
  EXPECT_EQ(c->workloads[1].created, 1);
  EXPECT_EQ(c->workloads[2].created, 3);
  EXPECT_EQ(c->pending_pods.size(), 9u);

  // A workload that is not there is an error naming it.
  for (const auto& [flag, want] : std::vector<std::pair<std::string, std::string>>{
           {"deployment/api=3", "flag --scale: \"deployment/api=3\": no Deployment \"api\" in "
                                "the input files"},
           {"job/default/train=3", "flag --scale: \"job/default/train=3\": no Job \"train\" in "
                                   "namespace \"default\" in the input files"},
       }) {
    LoadOptions bad;
    bad.scale.push_back(*ParseScale(flag));
    absl::StatusOr<Cluster> b = Load(input, bad);
    ASSERT_FALSE(b.ok()) << flag;
    EXPECT_EQ(b.status().message(), want);
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(WorkloadExpansionTest, ParseScaleRefusesWhatItCannotRead) {
  for (const std::string flag :
       {"deployment/web", "web=3", "daemonset/agent=3", "deployment/web=-1", "deployment/web=x",
        "deployment/=3", "a/b/c/d=1"}) {
    absl::StatusOr<ScaleRequest> r = ParseScale(flag);
    EXPECT_FALSE(r.ok()) << flag;
    EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat("flag --scale: \"", flag, "\": ")));
  }
  absl::StatusOr<ScaleRequest> r = ParseScale("Deployment/prod/web=0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, "Deployment");
  EXPECT_EQ(r->ns, "prod");
  EXPECT_EQ(r->name, "web");
  EXPECT_EQ(r->replicas, 0);
}

TEST(WorkloadExpansionTest, UnknownKindsAreSkippedWithOneWarning) {
  absl::StatusOr<Cluster> c = Load(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n" +
      Pod("p"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->warnings, ElementsAre("skipped 3 objects of kinds we do not simulate: "
                                       "ConfigMap (2), Service (1)"));
  EXPECT_EQ(c->pending_pods.size(), 1u);
}

TEST(WorkloadExpansionTest, CronJobIsListedNotExpanded) {
  absl::StatusOr<Cluster> c = Load(
      "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  schedule: "
      "\"0 * * * *\"\n  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: "
      "i}]}}}}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->pending_pods.empty());
  ASSERT_EQ(c->workloads.size(), 1u);
  EXPECT_EQ(c->workloads[0].Ref(), "cronjob/backup");
  EXPECT_EQ(c->workloads[0].note, "not expanded; its Jobs are created on a schedule");
}

TEST(WorkloadExpansionTest, MalformedWorkloadsNameFileObjectAndField) {
  struct Case {
    std::string input;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: x}\n",
       "w.yaml: Deployment web: spec.replicas: "},
      {Deployment("web", 1) + Deployment("web", 2),
       "w.yaml: Deployment web: metadata.name: Duplicate value: \"default/web\""},
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: -1\n" +
           Template("web"),
       "w.yaml: Deployment web: spec.replicas: Invalid value: -1: must be greater than or equal "
       "to 0"},
      {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: "
       "{matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: "
       "{containers: [{name: c, image: i}], tolerations: [{key: k, operator: Maybe}]}\n",
       "w.yaml: Deployment web: spec.template.spec.tolerations[0].operator: Unsupported value: "
       "\"Maybe\""},
      {"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds}\nspec:\n  selector: "
       "{matchLabels: {app: ds}}\n  template:\n    metadata: {labels: {app: ds}}\n    spec: "
       "{containers: [{name: c, image: i}], tolerations: [{key: k, operator: Maybe}]}\n",
       "w.yaml: DaemonSet ds: spec.template.spec.tolerations[0].operator: Unsupported value: "
       "\"Maybe\""},
  };
  for (const Case& tc : cases) {
    absl::StatusOr<Cluster> c = Load(Node("n1") + tc.input);
    ASSERT_FALSE(c.ok()) << tc.input;
    EXPECT_TRUE(absl::StartsWith(c.status().message(), tc.want)) << c.status();
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kestrel::sim
