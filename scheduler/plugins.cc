#include "scheduler/plugins.h"

#include "api/config/config.pb.h"
#include "predicates/node_name/node_name.h"
#include "predicates/node_ports/node_ports.h"
#include "predicates/node_unschedulable/node_unschedulable.h"
#include "priorities/image_locality/image_locality.h"
#include "priorities/inter_pod_affinity/inter_pod_affinity.h"
#include "priorities/node_affinity/node_affinity.h"
#include "priorities/node_resources_balanced_allocation/node_resources_balanced_allocation.h"
#include "priorities/node_resources_fit/node_resources_fit.h"
#include "priorities/pod_topology_spread/pod_topology_spread.h"
#include "priorities/taint_toleration/taint_toleration.h"
#include "scheduler/default_binder.h"
#include "scheduler/preemption/default_preemption.h"
#include "scheduler/queue/priority_sort.h"
#include "scheduler/queue/scheduling_gates.h"

namespace kestrel::scheduler {
namespace {

using framework::Handle;
using framework::Plugin;
using PluginOr = absl::StatusOr<std::unique_ptr<Plugin>>;

template <typename T>
PluginOr Upcast(absl::StatusOr<std::unique_ptr<T>> p) {
  if (!p.ok()) return p.status();
  return std::unique_ptr<Plugin>(std::move(*p));
}

absl::Status NeedsInterner(const Handle& h) {
  if (h.interner == nullptr) {
    return absl::FailedPreconditionError("the handle has no interner");
  }
  return absl::OkStatus();
}

}  // namespace

framework::Registry InTreeRegistry() {
  framework::Registry r;
  // Registration of distinct constant names cannot fail.
  r.Register<config::NoArgs>(queue::SchedulingGates::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<queue::SchedulingGates>();
                             })
      .IgnoreError();
  r.Register<config::NoArgs>(queue::PrioritySort::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<queue::PrioritySort>();
                             })
      .IgnoreError();
  r.Register<config::NoArgs>(
       predicates::NodeUnschedulable::kName,
       [](const config::NoArgs&, const Handle& h) -> PluginOr {
         if (auto s = NeedsInterner(h); !s.ok()) return s;
         return std::make_unique<predicates::NodeUnschedulable>(
             h.interner->Intern(predicates::NodeUnschedulable::kTaintKey));
       })
      .IgnoreError();
  r.Register<config::NoArgs>(predicates::NodeName::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<predicates::NodeName>();
                             })
      .IgnoreError();
  r.Register<config::NodeResourcesFitArgs>(
       priorities::NodeResourcesFit::kName,
       [](const config::NodeResourcesFitArgs& args, const Handle& h) -> PluginOr {
         if (auto s = NeedsInterner(h); !s.ok()) return s;
         return Upcast(priorities::NodeResourcesFit::Create(args, *h.interner));
       })
      .IgnoreError();
  r.Register<config::NodeResourcesBalancedAllocationArgs>(
       priorities::NodeResourcesBalancedAllocation::kName,
       [](const config::NodeResourcesBalancedAllocationArgs& args, const Handle& h) -> PluginOr {
         if (auto s = NeedsInterner(h); !s.ok()) return s;
         return Upcast(priorities::NodeResourcesBalancedAllocation::Create(args, *h.interner));
       })
      .IgnoreError();
  r.Register<config::NoArgs>(priorities::TaintToleration::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<priorities::TaintToleration>();
                             })
      .IgnoreError();
  r.Register<config::NodeAffinityArgs>(
       priorities::NodeAffinity::kName,
       [](const config::NodeAffinityArgs& args, const Handle& h) -> PluginOr {
         if (auto s = NeedsInterner(h); !s.ok()) return s;
         return Upcast(priorities::NodeAffinity::Create(args, *h.interner));
       })
      .IgnoreError();
  r.Register<config::NoArgs>(predicates::NodePorts::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<predicates::NodePorts>();
                             })
      .IgnoreError();
  r.Register<config::NoArgs>(priorities::ImageLocality::kName,
                             [](const config::NoArgs&, const Handle&) -> PluginOr {
                               return std::make_unique<priorities::ImageLocality>();
                             })
      .IgnoreError();
  r.Register<config::PodTopologySpreadArgs>(
       priorities::PodTopologySpread::kName,
       [](const config::PodTopologySpreadArgs& args, const Handle& h) -> PluginOr {
         if (auto s = NeedsInterner(h); !s.ok()) return s;
         return Upcast(priorities::PodTopologySpread::Create(args, *h.interner));
       })
      .IgnoreError();
  r.Register<config::InterPodAffinityArgs>(
       priorities::InterPodAffinity::kName,
       [](const config::InterPodAffinityArgs& args, const Handle&) -> PluginOr {
         return Upcast(priorities::InterPodAffinity::Create(args));
       })
      .IgnoreError();
  r.Register<config::DefaultPreemptionArgs>(
       preemption::DefaultPreemption::kName,
       [](const config::DefaultPreemptionArgs& args, const Handle& h) -> PluginOr {
         return Upcast(preemption::DefaultPreemption::Create(args, h));
       })
      .IgnoreError();
  r.Register<config::NoArgs>(DefaultBinder::kName,
                             [](const config::NoArgs&, const Handle& h) -> PluginOr {
                               return std::make_unique<DefaultBinder>(h.binder);
                             })
      .IgnoreError();
  return r;
}

}  // namespace kestrel::scheduler
