// The plain workload: default nodes and pods, nothing but resources.

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

}  // namespace kestrel::sim::generate_internal
