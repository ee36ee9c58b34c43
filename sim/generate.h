// File: generate.h
// -----------------------------------------------------------------------------
//
// Synthetic clusters for the simulator and the benchmarks. `Generate()` writes
// a workload as a Kubernetes multi-document YAML stream, the way `kubectl get
// -o yaml` writes objects (keys sorted, numeric-looking quantities quoted):
//
//   1. the Namespaces, for the workloads whose namespaces carry labels that
//      a namespaceSelector reads;
//   2. the Nodes;
//   3. the init pods, already bound (`spec.nodeName` set, `status.phase:
//      Running`), placed round-robin over the nodes they may go on: where
//      resources, taints, node selectors and affinity, required pod
//      (anti-)affinity and DoNotSchedule topology spreading allow, as a
//      scheduler could have placed them;
//   4. the measured pods, unbound (`status.phase: Pending`), in the order the
//      simulator should schedule them.
//
// Workloads mirror upstream kube-scheduler's scheduler_perf
// (kubernetes/kubernetes test/integration/scheduler_perf, the per-feature
// performance-config.yaml files and templates/; see BENCHMARKS.md): the same
// names, node and pod templates, labels, zones and namespaces. Where an
// upstream workload has more than one pod count, `init_pods` is the total
// (MixedSchedulingBasePod splits it over its five templates;
// SchedulingRequiredPodAntiAffinityWithNSSelector puts 40 in each
// namespace). SchedulingDaemonset adds upstream's scheduler-perf-node to
// `nodes`; Unschedulable adds one 9-CPU pod before every 100th measured pod;
// SchedulingWithNodeInclusionPolicy and SchedulingDaemonset take no init
// pods. `Demo` is a mixed cluster for `./demo.sh`.
// Output is a pure function of the options: the same seed gives the same bytes.
//
// Example:
//
//   kestrel::sim::GenerateOptions options;
//   options.workload = "SchedulingBasic";
//   options.nodes = 5000;
//   options.init_pods = 1000;
//   options.pods = 10000;
//   absl::Status status = kestrel::sim::Generate(options, std::cout);

#ifndef KESTREL_SIM_GENERATE_H_
#define KESTREL_SIM_GENERATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sim/format.h"

namespace kestrel::sim {

// GenerateOptions
//
// What to generate; mirrors the flags of `kestrel generate`.
struct GenerateOptions {
  // A name from WorkloadNames().
  std::string workload;
  // Number of nodes; must be positive.
  int nodes = 0;
  // Number of pods that are already bound when the simulation starts.
  int init_pods = 0;
  // Number of unbound pods to schedule.
  int pods = 0;
  // Seeds the generator's PRNG (std::mt19937_64).
  uint64_t seed = 1;
  // The same objects as YAML (a multi-document stream), JSON (a v1 List) or
  // Kubernetes protobuf (a v1 List in the k8s\x00 envelope); see format.h.
  OutputFormat format = OutputFormat::kYaml;
};

// Generate()
//
// Writes the workload to `out`. Errors (InvalidArgument): an unknown workload
// (the message lists the known names), a non-positive node count, a negative
// pod count, init pods for a workload that has none, or init pods that do
// not fit on the nodes. Internal if `out` fails while writing.
absl::Status Generate(const GenerateOptions& options, std::ostream& out);

// WorkloadNames()
//
// The workloads Generate() knows, sorted by name.
std::vector<std::string> WorkloadNames();

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_GENERATE_H_
