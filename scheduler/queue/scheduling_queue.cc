#include "scheduler/queue/scheduling_queue.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace kestrel::queue {
namespace {

// Upstream's PodTopologySpread plugin name: pods it rejected may be helped by
// any bound pod of their namespace.
constexpr char kPodTopologySpread[] = "PodTopologySpread";

// Field-by-field equality of compiled pods, for IsPodUpdated. The model types
// have no operator== of their own; these compare what was compiled from the
// API object (label value ids, not the parsed numbers derived from them).
// Declared first, so that the vector overload finds every element overload.
bool Eq(const model::NodeSelectorTerm& a, const model::NodeSelectorTerm& b);
bool Eq(const model::PreferredSchedulingTerm& a, const model::PreferredSchedulingTerm& b);
bool Eq(const model::AffinityTerm& a, const model::AffinityTerm& b);
bool Eq(const model::WeightedAffinityTerm& a, const model::WeightedAffinityTerm& b);
bool Eq(const model::TopologySpreadConstraint& a, const model::TopologySpreadConstraint& b);

bool Eq(const model::Labels& a, const model::Labels& b) {
  return std::equal(a.items().begin(), a.items().end(), b.items().begin(), b.items().end(),
                    [](const model::Label& x, const model::Label& y) {
                      return x.key == y.key && x.value == y.value;
                    });
}

bool Eq(const model::OwnerRef& a, const model::OwnerRef& b) {
  return std::tie(a.kind, a.name, a.controller) == std::tie(b.kind, b.name, b.controller);
}

bool Eq(const model::HostPort& a, const model::HostPort& b) {
  return std::tie(a.protocol, a.host_ip, a.port) == std::tie(b.protocol, b.host_ip, b.port);
}

bool Eq(const model::Toleration& a, const model::Toleration& b) {
  return std::tie(a.key, a.op, a.value, a.effect) == std::tie(b.key, b.op, b.value, b.effect);
}

bool Eq(const model::Requirement& a, const model::Requirement& b) {
  return std::tie(a.key, a.op, a.values, a.number) == std::tie(b.key, b.op, b.values, b.number);
}

template <typename T>
bool Eq(const std::vector<T>& a, const std::vector<T>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const T& x, const T& y) { return Eq(x, y); });
}

bool Eq(const model::LabelSelector& a, const model::LabelSelector& b) {
  return a.matches_nothing == b.matches_nothing && Eq(a.requirements, b.requirements);
}

bool Eq(const model::NodeSelectorTerm& a, const model::NodeSelectorTerm& b) {
  return Eq(a.expressions, b.expressions) && Eq(a.fields, b.fields) &&
         a.parse_errors == b.parse_errors;
}

bool Eq(const std::optional<model::NodeSelector>& a, const std::optional<model::NodeSelector>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a.has_value() || Eq(a->terms, b->terms);
}

bool Eq(const model::PreferredSchedulingTerm& a, const model::PreferredSchedulingTerm& b) {
  return a.weight == b.weight && Eq(a.term, b.term);
}

bool Eq(const model::AffinityTerm& a, const model::AffinityTerm& b) {
  return a.namespaces == b.namespaces && Eq(a.namespace_selector, b.namespace_selector) &&
         Eq(a.selector, b.selector) && a.topology_key == b.topology_key;
}

bool Eq(const model::WeightedAffinityTerm& a, const model::WeightedAffinityTerm& b) {
  return a.weight == b.weight && Eq(a.term, b.term);
}

bool Eq(const model::TopologySpreadConstraint& a, const model::TopologySpreadConstraint& b) {
  return std::tie(a.max_skew, a.topology_key, a.when_unsatisfiable, a.min_domains,
                  a.node_affinity_policy, a.node_taints_policy) ==
             std::tie(b.max_skew, b.topology_key, b.when_unsatisfiable, b.min_domains,
                      b.node_affinity_policy, b.node_taints_policy) &&
         Eq(a.selector, b.selector);
}

}  // namespace

bool IsPodUpdated(const model::Pod* old_pod, const model::Pod& new_pod) {
  if (old_pod == nullptr) return true;
  const model::Pod& a = *old_pod;
  const model::Pod& b = new_pod;
  // A field added to model::Pod must be compared here too (or listed as
  // status): this stops the build until someone decides which.
  static_assert(sizeof(model::Pod) == 768,
                "model::Pod changed: update IsPodUpdated, then this size");
  // Not compared, as upstream strips the status: nominated_node_name
  // (status.nominatedNodeName) and start_time (status.startTime).
  return !(a.ns == b.ns && a.name == b.name && a.uid == b.uid && a.ns_id == b.ns_id &&
           Eq(a.labels, b.labels) && Eq(a.owners, b.owners) &&
           a.scheduler_name == b.scheduler_name && a.node_name == b.node_name &&
           a.priority == b.priority && a.preemption_policy == b.preemption_policy &&
           a.priority_class_name == b.priority_class_name &&
           a.critical_annotation == b.critical_annotation && a.mirror == b.mirror &&
           a.empty_dir_volumes == b.empty_dir_volumes && a.creation_time == b.creation_time &&
           a.terminating == b.terminating && a.requests == b.requests &&
           a.non_zero_milli_cpu == b.non_zero_milli_cpu && a.non_zero_memory == b.non_zero_memory &&
           Eq(a.host_ports, b.host_ports) && a.images == b.images &&
           Eq(a.tolerations, b.tolerations) && Eq(a.node_selector, b.node_selector) &&
           Eq(a.required_node_affinity, b.required_node_affinity) &&
           Eq(a.preferred_node_affinity, b.preferred_node_affinity) &&
           Eq(a.required_affinity, b.required_affinity) &&
           Eq(a.required_anti_affinity, b.required_anti_affinity) &&
           Eq(a.preferred_affinity, b.preferred_affinity) &&
           Eq(a.preferred_anti_affinity, b.preferred_anti_affinity) &&
           a.has_pod_affinity == b.has_pod_affinity &&
           Eq(a.spread_constraints, b.spread_constraints) &&
           a.scheduling_gates == b.scheduling_gates && a.invalid_reason == b.invalid_reason);
}

// ---------------------------------------------------------------------------
// Orderings.

bool SchedulingQueue::ActiveLess::operator()(const Entry* a, const Entry* b) const {
  if (sort->Less(a->info, b->info)) return true;
  if (sort->Less(b->info, a->info)) return false;
  // A QueueSort plugin may tie; a set needs a strict order.
  if (a->info.sequence != b->info.sequence) return a->info.sequence < b->info.sequence;
  return a->key < b->key;
}

bool SchedulingQueue::BackoffLess::operator()(const Entry* a, const Entry* b) const {
  const absl::Time ta = queue->BackoffExpiry(a->info);
  const absl::Time tb = queue->BackoffExpiry(b->info);
  if (ta != tb) return ta < tb;
  if (a->info.sequence != b->info.sequence) return a->info.sequence < b->info.sequence;
  return a->key < b->key;
}

// ---------------------------------------------------------------------------

SchedulingQueue::SchedulingQueue(const framework::QueueSortPlugin* sort, Options options)
    : sort_(sort),
      clock_(options.clock != nullptr ? options.clock : RealClock()),
      pod_initial_backoff_(options.pod_initial_backoff),
      pod_max_backoff_(options.pod_max_backoff),
      pod_max_in_unschedulable_pods_(options.pod_max_in_unschedulable_pods),
      cluster_event_maps_(std::move(options.cluster_event_maps)),
      pre_enqueue_(std::move(options.pre_enqueue)),
      active_(ActiveLess{sort}),
      backoff_(BackoffLess{this}) {}

SchedulingQueue::~SchedulingQueue() { Close(); }

absl::Duration SchedulingQueue::BackoffDuration(int attempts) const {
  absl::Duration d = pod_initial_backoff_;
  for (int i = 1; i < attempts; ++i) {
    // Subtraction, not doubling, so a large maximum cannot overflow.
    if (d > pod_max_backoff_ - d) return pod_max_backoff_;
    d += d;
  }
  return d;
}

absl::Time SchedulingQueue::BackoffExpiry(const framework::QueuedPodInfo& info) const {
  return info.timestamp + BackoffDuration(info.attempts);
}

bool SchedulingQueue::IsBackingOff(const framework::QueuedPodInfo& info) const {
  if (info.gated) return false;
  return BackoffExpiry(info) > clock_->Now();
}

framework::QueuedPodInfo SchedulingQueue::NewInfo(model::PodPtr pod) {
  framework::QueuedPodInfo info;
  info.pod = std::move(pod);
  info.timestamp = clock_->Now();
  info.sequence = next_sequence_++;
  return info;
}

SchedulingQueue::Entry* SchedulingQueue::Find(absl::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second.get();
}

void SchedulingQueue::Detach(Entry* e) {
  switch (e->where) {
    case SubQueue::kActive:
      active_.erase(e);
      break;
    case SubQueue::kBackoff:
      backoff_.erase(e);
      break;
    case SubQueue::kUnschedulable:
      unschedulable_.erase(e);
      break;
    case SubQueue::kNone:
      break;
  }
  e->where = SubQueue::kNone;
}

void SchedulingQueue::Attach(Entry* e, SubQueue where) {
  Detach(e);
  switch (where) {
    case SubQueue::kActive:
      active_.insert(e);
      break;
    case SubQueue::kBackoff:
      backoff_.insert(e);
      break;
    case SubQueue::kUnschedulable:
      unschedulable_.insert(e);
      break;
    case SubQueue::kNone:
      break;
  }
  e->where = where;
}

SchedulingQueue::Entry* SchedulingQueue::Insert(framework::QueuedPodInfo info) {
  std::string key = info.pod->Key();
  if (Entry* old = Find(key); old != nullptr) Erase(old);
  auto entry = std::make_unique<Entry>();
  entry->key = key;
  entry->info = std::move(info);
  Entry* e = entry.get();
  entries_.emplace(std::move(key), std::move(entry));
  return e;
}

void SchedulingQueue::Erase(Entry* e) {
  Detach(e);
  entries_.erase(e->key);
}

void SchedulingQueue::Count(absl::string_view queue, absl::string_view event) {
  ++incoming_[{std::string(queue), std::string(event)}];
}

// Upstream moveToActiveQ: the PreEnqueue plugins first; a pod they reject
// is gated and waits among the unschedulable pods (or stays where it is, in
// activeQ or backoffQ).
void SchedulingQueue::MoveToActive(Entry* e, absl::string_view event) {
  if (pre_enqueue_) {
    const framework::Status s = pre_enqueue_(*e->info.pod);
    e->info.gated = !s.ok();
    if (e->info.gated) {
      if (!s.plugin().empty()) e->info.unschedulable_plugins.insert(std::string(s.plugin()));
      if (e->where == SubQueue::kActive || e->where == SubQueue::kBackoff) return;
      Attach(e, SubQueue::kUnschedulable);
      return;
    }
  }
  if (e->info.initial_attempt_timestamp == absl::InfinitePast()) {
    e->info.initial_attempt_timestamp = clock_->Now();
  }
  Attach(e, SubQueue::kActive);
  Count("active", event);
  active_cv_.notify_all();
}

// Upstream requeuePodViaQueueingHint with queueAfterBackoff.
void SchedulingQueue::Requeue(Entry* e, absl::string_view event) {
  if (IsBackingOff(e->info)) {
    Attach(e, SubQueue::kBackoff);
    Count("backoff", event);
    return;
  }
  MoveToActive(e, event);
}

bool SchedulingQueue::IsEventOfInterest(const framework::ClusterEvent& event) const {
  if (event.IsWildCard()) return true;
  for (const auto& [profile, events] : cluster_event_maps_) {
    for (const auto& [registered, plugins] : events) {
      if (registered.Match(event)) return true;
    }
  }
  return false;
}

// Upstream isPodWorthRequeuing with the gate off: every registration's hint
// is Queue, so a rejecting plugin that registered a matching event decides.
SchedulingQueue::Strategy SchedulingQueue::IsPodWorthRequeuing(
    const framework::QueuedPodInfo& info, const framework::ClusterEvent& event) const {
  if (info.unschedulable_plugins.empty() && info.pending_plugins.empty()) {
    return Strategy::kAfterBackoff;
  }
  if (event.IsWildCard()) return Strategy::kAfterBackoff;
  auto profile = cluster_event_maps_.find(info.pod->scheduler_name);
  if (profile == cluster_event_maps_.end()) return Strategy::kAfterBackoff;
  for (const auto& [registered, plugins] : profile->second) {
    if (!registered.Match(event)) continue;
    for (const std::string& plugin : plugins) {
      if (info.unschedulable_plugins.contains(plugin) || info.pending_plugins.contains(plugin)) {
        return Strategy::kAfterBackoff;
      }
    }
  }
  return Strategy::kSkip;
}

// Upstream movePodsToActiveOrBackoffQueue.
void SchedulingQueue::MovePods(const std::vector<Entry*>& entries,
                               const framework::ClusterEvent& event) {
  if (!IsEventOfInterest(event)) return;
  for (Entry* e : entries) {
    if (IsPodWorthRequeuing(e->info, event) == Strategy::kSkip) continue;
    Requeue(e, event.label);
  }
  move_request_cycle_ = scheduling_cycle_;
}

void SchedulingQueue::MoveAll(const framework::ClusterEvent& event,
                              const PreEnqueueCheck& pre_check) {
  if (!IsEventOfInterest(event)) return;
  std::vector<Entry*> entries;
  entries.reserve(unschedulable_.size());
  for (Entry* e : unschedulable_) {
    if (pre_check == nullptr || pre_check(*e->info.pod)) entries.push_back(e);
  }
  // Moves in key order, so the counts and sequence of moves never depend on
  // the hash set's order.
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->key < b->key; });
  MovePods(entries, event);
}

std::vector<SchedulingQueue::Entry*> SchedulingQueue::UnschedulableWithCrossTopologyTerm(
    const model::Pod& pod, const model::Labels* ns_labels) const {
  std::vector<Entry*> out;
  for (Entry* e : unschedulable_) {
    const model::Pod& waiting = *e->info.pod;
    if (e->info.unschedulable_plugins.contains(kPodTopologySpread) && pod.ns == waiting.ns) {
      out.push_back(e);
      continue;
    }
    for (const model::AffinityTerm& term : waiting.required_affinity) {
      if (term.Matches(pod.ns_id, pod.labels, ns_labels)) {
        out.push_back(e);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry* a, const Entry* b) { return a->key < b->key; });
  return out;
}

// ---------------------------------------------------------------------------
// Public operations.

void SchedulingQueue::Add(model::PodPtr pod) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = Insert(NewInfo(std::move(pod)));
  MoveToActive(e, framework::kPodAdd);
}

void SchedulingQueue::Update(const model::PodPtr& old_pod, model::PodPtr new_pod) {
  std::lock_guard<std::mutex> lock(mu_);
  if (old_pod != nullptr) {
    Entry* e = Find(old_pod->Key());
    if (e != nullptr && (e->where == SubQueue::kActive || e->where == SubQueue::kBackoff)) {
      // Re-inserted, as the new version may sort differently.
      const SubQueue where = e->where;
      Detach(e);
      e->info.pod = std::move(new_pod);
      Attach(e, where);
      return;
    }
  }
  if (Entry* e = Find(new_pod->Key()); e != nullptr && e->where == SubQueue::kUnschedulable) {
    const bool updated = IsPodUpdated(old_pod.get(), *new_pod);
    e->info.pod = std::move(new_pod);
    if (!updated) return;  // stays unschedulable
    if (IsBackingOff(e->info)) {
      // Upstream counts no incoming pod for this move.
      Attach(e, SubQueue::kBackoff);
      return;
    }
    // Upstream labels this move BackoffComplete.
    MoveToActive(e, framework::kBackoffComplete);
    return;
  }
  Entry* e = Insert(NewInfo(std::move(new_pod)));
  MoveToActive(e, framework::kPodUpdate);
}

void SchedulingQueue::Delete(const model::Pod& pod) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* e = Find(pod.Key()); e != nullptr) Erase(e);
}

void SchedulingQueue::Activate(absl::Span<const model::PodPtr> pods) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const model::PodPtr& pod : pods) {
    Entry* e = Find(pod->Key());
    if (e == nullptr ||
        (e->where != SubQueue::kUnschedulable && e->where != SubQueue::kBackoff)) {
      continue;
    }
    MoveToActive(e, framework::kForceActivate);
  }
}

bool SchedulingQueue::PopReady() const { return closed_ || !active_.empty(); }

std::optional<framework::QueuedPodInfo> SchedulingQueue::PopLocked() {
  if (active_.empty()) return std::nullopt;
  Entry* e = *active_.begin();
  Detach(e);  // before its info moves out: the set's order reads it
  framework::QueuedPodInfo info = std::move(e->info);
  entries_.erase(e->key);
  ++info.attempts;
  ++scheduling_cycle_;
  // The next attempt starts with no rejections on record.
  info.unschedulable_plugins.clear();
  info.pending_plugins.clear();
  return info;
}

std::optional<framework::QueuedPodInfo> SchedulingQueue::Pop() {
  std::unique_lock<std::mutex> lock(mu_);
  active_cv_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return PopReady(); });
  return PopLocked();
}

std::optional<framework::QueuedPodInfo> SchedulingQueue::TryPop() {
  std::lock_guard<std::mutex> lock(mu_);
  return PopLocked();
}

int64_t SchedulingQueue::SchedulingCycle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scheduling_cycle_;
}

absl::Status SchedulingQueue::AddUnschedulableIfNotPresent(framework::QueuedPodInfo info,
                                                           int64_t pod_scheduling_cycle) {
  if (info.pod == nullptr) return absl::InvalidArgumentError("no pod to add back to the queue");
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = info.pod->Key();
  if (const Entry* e = Find(key); e != nullptr) {
    switch (e->where) {
      case SubQueue::kUnschedulable:
        return absl::AlreadyExistsError(
            absl::StrCat("Pod ", key, " is already present in unschedulable queue"));
      case SubQueue::kActive:
        return absl::AlreadyExistsError(
            absl::StrCat("Pod ", key, " is already present in the active queue"));
      case SubQueue::kBackoff:
      case SubQueue::kNone:
        return absl::AlreadyExistsError(
            absl::StrCat("Pod ", key, " is already present in the backoff queue"));
    }
  }
  info.timestamp = clock_->Now();
  const bool rejected = !info.unschedulable_plugins.empty() || !info.pending_plugins.empty();
  Entry* e = Insert(std::move(info));
  if (move_request_cycle_ >= pod_scheduling_cycle || !rejected) {
    // An event since the cycle began may have made it schedulable, or it
    // failed with an error and no event would ever bring it back.
    Attach(e, SubQueue::kBackoff);
    Count("backoff", framework::kScheduleAttemptFailure);
  } else {
    Attach(e, SubQueue::kUnschedulable);
    Count("unschedulable", framework::kScheduleAttemptFailure);
  }
  return absl::OkStatus();
}

void SchedulingQueue::MoveAllToActiveOrBackoffQueue(const framework::ClusterEvent& event,
                                                    const PreEnqueueCheck& pre_check) {
  std::lock_guard<std::mutex> lock(mu_);
  MoveAll(event, pre_check);
}

void SchedulingQueue::AssignedPodAdded(const model::Pod& pod, const model::Labels* ns_labels) {
  std::lock_guard<std::mutex> lock(mu_);
  MovePods(UnschedulableWithCrossTopologyTerm(pod, ns_labels), framework::kAssignedPodAdd);
}

void SchedulingQueue::AssignedPodUpdated(const model::Pod& new_pod,
                                         const framework::ClusterEvent& event,
                                         const model::Labels* ns_labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (event.resource == framework::EventResource::kPod &&
      (event.action_type & framework::kUpdatePodScaleDown) != 0) {
    // Freed resources may help any pod, not only those with cross-topology
    // terms.
    MoveAll(framework::kAssignedPodUpdate, nullptr);
    return;
  }
  MovePods(UnschedulableWithCrossTopologyTerm(new_pod, ns_labels), event);
}

void SchedulingQueue::FlushBackoffQCompleted() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!backoff_.empty()) {
    Entry* e = *backoff_.begin();
    if (IsBackingOff(e->info)) break;
    MoveToActive(e, framework::kBackoffComplete);
  }
}

void SchedulingQueue::FlushUnschedulablePodsLeftover() {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_->Now();
  std::vector<Entry*> expired;
  for (Entry* e : unschedulable_) {
    if (now - e->info.timestamp > pod_max_in_unschedulable_pods_) expired.push_back(e);
  }
  if (expired.empty()) return;
  std::sort(expired.begin(), expired.end(),
            [](const Entry* a, const Entry* b) { return a->key < b->key; });
  MovePods(expired, framework::kUnschedulableTimeout);
}

void SchedulingQueue::FlushLoop() {
  absl::Time next_leftover_flush = absl::Now() + absl::Seconds(30);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (closed_cv_.wait_for(lock, std::chrono::seconds(1),
                              [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return closed_; })) {
        return;
      }
    }
    FlushBackoffQCompleted();
    if (absl::Now() >= next_leftover_flush) {
      FlushUnschedulablePodsLeftover();
      next_leftover_flush += absl::Seconds(30);
    }
  }
}

void SchedulingQueue::Run() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (flusher_.joinable()) return;
  {
    std::lock_guard<std::mutex> queue_lock(mu_);
    if (closed_) return;
  }
  flusher_ = std::thread([this] { FlushLoop(); });
}

void SchedulingQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    active_cv_.notify_all();
    closed_cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(run_mu_);
  if (flusher_.joinable()) flusher_.join();
}

std::vector<model::PodPtr> SchedulingQueue::PendingPods(std::string* summary) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<model::PodPtr> pods;
  pods.reserve(entries_.size());
  for (const Entry* e : active_) pods.push_back(e->info.pod);
  for (const Entry* e : backoff_) pods.push_back(e->info.pod);
  std::vector<const Entry*> unschedulable(unschedulable_.begin(), unschedulable_.end());
  std::sort(unschedulable.begin(), unschedulable.end(),
            [](const Entry* a, const Entry* b) { return a->key < b->key; });
  for (const Entry* e : unschedulable) pods.push_back(e->info.pod);
  if (summary != nullptr) {
    *summary = absl::StrCat("activeQ:", active_.size(), "; backoffQ:", backoff_.size(),
                            "; unschedulablePods:", unschedulable_.size());
  }
  return pods;
}

QueueStats SchedulingQueue::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats stats;
  stats.active = static_cast<int64_t>(active_.size());
  stats.backoff = static_cast<int64_t>(backoff_.size());
  for (const Entry* e : unschedulable_) {
    ++(e->info.gated ? stats.gated : stats.unschedulable);
  }
  stats.incoming = incoming_;
  return stats;
}

SubQueue SchedulingQueue::Locate(absl::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(key);
  return e == nullptr ? SubQueue::kNone : e->where;
}

std::optional<framework::QueuedPodInfo> SchedulingQueue::Get(absl::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = Find(key);
  if (e == nullptr) return std::nullopt;
  return e->info;
}

}  // namespace kestrel::queue
