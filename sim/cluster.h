// File: cluster.h
//
// Loading a cluster for the offline hosts (simulate, explain): Kubernetes
// objects as kubectl writes them (a List, a multi-document YAML stream, or
// JSON), decoded and compiled into the model. Bound pods (spec.nodeName set)
// are the existing state; unbound pods are the work, in file order.
//
// Every error names the file, the object and the field.

#ifndef KESTREL_SIM_CLUSTER_H_
#define KESTREL_SIM_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/compile.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/objects.h"
#include "model/pdb.h"
#include "model/priority.h"

namespace kestrel::sim {

struct Cluster {
  // Owns the ids every compiled object refers to.
  std::unique_ptr<model::Interner> names = std::make_unique<model::Interner>();
  std::vector<model::NodePtr> nodes;
  std::vector<model::PodPtr> bound_pods;
  // Unbound pods in file order.
  std::vector<model::PodPtr> pending_pods;
  // Namespace objects: their labels, for namespaceSelector.
  std::vector<std::pair<model::Id, model::Labels>> namespaces;
  // PriorityClass objects and the built-ins.
  model::PriorityClasses priority_classes;
  // PodDisruptionBudgets, as their status last said.
  std::vector<model::PdbPtr> pdbs;
  // What loading found odd but not wrong, one line each, for the user
  // (without a "warning: " prefix).
  std::vector<std::string> warnings;
};

// LoadFiles()
//
// Decodes and compiles every file, in order, into one cluster. Pods that
// have finished (phase Succeeded or Failed) are skipped, as the scheduler's
// informers skip them. Duplicate nodes, pods, namespaces or priority classes
// are errors.
//
// A bound pod whose node is in none of the files (a node deleted while its
// pods terminate, or nodes and pods listed a moment apart) is loaded all
// the same, as upstream's cache keeps such pods: the cache holds it on no
// node until a node of that name is added. Each such node gets one line in
// `warnings`, naming the node, how many pods, and the first of them.
//
// Every pod is first defaulted and admitted as the API server would have
// done on create (api::DefaultPod: requests from limits, port protocols,
// host ports on the host network, schedulerName, the default not-ready and
// unreachable tolerations), so a raw manifest schedules as the same object
// created through an API server; a dump from a real cluster carries all of
// it already and is unchanged.
//
// Every pod's priority is then resolved as the Priority admission plugin
// does (model::PriorityClasses::Resolve), after all files are read, so a
// PriorityClass may come after the pods that name it:
//   - a pending pod that names a class is admitted: an unknown class, or a
//     spec.priority or spec.preemptionPolicy that disagrees with the class,
//     leaves the pod unschedulable with upstream's message as its reason;
//   - a pod that names no class keeps what its spec sets (a snapshot's pods
//     were admitted already, and scheduler_perf creates such pods with the
//     Priority plugin off); only an unset spec.priority takes the
//     globalDefault class's name, value and (when unset) preemptionPolicy;
//   - a bound pod is running already: it is never made unschedulable, and
//     only what its spec leaves unset is filled in.
absl::StatusOr<Cluster> LoadFiles(const std::vector<std::string>& paths,
                                  const model::CompileOptions& options = {});

// LoadContents() is LoadFiles over in-memory (file name, contents) pairs.
absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files,
    const model::CompileOptions& options = {});

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_CLUSTER_H_
