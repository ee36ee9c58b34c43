#include "rescheduler/api_host.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <utility>

#include "absl/strings/numbers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "api/core.pb.h"
#include "kube/http_list_watch.h"
#include "kube/list_watch.h"
#include "nlohmann/json.hpp"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

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

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

ApiCluster::ApiCluster(std::shared_ptr<kube::Client> client,
                       config::KubeSchedulerConfiguration config, ApiClusterOptions options)
    : client_(std::move(client)),
      config_(std::move(config)),
      options_(std::move(options)) {}

ApiCluster::~ApiCluster() {
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

void ApiCluster::ReportInformerError(const absl::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (informer_error_.ok()) informer_error_ = status;
  }
  changed_cv_.notify_all();
  Report(status);
}

absl::Status ApiCluster::StartInformers() {
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

  const kube::Resource resources[] = {kube::NamespacesResource(), kube::NodesResource(),
                                      kube::PodsResource(),
                                      kube::PodDisruptionBudgetsResource()};
  for (const kube::Resource& resource : resources) {
    kube::ReflectorOptions reflector;
    reflector.on_error = [this](const absl::Status& s) { ReportInformerError(s); };
    auto informer = std::make_unique<kube::Informer>(
        std::make_unique<kube::HttpListerWatcher>(client_, resource), std::move(reflector));
    const std::string kind = resource.kind;
    // Runs on the informer's thread: queue only.
    kube::EventHandlers handlers;
    handlers.on_add = [this, kind](const kube::Object& o) {
      Enqueue(kind, {Change::Op::kAdd, nullptr, o});
    };
    handlers.on_update = [this, kind](const kube::Object& old_object, const kube::Object& o) {
      Enqueue(kind, {Change::Op::kUpdate, old_object, o});
    };
    handlers.on_delete = [this, kind](const kube::DeletedObject& d) {
      Enqueue(kind, {Change::Op::kDelete, nullptr, kube::LastState(d)});
    };
    if (absl::Status s = informer->AddEventHandler(std::move(handlers)); !s.ok()) return s;
    informers_.push_back(std::move(informer));
  }
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
    for (const auto& informer : informers_) all = all && informer->HasSynced();
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
  if (informers_.empty()) {
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
    if (add) changed.push_back({{"key", kTaintKey}, {"value", value}, {"effect", "NoSchedule"}});
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
  const std::string now = Rfc3339(absl::Now());
  json e = {{"apiVersion", "v1"},
            {"kind", "Event"},
            {"metadata", {{"generateName", absl::StrCat(name, ".")}, {"namespace", ns}}},
            {"involvedObject", involved},
            {"type", event.type},
            {"reason", event.reason},
            {"message", event.message},
            {"source", {{"component", "rescheduler"}}},
            {"firstTimestamp", now},
            {"lastTimestamp", now},
            {"count", 1}};
  absl::StatusOr<kube::Response> r =
      client_->Post(absl::StrCat("/api/v1/namespaces/", ns, "/events"), e.dump());
  if (!r.ok()) {
    std::cerr << "rescheduler: event " << event.reason << " on " << event.object << ": "
              << r.status().message() << "\n";
  }
}

absl::Status RunPasses(ApiCluster& cluster, Rescheduler& rescheduler, const Options& options,
                       int passes, const std::function<void(absl::Duration)>& sleep) {
  if (absl::Status s = cluster.Refresh(); !s.ok()) return s;
  if (absl::Status s = rescheduler.Start(); !s.ok()) return s;
  sleep(options.initial_delay);
  for (int i = 0; passes == 0 || i < passes; ++i) {
    if (i > 0) sleep(options.housekeeping_interval);
    if (absl::Status s = cluster.Refresh(); !s.ok()) {
      std::cerr << "rescheduler: " << s.message() << "; the pass is skipped\n";
      continue;
    }
    rescheduler.RunOnce();
  }
  return absl::OkStatus();
}

}  // namespace kestrel::rescheduler
