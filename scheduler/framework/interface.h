// File: interface.h
//
// The extension points of a scheduling cycle, one small interface each, as in
// upstream's framework/interface.go. A plugin implements only the points it
// needs; the framework finds them with dynamic_cast once, when a profile is
// built, never per pod.
//
//   QueueSort   orders the scheduling queue
//   PreFilter   per pod, before filtering; may precompute CycleState
//   Filter      per (pod, node): can the pod run there?  (runs in parallel)
//   PostFilter  when no node fits (preemption)
//   PreScore    per pod, over the feasible nodes
//   Score       per (pod, feasible node), then NormalizeScore over all
//   Reserve     the pod is assumed on the chosen node (Unreserve undoes)
//   Permit      approve, deny or wait before binding
//   Bind        write the binding

#ifndef KESTREL_SCHEDULER_FRAMEWORK_INTERFACE_H_
#define KESTREL_SCHEDULER_FRAMEWORK_INTERFACE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "model/interner.h"
#include "model/objects.h"
#include "scheduler/framework/cycle_state.h"
#include "scheduler/framework/events.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/node_table.h"
#include "scheduler/framework/node_to_status.h"
#include "scheduler/framework/status.h"

namespace kestrel::model {
struct PodDisruptionBudget;  // model/pdb.h
}  // namespace kestrel::model

namespace kestrel::framework {

// Scores are in [kMinNodeScore, kMaxNodeScore] after normalization.
inline constexpr int64_t kMinNodeScore = 0;
inline constexpr int64_t kMaxNodeScore = 100;
// Upstream MaxTotalScore is math.MaxInt64; weights are capped at 100.
inline constexpr int64_t kMaxWeight = 100;

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual absl::string_view Name() const = 0;
};

// What the queue knows about a pod waiting to be scheduled.
struct QueuedPodInfo {
  model::PodPtr pod;
  absl::Time timestamp;   // when it entered the queue, or last failed
  int64_t sequence = 0;   // arrival order, for deterministic ties
  int attempts = 0;
  // The plugins that rejected the pod in its last cycle (Unschedulable or
  // UnschedulableAndUnresolvable, at PreFilter, Filter, Reserve or Permit),
  // and those that asked it to wait (Pending). The host fills them before
  // handing a failed pod back (SchedulingQueue::AddUnschedulableIfNotPresent);
  // Pop clears them. Empty: the cycle failed with an error.
  absl::flat_hash_set<std::string> unschedulable_plugins;
  absl::flat_hash_set<std::string> pending_plugins;
  // When the pod was first added to the active queue (for the
  // pod_scheduling_sli_duration metric); unset until then.
  absl::Time initial_attempt_timestamp = absl::InfinitePast();
  // A PreEnqueue check (scheduling gates) keeps it out of the active queue.
  bool gated = false;
};

class QueueSortPlugin : public virtual Plugin {
 public:
  // True when `a` should be scheduled before `b`.
  virtual bool Less(const QueuedPodInfo& a, const QueuedPodInfo& b) const = 0;
};

// EnqueueExtensions: the cluster events that may make a pod this plugin
// rejected schedulable again (upstream framework.EnqueueExtensions, without
// QueueingHint functions: Kestrel's queue runs as upstream's with the
// SchedulerQueueingHints gate off, where any registered event moves the pod).
// A plugin that does not implement it is treated as registering every event
// (upstream's defaultEnqueueExtension); one that returns no events is never
// moved by an event, only by its own update or the unschedulable timeout.
class EnqueueExtensions : public virtual Plugin {
 public:
  virtual std::vector<ClusterEvent> EventsToRegister() const = 0;
};

class PreEnqueuePlugin : public virtual Plugin {
 public:
  // Runs before a pod enters the active queue: when it is added, updated
  // and every time it would move back. A pod it rejects waits, gated,
  // among the unschedulable pods until an update lets it through (upstream
  // PreEnqueuePlugin; SchedulingGates is the in-tree one).
  virtual Status PreEnqueue(const model::Pod& pod) const = 0;
};

class PreFilterPlugin : public virtual Plugin {
 public:
  // Returns Skip when this plugin's Filter has nothing to check for `pod`.
  virtual Status PreFilter(CycleState& state, const model::Pod& pod,
                           NodeInfoList nodes) = 0;

  // PreFilterExtensions: keep the state written by PreFilter current when
  // preemption adds or removes pods on a node under evaluation. Plugins whose
  // state depends on other pods override both, and HasExtensions to say so
  // (upstream: PreFilterExtensions() returns non-nil); the framework calls
  // neither of a plugin that does not.
  virtual bool HasExtensions() const { return false; }
  virtual Status AddPod(CycleState& state, const model::Pod& pod_to_schedule,
                        const model::PodPtr& pod_to_add, const NodeInfo& node) const {
    return Status();
  }
  virtual Status RemovePod(CycleState& state, const model::Pod& pod_to_schedule,
                           const model::Pod& pod_to_remove, const NodeInfo& node) const {
    return Status();
  }
};

class FilterPlugin : public virtual Plugin {
 public:
  // Called concurrently for different nodes; must only read `state`.
  virtual Status Filter(const CycleState& state, const model::Pod& pod,
                        const NodeInfo& node) const = 0;

  // The fast path over the snapshot's NodeTable. A plugin whose verdict for
  // `pod` depends only on the table's columns returns true from FiltersRows;
  // FilterRows then clears passed[row] for every row in [begin, end) that
  // Filter would reject. The framework asks Filter for the reasons of
  // rejected nodes, so the two must agree exactly.
  virtual bool FiltersRows(const CycleState& state, const model::Pod& pod) const {
    return false;
  }
  virtual void FilterRows(const CycleState& state, const model::Pod& pod,
                          const NodeTable& table, size_t begin, size_t end,
                          uint8_t* passed) const {}

  // Row-local filters: returns true when this plugin's verdict on a node,
  // for `pod` in this cycle, depends only on that node's NodeInfo (so on
  // its row's generation), on the plugin's own arguments and on the pod's
  // fields it appends to `key` (model/template_key.h). The scheduler then
  // keeps the verdicts of one cycle for the next pod with the same key and
  // filters again only the rows whose nodes changed. The default, false,
  // is for verdicts that read other nodes or pods (affinity, spreading).
  // (Named apart from ScorePlugin's: the score halves of plugins derive
  // from their filter halves, and one override must not answer for both.)
  virtual bool FilterRowLocalKey(const CycleState& state, const model::Pod& pod,
                           std::string* key) const {
    return false;
  }
};

// What a PostFilter result does to the pod's nomination (upstream's
// NominatingMode): kNoop keeps it, kOverride replaces it with
// nominated_node_name, which may be empty to clear it.
enum class NominatingMode { kNoop, kOverride };

struct PostFilterResult {
  NominatingMode mode = NominatingMode::kNoop;
  std::string nominated_node_name;  // with kOverride; empty: none
  // The pods deleted to make room on the nominated node (Kestrel reports
  // them; upstream only logs them).
  std::vector<model::PodPtr> victims;
};

class PostFilterPlugin : public virtual Plugin {
 public:
  virtual Status PostFilter(CycleState& state, const model::Pod& pod,
                            const NodeToStatus& filtered, PostFilterResult* result) = 0;
};

class PreScorePlugin : public virtual Plugin {
 public:
  // `feasible` are the nodes that passed every filter. Returns Skip when this
  // plugin's Score has nothing to add for `pod`.
  virtual Status PreScore(CycleState& state, const model::Pod& pod,
                          NodeInfoList feasible) = 0;
};

struct NodeScore {
  const NodeInfo* node;
  int64_t score;
};

class ScorePlugin : public virtual Plugin {
 public:
  // Called concurrently for different nodes; must only read `state`.
  virtual absl::StatusOr<int64_t> Score(const CycleState& state, const model::Pod& pod,
                                        const NodeInfo& node) const = 0;

  // The fast path over the snapshot's NodeTable, as FilterRows: when
  // ScoresRows is true for `pod`, ScoreRows writes out[i] = Score of the node
  // at rows[i], exactly.
  virtual bool ScoresRows(const CycleState& state, const model::Pod& pod) const {
    return false;
  }
  virtual void ScoreRows(const CycleState& state, const model::Pod& pod,
                         const NodeTable& table, absl::Span<const uint32_t> rows,
                         int64_t* out) const {}

  // When every feasible node gets the same final (normalized) score for
  // `pod`, returns true with it in *score: the framework then adds it to
  // every node without calling Score, ScoreRows or NormalizeScore. It must
  // agree exactly with what those would give.
  virtual bool UniformScore(const CycleState& state, const model::Pod& pod,
                            int64_t* score) const {
    return false;
  }

  // As FilterPlugin::FilterRowLocalKey, for the raw score: true when a
  // node's raw score depends only on that node and on what this appends to
  // `key`. A plugin that normalizes couples every node's final score to the
  // others' raw ones: it may be row-local only if it normalizes by the
  // highest raw score alone (NormalizesByMax).
  virtual bool ScoreRowLocalKey(const CycleState& state, const model::Pod& pod,
                           std::string* key) const {
    return false;
  }

  // ScoreExtensions: plugins whose raw scores are not already in [0, 100]
  // return true and map them there in NormalizeScore.
  virtual bool NormalizesScores() const { return false; }
  virtual Status NormalizeScore(const CycleState& state, const model::Pod& pod,
                                absl::Span<NodeScore> scores) const {
    return Status();
  }
  // True when NormalizeScore is upstream's helper.DefaultNormalizeScore
  // (kMaxNodeScore, *reverse) and nothing else: each raw score scaled by
  // the highest of the cycle, reversed with *reverse (see
  // DefaultNormalizedScore). The scheduler then keeps raw scores between
  // cycles and normalizes a node's alone.
  virtual bool NormalizesByMax(bool* reverse) const { return false; }
};

// DefaultNormalizedScore()
//
// Upstream's helper.DefaultNormalizeScore(kMaxNodeScore, reverse) for one
// raw score, given the highest raw score of the cycle, `max` (at least 0):
// kMaxNodeScore * raw / max (integer division), or kMaxNodeScore minus
// that with `reverse`. When `max` is 0 the score stays as it is, or
// becomes kMaxNodeScore with `reverse`.
inline int64_t DefaultNormalizedScore(int64_t raw, int64_t max, bool reverse) {
  if (max == 0) return reverse ? kMaxNodeScore : raw;
  const int64_t score = kMaxNodeScore * raw / max;
  return reverse ? kMaxNodeScore - score : score;
}

// DefaultNormalizeScore()
//
// The same over a cycle's scores: `max` is the highest of them, or 0.
inline void DefaultNormalizeScore(bool reverse, absl::Span<NodeScore> scores) {
  int64_t max = 0;
  for (const NodeScore& s : scores) max = s.score > max ? s.score : max;
  for (NodeScore& s : scores) s.score = DefaultNormalizedScore(s.score, max, reverse);
}

class ReservePlugin : public virtual Plugin {
 public:
  virtual Status Reserve(CycleState& state, const model::Pod& pod,
                         const std::string& node_name) = 0;
  virtual void Unreserve(CycleState& state, const model::Pod& pod,
                         const std::string& node_name) = 0;
};

class PermitPlugin : public virtual Plugin {
 public:
  // Success, Unschedulable (reject) or Wait with `*timeout` set.
  virtual Status Permit(CycleState& state, const model::Pod& pod,
                        const std::string& node_name, absl::Duration* timeout) = 0;
};

class BindPlugin : public virtual Plugin {
 public:
  // Returns Skip to let the next bind plugin bind.
  virtual Status Bind(CycleState& state, const model::Pod& pod,
                      const std::string& node_name) = 0;
};

// Binder is the host's way to write a binding: the API server's Binding
// subresource, or the simulator's virtual bind.
class Binder {
 public:
  virtual ~Binder() = default;
  virtual absl::Status Bind(const model::Pod& pod, const std::string& node_name) = 0;
};

// PodDeleter is the host's way to delete a pod preemption chose as a victim:
// a DELETE against the API server, or the simulator's virtual termination.
class PodDeleter {
 public:
  virtual ~PodDeleter() = default;
  virtual absl::Status DeletePod(const model::Pod& victim, const model::Pod& preemptor) = 0;
};

// PdbLister lists the PodDisruptionBudgets as the host last saw them.
class PdbLister {
 public:
  virtual ~PdbLister() = default;
  virtual std::vector<std::shared_ptr<const model::PodDisruptionBudget>> ListPdbs() const = 0;
};

class Framework;  // framework.h
class Nominator;  // nominator.h

// Handle is what plugins may use from the host that builds them.
struct Handle {
  Binder* binder = nullptr;
  // Plugin factories intern the names in their args (resource names, label
  // keys). Plugins must not intern while pods are being scheduled.
  model::Interner* interner = nullptr;
  // Preemption: where victims are deleted, the budgets that guard them,
  // and the pods waiting for room. Any may be null: no preemption then
  // (deleter), no budgets (pdbs), no nominated pods (nominator).
  PodDeleter* deleter = nullptr;
  const PdbLister* pdbs = nullptr;
  Nominator* nominator = nullptr;
  // Seeds plugins' random choices (preemption's candidate offset).
  uint64_t seed = 1;
  // The profile being built: Framework::Create sets it before it calls the
  // plugin factories, as upstream hands plugins the framework handle.
  const Framework* framework = nullptr;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_INTERFACE_H_
