// File: victims.h
//
// Victim selection for preemption on one node, as upstream's DefaultPreemption
// (pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go,
// SelectVictimsOnNode and filterPodsWithPDBViolation): take every
// lower-priority pod off a copy of the node; if the preemptor then fits,
// put pods back, most important first and PDB-violating ones before the
// others, keeping each one that still leaves room. What cannot be put back is
// the victim list.
//
// The library knows nothing of the Framework: the caller hands in the
// profile's filters and PreFilter AddPod/RemovePod extensions as functions,
// already bound to the preemptor and to a clone of its CycleState.
//
// Example:
//   VictimHooks hooks;
//   hooks.filter = [&](const framework::NodeInfo& n) { return RunFilters(state, pod, n); };
//   VictimSelection s = SelectVictimsOnNode(pod, node_info, pdbs, hooks, clock.Now());
//   if (s.status.ok()) { ... s.victims.pods ... }

#ifndef KESTREL_SCHEDULER_PREEMPTION_VICTIMS_H_
#define KESTREL_SCHEDULER_PREEMPTION_VICTIMS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/objects.h"
#include "model/pdb.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/status.h"

namespace kestrel::preemption {

inline constexpr char kNoVictimsFound[] = "No preemption victims found for incoming pod";

// PodStartTime()
//
// Upstream util.GetPodStartTime: status.startTime, or `now` for a pod that
// has none yet (assumed, or bound but not started).
absl::Time PodStartTime(const model::Pod& pod, absl::Time now);

// MoreImportantPod()
//
// Upstream util.MoreImportantPod: higher priority first, then the pod that
// started earlier.
bool MoreImportantPod(const model::Pod& a, const model::Pod& b, absl::Time now);

// FilterPodsWithPdbViolation()
//
// Splits `pods` (order kept) into those whose eviction would take a budget
// below zero and the others. Each budget's disruptions_allowed is spent by
// every pod it selects, in order, unless the pod is already in its
// disruptedPods.
struct PdbSplit {
  std::vector<model::PodPtr> violating;
  std::vector<model::PodPtr> non_violating;
};
PdbSplit FilterPodsWithPdbViolation(const std::vector<model::PodPtr>& pods,
                                    absl::Span<const model::PdbPtr> pdbs);

// The profile, seen from preemption. `add_pod` / `remove_pod` are the
// PreFilter extensions, called after `pod` was added to / removed from
// `node`; they may be empty (no extensions). `filter` runs the Filter plugins
// (with nominated pods) against `node` and is required. `eligible` may narrow
// the victims beyond "lower priority than the preemptor" (upstream
// IsEligiblePod); empty: every lower-priority pod is eligible. With
// `any_priority`, `eligible` alone decides: the rescheduler clears room for
// Kubernetes 1.4 critical pods, whose priority may be no higher than their
// victims'.
struct VictimHooks {
  std::function<framework::Status(const model::PodPtr& pod, const framework::NodeInfo& node)>
      add_pod;
  std::function<framework::Status(const model::PodPtr& pod, const framework::NodeInfo& node)>
      remove_pod;
  std::function<framework::Status(const framework::NodeInfo& node)> filter;
  std::function<bool(const model::Pod& victim)> eligible;
  bool any_priority = false;
};

// The pods to evict on one node, most important first, and how many of them
// break a PodDisruptionBudget (upstream extenderv1.Victims).
struct Victims {
  std::vector<model::PodPtr> pods;
  int64_t num_pdb_violations = 0;
};

struct VictimSelection {
  // Success: `victims` make room. UnschedulableAndUnresolvable
  // kNoVictimsFound: nothing may be evicted. Otherwise the filters' verdict
  // with every eligible pod gone, or an Error from a hook or the NodeInfo.
  framework::Status status;
  Victims victims;
};

// SelectVictimsOnNode()
//
// Works on a copy of `node`; `node` itself is left as it is.
VictimSelection SelectVictimsOnNode(const model::Pod& preemptor, const framework::NodeInfo& node,
                                    absl::Span<const model::PdbPtr> pdbs,
                                    const VictimHooks& hooks, absl::Time now);

}  // namespace kestrel::preemption

#endif  // KESTREL_SCHEDULER_PREEMPTION_VICTIMS_H_
