// File: fit_error.h
//
// The message a pod gets when no node fits, exactly as upstream's
// FitError.Error():
//
//   0/5 nodes are available: 2 Insufficient cpu, 3 node(s) were unschedulable.
//
// The histogram counts every reason of every node's status, sorted as
// strings. When PreFilter rejected the pod, its message stands alone instead.
// PostFilter's (preemption's) message follows: " preemption: ...".

#ifndef KESTREL_SCHEDULER_FIT_ERROR_H_
#define KESTREL_SCHEDULER_FIT_ERROR_H_

#include <string>
#include <vector>

#include "scheduler/framework/interface.h"

namespace kestrel::scheduler {

struct Diagnosis {
  // The status of every node that was evaluated and rejected.
  std::vector<framework::NodeStatus> node_statuses;
  std::string pre_filter_msg;
  std::string post_filter_msg;
};

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis);

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_FIT_ERROR_H_
