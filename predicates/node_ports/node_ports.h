// File: node_ports.h
//
// NodePorts (upstream plugins/nodeports): a pod fits a node when none of the
// host ports it asks for is already held there, that is, no pod on the node
// holds the same protocol and port on the same host IP, or on any IP when
// either side binds 0.0.0.0 (NodeInfo::PortInUse). A conflict is
// Unschedulable: preempting the holder frees the port.
//
// PreFilter returns Skip for a pod without host ports. The ports a pod asks
// for do not depend on other pods, so there are no AddPod/RemovePod
// extensions; the node's held ports come from the NodeInfo, which preemption
// edits.
//
// Example:
//   NodePorts plugin;
//   framework::Status s = plugin.Filter(state, pod, node_info);

#ifndef KESTREL_PREDICATES_NODE_PORTS_NODE_PORTS_H_
#define KESTREL_PREDICATES_NODE_PORTS_NODE_PORTS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

class NodePorts : public framework::PreFilterPlugin,
                  public framework::FilterPlugin,
                  public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "NodePorts";
  static constexpr char kErrReason[] = "node(s) didn't have free ports for the requested pod ports";

  NodePorts() = default;

  absl::string_view Name() const override { return kName; }

  // Upstream's nodeports EventsToRegister (1.31) with the SchedulerQueueingHints
  // gate off, where Node/UpdateNodeTaint and UpdateNodeLabel also stand for
  // node adds that a preCheck filtered out.
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kPod,
       framework::kDelete},
      {framework::EventResource::kNode,
       framework::kAdd | framework::kUpdateNodeTaint | framework::kUpdateNodeLabel},
    };
  }

  // Skip when the pod asks for no host port.
  framework::Status PreFilter(framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes) override;
  // The compiled pod carries its host ports: Filter needs no state.
  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  // Rows: a node whose pods hold no host port always passes; the others are
  // checked through their NodeInfo.
  bool FiltersRows(const framework::CycleState&, const model::Pod&) const override { return true; }
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.host_ports, key);
    return true;
  }

  // Upstream fitsPorts: true when no port of `pod` is in use on `node`.
  static bool Fits(const model::Pod& pod, const framework::NodeInfo& node);
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_PORTS_NODE_PORTS_H_
