// File: pod_topology_spread.h
//
// The filter half of PodTopologySpread (upstream
// plugins/podtopologyspread/filtering.go). For every DoNotSchedule
// constraint of the pod, a node fits when
//
//   matching pods in the node's domain + (1 if the pod matches its own
//   selector) - the global minimum  <=  maxSkew
//
// where a domain is one value of the constraint's topology key, and the
// global minimum is the fewest matching pods over the eligible domains, or 0
// when there are fewer eligible domains than minDomains. A domain is
// eligible when some node in it has every topology key of the pod's
// DoNotSchedule constraints and passes the constraint's node inclusion
// policies (nodeAffinityPolicy Honor: the pod's nodeSelector and required
// node affinity; nodeTaintsPolicy Honor: the pod tolerates the node's
// NoSchedule/NoExecute taints). Matching pods are the pods of the incoming
// pod's namespace that the constraint's selector (matchLabelKeys merged in
// at compile time) selects, terminating pods excluded.
//
// A node without a constraint's topology key is UnschedulableAndUnresolvable
// ("... (missing required label)"); a skew violation is Unschedulable.
//
// A pod without constraints of its own gets the default constraints of the
// plugin args, their selector deduced from the pod's controller (see
// DefaultSelector()). PreFilter returns Skip when there is no DoNotSchedule
// constraint.
//
// PreFilter reads the counts from the snapshot's AffinityIndex (no pod is
// scanned); AddPod/RemovePod change only the CycleState copy they are given
// (copy-on-write over the counts PreFilter computed).
//
// The scoring half and the registered plugin are in
// priorities/pod_topology_spread, which derives from this class.

#ifndef KESTREL_PREDICATES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_
#define KESTREL_PREDICATES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/objects.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/cache/node_selector_rows.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

class PodTopologySpreadFilter : public framework::PreFilterPlugin,
                                public framework::FilterPlugin,
                                public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "PodTopologySpread";
  static constexpr char kErrReasonConstraintsNotMatch[] =
      "node(s) didn't match pod topology spread constraints";
  static constexpr char kErrReasonNodeLabelNotMatch[] =
      "node(s) didn't match pod topology spread constraints (missing required label)";
  static constexpr char kPreFilterStateKey[] = "PreFilterPodTopologySpread";
  static constexpr char kLabelHostname[] = "kubernetes.io/hostname";
  static constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";

  // `args` must be defaulted and validated (priorities/pod_topology_spread
  // does both). defaultingType System uses upstream's system defaults
  // (hostname maxSkew 3, then zone maxSkew 5, both ScheduleAnyway); List
  // uses args.defaultConstraints. `names` interns their topology keys.
  PodTopologySpreadFilter(const config::PodTopologySpreadArgs& args, model::Interner& names);

  absl::string_view Name() const override { return kName; }

  // Upstream's podtopologyspread EventsToRegister (1.31) with the SchedulerQueueingHints
  // gate off, where Node/UpdateNodeTaint and UpdateNodeLabel also stand for
  // node adds that a preCheck filtered out.
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kPod,
       framework::kAdd | framework::kUpdatePodLabel | framework::kDelete},
      {framework::EventResource::kNode,
       framework::kAdd | framework::kDelete | framework::kUpdateNodeLabel |
           framework::kUpdateNodeTaint},
    };
  }

  // Counts matching pods per eligible domain over the rows of
  // state.snapshot (the snapshot's nodes; `nodes` is that same list).
  framework::Status PreFilter(framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes) override;
  bool HasExtensions() const override { return true; }
  framework::Status AddPod(framework::CycleState& state, const model::Pod& pod_to_schedule,
                           const model::PodPtr& pod_to_add,
                           const framework::NodeInfo& node) const override;
  framework::Status RemovePod(framework::CycleState& state, const model::Pod& pod_to_schedule,
                              const model::Pod& pod_to_remove,
                              const framework::NodeInfo& node) const override;

  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  // Rows: the topology domain of each row is a column of the snapshot's
  // AffinityIndex, so the whole check is array lookups.
  bool FiltersRows(const framework::CycleState& state, const model::Pod& pod) const override;
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;

  // Constraints()
  //
  // Upstream getConstraints / buildDefaultConstraints: the pod's constraints
  // whose whenUnsatisfiable is `action`; or, when the pod has no constraints
  // at all, the default constraints with `action`, each with the selector
  // DefaultSelector(pod). Empty when that selector is empty.
  std::vector<model::TopologySpreadConstraint> Constraints(
      const model::Pod& pod, model::UnsatisfiableAction action) const;

  // DefaultSelector()
  //
  // Upstream helper.DefaultSelector merges the selectors of the Services,
  // ReplicationControllers, ReplicaSets and StatefulSets that select the pod.
  // Kestrel has no such objects: when the pod's controller (the owner
  // reference with controller: true) is a ReplicationController, ReplicaSet
  // or StatefulSet, the selector is the pod's own labels, less those that
  // differ between pods of one controller (statefulset.kubernetes.io/pod-name,
  // apps.kubernetes.io/pod-index, controller-revision-hash); otherwise it is
  // empty (selects nothing to spread).
  model::LabelSelector DefaultSelector(const model::Pod& pod) const;

  // True when the pod tolerates every NoSchedule and NoExecute taint of the
  // node (upstream v1helper.FindMatchingUntoleratedTaint finds none).
  static bool ToleratesDoNotScheduleTaints(const model::Pod& pod, const model::Node& node);

  // NodeInclusion
  //
  // Upstream topologySpreadConstraint.matchNodeInclusionPolicies for one
  // (pod, node) and any number of constraints: each of the two checks runs
  // at most once, and only for a constraint that honors it.
  // `has_hard_taints` false (the node table's hard_taints column) skips the
  // taint check.
  class NodeInclusion {
   public:
    // `affinity`: the node-affinity verdict when already known (-1: not).
    NodeInclusion(const model::Pod& pod, const model::Node& node, bool has_hard_taints = true,
                  int8_t affinity = -1)
        : pod_(pod), node_(node), has_hard_taints_(has_hard_taints), affinity_(affinity) {}
    bool Matches(const model::TopologySpreadConstraint& c);

   private:
    const model::Pod& pod_;
    const model::Node& node_;
    bool has_hard_taints_;
    int8_t affinity_;  // -1: not evaluated yet, else 0 or 1
    int8_t taints_ = -1;
  };

  // RowInclusion
  //
  // NodeInclusion over the snapshot's rows, planned once per pod for its
  // constraints (elements with a `spec`): whether any row can be left out at
  // all, and the pod's node affinity compiled to row tables for
  // nodeAffinityPolicy: Honor. PreFilter and PreScore only.
  class RowInclusion {
   public:
    template <typename Constraints>
    RowInclusion(const model::Pod& pod, const Constraints& constraints,
                 cache::AffinityIndex& index, const framework::NodeTable& table, size_t num_rows)
        : pod_(pod),
          table_(table),
          have_taint_column_(table.size() == num_rows),
          has_node_constraints_(!pod.node_selector.empty() ||
                                pod.required_node_affinity.has_value()) {
      bool honor_affinity = false;
      for (const auto& c : constraints) {
        honor_taints_ |= c.spec.node_taints_policy == model::InclusionPolicy::kHonor;
        honor_affinity |= c.spec.node_affinity_policy == model::InclusionPolicy::kHonor;
      }
      all_ = !honor_taints_ && !(honor_affinity && has_node_constraints_);
      if (!all_ && have_taint_column_ && has_node_constraints_) {
        selector_rows_ = cache::NodeSelectorRows::Compile(index, pod);
      }
    }

    // Every row counts for every constraint: no per-row check is needed.
    bool all() const { return all_; }
    // The node-affinity check admits every node, and the table's taint
    // column is the snapshot's: only hard-tainted rows need the taint check.
    bool taints_only() const { return !has_node_constraints_ && have_taint_column_; }
    // Row `r` (node `node`) under a constraint that honours taints.
    bool Tolerated(size_t r, const model::Node& node) const {
      return table_.hard_taints[r] == 0 || ToleratesDoNotScheduleTaints(pod_, node);
    }
    bool honor_taints() const { return honor_taints_; }
    // The checks for row `r`, holding node `node`.
    NodeInclusion Row(size_t r, const model::Node& node) const {
      return NodeInclusion(
          pod_, node, !have_taint_column_ || table_.hard_taints[r] != 0,
          !has_node_constraints_    ? 1
          : selector_rows_.has_value() ? selector_rows_->Matches(static_cast<uint32_t>(r), table_)
                                       : -1);
    }

   private:
    const model::Pod& pod_;
    const framework::NodeTable& table_;
    bool have_taint_column_;
    bool has_node_constraints_;
    bool honor_taints_ = false;
    bool all_ = true;
    std::optional<cache::NodeSelectorRows> selector_rows_;
  };

  // True with defaultingType System: scoring then does not ignore nodes
  // that lack some topology key (upstream PodTopologySpread.systemDefaulted).
  bool system_defaulted() const { return system_defaulted_; }

 private:
  framework::Status UpdateWithPod(framework::CycleState& state, const model::Pod& preemptor,
                                  const model::Pod& pod, const framework::NodeInfo& node,
                                  int delta) const;

  std::vector<model::TopologySpreadConstraint> defaults_;
  bool system_defaulted_ = false;
  // Label keys left out of DefaultSelector().
  std::vector<model::Id> per_pod_label_keys_;
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_
