#include "sim/generate/yaml.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sim/generate/templates.h"

namespace kestrel::sim::generate_internal {
namespace {

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

}  // namespace

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
namespace {

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

}  // namespace

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
}  // namespace kestrel::sim::generate_internal
