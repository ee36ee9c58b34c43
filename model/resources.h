// File: resources.h
//
// Resources is the scheduler's resource vector, in upstream's units: cpu in
// millicores, memory and ephemeral storage in bytes, the allocatable pod count,
// and "scalar" resources (extended resources such as nvidia.com/gpu, and
// hugepages-*) keyed by interned resource name.

#ifndef KESTREL_MODEL_RESOURCES_H_
#define KESTREL_MODEL_RESOURCES_H_

#include <cstdint>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "model/interner.h"

namespace kestrel::model {

// Upstream defaults used for scoring pods that request nothing
// (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest).
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

// Upstream v1helper.IsExtendedResourceName for well-formed names: not native
// (has a '/' and no "kubernetes.io/") and not a quota "requests." name.
bool IsExtendedResourceName(absl::string_view name);

// Upstream schedutil.IsScalarResourceName: extended resources, hugepages-*,
// prefixed native resources (kubernetes.io/...) and attachable volumes: the
// names kept in Resources::scalar.
bool IsScalarResourceName(absl::string_view name);

// Adds with saturation at the int64 limits, as Quantity arithmetic clamps.
int64_t SaturatingAdd(int64_t a, int64_t b);

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t allowed_pods = 0;  // allocatable "pods"; unused in requests
  // Sorted by resource id.
  absl::InlinedVector<std::pair<Id, int64_t>, 1> scalar;

  int64_t Scalar(Id name) const;
  void SetScalar(Id name, int64_t value);

  // Adds `other` (all fields but allowed_pods).
  void Add(const Resources& other);
  // Subtracts `other` (all fields but allowed_pods).
  void Subtract(const Resources& other);
  // Per-field maximum (all fields but allowed_pods).
  void Max(const Resources& other);

  // True when cpu, memory, ephemeral storage and every scalar are zero.
  bool IsZero() const;

  friend bool operator==(const Resources& a, const Resources& b) {
    return a.milli_cpu == b.milli_cpu && a.memory == b.memory &&
           a.ephemeral_storage == b.ephemeral_storage &&
           a.allowed_pods == b.allowed_pods && a.scalar == b.scalar;
  }
};

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_RESOURCES_H_
