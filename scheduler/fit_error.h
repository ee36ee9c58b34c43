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

#include "absl/strings/string_view.h"
#include "scheduler/framework/interface.h"

namespace kestrel::scheduler {

struct Diagnosis {
  // The status of every node that was evaluated and rejected, and of the
  // nodes that were not (absent): those a PreFilterResult left out count as
  // UnschedulableAndUnresolvable "node(s) didn't satisfy plugin(s)
  // [NodeAffinity]", attributed to the first of those plugins by name; when
  // PreFilter rejected the pod, every node is absent with its status.
  // Preemption's diagnosis counts the nodes it did not try the same way.
  framework::NodeToStatus node_to_status;
  // The PreFilter plugins that narrowed the nodes (CycleState::
  // pre_filter_plugins): upstream counts them among the plugins that made
  // the pod unschedulable.
  std::vector<absl::string_view> pre_filter_plugins;
  std::string pre_filter_msg;
  std::string post_filter_msg;
};

// How many nodes one filter plugin rejected with one reason: a bar of the
// FitError histogram, with the plugin that gave the reason.
struct ReasonCount {
  std::string plugin;  // empty: the pod itself is invalid (a bad legacy annotation)
  std::string reason;
  int nodes = 0;
};

// The reason of the nodes a PreFilterResult left out (upstream's absent-node
// status), naming the PreFilter plugins that narrowed, sorted:
// "node(s) didn't satisfy plugin(s) [NodeAffinity]".
std::string PreFilterExcludedReason(const std::vector<absl::string_view>& plugins);

// The histogram of every reason of every node's status, by plugin, sorted
// by plugin, then reason; absent nodes count with the absent status. A
// PreFilter rejection counts every node once.
std::vector<ReasonCount> FitReasons(const Diagnosis& diagnosis);

// The message from `reasons` (FitReasons(diagnosis)), so that a caller that
// keeps the histogram does not count the statuses twice.
std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis,
                            const std::vector<ReasonCount>& reasons);
std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis);

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_FIT_ERROR_H_
