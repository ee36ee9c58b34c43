// File: compile.h
//
// Compiles API objects (protobufs) into the scheduler's model: strings are
// interned, quantities become integers in upstream's units, a pod's effective
// requests are computed once (upstream resourcehelper.PodRequests), selectors
// and tolerations become id comparisons.
//
// Pods and nodes are first validated as the API server validates them on
// create (api/object_validation.h): what it would refuse is an error naming
// the object and every problem with upstream's field paths and messages,
// `Pod default/web: spec.tolerations[0].operator: Unsupported value:
// "Maybe": supported values: "Equal", "Exists"`, several as "[a, b]". The
// caller prefixes the file.
//
// Node affinity terms the API server accepts but the scheduler cannot parse
// (a value that is no label value, a Gt/Lt value that is no integer) are not
// errors: they compile with NodeSelectorTerm::parse_errors set and match no
// node, as upstream's lazily parsed node selectors.
//
// Example:
//   Interner names;
//   ASSIGN_OR_RETURN(PodPtr pod, CompilePod(api_pod, names));

#ifndef KESTREL_MODEL_COMPILE_H_
#define KESTREL_MODEL_COMPILE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "api/core.pb.h"
#include "model/interner.h"
#include "model/objects.h"

namespace kestrel::model {

namespace v1 = ::k8s::io::api::core::v1;

inline constexpr char kDefaultSchedulerName[] = "default-scheduler";

// The alpha annotations of Kubernetes 1.4, honoured when the field they stand
// for is empty.
inline constexpr char kAlphaAffinityAnnotation[] = "scheduler.alpha.kubernetes.io/affinity";
inline constexpr char kAlphaTolerationsAnnotation[] = "scheduler.alpha.kubernetes.io/tolerations";
inline constexpr char kAlphaTaintsAnnotation[] = "scheduler.alpha.kubernetes.io/taints";
inline constexpr char kAlphaSchedulerNameAnnotation[] = "scheduler.alpha.kubernetes.io/name";
// A pod in the system namespace with this annotation (any value) is a
// critical add-on (see model/priority.h IsCritical).
inline constexpr char kAlphaCriticalPodAnnotation[] = "scheduler.alpha.kubernetes.io/critical-pod";
// The API server's mirror of a static pod (upstream kubetypes.ConfigMirrorAnnotationKey).
inline constexpr char kMirrorPodAnnotation[] = "kubernetes.io/config.mirror";

struct CompileOptions {
  // Read the alpha annotations above. A pod whose affinity or tolerations
  // annotation does not parse compiles with Pod::invalid_reason set (it is
  // then unschedulable); a node whose taints annotation does not parse is an
  // error.
  bool alpha_annotations = true;
};

absl::StatusOr<PodPtr> CompilePod(const v1::Pod& pod, Interner& names,
                                  const CompileOptions& options = {});
absl::StatusOr<NodePtr> CompileNode(const v1::Node& node, Interner& names,
                                    const CompileOptions& options = {});

// PodCompiler
//
// CompilePod for many pods that share a template (a ReplicaSet's pods
// differ only in name, uid and owner; a snapshot's bound ones also in
// spec.nodeName): a pod whose namespace, labels, scheduling annotations and
// spec (nodeName aside) are byte for byte those of a pod compiled before
// is a copy of that pod's compiled form with its own name, uid, owners,
// node, times and status; only its metadata is validated again. Anything
// else, and any pod that fails, goes through CompilePod, so the result is
// always what CompilePod gives.
//
// Labels are part of the key because matchLabelKeys read them into
// compiled selectors.
//
// Thread-compatible: one loader, one thread.
class PodCompiler {
 public:
  PodCompiler(Interner& names, CompileOptions options = {}) : names_(names), options_(options) {}

  absl::StatusOr<PodPtr> Compile(const v1::Pod& pod);

  // Pods compiled in full, and pods that reused a compiled template.
  size_t compiled() const { return compiled_; }
  size_t reused() const { return reused_; }

 private:
  Interner& names_;
  const CompileOptions options_;
  absl::flat_hash_map<std::string, PodPtr> templates_;
  size_t compiled_ = 0;
  size_t reused_ = 0;
};

// Compiles a NodeSelector (required node affinity) at `field`. Terms that do
// not parse keep their problems in NodeSelectorTerm::parse_errors (paths
// "nodeSelectorTerms[i]..."); the caller validates what it must refuse.
absl::StatusOr<NodeSelector> CompileNodeSelector(const v1::NodeSelector& selector,
                                                 Interner& names, absl::string_view field);

// Compiles a metav1.LabelSelector at `field` of `object` (for errors, e.g.
// "PodDisruptionBudget default/db", "spec.selector"): nil selects nothing,
// {} everything (upstream metav1.LabelSelectorAsSelector).
absl::StatusOr<LabelSelector> CompileLabelSelector(
    const ::k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector* selector, Interner& names,
    absl::string_view object, absl::string_view field);

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_COMPILE_H_
