#include "priorities/taint_toleration/taint_toleration.h"

#include "scheduler/cache/snapshot.h"

#include <algorithm>

namespace kestrel::priorities {
namespace {

}  // namespace

int64_t CountIntolerablePreferNoSchedule(const std::vector<model::Taint>& taints,
                                         const std::vector<model::Toleration>& tolerations) {
  int64_t count = 0;
  for (const model::Taint& taint : taints) {
    if (taint.effect != model::TaintEffect::kPreferNoSchedule) continue;
    bool tolerated = false;
    for (const model::Toleration& t : tolerations) {
      if (t.Tolerates(taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) ++count;
  }
  return count;
}

framework::Status TaintToleration::PreScore(framework::CycleState& /*state*/,
                                            const model::Pod& /*pod*/,
                                            framework::NodeInfoList /*feasible*/) {
  return framework::Status();
}

bool TaintToleration::UniformScore(const framework::CycleState& state, const model::Pod& /*pod*/,
                                   int64_t* score) const {
  if (state.snapshot == nullptr || state.snapshot->table().num_soft_taint_rows != 0) return false;
  *score = framework::kMaxNodeScore;
  return true;
}

absl::StatusOr<int64_t> TaintToleration::Score(const framework::CycleState& /*state*/,
                                               const model::Pod& pod,
                                               const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  return CountIntolerablePreferNoSchedule(node.node()->taints, pod.tolerations);
}

void TaintToleration::ScoreRows(const framework::CycleState& /*state*/, const model::Pod& pod,
                                const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                                int64_t* out) const {
  for (size_t i = 0; i < rows.size(); ++i) {
    // Only nodes with a PreferNoSchedule taint (the soft_taints column) can
    // count one.
    out[i] = table.soft_taints[rows[i]] == 0
                 ? 0
                 : CountIntolerablePreferNoSchedule(table.infos[rows[i]]->node()->taints,
                                                    pod.tolerations);
  }
}

framework::Status TaintToleration::NormalizeScore(const framework::CycleState& /*state*/,
                                                  const model::Pod& /*pod*/,
                                                  absl::Span<framework::NodeScore> scores) const {
  framework::DefaultNormalizeScore(/*reverse=*/true, scores);
  return framework::Status();
}

}  // namespace kestrel::priorities
