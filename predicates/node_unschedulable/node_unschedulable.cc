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
  if (node.node() == nullptr) return framework::Status::Unresolvable(kErrReasonNodeNotFound);
  if (!node.unschedulable()) return framework::Status();
  // A pod that tolerates the unschedulable taint also tolerates spec.unschedulable.
  for (const model::Toleration& t : pod.tolerations) {
    if (t.Tolerates(taint_)) return framework::Status();
  }
  return framework::Status::Unresolvable(kErrReasonUnschedulable);
}

}  // namespace kestrel::predicates
