// File: priority.h
//
// Pod priority as the API server settles it: PriorityClass objects, the two
// built-in system classes, the Priority admission plugin's resolution of a
// pod's priorityClassName (upstream plugin/pkg/admission/priority), and which
// pods are critical (upstream kubelet/types IsCriticalPod, plus the
// Kubernetes 1.4 critical-pod annotation the rescheduler read).
//
// Example:
//   PriorityClasses classes;                      // the built-ins
//   RETURN_IF_ERROR(classes.Add(*CompilePriorityClass(api_class)));
//   absl::StatusOr<ResolvedPriority> p = classes.Resolve(api_pod.spec());
//   // !p.ok(): upstream would refuse the pod, e.g.
//   // "no PriorityClass with name gold was found".

#ifndef KESTREL_MODEL_PRIORITY_H_
#define KESTREL_MODEL_PRIORITY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/core.pb.h"
#include "api/scheduling.pb.h"
#include "model/compile.h"
#include "model/objects.h"

namespace kestrel::model {

// Upstream pkg/apis/scheduling/types.go.
inline constexpr int32_t kHighestUserDefinablePriority = 1000000000;
inline constexpr int32_t kSystemCriticalPriority = 2 * kHighestUserDefinablePriority;
inline constexpr int32_t kDefaultPriorityWhenNoDefaultClassExists = 0;
inline constexpr char kSystemPriorityClassPrefix[] = "system-";
inline constexpr char kSystemClusterCritical[] = "system-cluster-critical";
inline constexpr char kSystemNodeCritical[] = "system-node-critical";

// Kubernetes 1.4's system namespace: pods there with
// kAlphaCriticalPodAnnotation (model/compile.h) are critical add-ons.
inline constexpr char kDefaultSystemNamespace[] = "kube-system";

// A validated scheduling.k8s.io/v1 PriorityClass.
struct PriorityClass {
  std::string name;
  int32_t value = 0;
  bool global_default = false;
  // Upstream defaults an unset preemptionPolicy to PreemptLowerPriority.
  PreemptionPolicy preemption_policy = PreemptionPolicy::kPreemptLowerPriority;
};

// CompilePriorityClass()
//
// Validates as upstream ValidatePriorityClass does: metadata.name a DNS
// subdomain; names with the "system-" prefix only for the built-in classes,
// with their values; other values at most kHighestUserDefinablePriority;
// preemptionPolicy Never or PreemptLowerPriority. Errors read
// `PriorityClass gold: value: Forbidden: ...`.
absl::StatusOr<PriorityClass> CompilePriorityClass(
    const ::k8s::io::api::scheduling::v1::PriorityClass& api);

// What a pod spec asks for: spec.priorityClassName, and spec.priority and
// spec.preemptionPolicy when they are set.
struct PriorityRequest {
  std::string class_name;
  std::optional<int32_t> priority;
  std::optional<PreemptionPolicy> preemption_policy;

  static PriorityRequest FromSpec(const ::k8s::io::api::core::v1::PodSpec& spec);
};

// What admission writes into the pod.
struct ResolvedPriority {
  std::string class_name;  // the globalDefault class's name for an empty request
  int32_t priority = 0;
  PreemptionPolicy preemption_policy = PreemptionPolicy::kPreemptLowerPriority;
};

// PriorityClasses
//
// The registry of classes a cluster has: the built-ins from construction,
// then what Add() is given. At most one class is the global default.
class PriorityClasses {
 public:
  // The built-ins: system-cluster-critical and system-node-critical.
  PriorityClasses();

  // Add()
  //
  // Registers a class (it is validated again). A built-in may be given once,
  // as a snapshot of a real cluster lists them; any other name given twice is
  // `metadata.name: Duplicate value`, and a second global default is
  // `globalDefault: Forbidden: PriorityClass <first> is already marked as
  // default. Only one default can exist`.
  absl::Status Add(PriorityClass priority_class);

  // Find()
  //
  // The class named `name`, or nullptr.
  const PriorityClass* Find(absl::string_view name) const;

  // GlobalDefault()
  //
  // The globalDefault class, or nullptr.
  const PriorityClass* GlobalDefault() const;

  // Resolve()
  //
  // Upstream admitPod on create: an empty class name takes the
  // globalDefault class (priority 0 and PreemptLowerPriority when there is
  // none); a named class must exist (NotFound: `no PriorityClass with name
  // <name> was found`). A priority or preemptionPolicy the spec sets must
  // equal what the class gives (FailedPrecondition, upstream's message).
  absl::StatusOr<ResolvedPriority> Resolve(const PriorityRequest& request) const;
  absl::StatusOr<ResolvedPriority> Resolve(const ::k8s::io::api::core::v1::PodSpec& spec) const {
    return Resolve(PriorityRequest::FromSpec(spec));
  }

 private:
  struct Entry {
    PriorityClass priority_class;
    bool builtin = false;  // not yet given by Add()
  };
  Entry* FindEntry(absl::string_view name);

  std::vector<Entry> classes_;  // a handful: a linear scan is fastest
  int default_index_ = -1;
};

// IsCritical()
//
// A critical pod: priority at least kSystemCriticalPriority (upstream
// kubelet/types IsCriticalPodBasedOnPriority), or, as in Kubernetes 1.4, the
// critical-pod annotation (Pod::critical_annotation) on a pod in
// `system_namespace`.
bool IsCritical(const Pod& pod, absl::string_view system_namespace = kDefaultSystemNamespace);

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_PRIORITY_H_
