// File: taint_toleration.h
//
// The filter half of TaintToleration (upstream plugins/tainttoleration): a
// pod fits a node when it tolerates every NoSchedule and NoExecute taint of
// the node. The first taint it does not tolerate, in the node's order,
// rejects the node as UnschedulableAndUnresolvable (preemption cannot remove
// a taint). PreferNoSchedule taints only lower the score; see
// priorities/taint_toleration, the registered plugin, which derives from
// this class.
//
// Example:
//   TaintTolerationFilter filter;
//   framework::Status s = filter.Filter(state, pod, node_info);

#ifndef KESTREL_PREDICATES_TAINT_TOLERATION_TAINT_TOLERATION_H_
#define KESTREL_PREDICATES_TAINT_TOLERATION_TAINT_TOLERATION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

// FindUntoleratedTaint()
//
// Upstream v1helper.FindMatchingUntoleratedTaint with the filter
// DoNotScheduleTaintsFilterFunc: the first NoSchedule or NoExecute taint in
// `taints` that no toleration in `tolerations` tolerates, or nullptr.
const model::Taint* FindUntoleratedTaint(const std::vector<model::Taint>& taints,
                                         const std::vector<model::Toleration>& tolerations);

class TaintTolerationFilter : public framework::FilterPlugin,
                              public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "TaintToleration";
  // The reason names the first untolerated taint, as upstream 1.25 to 1.34
  // and the Kestrel issue specify: "node(s) had untolerated taint {key:
  // value}" (1.35 dropped the taint from the message).
  static std::string ErrReason(const model::Taint& taint);

  TaintTolerationFilter() = default;

  absl::string_view Name() const override { return kName; }

  // Upstream's tainttoleration EventsToRegister (1.31) with the SchedulerQueueingHints
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
  // Rows: a node without NoSchedule/NoExecute taints (the hard_taints
  // column) always passes; the others are checked through their NodeInfo.
  bool FiltersRows(const framework::CycleState&, const model::Pod&) const override { return true; }
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.tolerations, key);
    return true;
  }
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_TAINT_TOLERATION_TAINT_TOLERATION_H_
