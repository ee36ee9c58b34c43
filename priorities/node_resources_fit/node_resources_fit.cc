#include "priorities/node_resources_fit/node_resources_fit.h"

#include "scheduler/cache/snapshot.h"

#include <cmath>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "priorities/resource_allocation/args.h"

namespace kestrel::priorities {
namespace {

using framework::kMaxNodeScore;

constexpr int64_t kMaxUtilization = 100;

int64_t LeastRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

int64_t MostRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity == 0) return 0;
  // Non-zero defaults can push requested past capacity.
  if (requested > capacity) requested = capacity;
  return requested * kMaxNodeScore / capacity;
}

}  // namespace

int64_t BrokenLinear(const std::vector<NodeResourcesFit::ShapePoint>& shape, int64_t p) {
  for (size_t i = 0; i < shape.size(); ++i) {
    if (p <= shape[i].utilization) {
      if (i == 0) return shape[0].score;
      const NodeResourcesFit::ShapePoint& a = shape[i - 1];
      const NodeResourcesFit::ShapePoint& b = shape[i];
      return a.score + (b.score - a.score) * (p - a.utilization) / (b.utilization - a.utilization);
    }
  }
  return shape.back().score;
}

absl::StatusOr<std::unique_ptr<NodeResourcesFit>> NodeResourcesFit::Create(
    const config::NodeResourcesFitArgs& args, model::Interner& names) {
  config::NodeResourcesFitArgs defaulted = args;
  SetDefaults(defaulted);
  if (absl::Status s = Validate(defaulted); !s.ok()) return s;
  return std::unique_ptr<NodeResourcesFit>(new NodeResourcesFit(defaulted, names));
}

NodeResourcesFit::NodeResourcesFit(const config::NodeResourcesFitArgs& args,
                                   model::Interner& names)
    : NodeResourcesFitFilter(args, names) {
  const config::ScoringStrategy& s = args.scoringstrategy();
  if (s.type() == kMostAllocated) {
    strategy_ = Strategy::kMostAllocated;
  } else if (s.type() == kRequestedToCapacityRatio) {
    strategy_ = Strategy::kRequestedToCapacityRatio;
    for (const config::UtilizationShapePoint& p : s.requestedtocapacityratio().shape()) {
      shape_.push_back({p.utilization(), p.score() * (kMaxNodeScore / kMaxCustomPriorityScore)});
    }
  }
  for (const config::ResourceSpec& r : s.resources()) {
    resources_.push_back(ResolveResource(r.name(), r.weight(), names));
  }
  has_scalar_ = HasScalar(resources_);
}

framework::Status NodeResourcesFit::PreScore(framework::CycleState& state,
                                             const model::Pod& pod,
                                             framework::NodeInfoList /*feasible*/) {
  absl::InlinedVector<int64_t, 4> key;
  for (const ScoredResource& r : resources_) {
    key.push_back(PodRequest(r, pod, RequestMode::kNonZero));
  }
  row_cache_.Begin(state.snapshot != nullptr ? &state.snapshot->table() : nullptr, key);
  return framework::Status();
}

absl::StatusOr<int64_t> NodeResourcesFit::Score(const framework::CycleState& /*state*/,
                                                const model::Pod& pod,
                                                const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  absl::InlinedVector<AllocatableRequested, 4> ar;
  for (const ScoredResource& r : resources_) {
    ar.push_back(CalculateAllocatableRequested(r, node, PodRequest(r, pod, RequestMode::kNonZero),
                                               RequestMode::kNonZero));
  }
  return Combine(ar.data());
}

void NodeResourcesFit::ScoreRows(const framework::CycleState& /*state*/, const model::Pod& pod,
                                 const framework::NodeTable& table,
                                 absl::Span<const uint32_t> rows, int64_t* out) const {
  absl::InlinedVector<ResourceColumns, 4> columns;
  for (const ScoredResource& r : resources_) {
    columns.push_back(Columns(r, table, pod, RequestMode::kNonZero));
  }
  absl::InlinedVector<AllocatableRequested, 4> ar(resources_.size());
  row_cache_.Score(table, rows, out, [&](uint32_t r) {
    for (size_t k = 0; k < columns.size(); ++k) ar[k] = columns[k].At(r);
    return Combine(ar.data());
  });
}

int64_t NodeResourcesFit::Combine(const AllocatableRequested* ars) const {
  int64_t node_score = 0;
  int64_t weight_sum = 0;
  for (size_t k = 0; k < resources_.size(); ++k) {
    const AllocatableRequested& ar = ars[k];
    if (ar.allocatable == 0) continue;
    int64_t score = 0;
    switch (strategy_) {
      case Strategy::kLeastAllocated:
        score = LeastRequestedScore(ar.requested, ar.allocatable);
        break;
      case Strategy::kMostAllocated:
        score = MostRequestedScore(ar.requested, ar.allocatable);
        break;
      case Strategy::kRequestedToCapacityRatio:
        score = ar.requested > ar.allocatable
                    ? BrokenLinear(shape_, kMaxUtilization)
                    : BrokenLinear(shape_, ar.requested * kMaxUtilization / ar.allocatable);
        // Upstream counts only resources that score above zero here.
        if (score <= 0) continue;
        break;
    }
    node_score += score * resources_[k].weight;
    weight_sum += resources_[k].weight;
  }
  if (weight_sum == 0) return 0;
  if (strategy_ == Strategy::kRequestedToCapacityRatio) {
    return static_cast<int64_t>(
        std::round(static_cast<double>(node_score) / static_cast<double>(weight_sum)));
  }
  return node_score / weight_sum;
}

}  // namespace kestrel::priorities
