// File: node_to_status.h
//
// NodeToStatus is what a cycle that found no node knows of the nodes, as
// upstream's framework.NodeToStatus: the status of each node it evaluated,
// and one status for the nodes it did not (absent: left out by a
// PreFilterResult, or every node when PreFilter rejected the pod). The
// FitError message, PostFilter (preemption) and the queue read it.
//
// The evaluated statuses come in two forms. Listed: a node and its status
// each, for a few nodes (a PreFilterResult narrowed the pod to them) or for
// tests. Rows: a view of the scheduler's verdicts of every node-table row,
// kept for the pod's template between cycles, with StatusCounts beside them
// that say how many rows hold each distinct status. The counts let a pod
// that fits nowhere get its message, and learn that preemption cannot help,
// without a pass over every node: the scheduler updates them only for the
// rows that changed since the last pod of the template.
//
// Example:
//   NodeToStatus m;
//   m.Add(node_a, Status::Unschedulable("Insufficient cpu"));
//   m.SetAbsent(3, excluded);
//   m.Count(Code::kUnschedulable);          // 1 (absent nodes not counted)
//   m.ForEachCount([](const Status& s, size_t nodes) { ... });

#ifndef KESTREL_SCHEDULER_FRAMEWORK_NODE_TO_STATUS_H_
#define KESTREL_SCHEDULER_FRAMEWORK_NODE_TO_STATUS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/status.h"

namespace kestrel::framework {

// One evaluated node and the status it was rejected with.
struct NodeStatus {
  const NodeInfo* node;
  Status status;
};

// StatusCounts counts statuses by identity: copies of one status (the same
// code, plugin and shared reasons: Status::IsCopyOf) are one entry,
// so counting thousands of nodes rejected alike takes a few entries. Equal
// statuses made apart are separate entries; a histogram merges them by
// text.
class StatusCounts {
 public:
  void Clear();
  void Add(const Status& s, size_t copies = 1) { Change(s, static_cast<int64_t>(copies)); }
  // `s` must have been added (a copy of it).
  void Remove(const Status& s) { Change(s, -1); }

  // How many statuses counted have `code`.
  size_t Count(Code code) const { return by_code_[static_cast<size_t>(code)]; }
  size_t total() const { return total_; }

  // f(const Status& status, size_t count) for every distinct status held.
  template <typename F>
  void ForEach(F&& f) const {
    for (const auto& [key, entry] : entries_) f(entry.status, entry.count);
  }

 private:
  void Change(const Status& s, int64_t delta);

  using Key = std::tuple<const void*, const char*, size_t, Code>;
  struct Entry {
    Status status;  // one of the copies, for its code, plugin and reasons
    size_t count = 0;
  };
  absl::flat_hash_map<Key, Entry> entries_;
  std::array<size_t, 8> by_code_{};
  size_t total_ = 0;
};

class NodeToStatus {
 public:
  // A node evaluated and rejected, with its status.
  void Add(const NodeInfo* node, Status status) {
    listed_.push_back({node, std::move(status)});
  }

  // SetRows()
  //
  // Every row r of `nodes` is evaluated and rejected with `statuses[r]`;
  // `counts` counts those statuses. Visited from row `start` on, wrapping
  // around (the order the cycle evaluated them in). Nothing is copied: the
  // views must outlive this object's use (the scheduler's verdicts live
  // until its next cycle).
  void SetRows(NodeInfoList nodes, absl::Span<const Status> statuses, size_t start,
               const StatusCounts* counts) {
    rows_nodes_ = nodes;
    rows_ = statuses;
    rows_start_ = nodes.empty() ? 0 : start % nodes.size();
    rows_counts_ = counts;
  }

  // The nodes not evaluated: how many, and the status they all count with.
  void SetAbsent(size_t nodes, Status status) {
    absent_nodes_ = nodes;
    absent_status_ = std::move(status);
  }
  size_t absent_nodes() const { return absent_nodes_; }
  const Status& absent_status() const { return absent_status_; }

  // Evaluated nodes (listed and rows; absent ones not included).
  size_t num_evaluated() const { return listed_.size() + rows_.size(); }

  // f(const NodeInfo* node, const Status& status) for every evaluated node:
  // listed ones first, in order, then rows from their start.
  template <typename F>
  void ForEach(F&& f) const {
    for (const NodeStatus& ns : listed_) f(ns.node, ns.status);
    const size_t n = rows_.size();
    for (size_t i = 0, r = rows_start_; i < n; ++i, r = r + 1 == n ? 0 : r + 1) {
      f(rows_nodes_[r], rows_[r]);
    }
  }

  // f(const Status& status, size_t nodes) for each distinct status of the
  // nodes, absent ones included (runs of copies among listed ones, entries
  // of the rows' counts, the absent status); a status may come more than
  // once. Costs what the distinct statuses do, not what the nodes do, for
  // rows.
  template <typename F>
  void ForEachCount(F&& f) const {
    for (size_t i = 0; i < listed_.size();) {
      const Status& s = listed_[i].status;
      size_t j = i + 1;
      while (j < listed_.size() && listed_[j].status.IsCopyOf(s)) ++j;
      f(s, j - i);
      i = j;
    }
    if (rows_counts_ != nullptr) rows_counts_->ForEach(f);
    if (absent_nodes_ > 0) f(absent_status_, absent_nodes_);
  }

  // How many evaluated nodes have `code`.
  size_t Count(Code code) const;

  // The status of evaluated node `node`, or nullptr when it was not
  // evaluated. `row`, when not negative, is the node's row in the nodes
  // SetRows viewed (the snapshot's RowOf), which makes the lookup O(1)
  // there; listed nodes are searched in order.
  const Status* Find(const NodeInfo* node, int32_t row = -1) const;

 private:
  std::vector<NodeStatus> listed_;
  NodeInfoList rows_nodes_;
  absl::Span<const Status> rows_;
  size_t rows_start_ = 0;
  const StatusCounts* rows_counts_ = nullptr;
  size_t absent_nodes_ = 0;
  Status absent_status_;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_NODE_TO_STATUS_H_
