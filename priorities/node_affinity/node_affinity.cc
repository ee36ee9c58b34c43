#include "priorities/node_affinity/node_affinity.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "api/validation.h"

namespace kestrel::priorities {
namespace {

}  // namespace

int64_t PreferredScore(const std::vector<model::PreferredSchedulingTerm>& terms,
                       const model::Node& node) {
  int64_t score = 0;
  for (const model::PreferredSchedulingTerm& t : terms) {
    if (t.term.Matches(node.labels, node.name_id)) score += t.weight;
  }
  return score;
}

absl::StatusOr<std::unique_ptr<NodeAffinity>> NodeAffinity::Create(
    const config::NodeAffinityArgs& args, model::Interner& names) {
  absl::StatusOr<predicates::AddedAffinity> added = predicates::CompileAddedAffinity(args, names);
  if (!added.ok()) return added.status();
  return std::make_unique<NodeAffinity>(*std::move(added), &names);
}

NodeAffinity::NodeAffinity(predicates::AddedAffinity added, const model::Interner* names)
    : NodeAffinityFilter(std::move(added.required), names),
      added_preferred_(std::move(added.preferred)) {}

framework::Status NodeAffinity::PreScore(framework::CycleState& /*state*/, const model::Pod& pod,
                                         framework::NodeInfoList /*feasible*/) {
  // Upstream parses the pod's preferred terms here and fails the cycle on a
  // term that does not parse (framework.AsStatus of the aggregate error).
  std::vector<std::string> errs;
  for (const model::PreferredSchedulingTerm& t : pod.preferred_node_affinity) {
    errs.insert(errs.end(), t.term.parse_errors.begin(), t.term.parse_errors.end());
  }
  if (!errs.empty()) {
    return framework::Status::Error(std::string(api::AggregateErrors(errs).message()));
  }
  if (pod.preferred_node_affinity.empty() && added_preferred_.empty()) {
    return framework::Status::Skip();
  }
  return framework::Status();
}

int64_t NodeAffinity::RawScore(const model::Pod& pod, const model::Node& node) const {
  return PreferredScore(added_preferred_, node) + PreferredScore(pod.preferred_node_affinity, node);
}

absl::StatusOr<int64_t> NodeAffinity::Score(const framework::CycleState& /*state*/,
                                            const model::Pod& pod,
                                            const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  return RawScore(pod, *node.node());
}

void NodeAffinity::ScoreRows(const framework::CycleState& /*state*/, const model::Pod& pod,
                             const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                             int64_t* out) const {
  for (size_t i = 0; i < rows.size(); ++i) out[i] = RawScore(pod, *table.infos[rows[i]]->node());
}

framework::Status NodeAffinity::NormalizeScore(const framework::CycleState& /*state*/,
                                               const model::Pod& /*pod*/,
                                               absl::Span<framework::NodeScore> scores) const {
  framework::DefaultNormalizeScore(/*reverse=*/false, scores);
  return framework::Status();
}

}  // namespace kestrel::priorities
