#include "priorities/node_resources_balanced_allocation/node_resources_balanced_allocation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "priorities/resource_allocation/args.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::priorities {

namespace {

// Upstream balancedResourceScorer: the standard deviation of the fractions
// requested/allocatable (each capped at 1) of the resources the node has.
double Fraction(const AllocatableRequested& ar) {
  const double f = static_cast<double>(ar.requested) / static_cast<double>(ar.allocatable);
  return f > 1 ? 1 : f;
}

int64_t BalancedScore(absl::Span<const AllocatableRequested> resources) {
  // Called per node: no buffer, the fractions are recomputed in the rare
  // second pass (more than two resources) instead of stored.
  size_t count = 0;
  double total = 0, first = 0, second = 0;
  for (const AllocatableRequested& ar : resources) {
    if (ar.allocatable == 0) continue;
    const double f = Fraction(ar);
    if (count == 0) first = f;
    if (count == 1) second = f;
    total += f;
    ++count;
  }
  double std_dev = 0;
  if (count == 2) {
    std_dev = std::fabs((first - second) / 2);
  } else if (count > 2) {
    const double mean = total / static_cast<double>(count);
    double sum = 0;
    for (const AllocatableRequested& ar : resources) {
      if (ar.allocatable == 0) continue;
      const double f = Fraction(ar);
      sum = sum + (f - mean) * (f - mean);
    }
    std_dev = std::sqrt(sum / static_cast<double>(count));
  }
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(framework::kMaxNodeScore));
}

}  // namespace

int64_t BalancedResourceScore(absl::Span<const int64_t> requested,
                              absl::Span<const int64_t> allocatable) {
  absl::InlinedVector<AllocatableRequested, 4> resources;
  for (size_t i = 0; i < requested.size(); ++i) resources.push_back({allocatable[i], requested[i]});
  return BalancedScore(resources);
}

absl::StatusOr<std::unique_ptr<NodeResourcesBalancedAllocation>>
NodeResourcesBalancedAllocation::Create(const config::NodeResourcesBalancedAllocationArgs& args,
                                        model::Interner& names) {
  config::NodeResourcesBalancedAllocationArgs defaulted = args;
  SetDefaults(defaulted);
  if (absl::Status s = Validate(defaulted); !s.ok()) return s;
  std::vector<ScoredResource> resources;
  for (const config::ResourceSpec& r : defaulted.resources()) {
    resources.push_back(ResolveResource(r.name(), r.weight(), names));
  }
  return std::unique_ptr<NodeResourcesBalancedAllocation>(
      new NodeResourcesBalancedAllocation(std::move(resources)));
}

bool NodeResourcesBalancedAllocation::IsBestEffort(const model::Pod& pod) const {
  for (const ScoredResource& r : resources_) {
    if (PodRequest(r, pod, RequestMode::kRequested) != 0) return false;
  }
  return true;
}

framework::Status NodeResourcesBalancedAllocation::PreScore(
    framework::CycleState& state, const model::Pod& pod,
    framework::NodeInfoList /*feasible*/) {
  // Scoring best-effort pods would pile them onto one node (upstream #129138).
  if (IsBestEffort(pod)) return framework::Status::Skip();
  absl::InlinedVector<int64_t, 4> key;
  for (const ScoredResource& r : resources_) {
    key.push_back(PodRequest(r, pod, RequestMode::kRequested));
  }
  row_cache_.Begin(state.snapshot != nullptr ? &state.snapshot->table() : nullptr, key);
  return framework::Status();
}

absl::StatusOr<int64_t> NodeResourcesBalancedAllocation::Score(
    const framework::CycleState& /*state*/, const model::Pod& pod,
    const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  if (IsBestEffort(pod)) return 0;
  absl::InlinedVector<AllocatableRequested, 4> resources;
  for (const ScoredResource& r : resources_) {
    resources.push_back(CalculateAllocatableRequested(
        r, node, PodRequest(r, pod, RequestMode::kRequested), RequestMode::kRequested));
  }
  return BalancedScore(resources);
}

void NodeResourcesBalancedAllocation::ScoreRows(const framework::CycleState& /*state*/,
                                                const model::Pod& pod,
                                                const framework::NodeTable& table,
                                                absl::Span<const uint32_t> rows,
                                                int64_t* out) const {
  if (IsBestEffort(pod)) {
    std::fill(out, out + rows.size(), 0);
    return;
  }
  absl::InlinedVector<ResourceColumns, 4> columns;
  for (const ScoredResource& r : resources_) {
    columns.push_back(Columns(r, table, pod, RequestMode::kRequested));
  }
  absl::InlinedVector<AllocatableRequested, 4> resources(columns.size());
  row_cache_.Score(table, rows, out, [&](uint32_t r) {
    for (size_t k = 0; k < columns.size(); ++k) resources[k] = columns[k].At(r);
    return BalancedScore(resources);
  });
}

}  // namespace kestrel::priorities
