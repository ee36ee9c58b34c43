// File: node_name.h
//
// NodeName (upstream plugins/nodename): a pod that names a node in
// spec.nodeName fits that node only.

#ifndef KESTREL_PREDICATES_NODE_NAME_NODE_NAME_H_
#define KESTREL_PREDICATES_NODE_NAME_NODE_NAME_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

class NodeName : public framework::FilterPlugin, public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "NodeName";
  static constexpr char kErrReason[] = "node(s) didn't match the requested node name";

  NodeName() = default;

  absl::string_view Name() const override { return kName; }

  // Upstream's nodename EventsToRegister (1.31) with the SchedulerQueueingHints
  // gate off, where Node/UpdateNodeTaint and UpdateNodeLabel also stand for
  // node adds that a preCheck filtered out.
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kNode,
       framework::kAdd | framework::kUpdateNodeTaint | framework::kUpdateNodeLabel},
    };
  }

  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  // A pod that names no node fits every row: nothing to clear.
  bool FiltersRows(const framework::CycleState&, const model::Pod& pod) const override {
    return pod.node_name.empty();
  }
  void FilterRows(const framework::CycleState&, const model::Pod&, const framework::NodeTable&,
                  size_t, size_t, uint8_t*) const override {}
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.node_name, key);
    return true;
  }

  // True when `pod` names no node or names `node`.
  static bool Fits(const model::Pod& pod, const model::Node& node) {
    return pod.node_name.empty() || pod.node_name == node.name;
  }
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_NAME_NODE_NAME_H_
