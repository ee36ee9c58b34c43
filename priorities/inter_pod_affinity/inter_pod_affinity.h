// File: inter_pod_affinity.h
//
// InterPodAffinity, the registered plugin (upstream
// plugins/interpodaffinity): the filter of predicates/inter_pod_affinity plus
// scoring (scoring.go). A node's raw score is, summed over topology keys, the
// score of its domain, where a domain gains or loses:
//
//   + weight   per existing pod there matching a preferred affinity term of
//              the pod (- for preferred anti-affinity terms);
//   + hardPodAffinityWeight  per existing pod there whose required affinity
//              term matches the pod (symmetry);
//   + weight   per existing pod there whose preferred affinity term matches
//              the pod (- for its preferred anti-affinity terms).
//
// NormalizeScore maps [min, max] to [0, 100] in float64, as upstream.
// PreScore reads per-domain counts from the snapshot's AffinityIndex, so its
// cost is O(distinct terms x domains), not O(pods).
//
// Example:
//   ASSIGN_OR_RETURN(auto plugin, InterPodAffinity::Create(args));

#ifndef KESTREL_PRIORITIES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_
#define KESTREL_PRIORITIES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_

#include <memory>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "predicates/inter_pod_affinity/inter_pod_affinity.h"
#include "scheduler/framework/interface.h"

namespace kestrel::priorities {

class InterPodAffinity : public predicates::InterPodAffinityFilter,
                         public framework::PreScorePlugin,
                         public framework::ScorePlugin {
 public:
  static constexpr int32_t kDefaultHardPodAffinityWeight = 1;

  // Create()
  //
  // Defaults and validates `args` as upstream (hardPodAffinityWeight in
  // [0, 100], default 1).
  static absl::StatusOr<std::unique_ptr<InterPodAffinity>> Create(
      const config::InterPodAffinityArgs& args);

  absl::string_view Name() const override { return kName; }

  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  bool ScoresRows(const framework::CycleState& state, const model::Pod& pod) const override;
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;
  bool NormalizesScores() const override { return true; }
  framework::Status NormalizeScore(const framework::CycleState& state, const model::Pod& pod,
                                   absl::Span<framework::NodeScore> scores) const override;

  int32_t hard_pod_affinity_weight() const { return hard_pod_affinity_weight_; }

 private:
  InterPodAffinity(int32_t hard_weight, bool ignore_existing_preferred)
      : hard_pod_affinity_weight_(hard_weight),
        ignore_preferred_terms_of_existing_pods_(ignore_existing_preferred) {}

  int32_t hard_pod_affinity_weight_;
  bool ignore_preferred_terms_of_existing_pods_;
};

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_
