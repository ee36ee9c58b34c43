// File: defaults.h
// -----------------------------------------------------------------------------
//
// What the API server does to a Pod before anyone reads it, for pods that
// never went through one: manifests, generated workloads, hand-written
// clusters. A pod created through an API server is first defaulted (upstream
// pkg/apis/core/v1/defaults.go and the `+default` markers of k8s.io/api),
// then passed through the admission plugins; DefaultPod() applies the parts
// of both that change fields a scheduler reads:
//
//   SetDefaults_Pod        requests copied from limits for every resource a
//                          container or init container limits but does not
//                          request; with hostNetwork, hostPort defaults to
//                          containerPort
//   ContainerPort          protocol "" -> "TCP"
//   SetDefaults_PodSpec    schedulerName "" -> "default-scheduler"
//   DefaultTolerationSeconds (admission)
//                          NoExecute tolerations of node.kubernetes.io/not-ready
//                          and node.kubernetes.io/unreachable for 300 s, each
//                          unless the pod already tolerates that taint
//
// PriorityClass resolution (the Priority admission plugin) needs every
// PriorityClass and is done by the loader (sim/cluster.h).
//
// DefaultPod() is idempotent: an object read back from an API server (a
// `kubectl get -o yaml` dump) already carries all of it and is left as is.
//
// Not applied, as Kestrel's API subset has no such fields: pod-level
// resources (spec.resources, PodLevelResources) and ephemeral containers.
// SetDefaults_ResourceList's rounding of every quantity up to milli units
// is not applied either: the compiler rounds the pod's sums up instead,
// which differs only for sub-milli quantities in more than one container.
//
// Example:
//
//   auto& pod = static_cast<k8s::io::api::core::v1::Pod&>(*object.message);
//   api::DefaultPod(&pod);
//   absl::StatusOr<model::PodPtr> compiled = model::CompilePod(pod, names);

#ifndef KESTREL_API_DEFAULTS_H_
#define KESTREL_API_DEFAULTS_H_

#include <cstdint>

#include "api/core.pb.h"

namespace kestrel::api {

// Upstream's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds.
inline constexpr int64_t kDefaultTolerationSeconds = 300;

struct DefaultingOptions {
  // Whether the Kubernetes 1.4 alpha annotations are read (DESIGN.md
  // section 5). They stand for spec.schedulerName and spec.tolerations when
  // those are empty, so neither is defaulted then: the annotation is what
  // the pod asked for.
  bool alpha_annotations = true;
};

// DefaultPod()
//
// Applies the defaulting and admission steps listed above to `pod`, in
// place.
void DefaultPod(k8s::io::api::core::v1::Pod* pod, const DefaultingOptions& options = {});

}  // namespace kestrel::api

#endif  // KESTREL_API_DEFAULTS_H_
