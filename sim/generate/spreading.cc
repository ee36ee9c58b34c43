// Workloads of upstream scheduler_perf's topology_spreading/: pod topology
// spread constraints, hard and soft, and the node inclusion policies.

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

// node-with-taint.yaml: taint foo:NoSchedule, no value.
NodeTemplate NodeWithTaint() {
  NodeTemplate node = DefaultNode();
  node.taints = {{"foo", "", "NoSchedule"}};
  return node;
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

std::vector<std::string> MoonZones() { return {"moon-1", "moon-2", "moon-3"}; }

}  // namespace

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

}  // namespace kestrel::sim::generate_internal
