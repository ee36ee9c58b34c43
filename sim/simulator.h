// File: simulator.h
//
// The offline host of the scheduler: a cache loaded from a cluster file, the
// real Scheduler, and a virtual binder. Unbound pods are scheduled one by one
// in file order; each placed pod is assumed, bound and confirmed before the
// next, so later pods see it. No API server, no wall-clock waits.
//
// Example:
//   ASSIGN_OR_RETURN(Cluster c, LoadFiles({"cluster.yaml"}));
//   ASSIGN_OR_RETURN(Report r, Simulate(c, DefaultConfig(), {.seed = 1}));

#ifndef KESTREL_SIM_SIMULATOR_H_
#define KESTREL_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/config/config.pb.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/nominator.h"
#include "rescheduler/rescheduler.h"
#include "scheduler/scheduler.h"
#include "sim/cluster.h"

namespace kestrel::sim {

class Host;
struct Placement;

// Observer watches a simulation from inside, on the scheduling thread: the
// HTML report (html_report.h) records node usage before and after, and
// explains sampled pods against the cluster as it was when they were
// scheduled. It may read the host and run plugins, but must not change the
// cluster nor draw on the scheduler's randomness, so that placements are
// the same with and without it. Time spent in it is not counted in the
// report's wall time and throughput.
class Observer {
 public:
  virtual ~Observer() = default;
  // The cluster is loaded; nothing is scheduled yet.
  virtual void Started(Host& host) {}
  // Around the first attempt to place pending pod `index` (scheduling
  // order, Report::placements). Later attempts (after a rescheduler pass)
  // are not shown.
  virtual void BeforeFirstAttempt(Host& host, size_t index, const model::PodPtr& pod) {}
  virtual void AfterFirstAttempt(Host& host, size_t index, const model::PodPtr& pod,
                                 const Placement& placement) {}
  // Every pass is done: the cluster as the report leaves it.
  virtual void Finished(Host& host) {}
};

struct SimOptions {
  uint64_t seed = 1;
  // Filter/score threads; 0: the config's parallelism, at most one per
  // hardware thread.
  int threads = 0;
  // Scheduler::Options::incremental (off: the reference path, for
  // comparisons).
  bool incremental = true;
  // Run the critical-addon rescheduler after the scheduler (rescheduler/).
  bool rescheduler = true;
  rescheduler::Options rescheduler_options;
  // Not owned; may be null.
  Observer* observer = nullptr;
  // Called after each pod of the first scheduling round: pods done, of
  // how many (for a progress line); may be empty.
  std::function<void(size_t done, size_t total)> progress;
};

struct Placement {
  std::string pod;      // namespace/name
  std::string node;     // empty: unschedulable
  std::string message;  // why not, when unschedulable
  // The pods deleted (preemption) or evicted (rescheduler) to make room for
  // this pod, namespace/name, most important first.
  std::vector<std::string> victims;
  // Preemption nominated the pod here but it was not placed (yet).
  std::string nominated_node;
  // When unschedulable: the FitError histogram by plugin and reason
  // (ScheduleResult::fit_reasons); empty when a cycle failed with an error.
  std::vector<scheduler::ReasonCount> fit_reasons;
  // Virtual time of the placement: 0 for the first scheduling round, later
  // for pods placed after a rescheduler pass.
  absl::Duration at;
};

// Something the rescheduler did or reported, at a virtual time: its events
// (DeletedByRescheduler, PodDoestFitAnyNode, ...) and, from the simulated
// cluster, the taints it added and removed (reasons AddedTaint,
// RemovedTaint: not Kubernetes events, the simulator's log).
struct SimEvent {
  absl::Duration at;  // since the simulation started
  rescheduler::Event event;
};

struct Report {
  // In scheduling order: by priority, then file order (PrioritySort).
  std::vector<Placement> placements;
  std::vector<SimEvent> events;
  int nodes = 0;
  int existing_pods = 0;  // bound pods on the nodes
  // Bound pods whose node is not in the cluster: they count on no node.
  int pods_on_unknown_nodes = 0;
  int scheduled = 0;
  int unschedulable = 0;
  int preempted = 0;  // pods deleted by preemption
  int evicted = 0;    // pods evicted by the rescheduler
  // Wall time of scheduling the pending pods (an Observer's time left out).
  double seconds = 0;
  double pods_per_second = 0;
  // The workloads of the input files and what became of each (copied from
  // the Cluster).
  std::vector<WorkloadExpansion> workloads;
};

// Host wires a cache, the in-tree plugins and a Scheduler around a cluster.
// Simulate, Explain and the benchmarks use it. It is also the cluster the
// preemption plugin and the rescheduler act on: deleting a pod removes it
// from the cache at once (victims terminate at once in virtual time), and
// each budget that selects it has one disruption fewer allowed, as the
// disruption controller would recount.
class Host {
 public:
  // Loads the nodes and bound pods of `cluster` into the cache.
  static absl::StatusOr<std::unique_ptr<Host>> Create(
      const Cluster& cluster, const config::KubeSchedulerConfiguration& config,
      const SimOptions& options);

  // Fork()
  //
  // A host whose cache is a copy of `base`'s (Cache::CopyFrom: nodes, bound
  // pods, namespaces), with the same budgets and interner and its own
  // scheduler built from `config` and `options`. What the fork schedules,
  // deletes or evicts never reaches `base`. `base` is only read, so many
  // threads may fork one base at once while no one schedules into it.
  static absl::StatusOr<std::unique_ptr<Host>> Fork(
      const Host& base, const config::KubeSchedulerConfiguration& config,
      const SimOptions& options);

  // CopyOf()
  //
  // A host over a copy of `cache` (Cache::CopyFrom), with these budgets,
  // nodes (in the order Capacity reports them) and interner, and its own
  // scheduler: the base a live host (host/live_whatif.h) makes of the cache
  // its informers keep. `cache` is only read.
  static absl::StatusOr<std::unique_ptr<Host>> CopyOf(
      const cache::Cache& cache, model::Interner* names, std::vector<model::PdbPtr> pdbs,
      std::vector<model::NodePtr> nodes, const config::KubeSchedulerConfiguration& config,
      const SimOptions& options);

  // Schedules one pod and, when placed, confirms its binding in the cache.
  scheduler::ScheduleResult Schedule(const model::PodPtr& pod);

  // Place()
  //
  // Schedule, and when the pod preempted (victims gone at once), schedule it
  // again as nominated. The result names the victims either way.
  scheduler::ScheduleResult Place(const model::PodPtr& pod);

  // Eviction API semantics: ResourceExhausted (HTTP 429) when a budget that
  // selects `pod` allows no disruption; otherwise each such budget allows
  // one fewer and the pod is gone.
  absl::Status Evict(const model::Pod& pod);
  // Deletes a pod (preemption): budgets are spent but never block.
  absl::Status Delete(const model::Pod& pod);

  // Replaces a node (the rescheduler's taints).
  absl::Status UpdateNode(model::NodePtr node);
  // Adds a node after the others (the what-if service's scale-up); an
  // existing name is AlreadyExists.
  absl::Status AddNode(model::NodePtr node);
  // Removes a node that holds no pods (a scale-up node that took none).
  absl::Status RemoveNode(absl::string_view name);

  scheduler::Scheduler& scheduler() { return *scheduler_; }
  cache::Cache& cache() { return cache_; }
  const cache::Cache& cache() const { return cache_; }
  framework::Nominator& nominator() { return nominator_; }
  const std::vector<model::PdbPtr>& pdbs() const { return pdbs_; }
  const framework::PdbLister* pdb_lister() const { return &pdb_lister_; }
  const std::vector<model::NodePtr>& nodes() const { return nodes_; }
  model::Interner* names() { return names_; }

 private:
  // Bindings are virtual: the host confirms them in the cache itself.
  class VirtualBinder : public framework::Binder {
   public:
    absl::Status Bind(const model::Pod&, const std::string&) override {
      return absl::OkStatus();
    }
  };
  class VirtualDeleter : public framework::PodDeleter {
   public:
    explicit VirtualDeleter(Host* host) : host_(host) {}
    absl::Status DeletePod(const model::Pod& victim, const model::Pod&) override {
      return host_->Delete(victim);
    }

   private:
    Host* host_;
  };
  class Pdbs : public framework::PdbLister {
   public:
    explicit Pdbs(const Host* host) : host_(host) {}
    std::vector<model::PdbPtr> ListPdbs() const override { return host_->pdbs_; }

   private:
    const Host* host_;
  };

  Host() = default;
  // Builds the profiles and the scheduler over the loaded cache.
  absl::Status Init(const config::KubeSchedulerConfiguration& config, const SimOptions& options);
  // Removes `pod` and spends the budgets that select it.
  absl::Status Remove(const model::Pod& pod);

  cache::Cache cache_;
  VirtualBinder binder_;
  VirtualDeleter deleter_{this};
  Pdbs pdb_lister_{this};
  framework::Nominator nominator_;
  std::vector<model::PdbPtr> pdbs_;
  std::vector<model::NodePtr> nodes_;  // as they are now, in cluster order
  model::Interner* names_ = nullptr;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
};

// SchedulingOrder()
//
// `pods` in the scheduling queue's order: higher priority first, then
// arrival (the order given). Simulate and the what-if questions take pods
// in this order.
std::vector<model::PodPtr> SchedulingOrder(std::vector<model::PodPtr> pods);

// Simulate()
//
// Schedules every pending pod of `cluster` by priority, then file order
// (PrioritySort), with preemption; then, unless turned off, runs the
// critical-addon rescheduler in virtual time (its first pass after the
// initial delay, then every housekeeping interval) and schedules again the
// pods it made room for, until it has nothing left to do. `cluster.names`
// is used to intern plugin args and the rescheduler's taints.
//
// A pod in `cluster.waits_for` (an OrderedReady StatefulSet's) is not
// created, so not scheduled, while the pod it waits for is not placed: it
// is left unplaced with a message saying so, and tried again with the
// others whenever the rescheduler made room.
absl::StatusOr<Report> Simulate(const Cluster& cluster,
                                const config::KubeSchedulerConfiguration& config,
                                const SimOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_SIMULATOR_H_
