#include "predicates/node_resources_fit/node_resources_fit.h"

#include <string>
#include <utility>
#include <vector>

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

namespace {

// The shortfalls with fixed reasons, as bits, in upstream's order.
constexpr int kTooManyPods = 1, kCpu = 2, kMemory = 4, kEphemeral = 8;

// The status for a set of fixed shortfalls, one shared copy per set and
// code: a pod that fits nowhere gets a status from every node, and most
// nodes give it the same one.
const framework::Status& FixedStatus(int shortfalls, bool unresolvable) {
  static const auto* const kStatuses = [] {
    auto* out = new std::vector<framework::Status>(32);
    for (int bits = 1; bits < 16; ++bits) {
      std::vector<std::string> reasons;
      if (bits & kTooManyPods) reasons.emplace_back("Too many pods");
      if (bits & kCpu) reasons.emplace_back("Insufficient cpu");
      if (bits & kMemory) reasons.emplace_back("Insufficient memory");
      if (bits & kEphemeral) reasons.emplace_back("Insufficient ephemeral-storage");
      (*out)[bits] = framework::Status(framework::Code::kUnschedulable, reasons);
      (*out)[bits | 16] =
          framework::Status(framework::Code::kUnschedulableAndUnresolvable, std::move(reasons));
    }
    return out;
  }();
  return (*kStatuses)[shortfalls | (unresolvable ? 16 : 0)];
}

}  // namespace

framework::Status NodeResourcesFitFilter::Filter(const framework::CycleState& /*state*/,
                                                 const model::Pod& pod,
                                                 const framework::NodeInfo& node) const {
  // Every shortfall is a reason, in upstream's order: pods, cpu, memory,
  // ephemeral storage, extended resources. A request above what even an
  // empty node has makes the status unresolvable.
  bool unresolvable = false;
  int shortfalls = 0;
  std::vector<std::string> scalar_reasons;
  const model::Resources& allocatable = node.allocatable();
  const model::Resources& used = node.requested();

  const int64_t pods = static_cast<int64_t>(node.pods().size());
  // Preemption can free pod slots: never unresolvable.
  if (pods + 1 > allocatable.allowed_pods) shortfalls |= kTooManyPods;

  const model::Resources& request = pod.requests;
  if (!request.IsZero()) {
    // A zero request is never short.
    auto check = [&](int bit, int64_t want, int64_t in_use, int64_t have) {
      if (want <= 0 || want <= have - in_use) return;
      if (want > have) unresolvable = true;
      shortfalls |= bit;
    };
    check(kCpu, request.milli_cpu, used.milli_cpu, allocatable.milli_cpu);
    check(kMemory, request.memory, used.memory, allocatable.memory);
    check(kEphemeral, request.ephemeral_storage, used.ephemeral_storage,
          allocatable.ephemeral_storage);
    for (const auto& [id, quantity] : request.scalar) {
      if (quantity == 0 || Ignored(id)) continue;
      const int64_t have = allocatable.Scalar(id);
      const int64_t in_use = used.Scalar(id);
      if (quantity > have - in_use) {
        if (quantity > have) unresolvable = true;
        scalar_reasons.push_back(absl::StrCat("Insufficient ", names_.Name(id)));
      }
    }
  }
  if (scalar_reasons.empty()) {
    if (shortfalls == 0) return framework::Status();
    return FixedStatus(shortfalls, unresolvable);
  }
  const std::vector<std::string>& fixed = FixedStatus(shortfalls, false).reasons();
  scalar_reasons.insert(scalar_reasons.begin(), fixed.begin(), fixed.end());
  return framework::Status(unresolvable ? framework::Code::kUnschedulableAndUnresolvable
                                        : framework::Code::kUnschedulable,
                           std::move(scalar_reasons));
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
