#include "priorities/resource_allocation/resource_allocation.h"

namespace kestrel::priorities {

ScoredResource ResolveResource(absl::string_view name, int64_t weight,
                               model::Interner& names) {
  ScoredResource r;
  r.weight = weight;
  if (name == "cpu") {
    r.kind = ScoredResource::Kind::kCpu;
  } else if (name == "memory") {
    r.kind = ScoredResource::Kind::kMemory;
  } else if (name == "ephemeral-storage") {
    r.kind = ScoredResource::Kind::kEphemeralStorage;
  } else {
    r.kind = ScoredResource::Kind::kScalar;
    r.id = names.Intern(name);
  }
  return r;
}

int64_t PodRequest(const ScoredResource& resource, const model::Pod& pod, RequestMode mode) {
  const bool non_zero = mode == RequestMode::kNonZero;
  switch (resource.kind) {
    case ScoredResource::Kind::kCpu:
      return non_zero ? pod.non_zero_milli_cpu : pod.requests.milli_cpu;
    case ScoredResource::Kind::kMemory:
      return non_zero ? pod.non_zero_memory : pod.requests.memory;
    case ScoredResource::Kind::kEphemeralStorage:
      return pod.requests.ephemeral_storage;
    case ScoredResource::Kind::kScalar:
      return pod.requests.Scalar(resource.id);
  }
  return 0;
}

AllocatableRequested CalculateAllocatableRequested(const ScoredResource& resource,
                                                   const framework::NodeInfo& node,
                                                   int64_t pod_request, RequestMode mode) {
  if (node.node() == nullptr) return {};
  const model::Resources& allocatable = node.allocatable();
  const model::Resources& requested = node.requested();
  const bool non_zero = mode == RequestMode::kNonZero;
  switch (resource.kind) {
    case ScoredResource::Kind::kCpu:
      return {allocatable.milli_cpu,
              (non_zero ? node.non_zero_milli_cpu() : requested.milli_cpu) + pod_request};
    case ScoredResource::Kind::kMemory:
      return {allocatable.memory,
              (non_zero ? node.non_zero_memory() : requested.memory) + pod_request};
    case ScoredResource::Kind::kEphemeralStorage:
      return {allocatable.ephemeral_storage, requested.ephemeral_storage + pod_request};
    case ScoredResource::Kind::kScalar:
      // A scalar resource the pod does not request is left out of the score.
      if (pod_request == 0) return {};
      return {allocatable.Scalar(resource.id), requested.Scalar(resource.id) + pod_request};
  }
  return {};
}

ResourceColumns Columns(const ScoredResource& resource, const framework::NodeTable& t,
                        const model::Pod& pod, RequestMode mode) {
  const bool non_zero = mode == RequestMode::kNonZero;
  const int64_t request = PodRequest(resource, pod, mode);
  switch (resource.kind) {
    case ScoredResource::Kind::kCpu:
      return {t.alloc_milli_cpu.data(),
              (non_zero ? t.nz_milli_cpu : t.req_milli_cpu).data(), request};
    case ScoredResource::Kind::kMemory:
      return {t.alloc_memory.data(), (non_zero ? t.nz_memory : t.req_memory).data(), request};
    case ScoredResource::Kind::kEphemeralStorage:
    case ScoredResource::Kind::kScalar:  // callers check HasScalar first
      break;
  }
  return {t.alloc_ephemeral.data(), t.req_ephemeral.data(), request};
}

bool HasScalar(const std::vector<ScoredResource>& resources) {
  for (const ScoredResource& r : resources) {
    if (r.kind == ScoredResource::Kind::kScalar) return true;
  }
  return false;
}

}  // namespace kestrel::priorities
