// File: objects.h
//
// The compiled, in-memory form of pods and nodes. The API protobufs are the
// wire and file format; these structs are what the scheduler reads. A pod is
// compiled once (see compile.h) when it enters the cache or the queue: its
// effective requests, host ports, tolerations and selectors are computed then,
// never in the scheduling hot path.
//
// Compiled objects are immutable once built and shared by pointer
// (`std::shared_ptr<const Pod>`), so the cache, snapshots and the queue can
// hold the same pod without copying it.

#ifndef KESTREL_MODEL_OBJECTS_H_
#define KESTREL_MODEL_OBJECTS_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/resources.h"

namespace kestrel::model {

enum class TaintEffect : uint8_t {
  kNone,  // only in tolerations: an empty effect tolerates every effect
  kNoSchedule,
  kPreferNoSchedule,
  kNoExecute,
};

struct Taint {
  std::string key;
  std::string value;
  Id key_id = kNoId;
  Id value_id = kNoId;  // kNoId: empty value
  TaintEffect effect = TaintEffect::kNoSchedule;
  // spec.taints[].timeAdded; InfinitePast when unset. The rescheduler
  // stamps its own taints, so that a restart can tell how old they are.
  absl::Time time_added = absl::InfinitePast();
};

enum class TolerationOp : uint8_t { kEqual, kExists };

struct Toleration {
  Id key = kNoId;  // kNoId: empty key (with Exists: tolerates every taint)
  TolerationOp op = TolerationOp::kEqual;
  Id value = kNoId;  // kNoId: empty value
  TaintEffect effect = TaintEffect::kNone;

  // Upstream v1.Toleration.ToleratesTaint.
  bool Tolerates(const Taint& taint) const {
    if (effect != TaintEffect::kNone && effect != taint.effect) return false;
    if (key != kNoId && key != taint.key_id) return false;
    switch (op) {
      case TolerationOp::kExists:
        return true;
      case TolerationOp::kEqual:
        // Empty values are kNoId on both sides, so they compare equal.
        return value == taint.value_id;
    }
    return false;
  }
};

enum class Protocol : uint8_t { kTCP, kUDP, kSCTP };

// A host port a pod claims on its node.
struct HostPort {
  Protocol protocol = Protocol::kTCP;
  std::string host_ip;  // "0.0.0.0" when unset: the wildcard
  int32_t port = 0;
};

struct OwnerRef {
  std::string kind;
  std::string name;
  bool controller = false;
};

enum class PreemptionPolicy : uint8_t { kPreemptLowerPriority, kNever };

// spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[i].
struct PreferredSchedulingTerm {
  int32_t weight = 0;
  NodeSelectorTerm term;
};

// Whether a pod in namespace `ns` with `labels` is one that `namespaces`
// (sorted), `namespace_selector` and `selector` pick out (upstream
// AffinityTerm.Matches): its namespace is listed or its Namespace's labels
// match the namespace selector, and its labels match the selector.
// `ns_labels` are the labels of the pod's Namespace; nullptr when no such
// Namespace is known, which only an empty namespace selector (all
// namespaces) matches.
inline bool SelectsPod(const std::vector<Id>& namespaces, const LabelSelector& namespace_selector,
                       const LabelSelector& selector, Id ns, const Labels& labels,
                       const Labels* ns_labels) {
  if (!std::binary_search(namespaces.begin(), namespaces.end(), ns)) {
    if (namespace_selector.matches_nothing) return false;
    if (ns_labels == nullptr ? !namespace_selector.empty()
                             : !namespace_selector.Matches(*ns_labels)) {
      return false;
    }
  }
  return selector.Matches(labels);
}

// A pod affinity or anti-affinity term (upstream framework.AffinityTerm):
// which pods it selects, and over which topology.
struct AffinityTerm {
  // A pod is a candidate when its namespace is in `namespaces` (sorted ids)
  // or its namespace's labels match `namespace_selector`. With neither set
  // in the API, `namespaces` is the owning pod's namespace.
  std::vector<Id> namespaces;
  LabelSelector namespace_selector;  // Nothing() when nil in the API
  // matchLabelKeys / mismatchLabelKeys are already merged in, as the API
  // server does at pod creation.
  LabelSelector selector;
  Id topology_key = kNoId;

  // Upstream AffinityTerm.Matches: see SelectsPod.
  bool Matches(Id ns, const Labels& labels, const Labels* ns_labels) const {
    return SelectsPod(namespaces, namespace_selector, selector, ns, labels, ns_labels);
  }
};

struct WeightedAffinityTerm {
  AffinityTerm term;
  int32_t weight = 0;
};

enum class UnsatisfiableAction : uint8_t { kDoNotSchedule, kScheduleAnyway };
enum class InclusionPolicy : uint8_t { kHonor, kIgnore };

// spec.topologySpreadConstraints[i], with matchLabelKeys merged into the
// selector (key In [the pod's value] for each key the pod has).
struct TopologySpreadConstraint {
  int32_t max_skew = 1;
  Id topology_key = kNoId;
  UnsatisfiableAction when_unsatisfiable = UnsatisfiableAction::kDoNotSchedule;
  LabelSelector selector;
  int32_t min_domains = 1;  // 1 when unset
  InclusionPolicy node_affinity_policy = InclusionPolicy::kHonor;
  InclusionPolicy node_taints_policy = InclusionPolicy::kIgnore;
};

struct Pod {
  std::string ns;
  std::string name;
  std::string uid;
  Id ns_id = kNoId;
  Labels labels;
  std::vector<OwnerRef> owners;

  std::string scheduler_name;
  std::string node_name;  // set: the pod is bound (or assumed) there
  std::string nominated_node_name;
  int32_t priority = 0;
  PreemptionPolicy preemption_policy = PreemptionPolicy::kPreemptLowerPriority;
  // spec.priorityClassName; priority and preemption_policy are resolved
  // from it as the Priority admission plugin does (model/priority.h).
  std::string priority_class_name;
  // Kubernetes 1.4: annotation scheduler.alpha.kubernetes.io/critical-pod
  // is present (and alpha annotations are read). Critical only in the
  // system namespace: see model::IsCritical.
  bool critical_annotation = false;
  // Annotation kubernetes.io/config.mirror: the API server's copy of a
  // static pod the kubelet runs from a file; deleting it does nothing.
  bool mirror = false;
  // spec.volumes that are emptyDir: node-local data an eviction loses
  // (cluster-autoscaler's drain blocks on them, kubectl drain asks for
  // --delete-emptydir-data).
  std::vector<std::string> empty_dir_volumes;
  absl::Time creation_time = absl::InfinitePast();
  absl::Time start_time = absl::InfinitePast();
  bool terminating = false;  // deletionTimestamp set

  // Upstream resourcehelper.PodRequests: sum of app containers (and sidecar
  // init containers), max'ed with each init container, plus overhead.
  Resources requests;
  // The same with upstream's non-zero defaults (100m cpu, 200Mi memory) for
  // containers that request none: what scoring and NodeInfo.NonZeroRequested use.
  int64_t non_zero_milli_cpu = 0;
  int64_t non_zero_memory = 0;

  std::vector<HostPort> host_ports;
  // Container images as written, init containers first, one per container
  // (ImageLocality counts each).
  std::vector<std::string> images;
  std::vector<Toleration> tolerations;
  // spec.nodeSelector, compiled to one label-only term; empty: no constraint.
  std::vector<Requirement> node_selector;
  // spec.affinity.nodeAffinity.requiredDuringScheduling...; absent: none.
  std::optional<NodeSelector> required_node_affinity;
  std::vector<PreferredSchedulingTerm> preferred_node_affinity;

  // Inter-pod affinity (spec.affinity.podAffinity / podAntiAffinity).
  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<WeightedAffinityTerm> preferred_affinity;
  std::vector<WeightedAffinityTerm> preferred_anti_affinity;
  // True when podAffinity or podAntiAffinity is set at all (upstream
  // NodeInfo.PodsWithAffinity); required anti-affinity is
  // !required_anti_affinity.empty() (PodsWithRequiredAntiAffinity).
  bool has_pod_affinity = false;

  std::vector<TopologySpreadConstraint> spread_constraints;

  // spec.schedulingGates' names: while any is left, the pod is not
  // scheduled (the SchedulingGates PreEnqueue plugin).
  std::vector<std::string> scheduling_gates;

  // A legacy alpha annotation (scheduler.alpha.kubernetes.io/affinity or
  // /tolerations) that could not be parsed: the pod is unschedulable with
  // this reason. Empty when the pod is fine.
  std::string invalid_reason;

  std::string Key() const { return ns + "/" + name; }
};

struct ImageState {
  std::vector<std::string> names;
  int64_t size_bytes = 0;
};

struct Node {
  std::string name;
  Id name_id = kNoId;
  Labels labels;
  bool unschedulable = false;
  Resources allocatable;
  std::vector<Taint> taints;
  std::vector<ImageState> images;
};

using PodPtr = std::shared_ptr<const Pod>;
using NodePtr = std::shared_ptr<const Node>;

// Upstream nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): the pod's
// spec.nodeSelector and its required node affinity both match `node`.
inline bool MatchesRequiredNodeAffinity(const Pod& pod, const Node& node) {
  for (const Requirement& r : pod.node_selector) {
    if (!r.Matches(node.labels)) return false;
  }
  return !pod.required_node_affinity.has_value() ||
         pod.required_node_affinity->Matches(node.labels, node.name_id);
}

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_OBJECTS_H_
