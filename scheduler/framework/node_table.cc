#include "scheduler/framework/node_table.h"

#include <algorithm>
#include <atomic>

namespace kestrel::framework {

const NodeTable::ScalarColumn* NodeTable::FindScalar(model::Id id) const {
  for (const ScalarColumn& c : scalars) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

bool NodeTable::HasScalarColumns(const NodeInfo& info) const {
  for (const auto& [id, v] : info.allocatable().scalar) {
    if (FindScalar(id) == nullptr) return false;
  }
  for (const auto& [id, v] : info.requested().scalar) {
    if (FindScalar(id) == nullptr) return false;
  }
  return true;
}

void NodeTable::Build(absl::Span<const NodeInfo* const> nodes) {
  const size_t rows = nodes.size();
  for (std::vector<int64_t>* column :
       {&alloc_milli_cpu, &alloc_memory, &alloc_ephemeral, &alloc_pods, &req_milli_cpu,
        &req_memory, &req_ephemeral, &nz_milli_cpu, &nz_memory, &num_pods}) {
    column->resize(rows);
  }
  unschedulable.resize(rows);
  hard_taints.resize(rows);
  soft_taints.assign(rows, 0);
  num_soft_taint_rows = 0;
  generation.resize(rows);
  infos.resize(rows);
  // Every table built anywhere gets its own epoch.
  static std::atomic<uint64_t> next_epoch{1};
  epoch = next_epoch.fetch_add(1, std::memory_order_relaxed);
  std::vector<model::Id> ids;
  for (const NodeInfo* info : nodes) {
    for (const auto& [id, v] : info->allocatable().scalar) ids.push_back(id);
    for (const auto& [id, v] : info->requested().scalar) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  scalars.clear();
  for (model::Id id : ids) {
    scalars.push_back({id, std::vector<int64_t>(rows), std::vector<int64_t>(rows)});
  }
  for (size_t r = 0; r < rows; ++r) Set(r, *nodes[r]);
}

void NodeTable::Set(size_t row, const NodeInfo& info) {
  const model::Resources& alloc = info.allocatable();
  const model::Resources& req = info.requested();
  alloc_milli_cpu[row] = alloc.milli_cpu;
  alloc_memory[row] = alloc.memory;
  alloc_ephemeral[row] = alloc.ephemeral_storage;
  alloc_pods[row] = alloc.allowed_pods;
  req_milli_cpu[row] = req.milli_cpu;
  req_memory[row] = req.memory;
  req_ephemeral[row] = req.ephemeral_storage;
  nz_milli_cpu[row] = info.non_zero_milli_cpu();
  nz_memory[row] = info.non_zero_memory();
  num_pods[row] = static_cast<int64_t>(info.pods().size());
  unschedulable[row] = info.unschedulable();
  uint8_t hard = 0, soft = 0;
  if (info.node() != nullptr) {
    for (const model::Taint& t : info.node()->taints) {
      hard |= t.effect == model::TaintEffect::kNoSchedule ||
              t.effect == model::TaintEffect::kNoExecute;
      soft |= t.effect == model::TaintEffect::kPreferNoSchedule;
    }
  }
  hard_taints[row] = hard;
  num_soft_taint_rows += soft;
  num_soft_taint_rows -= soft_taints[row];
  soft_taints[row] = soft;
  generation[row] = info.generation();
  infos[row] = &info;
  for (ScalarColumn& c : scalars) {
    c.alloc[row] = alloc.Scalar(c.id);
    c.req[row] = req.Scalar(c.id);
  }
}

}  // namespace kestrel::framework
