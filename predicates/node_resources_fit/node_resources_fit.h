// File: node_resources_fit.h
//
// The filter half of NodeResourcesFit (upstream plugins/noderesources/fit.go):
// a pod fits a node when the node has room for one more pod and, for every
// resource the pod requests, allocatable - requested >= the pod's request.
// Every shortfall is a reason ("Too many pods", "Insufficient cpu", ...), all
// in one Status. When the pod asks for more of a resource than the node has
// in total, preemption cannot help: the status is UnschedulableAndUnresolvable.
//
// Extended resources named in ignoredResources, or whose name prefix (before
// the '/') is in ignoredResourceGroups, are not checked.
//
// The scoring half and the registered plugin are in
// priorities/node_resources_fit, which derives from this class.

#ifndef KESTREL_PREDICATES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_
#define KESTREL_PREDICATES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

// Which names are extended resources is a model fact (model/resources.h).
using model::IsExtendedResourceName;

class NodeResourcesFitFilter : public framework::PreFilterPlugin,
                               public framework::FilterPlugin,
                               public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "NodeResourcesFit";

  // Reads ignoredResources and ignoredResourceGroups from `args` (validated by
  // the caller). `names` interns resource names; it must outlive the plugin.
  NodeResourcesFitFilter(const config::NodeResourcesFitArgs& args, model::Interner& names);

  absl::string_view Name() const override { return kName; }

  // Upstream's noderesources Fit EventsToRegister (1.31) with the
  // SchedulerQueueingHints gate off, where Node/UpdateNodeTaint and
  // UpdateNodeLabel also stand for node adds that a preCheck filtered out.
  // Pod/UpdatePodScaleDown only comes with InPlacePodVerticalScaling (alpha,
  // off in 1.31).
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kPod,
       framework::kDelete},
      {framework::EventResource::kNode,
       framework::kAdd | framework::kUpdateNodeAllocatable | framework::kUpdateNodeTaint |
           framework::kUpdateNodeLabel},
    };
  }

  // The compiled pod carries its requests: nothing to precompute.
  framework::Status PreFilter(framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes) override;
  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  // Rows: the pod count, cpu, memory, ephemeral storage and extended
  // resource checks run over the table's columns.
  bool FiltersRows(const framework::CycleState& state, const model::Pod& pod) const override;
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.requests, key);
    return true;
  }

 private:
  bool Ignored(model::Id resource) const;

  const model::Interner& names_;
  absl::flat_hash_set<model::Id> ignored_resources_;
  absl::flat_hash_set<std::string> ignored_groups_;
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_
