// File: planner.h
//
// SchedulerPlanner answers the rescheduler's question, "which node costs
// least to clear for this critical pod?", with the scheduler's own profile:
// PreFilter once, then the Filter plugins (with nominated pods) on every
// node; if the pod fits nowhere, preemption's dry run over the nodes that
// failed as Unschedulable, with every evictable pod a potential victim
// whatever its priority, and preemption's ranking among the candidates that
// break no PodDisruptionBudget.
//
// Example:
//   SchedulerPlanner planner(&scheduler, &pdb_lister, names);
//   absl::StatusOr<Finding> f = planner.Find(pod, PodId(pod), eligible, {});

#ifndef KESTREL_RESCHEDULER_PLANNER_H_
#define KESTREL_RESCHEDULER_PLANNER_H_

#include "model/interner.h"
#include "rescheduler/rescheduler.h"
#include "scheduler/framework/interface.h"
#include "scheduler/scheduler.h"

namespace kestrel::rescheduler {

class SchedulerPlanner : public Planner {
 public:
  // `pdbs` may be null (no budgets). `names` interns the taint's key and
  // values; Find must not run while the scheduler filters.
  SchedulerPlanner(scheduler::Scheduler* scheduler, const framework::PdbLister* pdbs,
                   model::Interner* names)
      : scheduler_(scheduler), pdbs_(pdbs), names_(names) {}

  absl::StatusOr<Finding> Find(const model::Pod& pod, const std::string& taint_value,
                               const std::function<bool(const model::Pod&)>& eligible,
                               const absl::flat_hash_set<std::string>& skip_nodes) override;

 private:
  scheduler::Scheduler* scheduler_;
  const framework::PdbLister* pdbs_;
  model::Interner* names_;
};

}  // namespace kestrel::rescheduler

#endif  // KESTREL_RESCHEDULER_PLANNER_H_
