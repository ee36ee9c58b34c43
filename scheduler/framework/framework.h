// File: framework.h
//
// Framework is one scheduling profile made runnable: the plugin instances of a
// `KubeSchedulerProfile`, sorted into extension points with upstream's rules
// (default plugins, `multiPoint`, per-point `enabled`/`disabled`, `"*"`), the
// score weights, and the Run* methods a scheduling cycle calls.
//
// Example:
//   ASSIGN_OR_RETURN(auto fw, Framework::Create(profile, registry, handle));
//   CycleState state;
//   Status s = fw->RunPreFilterPlugins(state, pod, nodes);

#ifndef KESTREL_SCHEDULER_FRAMEWORK_FRAMEWORK_H_
#define KESTREL_SCHEDULER_FRAMEWORK_FRAMEWORK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace kestrel::framework {

struct WeightedScorePlugin {
  ScorePlugin* plugin;
  int64_t weight;
};

class Framework {
 public:
  // Create()
  //
  // Instantiates the plugins `profile` enables (already merged with the
  // defaults, see scheduler/profile.h) from `registry`, decoding each
  // plugin's `pluginConfig` args into its typed message.
  static absl::StatusOr<std::unique_ptr<Framework>> Create(
      const config::KubeSchedulerProfile& profile, const Registry& registry,
      const Handle& handle);

  const std::string& scheduler_name() const { return scheduler_name_; }
  int32_t percentage_of_nodes_to_score() const { return percentage_of_nodes_to_score_; }

  const QueueSortPlugin* queue_sort() const { return queue_sort_; }
  const std::vector<PreEnqueuePlugin*>& pre_enqueue_plugins() const { return pre_enqueue_; }
  const std::vector<PreFilterPlugin*>& pre_filter_plugins() const { return pre_filter_; }
  const std::vector<FilterPlugin*>& filter_plugins() const { return filter_; }
  const std::vector<PostFilterPlugin*>& post_filter_plugins() const { return post_filter_; }
  const std::vector<PreScorePlugin*>& pre_score_plugins() const { return pre_score_; }
  const std::vector<WeightedScorePlugin>& score_plugins() const { return score_; }
  const std::vector<ReservePlugin*>& reserve_plugins() const { return reserve_; }
  const std::vector<PermitPlugin*>& permit_plugins() const { return permit_; }
  const std::vector<BindPlugin*>& bind_plugins() const { return bind_; }
  // The plugin instance named `name`, or nullptr.
  Plugin* plugin(absl::string_view name) const;

  // cluster_event_map()
  //
  // Every event a plugin of this profile registered, with the plugins that
  // registered it, for the scheduling queue (upstream buildQueueingHintMap
  // with the SchedulerQueueingHints gate off). Plugins without
  // EnqueueExtensions register the wildcard event; a plugin that registers
  // Node/Add without Node/UpdateNodeTaint gets the latter too (upstream's
  // workaround for node adds that a preCheck filtered out, issue 109437).
  const ClusterEventMap& cluster_event_map() const { return cluster_event_map_; }

  // RunPreEnqueuePlugins()
  //
  // The PreEnqueue plugins in order; the first that does not succeed
  // decides, with its plugin set (upstream runPreEnqueuePlugins).
  Status RunPreEnqueuePlugins(const model::Pod& pod) const;

  // RunPreFilterPlugins()
  //
  // Runs every PreFilter plugin; plugins returning Skip are recorded in
  // `state.skip_filter_mask`, and the nodes the others narrowed the pod to
  // (PreFilterResult) intersected in `state.pre_filter_nodes`. An error or
  // an UnschedulableAndUnresolvable rejection stops the run and is returned
  // with its plugin set; after a plain Unschedulable the rest still run
  // (preemption needs their state) and the last such is returned. An empty
  // intersection is UnschedulableAndUnresolvable, "node(s) didn't satisfy
  // plugin X" (upstream's message), with no plugin set.
  Status RunPreFilterPlugins(CycleState& state, const model::Pod& pod,
                             NodeInfoList nodes) const;

  // RunFilterPlugins()
  //
  // Runs the Filter plugins on one node, stopping at the first that does not
  // succeed (upstream order). Plugins whose bit is set in `exclude` (by
  // index in filter_plugins()) are not run: the caller has run them over the
  // node table already. Thread-safe.
  Status RunFilterPlugins(const CycleState& state, const model::Pod& pod,
                          const NodeInfo& node, uint64_t exclude = 0) const;

  Status RunPreScorePlugins(CycleState& state, const model::Pod& pod,
                            NodeInfoList feasible) const;

  Status RunReservePlugins(CycleState& state, const model::Pod& pod,
                           const std::string& node_name) const;
  void RunUnreservePlugins(CycleState& state, const model::Pod& pod,
                           const std::string& node_name) const;
  Status RunPermitPlugins(CycleState& state, const model::Pod& pod,
                          const std::string& node_name) const;
  Status RunBindPlugins(CycleState& state, const model::Pod& pod,
                        const std::string& node_name) const;
  Status RunPostFilterPlugins(CycleState& state, const model::Pod& pod,
                              const NodeToStatus& filtered,
                              PostFilterResult* result) const;

  // RunPreFilterExtensionAddPod() / RunPreFilterExtensionRemovePod()
  //
  // The PreFilter plugins' AddPod / RemovePod, after `pod` was added to /
  // removed from `node` (a copy under evaluation): they keep `state`
  // consistent with it. Plugins whose Filter is skipped for this cycle are
  // not called. A failure is an Error naming the plugin.
  Status RunPreFilterExtensionAddPod(CycleState& state, const model::Pod& pod_to_schedule,
                                     const model::PodPtr& pod_to_add,
                                     const NodeInfo& node) const;
  Status RunPreFilterExtensionRemovePod(CycleState& state, const model::Pod& pod_to_schedule,
                                        const model::Pod& pod_to_remove,
                                        const NodeInfo& node) const;

  // RunFilterPluginsWithNominatedPods()
  //
  // Upstream's two passes: when pods of equal or higher priority than `pod`
  // are nominated to `node` (handle's nominator), the filters run first on a
  // copy of the node and state with those pods added, then on the node as it
  // is; the pod must fit both ways (an added pod may help, say with pod
  // affinity, but is not there yet). Without such pods: RunFilterPlugins.
  Status RunFilterPluginsWithNominatedPods(const CycleState& state, const model::Pod& pod,
                                           const NodeInfo& node) const;

  // Whether some PreFilter plugin not skipped for this cycle has AddPod /
  // RemovePod extensions: without, adding or removing pods leaves `state`
  // as it is, and preemption need not copy it.
  bool HasPreFilterExtensions(const CycleState& state) const;

  // The nominated pods of priority >= `pod`'s on `node`, `pod` itself
  // excluded (upstream addGEPriorityNominatedPods).
  std::vector<model::PodPtr> NominatedPodsToAdd(const model::Pod& pod,
                                                const NodeInfo& node) const;

  const Handle& handle() const { return handle_; }

  // Whether the Filter / Score of the plugin named `plugin` is skipped for
  // this cycle's pod (its PreFilter / PreScore returned Skip).
  bool ShouldSkipFilter(const CycleState& state, absl::string_view plugin) const;
  bool ShouldSkipScore(const CycleState& state, absl::string_view plugin) const;

  // At most this many plugins per extension point, so skips fit in a mask.
  static constexpr size_t kMaxPluginsPerPoint = 64;

 private:
  Framework() = default;

  std::string scheduler_name_;
  int32_t percentage_of_nodes_to_score_ = 0;
  Handle handle_;
  std::vector<std::unique_ptr<Plugin>> owned_;
  QueueSortPlugin* queue_sort_ = nullptr;
  std::vector<PreEnqueuePlugin*> pre_enqueue_;
  std::vector<PreFilterPlugin*> pre_filter_;
  // For pre_filter_[i] / pre_score_[i]: the mask bit (index in filter_ /
  // score_) its Skip sets, or 0 when the plugin has no Filter / Score.
  std::vector<uint64_t> pre_filter_skip_bit_;
  std::vector<uint64_t> pre_score_skip_bit_;
  std::vector<FilterPlugin*> filter_;
  std::vector<PostFilterPlugin*> post_filter_;
  std::vector<PreScorePlugin*> pre_score_;
  std::vector<WeightedScorePlugin> score_;
  std::vector<ReservePlugin*> reserve_;
  std::vector<PermitPlugin*> permit_;
  std::vector<BindPlugin*> bind_;
  ClusterEventMap cluster_event_map_;
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_FRAMEWORK_H_
