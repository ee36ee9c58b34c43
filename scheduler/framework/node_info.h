// File: node_info.h
//
// NodeInfo is a node plus what the scheduler has placed on it: its pods, the
// sum of their requests, the host ports they hold. Filters and scores read the
// NodeInfo they are handed and nothing else about the node, so preemption can
// evaluate "what if these pods were gone" on a copy.
//
// The cache owns the authoritative NodeInfos; each scheduling cycle reads a
// snapshot of them (see scheduler/cache/snapshot.h).

#ifndef KESTREL_SCHEDULER_FRAMEWORK_NODE_INFO_H_
#define KESTREL_SCHEDULER_FRAMEWORK_NODE_INFO_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "model/objects.h"
#include "scheduler/framework/pod_list.h"

namespace kestrel::framework {

class NodeInfo {
 public:
  NodeInfo() = default;
  explicit NodeInfo(model::NodePtr node) : node_(std::move(node)) {}

  // The node; nullptr for a NodeInfo that only holds pods of a node the cache
  // has not seen yet (pods may arrive before their node).
  const model::Node* node() const { return node_.get(); }
  const model::NodePtr& node_ptr() const { return node_; }
  void SetNode(model::NodePtr node) { node_ = std::move(node); }

  // The node's allocatable resources and unschedulable flag; zero and false
  // without a node.
  const model::Resources& allocatable() const;
  bool unschedulable() const { return node_ != nullptr && node_->unschedulable; }

  // Shared with copies of this NodeInfo until either changes (PodList), so
  // the snapshot's copy of a node costs little however many pods it holds.
  const PodList& pods() const { return pods_; }
  // Sum of the pods' effective requests.
  const model::Resources& requested() const { return requested_; }
  // Sum of the pods' requests with upstream's non-zero defaults.
  int64_t non_zero_milli_cpu() const { return non_zero_milli_cpu_; }
  int64_t non_zero_memory() const { return non_zero_memory_; }
  const std::vector<model::HostPort>& used_ports() const { return used_ports_; }

  // Bumped on every change; the snapshot copies only what changed.
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }

  void AddPod(model::PodPtr pod);
  // Removes the pod with the same namespace and name (uid when set).
  absl::Status RemovePod(const model::Pod& pod);

  // True when `port` collides with a port already held on this node: same
  // protocol and port, and the same host IP or either one the 0.0.0.0 wildcard.
  bool PortInUse(const model::HostPort& port) const;

 private:
  model::NodePtr node_;
  PodList pods_;
  model::Resources requested_;
  int64_t non_zero_milli_cpu_ = 0;
  int64_t non_zero_memory_ = 0;
  std::vector<model::HostPort> used_ports_;
  uint64_t generation_ = 0;
};

// NodeInfoList is the view of the cluster a cycle works on.
using NodeInfoList = absl::Span<const NodeInfo* const>;

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_NODE_INFO_H_
