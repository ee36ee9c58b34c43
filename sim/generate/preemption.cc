// Workloads with priorities: PreemptionBasic (high-priority pods that must
// evict) and Unschedulable (high-priority pods that fit nowhere).

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

}  // namespace

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

}  // namespace kestrel::sim::generate_internal
