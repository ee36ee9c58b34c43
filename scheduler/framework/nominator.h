// File: nominator.h
//
// Nominator remembers, for pods that preempted others and wait for their
// victims to go, the node each was nominated to (upstream's nominator in the
// scheduling queue, status.nominatedNodeName). Filters account for the
// nominated pods of equal or higher priority on a node, so the room freed
// for a preemptor is not taken by a lower-priority pod in the meantime (see
// Framework::RunFilterPluginsWithNominatedPods).
//
// Example:
//   Nominator n;
//   n.Add(preemptor, "node-1");
//   for (const model::PodPtr& p : n.PodsOn("node-1")) ...
//   n.Delete(*preemptor);   // once it is bound

#ifndef KESTREL_SCHEDULER_FRAMEWORK_NOMINATOR_H_
#define KESTREL_SCHEDULER_FRAMEWORK_NOMINATOR_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "model/objects.h"

namespace kestrel::framework {

// Thread-compatible: the scheduling thread changes it; filters running in
// parallel only read it.
class Nominator {
 public:
  // Add()
  //
  // Records `pod` as nominated to `node_name`, replacing any earlier
  // nomination of the same pod (by namespace/name). An empty `node_name`
  // only deletes.
  void Add(model::PodPtr pod, const std::string& node_name);

  // Delete()
  //
  // Forgets the nomination of `pod`, if any.
  void Delete(const model::Pod& pod);

  // The pods nominated to `node_name`, in the order they were nominated.
  const std::vector<model::PodPtr>& PodsOn(absl::string_view node_name) const;

  // The node `pod_key` (namespace/name) is nominated to; empty when none.
  std::string NodeOf(absl::string_view pod_key) const;
  // The nominated pod (nominated_node_name set, as Add got it), or nullptr.
  model::PodPtr Get(absl::string_view pod_key) const;

  bool empty() const { return node_of_.empty(); }
  size_t size() const { return node_of_.size(); }

  // Every node with a nominated pod, and its pods.
  const absl::flat_hash_map<std::string, std::vector<model::PodPtr>>& by_node() const {
    return by_node_;
  }

 private:
  absl::flat_hash_map<std::string, std::vector<model::PodPtr>> by_node_;
  absl::flat_hash_map<std::string, std::string> node_of_;  // pod key -> node
};

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_NOMINATOR_H_
