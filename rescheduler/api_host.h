// File: api_host.h
//
// The rescheduler against a Kubernetes API server: ApiCluster implements
// ClusterClient with REST calls (kube/client.h), and answers the Planner
// from a scheduler view that informers keep up to date.
//
//   - Informers (kube/informer.h over kube/http_list_watch.h) list and then
//     watch namespaces (their labels, for namespaceSelector), nodes, pods
//     (not finished) and PodDisruptionBudgets, and feed every change to the
//     shared loader (load/loader.h) and through it the scheduler cache: no
//     pass lists the world again. PriorityClasses are not listed (the
//     system:kube-scheduler role may not, and pods from an API server carry
//     spec.priority); the built-in classes resolve a pod that names one and
//     sets no priority. An object the loader refuses is reported
//     (ApiClusterOptions::on_error) and skipped.
//   - Refresh() starts the informers the first time and waits for their
//     first lists, then applies the changes they queued: each pass reads
//     one consistent view. Unschedulable pods are the pending ones whose
//     PodScheduled condition is False with reason Unschedulable and which
//     have no status.nominatedNodeName (the scheduler is preempting for
//     them).
//   - Terminating pods (deletionTimestamp set) still count on their node, as
//     upstream's scheduler counts them, and are never chosen as victims: an
//     evicted pod is not evicted again while it terminates.
//   - Taints are added and removed with a JSON merge patch of spec.taints
//     that carries the node's resourceVersion: a concurrent change answers
//     409, and the change is made again on the latest node.
//   - Evictions use the Eviction API (policy/v1); 429 (a budget allows no
//     disruption now) comes back as ResourceExhausted, and the rescheduler
//     tries again on its next pass.
//   - Events are core/v1 Events from component "rescheduler"; events about
//     nodes go to the default namespace, as upstream's recorder does.
//
// Dependencies: load/, kube/, scheduler/ and rescheduler/ only; nothing of
// sim/ (`bazel query 'deps(//rescheduler/...)' | grep //sim` is empty).
//
// Threading: the informers' handlers run on the informers' threads and only
// queue changes (under mu_); Refresh() and everything ClusterClient and the
// planner do run on one thread, the pass thread, which alone touches the
// loader, the cache and the scheduler.
//
// Example:
//   ApiCluster cluster(client.get(), kube_config, scheduler::DefaultConfig());
//   Rescheduler r(&cluster, cluster.planner(), options);
//   RETURN_IF_ERROR(RunPasses(cluster, r, options, /*passes=*/0, Sleep));

#ifndef KESTREL_RESCHEDULER_API_HOST_H_
#define KESTREL_RESCHEDULER_API_HOST_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/config/config.pb.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "load/loader.h"
#include "model/interner.h"
#include "rescheduler/planner.h"
#include "rescheduler/rescheduler.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/scheduler.h"

namespace kestrel::rescheduler {

struct ApiClusterOptions {
  // How long the first Refresh() waits for the informers' first lists.
  absl::Duration sync_timeout = absl::Minutes(1);
  // Gets every object the loader refused and every failure an informer
  // reports and carries on from (on the pass thread, or an informer's);
  // null writes them to stderr, one line each.
  std::function<void(const absl::Status&)> on_error;
};

class ApiCluster : public ClusterClient {
 public:
  // Every request, the informers' lists and watches included, goes through
  // `client`: one token bucket and one pool of connections for the host.
  // `config` gives the profile the planner schedules with.
  ApiCluster(std::shared_ptr<kube::Client> client, config::KubeSchedulerConfiguration config,
             ApiClusterOptions options = {});
  // Stops the informers.
  ~ApiCluster() override;

  // Refresh()
  //
  // The first time, starts the informers and waits until each has its first
  // list: an informer's failure before that (naming the request) or
  // `sync_timeout` is the error, and the next Refresh waits again. Then
  // applies every change the informers queued since the last Refresh, so
  // that ListNodes, UnschedulablePods and the planner answer from the same
  // view. Makes no request of its own.
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(mu_);

  // WaitForResourceVersion()
  //
  // Waits until the informer of `kind` ("Pod", "Node", "Namespace",
  // "PodDisruptionBudget") has queued an object at resourceVersion
  // `resource_version` or later, read as an integer (as the in-repo server
  // and etcd write them); false after `timeout`. For tests and tools that
  // make a change and want the next Refresh to see it.
  bool WaitForResourceVersion(const std::string& kind, int64_t resource_version,
                              absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // The Planner over the latest view (an error until Refresh succeeds).
  Planner* planner() { return &planner_; }

  absl::Time Now() override { return absl::Now(); }
  std::vector<model::PodPtr> UnschedulablePods() override;
  PodPhase PhaseOf(const std::string& pod_key) override;
  std::vector<model::NodePtr> ListNodes() override;
  absl::Status AddTaint(const std::string& node, const std::string& value) override;
  absl::Status RemoveTaint(const std::string& node, const std::string& value) override;
  absl::Status Evict(const model::Pod& pod) override;
  // A failed POST is written to stderr: events are best effort.
  void Record(const Event& event) override;

 private:
  class ViewPlanner : public Planner {
   public:
    explicit ViewPlanner(ApiCluster* cluster) : cluster_(cluster) {}
    absl::StatusOr<Finding> Find(const model::Pod& pod, const std::string& taint_value,
                                 const std::function<bool(const model::Pod&)>& eligible,
                                 const absl::flat_hash_set<std::string>& skip_nodes) override;

   private:
    ApiCluster* cluster_;
  };
  // The view never binds or deletes: the planner only dry-runs.
  class NoBinder : public framework::Binder {
   public:
    absl::Status Bind(const model::Pod& pod, const std::string&) override;
  };
  class NoDeleter : public framework::PodDeleter {
   public:
    absl::Status DeletePod(const model::Pod& victim, const model::Pod&) override;
  };

  // One change an informer handed out, queued for the pass thread.
  struct Change {
    enum class Op { kAdd, kUpdate, kDelete };
    Op op;
    kube::Object old_object;  // kUpdate only
    kube::Object object;
  };

  // Informer side.
  void Enqueue(const std::string& kind, Change change) ABSL_LOCKS_EXCLUDED(mu_);
  void ReportInformerError(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status StartInformers();
  absl::Status WaitForSync() ABSL_LOCKS_EXCLUDED(mu_);

  // Pass thread.
  void Apply(const Change& change);
  void Report(const absl::Status& status) const;

  // Adds (`add`) or removes CriticalAddonsOnly=`value`:NoSchedule on `node`,
  // again on the latest node after a conflict.
  absl::Status ChangeTaint(const std::string& node, const std::string& value, bool add);

  const std::shared_ptr<kube::Client> client_;
  const config::KubeSchedulerConfiguration config_;
  const ApiClusterOptions options_;
  ViewPlanner planner_{this};

  // Queued by the informers' handlers, taken by Refresh().
  mutable std::mutex mu_;
  std::condition_variable changed_cv_;
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
  // An informer's failure since the last Refresh, before the first sync.
  absl::Status informer_error_ ABSL_GUARDED_BY(mu_);
  // The newest resourceVersion queued, by kind.
  std::map<std::string, int64_t> queued_version_ ABSL_GUARDED_BY(mu_);

  // The view: the pass thread only.
  model::Interner names_;
  cache::Cache cache_;
  load::Loader loader_{&cache_, &names_};
  NoBinder binder_;
  NoDeleter deleter_;
  framework::Nominator nominator_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<SchedulerPlanner> scheduler_planner_;
  absl::flat_hash_set<std::string> unschedulable_;  // namespace/name
  bool synced_ = false;

  // Last, so that they stop (in their destructors) before what their
  // handlers use goes.
  std::vector<std::unique_ptr<kube::Informer>> informers_;
};

// RunPasses()
//
// The 1.4 rescheduler's main loop: Refresh (wait for the informers) and Start (stale taints go),
// wait `initial_delay`, then every `housekeeping_interval` Refresh and one
// pass, `passes` times (0: forever). `sleep` waits (absl::SleepFor outside
// tests). A failed Refresh skips that pass and is written to stderr; only a
// failed first Refresh or Start is returned.
absl::Status RunPasses(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                       int passes, const std::function<void(absl::Duration)>& sleep);

}  // namespace kestrel::rescheduler

#endif  // KESTREL_RESCHEDULER_API_HOST_H_
