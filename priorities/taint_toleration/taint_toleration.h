// File: taint_toleration.h
//
// TaintToleration, the registered plugin (upstream plugins/tainttoleration):
// the filter of predicates/taint_toleration plus scoring. A node's raw score
// is the number of its PreferNoSchedule taints that the pod does not
// tolerate; NormalizeScore reverses them onto [0, 100], so the node with the
// most such taints scores 0 and nodes with none score 100 (upstream
// helper.DefaultNormalizeScore(MaxNodeScore, reverse=true)).
//
// Example:
//   TaintToleration plugin;
//   absl::StatusOr<int64_t> raw = plugin.Score(state, pod, node_info);

#ifndef KESTREL_PRIORITIES_TAINT_TOLERATION_TAINT_TOLERATION_H_
#define KESTREL_PRIORITIES_TAINT_TOLERATION_TAINT_TOLERATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "predicates/taint_toleration/taint_toleration.h"
#include "scheduler/framework/interface.h"

namespace kestrel::priorities {

// CountIntolerablePreferNoSchedule()
//
// Upstream countIntolerableTaintsPreferNoSchedule: how many PreferNoSchedule
// taints in `taints` no toleration in `tolerations` tolerates. Upstream first
// keeps the tolerations whose effect is PreferNoSchedule or empty; the others
// can never tolerate a PreferNoSchedule taint, so all of them may be passed.
int64_t CountIntolerablePreferNoSchedule(const std::vector<model::Taint>& taints,
                                         const std::vector<model::Toleration>& tolerations);

class TaintToleration : public predicates::TaintTolerationFilter,
                        public framework::PreScorePlugin,
                        public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "TaintToleration";

  TaintToleration() = default;

  absl::string_view Name() const override { return kName; }

  // The compiled pod carries its tolerations: nothing to precompute. Never
  // Skip: upstream scores every pod, and the normalized scores are 100 for
  // untainted nodes even when the pod tolerates nothing.
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows: the same count, read through each row's NodeInfo.
  bool ScoresRows(const framework::CycleState&, const model::Pod&) const override { return true; }
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;

  // When no node of the snapshot has a PreferNoSchedule taint, every raw
  // count is 0 and the reversed normalization gives every node 100.
  bool UniformScore(const framework::CycleState& state, const model::Pod& pod,
                    int64_t* score) const override;

  // The count reads the pod's tolerations and the node's taints alone.
  bool ScoreRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                        std::string* key) const override {
    model::AppendKey(pod.tolerations, key);
    return true;
  }

  bool NormalizesScores() const override { return true; }
  framework::Status NormalizeScore(const framework::CycleState& state, const model::Pod& pod,
                                   absl::Span<framework::NodeScore> scores) const override;
  bool NormalizesByMax(bool* reverse) const override {
    *reverse = true;
    return true;
  }
};

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_TAINT_TOLERATION_TAINT_TOLERATION_H_
