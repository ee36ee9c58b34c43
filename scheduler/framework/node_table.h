// File: node_table.h
//
// NodeTable holds the hot per-node numbers of a snapshot as columns (struct
// of arrays), one row per node in the snapshot's node order. Filters and
// scores that only need these numbers run as tight loops over the columns
// (FilterPlugin::FilterRows, ScorePlugin::ScoreRows) instead of one virtual
// call per node; the per-node Filter/Score remain the reference semantics,
// and the rows versions must agree with them exactly.
//
// The snapshot keeps the table current incrementally: a changed NodeInfo
// rewrites its one row.

#ifndef KESTREL_SCHEDULER_FRAMEWORK_NODE_TABLE_H_
#define KESTREL_SCHEDULER_FRAMEWORK_NODE_TABLE_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "scheduler/framework/node_info.h"

namespace kestrel::framework {

struct NodeTable {
  // A scalar (extended) resource, such as nvidia.com/gpu, as two columns.
  struct ScalarColumn {
    model::Id id;
    std::vector<int64_t> alloc;
    std::vector<int64_t> req;
  };

  // Allocatable.
  std::vector<int64_t> alloc_milli_cpu, alloc_memory, alloc_ephemeral, alloc_pods;
  // Sum of the pods' requests.
  std::vector<int64_t> req_milli_cpu, req_memory, req_ephemeral;
  // The same with upstream's non-zero defaults (scoring).
  std::vector<int64_t> nz_milli_cpu, nz_memory;
  std::vector<int64_t> num_pods;
  std::vector<uint8_t> unschedulable;
  // 1 when the node has a NoSchedule or NoExecute taint: only such rows need
  // a toleration check.
  std::vector<uint8_t> hard_taints;
  // 1 when the node has a PreferNoSchedule taint; how many rows do.
  std::vector<uint8_t> soft_taints;
  size_t num_soft_taint_rows = 0;
  // The NodeInfo generation each row was copied at. With `epoch`, which
  // changes on every Build(), (epoch, generation[r]) names the contents of
  // row r: a score computed from them stays valid while both are equal.
  std::vector<uint64_t> generation;
  uint64_t epoch = 0;
  // The NodeInfo of each row, for row plugins that look further into the
  // few rows a column cannot decide.
  std::vector<const NodeInfo*> infos;
  // One per scalar resource that some node has or some pod on a node uses.
  std::vector<ScalarColumn> scalars;

  size_t size() const { return num_pods.size(); }
  // The columns of scalar resource `id`, or nullptr: no node has any of it.
  const ScalarColumn* FindScalar(model::Id id) const;
  // True when every scalar resource of `info` has its columns.
  bool HasScalarColumns(const NodeInfo& info) const;

  // Rebuilds the whole table from `nodes` (row r is nodes[r]).
  void Build(absl::Span<const NodeInfo* const> nodes);
  // Copies `info`'s numbers into `row`; HasScalarColumns(info) must hold.
  void Set(size_t row, const NodeInfo& info);
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_NODE_TABLE_H_
