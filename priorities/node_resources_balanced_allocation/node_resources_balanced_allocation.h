// File: node_resources_balanced_allocation.h
//
// NodeResourcesBalancedAllocation (upstream
// plugins/noderesources/balanced_allocation.go) favours nodes whose resource
// usage fractions, with the pod placed, are close to each other:
//
//   fraction(r) = min(1, requested(r) / allocatable(r))   (float64)
//   std         = |f0 - f1| / 2 for two resources, the population standard
//                 deviation for more, 0 for fewer
//   score       = int64((1 - std) * 100)
//
// It uses the pods' actual requests (not the non-zero defaults), and skips
// best-effort pods (no request for any configured resource) at PreScore.
//
// Example:
//   auto plugin = NodeResourcesBalancedAllocation::Create(args, interner);

#ifndef KESTREL_PRIORITIES_NODE_RESOURCES_BALANCED_ALLOCATION_NODE_RESOURCES_BALANCED_ALLOCATION_H_
#define KESTREL_PRIORITIES_NODE_RESOURCES_BALANCED_ALLOCATION_NODE_RESOURCES_BALANCED_ALLOCATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/template_key.h"
#include "priorities/resource_allocation/resource_allocation.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/row_score_cache.h"

namespace kestrel::priorities {

class NodeResourcesBalancedAllocation : public framework::PreScorePlugin,
                                        public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "NodeResourcesBalancedAllocation";

  // Create()
  //
  // Defaults (cpu and memory) and validates `args` as upstream does.
  // `names` interns resource names.
  static absl::StatusOr<std::unique_ptr<NodeResourcesBalancedAllocation>> Create(
      const config::NodeResourcesBalancedAllocationArgs& args, model::Interner& names);

  absl::string_view Name() const override { return kName; }

  // Skip for best-effort pods.
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows: when every resource is one the node table holds.
  bool ScoresRows(const framework::CycleState&, const model::Pod&) const override {
    return !has_scalar_;
  }
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;
  bool ScoreRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                        std::string* key) const override {
    model::AppendScoredRequestsKey(pod, key);
    return true;
  }

 private:
  explicit NodeResourcesBalancedAllocation(std::vector<ScoredResource> resources)
      : resources_(std::move(resources)), has_scalar_(HasScalar(resources_)) {}

  bool IsBestEffort(const model::Pod& pod) const;

  std::vector<ScoredResource> resources_;
  // Row scores kept between cycles for pods with the same requests.
  mutable framework::RowScoreCache row_cache_;
  bool has_scalar_;
};

// Upstream balancedResourceScorer; entries with allocatable 0 are left out.
int64_t BalancedResourceScore(absl::Span<const int64_t> requested,
                              absl::Span<const int64_t> allocatable);

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_NODE_RESOURCES_BALANCED_ALLOCATION_NODE_RESOURCES_BALANCED_ALLOCATION_H_
