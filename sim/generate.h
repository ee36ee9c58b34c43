// File: generate.h
// -----------------------------------------------------------------------------
//
// Synthetic clusters for the simulator and the benchmarks. `Generate()` writes
// a workload as a Kubernetes multi-document YAML stream, the way `kubectl get
// -o yaml` writes objects (keys sorted, numeric-looking quantities quoted):
//
//   1. the Nodes;
//   2. the init pods, already bound (`spec.nodeName` set, `status.phase:
//      Running`), placed round-robin over the nodes they fit on;
//   3. the measured pods, unbound (`status.phase: Pending`), in the order the
//      simulator should schedule them.
//
// Workloads are named as in upstream scheduler_perf (see BENCHMARKS.md for the
// node and pod templates), plus `Demo`, a mixed cluster for `./demo.sh`.
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
};

// Generate()
//
// Writes the workload to `out`. Errors (InvalidArgument): an unknown workload
// (the message lists the known names), a non-positive node count, a negative
// pod count, or init pods that do not fit on the nodes. Internal if `out`
// fails while writing.
absl::Status Generate(const GenerateOptions& options, std::ostream& out);

// WorkloadNames()
//
// The workloads Generate() knows, sorted by name.
std::vector<std::string> WorkloadNames();

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_GENERATE_H_
