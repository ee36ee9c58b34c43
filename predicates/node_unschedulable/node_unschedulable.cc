#include "predicates/node_unschedulable/node_unschedulable.h"

namespace kestrel::predicates {

NodeUnschedulable::NodeUnschedulable(model::Id unschedulable_taint_key) {
  taint_.key = kTaintKey;
  taint_.key_id = unschedulable_taint_key;
  taint_.effect = model::TaintEffect::kNoSchedule;
}

framework::Status NodeUnschedulable::Filter(const framework::CycleState& /*state*/,
                                            const model::Pod& pod,
                                            const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonNodeNotFound>();
  if (!node.unschedulable() || ToleratesUnschedulable(pod)) return framework::Status();
  return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonUnschedulable>();
}

void NodeUnschedulable::FilterRows(const framework::CycleState& /*state*/,
                                   const model::Pod& pod, const framework::NodeTable& table,
                                   size_t begin, size_t end, uint8_t* passed) const {
  if (ToleratesUnschedulable(pod)) return;
  for (size_t r = begin; r < end; ++r) passed[r] &= table.unschedulable[r] ^ 1;
}

// A pod that tolerates the unschedulable taint also tolerates spec.unschedulable.
bool NodeUnschedulable::ToleratesUnschedulable(const model::Pod& pod) const {
  for (const model::Toleration& t : pod.tolerations) {
    if (t.Tolerates(taint_)) return true;
  }
  return false;
}

}  // namespace kestrel::predicates
