// File: live_whatif.h
//
// LiveWhatIf keeps the base of the what-if questions (sim/whatif.h) current
// from an API server, for `kestrel serve --kubeconfig`:
//
//   ClusterInformers (namespaces, nodes, budgets, pods: the scheduler's)
//     ──changes──▶ the applier thread: load::Loader ▶ cache::Cache
//                    │ after each batch of changes, once every informer
//                    ▼ has synced
//   a new sim::WhatIf over a copy-on-write copy of the cache, published
//
// A published base never changes: a request takes the base current when it
// starts (a shared_ptr) and forks it, so it sees one consistent state of the
// cluster however many informer events arrive meanwhile, and its answer
// depends only on that state and its question. Publishing copies the cache
// (Cache::CopyFrom: node infos shared until the live cache changes them,
// the pod table copied once) and builds a scheduler, so it costs about one
// pass over the pods; events that arrive while it runs are applied together
// and published once.
//
// Nothing is published before every informer has handed over its first
// list (upstream's WaitForCacheSync): `ready()` says when, and the service
// reports NOT_SERVING until then. Objects the loader refuses are logged and
// skipped, as `kestrel scheduler` skips them. PriorityClasses are not
// watched (the scheduler host does not either): a question's pod that
// names a class resolves against the built-in classes.
//
// Example:
//   LiveWhatIfOptions o;
//   o.config = config;
//   o.on_base = [&](std::shared_ptr<const sim::WhatIf> b) { service.SetBase(b); };
//   LiveWhatIf live(client, o);
//   RETURN_IF_ERROR(live.Start());
//   ...
//   live.Stop();
//
// Threading: Start, Stop, ready and base may be called from any thread;
// on_base runs on the applier thread.

#ifndef KESTREL_HOST_LIVE_WHATIF_H_
#define KESTREL_HOST_LIVE_WHATIF_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "api/config/config.pb.h"
#include "host/cluster_informers.h"
#include "kube/client.h"
#include "kube/reflector.h"
#include "load/loader.h"
#include "model/compile.h"
#include "model/interner.h"
#include "scheduler/cache/cache.h"
#include "sim/whatif.h"

namespace kestrel::host {

struct LiveWhatIfOptions {
  // The effective KubeSchedulerConfiguration the questions schedule with.
  config::KubeSchedulerConfiguration config;
  model::CompileOptions compile;
  // Informer reflector options (tests shorten the backoff).
  kube::ReflectorOptions reflector;
  // Gets every base published, on the applier thread; may be empty.
  std::function<void(std::shared_ptr<const sim::WhatIf>)> on_base;
};

class LiveWhatIf {
 public:
  LiveWhatIf(std::shared_ptr<kube::Client> client, LiveWhatIfOptions options);
  // Stops.
  ~LiveWhatIf();
  LiveWhatIf(const LiveWhatIf&) = delete;
  LiveWhatIf& operator=(const LiveWhatIf&) = delete;

  // Start()
  //
  // Checks the config (an error names the problem), starts the informers
  // and the applier thread.
  absl::Status Start();
  void Stop();

  // A base has been published: every informer had synced.
  bool ready() const { return published_.load() > 0; }
  // The latest base; null before ready().
  std::shared_ptr<const sim::WhatIf> base() const ABSL_LOCKS_EXCLUDED(mu_);
  // How many bases have been published.
  int64_t published() const { return published_.load(); }

 private:
  void Loop();
  // Applies the queued changes, sorted by kind when `by_kind` (the first
  // batch: see Loop); false when there were none.
  bool ApplyChanges(bool by_kind) ABSL_LOCKS_EXCLUDED(mu_);
  void Publish() ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<kube::Client> client_;
  const LiveWhatIfOptions options_;

  // Only the applier thread touches these after Start().
  std::shared_ptr<model::Interner> names_ = std::make_shared<model::Interner>();
  cache::Cache cache_;
  load::Loader loader_;

  std::unique_ptr<ClusterInformers> informers_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> published_{0};

  // std::mutex, for ThreadSanitizer.
  mutable std::mutex mu_;
  std::condition_variable changes_cv_;
  std::deque<ObjectChange> changes_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const sim::WhatIf> base_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_LIVE_WHATIF_H_
