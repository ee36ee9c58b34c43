// SchedulingDaemonset: pods pinned to one node by matchFields on
// metadata.name, as the DaemonSet controller writes them.

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

// node-with-name.yaml: the node every SchedulingDaemonset pod asks for,
// with room for 90,000 pods.
constexpr absl::string_view kDaemonsetNodeName = "scheduler-perf-node";

NodeTemplate NodeWithName() {
  NodeTemplate node = DefaultNode();
  node.capacity.pods = 90000;
  return node;
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

}  // namespace

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

}  // namespace kestrel::sim::generate_internal
