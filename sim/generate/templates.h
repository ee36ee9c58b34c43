// File: generate/templates.h
// -----------------------------------------------------------------------------
//
// The generator's description of a node or a pod, before it becomes text:
// plain structs with only what the workloads use, and the builders that
// every workload family shares (upstream scheduler_perf's node-default.yaml
// and pod-default.yaml, pod affinity terms, op namespaces). Templates that
// only one family uses live in that family's file (affinity.cc,
// spreading.cc, ...). Internal to sim/generate.cc and its families.

#ifndef KESTREL_SIM_GENERATE_TEMPLATES_H_
#define KESTREL_SIM_GENERATE_TEMPLATES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace kestrel::sim::generate_internal {

constexpr int64_t kKi = int64_t{1} << 10;
constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

constexpr absl::string_view kHostnameLabel = "kubernetes.io/hostname";
constexpr absl::string_view kZoneLabel = "topology.kubernetes.io/zone";
constexpr absl::string_view kGpuResource = "nvidia.com/gpu";
// The image of upstream scheduler_perf's pod-default.yaml.
constexpr absl::string_view kPauseImage = "registry.k8s.io/pause:3.9";

using Labels = std::vector<std::pair<std::string, std::string>>;

// Resources of a node (capacity = allocatable) or a container (requests =
// limits). Zero gpus are not written; pods only for nodes.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;  // bytes
  int64_t gpus = 0;
  int64_t pods = 0;
};

// A node's capacity, 110 pods as upstream's node template has.
Resources NodeCapacity(int64_t milli_cpu, int64_t memory, int64_t gpus);

Resources Requests(int64_t milli_cpu, int64_t memory, int64_t gpus = 0);

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
};

// A pod's toleration. Operator Equal tolerates a taint with the same key and
// value, Exists any value of the key; an empty effect tolerates every effect.
struct Toleration {
  std::string key;
  std::string op = "Equal";
  std::string value;
  std::string effect;
};

Toleration Tolerate(const Taint& taint);

// A pod (anti-)affinity term with a matchLabels selector; required, or
// preferred with a weight.
struct AffinityTerm {
  Labels match_labels;
  std::string topology_key;
  // With neither namespaces nor a namespace selector: the pod's own namespace.
  std::vector<std::string> namespaces;
  std::optional<Labels> namespace_selector;  // matchLabels; {}: every namespace
  int32_t weight = 0;                        // preferred terms only
};

// A node selector requirement. The placer knows In, NotIn, Exists and
// DoesNotExist, which is all the workloads use.
struct NodeRequirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;
};

// A node selector term: label expressions and metadata.name fields, ANDed;
// required, or preferred with a weight.
struct NodeSelectorTerm {
  std::vector<NodeRequirement> match_expressions;
  std::vector<NodeRequirement> match_fields;
  int32_t weight = 0;  // preferred terms only
};

struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  std::string when_unsatisfiable;  // DoNotSchedule or ScheduleAnyway
  Labels match_labels;
  std::string node_affinity_policy;  // empty: unset, which is Honor
  std::string node_taints_policy;    // empty: unset, which is Ignore
};

struct NodeTemplate {
  Resources capacity;
  Labels labels;  // besides hostname and zone
  std::vector<Taint> taints;
  // (type, status) in the kubelet's order.
  Labels conditions = {{"Ready", "True"}};
};

struct PodTemplate {
  std::string namespace_name;
  Labels labels;
  Resources requests;
  bool limits = true;          // false: requests only, no limits
  bool container_port = true;  // containerPort 80, as upstream's templates
  Labels node_selector;
  std::vector<NodeSelectorTerm> required_node_affinity;  // ORed
  std::vector<NodeSelectorTerm> preferred_node_affinity;
  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity;
  std::vector<AffinityTerm> preferred_anti_affinity;
  std::vector<SpreadConstraint> spread_constraints;
  std::vector<Toleration> tolerations;
  std::string priority_class_name;
  int32_t priority = 0;  // written when non-zero or with a priority class
  std::optional<int64_t> termination_grace_period_seconds;
};

// ---------------------------------------------------------------------------
// Upstream scheduler_perf's templates (kubernetes/kubernetes,
// test/integration/scheduler_perf/templates/*.yaml; BENCHMARKS.md). Each
// takes the namespace its workload creates the pods in: the op's
// `namespace`, or upstream's default for a createPods op without one,
// "namespace-<op index>".

std::string OpNamespace(int op_index);

// node-default.yaml, also upstream's node when an op names no template.
NodeTemplate DefaultNode();

// pod-default.yaml: 100m CPU and 500Mi, as requests and limits.
PodTemplate DefaultPod(absl::string_view namespace_name);

// The namespaces upstream's inter-pod affinity templates name in their terms.
std::vector<std::string> SchedNamespaces();

// A pod affinity term over `match_labels` (weight 0: a required term).
AffinityTerm Term(const Labels& match_labels, absl::string_view topology_key,
                  std::vector<std::string> namespaces, int32_t weight = 0);

}  // namespace kestrel::sim::generate_internal

#endif  // KESTREL_SIM_GENERATE_TEMPLATES_H_
