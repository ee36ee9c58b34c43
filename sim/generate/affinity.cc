// Workloads of upstream scheduler_perf's affinity/ that set node or inter-pod
// affinity: their pod templates and the workloads.

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sim/generate.h"
#include "sim/generate/templates.h"
#include "sim/generate/workloads.h"
#include "sim/generate/writer.h"
#include "sim/generate/yaml.h"

namespace kestrel::sim::generate_internal {
namespace {

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

}  // namespace

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

}  // namespace kestrel::sim::generate_internal
