// File: explain.h
//
// Explain answers "why would this pod go there, and not elsewhere": every
// enabled filter plugin on every node (all of them, not only up to the first
// failure), every score plugin on the feasible nodes (normalized and
// weighted), and the node the scheduler would select with the same seed.

#ifndef KESTREL_SIM_EXPLAIN_H_
#define KESTREL_SIM_EXPLAIN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "sim/cluster.h"
#include "sim/simulator.h"

namespace kestrel::sim {

inline constexpr char kPassed[] = "passed";

struct NodeExplanation {
  std::string node;
  bool feasible = false;
  // Per filter plugin, in profile order: "passed" or the reasons.
  std::vector<std::pair<std::string, std::string>> filters;
  // Per score plugin, in profile order: normalized score × weight.
  std::vector<std::pair<std::string, int64_t>> scores;
  int64_t total = 0;
};

struct Explanation {
  std::string pod;
  std::vector<NodeExplanation> nodes;  // in cluster order
  std::string selected;                // empty: none
  std::string message;                 // the FitError text when none
};

// Explains `pod_key` (namespace/name), a pending pod of `cluster`, against
// the cluster's nodes and bound pods.
absl::StatusOr<Explanation> Explain(const Cluster& cluster,
                                    const config::KubeSchedulerConfiguration& config,
                                    const std::string& pod_key, const SimOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_EXPLAIN_H_
