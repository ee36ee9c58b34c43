// File: node_affinity.h
//
// The filter half of NodeAffinity (upstream plugins/nodeaffinity): a pod fits
// a node when the node's labels match the pod's spec.nodeSelector and its
// required node affinity (terms ORed, each term's label and metadata.name
// requirements ANDed), and the profile's addedAffinity, if any. Both
// rejections are UnschedulableAndUnresolvable:
//
//   addedAffinity not matched   "node(s) didn't match scheduler-enforced node affinity"
//   the pod's own not matched   "node(s) didn't match Pod's node affinity/selector"
//
// PreFilter returns Skip for a pod with neither a nodeSelector nor required
// node affinity when the profile adds none. When every required term pins
// node names (matchFields metadata.name In, as every DaemonSet pod has), it
// returns them as the cycle's PreFilterResult (CycleState::pre_filter_nodes,
// the names PinnedNodeNames gives), so only those nodes are filtered and
// scored; when the terms' names conflict it rejects the pod ("pod affinity
// terms conflict").
//
// The scoring half and the registered plugin are in priorities/node_affinity,
// which derives from this class.

#ifndef KESTREL_PREDICATES_NODE_AFFINITY_NODE_AFFINITY_H_
#define KESTREL_PREDICATES_NODE_AFFINITY_NODE_AFFINITY_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "predicates/node_affinity/args.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

// PinnedNodeNames()
//
// The node-name ids that the pod's required terms allow when every term has
// matchFields metadata.name In requirements (per term their intersection,
// unioned over terms), sorted; nullopt when some term allows any name, or
// the pod has no required terms. An empty set means no node can match.
std::optional<std::vector<model::Id>> PinnedNodeNames(const model::Pod& pod);

class NodeAffinityFilter : public framework::PreFilterPlugin,
                           public framework::FilterPlugin,
                           public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "NodeAffinity";
  static constexpr char kErrReasonPod[] = "node(s) didn't match Pod's node affinity/selector";
  static constexpr char kErrReasonEnforced[] =
      "node(s) didn't match scheduler-enforced node affinity";
  static constexpr char kErrReasonConflict[] = "pod affinity terms conflict";

  // Create()
  //
  // Validates `args` as upstream does and compiles addedAffinity's required
  // selector. `names` interns label keys, values and node names.
  static absl::StatusOr<std::unique_ptr<NodeAffinityFilter>> Create(
      const config::NodeAffinityArgs& args, model::Interner& names);

  // `added_required`: addedAffinity.requiredDuringScheduling..., compiled.
  // `names` turns pinned node-name ids back into names; it must outlive the
  // plugin.
  NodeAffinityFilter(std::optional<model::NodeSelector> added_required,
                     const model::Interner* names);

  absl::string_view Name() const override { return kName; }

  // Upstream's nodeaffinity EventsToRegister (1.31) with the SchedulerQueueingHints
  // gate off, where Node/UpdateNodeTaint and UpdateNodeLabel also stand for
  // node adds that a preCheck filtered out.
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kNode,
       framework::kAdd | framework::kUpdateNodeLabel | framework::kUpdateNodeTaint},
    };
  }

  framework::Status PreFilter(framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes) override;
  struct RowState;
  // The compiled pod carries its selectors, so Filter needs no state and is
  // exact with or without PreFilter.
  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  // Rows: label requirements compiled by PreFilter into checks of each
  // row's topology domain for the key (the snapshot's AffinityIndex), so a
  // row costs a few array reads; Gt/Lt and addedAffinity go through each
  // row's NodeInfo instead.
  bool FiltersRows(const framework::CycleState&, const model::Pod&) const override { return true; }
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;
  // addedAffinity is the plugin's own: the key holds the pod's part.
  bool FilterRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                         std::string* key) const override {
    model::AppendKey(pod.node_selector, key);
    model::AppendKey(pod.required_node_affinity, key);
    return true;
  }

  // True when `node` matches addedAffinity's required selector (or there is
  // none) and the pod's own constraints.
  bool Fits(const model::Pod& pod, const model::Node& node) const;

 private:
  std::optional<model::NodeSelector> added_required_;
  const model::Interner* names_;
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_NODE_AFFINITY_NODE_AFFINITY_H_
