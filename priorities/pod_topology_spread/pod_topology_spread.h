// File: pod_topology_spread.h
//
// PodTopologySpread, the registered plugin (upstream
// plugins/podtopologyspread): the filter of predicates/pod_topology_spread
// plus scoring (upstream scoring.go) of the pod's ScheduleAnyway
// constraints, or, for a pod without constraints, the ScheduleAnyway
// default constraints.
//
// For each feasible node, the raw score sums over the constraints whose key
// the node has
//
//   matching pods in the node's domain * log(domains + 2) + (maxSkew - 1)
//
// in float64, rounded half away from zero. "domains" are the distinct values
// among the feasible nodes (for kubernetes.io/hostname: the number of
// feasible nodes), and for hostname the count is the node's own pods. Counts
// cover every node of the snapshot that passes the constraint's node
// inclusion policies, and only domains some feasible node is in. Feasible
// nodes lacking a topology key are ignored (score 0) unless the constraints
// are the system defaults. NormalizeScore maps the raw scores to
// 100 * (max + min - score) / max: fewer matching pods, higher score.
//
// Example:
//   absl::StatusOr<std::unique_ptr<PodTopologySpread>> plugin =
//       PodTopologySpread::Create(args, interner);

#ifndef KESTREL_PRIORITIES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_
#define KESTREL_PRIORITIES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "predicates/pod_topology_spread/pod_topology_spread.h"
#include "scheduler/framework/interface.h"

namespace kestrel::priorities {

class PodTopologySpread : public predicates::PodTopologySpreadFilter,
                          public framework::PreScorePlugin,
                          public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "PodTopologySpread";
  static constexpr char kPreScoreStateKey[] = "PreScorePodTopologySpread";

  // Create()
  //
  // Defaults (defaultingType: System) and validates `args` as upstream
  // does, then builds the plugin. `names` interns the topology keys.
  static absl::StatusOr<std::unique_ptr<PodTopologySpread>> Create(
      const config::PodTopologySpreadArgs& args, model::Interner& names);

  absl::string_view Name() const override { return kName; }

  // Counts matching pods per domain over the snapshot's AffinityIndex.
  // Skip when the pod has no ScheduleAnyway constraint (own or default).
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows: domains and per-node counts are columns of the AffinityIndex.
  bool ScoresRows(const framework::CycleState& state, const model::Pod& pod) const override;
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;
  bool NormalizesScores() const override { return true; }
  framework::Status NormalizeScore(const framework::CycleState& state, const model::Pod& pod,
                                   absl::Span<framework::NodeScore> scores) const override;

 private:
  PodTopologySpread(const config::PodTopologySpreadArgs& args, model::Interner& names);

  model::Id hostname_key_;
  model::Id empty_value_;  // the label value ""
};

// Upstream v1 SetDefaults_PodTopologySpreadArgs: an empty defaultingType is
// System.
void SetDefaults(config::PodTopologySpreadArgs& args);

// Upstream ValidatePodTopologySpreadArgs, on defaulted args.
// InvalidArgument with every problem found, as upstream's field errors:
//   defaultConstraints[0].maxSkew: Invalid value: 0: not in valid range (0, inf)
// several of them joined as "[first, second]".
absl::Status Validate(const config::PodTopologySpreadArgs& args);

// Upstream topologyNormalizingWeight, log(size + 2), computed with Go's
// math.Log algorithm so the raw scores equal kube-scheduler's bit for bit.
double TopologyNormalizingWeight(int64_t size);

// Go's math.Log (FreeBSD's e_log.c, as src/math/log.go and log_amd64.s
// compute it), bit for bit for every input but subnormals, where Go's amd64
// assembly is wrong and this, like log.go, is right.
double GoLog(double x);

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_POD_TOPOLOGY_SPREAD_POD_TOPOLOGY_SPREAD_H_
