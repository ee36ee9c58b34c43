// File: api_host.h
//
// The rescheduler against a Kubernetes API server: ApiCluster implements
// ClusterClient with REST calls (kube/client.h), and answers the Planner
// from a scheduler view rebuilt from the server's lists at every pass.
//
//   - Refresh() lists namespaces (their labels, for namespaceSelector),
//     nodes, pods, PodDisruptionBudgets and PriorityClasses and loads them as the simulator loads a snapshot (sim::LoadContents,
//     sim::Host), so the planner sees the cluster with the scheduler's own
//     profile. Unschedulable pods are the pending ones whose PodScheduled
//     condition is False with reason Unschedulable and which have no
//     status.nominatedNodeName (the scheduler is preempting for them).
//   - Taints are added and removed with a JSON merge patch of spec.taints
//     that carries the node's resourceVersion: a concurrent change answers
//     409, and the change is made again on the latest node.
//   - Evictions use the Eviction API (policy/v1); 429 (a budget allows no
//     disruption now) comes back as ResourceExhausted, and the rescheduler
//     tries again on its next pass.
//   - Events are core/v1 Events from component "rescheduler"; events about
//     nodes go to the default namespace, as upstream's recorder does.
//
// Example:
//   ApiCluster cluster(client.get(), scheduler::DefaultConfig());
//   Rescheduler r(&cluster, cluster.planner(), options);
//   RETURN_IF_ERROR(RunPasses(cluster, r, options, /*passes=*/0, Sleep));

#ifndef KESTREL_RESCHEDULER_API_HOST_H_
#define KESTREL_RESCHEDULER_API_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/config/config.pb.h"
#include "kube/client.h"
#include "rescheduler/planner.h"
#include "rescheduler/rescheduler.h"
#include "sim/cluster.h"
#include "sim/simulator.h"

namespace kestrel::rescheduler {

class ApiCluster : public ClusterClient {
 public:
  // `client` must outlive this. `config` gives the profile the planner
  // schedules with.
  ApiCluster(kube::Client* client, config::KubeSchedulerConfiguration config);

  // Refresh()
  //
  // Lists the cluster and rebuilds the view ListNodes, UnschedulablePods
  // and the planner answer from. Errors name the request or the object.
  absl::Status Refresh();

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

  // Adds (`add`) or removes CriticalAddonsOnly=`value`:NoSchedule on `node`,
  // again on the latest node after a conflict.
  absl::Status ChangeTaint(const std::string& node, const std::string& value, bool add);

  kube::Client* client_;
  config::KubeSchedulerConfiguration config_;
  ViewPlanner planner_{this};
  // The latest view; the Host refers to the cluster's names.
  std::unique_ptr<sim::Cluster> cluster_;
  std::unique_ptr<sim::Host> host_;
  std::unique_ptr<SchedulerPlanner> scheduler_planner_;
  absl::flat_hash_set<std::string> unschedulable_;  // namespace/name
};

// RunPasses()
//
// The 1.4 rescheduler's main loop: Refresh and Start (stale taints go),
// wait `initial_delay`, then every `housekeeping_interval` Refresh and one
// pass, `passes` times (0: forever). `sleep` waits (absl::SleepFor outside
// tests). A failed Refresh skips that pass and is written to stderr; only a
// failed first Refresh or Start is returned.
absl::Status RunPasses(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                       int passes, const std::function<void(absl::Duration)>& sleep);

}  // namespace kestrel::rescheduler

#endif  // KESTREL_RESCHEDULER_API_HOST_H_
