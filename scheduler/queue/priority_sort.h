// File: priority_sort.h
//
// PrioritySort, the default QueueSort plugin: higher priority first, then
// earlier arrival (upstream queuesort.PrioritySort). Kestrel breaks a tie in
// timestamp by arrival sequence so the order is total and repeatable.

#ifndef KESTREL_SCHEDULER_QUEUE_PRIORITY_SORT_H_
#define KESTREL_SCHEDULER_QUEUE_PRIORITY_SORT_H_

#include "scheduler/framework/interface.h"

namespace kestrel::queue {

class PrioritySort final : public framework::QueueSortPlugin {
 public:
  static constexpr char kName[] = "PrioritySort";
  absl::string_view Name() const override { return kName; }

  bool Less(const framework::QueuedPodInfo& a,
            const framework::QueuedPodInfo& b) const override {
    if (a.pod->priority != b.pod->priority) return a.pod->priority > b.pod->priority;
    if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
    return a.sequence < b.sequence;
  }
};

}  // namespace kestrel::queue

#endif  // KESTREL_SCHEDULER_QUEUE_PRIORITY_SORT_H_
