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
//     pass lists the world again. Nodes and pods must be listed; namespaces
//     and budgets are optional: a 403 for either is a warning (on_error,
//     once) and the view goes on without them while the informer keeps
//     trying (the Eviction API still enforces budgets). The informers are
//     the view's own, or a host's (AttachInformers: `kestrel scheduler
//     --rescheduler` feeds the view from the scheduler's informers and
//     starts none). PriorityClasses are not listed (the
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
//     nodes go to the default namespace, as upstream's recorder does. An
//     event with a once_key (DeletedByRescheduler: the evicted pod's uid)
//     is named after it, "<pod>.<hash of key and reason>", instead of
//     generateName: the POST becomes idempotent, so the client retries it
//     after a 5xx or a broken connection, and the server's 409
//     (AlreadyExists) for a second POST of it, from a retry or from a
//     restarted rescheduler, means it is recorded already.
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
//   ApiCluster cluster(client, scheduler::DefaultConfig());
//   Rescheduler r(&cluster, cluster.planner(), options);
//   RETURN_IF_ERROR(RunPasses(cluster, r, options, /*passes=*/0, Sleep));
//
// Embedded in a host that runs informers already:
//   ApiCluster cluster(client, config);
//   RETURN_IF_ERROR(cluster.AttachInformers({&nodes, &pods, &namespaces, &pdbs}));
//   ... start the informers ...
//   Rescheduler r(&cluster, cluster.planner(), options);
//   std::thread t([&] { RunPassesUntilStopped(cluster, r, options, wait_or_stop); });

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
#include "kube/clock.h"
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
  // Now() for the rescheduler (timeouts, taints' timeAdded, events); null
  // is the wall clock. Must outlive the ApiCluster.
  kube::Clock* clock = nullptr;
};

// Informers a host owns, for ApiCluster::AttachInformers. Nodes and pods
// are required; without namespaces, namespaceSelector terms see no labels;
// without budgets, the planner does not avoid nodes whose evictions a
// budget refuses (the Eviction API still refuses them).
struct ApiInformers {
  kube::Informer* nodes = nullptr;
  kube::Informer* pods = nullptr;
  kube::Informer* namespaces = nullptr;
  kube::Informer* pdbs = nullptr;
};

class ApiCluster : public ClusterClient {
 public:
  // Every request, the informers' lists and watches included, goes through
  // `client`: one token bucket and one pool of connections for the host.
  // `config` gives the profile the planner schedules with.
  ApiCluster(std::shared_ptr<kube::Client> client, config::KubeSchedulerConfiguration config,
             ApiClusterOptions options = {});
  // Stops the informers it started. Attached informers may outlive it:
  // their handlers do nothing once it is gone.
  ~ApiCluster() override;

  // AttachInformers()
  //
  // Feeds the view from `informers`, which the caller owns, starts and
  // stops, instead of informers of its own: each gets one more event
  // handler, so they must not be started yet (otherwise FailedPrecondition,
  // from the informer, and the view is unusable: Refresh answers that
  // error). Only before the first Refresh, and once; InvalidArgument
  // without nodes or pods. Refresh then waits for their first lists, each
  // of them (failures are their owner's to report: an optional informer
  // the host may not list is better left out) and starts nothing.
  absl::Status AttachInformers(const ApiInformers& informers) ABSL_LOCKS_EXCLUDED(mu_);

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

  absl::Time Now() override { return clock_->Now(); }
  std::vector<model::PodPtr> UnschedulablePods() override;
  PodPhase PhaseOf(const std::string& pod_key) override;
  model::PodPtr PendingPod(const std::string& pod_key) override;
  std::vector<model::NodePtr> ListNodes() override;
  absl::Status AddTaint(const std::string& node, const std::string& value) override;
  absl::Status RemoveTaint(const std::string& node, const std::string& value) override;
  absl::Status Evict(const model::Pod& pod) override;
  // A failed POST is written to stderr: events are best effort. One with a
  // once_key is posted under a name made from it (see the file comment).
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

  // An informer the view is fed from.
  struct Feed {
    std::string kind;
    kube::Informer* informer;
    // Its list may be refused (403): the view goes on without it.
    bool optional;
  };
  // What the informers' handlers hold instead of `this`, so that attached
  // informers, which may outlive the view, reach it only while it lives.
  struct Link {
    std::mutex mu;
    ApiCluster* cluster ABSL_GUARDED_BY(mu);
  };

  // Informer side.
  void Enqueue(const std::string& kind, Change change) ABSL_LOCKS_EXCLUDED(mu_);
  void ReportInformerError(const Feed& feed, const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Adds the handlers that queue `kind`'s changes to `informer`.
  absl::Status Subscribe(kube::Informer* informer, const std::string& kind);
  absl::Status BuildScheduler();
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
  kube::Clock* const clock_;
  ViewPlanner planner_{this};
  const std::shared_ptr<Link> link_;
  // Set before the first Refresh, then read only.
  std::vector<Feed> feeds_;
  absl::Status attach_error_;

  // Queued by the informers' handlers, taken by Refresh().
  mutable std::mutex mu_;
  std::condition_variable changed_cv_;
  std::vector<Change> changes_ ABSL_GUARDED_BY(mu_);
  // An informer's failure since the last Refresh, before the first sync.
  absl::Status informer_error_ ABSL_GUARDED_BY(mu_);
  // The newest resourceVersion queued, by kind.
  std::map<std::string, int64_t> queued_version_ ABSL_GUARDED_BY(mu_);
  // Optional kinds whose list was refused (403), warned about once.
  absl::flat_hash_set<std::string> denied_ ABSL_GUARDED_BY(mu_);

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
// The 1.4 rescheduler's main loop: Refresh (wait for the informers) and
// Start (taints that still serve their pod are adopted, stale ones go),
// wait `initial_delay`, then every `housekeeping_interval` Refresh and one
// pass, `passes` times (0: forever). `sleep` waits (absl::SleepFor outside
// tests). A failed Refresh skips that pass and is written to stderr; only a
// failed first Refresh or Start is returned.
absl::Status RunPasses(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                       int passes, const std::function<void(absl::Duration)>& sleep);

// RunPassesUntilStopped()
//
// RunPasses for a host that embeds the rescheduler on a thread of its own
// (`kestrel scheduler --rescheduler`, its view fed through
// AttachInformers): forever, but `wait` waits the given time and answers
// whether to go on; false (the host is stopping) ends the loop with OK.
absl::Status RunPassesUntilStopped(ApiCluster& cluster, Rescheduler& rescheduler,
                                   const Options& options,
                                   const std::function<bool(absl::Duration)>& wait);

}  // namespace kestrel::rescheduler

#endif  // KESTREL_RESCHEDULER_API_HOST_H_
