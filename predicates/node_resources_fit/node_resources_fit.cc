#include "predicates/node_resources_fit/node_resources_fit.h"

#include "absl/strings/str_cat.h"

namespace kestrel::predicates {

NodeResourcesFitFilter::NodeResourcesFitFilter(const config::NodeResourcesFitArgs& args,
                                               model::Interner& names)
    : names_(names) {
  for (const std::string& r : args.ignoredresources()) {
    // Only extended resources can be ignored; others are never looked up.
    if (IsExtendedResourceName(r)) ignored_resources_.insert(names.Intern(r));
  }
  for (const std::string& g : args.ignoredresourcegroups()) ignored_groups_.insert(g);
}

framework::Status NodeResourcesFitFilter::PreFilter(framework::CycleState& /*state*/,
                                                    const model::Pod& /*pod*/,
                                                    framework::NodeInfoList /*nodes*/) {
  return framework::Status();
}

bool NodeResourcesFitFilter::Ignored(model::Id resource) const {
  if (ignored_resources_.contains(resource)) return true;
  if (ignored_groups_.empty()) return false;
  absl::string_view name = names_.Name(resource);
  if (!IsExtendedResourceName(name)) return false;
  return ignored_groups_.contains(name.substr(0, name.find('/')));
}

framework::Status NodeResourcesFitFilter::Filter(const framework::CycleState& /*state*/,
                                                 const model::Pod& pod,
                                                 const framework::NodeInfo& node) const {
  // Every shortfall is a reason, in upstream's order: pods, cpu, memory,
  // ephemeral storage, extended resources. A request above what even an
  // empty node has makes the status unresolvable.
  framework::Code code = framework::Code::kUnschedulable;
  std::vector<std::string> reasons;
  const model::Resources& allocatable = node.allocatable();
  const model::Resources& used = node.requested();

  const int64_t pods = static_cast<int64_t>(node.pods().size());
  // Preemption can free pod slots: never unresolvable.
  if (pods + 1 > allocatable.allowed_pods) reasons.emplace_back("Too many pods");

  const model::Resources& request = pod.requests;
  if (!request.IsZero()) {
    // A zero request is never short.
    auto check = [&](absl::string_view reason, int64_t want, int64_t in_use, int64_t have) {
      if (want <= 0 || want <= have - in_use) return;
      if (want > have) code = framework::Code::kUnschedulableAndUnresolvable;
      reasons.emplace_back(reason);
    };
    check("Insufficient cpu", request.milli_cpu, used.milli_cpu, allocatable.milli_cpu);
    check("Insufficient memory", request.memory, used.memory, allocatable.memory);
    check("Insufficient ephemeral-storage", request.ephemeral_storage, used.ephemeral_storage,
          allocatable.ephemeral_storage);
    for (const auto& [id, quantity] : request.scalar) {
      if (quantity == 0 || Ignored(id)) continue;
      const int64_t have = allocatable.Scalar(id);
      const int64_t in_use = used.Scalar(id);
      if (quantity > have - in_use) {
        if (quantity > have) code = framework::Code::kUnschedulableAndUnresolvable;
        reasons.push_back(absl::StrCat("Insufficient ", names_.Name(id)));
      }
    }
  }
  if (reasons.empty()) return framework::Status();
  return framework::Status(code, std::move(reasons));
}

bool NodeResourcesFitFilter::FiltersRows(const framework::CycleState& /*state*/,
                                         const model::Pod& /*pod*/) const {
  return true;
}

void NodeResourcesFitFilter::FilterRows(const framework::CycleState& /*state*/,
                                        const model::Pod& pod, const framework::NodeTable& t,
                                        size_t begin, size_t end, uint8_t* passed) const {
  const model::Resources& req = pod.requests;
  // As Filter(): pods first; a request of zero is never short.
  for (size_t r = begin; r < end; ++r) {
    passed[r] &= t.num_pods[r] + 1 <= t.alloc_pods[r];
  }
  if (req.IsZero()) return;
  if (req.milli_cpu > 0) {
    for (size_t r = begin; r < end; ++r) {
      passed[r] &= req.milli_cpu <= t.alloc_milli_cpu[r] - t.req_milli_cpu[r];
    }
  }
  if (req.memory > 0) {
    for (size_t r = begin; r < end; ++r) {
      passed[r] &= req.memory <= t.alloc_memory[r] - t.req_memory[r];
    }
  }
  if (req.ephemeral_storage > 0) {
    for (size_t r = begin; r < end; ++r) {
      passed[r] &= req.ephemeral_storage <= t.alloc_ephemeral[r] - t.req_ephemeral[r];
    }
  }
  for (const auto& [id, quantity] : req.scalar) {
    if (quantity == 0 || Ignored(id)) continue;
    const framework::NodeTable::ScalarColumn* c = t.FindScalar(id);
    if (c == nullptr) {
      // No node has any: it fits nowhere.
      std::fill(passed + begin, passed + end, 0);
      return;
    }
    for (size_t r = begin; r < end; ++r) passed[r] &= quantity <= c->alloc[r] - c->req[r];
  }
}

}  // namespace kestrel::predicates
