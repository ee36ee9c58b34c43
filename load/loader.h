// File: loader.h
//
// The one loader below every host: decoded API objects (the api protos, as
// api/decode and kube/ informers produce them) become model/ objects and
// scheduler cache operations. DESIGN.md §8: simulate, explain and the gRPC
// service load files with it, the rescheduler's API host feeds it from
// informers, and no host depends on another to load what it reads.
//
// Why here: `load/` sits beside model/ and scheduler/cache, under every
// host. It depends on api/, model/, scheduler/cache and
// scheduler/framework only; never on sim/, rescheduler/, host/, service/
// or kube/ (`bazel query 'deps(//load/...)'` names none of them), so the
// hosts above it stay independent of each other.
//
// Two layers:
//   - per-object functions (CompilePodObject, CompileNodeObject, ...):
//     defaulting as the API server does (api/defaults.h), validation and
//     compilation (model/compile.h), PriorityClass and PDB compilation, and
//     ResolvePriority (the Priority admission plugin). sim/cluster.cc builds
//     a snapshot from them;
//   - Loader: one object at a time, added, updated or deleted, applied to a
//     scheduler cache at once, as kube-scheduler's informer handlers do:
//       * a bound pod is in the cache (on an unknown node the cache keeps it
//         aside); an unbound one is kept as pending;
//       * a pod update that changes spec.nodeName is a remove and an add;
//       * a pod that becomes Succeeded or Failed is removed (kube-scheduler's
//         informers filter finished pods out);
//       * a terminating pod (deletionTimestamp set) still counts on its
//         node until it is deleted;
//       * adding what is there already is an update, and deleting what is
//         not there does nothing, so a relist after a dropped watch is safe.
//     A bad object is an error naming the kind, namespace/name and field;
//     the loader is unchanged by it (an update that does not compile leaves
//     the object as it was), and the caller logs it and goes on.
//
// Example:
//   cache::Cache cache;
//   model::Interner names;
//   load::Loader loader(&cache, &names);
//   if (absl::Status s = loader.Add(api_pod); !s.ok()) LOG(s);
//   loader.Update(old_node, new_node);
//   loader.Delete(api_pod);
//
// Threading: thread-compatible. A host calls it, and reads the cache, from
// one thread at a time (the rescheduler's API host queues informer changes
// and applies them on its pass thread).

#ifndef KESTREL_LOAD_LOADER_H_
#define KESTREL_LOAD_LOADER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/core.pb.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "google/protobuf/message.h"
#include "model/compile.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/objects.h"
#include "model/pdb.h"
#include "model/priority.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/interface.h"

namespace kestrel::load {

// ---------------------------------------------------------------------------
// Per-object functions.

// Finished()
//
// Phase Succeeded or Failed: the scheduler's informers leave such pods out.
bool Finished(const ::k8s::io::api::core::v1::Pod& pod);

// CompilePodObject()
//
// Defaults `pod` in place as the API server would have on create
// (api::DefaultPod, with `options.alpha_annotations`), then compiles it.
// Priority is not resolved here (see ResolvePriority).
absl::StatusOr<model::PodPtr> CompilePodObject(::k8s::io::api::core::v1::Pod& pod,
                                               model::Interner& names,
                                               const model::CompileOptions& options);

// The same through `compiler`, which compiles a pod template once
// (model::PodCompiler): for loading many pods at once.
absl::StatusOr<model::PodPtr> CompilePodObject(::k8s::io::api::core::v1::Pod& pod,
                                               model::PodCompiler& compiler,
                                               const model::CompileOptions& options);

absl::StatusOr<model::NodePtr> CompileNodeObject(const ::k8s::io::api::core::v1::Node& node,
                                                 model::Interner& names,
                                                 const model::CompileOptions& options);

// A Namespace's interned name and labels (for namespaceSelector).
struct CompiledNamespace {
  model::Id id = model::kNoId;
  std::string name;
  model::Labels labels;
};
absl::StatusOr<CompiledNamespace> CompileNamespaceObject(
    const ::k8s::io::api::core::v1::Namespace& ns, model::Interner& names);

// How ResolvePriority treats the pod.
enum class Admission {
  // Being created: a named class must exist and agree with what the spec
  // sets, or the pod is left unschedulable with upstream's message.
  kAdmit,
  // Created long ago (bound, or read from an API server that admitted it):
  // what the spec says stands; only what it leaves unset is filled in.
  kAdmitted,
};

// ResolvePriority()
//
// `pod` with its priority settled as the Priority admission plugin does
// (model::PriorityClasses::Resolve); the same pointer when nothing changes.
// A pod that names no class keeps a spec.priority it sets; only an unset
// one takes the globalDefault class's name, value and (when unset)
// preemptionPolicy.
model::PodPtr ResolvePriority(const model::PriorityClasses& classes,
                              const model::PriorityRequest& request, Admission admission,
                              model::PodPtr pod);

// ---------------------------------------------------------------------------
// Loader.

struct LoaderOptions {
  model::CompileOptions compile;
};

class Loader {
 public:
  // `cache` and `names` must outlive the loader; the cache is changed only
  // through it (and by the host's own assume/forget, for its pending pods).
  Loader(cache::Cache* cache, model::Interner* names, LoaderOptions options = {});

  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Add()
  //
  // A Pod, Node, Namespace, PodDisruptionBudget or PriorityClass (any other
  // message is ignored). Adding an object that is there already updates it.
  absl::Status Add(const google::protobuf::Message& object);

  // Update()
  //
  // `new_object` replaces what the loader holds under its key; `old_object`
  // is what the informer held, and is used only when the loader has nothing
  // (its add was refused as bad input): then this is an Add.
  absl::Status Update(const google::protobuf::Message& old_object,
                      const google::protobuf::Message& new_object);

  // Delete()
  //
  // Removes what the loader holds under the object's key; nothing when it
  // holds nothing.
  absl::Status Delete(const google::protobuf::Message& object);

  // Every node, by name.
  std::vector<model::NodePtr> Nodes() const;
  model::NodePtr GetNode(const std::string& name) const;
  // Unbound, unfinished pods, by namespace/name.
  std::vector<model::PodPtr> PendingPods() const;
  model::PodPtr GetPendingPod(const std::string& key) const;
  // Budgets, by namespace/name; and as a lister for the scheduler's Handle.
  std::vector<model::PdbPtr> Pdbs() const;
  const framework::PdbLister* pdb_lister() const { return &pdb_lister_; }
  const model::PriorityClasses& priority_classes() const { return classes_; }

 private:
  class Lister : public framework::PdbLister {
   public:
    explicit Lister(const Loader* loader) : loader_(loader) {}
    std::vector<model::PdbPtr> ListPdbs() const override { return loader_->Pdbs(); }

   private:
    const Loader* loader_;
  };

  absl::Status UpsertPod(const ::k8s::io::api::core::v1::Pod& api_pod);
  absl::Status RemovePod(const std::string& key);
  absl::Status UpsertNode(const ::k8s::io::api::core::v1::Node& api_node);
  absl::Status UpsertNamespace(const ::k8s::io::api::core::v1::Namespace& ns);
  absl::Status UpsertPdb(const ::k8s::io::api::policy::v1::PodDisruptionBudget& api_pdb);
  absl::Status UpsertPriorityClass(const ::k8s::io::api::scheduling::v1::PriorityClass& pc);
  absl::Status RemovePriorityClass(const std::string& name);
  // Rebuilds classes_ from the built-ins and classes_by_name_.
  absl::Status RebuildClasses();

  cache::Cache* const cache_;
  model::Interner* const names_;
  const LoaderOptions options_;
  Lister pdb_lister_{this};
  std::map<std::string, model::NodePtr> nodes_;
  std::map<std::string, model::PodPtr> pending_;
  // Bound pods as the cache holds them, by namespace/name.
  std::map<std::string, model::PodPtr> bound_;
  std::map<std::string, model::Id> namespaces_;
  std::map<std::string, model::PdbPtr> pdbs_;
  std::map<std::string, model::PriorityClass> classes_by_name_;
  model::PriorityClasses classes_;
};

}  // namespace kestrel::load

#endif  // KESTREL_LOAD_LOADER_H_
