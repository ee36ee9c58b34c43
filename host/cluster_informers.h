// File: cluster_informers.h
//
// ClusterInformers is the set of informers kube-scheduler's event handlers
// read: namespaces, nodes, PodDisruptionBudgets and pods (those the
// scheduler selects: not Succeeded or Failed), listed and watched through
// one shared client (one token bucket, one pool of connections), in that
// order. Every change is handed to one callback, tagged with its kind, so
// that a host queues it and applies it on a thread of its own.
//
// Two hosts use it: `kestrel scheduler` (scheduler_host.h: the changes feed
// the loader, cache and queue) and `kestrel serve --kubeconfig`
// (live_whatif.h: the changes feed the loader and cache that the what-if
// questions fork). Neither lists the cluster a second way.
//
// Example:
//   auto informers = ClusterInformers::Create(client, reflector_options,
//                                             [&](ObjectChange c) { Queue(std::move(c)); });
//   RETURN_IF_ERROR(informers.status());
//   (*informers)->Start();
//   ... (*informers)->synced() ...
//   (*informers)->Stop();
//
// Threading: the callback runs on the informers' threads (one per kind),
// and must not block for long. Start, Stop and synced may be called from
// any thread.

#ifndef KESTREL_HOST_CLUSTER_INFORMERS_H_
#define KESTREL_HOST_CLUSTER_INFORMERS_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/reflector.h"

namespace kestrel::host {

struct ObjectChange {
  enum class Kind { kNamespace, kNode, kPdb, kPod };
  enum class Op { kAdd, kUpdate, kDelete };
  Kind kind = Kind::kPod;
  Op op = Op::kAdd;
  // kUpdate: what the informer held before; null otherwise.
  kube::Object old_object;
  // The object now; for kDelete its last known state.
  kube::Object object;
};

class ClusterInformers {
 public:
  // Create()
  //
  // The informers, not started: other handlers may still be added to them
  // (the rescheduler's view). `reflector.on_error` is set per informer to
  // log the failure with the resource's name, unless the caller set it.
  static absl::StatusOr<std::unique_ptr<ClusterInformers>> Create(
      std::shared_ptr<kube::Client> client, const kube::ReflectorOptions& reflector,
      std::function<void(ObjectChange)> on_change);

  ClusterInformers(const ClusterInformers&) = delete;
  ClusterInformers& operator=(const ClusterInformers&) = delete;
  // Stops them.
  ~ClusterInformers();

  void Start();
  void Stop();
  // Every informer has handed its first list to the callback.
  bool synced() const;

  kube::Informer* namespaces() const { return namespaces_; }
  kube::Informer* nodes() const { return nodes_; }
  kube::Informer* pdbs() const { return pdbs_; }
  kube::Informer* pods() const { return pods_; }

 private:
  ClusterInformers() = default;

  std::vector<std::unique_ptr<kube::Informer>> informers_;
  kube::Informer* namespaces_ = nullptr;
  kube::Informer* nodes_ = nullptr;
  kube::Informer* pdbs_ = nullptr;
  kube::Informer* pods_ = nullptr;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_CLUSTER_INFORMERS_H_
