// File: scheduling_gates.h
//
// SchedulingGates, the default PreEnqueue plugin: a pod whose
// spec.schedulingGates is not empty stays out of the active queue, gated,
// until an update removes every gate (upstream schedulinggates, 1.30 GA).
// Its status is UnschedulableAndUnresolvable "waiting for scheduling gates:
// [a b]", as upstream formats the list.
//
// It registers no cluster event, as upstream's with SchedulerQueueingHints
// off: no node or pod elsewhere can lift a gate, only the pod's own update
// (SchedulingQueue::Update runs PreEnqueue again).

#ifndef KESTREL_SCHEDULER_QUEUE_SCHEDULING_GATES_H_
#define KESTREL_SCHEDULER_QUEUE_SCHEDULING_GATES_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "scheduler/framework/interface.h"

namespace kestrel::queue {

class SchedulingGates final : public framework::PreEnqueuePlugin,
                              public framework::EnqueueExtensions {
 public:
  static constexpr char kName[] = "SchedulingGates";
  absl::string_view Name() const override { return kName; }

  framework::Status PreEnqueue(const model::Pod& pod) const override {
    if (pod.scheduling_gates.empty()) return framework::Status();
    return framework::Status(
        framework::Code::kUnschedulableAndUnresolvable,
        absl::StrCat("waiting for scheduling gates: [",
                     absl::StrJoin(pod.scheduling_gates, " "), "]"));
  }

  std::vector<framework::ClusterEvent> EventsToRegister() const override { return {}; }
};

}  // namespace kestrel::queue

#endif  // KESTREL_SCHEDULER_QUEUE_SCHEDULING_GATES_H_
