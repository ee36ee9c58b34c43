// File: rescheduler.h
//
// The critical-addon rescheduler (Kubernetes 1.4, "guaranteed scheduling of
// critical add-on pods"), done the way its TODOs asked for. Every
// housekeeping interval it:
//
//   1. finds the critical pods (model::IsCritical) the scheduler could not
//      place and did not nominate anywhere;
//   2. for each, asks the Planner for the node that costs least to clear:
//      preemption's dry run and ranking, with victims restricted to pods
//      that are not critical, not mirror (static) pods and not owned by a
//      DaemonSet, and only among nodes where no PodDisruptionBudget would be
//      broken (1.4 took the first node that fitted and ignored budgets);
//   3. taints that node `CriticalAddonsOnly=<namespace>_<name>:NoSchedule`,
//      so nothing else lands there, and evicts the victims through the
//      Eviction API; a refused eviction (HTTP 429: a budget allows no
//      disruption now) is tried again on the next pass;
//   4. waits until the critical pod is bound, or `pod_scheduled_timeout`
//      passes, then removes the taint.
//
// Start() adopts the CriticalAddonsOnly taints an earlier run left that
// still serve their pod: the pod named by the taint's value is pending and
// critical, and the taint's timeAdded (which AddTaint stamps) is less than
// `pod_scheduled_timeout` ago. Those are processed on as if this run had
// put them there, until the pod is bound or the timeout passes; a restart
// never leaves such a node open to other pods. Every other
// CriticalAddonsOnly taint is stale and released (the key is the
// rescheduler's own), and each pass releases those whose pod is no longer
// being processed, as 1.4 did. (1.4 released them all at start; a taint
// without timeAdded, from a rescheduler that did not stamp it, counts from
// the start of this run.)
//
// One eviction, one event: a pod this run evicted is never evicted or
// announced again, nor counted as a victim while the view still shows it
// running; and the DeletedByRescheduler event carries a key (the pod's
// uid) that the host records at most once, so a retried POST or a
// restarted rescheduler does not announce it twice. Critical add-ons
// tolerate the taint (`CriticalAddonsOnly`, `Exists`); a critical pod that
// does not is told so, and no node is cleared for it.
//
// The rescheduler knows the cluster only through ClusterClient (the
// simulator implements it offline, in virtual time; the API-server host
// with the Eviction API) and the Planner (scheduler-side, rescheduler/planner.h).
//
// Example:
//   Rescheduler r(&client, &planner, Options{});
//   RETURN_IF_ERROR(r.Start());
//   while (true) { r.RunOnce(); Sleep(options.housekeeping_interval); }

#ifndef KESTREL_RESCHEDULER_RESCHEDULER_H_
#define KESTREL_RESCHEDULER_RESCHEDULER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "model/objects.h"

namespace kestrel::rescheduler {

inline constexpr char kTaintKey[] = "CriticalAddonsOnly";
// Event reasons, as the 1.4 rescheduler wrote them (the typo included).
inline constexpr char kReasonDeleted[] = "DeletedByRescheduler";
inline constexpr char kReasonNoNode[] = "PodDoestFitAnyNode";
// Kestrel's: the pod was not bound in time after its node was cleared.
inline constexpr char kReasonTimeout[] = "PodScheduledTimeout";

// The 1.4 rescheduler's flags, with its defaults.
struct Options {
  absl::Duration housekeeping_interval = absl::Seconds(10);
  std::string system_namespace = "kube-system";
  absl::Duration initial_delay = absl::Minutes(2);
  absl::Duration pod_scheduled_timeout = absl::Minutes(10);
};

struct Event {
  std::string object;  // "Pod default/web-1"
  std::string type;    // "Normal" or "Warning"
  std::string reason;
  std::string message;
  // Set for events about something that happens once (an eviction: the
  // pod's uid): a host records at most one event per key and reason, even
  // when the same event is recorded again by a later run.
  std::string once_key;
};

// PodId()
//
// How the 1.4 rescheduler named a pod: "<namespace>_<name>"; the value of
// the taint it puts on the node it clears.
std::string PodId(const model::Pod& pod);

// PodKeyOfTaintValue()
//
// The "namespace/name" a taint value written by PodId() names; "" when
// `value` is not one (namespaces, DNS labels, hold no '_').
std::string PodKeyOfTaintValue(const std::string& value);

// Evictable()
//
// Whether the rescheduler may evict `pod` for a critical pod: not critical
// itself (in `system_namespace`'s sense), not a mirror pod, not owned by a
// DaemonSet (1.4 groupPods).
bool Evictable(const model::Pod& pod, const std::string& system_namespace);

enum class PodPhase { kPending, kBound, kGone };

class ClusterClient {
 public:
  virtual ~ClusterClient() = default;
  virtual absl::Time Now() = 0;
  // Pending pods the scheduler found no node for (PodScheduled=False,
  // reason Unschedulable) and did not nominate to one.
  virtual std::vector<model::PodPtr> UnschedulablePods() = 0;
  virtual PodPhase PhaseOf(const std::string& pod_key) = 0;
  // The pod `pod_key` while it is pending (not bound, not gone), else null.
  virtual model::PodPtr PendingPod(const std::string& pod_key) = 0;
  virtual std::vector<model::NodePtr> ListNodes() = 0;
  // Add / remove the taint CriticalAddonsOnly=`value`:NoSchedule. AddTaint
  // stamps the taint's timeAdded with Now().
  virtual absl::Status AddTaint(const std::string& node, const std::string& value) = 0;
  virtual absl::Status RemoveTaint(const std::string& node, const std::string& value) = 0;
  // The Eviction API: OK; ResourceExhausted when a PodDisruptionBudget
  // refuses it now (HTTP 429); NotFound when the pod is gone already.
  virtual absl::Status Evict(const model::Pod& pod) = 0;
  virtual void Record(const Event& event) = 0;
};

// What the Planner found for one critical pod.
struct Finding {
  enum class Kind {
    kFits,    // it fits somewhere as things are: the scheduler will place it
    kClear,   // clear `node` of `victims`
    kNoNode,  // no node can be cleared; `why` says why
  };
  Kind kind = Kind::kNoNode;
  std::string node;
  std::vector<model::PodPtr> victims;
  std::string why;
};

class Planner {
 public:
  virtual ~Planner() = default;
  // Find()
  //
  // Where `pod` fits once `eligible` pods are evicted, on a node tainted
  // CriticalAddonsOnly=`taint_value`:NoSchedule, leaving out `skip_nodes`
  // (nodes being cleared for other pods). An error is the scheduler's.
  virtual absl::StatusOr<Finding> Find(const model::Pod& pod, const std::string& taint_value,
                                       const std::function<bool(const model::Pod&)>& eligible,
                                       const absl::flat_hash_set<std::string>& skip_nodes) = 0;
};

class Rescheduler {
 public:
  Rescheduler(ClusterClient* client, Planner* planner, Options options)
      : client_(client), planner_(planner), options_(std::move(options)) {}

  // Start()
  //
  // Adopts the CriticalAddonsOnly taints that still serve a pending
  // critical pod (see the file comment) and releases the others.
  absl::Status Start();

  // RunOnce()
  //
  // One housekeeping pass. Returns whether it changed the cluster (a taint
  // added or removed, a pod evicted). Errors of the client or planner are
  // recorded as Warning events on the pod concerned, and the pass goes on.
  bool RunOnce();

  // Whether some critical pod's node is cleared and the pod not yet bound.
  bool busy() const { return !in_flight_.empty(); }

  // The pods evicted so far for critical pod `pod_key`, namespace/name.
  std::vector<std::string> EvictedFor(const std::string& pod_key) const;

  const Options& options() const { return options_; }

 private:
  struct InFlight {
    model::PodPtr pod;
    std::string node;
    std::string taint_value;
    absl::Time deadline;
    std::vector<model::PodPtr> pending_evictions;  // refused (429) so far
  };

  // Tries the pending evictions of `f`; returns whether any succeeded.
  bool EvictPending(InFlight& f);
  // Takes over the taints an earlier run left that still serve their pod.
  void AdoptTaints();
  // Removes CriticalAddonsOnly taints that no pod in flight holds.
  bool ReleaseTaints();
  // Whether this run evicted `pod` (this very pod: same key and uid).
  bool EvictedByUs(const model::Pod& pod) const;
  // Forgets evicted pods that are gone from the cluster.
  void ForgetGoneEvictions();
  void Warn(const model::Pod& pod, const std::string& reason, const std::string& message);

  ClusterClient* client_;
  Planner* planner_;
  Options options_;
  // By critical pod key, in the order they started.
  std::vector<InFlight> in_flight_;
  absl::flat_hash_map<std::string, std::vector<std::string>> evicted_;
  // Every pod this run evicted and that is not gone yet: key -> uid.
  absl::flat_hash_map<std::string, std::string> evicted_uids_;
};

}  // namespace kestrel::rescheduler

#endif  // KESTREL_RESCHEDULER_RESCHEDULER_H_
