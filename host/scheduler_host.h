// File: scheduler_host.h
//
// `kestrel scheduler`: Kestrel as a cluster's scheduler, as kube-scheduler's
// Run does it.
//
//   informers (pods, nodes, namespaces, PodDisruptionBudgets; one shared
//   client) ──changes──▶ the scheduling thread: load::Loader (objects →
//   cache), the scheduling queue (scheduler/queue), the Nominator
//                            │ pops a pod, runs one cycle (Scheduler::ScheduleOne)
//                            ▼
//   ApiWriter workers: binding, status patches, victims' deletion, events
//
// Threading: informer handlers only queue changes; one scheduling thread
// applies them (to the loader, cache, queue and Nominator, none of which
// is then shared) and runs the cycles, so no cycle sees the cache change
// under it. The binding cycle is asynchronous: a cycle assumes the pod in
// the cache and hands the binding to the writer's pool; the next cycle does
// not wait. The bound pod's watch event confirms the assumed pod; a failed
// binding comes back as a change, and the pod is forgotten and requeued
// with backoff. Changes are applied whether or not this replica leads, so a
// standby's cache is warm when it takes over; only leading replicas pop
// pods and write.
//
// Upstream behaviours kept: pods whose schedulerName matches a profile and
// have no nodeName are queued; bound pods and other schedulers' pods are
// existing state; an unschedulable pod gets PodScheduled=False (reason
// Unschedulable, or SchedulerError for an error) with the FitError text, a
// FailedScheduling event, and status.nominatedNodeName when preemption
// nominates; victims get DisruptionTarget, are deleted and get a Preempted
// event; lower-priority pods nominated to the same node lose their
// nomination. Pods that reference a PersistentVolumeClaim are not bound:
// Kestrel has no VolumeBinding yet, and binding such a pod would leave its
// volume unprovisioned; they get PodScheduled=False with a message that
// says so.
//
// Leader election (optional, on by default): nothing is popped, bound,
// patched or deleted until the lease is held; losing it stops the
// scheduling thread at once and Wait() returns Aborted (the command exits
// non-zero, as kube-scheduler does, so its Deployment restarts it).

#ifndef KESTREL_HOST_SCHEDULER_HOST_H_
#define KESTREL_HOST_SCHEDULER_HOST_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "api/config/config.pb.h"
#include "api/config/leader_election.h"
#include "host/api_writer.h"
#include "host/cluster_informers.h"
#include "host/metrics/metrics.h"
#include "host/serving/delegating_auth.h"
#include "host/serving/server.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/lease_lock.h"
#include "load/loader.h"
#include "model/compile.h"
#include "model/interner.h"
#include "rescheduler/api_host.h"
#include "rescheduler/rescheduler.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/queue/scheduling_queue.h"
#include "scheduler/scheduler.h"

namespace kestrel::host {

struct SchedulerHostOptions {
  // The effective KubeSchedulerConfiguration (defaulted and validated).
  config::KubeSchedulerConfiguration config;
  model::CompileOptions compile;
  // --leader-elect and the config's leaderElection block.
  config::LeaderElectionSettings leader_election;
  // The lease holder's identity; "": kube::NewIdentity().
  std::string identity;
  // Serve /healthz, /livez, /readyz, /metrics and /configz over HTTPS.
  bool serve = true;
  ServingOptions serving;
  AuthOptions auth;
  // The writer's workers: requests in flight at once.
  int api_workers = 16;
  // Filter/score threads; 0: the config's parallelism (upstream default 16),
  // capped at the machine's hardware threads.
  int threads = 0;
  // Scheduler::Options::incremental (off: the reference path, for
  // benchmarks that compare the two).
  bool incremental = true;
  uint64_t seed = 1;
  // For events' reportingInstance; "": gethostname().
  std::string hostname;
  // Run the critical-addon rescheduler in this process (--rescheduler), on
  // the scheduler's own informers, while this replica leads.
  bool rescheduler = false;
  rescheduler::Options rescheduler_options;
  // Events' own client (its own token bucket, as kube-scheduler's
  // eventClient); null: the host's client.
  std::shared_ptr<kube::Client> event_client;
  // Informer reflector options (tests shorten the backoff).
  kube::ReflectorOptions reflector;
};

class SchedulerHost {
 public:
  SchedulerHost(std::shared_ptr<kube::Client> client, SchedulerHostOptions options);
  // Stops everything.
  ~SchedulerHost();
  SchedulerHost(const SchedulerHost&) = delete;
  SchedulerHost& operator=(const SchedulerHost&) = delete;

  // Start()
  //
  // Builds the profiles (an error names the config problem), starts the
  // informers, the secure port, the scheduling thread and, with leader
  // election, the elector (else it leads at once).
  absl::Status Start();

  // Wait()
  //
  // Until `stop` is notified (OK; the lease is released) or leadership is
  // lost (Aborted "leaderelection lost").
  absl::Status Wait(const absl::Notification& stop);

  // Stop()
  //
  // Stops scheduling, releases the lease, stops the informers and the
  // server, and runs the writes already handed to the writer.
  void Stop();

  bool leading() const { return leading_.load(); }
  // Every informer has its first list.
  bool synced() const;
  // The secure port (after Start()), or -1.
  int secure_port() const;
  SchedulerMetrics& metrics() { return metrics_; }
  // Time the scheduling thread spent in scheduling cycles (ScheduleOne),
  // and in applying informer changes to the cache and queue.
  absl::Duration cycle_time() const { return absl::Nanoseconds(cycle_ns_.load()); }
  absl::Duration apply_time() const { return absl::Nanoseconds(apply_ns_.load()); }
  // The scheduling thread's CPU time in cycles (CLOCK_THREAD_CPUTIME_ID):
  // cycle_time() less the time the thread waited for a core. Work that a
  // cycle hands to the parallelizer's other threads is not in it.
  absl::Duration cycle_cpu_time() const { return absl::Nanoseconds(cycle_cpu_ns_.load()); }
  // The queue's counts now (thread-safe), and the informer changes waiting
  // for the scheduling thread.
  queue::QueueStats queue_stats() const;
  size_t changes_waiting() ABSL_LOCKS_EXCLUDED(changes_mu_);
  const ApiWriter& writer() const { return *writer_; }

 private:
  struct Change {
    enum class Kind { kPod, kNode, kNamespace, kPdb, kBindFailed };
    enum class Op { kAdd, kUpdate, kDelete };
    Kind kind = Kind::kPod;
    Op op = Op::kAdd;
    kube::Object old_object;
    kube::Object object;
    // kBindFailed: the pod's queue entry, its cycle and the error.
    std::optional<framework::QueuedPodInfo> info;
    int64_t cycle = 0;
    std::string error;
  };

  // Hands the binding to the scheduling thread, which submits it after the
  // cycle (so the job carries the cycle's numbers).
  class DeferredBinder : public framework::Binder {
   public:
    explicit DeferredBinder(SchedulerHost* host) : host_(host) {}
    absl::Status Bind(const model::Pod& pod, const std::string& node_name) override;

   private:
    SchedulerHost* host_;
  };
  // Preemption's victims: DisruptionTarget, delete, Preempted event.
  class VictimDeleter : public framework::PodDeleter {
   public:
    explicit VictimDeleter(SchedulerHost* host) : host_(host) {}
    absl::Status DeletePod(const model::Pod& victim, const model::Pod& preemptor) override;

   private:
    SchedulerHost* host_;
  };

  void Enqueue(Change change) ABSL_LOCKS_EXCLUDED(changes_mu_);
  void Loop();
  // Applies the queued changes; false when there were none.
  bool ApplyChanges() ABSL_LOCKS_EXCLUDED(changes_mu_);
  void ApplyPod(const Change& c);
  void ApplyNode(const Change& c);
  void ApplyOther(const Change& c);
  void BindFailed(Change c);
  // One pod from the queue, if any: false when the queue had none.
  bool ScheduleNext();
  void HandleFailure(framework::QueuedPodInfo info, int64_t cycle, const std::string& reason,
                     const std::string& message, const std::string* nominated);
  void SubmitBinding(framework::QueuedPodInfo info, int64_t cycle, const std::string& node,
                     int evaluated, int feasible, absl::Time start);
  bool Responsible(const model::Pod& pod) const;
  void UpdateQueueMetrics();
  std::string Configz() const;
  PodRef RefOf(const model::Pod& pod) const { return {pod.ns, pod.name, pod.uid}; }

  const std::shared_ptr<kube::Client> client_;
  SchedulerHostOptions options_;
  SchedulerMetrics metrics_;

  // Only the scheduling thread touches these after Start().
  model::Interner names_;
  cache::Cache cache_;
  load::Loader loader_;
  framework::Nominator nominator_;
  DeferredBinder binder_{this};
  VictimDeleter deleter_{this};
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::set<std::string> profile_names_;
  // Pending pods that reference a PersistentVolumeClaim: key → claim.
  std::map<std::string, std::string> pvc_claims_;
  // The binding ScheduleOne asked for in the current cycle.
  std::optional<std::pair<std::string, std::string>> bind_request_;  // key, node
  absl::Time last_backoff_flush_ = absl::InfinitePast();
  absl::Time last_unschedulable_flush_ = absl::InfinitePast();

  std::unique_ptr<queue::SchedulingQueue> queue_;
  std::unique_ptr<ApiWriter> writer_;
  std::unique_ptr<ClusterInformers> informers_;
  // The informers by kind (owned by informers_).
  kube::Informer* pods_informer_ = nullptr;
  kube::Informer* nodes_informer_ = nullptr;
  kube::Informer* namespaces_informer_ = nullptr;
  kube::Informer* pdbs_informer_ = nullptr;

  std::unique_ptr<kube::HttpLeaseLock> lease_lock_;
  std::unique_ptr<kube::LeaderElector> elector_;
  absl::Notification elector_stop_;
  std::thread elector_thread_;
  std::unique_ptr<rescheduler::ApiCluster> resched_cluster_;
  std::unique_ptr<rescheduler::Rescheduler> resched_;
  std::thread resched_thread_;
  void RunRescheduler();
  std::unique_ptr<DelegatingAuth> auth_;
  std::unique_ptr<SecureServer> server_;

  std::atomic<int64_t> cycle_ns_{0};
  std::atomic<int64_t> apply_ns_{0};
  std::atomic<int64_t> cycle_cpu_ns_{0};
  std::atomic<bool> leading_{false};
  std::atomic<bool> lost_{false};
  std::atomic<bool> stopping_{false};
  std::thread loop_thread_;

  // std::mutex, for ThreadSanitizer.
  std::mutex changes_mu_;
  std::condition_variable changes_cv_;
  std::deque<Change> changes_ ABSL_GUARDED_BY(changes_mu_);
  bool stopped_ = false;
  // What scheduler_queue_incoming_pods_total has of the queue's counts.
  std::mutex metrics_mu_;
  std::map<std::pair<std::string, std::string>, int64_t> exported_incoming_
      ABSL_GUARDED_BY(metrics_mu_);
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_SCHEDULER_HOST_H_
