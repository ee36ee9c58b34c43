
#include "api/decode.h"

#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/apps.pb.h"
#include "api/batch.pb.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/json_document.h"
#include "api/meta.pb.h"
#include "api/policy.pb.h"
#include "api/quantity.h"
#include "api/runtime.pb.h"
#include "api/scheduling.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

namespace core = ::k8s::io::api::core::v1;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPodYaml[] = R"yaml(
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: default
  labels: {app: web, tier: "1"}
  creationTimestamp: "2024-01-02T03:04:05Z"
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, controller: true}
spec:
  schedulerName: kestrel
  priority: 1000
  terminationGracePeriodSeconds: 30
  hostNetwork: false
  nodeSelector: {disk: ssd}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data-web-1}
  - name: scratch
    emptyDir: {sizeLimit: 1Gi}
  initContainers:
  - name: init
    image: busybox
  containers:
  - name: app
    image: nginx:1.25
    ports: [{containerPort: 80, protocol: TCP}]
    resources:
      requests: {cpu: 100m, memory: 128Mi, nvidia.com/gpu: 1}
      limits: {cpu: 0.5}
  tolerations:
  - {key: dedicated, operator: Equal, value: web, effect: NoSchedule, tolerationSeconds: 60}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: zone, operator: In, values: [a, b]}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        preference:
          matchExpressions: [{key: gen, operator: Gt, values: ["3"]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        namespaceSelector: {}
        matchLabelKeys: [pod-template-hash]
        mismatchLabelKeys: [tenant]
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    minDomains: 3
    nodeAffinityPolicy: Honor
    nodeTaintsPolicy: Ignore
    matchLabelKeys: [version]
    labelSelector:
      matchExpressions: [{key: app, operator: Exists}]
  unknownField: {ignored: [1, 2]}
status:
  phase: Pending
  nominatedNodeName: node-3
  startTime: 2024-01-02T03:04:05.5Z
  conditions: [{type: PodScheduled, status: "False", reason: Unschedulable}]
)yaml";

const core::Pod& AsPod(const Object& object) {
  return static_cast<const core::Pod&>(*object.message);
}

TEST(DecodeObjectsTest, DecodesFullPod) {
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("pods.yaml", kPodYaml);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1);
  const Object& object = (*objects)[0];
  EXPECT_EQ(object.kind, "Pod");
  EXPECT_EQ(object.api_version, "v1");
  EXPECT_EQ(object.origin, "pods.yaml: Pod default/web-1");
  const core::Pod& pod = AsPod(object);

  EXPECT_EQ(pod.metadata().name(), "web-1");
  EXPECT_EQ(pod.metadata().labels().at("tier"), "1");
  EXPECT_EQ(pod.metadata().creationtimestamp().seconds(), 1704164645);
  EXPECT_TRUE(pod.metadata().ownerreferences(0).controller());

  const core::PodSpec& spec = pod.spec();
  EXPECT_EQ(spec.schedulername(), "kestrel");
  EXPECT_EQ(spec.priority(), 1000);
  EXPECT_EQ(spec.terminationgraceperiodseconds(), 30);
  EXPECT_TRUE(spec.has_hostnetwork());
  EXPECT_EQ(spec.nodeselector().at("disk"), "ssd");
  ASSERT_EQ(spec.volumes_size(), 2);
  EXPECT_EQ(spec.volumes(0).volumesource().persistentvolumeclaim().claimname(),
            "data-web-1");
  EXPECT_EQ(spec.volumes(1).volumesource().emptydir().sizelimit().string(), "1Gi");
  EXPECT_EQ(spec.initcontainers(0).image(), "busybox");

  const core::Container& app = spec.containers(0);
  EXPECT_EQ(app.ports(0).containerport(), 80);
  EXPECT_EQ(app.resources().requests().at("cpu").string(), "100m");
  EXPECT_EQ(app.resources().requests().at("memory").string(), "128Mi");
  EXPECT_EQ(app.resources().requests().at("nvidia.com/gpu").string(), "1");
  EXPECT_EQ(app.resources().limits().at("cpu").string(), "0.5");

  EXPECT_EQ(spec.tolerations(0).tolerationseconds(), 60);
  const core::NodeSelectorRequirement& zone = spec.affinity()
      .nodeaffinity().requiredduringschedulingignoredduringexecution()
      .nodeselectorterms(0).matchexpressions(0);
  EXPECT_EQ(zone.operator_(), "In");
  EXPECT_THAT(zone.values(), ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(spec.affinity().nodeaffinity()
                .preferredduringschedulingignoredduringexecution(0).weight(), 10);
  const core::PodAffinityTerm& anti = spec.affinity().podantiaffinity()
      .requiredduringschedulingignoredduringexecution(0);
  EXPECT_EQ(anti.topologykey(), "kubernetes.io/hostname");
  EXPECT_TRUE(anti.has_namespaceselector());
  EXPECT_THAT(anti.matchlabelkeys(), ::testing::ElementsAre("pod-template-hash"));
  EXPECT_THAT(anti.mismatchlabelkeys(), ::testing::ElementsAre("tenant"));

  const core::TopologySpreadConstraint& tsc = spec.topologyspreadconstraints(0);
  EXPECT_EQ(tsc.mindomains(), 3);
}

TEST(DecodeObjectsTest, DecodesStatusAndTimes) {
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("pods.yaml", kPodYaml);
  ASSERT_TRUE(objects.ok()) << objects.status();
  const core::Pod& pod = AsPod((*objects)[0]);
  EXPECT_EQ(pod.status().phase(), "Pending");
  EXPECT_EQ(pod.status().nominatednodename(), "node-3");
  EXPECT_EQ(pod.status().starttime().seconds(), 1704164645);
  EXPECT_EQ(pod.status().starttime().nanos(), 500000000);
  EXPECT_EQ(pod.status().conditions(0).status(), "False");
  const core::TopologySpreadConstraint& tsc = pod.spec().topologyspreadconstraints(0);
  EXPECT_EQ(tsc.nodeaffinitypolicy(), "Honor");
  EXPECT_EQ(tsc.nodetaintspolicy(), "Ignore");
  EXPECT_EQ(tsc.labelselector().matchexpressions(0).operator_(), "Exists");
}

TEST(DecodeObjectsTest, SplitsStreamsAndListsAndSkipsOtherKinds) {
  constexpr char kStream[] = R"yaml(
---
# empty document
---
apiVersion: v1
kind: Service
metadata: {name: skipped}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: n1}}
- apiVersion: v1
  kind: PodList
  items:
  - {apiVersion: v1, kind: Pod, metadata: {name: p1, namespace: ns}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: d}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000000
globalDefault: true
preemptionPolicy: Never
description: important
---
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: other-group-event}
...
)yaml";
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("all.yaml", kStream);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 3);
  EXPECT_EQ((*objects)[0].origin, "all.yaml: Node n1");
  EXPECT_EQ((*objects)[1].origin, "all.yaml: Pod ns/p1");
  EXPECT_EQ((*objects)[2].kind, "PriorityClass");
  const auto& pc = static_cast<const ::k8s::io::api::scheduling::v1::PriorityClass&>(
      *(*objects)[2].message);
  EXPECT_EQ(pc.value(), 1000000);
  EXPECT_TRUE(pc.globaldefault());
  EXPECT_EQ(pc.preemptionpolicy(), "Never");
  EXPECT_EQ(pc.description(), "important");
}

// Workloads are decoded (the simulator expands them); other kinds are
// handed to `skipped` once each, lists never.
TEST(DecodeEachTest, DecodesWorkloadsAndNamesSkippedKinds) {
  constexpr char kStream[] = R"yaml(
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: s}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: prod}
  spec:
    replicas: 3
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec: {containers: [{name: c, image: nginx}]}
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db}
  spec: {replicas: 2, serviceName: db, podManagementPolicy: Parallel, ordinals: {start: 1}}
- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent}}
- {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: rs}, spec: {replicas: 0}}
- {apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {parallelism: 4, completions: 2}}
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: cj}
  spec: {schedule: "*/5 * * * *", jobTemplate: {spec: {parallelism: 2}}}
- {apiVersion: extensions/v1beta1, kind: Deployment, metadata: {name: old}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}
)yaml";
  std::vector<std::string> kinds, skipped;
  absl::Status s = DecodeEach(
      "w.yaml", kStream,
      [&](Object o) {
        kinds.push_back(o.kind);
        if (o.kind == "Deployment") {
          const auto& d = static_cast<const ::k8s::io::api::apps::v1::Deployment&>(*o.message);
          EXPECT_EQ(o.origin, "w.yaml: Deployment prod/web");
          EXPECT_EQ(d.spec().replicas(), 3);
          EXPECT_EQ(d.spec().template_().metadata().labels().at("app"), "web");
          EXPECT_EQ(d.spec().template_().spec().containers(0).image(), "nginx");
        }
        if (o.kind == "StatefulSet") {
          const auto& ss = static_cast<const ::k8s::io::api::apps::v1::StatefulSet&>(*o.message);
          EXPECT_EQ(ss.spec().podmanagementpolicy(), "Parallel");
          EXPECT_EQ(ss.spec().servicename(), "db");
          EXPECT_EQ(ss.spec().ordinals().start(), 1);
        }
        if (o.kind == "CronJob") {
          const auto& cj = static_cast<const ::k8s::io::api::batch::v1::CronJob&>(*o.message);
          EXPECT_EQ(cj.spec().jobtemplate().spec().parallelism(), 2);
        }
        return absl::OkStatus();
      },
      [&](const std::string& kind) { skipped.push_back(kind); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(kinds, (std::vector<std::string>{"Deployment", "StatefulSet", "DaemonSet",
                                             "ReplicaSet", "Job", "CronJob"}));
  // extensions/v1beta1 is not the apps group: skipped, by kind.
  EXPECT_EQ(skipped, (std::vector<std::string>{"Service", "Deployment", "ConfigMap"}));
}

// A workload's bad field is named as a pod's is.
TEST(DecodeEachTest, MalformedWorkloadNamesFileObjectAndField) {
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects(
      "w.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                "spec: {replicas: x}\n");
  ASSERT_FALSE(objects.ok());
  EXPECT_TRUE(absl::StartsWith(objects.status().message(),
                               "w.yaml: Deployment web: spec.replicas: "))
      << objects.status();
}

TEST(DecodeObjectsTest, DecodesJson) {
  constexpr char kJson[] = R"json({
  "apiVersion": "v1",
  "kind": "Node",
  "metadata": {"name": "n1", "labels": {"zone": "a"}},
  "spec": {"unschedulable": true, "podCIDR": "10.0.0.0/24",
           "taints": [{"key": "k", "value": "v", "effect": "NoSchedule",
                       "timeAdded": "2024-01-02T03:04:05Z"}]},
  "status": {
    "capacity": {"cpu": "4", "memory": "16Gi", "pods": 110},
    "allocatable": {"cpu": "3500m", "memory": "15Gi"},
    "conditions": [{"type": "Ready", "status": "True",
                    "lastHeartbeatTime": "2024-01-02T03:04:05Z"}],
    "images": [{"names": ["nginx:1.25"], "sizeBytes": 71000000}]
  }
})json";
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("node.json", kJson);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1);
  const auto& node = static_cast<const core::Node&>(*(*objects)[0].message);
  EXPECT_TRUE(node.spec().unschedulable());
  EXPECT_EQ(node.spec().taints(0).effect(), "NoSchedule");
  EXPECT_EQ(node.spec().taints(0).timeadded().seconds(), 1704164645);
  EXPECT_EQ(node.status().capacity().at("pods").string(), "110");
  EXPECT_EQ(Quantity::Parse(node.status().allocatable().at("cpu").string())
                ->MilliValue(), 3500);
  EXPECT_EQ(node.status().conditions(0).type(), "Ready");
  EXPECT_EQ(node.status().images(0).sizebytes(), 71000000);
}

TEST(DecodeObjectsTest, DecodesPodDisruptionBudgetIntOrString) {
  constexpr char kPdbs[] = R"yaml(
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: a, namespace: ns}
spec: {minAvailable: 2, selector: {matchLabels: {app: web}}}
status: {disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: b, namespace: ns}
spec: {maxUnavailable: "25%"}
)yaml";
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("pdb.yaml", kPdbs);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 2);
  using ::k8s::io::api::policy::v1::PodDisruptionBudget;
  const auto& a = static_cast<const PodDisruptionBudget&>(*(*objects)[0].message);
  EXPECT_EQ(a.spec().minavailable().type(), 0);
  EXPECT_EQ(a.spec().minavailable().intval(), 2);
  EXPECT_EQ(a.status().disruptionsallowed(), 1);
  EXPECT_EQ(a.status().expectedpods(), 3);
  const auto& b = static_cast<const PodDisruptionBudget&>(*(*objects)[1].message);
  EXPECT_EQ(b.spec().maxunavailable().type(), 1);
  EXPECT_EQ(b.spec().maxunavailable().strval(), "25%");
}

TEST(DecodeObjectsTest, DecodesLeaseMicroTime) {
  constexpr char kLease[] = R"yaml(
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: kestrel, namespace: kube-system}
spec:
  holderIdentity: kestrel-0
  leaseDurationSeconds: 15
  renewTime: "2024-01-02T03:04:05.123456Z"
)yaml";
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("lease.yaml", kLease);
  ASSERT_TRUE(objects.ok()) << objects.status();
  const auto& lease =
      static_cast<const ::k8s::io::api::coordination::v1::Lease&>(*(*objects)[0].message);
  EXPECT_EQ(lease.spec().holderidentity(), "kestrel-0");
  EXPECT_EQ(lease.spec().renewtime().seconds(), 1704164645);
  EXPECT_EQ(lease.spec().renewtime().nanos(), 123456000);
}

TEST(DecodeObjectsTest, NullLeavesFieldsUnset) {
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects(
      "p.yaml", "kind: Pod\nmetadata: {name: p}\nspec:\n  nodeName: null\n"
                "  priority: ~\n  affinity:\n  tolerations: null\n");
  ASSERT_TRUE(objects.ok()) << objects.status();
  const core::Pod& pod = AsPod((*objects)[0]);
  EXPECT_TRUE(pod.has_spec());
  EXPECT_FALSE(pod.spec().has_nodename());
  EXPECT_FALSE(pod.spec().has_priority());
  EXPECT_FALSE(pod.spec().has_affinity());
  EXPECT_EQ(pod.spec().tolerations_size(), 0);
}

TEST(DecodeObjectsTest, EmptyInputHasNoObjects) {
  for (const char* content : {"", "---\n", "# only a comment\n", "null\n", "~"}) {
    absl::StatusOr<std::vector<Object>> objects = DecodeObjects("e.yaml", content);
    ASSERT_TRUE(objects.ok()) << content << ": " << objects.status();
    EXPECT_TRUE(objects->empty()) << content;
  }
}

struct ErrorCase {
  std::string name;
  std::string content;
  std::string error;  // The whole message must start with this.
};

class DecodeErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(DecodeErrorTest, NamesFileObjectAndField) {
  const ErrorCase& c = GetParam();
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("pods.yaml", c.content);
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(objects.status().message()), StartsWith(c.error));
  EXPECT_EQ(std::string(objects.status().message()).find('\n'), std::string::npos);
}

constexpr char kPodHead[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: default}\n";

INSTANTIATE_TEST_SUITE_P(
    Errors, DecodeErrorTest,
    testing::Values(
        ErrorCase{"BadQuantity",
                  absl::StrCat(kPodHead, "spec:\n  containers:\n  - name: a\n"
                               "    resources: {requests: {cpu: 1.5.5}}\n"),
                  "pods.yaml: Pod default/web-1: "
                  "spec.containers[0].resources.requests.cpu: quantities must "
                  "match the regular expression "
                  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got \"1.5.5\")"},
        ErrorCase{"BadQuantitySuffix",
                  absl::StrCat(kPodHead, "spec: {overhead: {memory: 1i}}\n"),
                  "pods.yaml: Pod default/web-1: spec.overhead.memory: unable "
                  "to parse quantity's suffix (got \"1i\")"},
        ErrorCase{"QuantityIsObject",
                  absl::StrCat(kPodHead, "spec: {overhead: {memory: {a: 1}}}\n"),
                  "pods.yaml: Pod default/web-1: spec.overhead.memory: expected "
                  "a quantity, got an object"},
        ErrorCase{"StringForInt",
                  absl::StrCat(kPodHead, "spec: {priority: high}\n"),
                  "pods.yaml: Pod default/web-1: spec.priority: expected an "
                  "integer (int32), got \"high\""},
        ErrorCase{"QuotedNumberForInt",
                  absl::StrCat(kPodHead, "spec: {priority: \"5\"}\n"),
                  "pods.yaml: Pod default/web-1: spec.priority: expected an "
                  "integer (int32), got \"5\""},
        ErrorCase{"FloatForInt",
                  absl::StrCat(kPodHead, "spec: {priority: 1.5}\n"),
                  "pods.yaml: Pod default/web-1: spec.priority: expected an integer"},
        ErrorCase{"Int32Overflow",
                  absl::StrCat(kPodHead, "spec: {priority: 3000000000}\n"),
                  "pods.yaml: Pod default/web-1: spec.priority: value 3000000000 "
                  "is out of range for int32"},
        ErrorCase{"BadBool",
                  absl::StrCat(kPodHead, "spec: {hostNetwork: maybe}\n"),
                  "pods.yaml: Pod default/web-1: spec.hostNetwork: expected a "
                  "boolean, got \"maybe\""},
        ErrorCase{"ObjectForList",
                  absl::StrCat(kPodHead, "spec: {containers: {name: a}}\n"),
                  "pods.yaml: Pod default/web-1: spec.containers: expected a "
                  "list, got an object"},
        ErrorCase{"ScalarForObject",
                  absl::StrCat(kPodHead, "spec: nope\n"),
                  "pods.yaml: Pod default/web-1: spec: expected an object, got "
                  "\"nope\""},
        ErrorCase{"ListForString",
                  absl::StrCat(kPodHead, "spec: {nodeName: [a]}\n"),
                  "pods.yaml: Pod default/web-1: spec.nodeName: expected a "
                  "string, got a list"},
        ErrorCase{"BadTime",
                  absl::StrCat(kPodHead, "status: {startTime: yesterday}\n"),
                  "pods.yaml: Pod default/web-1: status.startTime: expected an "
                  "RFC 3339 time"},
        ErrorCase{"NoName",
                  "kind: Pod\nspec: {priority: x}\n",
                  "pods.yaml: Pod (document 1): spec.priority: expected an integer"},
        ErrorCase{"SecondDocument",
                  "kind: Service\n---\nkind: Node\nmetadata: {labels: []}\n",
                  "pods.yaml: Node (document 2): metadata.labels: expected an "
                  "object, got a list"},
        ErrorCase{"ListItem",
                  "kind: List\nitems:\n- kind: Pod\n- kind: Node\n  spec: 1\n",
                  "pods.yaml: Node (document 1 items[1]): spec: expected an object"},
        ErrorCase{"MissingKind", "metadata: {name: x}\n",
                  "pods.yaml: document 1: missing \"kind\""},
        ErrorCase{"TopLevelScalar", "hello\n",
                  "pods.yaml: document 1: expected an object, got \"hello\""},
        ErrorCase{"SyntaxError", "kind: Pod\nmetadata:\n  name: [a, b\n",
                  "pods.yaml:4:1: "},
        ErrorCase{"BadIndentation", "kind: Pod\nmetadata:\n  name: a\n bad: b\n",
                  "pods.yaml:4:"},
        ErrorCase{"NestingBeyondYamlCpp",
                  absl::StrCat("kind: Pod\nspec: ", std::string(5000, '['),
                               std::string(5000, ']'), "\n"),
                  "pods.yaml:2:"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(DecodeObjectsTest, AliasCycleIsRejected) {
  // yaml-cpp registers the anchor before the node's children, so this list
  // contains itself.
  absl::StatusOr<std::vector<Object>> objects =
      DecodeObjects("l.yaml", "&a {kind: List, items: [*a]}\n");
  ASSERT_FALSE(objects.ok());
  EXPECT_THAT(std::string(objects.status().message()),
              HasSubstr("lists nested deeper than 200"));
}

TEST(DecodeIntoTest, DeepRawObjectIsRejected) {
  meta::WatchEvent event;
  absl::Status s = DecodeInto(absl::StrCat("{type: ADDED, object: ",
                                           std::string(300, '['),
                                           std::string(300, ']'), "}"),
                              &event, "watch");
  EXPECT_THAT(std::string(s.message()), HasSubstr("nested deeper than 200"));
  s = DecodeInto("&e {type: ADDED, object: [*e]}", &event, "watch");
  EXPECT_THAT(std::string(s.message()), HasSubstr("nested deeper than 200"));
}

TEST(DecodeObjectsTest, AliasBombIsBounded) {
  // A few kilobytes that name 200 pods of 200 containers of 200 arguments
  // each (8 million strings) through aliases, every level a valid field, so
  // that only the node budget can stop the decoder. (A bomb of nested lists
  // would stop at the first list where an object belongs, budget or not.)
  auto aliases = [](const char* name) {
    std::vector<std::string> refs(200, absl::StrCat("*", name));
    return absl::StrCat("[", absl::StrJoin(refs, ", "), "]");
  };
  const std::string content = absl::StrCat(
      "arg: &arg x\n", "args: &args ", aliases("arg"), "\n",
      "c: &c {name: a, args: *args}\n", "cs: &cs ", aliases("c"), "\n",
      "pod: &pod {apiVersion: v1, kind: Pod, metadata: {name: x}, spec: {containers: *cs}}\n",
      "kind: List\nitems: ", aliases("pod"), "\n");
  ASSERT_LT(content.size(), 4000u);
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("bomb.yaml", content);
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(objects.status().message()),
              StartsWith("bomb.yaml: Pod x: spec.containers["));
  EXPECT_THAT(std::string(objects.status().message()), HasSubstr("].args["));
  EXPECT_THAT(std::string(objects.status().message()),
              HasSubstr(": document expands to too many nodes (alias expansion?)"));
}

TEST(DecodeObjectsTest, AliasesAreResolved) {
  constexpr char kYaml[] = R"yaml(
kind: Pod
metadata: {name: p, labels: &labels {app: web}}
spec:
  nodeSelector: *labels
  containers:
  - &c {name: a, resources: {requests: {cpu: 1}}}
  - *c
)yaml";
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("a.yaml", kYaml);
  ASSERT_TRUE(objects.ok()) << objects.status();
  const core::Pod& pod = AsPod((*objects)[0]);
  EXPECT_EQ(pod.spec().nodeselector().at("app"), "web");
  EXPECT_EQ(pod.spec().containers_size(), 2);
}

TEST(DecodeIntoTest, DecodesAnyMessage) {
  meta::LabelSelector selector;
  ASSERT_TRUE(DecodeInto("matchLabels: {a: b}\nmatchExpressions: [{key: k, "
                         "operator: NotIn, values: [x]}]\n",
                         &selector, "sel.yaml")
                  .ok());
  EXPECT_EQ(selector.matchlabels().at("a"), "b");
  EXPECT_EQ(selector.matchexpressions(0).values(0), "x");
}

TEST(DecodeIntoTest, ErrorsCarryContext) {
  core::PodSpec spec;
  absl::Status s = DecodeInto("priority: [1]\n", &spec, "config.yaml");
  EXPECT_EQ(s.message(), "config.yaml: priority: expected an integer (int32), got a list");
  s = DecodeInto("a: 1\n---\nb: 2\n", &spec, "config.yaml");
  EXPECT_EQ(s.message(), "config.yaml: expected one document, found 2");
  s = DecodeInto("a: [\n", &spec, "config.yaml");
  EXPECT_THAT(std::string(s.message()), StartsWith("config.yaml:2:1: "));
}

TEST(DecodeIntoTest, WatchEventKeepsRawObject) {
  meta::WatchEvent event;
  ASSERT_TRUE(DecodeInto(R"({"type": "ADDED", "object": {"kind": "Pod",
                           "metadata": {"name": "p"}}})",
                         &event, "watch")
                  .ok());
  EXPECT_EQ(event.type(), "ADDED");
  absl::StatusOr<std::vector<Object>> objects =
      DecodeObjects("watch", event.object().raw());
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1);
  EXPECT_EQ(AsPod((*objects)[0]).metadata().name(), "p");
}

TEST(DecodeFileTest, MissingFileIsNotFound) {
  absl::StatusOr<std::vector<Object>> objects = DecodeFile("/nonexistent/pods.yaml");
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(objects.status().message()), HasSubstr("/nonexistent/pods.yaml"));
}

TEST(DecodeFileTest, ReadsFile) {
  const std::string path = ::testing::TempDir() + "/node.yaml";
  {
    std::ofstream out(path);
    out << "kind: Node\nmetadata: {name: n1}\n";
  }
  absl::StatusOr<std::vector<Object>> objects = DecodeFile(path);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1);
  EXPECT_EQ((*objects)[0].origin, path + ": Node n1");
}

}  // namespace
}  // namespace kestrel::api

namespace kestrel::api {
namespace {

// DecodeJsonInto must decode exactly as DecodeInto does on the value's JSON
// text (what the callers did before: print the parsed value, decode the
// text): same message, same error, for every shape of value the API
// writes. A float is the one thing a parsed value does not keep as it was
// written (1.5e9 prints as 1500000000.0), on both paths alike.
class DecodeJsonIntoTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DecodeJsonIntoTest, MatchesDecodingTheText) {
  const std::string text = GetParam();
  const nlohmann::json value = nlohmann::json::parse(text);
  k8s::io::api::core::v1::Pod from_text, from_json;
  const absl::Status a = DecodeInto(value.dump(), &from_text, "ctx");
  const absl::Status b = DecodeJsonInto(value, &from_json, "ctx");
  EXPECT_EQ(a.code(), b.code());
  EXPECT_EQ(a.message(), b.message());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_text, from_json))
      << from_text.DebugString() << "\nvs\n" << from_json.DebugString();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DecodeJsonIntoTest,
    ::testing::Values(
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","labels":{"app":"web","n":"1"},"annotations":{},"creationTimestamp":"2024-01-02T03:04:05Z","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u","controller":true}]},
            "spec":{"priority":10,"schedulerName":"default-scheduler","nodeName":null,
                    "containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"hostPort":8080,"protocol":"TCP"}],
                                   "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":2,"memory":1.5e9}}}],
                    "tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
                    "affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]},"topologyKey":"kubernetes.io/hostname"}}]}},
                    "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}],
                    "volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"c"}},{"name":"e","emptyDir":{}}]},
            "status":{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True","lastProbeTime":null}],"startTime":"2024-01-02T03:04:05Z"}})",
        R"({"kind":"Pod","metadata":{"name":"p","unknownField":{"x":[1,2,3]}},"spec":{"containers":[]}})",
        R"({"kind":"Pod","spec":{"priority":"high"}})",
        R"({"kind":"Pod","spec":{"priority":1.5}})",
        R"({"kind":"Pod","spec":{"priority":99999999999}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","ports":[{"containerPort":"80"}]}]}})",
        R"({"kind":"Pod","spec":{"containers":"not a list"}})",
        R"({"kind":"Pod","metadata":{"labels":{"a":true,"b":null}}})",
        R"({"kind":"Pod","spec":{"hostNetwork":"yes"}})",
        R"({"kind":"Pod","metadata":{"creationTimestamp":"yesterday"}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":"http"}}}]}})",
        R"({})"));

TEST(DecodeJsonIntoTest, RefusesDeepValuesBeforeWalkingThem) {
  nlohmann::json deep = nlohmann::json::object();
  nlohmann::json* at = &deep;
  for (int i = 0; i < 5000; ++i) at = &((*at)["a"] = nlohmann::json::object());
  k8s::io::api::core::v1::Pod pod;
  const absl::Status s = DecodeJsonInto(deep, &pod, "ctx");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("ctx: nested deeper than"));
}

}  // namespace
}  // namespace kestrel::api

namespace kestrel::api {
namespace {

// JSON files take the simdjson front end; the same text behind a YAML
// comment takes yaml-cpp's. Both must give the same objects and the same
// errors: one decoder, two front ends.
class FrontEndsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FrontEndsTest, JsonAndYamlDecodeAlike) {
  const std::string json = GetParam();
  ASSERT_TRUE(LooksLikeJson(json));
  absl::StatusOr<std::vector<Object>> from_json = DecodeObjects("f", json);
  absl::StatusOr<std::vector<Object>> from_yaml = DecodeObjects("f", "# yaml\n" + json);
  ASSERT_EQ(from_json.status(), from_yaml.status());
  if (!from_json.ok()) return;
  ASSERT_EQ(from_json->size(), from_yaml->size());
  for (size_t i = 0; i < from_json->size(); ++i) {
    const Object& a = (*from_json)[i];
    const Object& b = (*from_yaml)[i];
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.api_version, b.api_version);
    EXPECT_EQ(a.origin, b.origin);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*a.message, *b.message))
        << a.message->DebugString() << "\nvs\n" << b.message->DebugString();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FrontEndsTest,
    ::testing::Values(
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns","labels":{"app":"web","n":"1"},"annotations":{},"creationTimestamp":"2024-01-02T03:04:05Z","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"u","controller":true}]},
            "spec":{"priority":10,"schedulerName":"default-scheduler","nodeName":null,
                    "containers":[{"name":"c","image":"i","ports":[{"containerPort":80,"hostPort":8080,"protocol":"TCP"}],
                                   "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":2,"memory":1.5e9,"x/y":1.50}}}],
                    "tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}],
                    "affinity":{"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]},"topologyKey":"kubernetes.io/hostname"}}]}},
                    "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"web"}}}],
                    "volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"c"}},{"name":"e","emptyDir":{}}]},
            "status":{"phase":"Running","conditions":[{"type":"PodScheduled","status":"True","lastProbeTime":null}],"startTime":"2024-01-02T03:04:05Z"}})",
        R"({"apiVersion":"v1","kind":"List","items":[{"kind":"Node","metadata":{"name":"n1"},"status":{"allocatable":{"cpu":4,"pods":"110"}}},{"kind":"Service"},{"kind":"PodList","items":[{"kind":"Pod","metadata":{"name":"a","namespace":"b"}}]}]})",
        R"({"kind":"List","items":[{"kind":"Pod","metadata":{"name":"a"}},{"kind":"Node","spec":7}]})",
        R"({"kind":"List","items":{"a":1}})",
        R"([{"kind":"Pod"}])",
        R"({"metadata":{"name":"x"}})",
        R"({"kind":"Pod","metadata":{"name":"p","unknownField":{"x":[1,2,3]}},"spec":{"containers":[]}})",
        R"({"kind":"Pod","spec":{"priority":"high"}})",
        R"({"kind":"Pod","spec":{"priority":1.5}})",
        R"({"kind":"Pod","spec":{"priority":99999999999}})",
        R"({"kind":"Pod","spec":{"priority":123456789012345678901234567890}})",
        R"({"kind":"Pod","spec":{"priority":-5,"terminationGracePeriodSeconds":-9223372036854775808}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots"}}}]}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":1e3,"memory":"1e3"}}}]}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":[1]}}}]}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","ports":[{"containerPort":"80"}]}]}})",
        R"({"kind":"Pod","spec":{"containers":"not a list"}})",
        R"({"kind":"Pod","spec":{"containers":[null]}})",
        R"({"kind":"Pod","spec":{"nodeSelector":{"a":null,"b":5,"c":true}}})",
        R"({"kind":"Pod","spec":{"tolerations":[{"key":"k","tolerationSeconds":"300"}]}})",
        R"({"kind":"Pod","metadata":{"labels":{"a":true,"b":null}}})",
        R"({"kind":"Pod","metadata":{"finalizers":["a",null]}})",
        R"({"kind":"Pod","spec":{"hostNetwork":"yes"}})",
        R"({"kind":"Pod","spec":{"hostNetwork":1}})",
        R"({"kind":"Pod","metadata":{"creationTimestamp":"yesterday"}})",
        R"({"kind":"Pod","metadata":{"name":"a\"b\u0001\u00e9"}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":"http"}}}]}})",
        R"({"kind":"Pod","spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":8080}}}]}})",
        R"({"kind":"PodDisruptionBudget","apiVersion":"policy/v1","metadata":{"name":"b"},"spec":{"maxUnavailable":"25%","minAvailable":3000000000}})",
        R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","spec":{"renewTime":"2024-01-02T03:04:05.123456Z","leaseDurationSeconds":15}})",
        R"({"kind":"PriorityClass","apiVersion":"scheduling.k8s.io/v1","metadata":{"name":"hi"},"value":1000,"globalDefault":true})",
        R"({"kind":"Node","status":{"images":[{"names":["a"],"sizeBytes":"12"}]}})",
        R"({})"));

TEST(DecodeObjectsTest, JsonObjectKeysLongerThan1024Characters) {
  // Legal JSON that yaml-cpp refuses ("end of map flow not found").
  const std::string key = "example.com/" + std::string(1988, 'k');
  const std::string json = absl::StrCat(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{")", key,
      R"(":"v"}}})");
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("pods.json", json);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1);
  const auto& pod = static_cast<const core::Pod&>(*(*objects)[0].message);
  EXPECT_EQ(pod.metadata().annotations().at(key), "v");
}

TEST(DecodeObjectsTest, JsonSyntaxErrorsReadAsJson) {
  absl::StatusOr<std::vector<Object>> objects =
      DecodeObjects("pods.json", "{\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\" \"p\"}\n}\n");
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(objects.status().message(),
            "pods.json:3:23: expected a member (\"name\": value), ',' or '}' in an object, "
            "found '\"'");
}

}  // namespace
}  // namespace kestrel::api

namespace kestrel::api {
namespace {

namespace runtime = ::k8s::io::apimachinery::pkg::runtime;

// The k8s\x00 envelope around `raw`, as upstream's protobuf serializer
// writes it.
std::string Envelope(const std::string& api_version, const std::string& kind,
                     const std::string& raw) {
  runtime::Unknown unknown;
  unknown.mutable_typemeta()->set_apiversion(api_version);
  unknown.mutable_typemeta()->set_kind(kind);
  unknown.set_raw(raw);
  unknown.set_contentencoding("");
  unknown.set_contenttype("");
  return std::string("k8s\0", 4) + unknown.SerializeAsString();
}

// A list message's bytes: field 2 (`items`) once per item.
std::string ListBytes(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out.push_back(static_cast<char>((2 << 3) | 2));
    size_t n = item.size();
    while (n >= 0x80) {
      out.push_back(static_cast<char>((n & 0x7F) | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<char>(n));
    out += item;
  }
  return out;
}

std::string RawExtensionOf(const std::string& enveloped) {
  runtime::RawExtension extension;
  extension.set_raw(enveloped);
  return extension.SerializeAsString();
}

TEST(DecodeObjectsTest, DecodesProtobufListsAsTheYamlOfTheSameObjects) {
  absl::StatusOr<std::vector<Object>> yaml = DecodeObjects("c.yaml", R"yaml(
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: ns}
spec:
  containers:
  - name: c
    resources: {requests: {cpu: 100m}}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {zone: a}}
status: {allocatable: {cpu: "4", pods: "110"}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
)yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_EQ(yaml->size(), 3);
  const Object& pod = (*yaml)[0];
  const Object& node = (*yaml)[1];
  const Object& pc = (*yaml)[2];

  // A v1 List of enveloped objects (one of a kind we skip), and a PodList.
  const std::string list = Envelope(
      "v1", "List",
      ListBytes({RawExtensionOf(Envelope("v1", "Pod", pod.message->SerializeAsString())),
                 RawExtensionOf(Envelope("v1", "Service", "")),
                 RawExtensionOf(Envelope("v1", "Node", node.message->SerializeAsString())),
                 RawExtensionOf(Envelope("scheduling.k8s.io/v1", "PriorityClass",
                                         pc.message->SerializeAsString()))}));
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("c.pb", list);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 3);
  const std::vector<std::string> origins = {"c.pb: Pod ns/p1", "c.pb: Node n1",
                                            "c.pb: PriorityClass high"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*objects)[i].kind, (*yaml)[i].kind);
    EXPECT_EQ((*objects)[i].api_version, (*yaml)[i].api_version);
    EXPECT_EQ((*objects)[i].origin, origins[i]);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*(*objects)[i].message,
                                                                   *(*yaml)[i].message));
  }

  absl::StatusOr<std::vector<Object>> pods = DecodeObjects(
      "p.pb", Envelope("v1", "PodList", ListBytes({pod.message->SerializeAsString()})));
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 1);
  EXPECT_EQ((*pods)[0].kind, "Pod");
  EXPECT_EQ((*pods)[0].origin, "p.pb: Pod ns/p1");
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*(*pods)[0].message, *pod.message));
}

TEST(DecodeObjectsTest, BadProtobufNamesFileAndItem) {
  struct Case {
    std::string content;
    std::string error;
  };
  const std::vector<Case> cases = {
      {std::string("k8s\0\xFF\xFF", 6),
       "c.pb: document 1: the protobuf envelope (runtime.Unknown) does not parse"},
      {Envelope("", "", ""), "c.pb: document 1: missing \"kind\" in the protobuf envelope"},
      {Envelope("v1", "Pod", "\xFF"), "c.pb: document 1: Pod does not parse as protobuf"},
      {Envelope("v1", "List", ListBytes({RawExtensionOf("{}")})),
       "c.pb: document 1 items[0]: expected an object in the protobuf envelope"},
      {Envelope("v1", "List", ListBytes({RawExtensionOf(Envelope("v1", "Node", "\x0A"))})),
       "c.pb: document 1 items[0]: Node does not parse as protobuf"},
      {Envelope("v1", "NodeList", ListBytes({"\x0A\x05"})),
       "c.pb: document 1 items[0]: Node does not parse as protobuf"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<Object>> objects = DecodeObjects("c.pb", c.content);
    ASSERT_FALSE(objects.ok()) << c.error;
    EXPECT_EQ(objects.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(objects.status().message(), c.error);
  }
}

}  // namespace
}  // namespace kestrel::api
