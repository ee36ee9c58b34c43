#include "sim/simulator.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

namespace kestrel::sim {

absl::StatusOr<std::unique_ptr<Host>> Host::Create(
    const Cluster& cluster, const config::KubeSchedulerConfiguration& config,
    const SimOptions& options) {
  std::unique_ptr<Host> host(new Host());
  framework::Handle handle;
  handle.binder = &host->binder_;
  handle.interner = cluster.names.get();
  auto profiles = scheduler::BuildProfiles(config, scheduler::InTreeRegistry(), handle);
  if (!profiles.ok()) return profiles.status();
  for (const auto& [ns, labels] : cluster.namespaces) host->cache_.SetNamespace(ns, labels);
  for (const model::NodePtr& node : cluster.nodes) {
    absl::Status s = host->cache_.AddNode(node);
    if (!s.ok()) return s;
  }
  for (const model::PodPtr& pod : cluster.bound_pods) {
    absl::Status s = host->cache_.AddPod(pod);
    if (!s.ok()) return s;
  }
  scheduler::Scheduler::Options opts;
  opts.seed = options.seed;
  opts.threads = options.threads;
  if (opts.threads == 0) {
    // The config's parallelism (upstream's default when unset), capped at the cores
    // there are: more threads than cores only adds hand-off cost.
    const int hardware = std::max(1u, std::thread::hardware_concurrency());
    const int parallelism =
        config.has_parallelism() ? config.parallelism() : scheduler::kDefaultParallelism;
    opts.threads = std::min(parallelism, hardware);
  }
  opts.percentage_of_nodes_to_score = config.percentageofnodestoscore();
  host->scheduler_ = std::make_unique<scheduler::Scheduler>(&host->cache_,
                                                            *std::move(profiles), opts);
  return host;
}

scheduler::ScheduleResult Host::Schedule(const model::PodPtr& pod) {
  scheduler::ScheduleResult r = scheduler_->ScheduleOne(pod);
  if (!r.node.empty()) {
    // The virtual API server confirms the binding at once: the pod it
    // reports bound is the one the scheduler assumed on that node.
    absl::Status s = cache_.AddPod(cache_.GetPod(pod->Key()));
    if (!s.ok()) {
      r.code = framework::Code::kError;
      r.message = std::string(s.message());
      r.node.clear();
    }
  }
  return r;
}

absl::StatusOr<Report> Simulate(const Cluster& cluster,
                                const config::KubeSchedulerConfiguration& config,
                                const SimOptions& options) {
  auto host = Host::Create(cluster, config, options);
  if (!host.ok()) return host.status();
  Report report;
  report.nodes = static_cast<int>(cluster.nodes.size());
  report.existing_pods = static_cast<int>(cluster.bound_pods.size());
  report.placements.reserve(cluster.pending_pods.size());
  const absl::Time start = absl::Now();
  for (const model::PodPtr& pod : cluster.pending_pods) {
    // A plugin error leaves the pod unplaced with the error as its message,
    // as upstream requeues it; the run goes on.
    scheduler::ScheduleResult r = (*host)->Schedule(pod);
    Placement p{pod->Key(), r.node, r.message};
    if (r.node.empty()) {
      ++report.unschedulable;
    } else {
      ++report.scheduled;
    }
    report.placements.push_back(std::move(p));
  }
  report.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const size_t n = cluster.pending_pods.size();
  report.pods_per_second = report.seconds > 0 ? n / report.seconds : 0;
  return report;
}

}  // namespace kestrel::sim
