// File: default_preemption.h
//
// DefaultPreemption, the PostFilter plugin that runs when no node fits a pod
// (upstream pkg/scheduler/framework/plugins/defaultpreemption and the
// preemption Evaluator):
//
//   1. the pod must be eligible (PodEligibleToPreemptOthers);
//   2. candidates are the nodes whose filters said Unschedulable; those that
//      said UnschedulableAndUnresolvable get "Preemption is not helpful for
//      scheduling";
//   3. a dry run (SelectVictimsOnNode) over the candidates from a random
//      offset, stopping once NumCandidatesToFind candidates are found and at
//      least one of them violates no PodDisruptionBudget;
//   4. PickOneNodeForPreemption chooses the node; its victims are deleted
//      through the handle's PodDeleter, lower-priority pods nominated to it
//      lose their nomination, and the pod is nominated there.
//
// When no candidate is found the status is Unschedulable with upstream's
// text, e.g. "preemption: 0/3 nodes are available: 3 No preemption victims
// found for incoming pod.", which FitErrorMessage appends to the pod's reason.
//
// The dry run is the part the rescheduler shares (DryRunPreemption): it runs
// in parallel on the cycle's Parallelizer, in blocks, and takes the results in
// node order, so the outcome does not depend on the number of threads.

#ifndef KESTREL_SCHEDULER_PREEMPTION_DEFAULT_PREEMPTION_H_
#define KESTREL_SCHEDULER_PREEMPTION_DEFAULT_PREEMPTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "model/objects.h"
#include "model/pdb.h"
#include "scheduler/framework/cycle_state.h"
#include "scheduler/framework/framework.h"
#include "scheduler/framework/interface.h"
#include "scheduler/preemption/candidates.h"
#include "scheduler/preemption/victims.h"

namespace kestrel::preemption {

inline constexpr char kPreemptionNotHelpful[] = "Preemption is not helpful for scheduling";

struct DryRunOptions {
  // Where in `nodes` to start (wrapping around) and how many candidates are
  // enough (see NumCandidatesToFind).
  size_t offset = 0;
  int32_t num_candidates = 0;
  // Narrows the victims, as VictimHooks::eligible / any_priority.
  std::function<bool(const model::Pod&)> eligible;
  bool any_priority = false;
};

struct DryRunResult {
  // Non-violating candidates first, then violating ones, each in node order.
  std::vector<Candidate> candidates;
  // Why each node that was tried is not a candidate.
  std::vector<framework::NodeStatus> statuses;
  // The first Error a node gave, if any.
  framework::Status error;
};

// DryRunPreemption()
//
// Upstream Evaluator.DryRunPreemption over `nodes` for `pod`, whose
// PreFilter ran on `state`; each node gets its own clone of `state`.
DryRunResult DryRunPreemption(const framework::Framework& fw,
                              const framework::CycleState& state, const model::Pod& pod,
                              framework::NodeInfoList nodes,
                              absl::Span<const model::PdbPtr> pdbs, const DryRunOptions& options,
                              absl::Time now);

class DefaultPreemption : public framework::PostFilterPlugin,
                          public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "DefaultPreemption";

  // Create()
  //
  // Validates `args` (CompilePreemptionArgs). The handle's framework is
  // required; without a deleter the plugin finds candidates but cannot
  // delete, and says so as an Error.
  static absl::StatusOr<std::unique_ptr<DefaultPreemption>> Create(
      const ::kestrel::config::DefaultPreemptionArgs& args, const framework::Handle& handle);

  absl::string_view Name() const override { return kName; }

  // No events: a PostFilter never puts a pod among the unschedulable ones
  // (upstream's EventsToRegister with async preemption off returns none; in
  // 1.31 the plugin had none, and so registered the wildcard, which only
  // made every event "of interest").
  std::vector<framework::ClusterEvent> EventsToRegister() const override { return {}; }

  framework::Status PostFilter(framework::CycleState& state, const model::Pod& pod,
                               const framework::NodeToStatus& filtered,
                               framework::PostFilterResult* result) override;

  const PreemptionArgs& args() const { return args_; }

 private:
  DefaultPreemption(PreemptionArgs args, const framework::Handle& handle)
      : args_(args), handle_(handle), rng_(handle.seed) {}

  // Upstream Evaluator.Preempt, without the "preemption: " prefix.
  framework::Status Preempt(framework::CycleState& state, const model::Pod& pod,
                            const framework::NodeToStatus& filtered,
                            framework::PostFilterResult* result);

  PreemptionArgs args_;
  framework::Handle handle_;
  std::mt19937_64 rng_;
};

}  // namespace kestrel::preemption

#endif  // KESTREL_SCHEDULER_PREEMPTION_DEFAULT_PREEMPTION_H_
