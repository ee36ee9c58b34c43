#include "scheduler/framework/node_table.h"

namespace kestrel::framework {

void NodeTable::Resize(size_t rows) {
  for (std::vector<int64_t>* column :
       {&alloc_milli_cpu, &alloc_memory, &alloc_ephemeral, &alloc_pods, &req_milli_cpu,
        &req_memory, &req_ephemeral, &nz_milli_cpu, &nz_memory, &num_pods}) {
    column->resize(rows);
  }
  unschedulable.resize(rows);
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
}

}  // namespace kestrel::framework
