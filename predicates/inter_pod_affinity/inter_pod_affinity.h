// File: inter_pod_affinity.h
//
// The filter half of InterPodAffinity (upstream
// plugins/interpodaffinity/filtering.go). A node passes when:
//
//   1. for every required affinity term of the pod, the node has the term's
//      topology key and its domain holds a pod matching all the terms; or,
//      when no pod in the cluster matches them all, the pod matches its own
//      terms and the node has every topology key (the first pod of a group);
//      else UnschedulableAndUnresolvable
//      "node(s) didn't match pod affinity rules";
//   2. no required anti-affinity term of the pod has a matching pod in the
//      node's domain; else Unschedulable
//      "node(s) didn't match pod anti-affinity rules";
//   3. no existing pod's required anti-affinity term that matches the pod
//      has a carrier in the node's domain (symmetry); else Unschedulable
//      "node(s) didn't satisfy existing pods anti-affinity rules".
//
// PreFilter reads the snapshot's AffinityIndex (scheduler/cache): per
// distinct term, counts per topology domain, so it never scans pods. The
// per-domain counts it keeps are copied on write when preemption adds or
// removes pods (AddPod/RemovePod). Those run beside each other in
// preemption's dry runs and only read the index: a nominated pod's term on
// a topology key nobody registered is counted by the node's label value.

#ifndef KESTREL_PREDICATES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_
#define KESTREL_PREDICATES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/objects.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/framework/interface.h"

namespace kestrel::predicates {

// Per-domain counts that refer to the index until they are first changed.
template <typename T>
class CountsRef {
 public:
  CountsRef() = default;
  explicit CountsRef(const std::vector<T>* base) : base_(base) {}
  explicit CountsRef(std::vector<T> own) : own_(std::move(own)) {}
  const std::vector<T>& get() const { return own_ ? *own_ : *base_; }
  std::vector<T>& mutate() {
    if (!own_) own_.emplace(base_->begin(), base_->end());
    return *own_;
  }

 private:
  const std::vector<T>* base_ = nullptr;
  std::optional<std::vector<T>> own_;
};

class InterPodAffinityFilter : public framework::PreFilterPlugin,
                               public framework::FilterPlugin,
                               public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "InterPodAffinity";
  static constexpr char kErrReasonExistingAntiAffinityRulesNotMatch[] =
      "node(s) didn't satisfy existing pods anti-affinity rules";
  static constexpr char kErrReasonAffinityRulesNotMatch[] =
      "node(s) didn't match pod affinity rules";
  static constexpr char kErrReasonAntiAffinityRulesNotMatch[] =
      "node(s) didn't match pod anti-affinity rules";

  absl::string_view Name() const override { return kName; }

  // Upstream's interpodaffinity EventsToRegister (1.31) with the SchedulerQueueingHints
  // gate off, where Node/UpdateNodeTaint and UpdateNodeLabel also stand for
  // node adds that a preCheck filtered out.
  std::vector<framework::ClusterEvent> EventsToRegister() const override {
    return {
      {framework::EventResource::kPod,
       framework::kAdd | framework::kUpdatePodLabel | framework::kDelete},
      {framework::EventResource::kNode,
       framework::kAdd | framework::kUpdateNodeLabel | framework::kUpdateNodeTaint},
    };
  }

  framework::Status PreFilter(framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes) override;
  bool HasExtensions() const override { return true; }
  framework::Status AddPod(framework::CycleState& state, const model::Pod& pod_to_schedule,
                           const model::PodPtr& pod_to_add,
                           const framework::NodeInfo& node) const override;
  framework::Status RemovePod(framework::CycleState& state, const model::Pod& pod_to_schedule,
                              const model::Pod& pod_to_remove,
                              const framework::NodeInfo& node) const override;

  framework::Status Filter(const framework::CycleState& state, const model::Pod& pod,
                           const framework::NodeInfo& node) const override;
  bool FiltersRows(const framework::CycleState& state, const model::Pod&) const override;
  void FilterRows(const framework::CycleState& state, const model::Pod& pod,
                  const framework::NodeTable& table, size_t begin, size_t end,
                  uint8_t* passed) const override;

  // What PreFilter computed, per topology key: the counts Filter checks.
  struct KeyCounts {
    const cache::AffinityIndex::Topology* topology;
    CountsRef<int32_t> counts;  // int32: pods of a selection
    int64_t total = 0;          // their sum (required affinity only)
  };
  struct ExistingKeyCounts {
    const cache::AffinityIndex::Topology* topology;
    CountsRef<int64_t> counts;  // carriers of matching existing terms
  };
  struct State;

 private:
  framework::Status UpdateWithPod(framework::CycleState& state, const model::Pod& incoming,
                                  const model::Pod& other, const framework::NodeInfo& node,
                                  int sign) const;
};

}  // namespace kestrel::predicates

#endif  // KESTREL_PREDICATES_INTER_POD_AFFINITY_INTER_POD_AFFINITY_H_
