#include "sim/generate.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace kestrel::sim {
namespace {

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
Resources NodeCapacity(int64_t milli_cpu, int64_t memory, int64_t gpus) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  r.pods = 110;
  return r;
}

Resources Requests(int64_t milli_cpu, int64_t memory, int64_t gpus = 0) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  return r;
}

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

Toleration Tolerate(const Taint& taint) {
  return {taint.key, "Equal", taint.value, taint.effect};
}

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
// YAML text. Every string written here is a plain identifier, label or
// quantity, so the only escaping needed is go-yaml's quoting of strings that
// would otherwise read as numbers.

bool LooksNumeric(absl::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

void AppendScalar(std::string* out, absl::string_view s) {
  if (LooksNumeric(s)) {
    absl::StrAppend(out, "\"", s, "\"");
  } else {
    absl::StrAppend(out, s);
  }
}

std::string CpuQuantity(int64_t milli_cpu) {
  if (milli_cpu % 1000 == 0) return absl::StrCat(milli_cpu / 1000);
  return absl::StrCat(milli_cpu, "m");
}

std::string MemoryQuantity(int64_t bytes) {
  if (bytes != 0 && bytes % kGi == 0) return absl::StrCat(bytes / kGi, "Gi");
  if (bytes != 0 && bytes % kMi == 0) return absl::StrCat(bytes / kMi, "Mi");
  if (bytes != 0 && bytes % kKi == 0) return absl::StrCat(bytes / kKi, "Ki");
  return absl::StrCat(bytes);
}

void AppendKeyValues(std::string* out, absl::string_view indent,
                     const Labels& entries) {
  for (const auto& [key, value] : entries) {
    absl::StrAppend(out, indent, key, ": ");
    AppendScalar(out, value);
    out->push_back('\n');
  }
}

Labels Sorted(Labels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

// Appends one block-sequence item, kubectl style: `body(indent)` writes the
// item's lines indented by `indent` + two spaces, and the first of them is
// then marked as the item ("<indent>- key: ...").
template <typename Body>
void AppendListItem(std::string* out, absl::string_view indent, Body body) {
  const size_t start = out->size();
  body(absl::StrCat(indent, "  "));
  (*out)[start + indent.size()] = '-';
}

void AppendStringList(std::string* out, absl::string_view indent,
                      absl::string_view key,
                      const std::vector<std::string>& values) {
  absl::StrAppend(out, indent, key, ":\n");
  for (const std::string& value : values) {
    absl::StrAppend(out, indent, "- ");
    AppendScalar(out, value);
    out->push_back('\n');
  }
}

// `key:` and a label selector with matchLabels; `key: {}` when empty.
void AppendSelector(std::string* out, absl::string_view indent,
                    absl::string_view key, const Labels& match_labels) {
  if (match_labels.empty()) {
    absl::StrAppend(out, indent, key, ": {}\n");
    return;
  }
  absl::StrAppend(out, indent, key, ":\n", indent, "  matchLabels:\n");
  AppendKeyValues(out, absl::StrCat(indent, "    "), Sorted(match_labels));
}

// Keys in kubectl's (sorted) order: cpu, memory, nvidia.com/gpu, pods.
void AppendResourceList(std::string* out, absl::string_view indent,
                        const Resources& r) {
  Labels entries = {{"cpu", CpuQuantity(r.milli_cpu)},
                    {"memory", MemoryQuantity(r.memory)}};
  if (r.gpus > 0) entries.emplace_back(kGpuResource, absl::StrCat(r.gpus));
  if (r.pods > 0) entries.emplace_back("pods", absl::StrCat(r.pods));
  AppendKeyValues(out, indent, entries);
}

void AppendPodAffinityTerm(std::string* out, const std::string& indent,
                           const AffinityTerm& term) {
  AppendSelector(out, indent, "labelSelector", term.match_labels);
  if (term.namespace_selector.has_value()) {
    AppendSelector(out, indent, "namespaceSelector", *term.namespace_selector);
  }
  if (!term.namespaces.empty()) {
    AppendStringList(out, indent, "namespaces", term.namespaces);
  }
  absl::StrAppend(out, indent, "topologyKey: ", term.topology_key, "\n");
}

// podAffinity or podAntiAffinity, at `indent`.
void AppendPodAffinity(std::string* out, absl::string_view indent,
                       absl::string_view key,
                       const std::vector<AffinityTerm>& preferred,
                       const std::vector<AffinityTerm>& required) {
  if (preferred.empty() && required.empty()) return;
  absl::StrAppend(out, indent, key, ":\n");
  const std::string inner = absl::StrCat(indent, "  ");
  if (!preferred.empty()) {
    absl::StrAppend(out, inner,
                    "preferredDuringSchedulingIgnoredDuringExecution:\n");
    for (const AffinityTerm& term : preferred) {
      AppendListItem(out, inner, [&](const std::string& item) {
        absl::StrAppend(out, item, "podAffinityTerm:\n");
        AppendPodAffinityTerm(out, absl::StrCat(item, "  "), term);
        absl::StrAppend(out, item, "weight: ", term.weight, "\n");
      });
    }
  }
  if (!required.empty()) {
    absl::StrAppend(out, inner,
                    "requiredDuringSchedulingIgnoredDuringExecution:\n");
    for (const AffinityTerm& term : required) {
      AppendListItem(out, inner, [&](const std::string& item) {
        AppendPodAffinityTerm(out, item, term);
      });
    }
  }
}

void AppendRequirements(std::string* out, absl::string_view indent,
                        absl::string_view key,
                        const std::vector<NodeRequirement>& requirements) {
  if (requirements.empty()) return;
  absl::StrAppend(out, indent, key, ":\n");
  for (const NodeRequirement& r : requirements) {
    AppendListItem(out, indent, [&](const std::string& item) {
      absl::StrAppend(out, item, "key: ", r.key, "\n", item, "operator: ", r.op,
                      "\n");
      if (!r.values.empty()) AppendStringList(out, item, "values", r.values);
    });
  }
}

void AppendNodeSelectorTerm(std::string* out, const std::string& indent,
                            const NodeSelectorTerm& term) {
  AppendRequirements(out, indent, "matchExpressions", term.match_expressions);
  AppendRequirements(out, indent, "matchFields", term.match_fields);
}

void AppendNodeAffinity(std::string* out, absl::string_view indent,
                        const PodTemplate& pod) {
  if (pod.preferred_node_affinity.empty() &&
      pod.required_node_affinity.empty()) {
    return;
  }
  absl::StrAppend(out, indent, "nodeAffinity:\n");
  const std::string inner = absl::StrCat(indent, "  ");
  if (!pod.preferred_node_affinity.empty()) {
    absl::StrAppend(out, inner,
                    "preferredDuringSchedulingIgnoredDuringExecution:\n");
    for (const NodeSelectorTerm& term : pod.preferred_node_affinity) {
      AppendListItem(out, inner, [&](const std::string& item) {
        absl::StrAppend(out, item, "preference:\n");
        AppendNodeSelectorTerm(out, absl::StrCat(item, "  "), term);
        absl::StrAppend(out, item, "weight: ", term.weight, "\n");
      });
    }
  }
  if (!pod.required_node_affinity.empty()) {
    absl::StrAppend(out, inner,
                    "requiredDuringSchedulingIgnoredDuringExecution:\n", inner,
                    "  nodeSelectorTerms:\n");
    for (const NodeSelectorTerm& term : pod.required_node_affinity) {
      AppendListItem(out, absl::StrCat(inner, "  "),
                     [&](const std::string& item) {
                       AppendNodeSelectorTerm(out, item, term);
                     });
    }
  }
}

// A node template's text that is the same for every node: everything after
// metadata. The template is shared with the placer.
struct RenderedNode {
  std::shared_ptr<const NodeTemplate> node;
  std::string after_metadata;
};

RenderedNode Render(const NodeTemplate& node) {
  std::string s = "spec:";
  if (node.taints.empty()) {
    s.append(" {}\n");
  } else {
    s.append("\n  taints:\n");
    for (const Taint& t : node.taints) {
      absl::StrAppend(&s, "  - effect: ", t.effect, "\n    key: ", t.key, "\n");
      if (!t.value.empty()) absl::StrAppend(&s, "    value: ", t.value, "\n");
    }
  }
  s.append("status:\n  allocatable:\n");
  AppendResourceList(&s, "    ", node.capacity);
  s.append("  capacity:\n");
  AppendResourceList(&s, "    ", node.capacity);
  s.append("  conditions:\n");
  for (const auto& [type, status] : node.conditions) {
    absl::StrAppend(&s, "  - status: \"", status, "\"\n    type: ", type, "\n");
  }
  return {std::make_shared<const NodeTemplate>(node), std::move(s)};
}

// A pod template's text that is the same for every pod: everything but the
// name and spec.nodeName, which sits between `spec_head` and `spec_tail`.
// The template is shared with the placer.
struct RenderedPod {
  std::shared_ptr<const PodTemplate> pod;
  std::string labels;     // the metadata.labels block, or empty
  std::string spec_head;  // affinity, containers
  std::string spec_tail;  // nodeSelector .. topologySpreadConstraints
};

RenderedPod Render(const PodTemplate& pod) {
  RenderedPod r{std::make_shared<const PodTemplate>(pod), "", "", ""};
  if (!pod.labels.empty()) {
    r.labels = "  labels:\n";
    AppendKeyValues(&r.labels, "    ", Sorted(pod.labels));
  }

  std::string affinity;
  AppendNodeAffinity(&affinity, "    ", pod);
  AppendPodAffinity(&affinity, "    ", "podAffinity", pod.preferred_affinity,
                    pod.required_affinity);
  AppendPodAffinity(&affinity, "    ", "podAntiAffinity",
                    pod.preferred_anti_affinity, pod.required_anti_affinity);
  std::string& head = r.spec_head;
  if (!affinity.empty()) absl::StrAppend(&head, "  affinity:\n", affinity);
  absl::StrAppend(&head, "  containers:\n  - image: ", kPauseImage,
                  "\n    name: pause\n");
  if (pod.container_port) {
    head.append(
        "    ports:\n"
        "    - containerPort: 80\n"
        "      protocol: TCP\n");
  }
  const Resources& req = pod.requests;
  if (req.milli_cpu == 0 && req.memory == 0 && req.gpus == 0) {
    head.append("    resources: {}\n");
  } else {
    head.append("    resources:\n");
    if (pod.limits) {
      head.append("      limits:\n");
      AppendResourceList(&head, "        ", req);
    }
    head.append("      requests:\n");
    AppendResourceList(&head, "        ", req);
  }

  std::string& tail = r.spec_tail;
  if (!pod.node_selector.empty()) {
    tail.append("  nodeSelector:\n");
    AppendKeyValues(&tail, "    ", Sorted(pod.node_selector));
  }
  if (pod.priority != 0 || !pod.priority_class_name.empty()) {
    absl::StrAppend(&tail, "  priority: ", pod.priority, "\n");
  }
  if (!pod.priority_class_name.empty()) {
    absl::StrAppend(&tail, "  priorityClassName: ", pod.priority_class_name,
                    "\n");
  }
  tail.append("  schedulerName: default-scheduler\n");
  if (pod.termination_grace_period_seconds.has_value()) {
    absl::StrAppend(&tail, "  terminationGracePeriodSeconds: ",
                    *pod.termination_grace_period_seconds, "\n");
  }
  if (!pod.tolerations.empty()) {
    tail.append("  tolerations:\n");
    for (const Toleration& t : pod.tolerations) {
      AppendListItem(&tail, "  ", [&](const std::string& item) {
        if (!t.effect.empty()) {
          absl::StrAppend(&tail, item, "effect: ", t.effect, "\n");
        }
        if (!t.key.empty()) absl::StrAppend(&tail, item, "key: ", t.key, "\n");
        absl::StrAppend(&tail, item, "operator: ", t.op, "\n");
        if (!t.value.empty()) {
          absl::StrAppend(&tail, item, "value: ", t.value, "\n");
        }
      });
    }
  }
  if (!pod.spread_constraints.empty()) {
    tail.append("  topologySpreadConstraints:\n");
    for (const SpreadConstraint& c : pod.spread_constraints) {
      AppendListItem(&tail, "  ", [&](const std::string& item) {
        AppendSelector(&tail, item, "labelSelector", c.match_labels);
        absl::StrAppend(&tail, item, "maxSkew: ", c.max_skew, "\n");
        if (!c.node_affinity_policy.empty()) {
          absl::StrAppend(&tail, item,
                          "nodeAffinityPolicy: ", c.node_affinity_policy, "\n");
        }
        if (!c.node_taints_policy.empty()) {
          absl::StrAppend(&tail, item,
                          "nodeTaintsPolicy: ", c.node_taints_policy, "\n");
        }
        absl::StrAppend(&tail, item, "topologyKey: ", c.topology_key, "\n",
                        item, "whenUnsatisfiable: ", c.when_unsatisfiable,
                        "\n");
      });
    }
  }
  return r;
}

// ---------------------------------------------------------------------------
// Placement of init pods, as a scheduler could have made it: round-robin over
// the nodes from where the last placement stopped, taking the first node
// that passes the filters a pod's template asks for:
//   - resources: cpu, memory, GPUs and the pod count fit what is left;
//   - taints: every NoSchedule/NoExecute taint is tolerated;
//   - nodeSelector and required node affinity (In, NotIn, Exists,
//     DoesNotExist on labels; metadata.name fields);
//   - required pod anti-affinity, both the pod's own terms and those of the
//     pods already placed (symmetry);
//   - required pod affinity, with upstream's rule for the first pod of a
//     series: when no placed pod matches all its terms and the pod matches
//     them itself, any node having the topology keys will do (upstream only
//     counts pods on nodes with those keys; in these workloads every node
//     has them);
//   - DoNotSchedule topology spreading: upstream's skew (matching pods in the
//     node's domain, plus one if the pod matches, minus the least of any
//     domain among the nodes the constraint's inclusion policies admit) is
//     at most maxSkew.
// Preferred terms and ScheduleAnyway constraints are scores, not filters: a
// scheduler could place the pod on any node that passes, and the placer does
// not weigh them. Round-robin is close to what LeastAllocated scoring does
// on identical nodes; a scheduler honouring preferred pod affinity would
// rather stack those pods.

const std::string* LabelValue(const Labels& labels, absl::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool SelectorMatches(const Labels& match_labels, const Labels& labels) {
  for (const auto& [key, value] : match_labels) {
    const std::string* v = LabelValue(labels, key);
    if (v == nullptr || *v != value) return false;
  }
  return true;
}

bool Tolerates(const Toleration& t, const Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (!t.key.empty() && t.key != taint.key) return false;
  return t.op == "Exists" || t.value == taint.value;
}

bool ToleratesTaints(const PodTemplate& pod, const NodeTemplate& node) {
  for (const Taint& taint : node.taints) {
    if (taint.effect == "PreferNoSchedule") continue;
    if (std::none_of(
            pod.tolerations.begin(), pod.tolerations.end(),
            [&](const Toleration& t) { return Tolerates(t, taint); })) {
      return false;
    }
  }
  return true;
}

bool RequirementMatches(const NodeRequirement& r, const std::string* value) {
  const bool listed =
      value != nullptr &&
      std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  if (r.op == "In") return listed;
  if (r.op == "NotIn") return !listed;
  if (r.op == "Exists") return value != nullptr;
  if (r.op == "DoesNotExist") return value == nullptr;
  return false;
}

bool TermMatches(const NodeSelectorTerm& term, absl::string_view node_name,
                 const Labels& labels) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const NodeRequirement& r : term.match_expressions) {
    if (!RequirementMatches(r, LabelValue(labels, r.key))) return false;
  }
  const std::string name(node_name);
  for (const NodeRequirement& r : term.match_fields) {
    if (r.key != "metadata.name" || !RequirementMatches(r, &name)) return false;
  }
  return true;
}

// nodeSelector and required node affinity.
bool SelectsNode(const PodTemplate& pod, absl::string_view node_name,
                 const Labels& labels) {
  if (!SelectorMatches(pod.node_selector, labels)) return false;
  if (pod.required_node_affinity.empty()) return true;
  return std::any_of(pod.required_node_affinity.begin(),
                     pod.required_node_affinity.end(),
                     [&](const NodeSelectorTerm& t) {
                       return TermMatches(t, node_name, labels);
                     });
}

class Placer {
 public:
  void AddNamespace(const std::string& name, const Labels& labels) {
    namespace_labels_[name] = labels;
  }

  // `labels` are all the node's labels, hostname and zone included.
  void AddNode(std::shared_ptr<const NodeTemplate> node, std::string name,
               Labels labels) {
    nodes_.push_back(
        {std::move(node), std::move(name), std::move(labels), {}, {}});
  }

  // The node index, or -1 when no node can take the pod.
  int Place(const std::shared_ptr<const PodTemplate>& shared) {
    const PodTemplate& pod = *shared;
    const int n = static_cast<int>(nodes_.size());
    std::vector<SpreadState*> spreading = SpreadStatesOf(shared);
    std::vector<int> min_match;
    for (const SpreadState* s : spreading) {
      int least = 0;
      bool first = true;
      for (const auto& [domain, count] : s->matching) {
        if (first || count < least) least = count;
        first = false;
      }
      min_match.push_back(least);
    }
    for (int step = 0; step < n; ++step) {
      const int i = (cursor_ + step) % n;
      if (Fits(pod, nodes_[i]) && SatisfiesPodAffinity(pod, nodes_[i]) &&
          SatisfiesSpreading(pod, nodes_[i], spreading, min_match)) {
        Record(shared, i);
        cursor_ = (i + 1) % n;
        return i;
      }
    }
    return -1;
  }

 private:
  // Placed pods, counted by template: a template's pods share namespace and
  // labels, so a term matches all of them or none. placed_templates_ keeps
  // the templates alive.
  using TemplateCounts = std::vector<std::pair<const PodTemplate*, int>>;

  struct NodeState {
    std::shared_ptr<const NodeTemplate> node;
    std::string name;
    Labels labels;
    Resources used;
    TemplateCounts pods;
  };

  // One DoNotSchedule constraint of a template: the nodes its inclusion
  // policies admit, and the matching pods on them per domain.
  struct SpreadState {
    std::shared_ptr<const PodTemplate> owner;
    const SpreadConstraint* constraint;
    std::vector<bool> eligible;
    std::map<std::string, int> matching;
  };

  static void Add(TemplateCounts& counts, const PodTemplate* pod) {
    for (auto& [t, count] : counts) {
      if (t == pod) {
        ++count;
        return;
      }
    }
    counts.emplace_back(pod, 1);
  }

  bool Fits(const PodTemplate& pod, const NodeState& node) const {
    const Resources& used = node.used;
    const Resources& cap = node.node->capacity;
    return used.pods + 1 <= cap.pods &&
           used.milli_cpu + pod.requests.milli_cpu <= cap.milli_cpu &&
           used.memory + pod.requests.memory <= cap.memory &&
           used.gpus + pod.requests.gpus <= cap.gpus &&
           ToleratesTaints(pod, *node.node) &&
           SelectsNode(pod, node.name, node.labels);
  }

  // Whether `term` of a pod in namespace `owner_ns` selects pods of
  // `candidate` (upstream AffinityTerm.Matches).
  bool TermSelects(const AffinityTerm& term, const std::string& owner_ns,
                   const PodTemplate& candidate) const {
    const std::string& ns = candidate.namespace_name;
    bool in_namespaces;
    if (term.namespaces.empty() && !term.namespace_selector.has_value()) {
      in_namespaces = ns == owner_ns;
    } else {
      in_namespaces = std::find(term.namespaces.begin(), term.namespaces.end(),
                                ns) != term.namespaces.end();
      if (!in_namespaces && term.namespace_selector.has_value()) {
        auto it = namespace_labels_.find(ns);
        in_namespaces = SelectorMatches(
            *term.namespace_selector,
            it == namespace_labels_.end() ? Labels() : it->second);
      }
    }
    return in_namespaces &&
           SelectorMatches(term.match_labels, candidate.labels);
  }

  // The placed pods in the node's domain of `topology_key`; null when the
  // node has no such label or no pod is there.
  const TemplateCounts* PodsInDomain(const NodeState& node,
                                     const std::string& topology_key) const {
    const std::string* value = LabelValue(node.labels, topology_key);
    if (value == nullptr) return nullptr;
    auto it = domains_.find({topology_key, *value});
    return it == domains_.end() ? nullptr : &it->second;
  }

  bool SatisfiesPodAffinity(const PodTemplate& pod,
                            const NodeState& node) const {
    const std::string& ns = pod.namespace_name;
    // The pod's anti-affinity against pods in the node's domains.
    for (const AffinityTerm& term : pod.required_anti_affinity) {
      const TemplateCounts* there = PodsInDomain(node, term.topology_key);
      if (there == nullptr) continue;
      for (const auto& [t, count] : *there) {
        if (TermSelects(term, ns, *t)) return false;
      }
    }
    // Placed pods' anti-affinity against this pod.
    for (const PodTemplate* other : anti_affinity_templates_) {
      for (const AffinityTerm& term : other->required_anti_affinity) {
        if (!TermSelects(term, other->namespace_name, pod)) continue;
        const TemplateCounts* there = PodsInDomain(node, term.topology_key);
        if (there == nullptr) continue;
        for (const auto& [t, count] : *there) {
          if (t == other) return false;
        }
      }
    }
    if (pod.required_affinity.empty()) return true;
    // Affinity: a pod matching all terms in each term's domain.
    auto matches_all = [&](const PodTemplate& t) {
      return std::all_of(
          pod.required_affinity.begin(), pod.required_affinity.end(),
          [&](const AffinityTerm& term) { return TermSelects(term, ns, t); });
    };
    bool pods_exist = true;
    for (const AffinityTerm& term : pod.required_affinity) {
      if (LabelValue(node.labels, term.topology_key) == nullptr) return false;
      const TemplateCounts* there = PodsInDomain(node, term.topology_key);
      if (there == nullptr ||
          std::none_of(there->begin(), there->end(),
                       [&](const auto& e) { return matches_all(*e.first); })) {
        pods_exist = false;
      }
    }
    if (pods_exist) return true;
    return std::none_of(placed_templates_.begin(), placed_templates_.end(),
                        [&](const auto& t) { return matches_all(*t); }) &&
           matches_all(pod);
  }

  bool SatisfiesSpreading(const PodTemplate& pod, const NodeState& node,
                          const std::vector<SpreadState*>& spreading,
                          const std::vector<int>& min_match) const {
    for (size_t k = 0; k < spreading.size(); ++k) {
      const SpreadConstraint& c = *spreading[k]->constraint;
      const std::string* domain = LabelValue(node.labels, c.topology_key);
      if (domain == nullptr) return false;
      auto it = spreading[k]->matching.find(*domain);
      const int matching = it == spreading[k]->matching.end() ? 0 : it->second;
      const int self = SelectorMatches(c.match_labels, pod.labels) ? 1 : 0;
      if (matching + self - min_match[k] > c.max_skew) return false;
    }
    return true;
  }

  // Whether a pod of `constraint`'s owner counts towards its domains.
  bool CountsFor(const SpreadState& s, const PodTemplate& placed) const {
    return placed.namespace_name == s.owner->namespace_name &&
           SelectorMatches(s.constraint->match_labels, placed.labels);
  }

  // The DoNotSchedule constraints of `pod`, set up on first use (all nodes
  // exist by then).
  std::vector<SpreadState*> SpreadStatesOf(
      const std::shared_ptr<const PodTemplate>& shared) {
    const PodTemplate& pod = *shared;
    std::vector<SpreadState*> states;
    std::vector<const SpreadConstraint*> hard;
    for (const SpreadConstraint& c : pod.spread_constraints) {
      if (c.when_unsatisfiable == "DoNotSchedule") hard.push_back(&c);
    }
    for (const SpreadConstraint* c : hard) {
      SpreadState* state = nullptr;
      for (SpreadState& s : spread_states_) {
        if (s.owner == shared && s.constraint == c) state = &s;
      }
      if (state == nullptr) {
        SpreadState s{shared, c, {}, {}};
        for (const NodeState& node : nodes_) {
          // Upstream: the node has every hard constraint's key and passes
          // the inclusion policies (nodeAffinityPolicy Honor by default,
          // nodeTaintsPolicy Ignore by default).
          bool eligible = std::all_of(
              hard.begin(), hard.end(), [&](const SpreadConstraint* h) {
                return LabelValue(node.labels, h->topology_key) != nullptr;
              });
          if (c->node_affinity_policy != "Ignore") {
            eligible = eligible && SelectsNode(pod, node.name, node.labels);
          }
          if (c->node_taints_policy == "Honor") {
            eligible = eligible && ToleratesTaints(pod, *node.node);
          }
          s.eligible.push_back(eligible);
          if (!eligible) continue;
          int& matching = s.matching[*LabelValue(node.labels, c->topology_key)];
          for (const auto& [t, count] : node.pods) {
            if (CountsFor(s, *t)) matching += count;
          }
        }
        spread_states_.push_back(std::move(s));
        state = &spread_states_.back();
      }
      states.push_back(state);
    }
    return states;
  }

  void Record(const std::shared_ptr<const PodTemplate>& shared, int i) {
    const PodTemplate& pod = *shared;
    NodeState& node = nodes_[i];
    node.used.milli_cpu += pod.requests.milli_cpu;
    node.used.memory += pod.requests.memory;
    node.used.gpus += pod.requests.gpus;
    node.used.pods += 1;
    Add(node.pods, &pod);
    for (const auto& [key, value] : node.labels) {
      Add(domains_[{key, value}], &pod);
    }
    if (std::find(placed_templates_.begin(), placed_templates_.end(), shared) ==
        placed_templates_.end()) {
      placed_templates_.push_back(shared);
      if (!pod.required_anti_affinity.empty()) {
        anti_affinity_templates_.push_back(&pod);
      }
    }
    for (SpreadState& s : spread_states_) {
      if (s.eligible[i] && CountsFor(s, pod)) {
        ++s.matching[*LabelValue(node.labels, s.constraint->topology_key)];
      }
    }
  }

  std::map<std::string, Labels> namespace_labels_;
  std::vector<NodeState> nodes_;
  // Placed pods per (topology key, value) of every node label.
  std::map<std::pair<std::string, std::string>, TemplateCounts> domains_;
  std::vector<std::shared_ptr<const PodTemplate>> placed_templates_;
  std::vector<const PodTemplate*> anti_affinity_templates_;
  std::deque<SpreadState> spread_states_;  // stable addresses
  int cursor_ = 0;
};

// ---------------------------------------------------------------------------
// ClusterWriter: the stream of documents, in order: namespaces, nodes, init
// pods, pods. Text goes to a buffer that is flushed to the stream in large
// chunks.

class ClusterWriter {
 public:
  explicit ClusterWriter(std::ostream& out) : out_(out) {
    buffer_.reserve(kFlushBytes + 64 * 1024);
  }

  // Writes a Namespace with `labels` and the API server's
  // kubernetes.io/metadata.name label.
  void AddNamespace(const std::string& name, const Labels& labels) {
    Labels all = labels;
    all.emplace_back("kubernetes.io/metadata.name", name);
    all = Sorted(std::move(all));
    absl::StrAppend(&buffer_,
                    "---\n"
                    "apiVersion: v1\n"
                    "kind: Namespace\n"
                    "metadata:\n"
                    "  labels:\n");
    AppendKeyValues(&buffer_, "    ", all);
    absl::StrAppend(&buffer_, "  name: ", name,
                    "\n"
                    "spec:\n"
                    "  finalizers:\n"
                    "  - kubernetes\n"
                    "status:\n"
                    "  phase: Active\n");
    placer_.AddNamespace(name, all);
    MaybeFlush();
  }

  // Writes a node with hostname and (unless empty) zone labels, named
  // `name`, or node-<i> counting the nodes named so.
  void AddNode(const RenderedNode& node, absl::string_view zone,
               absl::string_view name = "") {
    std::string node_name = name.empty()
                                ? absl::StrCat("node-", numbered_nodes_++)
                                : std::string(name);
    Labels labels = node.node->labels;
    labels.emplace_back(kHostnameLabel, node_name);
    if (!zone.empty()) labels.emplace_back(kZoneLabel, zone);
    labels = Sorted(std::move(labels));

    absl::StrAppend(&buffer_,
                    "---\n"
                    "apiVersion: v1\n"
                    "kind: Node\n"
                    "metadata:\n"
                    "  labels:\n");
    AppendKeyValues(&buffer_, "    ", labels);
    absl::StrAppend(&buffer_, "  name: ", node_name, "\n", node.after_metadata);
    placer_.AddNode(node.node, node_name, std::move(labels));
    node_names_.push_back(std::move(node_name));
    MaybeFlush();
  }

  // Writes init-pod-<i>, bound to the next node (round-robin) it fits on.
  absl::Status AddInitPod(const RenderedPod& pod) {
    const int node = placer_.Place(pod.pod);
    if (node < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "init pod ", init_pods_, " does not fit on any of the ",
          node_names_.size(), " nodes; use fewer init pods or more nodes"));
    }
    WritePod(absl::StrCat("init-pod-", init_pods_++), pod, node_names_[node]);
    return absl::OkStatus();
  }

  // Writes <prefix>-<i>, unbound; i counts all measured pods.
  void AddPod(absl::string_view prefix, const RenderedPod& pod) {
    WritePod(absl::StrCat(prefix, "-", pods_++), pod, "");
  }

  absl::Status Finish() {
    Flush();
    out_.flush();
    if (!out_) return absl::InternalError("writing the generated YAML failed");
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;

  void WritePod(absl::string_view name, const RenderedPod& pod,
                absl::string_view node_name) {
    absl::StrAppend(&buffer_,
                    "---\n"
                    "apiVersion: v1\n"
                    "kind: Pod\n"
                    "metadata:\n",
                    pod.labels, "  name: ", name,
                    "\n  namespace: ", pod.pod->namespace_name, "\nspec:\n",
                    pod.spec_head);
    if (!node_name.empty()) {
      absl::StrAppend(&buffer_, "  nodeName: ", node_name, "\n");
    }
    absl::StrAppend(&buffer_, pod.spec_tail, "status:\n  phase: ",
                    node_name.empty() ? "Pending" : "Running", "\n");
    MaybeFlush();
  }

  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }

  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  std::ostream& out_;
  std::string buffer_;
  Placer placer_;
  std::vector<std::string> node_names_;
  int numbered_nodes_ = 0;
  int init_pods_ = 0;
  int pods_ = 0;
};

// A uniform index in [0, n). Written out rather than using
// std::uniform_int_distribution, whose algorithm differs between standard
// libraries; the modulo bias is below 2^-40 for the sizes used here.
size_t Pick(std::mt19937_64& rng, size_t n) { return rng() % n; }

template <typename T>
void Shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[Pick(rng, i)]);
  }
}

// ---------------------------------------------------------------------------
// Upstream scheduler_perf's templates (kubernetes/kubernetes,
// test/integration/scheduler_perf/templates/*.yaml; BENCHMARKS.md). Each
// takes the namespace its workload creates the pods in: the op's
// `namespace`, or upstream's default for a createPods op without one,
// "namespace-<op index>".

std::string OpNamespace(int op_index) {
  return absl::StrCat("namespace-", op_index);
}

// node-default.yaml, also upstream's node when an op names no template.
NodeTemplate DefaultNode() {
  NodeTemplate node;
  node.capacity = NodeCapacity(4000, 32 * kGi, 0);
  return node;
}

// node-with-taint.yaml: taint foo:NoSchedule, no value.
NodeTemplate NodeWithTaint() {
  NodeTemplate node = DefaultNode();
  node.taints = {{"foo", "", "NoSchedule"}};
  return node;
}

// node-with-name.yaml: the node every SchedulingDaemonset pod asks for,
// with room for 90,000 pods.
constexpr absl::string_view kDaemonsetNodeName = "scheduler-perf-node";

NodeTemplate NodeWithName() {
  NodeTemplate node = DefaultNode();
  node.capacity.pods = 90000;
  return node;
}

// pod-default.yaml: 100m CPU and 500Mi, as requests and limits.
PodTemplate DefaultPod(absl::string_view namespace_name) {
  PodTemplate pod;
  pod.namespace_name = std::string(namespace_name);
  pod.requests = Requests(100, 500 * kMi);
  return pod;
}

// The namespaces upstream's inter-pod affinity templates name in their terms.
std::vector<std::string> SchedNamespaces() { return {"sched-1", "sched-0"}; }

AffinityTerm Term(const Labels& match_labels, absl::string_view topology_key,
                  std::vector<std::string> namespaces, int32_t weight = 0) {
  AffinityTerm term;
  term.match_labels = match_labels;
  term.topology_key = std::string(topology_key);
  term.namespaces = std::move(namespaces);
  term.weight = weight;
  return term;
}

// pod-with-pod-anti-affinity.yaml: color=green, required anti-affinity to
// color=green per hostname.
PodTemplate PodWithPodAntiAffinity(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "green"}};
  pod.required_anti_affinity = {
      Term(pod.labels, kHostnameLabel, SchedNamespaces())};
  return pod;
}

// pod-with-pod-affinity.yaml: color=blue, required affinity to color=blue
// per zone.
PodTemplate PodWithPodAffinity(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "blue"}};
  pod.required_affinity = {Term(pod.labels, kZoneLabel, SchedNamespaces())};
  return pod;
}

// pod-with-preferred-pod-affinity.yaml: color=red, weight 1, per hostname.
PodTemplate PodWithPreferredPodAffinity(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "red"}};
  pod.preferred_affinity = {
      Term(pod.labels, kHostnameLabel, SchedNamespaces(), 1)};
  return pod;
}

// pod-with-preferred-pod-anti-affinity.yaml: color=yellow, weight 1, per
// hostname.
PodTemplate PodWithPreferredPodAntiAffinity(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "yellow"}};
  pod.preferred_anti_affinity = {
      Term(pod.labels, kHostnameLabel, SchedNamespaces(), 1)};
  return pod;
}

// pod-with-node-affinity.yaml: zone In [zone1, zone2].
PodTemplate PodWithNodeAffinity(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  NodeSelectorTerm term;
  term.match_expressions = {
      {std::string(kZoneLabel), "In", {"zone1", "zone2"}}};
  pod.required_node_affinity = {term};
  return pod;
}

// pod-with-topology-spreading.yaml (DoNotSchedule) and
// pod-with-preferred-topology-spreading.yaml (ScheduleAnyway): color=blue,
// maxSkew 5 per zone.
PodTemplate PodWithTopologySpreading(absl::string_view namespace_name,
                                     absl::string_view when_unsatisfiable) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "blue"}};
  SpreadConstraint c;
  c.max_skew = 5;
  c.topology_key = std::string(kZoneLabel);
  c.when_unsatisfiable = std::string(when_unsatisfiable);
  c.match_labels = pod.labels;
  pod.spread_constraints = {c};
  return pod;
}

// pod-anti-affinity-ns-selector.yaml: color=green, required anti-affinity to
// color=green per hostname in namespaces labeled team=devops.
PodTemplate PodAntiAffinityNsSelector(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"color", "green"}};
  AffinityTerm term = Term(pod.labels, kHostnameLabel, {});
  term.namespace_selector = Labels{{"team", "devops"}};
  pod.required_anti_affinity = {term};
  return pod;
}

// pod-with-node-inclusion-policy.yaml: foo=bar, maxSkew 1 per hostname,
// DoNotSchedule, both inclusion policies Honor.
PodTemplate PodWithNodeInclusionPolicy(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.labels = {{"foo", "bar"}};
  SpreadConstraint c;
  c.max_skew = 1;
  c.topology_key = std::string(kHostnameLabel);
  c.when_unsatisfiable = "DoNotSchedule";
  c.match_labels = pod.labels;
  c.node_affinity_policy = "Honor";
  c.node_taints_policy = "Honor";
  pod.spread_constraints = {c};
  return pod;
}

// The tolerations the DaemonSet controller gives its pods
// (util.AddOrUpdateDaemonPodTolerations, without the hostNetwork one).
std::vector<Toleration> DaemonsetTolerations() {
  return {{"node.kubernetes.io/not-ready", "Exists", "", "NoExecute"},
          {"node.kubernetes.io/unreachable", "Exists", "", "NoExecute"},
          {"node.kubernetes.io/disk-pressure", "Exists", "", "NoSchedule"},
          {"node.kubernetes.io/memory-pressure", "Exists", "", "NoSchedule"},
          {"node.kubernetes.io/pid-pressure", "Exists", "", "NoSchedule"},
          {"node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"}};
}

// daemonset-pod.yaml: no requests, no ports, required node affinity
// metadata.name In [`node_name`] (matchFields), as the DaemonSet controller
// writes it; plus the controller's tolerations.
PodTemplate DaemonsetPod(absl::string_view namespace_name,
                         absl::string_view node_name) {
  PodTemplate pod;
  pod.namespace_name = std::string(namespace_name);
  pod.container_port = false;
  NodeSelectorTerm term;
  term.match_fields = {{"metadata.name", "In", {std::string(node_name)}}};
  pod.required_node_affinity = {term};
  pod.tolerations = DaemonsetTolerations();
  return pod;
}

// pod-low-priority.yaml: 900m CPU, priority 0, terminationGracePeriodSeconds 0.
PodTemplate PodLowPriority(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.requests = Requests(900, 500 * kMi);
  pod.termination_grace_period_seconds = 0;
  return pod;
}

// pod-high-priority.yaml: priority 10 (no class), 3000m CPU.
PodTemplate PodHighPriority(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.requests = Requests(3000, 500 * kMi);
  pod.priority = 10;
  return pod;
}

// pod-high-priority-large-cpu.yaml: priority 10, requests (no limits) of 9
// CPU, which no 4-CPU node has.
PodTemplate PodHighPriorityLargeCpu(absl::string_view namespace_name) {
  PodTemplate pod = DefaultPod(namespace_name);
  pod.requests = Requests(9000, 500 * kMi);
  pod.limits = false;
  pod.priority = 10;
  return pod;
}

// ---------------------------------------------------------------------------
// Workloads. Each is a small function over a ClusterWriter; add new ones to
// kWorkloads below.

// `count` nodes; zones round-robin, as upstream's labelNodePrepareStrategy,
// or no zone label when `zones` is empty.
void AddNodes(ClusterWriter& writer, const NodeTemplate& node, int count,
              const std::vector<std::string>& zones) {
  const RenderedNode rendered = Render(node);
  for (int i = 0; i < count; ++i) {
    writer.AddNode(rendered, zones.empty() ? "" : zones[i % zones.size()]);
  }
}

absl::Status AddInitPods(ClusterWriter& writer, const PodTemplate& pod,
                         int count) {
  const RenderedPod rendered = Render(pod);
  for (int i = 0; i < count; ++i) {
    if (absl::Status s = writer.AddInitPod(rendered); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void AddPods(ClusterWriter& writer, absl::string_view prefix,
             const PodTemplate& pod, int count) {
  const RenderedPod rendered = Render(pod);
  for (int i = 0; i < count; ++i) writer.AddPod(prefix, rendered);
}

// The most common shape: nodes of one template, init pods of one, measured
// pods of another (named `prefix`-<i>, upstream's generateName).
absl::Status NodesInitAndMeasured(const GenerateOptions& options,
                                  const NodeTemplate& node,
                                  const std::vector<std::string>& zones,
                                  const PodTemplate& init,
                                  absl::string_view prefix,
                                  const PodTemplate& measured,
                                  ClusterWriter& writer) {
  AddNodes(writer, node, options.nodes, zones);
  if (absl::Status s = AddInitPods(writer, init, options.init_pods); !s.ok()) {
    return s;
  }
  AddPods(writer, prefix, measured, options.pods);
  return absl::OkStatus();
}

// For the workloads upstream runs without init pods.
absl::Status NoInitPods(const GenerateOptions& options) {
  if (options.init_pods == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "workload ", options.workload,
      " has no init pods upstream; got --init-pods=", options.init_pods));
}

// SchedulingBasic (misc/performance-config.yaml): default nodes and pods.
// Unlike upstream (no zone label; pods in namespace-1 and namespace-2), the
// nodes are in zone1 and the pods in sched-0, as this generator always wrote
// them; neither changes a placement.
absl::Status SchedulingBasic(const GenerateOptions& options,
                             ClusterWriter& writer) {
  return NodesInitAndMeasured(options, DefaultNode(), {"zone1"},
                              DefaultPod("sched-0"), "pod",
                              DefaultPod("sched-0"), writer);
}

// SchedulingPodAntiAffinity (affinity/performance-config.yaml): default
// nodes; pod-with-pod-anti-affinity, init pods in sched-0 and measured pods
// in sched-1. At most one pod per node.
absl::Status SchedulingPodAntiAffinity(const GenerateOptions& options,
                                       ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), {}, PodWithPodAntiAffinity("sched-0"),
      "anti-affinity-pod", PodWithPodAntiAffinity("sched-1"), writer);
}

// SchedulingPodAffinity (affinity/): nodes in zone1; pod-with-pod-affinity
// in sched-0 (init) and sched-1 (measured).
absl::Status SchedulingPodAffinity(const GenerateOptions& options,
                                   ClusterWriter& writer) {
  return NodesInitAndMeasured(options, DefaultNode(), {"zone1"},
                              PodWithPodAffinity("sched-0"), "affinity-pod",
                              PodWithPodAffinity("sched-1"), writer);
}

// SchedulingPreferredPodAffinity (affinity/): default nodes;
// pod-with-preferred-pod-affinity in sched-0 and sched-1.
absl::Status SchedulingPreferredPodAffinity(const GenerateOptions& options,
                                            ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), {}, PodWithPreferredPodAffinity("sched-0"),
      "preferred-affinity-pod", PodWithPreferredPodAffinity("sched-1"), writer);
}

// SchedulingPreferredPodAntiAffinity (affinity/): default nodes;
// pod-with-preferred-pod-anti-affinity in sched-0 and sched-1.
absl::Status SchedulingPreferredPodAntiAffinity(const GenerateOptions& options,
                                                ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), {}, PodWithPreferredPodAntiAffinity("sched-0"),
      "preferred-anti-affinity-pod", PodWithPreferredPodAntiAffinity("sched-1"),
      writer);
}

// SchedulingNodeAffinity (affinity/): nodes in zone1; pod-with-node-affinity
// in namespace-1 (init) and namespace-2 (measured).
absl::Status SchedulingNodeAffinity(const GenerateOptions& options,
                                    ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), {"zone1"}, PodWithNodeAffinity(OpNamespace(1)),
      "node-affinity", PodWithNodeAffinity(OpNamespace(2)), writer);
}

std::vector<std::string> MoonZones() { return {"moon-1", "moon-2", "moon-3"}; }

// TopologySpreading (topology_spreading/performance-config.yaml): nodes in
// zones moon-1..3; default init pods in namespace-1;
// pod-with-topology-spreading in namespace-2.
absl::Status TopologySpreading(const GenerateOptions& options,
                               ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), MoonZones(), DefaultPod(OpNamespace(1)),
      "spreading-pod",
      PodWithTopologySpreading(OpNamespace(2), "DoNotSchedule"), writer);
}

// PreferredTopologySpreading (topology_spreading/): as TopologySpreading,
// with pod-with-preferred-topology-spreading.
absl::Status PreferredTopologySpreading(const GenerateOptions& options,
                                        ClusterWriter& writer) {
  return NodesInitAndMeasured(
      options, DefaultNode(), MoonZones(), DefaultPod(OpNamespace(1)),
      "spreading-pod",
      PodWithTopologySpreading(OpNamespace(2), "ScheduleAnyway"), writer);
}

// MixedSchedulingBasePod (affinity/): nodes in zone1; the init pods split
// evenly, in upstream's order, over pod-default, pod-with-pod-affinity,
// pod-with-pod-anti-affinity, pod-with-preferred-pod-affinity and
// pod-with-preferred-pod-anti-affinity, all in sched-0 (upstream's initPods
// is per template: --init-pods=10000 is its 2000); default measured pods in
// namespace-7.
absl::Status MixedSchedulingBasePod(const GenerateOptions& options,
                                    ClusterWriter& writer) {
  AddNodes(writer, DefaultNode(), options.nodes, {"zone1"});
  const PodTemplate init[] = {
      DefaultPod("sched-0"), PodWithPodAffinity("sched-0"),
      PodWithPodAntiAffinity("sched-0"), PodWithPreferredPodAffinity("sched-0"),
      PodWithPreferredPodAntiAffinity("sched-0")};
  constexpr int kTemplates = 5;
  for (int k = 0; k < kTemplates; ++k) {
    const int count = options.init_pods / kTemplates +
                      (k < options.init_pods % kTemplates ? 1 : 0);
    if (absl::Status s = AddInitPods(writer, init[k], count); !s.ok()) return s;
  }
  AddPods(writer, "pod", DefaultPod(OpNamespace(7)), options.pods);
  return absl::OkStatus();
}

// SchedulingRequiredPodAntiAffinityWithNSSelector (affinity/): default nodes;
// namespaces init-ns-<k> and measure-ns-0, labeled team=devops
// (namespace-with-labels.yaml); pod-anti-affinity-ns-selector, 40 init pods
// per init namespace (upstream's initPodsPerNamespace; 4000 init pods are
// its 100 namespaces), measured pods in measure-ns-0. Every namespace is
// selected, so there is at most one pod per node.
absl::Status SchedulingRequiredPodAntiAffinityWithNSSelector(
    const GenerateOptions& options, ClusterWriter& writer) {
  constexpr int kPodsPerNamespace = 40;
  const Labels devops = {{"team", "devops"}};
  const int namespaces =
      (options.init_pods + kPodsPerNamespace - 1) / kPodsPerNamespace;
  for (int k = 0; k < namespaces; ++k) {
    writer.AddNamespace(absl::StrCat("init-ns-", k), devops);
  }
  writer.AddNamespace("measure-ns-0", devops);
  AddNodes(writer, DefaultNode(), options.nodes, {});
  for (int k = 0; k < namespaces; ++k) {
    const int count =
        std::min(kPodsPerNamespace, options.init_pods - k * kPodsPerNamespace);
    if (absl::Status s = AddInitPods(
            writer, PodAntiAffinityNsSelector(absl::StrCat("init-ns-", k)),
            count);
        !s.ok()) {
      return s;
    }
  }
  AddPods(writer, "anti-affinity-pod",
          PodAntiAffinityNsSelector("measure-ns-0"), options.pods);
  return absl::OkStatus();
}

// SchedulingWithNodeInclusionPolicy (topology_spreading/): of the nodes, a
// fifth are node-with-taint (upstream: 4000 default and 1000 tainted), after
// the default ones; no init pods; pod-with-node-inclusion-policy in
// namespace-2.
absl::Status SchedulingWithNodeInclusionPolicy(const GenerateOptions& options,
                                               ClusterWriter& writer) {
  if (absl::Status s = NoInitPods(options); !s.ok()) return s;
  const int tainted = options.nodes / 5;
  AddNodes(writer, DefaultNode(), options.nodes - tainted, {});
  AddNodes(writer, NodeWithTaint(), tainted, {});
  AddPods(writer, "spreading-pod-with-node-inclusion-policy",
          PodWithNodeInclusionPolicy(OpNamespace(2)), options.pods);
  return absl::OkStatus();
}

// SchedulingDaemonset (misc/performance-config.yaml): node-with-name
// (scheduler-perf-node, 90,000 pods) and then --nodes default nodes that
// NodeAffinity's PreFilter result rules out (upstream's initNodes: 15000
// gives 15,001 nodes); no init pods; daemonset-pod in namespace-2, every one
// asking for scheduler-perf-node.
absl::Status SchedulingDaemonset(const GenerateOptions& options,
                                 ClusterWriter& writer) {
  if (absl::Status s = NoInitPods(options); !s.ok()) return s;
  writer.AddNode(Render(NodeWithName()), "", kDaemonsetNodeName);
  AddNodes(writer, DefaultNode(), options.nodes, {});
  AddPods(writer, "daemonset", DaemonsetPod(OpNamespace(2), kDaemonsetNodeName),
          options.pods);
  return absl::OkStatus();
}

// PreemptionBasic (misc/): default nodes; pod-low-priority init pods in
// namespace-1 (four fill a node's 4 CPU to 3.6); pod-high-priority in
// namespace-2, each of which needs three of a node's low-priority pods gone.
absl::Status PreemptionBasic(const GenerateOptions& options,
                             ClusterWriter& writer) {
  return NodesInitAndMeasured(options, DefaultNode(), {},
                              PodLowPriority(OpNamespace(1)), "pod",
                              PodHighPriority(OpNamespace(2)), writer);
}

// Unschedulable (misc/): default nodes; default init pods in namespace-1;
// default measured pods in namespace-3. Upstream's churn op creates a
// pod-high-priority-large-cpu pod (9 CPU, fits nowhere) in namespace-2
// every 200 ms while the measured pods are scheduled, about one per 100
// measured pods at upstream's rate; here pod-h-<i> comes before every 100th
// measured pod, and is not counted in --pods.
absl::Status Unschedulable(const GenerateOptions& options,
                           ClusterWriter& writer) {
  constexpr int kMeasuredPerLargePod = 100;
  AddNodes(writer, DefaultNode(), options.nodes, {});
  if (absl::Status s =
          AddInitPods(writer, DefaultPod(OpNamespace(1)), options.init_pods);
      !s.ok()) {
    return s;
  }
  const PodTemplate large_template = PodHighPriorityLargeCpu(OpNamespace(2));
  const PodTemplate pod_template = DefaultPod(OpNamespace(3));
  const RenderedPod large = Render(large_template);
  const RenderedPod pod = Render(pod_template);
  for (int i = 0; i < options.pods; ++i) {
    if (i % kMeasuredPerLargePod == 0) writer.AddPod("pod-h", large);
    writer.AddPod("pod", pod);
  }
  return absl::OkStatus();
}

// Demo: a mixed cluster that exercises what the simulator reports.
//
// Nodes: every tenth is a GPU node (8 CPU, 64Gi, 4 nvidia.com/gpu, label and
// taint dedicated=gpu:NoSchedule); the others are 2, 4 or 8 CPU at 4Gi per
// CPU, disktype ssd or hdd, picked at random; every node carries
// node.kubernetes.io/instance-type (standard-<cpus>, gpu-8); zones
// zone1..zone3 round-robin. One node in 50 reports a condition, as the node
// lifecycle controller writes it: memory-pressure and disk-pressure
// alternately, each a NoSchedule taint that no pod here tolerates.
// Init pods: every tenth a GPU pod, every tenth a db pod, every tenth a
// frontend pod (see below), the rest web pods of random size.
// Measured pods, shuffled: 10% GPU pods (tolerate the taint, select GPU
// nodes, one GPU each); 10% color=green pods with required anti-affinity to
// each other per hostname (upstream's pod-with-pod-anti-affinity); 5% db
// pods (required node affinity disktype In [ssd], preferred instance-type
// standard-8, weight 50); 5% api pods (required pod affinity to app=web per
// zone, preferred anti-affinity to each other per hostname, weight 100); 5%
// frontend pods (spread over zones, maxSkew 1, DoNotSchedule, and over
// hosts, ScheduleAnyway); 0.5% (at least one) system-cluster-critical pods
// in kube-system; 0.1% (at least one) pods asking for 9 CPU, which no node
// has; the rest web pods of random size.
absl::Status Demo(const GenerateOptions& options, ClusterWriter& writer) {
  constexpr absl::string_view kInstanceType =
      "node.kubernetes.io/instance-type";
  std::mt19937_64 rng(options.seed);
  const Taint gpu_taint{"dedicated", "gpu", "NoSchedule"};

  enum Condition { kHealthy, kMemoryPressure, kDiskPressure, kConditions };
  const std::string disks[] = {"ssd", "hdd"};
  const int64_t cpus[] = {2, 4, 8};
  auto standard_node = [&](int64_t cpu, const std::string& disk,
                           int condition) {
    NodeTemplate node;
    node.capacity = NodeCapacity(cpu * 1000, cpu * 4 * kGi, 0);
    node.labels = {
        {"disktype", disk},
        {std::string(kInstanceType), absl::StrCat("standard-", cpu)}};
    if (condition == kMemoryPressure) {
      node.taints = {{"node.kubernetes.io/memory-pressure", "", "NoSchedule"}};
      node.conditions = {{"MemoryPressure", "True"}, {"Ready", "True"}};
    } else if (condition == kDiskPressure) {
      node.taints = {{"node.kubernetes.io/disk-pressure", "", "NoSchedule"}};
      node.conditions = {{"DiskPressure", "True"}, {"Ready", "True"}};
    }
    return Render(node);
  };
  // standard[(size * 2 + disk) * kConditions + condition]
  std::vector<RenderedNode> standard;
  for (int64_t cpu : cpus) {
    for (const std::string& disk : disks) {
      for (int condition = 0; condition < kConditions; ++condition) {
        standard.push_back(standard_node(cpu, disk, condition));
      }
    }
  }
  NodeTemplate gpu_template;
  gpu_template.capacity = NodeCapacity(8000, 64 * kGi, 4);
  gpu_template.labels = {{"dedicated", "gpu"},
                         {std::string(kInstanceType), "gpu-8"}};
  gpu_template.taints = {gpu_taint};
  const RenderedNode gpu_node = Render(gpu_template);
  const std::string zones[] = {"zone1", "zone2", "zone3"};
  for (int i = 0; i < options.nodes; ++i) {
    if (i % 10 == 9) {
      writer.AddNode(gpu_node, zones[i % 3]);
      continue;
    }
    const size_t size = Pick(rng, 3);
    const size_t disk = Pick(rng, 2);
    int condition = kHealthy;
    if (i % 50 == 24)
      condition = (i / 50) % 2 == 0 ? kMemoryPressure : kDiskPressure;
    writer.AddNode(standard[(size * 2 + disk) * kConditions + condition],
                   zones[i % 3]);
  }

  auto web_pod = [](int64_t milli_cpu, int64_t memory) {
    PodTemplate pod = DefaultPod("default");
    pod.labels = {{"app", "web"}};
    pod.requests = Requests(milli_cpu, memory);
    return pod;
  };
  PodTemplate gpu_template_pod = DefaultPod("default");
  gpu_template_pod.labels = {{"app", "training"}};
  gpu_template_pod.requests = Requests(1000, 4 * kGi, 1);
  gpu_template_pod.node_selector = {{"dedicated", "gpu"}};
  gpu_template_pod.tolerations = {Tolerate(gpu_taint)};

  PodTemplate green_template = DefaultPod("default");
  green_template.labels = {{"color", "green"}};
  green_template.required_anti_affinity = {
      Term(green_template.labels, kHostnameLabel, {})};

  PodTemplate db_template = DefaultPod("default");
  db_template.labels = {{"app", "db"}};
  db_template.requests = Requests(500, 1 * kGi);
  NodeSelectorTerm ssd;
  ssd.match_expressions = {{"disktype", "In", {"ssd"}}};
  NodeSelectorTerm large_node;
  large_node.match_expressions = {
      {std::string(kInstanceType), "In", {"standard-8"}}};
  large_node.weight = 50;
  db_template.required_node_affinity = {ssd};
  db_template.preferred_node_affinity = {large_node};

  PodTemplate api_template = DefaultPod("default");
  api_template.labels = {{"app", "api"}};
  api_template.requests = Requests(250, 512 * kMi);
  api_template.required_affinity = {Term({{"app", "web"}}, kZoneLabel, {})};
  api_template.preferred_anti_affinity = {
      Term(api_template.labels, kHostnameLabel, {}, 100)};

  PodTemplate frontend_template = DefaultPod("default");
  frontend_template.labels = {{"app", "frontend"}};
  frontend_template.requests = Requests(100, 256 * kMi);
  SpreadConstraint by_zone;
  by_zone.max_skew = 1;
  by_zone.topology_key = std::string(kZoneLabel);
  by_zone.when_unsatisfiable = "DoNotSchedule";
  by_zone.match_labels = frontend_template.labels;
  SpreadConstraint by_host = by_zone;
  by_host.topology_key = std::string(kHostnameLabel);
  by_host.when_unsatisfiable = "ScheduleAnyway";
  frontend_template.spread_constraints = {by_zone, by_host};

  PodTemplate critical_template = DefaultPod("kube-system");
  critical_template.labels = {{"k8s-app", "critical-addon"}};
  critical_template.requests = Requests(500, 512 * kMi);
  critical_template.priority_class_name = "system-cluster-critical";
  critical_template.priority = 2000000000;

  PodTemplate large_template = DefaultPod("default");
  large_template.labels = {{"app", "batch"}};
  large_template.requests = Requests(9000, 1 * kGi);

  const RenderedPod web[] = {
      Render(web_pod(100, 256 * kMi)), Render(web_pod(250, 512 * kMi)),
      Render(web_pod(500, 1 * kGi)), Render(web_pod(1000, 2 * kGi))};
  const RenderedPod gpu = Render(gpu_template_pod);
  const RenderedPod green = Render(green_template);
  const RenderedPod db = Render(db_template);
  const RenderedPod api = Render(api_template);
  const RenderedPod frontend = Render(frontend_template);
  const RenderedPod critical = Render(critical_template);
  const RenderedPod large = Render(large_template);

  for (int i = 0; i < options.init_pods; ++i) {
    const RenderedPod* pod;
    switch (i % 10) {
      case 9:
        pod = &gpu;
        break;
      case 4:
        pod = &db;
        break;
      case 7:
        pod = &frontend;
        break;
      default:
        pod = &web[Pick(rng, 4)];
    }
    if (absl::Status s = writer.AddInitPod(*pod); !s.ok()) return s;
  }

  enum Kind { kWeb, kGpu, kGreen, kDb, kApi, kFrontend, kCritical, kLarge };
  std::vector<Kind> kinds;
  kinds.reserve(options.pods);
  auto add = [&](Kind kind, int count) {
    count = std::min(count, options.pods - static_cast<int>(kinds.size()));
    kinds.insert(kinds.end(), count, kind);
  };
  if (options.pods > 0) {
    add(kLarge, std::max(1, options.pods / 1000));
    add(kCritical, std::max(1, options.pods / 200));
  }
  add(kGpu, options.pods / 10);
  add(kGreen, options.pods / 10);
  add(kDb, options.pods / 20);
  add(kApi, options.pods / 20);
  add(kFrontend, options.pods / 20);
  add(kWeb, options.pods);
  Shuffle(kinds, rng);

  for (Kind kind : kinds) {
    switch (kind) {
      case kWeb:
        writer.AddPod("web", web[Pick(rng, 4)]);
        break;
      case kGpu:
        writer.AddPod("gpu", gpu);
        break;
      case kGreen:
        writer.AddPod("green", green);
        break;
      case kDb:
        writer.AddPod("db", db);
        break;
      case kApi:
        writer.AddPod("api", api);
        break;
      case kFrontend:
        writer.AddPod("frontend", frontend);
        break;
      case kCritical:
        writer.AddPod("critical", critical);
        break;
      case kLarge:
        writer.AddPod("large", large);
        break;
    }
  }
  return absl::OkStatus();
}

struct Workload {
  absl::string_view name;
  absl::Status (*generate)(const GenerateOptions&, ClusterWriter&);
};

// Sorted by name.
constexpr Workload kWorkloads[] = {
    {"Demo", &Demo},
    {"MixedSchedulingBasePod", &MixedSchedulingBasePod},
    {"PreemptionBasic", &PreemptionBasic},
    {"PreferredTopologySpreading", &PreferredTopologySpreading},
    // BENCHMARKS.md's name for upstream's
    // SchedulingRequiredPodAntiAffinityWithNSSelector; the same workload.
    {"RequiredPodAntiAffinityWithNSSelector", &SchedulingRequiredPodAntiAffinityWithNSSelector},
    {"SchedulingBasic", &SchedulingBasic},
    {"SchedulingDaemonset", &SchedulingDaemonset},
    {"SchedulingNodeAffinity", &SchedulingNodeAffinity},
    {"SchedulingPodAffinity", &SchedulingPodAffinity},
    {"SchedulingPodAntiAffinity", &SchedulingPodAntiAffinity},
    {"SchedulingPreferredPodAffinity", &SchedulingPreferredPodAffinity},
    {"SchedulingPreferredPodAntiAffinity", &SchedulingPreferredPodAntiAffinity},
    {"SchedulingRequiredPodAntiAffinityWithNSSelector",
     &SchedulingRequiredPodAntiAffinityWithNSSelector},
    {"SchedulingWithNodeInclusionPolicy", &SchedulingWithNodeInclusionPolicy},
    {"TopologySpreading", &TopologySpreading},
    {"Unschedulable", &Unschedulable},
};

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const Workload& w : kWorkloads) names.emplace_back(w.name);
  return names;
}

absl::Status Generate(const GenerateOptions& options, std::ostream& out) {
  const Workload* workload = nullptr;
  for (const Workload& w : kWorkloads) {
    if (w.name == options.workload) workload = &w;
  }
  if (workload == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown workload \"", options.workload,
        "\"; known workloads: ", absl::StrJoin(WorkloadNames(), ", ")));
  }
  if (options.nodes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("nodes must be positive, got ", options.nodes));
  }
  if (options.init_pods < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "init pods must not be negative, got ", options.init_pods));
  }
  if (options.pods < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pods must not be negative, got ", options.pods));
  }
  if (options.format == OutputFormat::kYaml) {
    ClusterWriter writer(out);
    if (absl::Status s = workload->generate(options, writer); !s.ok()) return s;
    return writer.Finish();
  }
  // Other formats are the YAML's objects re-encoded.
  std::ostringstream yaml;
  ClusterWriter writer(yaml);
  if (absl::Status s = workload->generate(options, writer); !s.ok()) return s;
  if (absl::Status s = writer.Finish(); !s.ok()) return s;
  return Reencode(yaml.str(), options.format, out);
}

}  // namespace kestrel::sim
