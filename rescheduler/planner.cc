#include "rescheduler/planner.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "model/pdb.h"
#include "scheduler/preemption/candidates.h"
#include "scheduler/preemption/default_preemption.h"

namespace kestrel::rescheduler {

using framework::Code;
using framework::NodeInfo;
using framework::Status;

absl::StatusOr<Finding> SchedulerPlanner::Find(
    const model::Pod& pod, const std::string& taint_value,
    const std::function<bool(const model::Pod&)>& eligible,
    const absl::flat_hash_set<std::string>& skip_nodes) {
  Finding out;
  model::Taint taint;
  taint.key = kTaintKey;
  taint.key_id = names_->Intern(kTaintKey);
  taint.value = taint_value;
  taint.value_id = names_->Intern(taint_value);
  taint.effect = model::TaintEffect::kNoSchedule;
  bool tolerates = false;
  for (const model::Toleration& t : pod.tolerations) tolerates = tolerates || t.Tolerates(taint);
  if (!tolerates) {
    out.why = absl::StrCat("it does not tolerate the taint ", kTaintKey,
                           " (add a toleration: key ", kTaintKey, ", operator Exists)");
    return out;
  }

  const framework::Framework* fw = scheduler_->ProfileFor(pod);
  if (fw == nullptr) {
    out.why = absl::StrCat("no profile for schedulerName \"", pod.scheduler_name, "\"");
    return out;
  }
  scheduler_->UpdateSnapshot();
  framework::CycleState state = scheduler_->NewCycleState();
  Status pre = scheduler_->RunPreFilter(*fw, state, pod);
  if (!pre.ok()) {
    if (pre.code() == Code::kError) return absl::InternalError(pre.Message());
    out.why = pre.Message();
    return out;
  }
  std::vector<const NodeInfo*> potential;
  for (const NodeInfo* n : scheduler_->snapshot().nodes()) {
    if (n->node() == nullptr || skip_nodes.contains(n->node()->name)) continue;
    Status s = fw->RunFilterPluginsWithNominatedPods(state, pod, *n);
    if (s.ok()) {
      out.kind = Finding::Kind::kFits;
      out.node = n->node()->name;
      return out;
    }
    if (s.code() == Code::kError) return absl::InternalError(s.Message());
    if (s.code() == Code::kUnschedulable) potential.push_back(n);
  }
  if (potential.empty()) {
    out.why = "evicting pods would not help on any node";
    return out;
  }
  std::vector<model::PdbPtr> pdbs;
  if (pdbs_ != nullptr) pdbs = pdbs_->ListPdbs();
  preemption::DryRunOptions options;
  options.num_candidates = static_cast<int32_t>(potential.size());
  options.eligible = eligible;
  options.any_priority = true;
  const absl::Time now = absl::Now();
  preemption::DryRunResult dry =
      preemption::DryRunPreemption(*fw, state, pod, potential, pdbs, options, now);
  std::vector<preemption::Candidate> keep;
  size_t violating = 0;
  for (preemption::Candidate& c : dry.candidates) {
    if (c.victims.num_pdb_violations == 0) {
      keep.push_back(std::move(c));
    } else {
      ++violating;
    }
  }
  if (keep.empty()) {
    if (!dry.error.ok()) return absl::InternalError(dry.error.Message());
    out.why = violating > 0
                  ? absl::StrCat("clearing any of the ", violating,
                                 " node(s) where it would fit violates a PodDisruptionBudget")
                  : "no node has enough evictable pods (not critical, not mirror, not "
                    "DaemonSet) to make room";
    return out;
  }
  const preemption::Candidate* best = preemption::PickOneNodeForPreemption(keep, now);
  out.kind = Finding::Kind::kClear;
  out.node = best->node_name;
  out.victims = best->victims.pods;
  return out;
}

}  // namespace kestrel::rescheduler
