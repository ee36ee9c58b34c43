// File: node_affinity.h
//
// NodeAffinity, the registered plugin (upstream plugins/nodeaffinity): the
// filter of predicates/node_affinity plus scoring. A node's raw score is the
// sum of the weights of the preferred terms it matches, the pod's
// spec.affinity.nodeAffinity.preferredDuringScheduling... and the profile's
// addedAffinity preferred terms alike; NormalizeScore scales them so the best
// node scores 100 (upstream helper.DefaultNormalizeScore(MaxNodeScore,
// reverse=false)). PreScore returns Skip when neither has a term, and an
// Error when one of the pod's preferred terms does not parse, as upstream:
// the cycle then fails with `running PreScore plugin "NodeAffinity": <the
// parse errors>` (framework.RunPreScorePlugins), where there are two or
// more feasible nodes to score.
//
// Example:
//   absl::StatusOr<std::unique_ptr<NodeAffinity>> plugin =
//       NodeAffinity::Create(args, interner);

#ifndef KESTREL_PRIORITIES_NODE_AFFINITY_NODE_AFFINITY_H_
#define KESTREL_PRIORITIES_NODE_AFFINITY_NODE_AFFINITY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "model/interner.h"
#include "model/objects.h"
#include "model/template_key.h"
#include "predicates/node_affinity/node_affinity.h"
#include "scheduler/framework/interface.h"

namespace kestrel::priorities {

// PreferredScore()
//
// Upstream PreferredSchedulingTerms.Score: the sum of the weights of the
// terms in `terms` that `node` matches.
int64_t PreferredScore(const std::vector<model::PreferredSchedulingTerm>& terms,
                       const model::Node& node);

class NodeAffinity : public predicates::NodeAffinityFilter,
                     public framework::PreScorePlugin,
                     public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "NodeAffinity";

  // Create()
  //
  // Validates `args` as upstream does and compiles addedAffinity. `names`
  // interns label keys, values and node names.
  static absl::StatusOr<std::unique_ptr<NodeAffinity>> Create(const config::NodeAffinityArgs& args,
                                                              model::Interner& names);

  NodeAffinity(predicates::AddedAffinity added, const model::Interner* names);

  absl::string_view Name() const override { return kName; }

  // Skip when the pod has no preferred terms and the profile adds none.
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  // Needs no state: exact with or without PreScore.
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows: the same sum, read through each row's NodeInfo.
  bool ScoresRows(const framework::CycleState&, const model::Pod&) const override { return true; }
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;

  // The sum reads the pod's preferred terms and the node alone (addedAffinity
  // is the plugin's own).
  bool ScoreRowLocalKey(const framework::CycleState&, const model::Pod& pod,
                        std::string* key) const override {
    model::AppendKey(pod.preferred_node_affinity, key);
    return true;
  }

  bool NormalizesScores() const override { return true; }
  framework::Status NormalizeScore(const framework::CycleState& state, const model::Pod& pod,
                                   absl::Span<framework::NodeScore> scores) const override;
  bool NormalizesByMax(bool* reverse) const override {
    *reverse = false;
    return true;
  }

 private:
  int64_t RawScore(const model::Pod& pod, const model::Node& node) const;

  std::vector<model::PreferredSchedulingTerm> added_preferred_;
};

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_NODE_AFFINITY_NODE_AFFINITY_H_
