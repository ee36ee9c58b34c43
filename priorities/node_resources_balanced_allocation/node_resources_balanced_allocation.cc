#include "priorities/node_resources_balanced_allocation/node_resources_balanced_allocation.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "priorities/resource_allocation/args.h"

namespace kestrel::priorities {

namespace {

// Upstream balancedResourceScorer over the fractions requested/allocatable
// (each capped at 1) of the resources the node has.
int64_t ScoreFractions(absl::Span<const double> fractions, double total) {
  double std_dev = 0;
  if (fractions.size() == 2) {
    std_dev = std::fabs((fractions[0] - fractions[1]) / 2);
  } else if (fractions.size() > 2) {
    const double mean = total / static_cast<double>(fractions.size());
    double sum = 0;
    for (double f : fractions) sum = sum + (f - mean) * (f - mean);
    std_dev = std::sqrt(sum / static_cast<double>(fractions.size()));
  }
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(framework::kMaxNodeScore));
}

double Fraction(int64_t requested, int64_t allocatable) {
  const double f = static_cast<double>(requested) / static_cast<double>(allocatable);
  return f > 1 ? 1 : f;
}

}  // namespace

int64_t BalancedResourceScore(absl::Span<const int64_t> requested,
                              absl::Span<const int64_t> allocatable) {
  absl::InlinedVector<double, 4> fractions;
  double total = 0;
  for (size_t i = 0; i < requested.size(); ++i) {
    if (allocatable[i] == 0) continue;
    fractions.push_back(Fraction(requested[i], allocatable[i]));
    total += fractions.back();
  }
  return ScoreFractions(fractions, total);
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
    framework::CycleState& /*state*/, const model::Pod& pod,
    framework::NodeInfoList /*feasible*/) {
  // Scoring best-effort pods would pile them onto one node (upstream #129138).
  if (IsBestEffort(pod)) return framework::Status::Skip();
  return framework::Status();
}

absl::StatusOr<int64_t> NodeResourcesBalancedAllocation::Score(
    const framework::CycleState& /*state*/, const model::Pod& pod,
    const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  if (IsBestEffort(pod)) return 0;
  // Per node, so no heap: the fractions live inline for up to 4 resources.
  absl::InlinedVector<double, 4> fractions;
  double total = 0;
  for (const ScoredResource& r : resources_) {
    const AllocatableRequested ar = CalculateAllocatableRequested(
        r, node, PodRequest(r, pod, RequestMode::kRequested), RequestMode::kRequested);
    if (ar.allocatable == 0) continue;
    fractions.push_back(Fraction(ar.requested, ar.allocatable));
    total += fractions.back();
  }
  return ScoreFractions(fractions, total);
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
  absl::InlinedVector<double, 4> fractions(columns.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    size_t count = 0;
    double total = 0;
    for (const ResourceColumns& c : columns) {
      const AllocatableRequested ar = c.At(rows[i]);
      if (ar.allocatable == 0) continue;
      fractions[count] = Fraction(ar.requested, ar.allocatable);
      total += fractions[count++];
    }
    out[i] = ScoreFractions(absl::MakeConstSpan(fractions.data(), count), total);
  }
}

}  // namespace kestrel::priorities
