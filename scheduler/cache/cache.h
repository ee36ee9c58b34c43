// File: cache.h
//
// Cache holds the scheduler's view of every node and the pods on it, as
// upstream's backend/cache. Pods move through these states:
//
//                +-------------------------------------------+
//                |                  Add                      |
//   Initial --Assume--> Assumed --FinishBinding--> Assumed --Add--> Added
//                          |                                         |
//                        Forget                                    Remove
//                          v                                         v
//                       (gone)                                    (gone)
//
// An assumed pod counts on its node at once, so the next cycle sees its
// requests before the API server (or the simulator) confirms the binding.
// Add of an assumed pod confirms it (on the node the binding actually named).
// Upstream also expires assumed pods whose binding never arrives; Kestrel's
// hosts either confirm or Forget, so no TTL is kept.
//
// A pod bound to a node the cache does not have (the pod was observed
// before its node, or its node was removed while it terminates, or a dump
// lists pods of a node that is gone) is kept aside, as upstream keeps it in
// a NodeInfo without a Node: it counts on no node, is in no snapshot and in
// no affinity index, and is attached when a node with that name is added.
// Removing it leaves nothing behind.
//
// Thread-compatible: the scheduling loop and the event source call it from
// one thread, or hold their own lock.

#ifndef KESTREL_SCHEDULER_CACHE_CACHE_H_
#define KESTREL_SCHEDULER_CACHE_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "model/objects.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/node_info.h"

namespace kestrel::cache {

class Cache {
 public:
  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // CopyFrom()
  //
  // Makes this cache a copy of `base`: every node, pod (assumed or added)
  // and namespace. The copy is copy-on-write: NodeInfos are shared until
  // one side changes them, and the pods `base` held when it was last
  // frozen are shared, with this cache's changes kept beside them. The
  // gRPC what-if service forks a request's private cache from one loaded
  // base this way. `base` is only read, so many threads may copy one base
  // at once while no one changes it. A snapshot this cache updates next is
  // rebuilt in full.
  void CopyFrom(const Cache& base);

  // Freeze()
  //
  // Moves the pods into a shared, immutable table, so that CopyFrom of
  // this cache shares them instead of copying them. Changes afterwards are
  // kept beside the table as before; nothing else changes.
  void Freeze();

  absl::Status AddNode(model::NodePtr node);
  absl::Status UpdateNode(model::NodePtr node);
  absl::Status RemoveNode(absl::string_view name);

  // AddPod()
  //
  // A bound pod (node_name set) was observed. Confirms it if it was assumed.
  absl::Status AddPod(model::PodPtr pod);
  absl::Status UpdatePod(const model::Pod& old_pod, model::PodPtr new_pod);
  absl::Status RemovePod(const model::Pod& pod);

  // AssumePod()
  //
  // `pod` (with node_name set to the chosen node) counts on that node until it
  // is added (confirmed) or forgotten.
  absl::Status AssumePod(model::PodPtr pod);
  absl::Status FinishBinding(const model::Pod& pod);
  absl::Status ForgetPod(const model::Pod& pod);
  bool IsAssumed(const model::Pod& pod) const;

  // Namespaces and their labels, for namespaceSelector in affinity terms.
  void SetNamespace(model::Id ns, model::Labels labels);
  void RemoveNamespace(model::Id ns);
  // The labels of namespace `ns` as SetNamespace gave them, or nullptr.
  const model::Labels* NamespaceLabelsOf(model::Id ns) const {
    auto it = namespaces_.find(ns);
    return it == namespaces_.end() ? nullptr : &it->second;
  }

  // The pod with this namespace/name as the cache holds it, or nullptr.
  model::PodPtr GetPod(absl::string_view key) const;

  // UpdateSnapshot()
  //
  // Brings `snapshot` up to date, copying only the NodeInfos that changed
  // since it was last updated from this cache.
  void UpdateSnapshot(Snapshot* snapshot);

  size_t num_nodes() const { return num_nodes_; }
  // Every pod, on nodes or kept aside.
  size_t num_pods() const { return pods_.size(); }

  // CountPodsOnUnknownNodes()
  //
  // The pods kept aside because the cache has no node of their name.
  // O(nodes); for reports, not for the scheduling loop.
  size_t CountPodsOnUnknownNodes() const;

 private:
  struct PodState {
    model::PodPtr pod;
    bool assumed = false;
    bool binding_finished = false;
  };
  using PodMap = absl::flat_hash_map<std::string, PodState>;

  // Pods by namespace/name: a frozen table shared by copies, and this
  // cache's own entries (added, or changed from the table's) beside it.
  class PodTable {
   public:
    const PodState* Find(absl::string_view key) const;
    // The entry to change in place, copied out of the frozen table first.
    PodState* Mutable(absl::string_view key);
    // `key` must be absent.
    void Insert(std::string key, PodState state);
    void Erase(absl::string_view key);
    size_t size() const;
    void Freeze();

   private:
    std::shared_ptr<const PodMap> frozen_;
    PodMap own_;
    // Keys of frozen_ that own_ overrides or that were erased.
    absl::flat_hash_set<std::string> hidden_;
  };

  // The NodeInfo of `slot` to change: a private copy when a copy of this
  // cache (or the cache this one copied) still shares it.
  framework::NodeInfo& MutableSlot(uint32_t slot);

  // Returns the slot of `node_name`, creating an empty one (pods may arrive
  // before their node) when absent.
  uint32_t SlotFor(absl::string_view node_name);
  void Touch(uint32_t slot);
  absl::Status AddPodToNode(const model::PodPtr& pod);
  absl::Status RemovePodFromNode(const model::PodPtr& pod);
  // Frees a slot that has neither a node nor pods.
  void MaybeFreeSlot(uint32_t slot);

  // Shared with copies (CopyFrom) until changed: see MutableSlot.
  std::vector<std::shared_ptr<framework::NodeInfo>> slots_;
  std::vector<std::string> slot_names_;  // the node name each slot is for
  std::vector<uint32_t> free_slots_;
  absl::flat_hash_map<std::string, uint32_t> slot_by_name_;
  PodTable pods_;
  size_t num_nodes_ = 0;

  uint64_t generation_ = 0;
  // Slots touched since the last UpdateSnapshot, and whether the set of nodes
  // (not only their contents) changed.
  std::vector<uint32_t> changed_;
  std::vector<bool> in_changed_;
  bool node_set_changed_ = false;
  uint64_t epoch_ = 1;

  // Pods added to (+1) and removed from (-1) node slots since the last
  // UpdateSnapshot, in order: the snapshot's AffinityIndex replays them.
  struct PodEvent {
    uint32_t slot;
    model::PodPtr pod;
    int sign;
  };
  std::vector<PodEvent> pod_log_;
  // Set when the log grew past what replaying it is worth (no snapshot was
  // updated for a long time): the next UpdateSnapshot recounts instead.
  bool pod_log_overflowed_ = false;
  void LogPod(uint32_t slot, const model::PodPtr& pod, int sign);
  NamespaceLabels namespaces_;
  bool namespaces_changed_ = false;
};

}  // namespace kestrel::cache

#endif  // KESTREL_SCHEDULER_CACHE_CACHE_H_
