// File: pdb.h
//
// PodDisruptionBudget in the form preemption reads it (upstream
// policy/v1.PodDisruptionBudget): which pods it guards, how many of them may
// still be disrupted, and which pods the API server has already counted as
// disrupted. Preemption prefers victims whose eviction keeps every budget
// (see scheduler/preemption/victims.h).
//
// Example:
//   Interner names;
//   absl::StatusOr<PdbPtr> pdb = CompilePodDisruptionBudget(api_pdb, names);
//   if (pdb.ok() && (*pdb)->Selects(pod)) ...

#ifndef KESTREL_MODEL_PDB_H_
#define KESTREL_MODEL_PDB_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/policy.pb.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/objects.h"

namespace kestrel::model {

struct PodDisruptionBudget {
  std::string ns;
  std::string name;
  Id ns_id = kNoId;
  // spec.selector; nil in the API compiles to LabelSelector::Nothing().
  LabelSelector selector;
  // status.disruptionsAllowed.
  int32_t disruptions_allowed = 0;
  // The pod names in status.disruptedPods, sorted: evictions the API server
  // has granted but the disruption controller has not yet observed.
  std::vector<std::string> disrupted_pods;

  // True when the budget guards `pod`: same namespace, and a selector that
  // is neither nil nor empty matches the pod's labels. As upstream's
  // preemption has it, a pod without labels and an empty selector match
  // nothing.
  bool Selects(const Pod& pod) const;
  // True when `pod_name` is in status.disruptedPods.
  bool AlreadyDisrupted(const std::string& pod_name) const;

  std::string Key() const { return ns + "/" + name; }
};

using PdbPtr = std::shared_ptr<const PodDisruptionBudget>;

// Errors name the object and the field:
// `PodDisruptionBudget default/db: status.disruptionsAllowed: Invalid value:
// -1: must be greater than or equal to 0`.
absl::StatusOr<PdbPtr> CompilePodDisruptionBudget(
    const ::k8s::io::api::policy::v1::PodDisruptionBudget& pdb, Interner& names);

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_PDB_H_
