// PodCompiler must give, for every pod, what CompilePod gives: each pod of
// a varied set (templates shared and not, bound and not, legacy
// annotations, matchLabelKeys, invalid instances) is compiled both ways and
// every field of the results is compared.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"

namespace kestrel::model {
namespace {

std::string Dump(const Requirement& r) {
  return absl::StrCat(r.key, static_cast<int>(r.op), "[", absl::StrJoin(r.values, ","), "]",
                      r.number);
}

std::string Dump(const std::vector<Requirement>& rs) {
  std::string out = "{";
  for (const Requirement& r : rs) absl::StrAppend(&out, Dump(r), ";");
  return out + "}";
}

std::string Dump(const LabelSelector& s) {
  return absl::StrCat(s.matches_nothing ? "nothing" : "", Dump(s.requirements));
}

std::string Dump(const NodeSelectorTerm& t) {
  return absl::StrCat(Dump(t.expressions), Dump(t.fields), "(",
                      absl::StrJoin(t.parse_errors, "|"), ")");
}

std::string Dump(const AffinityTerm& t) {
  return absl::StrCat("ns[", absl::StrJoin(t.namespaces, ","), "]", Dump(t.namespace_selector),
                      Dump(t.selector), t.topology_key);
}

// Every field of a compiled pod, ids included.
std::string Dump(const Pod& p) {
  std::string out = absl::StrCat(p.ns, "|", p.name, "|", p.uid, "|", p.ns_id, "|");
  for (const Label& l : p.labels.items()) {
    absl::StrAppend(&out, l.key, "=", l.value, "#", l.number ? *l.number : -1, ",");
  }
  for (const OwnerRef& o : p.owners) absl::StrAppend(&out, o.kind, "/", o.name, o.controller);
  absl::StrAppend(&out, "|", p.scheduler_name, "|", p.node_name, "|", p.nominated_node_name,
                  "|", p.priority, "|", static_cast<int>(p.preemption_policy), "|",
                  p.priority_class_name, "|", p.critical_annotation, p.mirror, "|",
                  absl::FormatTime(p.creation_time), "|", absl::FormatTime(p.start_time), "|",
                  p.terminating, "|");
  absl::StrAppend(&out, p.requests.milli_cpu, ",", p.requests.memory, ",",
                  p.requests.ephemeral_storage, ",", p.requests.allowed_pods, ",");
  for (const auto& [id, v] : p.requests.scalar) absl::StrAppend(&out, id, ":", v, ",");
  absl::StrAppend(&out, "|", p.non_zero_milli_cpu, ",", p.non_zero_memory, "|");
  for (const HostPort& h : p.host_ports) {
    absl::StrAppend(&out, static_cast<int>(h.protocol), h.host_ip, ":", h.port, ",");
  }
  absl::StrAppend(&out, "|", absl::StrJoin(p.images, ","), "|");
  for (const Toleration& t : p.tolerations) {
    absl::StrAppend(&out, t.key, static_cast<int>(t.op), t.value, static_cast<int>(t.effect),
                    ",");
  }
  absl::StrAppend(&out, "|", Dump(p.node_selector), "|");
  if (p.required_node_affinity) {
    for (const NodeSelectorTerm& t : p.required_node_affinity->terms) {
      absl::StrAppend(&out, Dump(t), ";");
    }
  } else {
    out += "none";
  }
  for (const PreferredSchedulingTerm& t : p.preferred_node_affinity) {
    absl::StrAppend(&out, t.weight, Dump(t.term), ";");
  }
  out += "|";
  for (const auto* terms : {&p.required_affinity, &p.required_anti_affinity}) {
    for (const AffinityTerm& t : *terms) absl::StrAppend(&out, Dump(t), ";");
    out += "|";
  }
  for (const auto* terms : {&p.preferred_affinity, &p.preferred_anti_affinity}) {
    for (const WeightedAffinityTerm& t : *terms) {
      absl::StrAppend(&out, t.weight, Dump(t.term), ";");
    }
    out += "|";
  }
  absl::StrAppend(&out, p.has_pod_affinity, "|");
  for (const TopologySpreadConstraint& c : p.spread_constraints) {
    absl::StrAppend(&out, c.max_skew, ",", c.topology_key, ",",
                    static_cast<int>(c.when_unsatisfiable), Dump(c.selector), c.min_domains,
                    static_cast<int>(c.node_affinity_policy),
                    static_cast<int>(c.node_taints_policy), ";");
  }
  absl::StrAppend(&out, "|", p.invalid_reason);
  return out;
}

constexpr char kPods[] = R"yaml(
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: ns
  uid: u1
  labels: {app: web, pod-template-hash: abc}
  creationTimestamp: "2024-01-02T03:04:05Z"
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: r, controller: true}]
spec:
  containers:
  - name: c
    image: nginx
    ports: [{containerPort: 80, hostPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 128Mi, example.com/gpu: 1}, limits: {example.com/gpu: 1}}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  nodeSelector: {disk: ssd}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule,
     labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [pod-template-hash]}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  namespace: ns
  uid: u2
  labels: {app: web, pod-template-hash: abc}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-abc, uid: r, controller: true}]
spec:
  nodeName: node-7
  containers:
  - name: c
    image: nginx
    ports: [{containerPort: 80, hostPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 128Mi, example.com/gpu: 1}, limits: {example.com/gpu: 1}}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  nodeSelector: {disk: ssd}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule,
     labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [pod-template-hash]}
status: {phase: Running, startTime: "2024-01-02T03:04:09Z", nominatedNodeName: node-7}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-3
  namespace: ns
  labels: {app: web, pod-template-hash: def}
  deletionTimestamp: "2024-01-02T03:04:05Z"
spec:
  containers:
  - name: c
    image: nginx
    ports: [{containerPort: 80, hostPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 128Mi, example.com/gpu: 1}, limits: {example.com/gpu: 1}}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  nodeSelector: {disk: ssd}
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash]
---
apiVersion: v1
kind: Pod
metadata: {name: bad_name!, namespace: ns, labels: {app: web, pod-template-hash: def}, deletionTimestamp: "2024-01-02T03:04:05Z"}
spec:
  containers:
  - name: c
    image: nginx
    ports: [{containerPort: 80, hostPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 128Mi, example.com/gpu: 1}, limits: {example.com/gpu: 1}}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  nodeSelector: {disk: ssd}
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash]
---
apiVersion: v1
kind: Pod
metadata: {name: bad-node, namespace: ns, labels: {app: web, pod-template-hash: abc}}
spec:
  nodeName: Not_A_Node
  containers:
  - name: c
    image: nginx
    ports: [{containerPort: 80, hostPort: 8080}]
    resources: {requests: {cpu: 100m, memory: 128Mi, example.com/gpu: 1}, limits: {example.com/gpu: 1}}
  tolerations: [{key: k, operator: Exists, effect: NoSchedule}]
  nodeSelector: {disk: ssd}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
        matchLabelKeys: [pod-template-hash]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule,
     labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [pod-template-hash]}
---
apiVersion: v1
kind: Pod
metadata:
  name: legacy-1
  namespace: ns
  annotations:
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "k", "operator": "Bogus"}]'
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: legacy-2
  namespace: ns
  annotations:
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "k", "operator": "Bogus"}]'
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata:
  name: critical
  namespace: kube-system
  annotations: {scheduler.alpha.kubernetes.io/critical-pod: "", scheduler.alpha.kubernetes.io/name: other}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: kube-system}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain-2, namespace: kube-system}
spec:
  containers: [{name: c, image: busybox}]
  priorityClassName: Not_Valid
)yaml";

TEST(PodCompilerTest, EveryPodCompilesAsCompilePodDoes) {
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects("pods.yaml", kPods);
  ASSERT_TRUE(objects.ok()) << objects.status();
  // Twice over, so that every pod finds its template the second time.
  std::vector<const v1::Pod*> pods;
  for (int round = 0; round < 2; ++round) {
    for (const api::Object& o : *objects) pods.push_back(static_cast<const v1::Pod*>(o.message.get()));
  }
  Interner each_names, shared_names;
  PodCompiler compiler(shared_names);
  for (const v1::Pod* pod : pods) {
    absl::StatusOr<PodPtr> each = CompilePod(*pod, each_names);
    absl::StatusOr<PodPtr> shared = compiler.Compile(*pod);
    const std::string name = pod->metadata().name();
    ASSERT_EQ(each.status(), shared.status()) << name;
    if (each.ok()) {
      EXPECT_EQ(Dump(**each), Dump(**shared)) << name;
    }
  }
  // Compiled in full: web-1, web-3, critical and plain once; the invalid
  // pods (bad_name!, bad-node, plain-2) and those with a bad legacy
  // annotation (legacy-1, legacy-2) each time. Everything else reuses.
  EXPECT_EQ(compiler.compiled(), 4 + 2 * 5);
  EXPECT_EQ(compiler.reused(), 1 + 5);
}

TEST(PodCompilerTest, CompilesATemplateOnce) {
  std::string yaml;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&yaml, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p-", i,
                    ", namespace: d, uid: u", i,
                    ", labels: {app: a}}\nspec:\n  nodeName: n", i % 7,
                    "\n  containers: [{name: c, resources: {requests: {cpu: 1}}}]\n");
  }
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects("pods.yaml", yaml);
  ASSERT_TRUE(objects.ok()) << objects.status();
  Interner names;
  PodCompiler compiler(names);
  for (const api::Object& o : *objects) {
    absl::StatusOr<PodPtr> pod = compiler.Compile(static_cast<const v1::Pod&>(*o.message));
    ASSERT_TRUE(pod.ok()) << pod.status();
    const auto& api = static_cast<const v1::Pod&>(*o.message);
    EXPECT_EQ((*pod)->name, api.metadata().name());
    EXPECT_EQ((*pod)->uid, api.metadata().uid());
    EXPECT_EQ((*pod)->node_name, api.spec().nodename());
  }
  EXPECT_EQ(compiler.compiled(), 1);
  EXPECT_EQ(compiler.reused(), 99);
}

}  // namespace
}  // namespace kestrel::model
