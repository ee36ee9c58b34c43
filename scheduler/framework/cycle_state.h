// File: cycle_state.h
//
// CycleState carries data between the extension points of one scheduling
// cycle: a plugin's PreFilter writes what its Filter (run on many threads at
// once) only reads. Keys are plugin-chosen strings; values are owned here.
//
// Example:
//   struct PreFilterState : StateData { ... Clone() ... };
//   state.Write("PreFilterNodeResourcesFit", std::make_unique<PreFilterState>(...));
//   const auto* s = state.Read<PreFilterState>("PreFilterNodeResourcesFit");
//
// Clone() copies every entry, so preemption can try "what if" on a copy;
// the copy can read the snapshot's index but not register in it.

#ifndef KESTREL_SCHEDULER_FRAMEWORK_CYCLE_STATE_H_
#define KESTREL_SCHEDULER_FRAMEWORK_CYCLE_STATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kestrel::cache {
class AffinityIndex;  // scheduler/cache/affinity_index.h
class Snapshot;       // scheduler/cache/snapshot.h
}  // namespace kestrel::cache

namespace kestrel::framework {

class Parallelizer;  // parallel.h

class StateData {
 public:
  virtual ~StateData() = default;
  virtual std::unique_ptr<StateData> Clone() const = 0;
};

class CycleState {
 public:
  CycleState() = default;
  CycleState(CycleState&&) = default;
  CycleState& operator=(CycleState&&) = default;

  // Write()
  //
  // Stores `data` under `key`, replacing what was there. Not thread-safe:
  // call from PreFilter/PreScore, which run on the scheduling thread.
  void Write(absl::string_view key, std::unique_ptr<StateData> data);

  // Read()
  //
  // Returns the entry under `key` as T, or nullptr when absent. Safe from many
  // threads while nobody writes.
  template <typename T>
  T* Read(absl::string_view key) const {
    for (const auto& [k, v] : entries_) {
      if (k == key) return static_cast<T*>(v.get());
    }
    return nullptr;
  }

  CycleState Clone() const;

  // Plugins that returned Skip at PreFilter / PreScore, as bits over the
  // profile's filter / score plugin lists: the framework does not run their
  // Filter / Score for this pod.
  uint64_t skip_filter_mask = 0;
  uint64_t skip_score_mask = 0;

  // PreFilterResult (upstream): a PreFilter plugin that knows the only nodes
  // the pod can go to sets `pre_filter_nodes` to their names; unset means
  // every node. RunPreFilterPlugins resets it before each plugin and leaves
  // in it the intersection of what the plugins set (sorted, unique), with
  // the names of those plugins (views of their Name()), sorted, in
  // `pre_filter_plugins`. The
  // scheduler then filters and scores only those nodes; the others count as
  // rejected by the PreFilter ("node(s) didn't satisfy plugin(s) [...]").
  std::optional<std::vector<std::string>> pre_filter_nodes;
  std::vector<absl::string_view> pre_filter_plugins;

  // The snapshot this cycle works on, set by the scheduler before PreFilter:
  // plugins that count existing pods (InterPodAffinity, PodTopologySpread)
  // read its AffinityIndex. Const: Filter, Score and the PreFilter
  // extensions (AddPod, RemovePod) run on many threads at once, so they
  // only read what PreFilter and PreScore registered.
  const cache::Snapshot* snapshot = nullptr;

  // mutable_index()
  //
  // The snapshot's AffinityIndex, writable, for PreFilter and PreScore to
  // register what the pod needs (AffinityIndex::GetTopology, Select,
  // DomainCounts): they run on the scheduling thread. Filter and Score get a
  // const CycleState, so they cannot reach it, and Clone() leaves it null,
  // so neither can the PreFilter extensions, which run on clones
  // (preemption's dry runs, the nominated pods of a node). Null when the
  // scheduler did not set it.
  cache::AffinityIndex* mutable_index() { return mutable_index_; }
  void set_mutable_index(cache::AffinityIndex* index) { mutable_index_ = index; }

  // The snapshot rows of the feasible nodes, in the order PreScore, Score
  // and NormalizeScore see them (NodeScore i is row feasible_rows[i]); set
  // by the scheduler before PreScore. Empty when unknown (explain, tests):
  // plugins then find rows through Snapshot::RowOf.
  absl::Span<const uint32_t> feasible_rows;

  // The scheduler's worker pool, for PostFilter plugins that fan out
  // (preemption's dry runs); null: run sequentially. Not for Filter or
  // Score, which already run on it.
  Parallelizer* parallelizer = nullptr;

 private:
  // A handful of plugins write state: a vector beats a hash map.
  std::vector<std::pair<std::string, std::unique_ptr<StateData>>> entries_;
  cache::AffinityIndex* mutable_index_ = nullptr;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_CYCLE_STATE_H_
