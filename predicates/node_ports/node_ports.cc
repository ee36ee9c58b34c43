#include "predicates/node_ports/node_ports.h"

namespace kestrel::predicates {

bool NodePorts::Fits(const model::Pod& pod, const framework::NodeInfo& node) {
  if (node.used_ports().empty()) return true;
  for (const model::HostPort& port : pod.host_ports) {
    if (node.PortInUse(port)) return false;
  }
  return true;
}

framework::Status NodePorts::PreFilter(framework::CycleState& /*state*/, const model::Pod& pod,
                                       framework::NodeInfoList /*nodes*/) {
  return pod.host_ports.empty() ? framework::Status::Skip() : framework::Status();
}

framework::Status NodePorts::Filter(const framework::CycleState& /*state*/, const model::Pod& pod,
                                    const framework::NodeInfo& node) const {
  return Fits(pod, node) ? framework::Status() : framework::SharedStatus<framework::Code::kUnschedulable, kErrReason>();
}

void NodePorts::FilterRows(const framework::CycleState& /*state*/, const model::Pod& pod,
                           const framework::NodeTable& table, size_t begin, size_t end,
                           uint8_t* passed) const {
  for (size_t r = begin; r < end; ++r) {
    if (passed[r]) passed[r] = Fits(pod, *table.infos[r]);
  }
}

}  // namespace kestrel::predicates
