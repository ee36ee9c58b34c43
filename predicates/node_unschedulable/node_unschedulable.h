// File: node_unschedulable.h
//
// NodeUnschedulable (upstream plugins/nodeunschedulable): a cordoned node
// (spec.unschedulable) takes only pods that tolerate the taint
// node.kubernetes.io/unschedulable:NoSchedule.
//
// Example:
//   NodeUnschedulable plugin(names.Intern(NodeUnschedulable::kTaintKey));

#ifndef KESTREL_PREDICATES_NODE_UNSCHEDULABLE_NODE_UNSCHEDULABLE_H_
#define KESTREL_PREDICATES_NODE_UNSCHEDULABLE_NODE_UNSCHEDULABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/interner.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

class NodeUnschedulable : public framework::FilterPlugin, public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "NodeUnschedulable";
  static constexpr char kTaintKey[] = "node.kubernetes.io/unschedulable";
  static constexpr char kErrReasonUnschedulable[] = "node(s) were unschedulable";
  static constexpr char kErrReasonNodeNotFound[] = "node not found";

  // `unschedulable_taint_key` is the interned id of kTaintKey.
  explicit NodeUnschedulable(model::Id unschedulable_taint_key);

  absl::string_view Name() const override { return kName; }

  // Upstream's nodeunschedulable EventsToRegister (1.31) with the SchedulerQueueingHints
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
  bool FiltersRows(const framework::CycleState&, const model::Pod&) const override {
    return true;
  }
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.tolerations, key);
    return true;
  }

 private:
  bool ToleratesUnschedulable(const model::Pod& pod) const;

  // node.kubernetes.io/unschedulable:NoSchedule, what a pod must tolerate.
  model::Taint taint_;
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_UNSCHEDULABLE_NODE_UNSCHEDULABLE_H_
