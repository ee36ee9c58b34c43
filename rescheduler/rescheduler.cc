#include "rescheduler/rescheduler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/priority.h"

namespace kestrel::rescheduler {

std::string PodId(const model::Pod& pod) { return absl::StrCat(pod.ns, "_", pod.name); }

std::string PodKeyOfTaintValue(const std::string& value) {
  const size_t cut = value.find('_');
  if (cut == std::string::npos || cut == 0 || cut + 1 == value.size()) return "";
  return absl::StrCat(value.substr(0, cut), "/", value.substr(cut + 1));
}

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
  AdoptTaints();
  ReleaseTaints();
  return absl::OkStatus();
}

void Rescheduler::AdoptTaints() {
  const absl::Time now = client_->Now();
  absl::flat_hash_set<std::string> adopted;
  for (const model::NodePtr& node : client_->ListNodes()) {
    for (const model::Taint& t : node->taints) {
      if (t.key != kTaintKey || t.effect != model::TaintEffect::kNoSchedule) continue;
      const std::string key = PodKeyOfTaintValue(t.value);
      if (key.empty() || adopted.contains(key)) continue;  // a second node: stale
      model::PodPtr pod = client_->PendingPod(key);
      if (pod == nullptr || !model::IsCritical(*pod, options_.system_namespace)) continue;
      // A taint from before timeAdded was stamped counts from now: holding
      // a node one timeout too long is better than opening it too early.
      const absl::Time added = std::min(t.time_added == absl::InfinitePast() ? now : t.time_added,
                                        now);
      const absl::Time deadline = added + options_.pod_scheduled_timeout;
      if (now >= deadline) continue;  // timed out while no rescheduler ran
      adopted.insert(key);
      in_flight_.push_back({pod, node->name, t.value, deadline, {}});
    }
  }
}

bool Rescheduler::ReleaseTaints() {
  // By node: the same value on a second node is not held.
  absl::flat_hash_set<std::pair<std::string, std::string>> held;
  for (const InFlight& f : in_flight_) held.insert({f.node, f.taint_value});
  bool changed = false;
  for (const model::NodePtr& node : client_->ListNodes()) {
    for (const model::Taint& t : node->taints) {
      if (t.key != kTaintKey || held.contains({node->name, t.value})) continue;
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

bool Rescheduler::EvictedByUs(const model::Pod& pod) const {
  auto it = evicted_uids_.find(pod.Key());
  return it != evicted_uids_.end() && it->second == pod.uid;
}

void Rescheduler::ForgetGoneEvictions() {
  std::vector<std::string> gone;
  for (const auto& [key, uid] : evicted_uids_) {
    if (client_->PhaseOf(key) == PodPhase::kGone) gone.push_back(key);
  }
  for (const std::string& key : gone) evicted_uids_.erase(key);
}

bool Rescheduler::EvictPending(InFlight& f) {
  bool changed = false;
  std::vector<model::PodPtr> still;
  for (const model::PodPtr& victim : f.pending_evictions) {
    // Evicted already (for another pod, or before a timeout): the API
    // server would accept a second eviction of a terminating pod, and a
    // second event would announce it again.
    if (EvictedByUs(*victim)) continue;
    absl::Status s = client_->Evict(*victim);
    if (s.ok() || absl::IsNotFound(s)) {
      if (s.ok()) {
        changed = true;
        evicted_[f.pod->Key()].push_back(victim->Key());
        evicted_uids_[victim->Key()] = victim->uid;
        client_->Record({absl::StrCat("Pod ", victim->Key()), "Normal", kReasonDeleted,
                         absl::StrCat("Deleted by rescheduler in order to schedule critical pod ",
                                      PodId(*f.pod), "."),
                         victim->uid.empty() ? victim->Key() : victim->uid});
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
  ForgetGoneEvictions();

  absl::flat_hash_set<std::string> processing, busy_nodes;
  for (const InFlight& f : in_flight_) {
    processing.insert(f.pod->Key());
    busy_nodes.insert(f.node);
  }
  const std::string& system_ns = options_.system_namespace;
  // A pod evicted already is on its way out, even where the view does not
  // show it terminating yet: never a victim again.
  auto eligible = [this, &system_ns](const model::Pod& p) {
    return Evictable(p, system_ns) && !EvictedByUs(p);
  };
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
