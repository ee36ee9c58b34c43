// File: node_resources_fit.h
//
// NodeResourcesFit, the registered plugin (upstream
// plugins/noderesources/fit.go): the filter of predicates/node_resources_fit
// plus scoring by one strategy from NodeResourcesFitArgs.scoringStrategy:
//
//   LeastAllocated (default)   per resource (allocatable - requested) * 100 / allocatable
//   MostAllocated              per resource requested * 100 / allocatable
//   RequestedToCapacityRatio   per resource shape(requested * 100 / allocatable),
//                              shape scores scaled from [0, 10] to [0, 100]
//
// then the weighted mean over the configured resources (default cpu:1,
// memory:1), in upstream's integer arithmetic. "requested" is the node's
// requests plus the pod's, with non-zero defaults for cpu and memory.
//
// Example:
//   absl::StatusOr<std::unique_ptr<NodeResourcesFit>> fit =
//       NodeResourcesFit::Create(args, interner);

#ifndef KESTREL_PRIORITIES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_
#define KESTREL_PRIORITIES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/template_key.h"
#include "predicates/node_resources_fit/node_resources_fit.h"
#include "priorities/resource_allocation/resource_allocation.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/row_score_cache.h"

namespace kestrel::priorities {

class NodeResourcesFit : public predicates::NodeResourcesFitFilter,
                         public framework::PreScorePlugin,
                         public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "NodeResourcesFit";

  // A point of the RequestedToCapacityRatio shape, score already in [0, 100].
  struct ShapePoint {
    int64_t utilization;
    int64_t score;
  };

  // Create()
  //
  // Defaults and validates `args` as upstream does, then builds the plugin.
  // `names` interns resource names and must outlive the plugin.
  static absl::StatusOr<std::unique_ptr<NodeResourcesFit>> Create(
      const config::NodeResourcesFitArgs& args, model::Interner& names);

  absl::string_view Name() const override { return kName; }

  // Readies the row cache for the pod's requests.
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows: when every scored resource is one the node table holds.
  bool ScoresRows(const framework::CycleState&, const model::Pod&) const override {
    return !has_scalar_;
  }
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;
  // The score reads the node and the pod's requests (non-zero defaults for
  // cpu and memory; scalars as requested).
  bool ScoreRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                        std::string* key) const override {
    model::AppendScoredRequestsKey(pod, key);
    return true;
  }

 private:
  // The strategy's score over the per-resource (allocatable, requested)
  // pairs, in resources_ order.
  int64_t Combine(const AllocatableRequested* ar) const;

  enum class Strategy { kLeastAllocated, kMostAllocated, kRequestedToCapacityRatio };

  NodeResourcesFit(const config::NodeResourcesFitArgs& args, model::Interner& names);

  Strategy strategy_ = Strategy::kLeastAllocated;
  std::vector<ScoredResource> resources_;
  bool has_scalar_ = false;
  // Row scores kept between cycles for pods with the same requests.
  mutable framework::RowScoreCache row_cache_;
  std::vector<ShapePoint> shape_;
};

// Upstream helper.BuildBrokenLinearFunction: shape[0].score below the first
// point, the last score above the last, linear (integer division) between.
int64_t BrokenLinear(const std::vector<NodeResourcesFit::ShapePoint>& shape, int64_t p);

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_NODE_RESOURCES_FIT_NODE_RESOURCES_FIT_H_
