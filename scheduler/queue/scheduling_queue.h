// File: scheduling_queue.h
//
// SchedulingQueue holds the pods waiting to be scheduled: upstream's
// PriorityQueue (pkg/scheduler/internal/queue/scheduling_queue.go, release
// 1.31) with the SchedulerQueueingHints feature gate off. Three parts:
//
//   activeQ            the pods to try next, ordered by the profile's
//                      QueueSort plugin; Pop() takes the head.
//   backoffQ           pods that failed and wait out their backoff: 1 s
//                      doubling per attempt up to 10 s (podInitialBackoff /
//                      podMaxBackoff), ordered by expiry.
//                      FlushBackoffQCompleted() moves the expired ones to
//                      activeQ (upstream runs it every second).
//   unschedulablePods  pods whose last cycle failed. A cluster event moves
//                      one out (to backoffQ while it still backs off, else to
//                      activeQ) only when a plugin that rejected it registered
//                      that event (EnqueueExtensions::EventsToRegister; with
//                      the gate off any registered event moves it, there are
//                      no QueueingHint functions). A pod rejected by no plugin
//                      (an error) goes to backoffQ at once.
//                      FlushUnschedulablePodsLeftover() moves pods that sat
//                      there longer than 5 minutes (upstream: every 30 s).
//
// A pod is in at most one part, once: entries are keyed by namespace/name, as
// upstream's (the informer's key, the one a deletion of an unknown final state
// carries, and the Nominator's), so a pod deleted and recreated under the same
// name between two updates replaces the old entry.
//
// A cycle's failure races with events: a move request that arrives while a
// pod is being scheduled sends it to backoffQ instead of unschedulablePods
// when it comes back (moveRequestCycle >= the pod's cycle).
//
// What the host does, as upstream's scheduler and event handlers do:
//   - feeds informer events in: Add / Update / Delete for unassigned pods of
//     its profiles; AssignedPodAdded / AssignedPodUpdated for bound pods, and
//     MoveAllToActiveOrBackoffQueue(kAssignedPodDelete) when one goes;
//     MoveAllToActiveOrBackoffQueue(kNodeAdd / the node update events /
//     ...) for nodes;
//   - after a failed cycle, fills the QueuedPodInfo's unschedulable_plugins
//     from the statuses' plugins and calls AddUnschedulableIfNotPresent with
//     the pod's latest version, unless the informer no longer has the pod or
//     it is bound (upstream handleSchedulingFailure);
//   - keeps the Nominator (framework/nominator.h): the queue does not touch
//     it, because the Nominator is read without a lock by parallel filters
//     while the queue is changed from informer threads. Upstream's queue adds
//     the pod's status.nominatedNodeName on Add, Update (of a queued pod) and
//     AddUnschedulableIfNotPresent, and deletes it on Delete; the host does
//     the same on its scheduling thread.
//   - runs Run() (or calls the two Flush methods on its own clock).
//
// PreEnqueue plugins (Options::pre_enqueue; SchedulingGates) run as in
// upstream's moveToActiveQ: a pod they reject is gated and waits among the
// unschedulable pods; only its own update (or the leftover flush, which
// asks again) moves it. Not here: QueueingHints and in-flight event tracking (gate off: upstream's Done()
// does nothing then); Activate from plugins' PodsToActivate is offered but no
// Kestrel plugin uses it.
//
// Thread-safe.
//
// Example:
//   SchedulingQueue::Options options;
//   options.cluster_event_maps[fw->scheduler_name()] = fw->cluster_event_map();
//   SchedulingQueue queue(fw->queue_sort(), options);
//   queue.Run();
//   queue.Add(pod);
//   while (std::optional<framework::QueuedPodInfo> info = queue.Pop()) {
//     int64_t cycle = queue.SchedulingCycle();
//     ... schedule info->pod; on failure:
//     info->unschedulable_plugins = {"NodeResourcesFit"};
//     queue.AddUnschedulableIfNotPresent(*std::move(info), cycle).IgnoreError();
//   }

#ifndef KESTREL_SCHEDULER_QUEUE_SCHEDULING_QUEUE_H_
#define KESTREL_SCHEDULER_QUEUE_SCHEDULING_QUEUE_H_

#include <cstdint>
#include <functional>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/labels.h"
#include "model/objects.h"
#include "scheduler/framework/events.h"
#include "scheduler/framework/interface.h"
#include "scheduler/queue/clock.h"

namespace kestrel::queue {

// Upstream's defaults (DefaultPodInitialBackoffDuration,
// DefaultPodMaxBackoffDuration, DefaultPodMaxInUnschedulablePodsDuration).
inline constexpr absl::Duration kDefaultPodInitialBackoff = absl::Seconds(1);
inline constexpr absl::Duration kDefaultPodMaxBackoff = absl::Seconds(10);
inline constexpr absl::Duration kDefaultPodMaxInUnschedulablePods = absl::Minutes(5);

// Which part of the queue a pod is in.
enum class SubQueue { kNone, kActive, kBackoff, kUnschedulable };

// The counters the host exports as metrics.
struct QueueStats {
  // scheduler_pending_pods{queue="active"|"backoff"|"unschedulable"|"gated"}.
  int64_t active = 0;
  int64_t backoff = 0;
  int64_t unschedulable = 0;
  int64_t gated = 0;
  // scheduler_queue_incoming_pods_total{queue, event}: (queue, event) ->
  // count, queue "active", "backoff" or "unschedulable", event a label of
  // events.h ("PodAdd", "ScheduleAttemptFailure", "BackoffComplete",
  // "NodeAdd", "UnschedulableTimeout", ...).
  std::map<std::pair<std::string, std::string>, int64_t> incoming;
};

// IsPodUpdated()
//
// Whether `new_pod` differs from `old_pod` in a way that may make it
// schedulable (upstream isPodUpdated: anything but resourceVersion,
// generation, managedFields, finalizers and status). On the compiled pod that
// is every field but those read from the status (nominated_node_name,
// start_time). A null `old_pod` counts as updated.
bool IsPodUpdated(const model::Pod* old_pod, const model::Pod& new_pod);

// Decides, for a MoveAllToActiveOrBackoffQueue, whether an unschedulable pod
// is considered at all (upstream PreEnqueueCheck, e.g. a node admission check
// on node add). Called under the queue's lock: must not call the queue.
using PreEnqueueCheck = std::function<bool(const model::Pod&)>;

class SchedulingQueue {
 public:
  struct Options {
    // RealClock() when null. Not owned.
    Clock* clock = nullptr;
    absl::Duration pod_initial_backoff = kDefaultPodInitialBackoff;
    absl::Duration pod_max_backoff = kDefaultPodMaxBackoff;
    absl::Duration pod_max_in_unschedulable_pods = kDefaultPodMaxInUnschedulablePods;
    // Per profile (scheduler name): the events its plugins registered
    // (Framework::cluster_event_map()). A pod of a profile missing here is
    // moved by every event some profile is interested in.
    std::map<std::string, framework::ClusterEventMap> cluster_event_maps;
    // The pod's profile's PreEnqueue plugins (Framework::
    // RunPreEnqueuePlugins), run before the pod enters the active queue;
    // null: nothing gates a pod. Called with the queue's lock held.
    std::function<framework::Status(const model::Pod&)> pre_enqueue;
  };

  // `sort` orders activeQ (upstream requires one QueueSort for all
  // profiles); not owned, must outlive the queue.
  SchedulingQueue(const framework::QueueSortPlugin* sort, Options options);
  // Closes the queue and stops Run()'s thread.
  ~SchedulingQueue();

  SchedulingQueue(const SchedulingQueue&) = delete;
  SchedulingQueue& operator=(const SchedulingQueue&) = delete;

  // Add()
  //
  // A new pending pod goes to activeQ (event PodAdd). Were it already queued
  // anywhere, that entry is replaced.
  void Add(model::PodPtr pod) ABSL_LOCKS_EXCLUDED(mu_);

  // Update()
  //
  // A pending pod changed; `old_pod` may be null (unknown). In activeQ or
  // backoffQ it is replaced in place. In unschedulablePods it is replaced, and
  // moved out (to backoffQ while backing off, else activeQ) when
  // IsPodUpdated(old, new). In no part (being scheduled, or new to the
  // queue) it is added to activeQ (event PodUpdate).
  void Update(const model::PodPtr& old_pod, model::PodPtr new_pod) ABSL_LOCKS_EXCLUDED(mu_);

  // Delete()
  //
  // Removes `pod` (by namespace/name) from whichever part holds it.
  void Delete(const model::Pod& pod) ABSL_LOCKS_EXCLUDED(mu_);

  // Activate()
  //
  // Moves those of `pods` that are in unschedulablePods or backoffQ to
  // activeQ at once (event ForceActivate); others are left alone.
  void Activate(absl::Span<const model::PodPtr> pods) ABSL_LOCKS_EXCLUDED(mu_);

  // Pop()
  //
  // Blocks until activeQ has a pod, then removes its head and returns it with
  // `attempts` incremented and its unschedulable and pending plugins cleared;
  // the queue's scheduling cycle is incremented. Returns nullopt once the
  // queue is closed and activeQ is empty.
  std::optional<framework::QueuedPodInfo> Pop() ABSL_LOCKS_EXCLUDED(mu_);
  // TryPop()
  //
  // Pop without waiting: nullopt when activeQ is empty.
  std::optional<framework::QueuedPodInfo> TryPop() ABSL_LOCKS_EXCLUDED(mu_);

  // SchedulingCycle()
  //
  // How many pods were popped: read it right after Pop() for the popped
  // pod's cycle.
  int64_t SchedulingCycle() const ABSL_LOCKS_EXCLUDED(mu_);

  // AddUnschedulableIfNotPresent()
  //
  // Takes back a pod whose cycle `pod_scheduling_cycle` failed, with the
  // plugins that rejected it in `info.unschedulable_plugins` /
  // `pending_plugins`. Its timestamp is refreshed. It goes to backoffQ when
  // no plugin rejected it (an error) or a move request came since its cycle
  // began; else to unschedulablePods. An AlreadyExists error when the pod is
  // queued already (upstream's "Pod ns/name is already present in ...").
  absl::Status AddUnschedulableIfNotPresent(framework::QueuedPodInfo info,
                                            int64_t pod_scheduling_cycle)
      ABSL_LOCKS_EXCLUDED(mu_);

  // MoveAllToActiveOrBackoffQueue()
  //
  // `event` happened: every unschedulable pod that passes `pre_check` (all,
  // when null) and that a plugin which rejected it registered `event` for is
  // moved to backoffQ (still backing off) or activeQ. When some profile is
  // interested in `event`, it is a move request: pods now being scheduled go
  // to backoffQ if they fail.
  void MoveAllToActiveOrBackoffQueue(const framework::ClusterEvent& event,
                                     const PreEnqueueCheck& pre_check = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // AssignedPodAdded() / AssignedPodUpdated()
  //
  // A bound pod appeared or changed. Only unschedulable pods it may help are
  // considered (upstream getUnschedulablePodsWithCrossTopologyTerm): those
  // rejected by PodTopologySpread in its namespace, and those with a required
  // pod affinity term it matches; of these, the ones whose rejecting plugins
  // registered the event move (kAssignedPodAdd, or the update's `event`,
  // e.g. kPodLabelChange). An update that scales requests down
  // (kUpdatePodScaleDown) considers every unschedulable pod, with event
  // kAssignedPodUpdate. `ns_labels` are the labels of the bound pod's
  // Namespace; null when it is unknown.
  void AssignedPodAdded(const model::Pod& pod, const model::Labels* ns_labels)
      ABSL_LOCKS_EXCLUDED(mu_);
  void AssignedPodUpdated(const model::Pod& new_pod, const framework::ClusterEvent& event,
                          const model::Labels* ns_labels) ABSL_LOCKS_EXCLUDED(mu_);

  // FlushBackoffQCompleted()
  //
  // Moves every pod whose backoff has expired to activeQ (BackoffComplete).
  void FlushBackoffQCompleted() ABSL_LOCKS_EXCLUDED(mu_);

  // FlushUnschedulablePodsLeftover()
  //
  // Moves pods that stayed in unschedulablePods longer than
  // pod_max_in_unschedulable_pods (event UnschedulableTimeout).
  void FlushUnschedulablePodsLeftover() ABSL_LOCKS_EXCLUDED(mu_);

  // Run()
  //
  // Starts a thread that calls FlushBackoffQCompleted every second and
  // FlushUnschedulablePodsLeftover every 30 seconds of wall time (upstream's
  // two goroutines), until Close(). At most once.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Close()
  //
  // Wakes every Pop() (they return nullopt once activeQ is empty) and stops
  // Run()'s thread.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // PendingPods()
  //
  // Every queued pod: activeQ in pop order, backoffQ by expiry, then
  // unschedulablePods by key; `summary` (if not null) gets upstream's
  // "activeQ:N; backoffQ:N; unschedulablePods:N".
  std::vector<model::PodPtr> PendingPods(std::string* summary = nullptr) const
      ABSL_LOCKS_EXCLUDED(mu_);

  QueueStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Where the pod with key `key` (namespace/name) is, and a copy of its
  // entry (nullopt when not queued).
  SubQueue Locate(absl::string_view key) const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<framework::QueuedPodInfo> Get(absl::string_view key) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The backoff after `attempts` failed attempts: initial, doubled per
  // further attempt, at most the maximum (upstream calculateBackoffDuration).
  absl::Duration BackoffDuration(int attempts) const;

 private:
  struct Entry {
    std::string key;
    framework::QueuedPodInfo info;
    SubQueue where = SubQueue::kNone;
  };
  struct ActiveLess {
    const framework::QueueSortPlugin* sort;
    bool operator()(const Entry* a, const Entry* b) const;
  };
  struct BackoffLess {
    const SchedulingQueue* queue;
    bool operator()(const Entry* a, const Entry* b) const;
  };
  // How an event's pod goes back (upstream queueingStrategy, without
  // queueImmediately, which only hints give).
  enum class Strategy { kSkip, kAfterBackoff };

  absl::Time BackoffExpiry(const framework::QueuedPodInfo& info) const;
  bool IsBackingOff(const framework::QueuedPodInfo& info) const;
  framework::QueuedPodInfo NewInfo(model::PodPtr pod) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entry* Find(absl::string_view key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes `e` out of its part, leaving it in entries_ with where == kNone.
  void Detach(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Attach(Entry* e, SubQueue where) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Entry* Insert(framework::QueuedPodInfo info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(Entry* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Count(absl::string_view queue, absl::string_view event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MoveToActive(Entry* e, absl::string_view event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Requeue(Entry* e, absl::string_view event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsEventOfInterest(const framework::ClusterEvent& event) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Strategy IsPodWorthRequeuing(const framework::QueuedPodInfo& info,
                               const framework::ClusterEvent& event) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MovePods(const std::vector<Entry*>& entries, const framework::ClusterEvent& event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MoveAll(const framework::ClusterEvent& event, const PreEnqueueCheck& pre_check)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<Entry*> UnschedulableWithCrossTopologyTerm(const model::Pod& pod,
                                                         const model::Labels* ns_labels) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<framework::QueuedPodInfo> PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool PopReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushLoop() ABSL_LOCKS_EXCLUDED(mu_);

  const framework::QueueSortPlugin* const sort_;
  Clock* const clock_;
  const absl::Duration pod_initial_backoff_;
  const absl::Duration pod_max_backoff_;
  const absl::Duration pod_max_in_unschedulable_pods_;
  const std::map<std::string, framework::ClusterEventMap> cluster_event_maps_;
  const std::function<framework::Status(const model::Pod&)> pre_enqueue_;

  // A std::mutex, not an absl::Mutex: Debian's Abseil is not built for
  // ThreadSanitizer, which then cannot see an absl::Mutex order threads
  // (see .bazelrc).
  mutable std::mutex mu_;
  std::condition_variable active_cv_;  // activeQ gained a pod, or closed
  std::condition_variable closed_cv_;  // closed (wakes Run()'s thread)
  // Every queued pod by key; the parts below point into it.
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  std::set<Entry*, ActiveLess> active_ ABSL_GUARDED_BY(mu_);
  std::set<Entry*, BackoffLess> backoff_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Entry*> unschedulable_ ABSL_GUARDED_BY(mu_);
  int64_t scheduling_cycle_ ABSL_GUARDED_BY(mu_) = 0;
  // The cycle when the last move request came; -1: none yet.
  int64_t move_request_cycle_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::pair<std::string, std::string>, int64_t> incoming_ ABSL_GUARDED_BY(mu_);

  std::mutex run_mu_;  // serializes Run() and Close()'s join
  std::thread flusher_ ABSL_GUARDED_BY(run_mu_);
};

}  // namespace kestrel::queue

#endif  // KESTREL_SCHEDULER_QUEUE_SCHEDULING_QUEUE_H_
