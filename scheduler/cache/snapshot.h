// File: snapshot.h
//
// Snapshot is the read-only view of the cluster that one scheduling cycle
// works on: a copy of the cache's NodeInfos taken at the start of the cycle.
// Cache::UpdateSnapshot copies only the NodeInfos that changed since the
// snapshot was last updated (generation numbers), so keeping a snapshot
// current costs O(changes), not O(nodes).

#ifndef KESTREL_SCHEDULER_CACHE_SNAPSHOT_H_
#define KESTREL_SCHEDULER_CACHE_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/node_table.h"

namespace kestrel::cache {

class Snapshot {
 public:
  Snapshot() = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Every node, in the order nodes were added to the cache.
  framework::NodeInfoList nodes() const { return node_list_; }
  size_t num_nodes() const { return node_list_.size(); }

  // The hot numbers of nodes()[i] in row i.
  const framework::NodeTable& table() const { return table_; }

  // The row of `info` in nodes() and table(), or -1 when `info` is not one
  // of this snapshot's NodeInfos (a copy made for preemption, say).
  int32_t RowOf(const framework::NodeInfo* info) const {
    const auto p = reinterpret_cast<uintptr_t>(info);
    const auto first = reinterpret_cast<uintptr_t>(slots_.data());
    if (slots_.empty() || p < first || p >= first + slots_.size() * sizeof(framework::NodeInfo)) {
      return -1;
    }
    return row_of_slot_[(p - first) / sizeof(framework::NodeInfo)];
  }

  // The NodeInfo of `node_name`, or nullptr.
  const framework::NodeInfo* Get(absl::string_view node_name) const;

  uint64_t generation() const { return generation_; }

  // How many times Cache::UpdateSnapshot has updated this snapshot.
  uint64_t updates() const { return updates_; }

  // RowsChangedSince()
  //
  // Appends to `rows` every row of table() that the updates after update
  // `since` (an updates() value) rewrote, possibly more than once. Returns
  // false when that is not known: the rows were renumbered or the whole
  // table rebuilt after `since`, or the log was trimmed. A caller that keeps
  // per-row results between cycles recomputes these rows only, or every
  // row on false.
  bool RowsChangedSince(uint64_t since, std::vector<uint32_t>* rows) const;

  // Counts of existing pods per topology domain for affinity and spreading,
  // over the rows of nodes(); kept current by Cache::UpdateSnapshot.
  // Plugins register what they need from PreFilter/PreScore.
  AffinityIndex& index() { return index_; }
  const AffinityIndex& index() const { return index_; }

  // What the nodes' status.images say about one image name (upstream
  // ImageStateSummary): the size first reported, and how many nodes list it.
  struct ImageInfo {
    int64_t size_bytes = 0;
    int64_t num_nodes = 0;
  };
  ImageInfo Image(absl::string_view name) const {
    auto it = images_.find(name);
    return it == images_.end() ? ImageInfo() : it->second;
  }

  // Namespace labels by namespace id (namespaceSelector).
  const NamespaceLabels& namespaces() const { return namespaces_; }

 private:
  friend class Cache;

  // Slot i mirrors the cache's node slot i. NodeInfos sit side by side so a
  // cycle's sweep over all nodes reads memory in order; `live_[i]` is false
  // for free slots.
  std::vector<framework::NodeInfo> slots_;
  std::vector<bool> live_;
  std::vector<const framework::NodeInfo*> node_list_;
  framework::NodeTable table_;
  std::vector<int32_t> row_of_slot_;  // -1: not listed
  absl::flat_hash_map<std::string, const framework::NodeInfo*> by_name_;
  NamespaceLabels namespaces_;
  AffinityIndex index_;
  void AddImages(const model::Node& node);
  void RemoveImages(const model::Node& node);
  absl::flat_hash_map<std::string, ImageInfo> images_;
  uint64_t generation_ = 0;
  // Rows rewritten, by update, oldest first; complete for the updates after
  // row_log_floor_.
  struct RowChange {
    uint64_t update;
    uint32_t row;
  };
  std::vector<RowChange> row_log_;
  uint64_t row_log_floor_ = 0;
  uint64_t updates_ = 0;
  // Starts a new log: nothing is known of the updates up to this one.
  void ResetRowLog() {
    row_log_.clear();
    row_log_floor_ = updates_;
  }
  // The cache this snapshot was last updated from, and its change-log epoch.
  const void* source_ = nullptr;
  uint64_t epoch_ = 0;
};

}  // namespace kestrel::cache

#endif  // KESTREL_SCHEDULER_CACHE_SNAPSHOT_H_
