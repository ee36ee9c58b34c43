#include "host/scheduler_host.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/core.pb.h"
#include "api/policy.pb.h"
#include "google/protobuf/util/json_util.h"
#include "scheduler/framework/events.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "util/klog/klog.h"

namespace kestrel::host {
namespace {

// The calling thread's CPU time so far.
int64_t ThreadCpuNanos() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

namespace v1 = ::k8s::io::api::core::v1;
using framework::ClusterEvent;

// How long the scheduling thread sleeps when there is nothing to do; it
// wakes at once for a change.
constexpr absl::Duration kIdleWait = absl::Milliseconds(100);
// Upstream flushes backoffQ every second and unschedulablePods every 30 s.
constexpr absl::Duration kBackoffFlushPeriod = absl::Seconds(1);
constexpr absl::Duration kUnschedulableFlushPeriod = absl::Seconds(30);

std::string KeyOf(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

// The claim of the first PersistentVolumeClaim volume, or "".
std::string ClaimOf(const v1::Pod& pod) {
  for (const v1::Volume& v : pod.spec().volumes()) {
    if (v.volumesource().has_persistentvolumeclaim()) {
      return v.volumesource().persistentvolumeclaim().claimname();
    }
  }
  return "";
}

// Whether two maps hold the same keys with `same` values.
template <typename Map, typename Same = std::equal_to<>>
bool SameMap(const Map& a, const Map& b, Same same = Same()) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || !same(it->second, v)) return false;
  }
  return true;
}

// The node update events upstream's nodeSchedulingPropertiesChange finds.
std::vector<ClusterEvent> NodeUpdateEvents(const v1::Node& old_node, const v1::Node& new_node) {
  std::vector<ClusterEvent> events;
  if (old_node.spec().unschedulable() != new_node.spec().unschedulable() &&
      !new_node.spec().unschedulable()) {
    events.push_back(framework::kNodeSpecUnschedulableChange);
  }
  if (!SameMap(old_node.status().allocatable(), new_node.status().allocatable(),
               [](const auto& x, const auto& y) { return x.string() == y.string(); })) {
    events.push_back(framework::kNodeAllocatableChange);
  }
  if (!SameMap(old_node.metadata().labels(), new_node.metadata().labels())) {
    events.push_back(framework::kNodeLabelChange);
  }
  bool taints_same = old_node.spec().taints_size() == new_node.spec().taints_size();
  for (int i = 0; taints_same && i < old_node.spec().taints_size(); ++i) {
    const v1::Taint& a = old_node.spec().taints(i);
    const v1::Taint& b = new_node.spec().taints(i);
    taints_same = a.key() == b.key() && a.value() == b.value() && a.effect() == b.effect();
  }
  if (!taints_same) events.push_back(framework::kNodeTaintChange);
  std::map<std::string, std::string> old_conditions, new_conditions;
  for (const auto& c : old_node.status().conditions()) old_conditions[c.type()] = c.status();
  for (const auto& c : new_node.status().conditions()) new_conditions[c.type()] = c.status();
  if (old_conditions != new_conditions) events.push_back(framework::kNodeConditionChange);
  if (!SameMap(old_node.metadata().annotations(), new_node.metadata().annotations())) {
    events.push_back(framework::kNodeAnnotationChange);
  }
  return events;
}

// The PodScheduled condition the API holds for `pod`, if any.
const v1::PodCondition* ScheduledCondition(const v1::Pod& pod) {
  for (const v1::PodCondition& c : pod.status().conditions()) {
    if (c.type() == "PodScheduled") return &c;
  }
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------
// Plugins' hooks.

absl::Status SchedulerHost::DeferredBinder::Bind(const model::Pod& pod,
                                                 const std::string& node_name) {
  host_->bind_request_.emplace(pod.Key(), node_name);
  return absl::OkStatus();
}

absl::Status SchedulerHost::VictimDeleter::DeletePod(const model::Pod& victim,
                                                     const model::Pod& preemptor) {
  SchedulerHost* host = host_;
  const PodRef v = host->RefOf(victim);
  const PodRef p = host->RefOf(preemptor);
  const std::string scheduler_name = preemptor.scheduler_name;
  const std::string node = victim.node_name;
  host->writer_->Submit([host, v, p, scheduler_name, node] {
    // Upstream's prepareCandidate: the condition first, then the delete.
    absl::Status s = host->writer_->PatchDisruptionTarget(v, scheduler_name);
    if (!s.ok()) KLOG.ErrorS(s, "Could not add DisruptionTarget condition due to preemption",
                             {{"pod", KeyOf(v.ns, v.name)}, {"preemptor", KeyOf(p.ns, p.name)}});
    s = host->writer_->DeletePod(v);
    if (!s.ok()) {
      KLOG.ErrorS(s, "Preempted pod", {{"pod", KeyOf(v.ns, v.name)}});
      return;
    }
    host->writer_
        ->Event(scheduler_name, v, &p, "Normal", "Preempted", "Preempting",
                absl::StrCat("Preempted by pod ", p.uid, " on node ", node))
        .IgnoreError();
  });
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

SchedulerHost::SchedulerHost(std::shared_ptr<kube::Client> client, SchedulerHostOptions options)
    : client_(std::move(client)),
      options_(std::move(options)),
      loader_(&cache_, &names_, load::LoaderOptions{options_.compile}) {}

SchedulerHost::~SchedulerHost() { Stop(); }

absl::Status SchedulerHost::Start() {
  ApiWriterOptions writer_options;
  writer_options.workers = options_.api_workers;
  writer_options.hostname = options_.hostname;
  writer_options.may_write = [this] { return leading_.load() && !stopping_.load(); };
  writer_options.event_client = options_.event_client;
  writer_ = std::make_unique<ApiWriter>(client_, std::move(writer_options));

  framework::Handle handle;
  handle.binder = &binder_;
  handle.interner = &names_;
  handle.deleter = &deleter_;
  handle.pdbs = loader_.pdb_lister();
  handle.nominator = &nominator_;
  handle.seed = options_.seed;
  auto profiles = scheduler::BuildProfiles(options_.config, scheduler::InTreeRegistry(), handle);
  if (!profiles.ok()) return profiles.status();
  queue::SchedulingQueue::Options queue_options;
  if (options_.config.podinitialbackoffseconds() > 0) {
    queue_options.pod_initial_backoff = absl::Seconds(options_.config.podinitialbackoffseconds());
  }
  if (options_.config.podmaxbackoffseconds() > 0) {
    queue_options.pod_max_backoff = absl::Seconds(options_.config.podmaxbackoffseconds());
  }
  const framework::QueueSortPlugin* sort = nullptr;
  for (const auto& fw : *profiles) {
    profile_names_.insert(fw->scheduler_name());
    queue_options.cluster_event_maps[fw->scheduler_name()] = fw->cluster_event_map();
    if (sort == nullptr) sort = fw->queue_sort();
  }
  if (sort == nullptr) return absl::InvalidArgumentError("no profile has a QueueSort plugin");
  // The pod's profile's PreEnqueue plugins (scheduling gates). The queue
  // calls this on the scheduling thread, after scheduler_ exists.
  queue_options.pre_enqueue = [this](const model::Pod& pod) {
    const framework::Framework* fw = scheduler_->ProfileFor(pod);
    return fw == nullptr ? framework::Status() : fw->RunPreEnqueuePlugins(pod);
  };
  queue_ = std::make_unique<queue::SchedulingQueue>(sort, std::move(queue_options));

  scheduler::Scheduler::Options sched_options;
  sched_options.seed = options_.seed;
  int threads = options_.threads;
  if (threads <= 0) {
    threads = options_.config.parallelism() > 0 ? options_.config.parallelism() : 16;
    threads = std::min<int>(threads, std::max(1u, std::thread::hardware_concurrency()));
  }
  sched_options.threads = threads;
  sched_options.incremental = options_.incremental;
  sched_options.percentage_of_nodes_to_score = options_.config.percentageofnodestoscore();
  scheduler_ = std::make_unique<scheduler::Scheduler>(&cache_, *std::move(profiles), sched_options);

  // Informers: one shared client, so one token bucket for every request.
  auto informers = ClusterInformers::Create(client_, options_.reflector, [this](ObjectChange c) {
    Change change;
    switch (c.kind) {
      case ObjectChange::Kind::kNamespace:
        change.kind = Change::Kind::kNamespace;
        break;
      case ObjectChange::Kind::kNode:
        change.kind = Change::Kind::kNode;
        break;
      case ObjectChange::Kind::kPdb:
        change.kind = Change::Kind::kPdb;
        break;
      case ObjectChange::Kind::kPod:
        change.kind = Change::Kind::kPod;
        break;
    }
    change.op = c.op == ObjectChange::Op::kAdd      ? Change::Op::kAdd
                : c.op == ObjectChange::Op::kUpdate ? Change::Op::kUpdate
                                                    : Change::Op::kDelete;
    change.old_object = std::move(c.old_object);
    change.object = std::move(c.object);
    Enqueue(std::move(change));
  });
  if (!informers.ok()) return informers.status();
  informers_ = *std::move(informers);
  pods_informer_ = informers_->pods();
  nodes_informer_ = informers_->nodes();
  namespaces_informer_ = informers_->namespaces();
  pdbs_informer_ = informers_->pdbs();
  if (options_.rescheduler) {
    // The rescheduler's view, fed by the same informers (no second list or
    // watch of the cluster); its passes run only while this replica leads.
    rescheduler::ApiClusterOptions view;
    view.on_error = [](const absl::Status& s) {
      KLOG.ErrorS(s, "Rescheduler", {{"component", "rescheduler"}});
    };
    resched_cluster_ =
        std::make_unique<rescheduler::ApiCluster>(client_, options_.config, std::move(view));
    rescheduler::ApiInformers attached;
    attached.namespaces = namespaces_informer_;
    attached.nodes = nodes_informer_;
    attached.pdbs = pdbs_informer_;
    attached.pods = pods_informer_;
    if (absl::Status s = resched_cluster_->AttachInformers(attached); !s.ok()) return s;
    resched_ = std::make_unique<rescheduler::Rescheduler>(
        resched_cluster_.get(), resched_cluster_->planner(), options_.rescheduler_options);
  }
  writer_->DetectEventsApi();
  informers_->Start();
  if (resched_ != nullptr) resched_thread_ = std::thread([this] { RunRescheduler(); });

  if (options_.serve) {
    auth_ = std::make_unique<DelegatingAuth>(client_.get(), options_.auth);
    ServingEndpoints endpoints;
    HealthCheck leader;
    leader.name = "leaderElection";
    leader.check = [this]() -> absl::Status {
      // Upstream's leader-election watchdog: a leader whose lease expired
      // more than 20 s ago is unhealthy.
      if (elector_ == nullptr) return absl::OkStatus();
      return elector_->Check(absl::Seconds(20));
    };
    HealthCheck synced;
    synced.name = "sched-handler-sync";
    synced.check = [this]() -> absl::Status {
      return this->synced() ? absl::OkStatus()
                            : absl::UnavailableError("waiting for handlers to sync");
    };
    endpoints.healthz = {PingCheck(), leader};
    endpoints.livez = {PingCheck(), leader};
    endpoints.readyz = {PingCheck(), synced};
    endpoints.metrics = [this] {
      UpdateQueueMetrics();
      return metrics_.Exposition();
    };
    endpoints.configz = [this] { return Configz(); };
    auto server = SecureServer::Start(options_.serving, std::move(endpoints), auth_.get());
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
  }

  loop_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "kestrel-sched");
    Loop();
  });

  if (!options_.leader_election.leader_elect) {
    leading_ = true;
    return absl::OkStatus();
  }
  const config::LeaderElectionSettings& le = options_.leader_election;
  kube::LeaderElectionConfig config;
  if (options_.identity.empty()) {
    absl::StatusOr<std::string> identity = kube::NewIdentity();
    if (!identity.ok()) return identity.status();
    config.identity = *identity;
  } else {
    config.identity = options_.identity;
  }
  config.lease_duration = le.lease_duration;
  config.renew_deadline = le.renew_deadline;
  config.retry_period = le.retry_period;
  config.release_on_cancel = true;
  config.name = le.resource_name;
  config.callbacks.on_started_leading = [this] {
    KLOG.InfoS("Leader election acquired; starting to schedule");
    leading_ = true;
    changes_cv_.notify_all();
  };
  config.callbacks.on_stopped_leading = [this] {
    leading_ = false;
    if (!stopping_.load()) {
      lost_ = true;
      KLOG.ErrorS(absl::OkStatus(), "Leaderelection lost");
    }
    changes_cv_.notify_all();
  };
  config.callbacks.on_new_leader = [](const std::string& identity) {
    KLOG.InfoS("New leader elected", {{"identity", identity}});
  };
  config.log = [](absl::string_view message) { KLOG_V(2).Info(message); };
  lease_lock_ = std::make_unique<kube::HttpLeaseLock>(client_.get(), le.resource_namespace,
                                                      le.resource_name);
  auto elector = kube::LeaderElector::Create(config, lease_lock_.get(), kube::RealClock());
  if (!elector.ok()) return elector.status();
  elector_ = *std::move(elector);
  elector_thread_ = std::thread([this] { elector_->Run(elector_stop_); });
  return absl::OkStatus();
}

void SchedulerHost::RunRescheduler() {
  // Waits `d` unless the host stops or stops leading: false ends the loop.
  auto wait = [this](absl::Duration d) {
    const absl::Time deadline = absl::Now() + d;
    while (absl::Now() < deadline) {
      if (stopping_.load() || lost_.load() || !leading_.load()) return false;
      absl::SleepFor(std::min(absl::Milliseconds(50), deadline - absl::Now()));
    }
    return !stopping_.load() && !lost_.load() && leading_.load();
  };
  while (!leading_.load()) {
    if (stopping_.load() || lost_.load()) return;
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::Status s = rescheduler::RunPassesUntilStopped(*resched_cluster_, *resched_,
                                                      options_.rescheduler_options, wait);
  if (!s.ok()) KLOG.ErrorS(s, "Rescheduler stopped");
}

absl::Status SchedulerHost::Wait(const absl::Notification& stop) {
  while (!stop.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
    if (lost_.load()) return absl::AbortedError("leaderelection lost");
  }
  return absl::OkStatus();
}

void SchedulerHost::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  changes_cv_.notify_all();
  if (loop_thread_.joinable()) loop_thread_.join();
  if (resched_thread_.joinable()) resched_thread_.join();
  if (elector_ != nullptr) {
    elector_stop_.Notify();
    if (elector_thread_.joinable()) elector_thread_.join();
  }
  if (informers_ != nullptr) informers_->Stop();
  server_.reset();
  if (queue_ != nullptr) queue_->Close();
  if (writer_ != nullptr) {
    // Runs what was handed over (writes are refused now); the jobs use
    // writer_, so it must stay set until they are done.
    writer_->Drain();
    writer_.reset();
  }
}

bool SchedulerHost::synced() const { return informers_ != nullptr && informers_->synced(); }

queue::QueueStats SchedulerHost::queue_stats() const {
  return queue_ != nullptr ? queue_->Stats() : queue::QueueStats();
}

size_t SchedulerHost::changes_waiting() {
  std::lock_guard<std::mutex> lock(changes_mu_);
  return changes_.size();
}

int SchedulerHost::secure_port() const { return server_ != nullptr ? server_->port() : -1; }

void SchedulerHost::Enqueue(Change change) {
  {
    std::lock_guard<std::mutex> lock(changes_mu_);
    changes_.push_back(std::move(change));
  }
  changes_cv_.notify_all();
}

// ---------------------------------------------------------------------------
// The scheduling thread.

void SchedulerHost::Loop() {
  while (!stopping_.load() && !lost_.load()) {
    // Synced is read before the changes are applied: an informer hands its
    // list to the handlers (queued here) before it reports synced, so once
    // it says so, this ApplyChanges has the whole list. Read the other way
    // round, a pod could be scheduled against a cache without the nodes
    // (upstream waits for the handlers too, WaitForHandlersSync).
    const bool ready = leading_.load() && synced();
    const bool changed = ApplyChanges();
    if (!ready) {
      if (!changed) {
        std::unique_lock<std::mutex> lock(changes_mu_);
        changes_cv_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(kIdleWait)));
      }
      continue;
    }
    const absl::Time now = absl::Now();
    if (now - last_backoff_flush_ >= kBackoffFlushPeriod) {
      queue_->FlushBackoffQCompleted();
      last_backoff_flush_ = now;
    }
    if (now - last_unschedulable_flush_ >= kUnschedulableFlushPeriod) {
      queue_->FlushUnschedulablePodsLeftover();
      last_unschedulable_flush_ = now;
    }
    if (ScheduleNext()) continue;
    std::unique_lock<std::mutex> lock(changes_mu_);
    if (changes_.empty() && !stopping_.load()) {
      changes_cv_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(kIdleWait)));
    }
  }
}

bool SchedulerHost::ApplyChanges() {
  std::deque<Change> changes;
  {
    std::lock_guard<std::mutex> lock(changes_mu_);
    changes.swap(changes_);
  }
  const absl::Time start = absl::Now();
  for (Change& c : changes) {
    switch (c.kind) {
      case Change::Kind::kPod:
        ApplyPod(c);
        break;
      case Change::Kind::kNode:
        ApplyNode(c);
        break;
      case Change::Kind::kBindFailed:
        BindFailed(std::move(c));
        break;
      default:
        ApplyOther(c);
        break;
    }
  }
  if (!changes.empty()) apply_ns_ += absl::ToInt64Nanoseconds(absl::Now() - start);
  return !changes.empty();
}

bool SchedulerHost::Responsible(const model::Pod& pod) const {
  return profile_names_.count(pod.scheduler_name) > 0;
}

void SchedulerHost::ApplyPod(const Change& c) {
  const auto& api = static_cast<const v1::Pod&>(*c.object);
  const std::string key = KeyOf(api.metadata().namespace_(), api.metadata().name());
  const model::PodPtr old_pending = loader_.GetPendingPod(key);
  const model::PodPtr old_cached = cache_.GetPod(key);
  const bool old_assumed = old_cached != nullptr && cache_.IsAssumed(*old_cached);

  if (c.op == Change::Op::kDelete) {
    // An assumed pod that goes (deleted while its binding was in flight)
    // is forgotten: it must not hold its node's resources.
    if (old_assumed) cache_.ForgetPod(*old_cached).IgnoreError();
    if (absl::Status s = loader_.Delete(api); !s.ok()) {
      KLOG.ErrorS(s, "Could not delete pod from the cache", {{"pod", key}});
    }
    pvc_claims_.erase(key);
    if (old_pending != nullptr) {
      queue_->Delete(*old_pending);
      nominator_.Delete(*old_pending);
    }
    if (old_cached != nullptr && !old_assumed) {
      queue_->MoveAllToActiveOrBackoffQueue(framework::kAssignedPodDelete);
    }
    return;
  }

  absl::Status s = c.op == Change::Op::kAdd ? loader_.Add(api) : loader_.Update(*c.old_object, api);
  if (!s.ok()) {
    // Bad input: logged, skipped; the informer carries on.
    KLOG.ErrorS(s, "Skipping pod that does not compile", {{"pod", key}});
    return;
  }
  const model::PodPtr pending = loader_.GetPendingPod(key);
  if (pending != nullptr) {
    if (!Responsible(*pending)) return;
    if (pending->terminating) {
      queue_->Delete(*pending);
      return;
    }
    // Our binding is in flight: the informer still shows the pod unbound
    // (upstream skips assumed pods' updates).
    if (old_assumed) return;
    const std::string claim = ClaimOf(api);
    if (claim.empty()) {
      pvc_claims_.erase(key);
    } else {
      pvc_claims_[key] = claim;
    }
    if (!pending->nominated_node_name.empty()) {
      nominator_.Add(pending, pending->nominated_node_name);
    }
    if (old_pending != nullptr) {
      queue_->Update(old_pending, pending);
    } else {
      queue_->Add(pending);
    }
    return;
  }
  // Bound now, or finished (then gone from the loader).
  pvc_claims_.erase(key);
  if (old_pending != nullptr) {
    queue_->Delete(*old_pending);
    nominator_.Delete(*old_pending);
  }
  const model::PodPtr bound = cache_.GetPod(key);
  if (bound == nullptr) {
    if (old_cached != nullptr && !old_assumed) {
      queue_->MoveAllToActiveOrBackoffQueue(framework::kAssignedPodDelete);
    }
    return;
  }
  // The bound pod's namespace labels, for pending pods' namespaceSelector
  // terms (upstream's queue reads them from the namespace lister); the
  // loader keeps them in the cache.
  const model::Labels* labels = cache_.NamespaceLabelsOf(bound->ns_id);
  if (old_cached == nullptr || old_assumed) {
    queue_->AssignedPodAdded(*bound, labels);
    return;
  }
  ClusterEvent event = framework::kAssignedPodOtherUpdate;
  if (c.old_object != nullptr) {
    const auto& old_api = static_cast<const v1::Pod&>(*c.old_object);
    if (!SameMap(old_api.metadata().labels(), api.metadata().labels())) {
      event = framework::kPodLabelChange;
    } else if (bound->non_zero_milli_cpu < old_cached->non_zero_milli_cpu ||
               bound->non_zero_memory < old_cached->non_zero_memory) {
      event = framework::kPodRequestScaledDown;
    }
  }
  queue_->AssignedPodUpdated(*bound, event, labels);
}

void SchedulerHost::ApplyNode(const Change& c) {
  const auto& api = static_cast<const v1::Node&>(*c.object);
  absl::Status s;
  switch (c.op) {
    case Change::Op::kAdd:
      s = loader_.Add(api);
      if (s.ok()) queue_->MoveAllToActiveOrBackoffQueue(framework::kNodeAdd);
      break;
    case Change::Op::kUpdate:
      s = loader_.Update(*c.old_object, api);
      if (s.ok()) {
        for (const ClusterEvent& e :
             NodeUpdateEvents(static_cast<const v1::Node&>(*c.old_object), api)) {
          queue_->MoveAllToActiveOrBackoffQueue(e);
        }
      }
      break;
    case Change::Op::kDelete:
      s = loader_.Delete(api);
      break;
  }
  if (!s.ok()) KLOG.ErrorS(s, "Skipping node", {{"node", api.metadata().name()}});
}

void SchedulerHost::ApplyOther(const Change& c) {
  absl::Status s;
  switch (c.op) {
    case Change::Op::kAdd:
      s = loader_.Add(*c.object);
      break;
    case Change::Op::kUpdate:
      s = loader_.Update(*c.old_object, *c.object);
      break;
    case Change::Op::kDelete:
      s = loader_.Delete(*c.object);
      break;
  }
  if (!s.ok()) KLOG.ErrorS(s, "Skipping object", {{"key", *kube::KeyOf(*c.object)}});
}

bool SchedulerHost::ScheduleNext() {
  std::optional<framework::QueuedPodInfo> info = queue_->TryPop();
  if (!info.has_value()) return false;
  const int64_t cycle = queue_->SchedulingCycle();
  const std::string key = info->pod->Key();
  // Upstream's skipPodSchedule: gone, bound, assumed or being deleted.
  const model::PodPtr current = loader_.GetPendingPod(key);
  if (current == nullptr || current->terminating || cache_.GetPod(key) != nullptr) return true;
  const std::string profile = current->scheduler_name;
  // The key/value list is built only when -v asks for the line: this runs
  // once per pod.
  if (const auto site = KLOG_V(3); site.enabled()) {
    site.InfoS("Attempting to schedule pod", {{"pod", key}});
  }

  const absl::Time start = absl::Now();
  if (auto claim = pvc_claims_.find(key); claim != pvc_claims_.end()) {
    // No VolumeBinding yet: binding would leave the volume unprovisioned.
    const std::string message = absl::StrCat(
        "pod references PersistentVolumeClaim \"", claim->second,
        "\"; kestrel does not schedule pods with PersistentVolumeClaims yet (it has no "
        "VolumeBinding plugin)");
    metrics_.ObserveAttempt(AttemptResult::kUnschedulable, profile,
                            absl::ToDoubleSeconds(absl::Now() - start));
    info->unschedulable_plugins.clear();
    info->unschedulable_plugins.insert("VolumeBinding");
    HandleFailure(*std::move(info), cycle, "Unschedulable", message, nullptr);
    return true;
  }

  bind_request_.reset();
  const int64_t cpu_start = ThreadCpuNanos();
  scheduler::ScheduleResult r = scheduler_->ScheduleOne(info->pod);
  cycle_ns_ += absl::ToInt64Nanoseconds(absl::Now() - start);
  cycle_cpu_ns_ += ThreadCpuNanos() - cpu_start;
  if (!r.node.empty()) {
    if (bind_request_.has_value()) {
      SubmitBinding(*std::move(info), cycle, r.node, r.evaluated_nodes, r.feasible_nodes, start);
    } else {
      // A profile without DefaultBinder: nothing binds the pod. The pod
      // stays assumed, as an upstream bind plugin that skips would leave it.
      KLOG.ErrorS(absl::FailedPreconditionError("no bind plugin bound the pod"),
                  "Error scheduling pod", {{"pod", key}});
    }
    return true;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const bool error = r.code == framework::Code::kError;
  metrics_.ObserveAttempt(error ? AttemptResult::kError : AttemptResult::kUnschedulable, profile,
                          seconds);
  if (!r.nominated_node.empty() || !r.victims.empty()) {
    metrics_.ObservePreemption(static_cast<int>(r.victims.size()));
  }
  info->unschedulable_plugins.clear();
  for (const std::string& p : r.unschedulable_plugins) info->unschedulable_plugins.insert(p);
  if (error) {
    KLOG.ErrorS(absl::UnknownError(r.message), "Error scheduling pod; retrying", {{"pod", key}});
  } else {
    KLOG_V(2).InfoS("Unable to schedule pod; no fit; waiting",
                    {{"pod", key}, {"err", r.message}});
  }
  // Lower-priority pods nominated to the node preemption chose lose it.
  if (!r.nominated_node.empty()) {
    for (const model::PodPtr& p : loader_.PendingPods()) {
      if (p->Key() != key && p->nominated_node_name == r.nominated_node &&
          p->priority < current->priority) {
        const PodRef ref = RefOf(*p);
        writer_->Submit([this, ref] { writer_->ClearNominatedNodeName(ref).IgnoreError(); });
      }
    }
  }
  HandleFailure(*std::move(info), cycle, error ? "SchedulerError" : "Unschedulable", r.message,
                r.nominated_node.empty() ? nullptr : &r.nominated_node);
  return true;
}

void SchedulerHost::HandleFailure(framework::QueuedPodInfo info, int64_t cycle,
                                  const std::string& reason, const std::string& message,
                                  const std::string* nominated) {
  const model::PodPtr pod = info.pod;
  const std::string key = pod->Key();
  // Upstream's handleSchedulingFailure: requeue only a pod the informer
  // still has unbound.
  if (loader_.GetPendingPod(key) != nullptr) {
    if (absl::Status s = queue_->AddUnschedulableIfNotPresent(std::move(info), cycle); !s.ok()) {
      KLOG.ErrorS(s, "Error occurred", {{"pod", key}});
    }
  }
  // The condition is patched only when it changes; the event is recorded
  // every time, as upstream's.
  bool patch = true;
  if (kube::Object o = pods_informer_->store().Get(key); o != nullptr) {
    const auto& api = static_cast<const v1::Pod&>(*o);
    const v1::PodCondition* c = ScheduledCondition(api);
    const bool same_nomination =
        nominated == nullptr || *nominated == api.status().nominatednodename();
    patch = !(c != nullptr && c->status() == "False" && c->reason() == reason &&
              c->message() == message && same_nomination);
  }
  const PodRef ref = RefOf(*pod);
  const std::string controller = pod->scheduler_name;
  std::optional<std::string> node;
  if (nominated != nullptr) node = *nominated;
  writer_->Submit([this, ref, controller, reason, message, node, patch] {
    if (patch) {
      absl::Status s = writer_->PatchScheduledCondition(ref, reason, message,
                                                        node.has_value() ? &*node : nullptr);
      if (!s.ok()) KLOG.ErrorS(s, "Error updating pod", {{"pod", KeyOf(ref.ns, ref.name)}});
    }
    writer_->Event(controller, ref, nullptr, "Warning", "FailedScheduling", "Scheduling", message)
        .IgnoreError();
  });
}

void SchedulerHost::SubmitBinding(framework::QueuedPodInfo info, int64_t cycle,
                                  const std::string& node, int evaluated, int feasible,
                                  absl::Time start) {
  const model::PodPtr pod = info.pod;
  const PodRef ref = RefOf(*pod);
  const std::string profile = pod->scheduler_name;
  auto shared = std::make_shared<framework::QueuedPodInfo>(std::move(info));
  writer_->Submit([this, ref, node, profile, evaluated, feasible, start, shared, cycle] {
    absl::Status s = writer_->Bind(ref, node);
    const std::string key = KeyOf(ref.ns, ref.name);
    if (!s.ok()) {
      Change c;
      c.kind = Change::Kind::kBindFailed;
      c.info = *shared;
      c.cycle = cycle;
      c.error = absl::StrCat("running Bind plugin \"DefaultBinder\": ", s.message());
      Enqueue(std::move(c));
      return;
    }
    const absl::Time now = absl::Now();
    metrics_.ObserveAttempt(AttemptResult::kScheduled, profile, absl::ToDoubleSeconds(now - start));
    metrics_.ObservePodScheduled(shared->attempts,
                                 absl::ToDoubleSeconds(now - shared->initial_attempt_timestamp));
    KLOG_V(2).InfoS("Successfully bound pod to node", {{"pod", key},
                                                      {"node", node},
                                                      {"evaluatedNodes", evaluated},
                                                      {"feasibleNodes", feasible}});
    writer_
        ->Event(profile, ref, nullptr, "Normal", "Scheduled", "Binding",
                absl::StrCat("Successfully assigned ", ref.ns, "/", ref.name, " to ", node))
        .IgnoreError();
  });
}

void SchedulerHost::BindFailed(Change c) {
  framework::QueuedPodInfo info = *std::move(c.info);
  const std::string key = info.pod->Key();
  // Upstream's handleBindingCycleError: forget the assumed pod, then fail
  // as a scheduling error (requeued with backoff).
  if (model::PodPtr assumed = cache_.GetPod(key);
      assumed != nullptr && cache_.IsAssumed(*assumed)) {
    cache_.ForgetPod(*assumed).IgnoreError();
  }
  metrics_.ObserveAttempt(AttemptResult::kError, info.pod->scheduler_name, 0);
  KLOG.ErrorS(absl::UnknownError(c.error), "Error scheduling pod; retrying", {{"pod", key}});
  info.unschedulable_plugins.clear();
  HandleFailure(std::move(info), c.cycle, "SchedulerError", c.error, nullptr);
}

void SchedulerHost::UpdateQueueMetrics() {
  if (queue_ == nullptr) return;
  const queue::QueueStats stats = queue_->Stats();
  metrics_.SetPendingPods(PendingQueue::kActive, stats.active);
  metrics_.SetPendingPods(PendingQueue::kBackoff, stats.backoff);
  metrics_.SetPendingPods(PendingQueue::kUnschedulable, stats.unschedulable);
  metrics_.SetPendingPods(PendingQueue::kGated, stats.gated);
  // The queue counts from its start; the counter gets what is new.
  std::lock_guard<std::mutex> lock(metrics_mu_);
  for (const auto& [labels, count] : stats.incoming) {
    int64_t& exported = exported_incoming_[labels];
    if (count > exported) {
      metrics_.AddQueueIncomingPods(labels.first, labels.second, static_cast<int>(count - exported));
      exported = count;
    }
  }
}

std::string SchedulerHost::Configz() const {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(options_.config, &json, print);
  return absl::StrCat("{\"componentconfig\":", json.empty() ? "{}" : json, "}");
}

}  // namespace kestrel::host
