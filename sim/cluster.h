// File: cluster.h
//
// Loading a cluster for the offline hosts (simulate, explain): Kubernetes
// objects as kubectl writes them (a List, a multi-document YAML stream, or
// JSON), decoded and compiled into the model. Bound pods (spec.nodeName set)
// are the existing state; unbound pods are the work, in file order.
//
// Workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job) are
// expanded into the pods their controllers would create (load/workloads.h),
// in the workload's place in file order; see LoadFiles().
//
// Every error names the file, the object and the field.

#ifndef KESTREL_SIM_CLUSTER_H_
#define KESTREL_SIM_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/compile.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/objects.h"
#include "model/pdb.h"
#include "model/priority.h"

namespace kestrel::sim {

// What became of one workload of the input files.
struct WorkloadExpansion {
  std::string kind;  // "Deployment", ..., "CronJob"
  std::string ns;
  std::string name;
  int32_t wanted = 0;   // replicas (parallelism, targeted nodes) asked for
  int32_t created = 0;  // pods added to the pending pods
  int32_t present = 0;  // pods of it already in the files
  // Why it created fewer (or none), or what to know about it; may be empty.
  std::string note;

  // "deployment/web", "statefulset/data/db" outside the default namespace.
  std::string Ref() const;
  // One line for people: "deployment/web: 3 pods created",
  // "deployment/api: 3 pods already in the cluster; not expanded",
  // "daemonset/kube-system/agent: 4 pods created (targets 4 of 5 nodes)".
  std::string Summary() const;
};

struct Cluster {
  // Owns the ids every compiled object refers to. Shared: a live host
  // (host/live_whatif.h) keeps compiling into it while the what-if bases it
  // made hold it.
  std::shared_ptr<model::Interner> names = std::make_shared<model::Interner>();
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
  // Every workload of the files, in file order.
  std::vector<WorkloadExpansion> workloads;
  // podManagementPolicy OrderedReady: a StatefulSet pod's key -> the key of
  // the pod of the ordinal before it, which must be running first.
  absl::flat_hash_map<std::string, std::string> waits_for;
};

// --scale=KIND/[NAMESPACE/]NAME=N: what if this workload had N replicas.
struct ScaleRequest {
  std::string kind;  // "Deployment", "ReplicaSet", "StatefulSet" or "Job"
  std::string ns;    // empty: every namespace
  std::string name;
  int32_t replicas = 0;
  std::string text;  // as given, for messages
};

// ParseScale()
//
// "deployment/web=5", "statefulset/data/db=3", "job/train=8" (a Job's
// parallelism); kinds as kubectl spells them (deployment, deploy,
// replicaset, rs, statefulset, sts, job).
absl::StatusOr<ScaleRequest> ParseScale(absl::string_view text);

struct LoadOptions {
  model::CompileOptions compile;
  // Every request must match a workload of the files, or loading fails.
  std::vector<ScaleRequest> scale;
  // Called as loading goes: phase "loading" (objects read, total 0:
  // unknown) and "expanding" (workloads done of total).
  std::function<void(absl::string_view phase, size_t done, size_t total)> progress;
  // Decode a large file on a thread of its own while the objects already
  // decoded are compiled (the same cluster and errors; off: one thread).
  bool pipeline = true;
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
//
// Workloads are expanded after every file is read (a DaemonSet needs every
// node, and pods already present need every pod), and their pods take the
// workload's place among the pending pods:
//   - a Deployment becomes its new ReplicaSet's pods; a ReplicaSet whose
//     controller is a Deployment of the files is that Deployment's, not
//     expanded on its own;
//   - pods of the files whose controller reference names the workload (for
//     a Deployment: one of its ReplicaSets, by the ReplicaSets of the files
//     or by upstream's `<deployment>-<pod-template-hash>` naming) are
//     present already: only the missing ones are created (a StatefulSet's
//     missing ordinals, a DaemonSet's nodes without its pod);
//   - a StatefulSet with podManagementPolicy OrderedReady (the default)
//     records in `waits_for` that each of its pods waits for the one
//     before; Parallel is noted;
//   - a CronJob is listed, not expanded (its Jobs come on a schedule);
//   - objects of kinds Kestrel does not read are counted in one warning.
absl::StatusOr<Cluster> LoadFiles(const std::vector<std::string>& paths,
                                  const model::CompileOptions& options = {});
absl::StatusOr<Cluster> LoadFiles(const std::vector<std::string>& paths,
                                  const LoadOptions& options);

// LoadContents() is LoadFiles over in-memory (file name, contents) pairs.
absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files,
    const model::CompileOptions& options = {});
absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files, const LoadOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_CLUSTER_H_
