// File: resource_allocation.h
//
// The common part of the resource scorers (upstream
// noderesources/resource_allocation.go): for each configured resource, the
// node's allocatable amount and what would be requested on it with the pod.
//
// Upstream has two flavours. NodeResourcesFit scores with the *non-zero*
// requests for cpu and memory (pods that request none count as 100m / 200Mi);
// NodeResourcesBalancedAllocation scores with the actual requests
// (`RequestMode::kRequested`). Ephemeral storage and scalar resources always
// use the actual requests. A scalar resource the pod does not request, or a
// resource the node has none of, is left out of the score (allocatable 0).

#ifndef KESTREL_PRIORITIES_RESOURCE_ALLOCATION_RESOURCE_ALLOCATION_H_
#define KESTREL_PRIORITIES_RESOURCE_ALLOCATION_RESOURCE_ALLOCATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/interner.h"
#include "model/objects.h"
#include "scheduler/framework/node_info.h"
#include "scheduler/framework/node_table.h"

namespace kestrel::priorities {

// A resource to score on, resolved once from its name.
struct ScoredResource {
  enum class Kind { kCpu, kMemory, kEphemeralStorage, kScalar };

  Kind kind = Kind::kCpu;
  model::Id id = model::kNoId;  // for kScalar
  int64_t weight = 1;
};

// Resolves "cpu", "memory", "ephemeral-storage", or any other name as a
// scalar resource interned in `names`.
ScoredResource ResolveResource(absl::string_view name, int64_t weight, model::Interner& names);

enum class RequestMode {
  kNonZero,    // NodeResourcesFit: non-zero defaults for cpu and memory
  kRequested,  // NodeResourcesBalancedAllocation: requests as they are
};

// The pod's request of `resource` (upstream calculatePodResourceRequest).
int64_t PodRequest(const ScoredResource& resource, const model::Pod& pod, RequestMode mode);

// What one resource contributes to a score.
struct AllocatableRequested {
  int64_t allocatable = 0;  // 0: leave the resource out
  int64_t requested = 0;    // on the node, including the pod
};

// Upstream calculateResourceAllocatableRequest. `pod_request` is
// PodRequest(resource, pod, mode).
AllocatableRequested CalculateAllocatableRequested(const ScoredResource& resource,
                                                   const framework::NodeInfo& node,
                                                   int64_t pod_request, RequestMode mode);

// One scored resource as columns of the node table: allocatable[row] and
// requested[row] + pod (the pod's request already added), so per-row loops
// need no switch on the resource kind.
struct ResourceColumns {
  const int64_t* allocatable;
  const int64_t* requested;
  int64_t pod;

  AllocatableRequested At(uint32_t row) const {
    return {allocatable[row], requested[row] + pod};
  }
};

// Columns for a non-scalar `resource`, with `pod`'s request for it.
ResourceColumns Columns(const ScoredResource& resource, const framework::NodeTable& table,
                        const model::Pod& pod, RequestMode mode);

// True when some resource of `resources` is a scalar (extended) resource,
// which the node table does not hold.
bool HasScalar(const std::vector<ScoredResource>& resources);

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_RESOURCE_ALLOCATION_RESOURCE_ALLOCATION_H_
