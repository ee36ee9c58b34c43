// File: candidates.h
//
// Choosing where to preempt, as upstream's preemption Evaluator
// (pkg/scheduler/framework/preemption/preemption.go) and DefaultPreemption
// (pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go):
// whether a pod may preempt at all, how many candidate nodes to dry-run, and
// which candidate to pick.
//
// Example:
//   ASSIGN_OR_RETURN(PreemptionArgs args, CompilePreemptionArgs(proto_args));
//   int32_t n = NumCandidatesToFind(num_nodes, args);
//   ... SelectVictimsOnNode on up to n nodes, collecting Candidates ...
//   const Candidate* best = PickOneNodeForPreemption(candidates, clock.Now());

#ifndef KESTREL_SCHEDULER_PREEMPTION_CANDIDATES_H_
#define KESTREL_SCHEDULER_PREEMPTION_CANDIDATES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "model/objects.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/status.h"
#include "scheduler/preemption/victims.h"

namespace kestrel::preemption {

inline constexpr char kNotEligibleNever[] = "not eligible due to preemptionPolicy=Never.";
inline constexpr char kNotEligibleTerminating[] =
    "not eligible due to a terminating pod on the nominated node.";

// PodEligibleToPreemptOthers()
//
// Success, or Unschedulable with upstream's reason when the pod must not
// preempt: its preemptionPolicy is Never, or its nominated node (`nominated`,
// nullptr when it has none or the node is gone) still holds a terminating
// lower-priority pod, its earlier victims not yet gone. A nominated node the
// filters found UnschedulableAndUnresolvable (`nominated_status`) does not
// count. Upstream also requires the terminating pod to carry the
// DisruptionTarget condition of a scheduler preemption; the model has no
// conditions, so any terminating lower-priority pod counts.
framework::Status PodEligibleToPreemptOthers(const model::Pod& pod,
                                             const framework::NodeInfo* nominated,
                                             framework::Code nominated_status);

// DefaultPreemptionArgs with defaults applied (upstream v1 defaults).
struct PreemptionArgs {
  int32_t min_candidate_nodes_percentage = 10;
  int32_t min_candidate_nodes_absolute = 100;
};

// CompilePreemptionArgs()
//
// Applies defaults to unset fields and validates as upstream
// ValidateDefaultPreemptionArgs, with its messages:
// `minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]`;
// several errors are joined as "[a, b]". The caller prefixes the file and
// profile.
absl::StatusOr<PreemptionArgs> CompilePreemptionArgs(
    const ::kestrel::config::DefaultPreemptionArgs& args);

// NumCandidatesToFind()
//
// Upstream calculateNumCandidates: `num_nodes` times the percentage, at
// least the absolute minimum, at most `num_nodes`.
int32_t NumCandidatesToFind(int32_t num_nodes, const PreemptionArgs& args);

// A node where preemption would make room, and what it would evict.
struct Candidate {
  std::string node_name;
  Victims victims;  // pods most important first, non-empty
};

// PickOneNodeForPreemption()
//
// Upstream pickOneNodeForPreemption without custom score functions: among
// `candidates`, in order, fewest PDB violations; lowest priority of the most
// important victim; lowest sum of victim priorities (each shifted by 2^31 so
// all are positive); fewest victims; latest earliest-start-time among the
// highest-priority victims (`now` for victims not started); then the first.
// nullptr when `candidates` is empty.
const Candidate* PickOneNodeForPreemption(absl::Span<const Candidate> candidates,
                                          absl::Time now);

// GetEarliestPodStartTime()
//
// Upstream util.GetEarliestPodStartTime: the earliest start time among the
// victims of the highest priority. InfinitePast for no victims.
absl::Time GetEarliestPodStartTime(const Victims& victims, absl::Time now);

}  // namespace kestrel::preemption

#endif  // KESTREL_SCHEDULER_PREEMPTION_CANDIDATES_H_
