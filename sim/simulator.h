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
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "scheduler/cache/cache.h"
#include "scheduler/framework/interface.h"
#include "scheduler/scheduler.h"
#include "sim/cluster.h"

namespace kestrel::sim {

struct SimOptions {
  uint64_t seed = 1;
  // Filter/score threads; 0: the config's parallelism, at most one per
  // hardware thread.
  int threads = 0;
};

struct Placement {
  std::string pod;      // namespace/name
  std::string node;     // empty: unschedulable
  std::string message;  // why not, when unschedulable
};

struct Report {
  std::vector<Placement> placements;
  int nodes = 0;
  int existing_pods = 0;
  int scheduled = 0;
  int unschedulable = 0;
  double seconds = 0;  // wall time of scheduling the pending pods
  double pods_per_second = 0;
};

// Host wires a cache, the in-tree plugins and a Scheduler around a cluster.
// Simulate, Explain and the benchmarks use it.
class Host {
 public:
  // Loads the nodes and bound pods of `cluster` into the cache.
  static absl::StatusOr<std::unique_ptr<Host>> Create(
      const Cluster& cluster, const config::KubeSchedulerConfiguration& config,
      const SimOptions& options);

  // Schedules one pod and, when placed, confirms its binding in the cache.
  scheduler::ScheduleResult Schedule(const model::PodPtr& pod);

  scheduler::Scheduler& scheduler() { return *scheduler_; }
  cache::Cache& cache() { return cache_; }

 private:
  // Bindings are virtual: the host confirms them in the cache itself.
  class VirtualBinder : public framework::Binder {
   public:
    absl::Status Bind(const model::Pod&, const std::string&) override {
      return absl::OkStatus();
    }
  };

  Host() = default;
  cache::Cache cache_;
  VirtualBinder binder_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
};

// Simulate()
//
// Schedules every pending pod of `cluster`, in order. `cluster.names` is used
// to intern plugin args.
absl::StatusOr<Report> Simulate(const Cluster& cluster,
                                const config::KubeSchedulerConfiguration& config,
                                const SimOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_SIMULATOR_H_
