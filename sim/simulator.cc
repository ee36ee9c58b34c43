#include "sim/simulator.h"

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rescheduler/planner.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

namespace kestrel::sim {

absl::StatusOr<std::unique_ptr<Host>> Host::Create(
    const Cluster& cluster, const config::KubeSchedulerConfiguration& config,
    const SimOptions& options) {
  std::unique_ptr<Host> host(new Host());
  host->names_ = cluster.names.get();
  host->pdbs_ = cluster.pdbs;
  host->nodes_ = cluster.nodes;
  for (const auto& [ns, labels] : cluster.namespaces) host->cache_.SetNamespace(ns, labels);
  for (const model::NodePtr& node : cluster.nodes) {
    absl::Status s = host->cache_.AddNode(node);
    if (!s.ok()) return s;
  }
  for (const model::PodPtr& pod : cluster.bound_pods) {
    absl::Status s = host->cache_.AddPod(pod);
    if (!s.ok()) return s;
  }
  absl::Status s = host->Init(config, options);
  if (!s.ok()) return s;
  return host;
}

absl::StatusOr<std::unique_ptr<Host>> Host::Fork(
    const Host& base, const config::KubeSchedulerConfiguration& config,
    const SimOptions& options) {
  return CopyOf(base.cache_, base.names_, base.pdbs_, base.nodes_, config, options);
}

absl::StatusOr<std::unique_ptr<Host>> Host::CopyOf(
    const cache::Cache& cache, model::Interner* names, std::vector<model::PdbPtr> pdbs,
    std::vector<model::NodePtr> nodes, const config::KubeSchedulerConfiguration& config,
    const SimOptions& options) {
  std::unique_ptr<Host> host(new Host());
  host->names_ = names;
  host->pdbs_ = std::move(pdbs);
  host->nodes_ = std::move(nodes);
  host->cache_.CopyFrom(cache);
  absl::Status s = host->Init(config, options);
  if (!s.ok()) return s;
  return host;
}

absl::Status Host::Init(const config::KubeSchedulerConfiguration& config,
                        const SimOptions& options) {
  framework::Handle handle;
  handle.binder = &binder_;
  handle.interner = names_;
  handle.deleter = &deleter_;
  handle.pdbs = &pdb_lister_;
  handle.nominator = &nominator_;
  handle.seed = options.seed;
  auto profiles = scheduler::BuildProfiles(config, scheduler::InTreeRegistry(), handle);
  if (!profiles.ok()) return profiles.status();
  scheduler::Scheduler::Options opts;
  opts.seed = options.seed;
  opts.threads = options.threads;
  opts.incremental = options.incremental;
  if (opts.threads == 0) {
    // The config's parallelism (upstream's default when unset), capped at the cores
    // there are: more threads than cores only adds hand-off cost.
    const int hardware = std::max(1u, std::thread::hardware_concurrency());
    const int parallelism =
        config.has_parallelism() ? config.parallelism() : scheduler::kDefaultParallelism;
    opts.threads = std::min(parallelism, hardware);
  }
  opts.percentage_of_nodes_to_score = config.percentageofnodestoscore();
  scheduler_ = std::make_unique<scheduler::Scheduler>(&cache_, *std::move(profiles), opts);
  return absl::OkStatus();
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

scheduler::ScheduleResult Host::Place(const model::PodPtr& pod) {
  // PreEnqueue (scheduling gates): a pod they hold back never enters the
  // queue, so no cycle runs; it stays unplaced with their message.
  if (const framework::Framework* fw = scheduler_->ProfileFor(*pod); fw != nullptr) {
    framework::Status gate = fw->RunPreEnqueuePlugins(*pod);
    if (!gate.ok()) {
      scheduler::ScheduleResult r;
      r.code = gate.code();
      r.message = gate.Message();
      if (!gate.plugin().empty()) r.unschedulable_plugins.push_back(std::string(gate.plugin()));
      return r;
    }
  }
  // A pod nominated earlier is scheduled as the nominator holds it, with
  // its nominated node.
  model::PodPtr nominated = nominator_.Get(pod->Key());
  scheduler::ScheduleResult r = Schedule(nominated != nullptr ? nominated : pod);
  if (!r.node.empty() || r.nominated_node.empty()) return r;
  // Preemption made room and the victims are gone at once: the next cycle
  // for this pod, as nominated, is the one that places it.
  // The scheduler recorded the nomination in this host's nominator.
  nominated = nominator_.Get(pod->Key());
  if (nominated == nullptr) return r;
  scheduler::ScheduleResult again = Schedule(nominated);
  again.victims.insert(again.victims.begin(), r.victims.begin(), r.victims.end());
  if (again.node.empty() && again.nominated_node.empty()) {
    again.nominated_node = nominator_.NodeOf(pod->Key());
  }
  return again;
}

absl::Status Host::Remove(const model::Pod& pod) {
  model::PodPtr cached = cache_.GetPod(pod.Key());
  if (cached == nullptr) return absl::NotFoundError(absl::StrCat("pods \"", pod.name, "\" not found"));
  absl::Status s = cache_.RemovePod(*cached);
  if (!s.ok()) return s;
  nominator_.Delete(pod);
  // The disruption controller would now count one healthy pod fewer.
  for (model::PdbPtr& pdb : pdbs_) {
    if (!pdb->Selects(*cached)) continue;
    auto spent = std::make_shared<model::PodDisruptionBudget>(*pdb);
    spent->disruptions_allowed = std::max(0, spent->disruptions_allowed - 1);
    pdb = std::move(spent);
  }
  return absl::OkStatus();
}

absl::Status Host::Delete(const model::Pod& pod) { return Remove(pod); }

absl::Status Host::Evict(const model::Pod& pod) {
  model::PodPtr cached = cache_.GetPod(pod.Key());
  if (cached == nullptr) return absl::NotFoundError(absl::StrCat("pods \"", pod.name, "\" not found"));
  int selecting = 0;
  bool blocked = false;
  for (const model::PdbPtr& pdb : pdbs_) {
    if (!pdb->Selects(*cached)) continue;
    ++selecting;
    blocked = blocked || pdb->disruptions_allowed <= 0;
  }
  // The eviction subresource's answers (upstream registry/core/pod/storage/eviction.go).
  if (selecting > 1) {
    return absl::InternalError(
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
        "not support.");
  }
  if (blocked) {
    return absl::ResourceExhaustedError(
        "Cannot evict pod as it would violate the pod's disruption budget.");
  }
  return Remove(*cached);
}

absl::Status Host::UpdateNode(model::NodePtr node) {
  for (model::NodePtr& n : nodes_) {
    if (n->name == node->name) {
      n = node;
      return cache_.UpdateNode(std::move(node));
    }
  }
  return absl::NotFoundError(absl::StrCat("nodes \"", node->name, "\" not found"));
}

absl::Status Host::AddNode(model::NodePtr node) {
  for (const model::NodePtr& n : nodes_) {
    if (n->name == node->name) {
      return absl::AlreadyExistsError(absl::StrCat("nodes \"", node->name, "\" already exists"));
    }
  }
  absl::Status s = cache_.AddNode(node);
  if (!s.ok()) return s;
  nodes_.push_back(std::move(node));
  return absl::OkStatus();
}

absl::Status Host::RemoveNode(absl::string_view name) {
  for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
    if ((*it)->name != name) continue;
    absl::Status s = cache_.RemoveNode(name);
    if (!s.ok()) return s;
    nodes_.erase(it);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("nodes \"", name, "\" not found"));
}

namespace {

// The simulated cluster as the rescheduler sees it.
class SimClient : public rescheduler::ClusterClient {
 public:
  // `pending` holds every pod not placed yet, with `placements[i]` its entry.
  SimClient(Host* host, absl::Time start, const std::vector<model::PodPtr>* pending,
            const std::vector<Placement>* placements, std::vector<SimEvent>* events)
      : host_(host), start_(start), now_(start), pending_(pending), placements_(placements),
        events_(events) {}

  void set_now(absl::Time t) { now_ = t; }
  absl::Time Now() override { return now_; }

  std::vector<model::PodPtr> UnschedulablePods() override {
    std::vector<model::PodPtr> out;
    for (size_t i = 0; i < pending_->size(); ++i) {
      const Placement& p = (*placements_)[i];
      if (p.node.empty() && p.nominated_node.empty()) out.push_back((*pending_)[i]);
    }
    return out;
  }

  rescheduler::PodPhase PhaseOf(const std::string& key) override {
    model::PodPtr p = host_->cache().GetPod(key);
    if (p != nullptr && !p->node_name.empty()) return rescheduler::PodPhase::kBound;
    for (size_t i = 0; i < pending_->size(); ++i) {
      if ((*placements_)[i].pod == key && (*placements_)[i].node.empty()) {
        return rescheduler::PodPhase::kPending;
      }
    }
    return rescheduler::PodPhase::kGone;
  }

  model::PodPtr PendingPod(const std::string& key) override {
    for (size_t i = 0; i < pending_->size(); ++i) {
      if ((*placements_)[i].pod == key && (*placements_)[i].node.empty()) return (*pending_)[i];
    }
    return nullptr;
  }

  std::vector<model::NodePtr> ListNodes() override { return host_->nodes(); }

  absl::Status AddTaint(const std::string& node, const std::string& value) override {
    model::NodePtr n = Find(node);
    if (n == nullptr) return absl::NotFoundError(absl::StrCat("nodes \"", node, "\" not found"));
    auto copy = std::make_shared<model::Node>(*n);
    model::Taint t;
    t.key = rescheduler::kTaintKey;
    t.key_id = host_->names()->Intern(t.key);
    t.value = value;
    t.value_id = value.empty() ? model::kNoId : host_->names()->Intern(value);
    t.effect = model::TaintEffect::kNoSchedule;
    t.time_added = now_;
    copy->taints.push_back(std::move(t));
    absl::Status s = host_->UpdateNode(std::move(copy));
    if (s.ok()) Log("Node " + node, "AddedTaint", value);
    return s;
  }

  absl::Status RemoveTaint(const std::string& node, const std::string& value) override {
    model::NodePtr n = Find(node);
    if (n == nullptr) return absl::NotFoundError(absl::StrCat("nodes \"", node, "\" not found"));
    auto copy = std::make_shared<model::Node>(*n);
    auto& taints = copy->taints;
    taints.erase(std::remove_if(taints.begin(), taints.end(),
                                [&](const model::Taint& t) {
                                  return t.key == rescheduler::kTaintKey && t.value == value;
                                }),
                 taints.end());
    absl::Status s = host_->UpdateNode(std::move(copy));
    if (s.ok()) Log("Node " + node, "RemovedTaint", value);
    return s;
  }

  absl::Status Evict(const model::Pod& pod) override { return host_->Evict(pod); }

  void Record(const rescheduler::Event& e) override { events_->push_back({now_ - start_, e}); }

 private:
  void Log(const std::string& object, const std::string& reason, const std::string& value) {
    Record({object, "Normal", reason,
            absl::StrCat(rescheduler::kTaintKey, "=", value, ":NoSchedule")});
  }

  model::NodePtr Find(const std::string& name) const {
    for (const model::NodePtr& n : host_->nodes()) {
      if (n->name == name) return n;
    }
    return nullptr;
  }

  Host* host_;
  absl::Time start_, now_;
  const std::vector<model::PodPtr>* pending_;
  const std::vector<Placement>* placements_;
  std::vector<SimEvent>* events_;
};

// Passes of the rescheduler after which the simulation stops even if it is
// still waiting for something (a budget that never allows an eviction).
constexpr int kMaxReschedulerPasses = 100000;

}  // namespace

std::vector<model::PodPtr> SchedulingOrder(std::vector<model::PodPtr> pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const model::PodPtr& a, const model::PodPtr& b) {
    return a->priority > b->priority;
  });
  return pods;
}

absl::StatusOr<Report> Simulate(const Cluster& cluster,
                                const config::KubeSchedulerConfiguration& config,
                                const SimOptions& options) {
  auto created = Host::Create(cluster, config, options);
  if (!created.ok()) return created.status();
  Host& host = **created;
  Report report;
  report.workloads = cluster.workloads;
  report.nodes = static_cast<int>(cluster.nodes.size());
  const size_t aside = host.cache().CountPodsOnUnknownNodes();
  report.existing_pods = static_cast<int>(host.cache().num_pods() - aside);
  report.pods_on_unknown_nodes = static_cast<int>(aside);

  const std::vector<model::PodPtr> pending = SchedulingOrder(cluster.pending_pods);
  std::vector<Placement>& placements = report.placements;
  placements.resize(pending.size());

  // A plugin error leaves the pod unplaced with the error as its message,
  // as upstream requeues it; the run goes on.
  absl::Duration now_offset;  // virtual time since the start
  Observer* observer = options.observer;
  absl::Duration observed;  // wall time spent in `observer`, left out of the timing
  auto observe = [&](auto&& call) {
    if (observer == nullptr) return;
    const absl::Time t = absl::Now();
    call();
    observed += absl::Now() - t;
  };
  auto place = [&](size_t i) {
    if (auto waits = cluster.waits_for.find(pending[i]->Key()); waits != cluster.waits_for.end()) {
      model::PodPtr before = host.cache().GetPod(waits->second);
      if (before == nullptr || before->node_name.empty()) {
        Placement& p = placements[i];
        p.pod = pending[i]->Key();
        p.message = absl::StrCat(
            "not created yet: its StatefulSet (podManagementPolicy OrderedReady) creates it once ",
            waits->second, " is Running and Ready");
        return;
      }
    }
    scheduler::ScheduleResult r = host.Place(pending[i]);
    Placement& p = placements[i];
    p.fit_reasons = r.node.empty() ? std::move(r.fit_reasons)
                                   : std::vector<scheduler::ReasonCount>();
    p.at = r.node.empty() ? absl::ZeroDuration() : now_offset;
    p.pod = pending[i]->Key();
    p.node = r.node;
    p.message = r.node.empty() ? r.message : "";
    p.nominated_node = r.node.empty() ? r.nominated_node : "";
    for (const model::PodPtr& v : r.victims) p.victims.push_back(v->Key());
    report.preempted += static_cast<int>(r.victims.size());
  };
  if (observer != nullptr) observer->Started(host);
  const absl::Time wall_start = absl::Now();
  for (size_t i = 0; i < pending.size(); ++i) {
    observe([&] { observer->BeforeFirstAttempt(host, i, pending[i]); });
    place(i);
    observe([&] { observer->AfterFirstAttempt(host, i, pending[i], placements[i]); });
    if (options.progress) options.progress(i + 1, pending.size());
  }

  if (options.rescheduler) {
    const rescheduler::Options& ro = options.rescheduler_options;
    // Virtual time: the scheduler ran at the epoch; the rescheduler starts
    // after its initial delay and wakes every housekeeping interval.
    const absl::Time start = absl::UnixEpoch();
    SimClient client(&host, start, &pending, &placements, &report.events);
    rescheduler::SchedulerPlanner planner(&host.scheduler(), host.pdb_lister(), host.names());
    rescheduler::Rescheduler rs(&client, &planner, ro);
    // Cluster events (taints released, pods evicted) send the pods that
    // could not be placed back to the queue, in its order.
    auto retry = [&]() {
      for (size_t i = 0; i < pending.size(); ++i) {
        if (placements[i].node.empty()) place(i);
      }
    };
    absl::Time now = start + ro.initial_delay;
    client.set_now(now);
    now_offset = now - start;
    size_t taints = 0;
    for (const model::NodePtr& n : host.nodes()) {
      for (const model::Taint& t : n->taints) taints += t.key == rescheduler::kTaintKey;
    }
    absl::Status s = rs.Start();
    if (!s.ok()) return s;
    if (taints > 0) retry();
    for (int pass = 0; pass < kMaxReschedulerPasses; ++pass) {
      now += ro.housekeeping_interval;
      client.set_now(now);
      now_offset = now - start;
      const bool changed = rs.RunOnce();
      if (changed) retry();
      if (!changed && !rs.busy()) break;
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      std::vector<std::string> evicted = rs.EvictedFor(placements[i].pod);
      report.evicted += static_cast<int>(evicted.size());
      std::vector<std::string>& v = placements[i].victims;
      v.insert(v.end(), evicted.begin(), evicted.end());
    }
  }
  for (const Placement& p : placements) {
    if (p.node.empty()) {
      ++report.unschedulable;
    } else {
      ++report.scheduled;
    }
  }
  report.seconds = absl::ToDoubleSeconds(absl::Now() - wall_start - observed);
  if (observer != nullptr) observer->Finished(host);
  report.pods_per_second = report.seconds > 0 ? pending.size() / report.seconds : 0;
  return report;
}

}  // namespace kestrel::sim
