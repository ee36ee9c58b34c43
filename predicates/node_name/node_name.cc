#include "predicates/node_name/node_name.h"

namespace kestrel::predicates {

framework::Status NodeName::Filter(const framework::CycleState& /*state*/,
                                   const model::Pod& pod,
                                   const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return framework::Status::Error("node not found");
  if (!Fits(pod, *node.node())) return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReason>();
  return framework::Status();
}

}  // namespace kestrel::predicates
