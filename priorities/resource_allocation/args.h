// File: args.h
//
// Defaulting and validation of NodeResourcesFitArgs and
// NodeResourcesBalancedAllocationArgs, as upstream's
// apis/config/v1/defaults.go and validation/validation_pluginargs.go.
// Errors read as upstream's field errors, e.g.
//   scoringStrategy.resources[0].weight: Invalid value: 101: resource weight
//   of cpu not in valid range (0, 100]
// several of them joined as "[first, second]".

#ifndef KESTREL_PRIORITIES_RESOURCE_ALLOCATION_ARGS_H_
#define KESTREL_PRIORITIES_RESOURCE_ALLOCATION_ARGS_H_

#include "absl/status/status.h"
#include "api/config/config.pb.h"

namespace kestrel::priorities {

inline constexpr char kLeastAllocated[] = "LeastAllocated";
inline constexpr char kMostAllocated[] = "MostAllocated";
inline constexpr char kRequestedToCapacityRatio[] = "RequestedToCapacityRatio";
// Upstream config.MaxCustomPriorityScore: shape scores are in [0, 10].
inline constexpr int64_t kMaxCustomPriorityScore = 10;

// No scoring strategy: LeastAllocated on cpu and memory. No resources: cpu
// and memory. Weight 0 (unset): 1.
void SetDefaults(config::NodeResourcesFitArgs& args);
// No resources: cpu and memory. Weight 0 (unset): 1.
void SetDefaults(config::NodeResourcesBalancedAllocationArgs& args);

// Call on defaulted args. InvalidArgument with every problem found.
absl::Status Validate(const config::NodeResourcesFitArgs& args);
absl::Status Validate(const config::NodeResourcesBalancedAllocationArgs& args);

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_RESOURCE_ALLOCATION_ARGS_H_
