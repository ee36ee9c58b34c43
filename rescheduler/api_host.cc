#include "rescheduler/api_host.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "api/core.pb.h"
#include "kube/codec.h"
#include "kube/http_list_watch.h"
#include "kube/list_watch.h"
#include "nlohmann/json.hpp"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "util/hash/fnv.h"

namespace kestrel::rescheduler {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
using nlohmann::json;

// Conflicting writes are tried again this often on the latest object.
constexpr int kConflictRetries = 5;

absl::StatusOr<json> ParseJson(const std::string& what, const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": the answer is not a JSON object"));
  }
  return j;
}

// The value at `path` in `j`; null when any step is missing or no object.
const json& At(const json& j, std::initializer_list<const char*> path) {
  static const json* const kNull = new json();
  const json* p = &j;
  for (const char* key : path) {
    if (!p->is_object()) return *kNull;
    auto it = p->find(key);
    if (it == p->end()) return *kNull;
    p = &*it;
  }
  return *p;
}

std::string StringAt(const json& j, std::initializer_list<const char*> path) {
  const json& v = At(j, path);
  return v.is_string() ? v.get<std::string>() : "";
}

// Pending, PodScheduled=False with reason Unschedulable, not nominated.
bool MarkedUnschedulable(const v1::Pod& pod) {
  if (!pod.spec().nodename().empty()) return false;
  if (!pod.status().nominatednodename().empty()) return false;
  if (load::Finished(pod)) return false;
  for (const v1::PodCondition& c : pod.status().conditions()) {
    if (c.type() == "PodScheduled" && c.status() == "False" && c.reason() == "Unschedulable") {
      return true;
    }
  }
  return false;
}

// metadata.resourceVersion as an integer; 0 when it is not one.
int64_t ResourceVersionNumber(const google::protobuf::Message& object) {
  int64_t out = 0;
  return absl::SimpleAtoi(kube::ResourceVersionOf(object), &out) ? out : 0;
}

std::string PodPath(const std::string& ns, const std::string& name) {
  return absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name);
}

// "<name>.<16 hex digits>", a DNS subdomain of at most 253 characters as
// event names must be (`name`, a pod's, is one already).
std::string OnceEventName(const std::string& name, const std::string& once_key,
                          const std::string& reason) {
  // FNV-1a, not absl::Hash: a restarted rescheduler names an event as the
  // one before it did.
  const std::string suffix =
      absl::StrCat(".", absl::Hex(util::Fnv1a64(absl::StrCat(once_key, "\n", reason)),
                                  absl::kZeroPad16));
  std::string prefix = name.substr(0, 253 - suffix.size());
  while (!prefix.empty() && (prefix.back() == '.' || prefix.back() == '-')) prefix.pop_back();
  return prefix + suffix;
}

// What the view misses without an optional kind.
std::string WithoutOptional(const std::string& kind) {
  if (kind == "PodDisruptionBudget") {
    return "the planner does not see budgets; evictions a budget refuses are tried again on "
           "later passes";
  }
  return "namespaceSelector terms see no namespace labels";
}

}  // namespace

ApiCluster::ApiCluster(std::shared_ptr<kube::Client> client,
                       config::KubeSchedulerConfiguration config, ApiClusterOptions options)
    : client_(std::move(client)),
      config_(std::move(config)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : kube::RealClock()),
      link_(std::make_shared<Link>()) {
  std::lock_guard<std::mutex> lock(link_->mu);
  link_->cluster = this;
}

ApiCluster::~ApiCluster() {
  {
    // Waits for a handler that is running; later ones find no view.
    std::lock_guard<std::mutex> lock(link_->mu);
    link_->cluster = nullptr;
  }
  for (auto& informer : informers_) informer->Stop();
}

absl::Status ApiCluster::NoBinder::Bind(const model::Pod& pod, const std::string&) {
  return absl::FailedPreconditionError(
      absl::StrCat("pod ", pod.Key(), ": the rescheduler's view does not bind"));
}

absl::Status ApiCluster::NoDeleter::DeletePod(const model::Pod& victim, const model::Pod&) {
  return absl::FailedPreconditionError(
      absl::StrCat("pod ", victim.Key(), ": the rescheduler's view does not delete"));
}

void ApiCluster::Report(const absl::Status& status) const {
  if (options_.on_error) {
    options_.on_error(status);
  } else {
    // One write: informer threads report at the same time.
    std::cerr << absl::StrCat("rescheduler: ", status.message(), "\n") << std::flush;
  }
}

void ApiCluster::Enqueue(const std::string& kind, Change change) {
  const int64_t version = ResourceVersionNumber(*change.object);
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t& queued = queued_version_[kind];
    queued = std::max(queued, version);
    changes_.push_back(std::move(change));
  }
  changed_cv_.notify_all();
}

void ApiCluster::ReportInformerError(const Feed& feed, const absl::Status& status) {
  if (feed.optional && absl::IsPermissionDenied(status)) {
    // Not allowed to list an optional kind: the view goes on without it,
    // and the informer keeps trying (a role may be granted later).
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      first = denied_.insert(feed.kind).second;
    }
    changed_cv_.notify_all();
    if (first) {
      Report(absl::PermissionDeniedError(
          absl::StrCat("warning: ", status.message(), "; going on without ", feed.kind,
                       "s: ", WithoutOptional(feed.kind))));
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (informer_error_.ok()) informer_error_ = status;
  }
  changed_cv_.notify_all();
  Report(status);
}

absl::Status ApiCluster::Subscribe(kube::Informer* informer, const std::string& kind) {
  // Runs on the informer's thread: queue only, and only while the view
  // lives.
  auto enqueue = [link = link_, kind](Change change) {
    std::lock_guard<std::mutex> lock(link->mu);
    if (link->cluster != nullptr) link->cluster->Enqueue(kind, std::move(change));
  };
  kube::EventHandlers handlers;
  handlers.on_add = [enqueue](const kube::Object& o) {
    enqueue({Change::Op::kAdd, nullptr, o});
  };
  handlers.on_update = [enqueue](const kube::Object& old_object, const kube::Object& o) {
    enqueue({Change::Op::kUpdate, old_object, o});
  };
  handlers.on_delete = [enqueue](const kube::DeletedObject& d) {
    enqueue({Change::Op::kDelete, nullptr, kube::LastState(d)});
  };
  return informer->AddEventHandler(std::move(handlers));
}

absl::Status ApiCluster::AttachInformers(const ApiInformers& informers) {
  if (!feeds_.empty() || !attach_error_.ok()) {
    return absl::FailedPreconditionError(
        "the rescheduler's view has its informers already (attach before the first Refresh, "
        "once)");
  }
  if (informers.nodes == nullptr || informers.pods == nullptr) {
    return absl::InvalidArgumentError(
        "the rescheduler's view needs informers of nodes and pods");
  }
  std::vector<Feed> feeds;
  for (const Feed& feed : {Feed{"Namespace", informers.namespaces, true},
                           Feed{"Node", informers.nodes, false},
                           Feed{"Pod", informers.pods, false},
                           Feed{"PodDisruptionBudget", informers.pdbs, true}}) {
    if (feed.informer == nullptr) continue;
    if (absl::Status s = Subscribe(feed.informer, feed.kind); !s.ok()) {
      // Some informers may feed the view already: it cannot be used.
      attach_error_ = absl::Status(
          s.code(), absl::StrCat("attaching the ", feed.kind,
                                 " informer to the rescheduler's view: ", s.message()));
      return attach_error_;
    }
    feeds.push_back(feed);
  }
  feeds_ = std::move(feeds);
  return absl::OkStatus();
}

absl::Status ApiCluster::BuildScheduler() {
  // The scheduler over the view: the in-tree plugins with the configured
  // profile, as kube-scheduler's own.
  framework::Handle handle;
  handle.binder = &binder_;
  handle.interner = &names_;
  handle.deleter = &deleter_;
  handle.pdbs = loader_.pdb_lister();
  handle.nominator = &nominator_;
  auto profiles = scheduler::BuildProfiles(config_, scheduler::InTreeRegistry(), handle);
  if (!profiles.ok()) return profiles.status();
  scheduler::Scheduler::Options opts;
  opts.threads = 1;  // one pod at a time, between passes
  opts.percentage_of_nodes_to_score = config_.percentageofnodestoscore();
  scheduler_ = std::make_unique<scheduler::Scheduler>(&cache_, *std::move(profiles), opts);
  scheduler_planner_ =
      std::make_unique<SchedulerPlanner>(scheduler_.get(), loader_.pdb_lister(), &names_);
  return absl::OkStatus();
}

absl::Status ApiCluster::StartInformers() {
  const std::pair<kube::Resource, bool> resources[] = {
      {kube::NamespacesResource(), true},
      {kube::NodesResource(), false},
      {kube::PodsResource(), false},
      {kube::PodDisruptionBudgetsResource(), true}};
  std::vector<Feed> feeds;
  for (const auto& [resource, optional] : resources) {
    Feed feed{resource.kind, nullptr, optional};
    kube::ReflectorOptions reflector;
    // `this` is safe here: the informer is the view's own and stops before
    // the view goes.
    reflector.on_error = [this, feed](const absl::Status& s) { ReportInformerError(feed, s); };
    auto informer = std::make_unique<kube::Informer>(
        std::make_unique<kube::HttpListerWatcher>(client_, resource), std::move(reflector));
    feed.informer = informer.get();
    if (absl::Status s = Subscribe(informer.get(), resource.kind); !s.ok()) return s;
    feeds.push_back(feed);
    informers_.push_back(std::move(informer));
  }
  feeds_ = std::move(feeds);
  for (auto& informer : informers_) informer->Start();
  return absl::OkStatus();
}

absl::Status ApiCluster::WaitForSync() {
  const absl::Time deadline = absl::Now() + options_.sync_timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!informer_error_.ok()) {
      absl::Status s = std::move(informer_error_);
      informer_error_ = absl::OkStatus();
      return s;
    }
    bool all = true;
    for (const Feed& feed : feeds_) {
      all = all && (feed.informer->HasSynced() || denied_.contains(feed.kind));
    }
    if (all) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the informers have not listed the cluster within ",
                       absl::FormatDuration(options_.sync_timeout)));
    }
    // Sync itself is not signalled: wake on a change or an error, or look
    // again shortly.
    changed_cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

absl::Status ApiCluster::Refresh() {
  if (!attach_error_.ok()) return attach_error_;
  if (scheduler_ == nullptr) {
    if (absl::Status s = BuildScheduler(); !s.ok()) return s;
  }
  if (feeds_.empty()) {
    if (absl::Status s = StartInformers(); !s.ok()) return s;
  }
  if (!synced_) {
    if (absl::Status s = WaitForSync(); !s.ok()) return s;
    synced_ = true;
  }
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes.swap(changes_);
    informer_error_ = absl::OkStatus();  // reported already; the informer goes on
  }
  for (const Change& change : changes) Apply(change);
  return absl::OkStatus();
}

void ApiCluster::Apply(const Change& change) {
  const google::protobuf::Message& object = *change.object;
  absl::Status s;
  switch (change.op) {
    case Change::Op::kAdd:
      s = loader_.Add(object);
      break;
    case Change::Op::kUpdate:
      s = loader_.Update(*change.old_object, object);
      break;
    case Change::Op::kDelete:
      s = loader_.Delete(object);
      break;
  }
  if (!s.ok()) Report(s);  // the object is skipped; the view goes on
  if (const auto* pod = dynamic_cast<const v1::Pod*>(&object)) {
    const std::string key = absl::StrCat(
        pod->metadata().namespace_().empty() ? "default" : pod->metadata().namespace_(), "/",
        pod->metadata().name());
    if (change.op != Change::Op::kDelete && s.ok() && MarkedUnschedulable(*pod)) {
      unschedulable_.insert(key);
    } else {
      unschedulable_.erase(key);
    }
  }
}

bool ApiCluster::WaitForResourceVersion(const std::string& kind, int64_t resource_version,
                                        absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [&] {
    auto it = queued_version_.find(kind);
    return it != queued_version_.end() && it->second >= resource_version;
  });
}

absl::StatusOr<Finding> ApiCluster::ViewPlanner::Find(
    const model::Pod& pod, const std::string& taint_value,
    const std::function<bool(const model::Pod&)>& eligible,
    const absl::flat_hash_set<std::string>& skip_nodes) {
  if (cluster_->scheduler_planner_ == nullptr) {
    return absl::FailedPreconditionError("no view of the cluster yet");
  }
  // A terminating pod still counts on its node but is on its way out: it
  // is never a victim (again).
  auto not_terminating = [&eligible](const model::Pod& p) {
    return !p.terminating && eligible(p);
  };
  return cluster_->scheduler_planner_->Find(pod, taint_value, not_terminating, skip_nodes);
}

std::vector<model::PodPtr> ApiCluster::UnschedulablePods() {
  std::vector<model::PodPtr> out;
  for (const model::PodPtr& p : loader_.PendingPods()) {
    if (unschedulable_.contains(p->Key())) out.push_back(p);
  }
  return out;
}

PodPhase ApiCluster::PhaseOf(const std::string& pod_key) {
  // From the view: finished pods are gone from the informer's pods.
  if (loader_.GetPendingPod(pod_key) != nullptr) return PodPhase::kPending;
  model::PodPtr cached = cache_.GetPod(pod_key);
  if (cached != nullptr && !cached->node_name.empty()) return PodPhase::kBound;
  return PodPhase::kGone;
}

model::PodPtr ApiCluster::PendingPod(const std::string& pod_key) {
  return loader_.GetPendingPod(pod_key);
}

std::vector<model::NodePtr> ApiCluster::ListNodes() { return loader_.Nodes(); }

absl::Status ApiCluster::ChangeTaint(const std::string& node, const std::string& value,
                                     bool add) {
  const std::string path = absl::StrCat("/api/v1/nodes/", node);
  absl::Status last;
  for (int attempt = 0; attempt < kConflictRetries; ++attempt) {
    absl::StatusOr<kube::Response> r = client_->Get(path);
    if (!r.ok()) return r.status();
    absl::StatusOr<json> current = ParseJson(absl::StrCat("GET ", path), r->body);
    if (!current.ok()) return current.status();
    const json& listed = At(*current, {"spec", "taints"});
    const json taints = listed.is_array() ? listed : json::array();
    auto ours = [&](const json& t) {
      return StringAt(t, {"key"}) == kTaintKey && StringAt(t, {"value"}) == value &&
             StringAt(t, {"effect"}) == "NoSchedule";
    };
    json changed = json::array();
    bool present = false;
    for (const json& t : taints) {
      if (ours(t)) {
        present = true;
        if (add) changed.push_back(t);
      } else {
        changed.push_back(t);
      }
    }
    if (present == add) return absl::OkStatus();  // nothing to do
    // timeAdded tells a restarted rescheduler how long the taint has
    // served its pod (Rescheduler::Start).
    if (add) {
      changed.push_back({{"key", kTaintKey},
                         {"value", value},
                         {"effect", "NoSchedule"},
                         {"timeAdded", kube::TimeString(Now())}});
    }
    // The resourceVersion makes the server refuse the patch (409) when the
    // node changed since it was read; the whole list replaces the old one.
    json patch = {{"metadata", {{"resourceVersion", StringAt(*current, {"metadata",
                                                                        "resourceVersion"})}}},
                  {"spec", {{"taints", changed}}}};
    absl::StatusOr<kube::Response> p =
        client_->Patch(path, "application/merge-patch+json", patch.dump());
    if (p.ok()) return absl::OkStatus();
    last = p.status();
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

absl::Status ApiCluster::AddTaint(const std::string& node, const std::string& value) {
  return ChangeTaint(node, value, /*add=*/true);
}

absl::Status ApiCluster::RemoveTaint(const std::string& node, const std::string& value) {
  return ChangeTaint(node, value, /*add=*/false);
}

absl::Status ApiCluster::Evict(const model::Pod& pod) {
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", pod.name}, {"namespace", pod.ns}}}};
  absl::StatusOr<kube::Response> r =
      client_->Post(absl::StrCat(PodPath(pod.ns, pod.name), "/eviction"), eviction.dump());
  return r.ok() ? absl::OkStatus() : r.status();
}

void ApiCluster::Record(const Event& event) {
  // "Pod ns/name" or "Node name".
  const std::vector<std::string> kind_and_name =
      absl::StrSplit(event.object, absl::MaxSplits(' ', 1));
  if (kind_and_name.size() != 2) return;
  const std::string& kind = kind_and_name[0];
  std::string ns = "default", name = kind_and_name[1];
  json involved = {{"apiVersion", "v1"}, {"kind", kind}};
  if (kind == "Pod") {
    const std::vector<std::string> parts = absl::StrSplit(name, absl::MaxSplits('/', 1));
    if (parts.size() == 2) {
      ns = parts[0];
      name = parts[1];
    }
    involved["namespace"] = ns;
  }
  involved["name"] = name;
  const std::string now = kube::TimeString(Now());
  json metadata = {{"namespace", ns}};
  if (event.once_key.empty()) {
    metadata["generateName"] = absl::StrCat(name, ".");
  } else {
    metadata["name"] = OnceEventName(name, event.once_key, event.reason);
  }
  json e = {{"apiVersion", "v1"},
            {"kind", "Event"},
            {"metadata", metadata},
            {"involvedObject", involved},
            {"type", event.type},
            {"reason", event.reason},
            {"message", event.message},
            {"source", {{"component", "rescheduler"}}},
            {"firstTimestamp", now},
            {"lastTimestamp", now},
            {"count", 1}};
  kube::Request request{"POST", absl::StrCat("/api/v1/namespaces/", ns, "/events"), e.dump(),
                       "application/json", "application/json", std::nullopt};
  // Named: a second POST is refused (409) rather than recorded twice, so
  // the client may send it again after a 5xx or a broken connection.
  if (!event.once_key.empty()) request.idempotent = true;
  absl::StatusOr<kube::Response> r = client_->Do(request);
  if (!event.once_key.empty() && absl::IsAborted(r.status())) return;  // recorded already
  if (!r.ok()) {
    std::cerr << "rescheduler: event " << event.reason << " on " << event.object << ": "
              << r.status().message() << "\n";
  }
}

namespace {

// RunPasses and RunPassesUntilStopped: `wait` answers false to stop.
absl::Status PassLoop(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                      int passes, const std::function<bool(absl::Duration)>& wait) {
  if (absl::Status s = cluster.Refresh(); !s.ok()) return s;
  if (absl::Status s = rescheduler.Start(); !s.ok()) return s;
  if (!wait(options.initial_delay)) return absl::OkStatus();
  for (int i = 0; passes == 0 || i < passes; ++i) {
    if (i > 0 && !wait(options.housekeeping_interval)) return absl::OkStatus();
    if (absl::Status s = cluster.Refresh(); !s.ok()) {
      std::cerr << "rescheduler: " << s.message() << "; the pass is skipped\n";
      continue;
    }
    rescheduler.RunOnce();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunPasses(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                       int passes, const std::function<void(absl::Duration)>& sleep) {
  return PassLoop(cluster, rescheduler, options, passes, [&sleep](absl::Duration d) {
    sleep(d);
    return true;
  });
}

absl::Status RunPassesUntilStopped(ApiCluster& cluster, Rescheduler& rescheduler,
                                   const Options& options,
                                   const std::function<bool(absl::Duration)>& wait) {
  return PassLoop(cluster, rescheduler, options, /*passes=*/0, wait);
}

}  // namespace kestrel::rescheduler
