#include "rescheduler/rescheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/priority.h"

namespace kestrel::rescheduler {

std::string PodId(const model::Pod& pod) { return absl::StrCat(pod.ns, "_", pod.name); }

bool Evictable(const model::Pod& pod, const std::string& system_namespace) {
  if (model::IsCritical(pod, system_namespace) || pod.mirror) return false;
  for (const model::OwnerRef& o : pod.owners) {
    if (o.kind == "DaemonSet") return false;
  }
  return true;
}

void Rescheduler::Warn(const model::Pod& pod, const std::string& reason,
                       const std::string& message) {
  client_->Record({absl::StrCat("Pod ", pod.Key()), "Warning", reason, message});
}

std::vector<std::string> Rescheduler::EvictedFor(const std::string& pod_key) const {
  auto it = evicted_.find(pod_key);
  return it == evicted_.end() ? std::vector<std::string>() : it->second;
}

absl::Status Rescheduler::Start() {
  in_flight_.clear();
  ReleaseTaints();
  return absl::OkStatus();
}

bool Rescheduler::ReleaseTaints() {
  absl::flat_hash_set<std::string> held;
  for (const InFlight& f : in_flight_) held.insert(f.taint_value);
  bool changed = false;
  for (const model::NodePtr& node : client_->ListNodes()) {
    for (const model::Taint& t : node->taints) {
      if (t.key != kTaintKey || held.contains(t.value)) continue;
      absl::Status s = client_->RemoveTaint(node->name, t.value);
      if (s.ok()) {
        changed = true;
      } else {
        client_->Record({absl::StrCat("Node ", node->name), "Warning", "FailedReleasingTaint",
                         absl::StrCat("releasing taint ", kTaintKey, "=", t.value,
                                      ":NoSchedule: ", s.message())});
      }
    }
  }
  return changed;
}

bool Rescheduler::EvictPending(InFlight& f) {
  bool changed = false;
  std::vector<model::PodPtr> still;
  for (const model::PodPtr& victim : f.pending_evictions) {
    absl::Status s = client_->Evict(*victim);
    if (s.ok() || absl::IsNotFound(s)) {
      if (s.ok()) {
        changed = true;
        evicted_[f.pod->Key()].push_back(victim->Key());
        client_->Record({absl::StrCat("Pod ", victim->Key()), "Normal", kReasonDeleted,
                         absl::StrCat("Deleted by rescheduler in order to schedule critical pod ",
                                      PodId(*f.pod), ".")});
      }
      continue;
    }
    // 429: a budget allows no disruption now; try again next pass. Other
    // errors are reported and retried the same way until the timeout.
    still.push_back(victim);
    if (!absl::IsResourceExhausted(s)) {
      Warn(*victim, "FailedEviction", std::string(s.message()));
    }
  }
  f.pending_evictions = std::move(still);
  return changed;
}

bool Rescheduler::RunOnce() {
  const absl::Time now = client_->Now();
  bool changed = false;

  // Pods already being processed: bound (or gone) pods are done; others wait
  // for their evictions or the timeout.
  std::vector<InFlight> keep;
  for (InFlight& f : in_flight_) {
    const PodPhase phase = client_->PhaseOf(f.pod->Key());
    if (phase != PodPhase::kPending) continue;
    if (now >= f.deadline) {
      Warn(*f.pod, kReasonTimeout,
           absl::StrCat("Timeout while waiting for pod ", PodId(*f.pod), " to be scheduled after ",
                        absl::FormatDuration(options_.pod_scheduled_timeout), "."));
      continue;
    }
    changed |= EvictPending(f);
    keep.push_back(std::move(f));
  }
  in_flight_ = std::move(keep);
  // Releases the taints of the pods that are done (and any stale ones).
  changed |= ReleaseTaints();

  absl::flat_hash_set<std::string> processing, busy_nodes;
  for (const InFlight& f : in_flight_) {
    processing.insert(f.pod->Key());
    busy_nodes.insert(f.node);
  }
  const std::string& system_ns = options_.system_namespace;
  auto eligible = [&system_ns](const model::Pod& p) { return Evictable(p, system_ns); };
  for (const model::PodPtr& pod : client_->UnschedulablePods()) {
    if (!model::IsCritical(*pod, system_ns) || processing.contains(pod->Key())) continue;
    const std::string value = PodId(*pod);
    absl::StatusOr<Finding> found = planner_->Find(*pod, value, eligible, busy_nodes);
    if (!found.ok()) {
      Warn(*pod, "FailedPlanning", std::string(found.status().message()));
      continue;
    }
    if (found->kind == Finding::Kind::kFits) continue;
    if (found->kind == Finding::Kind::kNoNode) {
      Warn(*pod, kReasonNoNode,
           absl::StrCat("Critical pod ", value, " doesn't fit on any node: ", found->why, "."));
      continue;
    }
    absl::Status s = client_->AddTaint(found->node, value);
    if (!s.ok()) {
      Warn(*pod, "FailedTainting",
           absl::StrCat("tainting node ", found->node, ": ", s.message()));
      continue;
    }
    changed = true;
    InFlight f{pod, found->node, value, now + options_.pod_scheduled_timeout,
               std::move(found->victims)};
    EvictPending(f);
    processing.insert(pod->Key());
    busy_nodes.insert(f.node);
    in_flight_.push_back(std::move(f));
  }
  return changed;
}

}  // namespace kestrel::rescheduler
