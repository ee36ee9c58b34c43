#include "rescheduler/api_host.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace kestrel::rescheduler {
namespace {

using nlohmann::json;

// Each list the view is built from: path, and the kind and apiVersion its
// items have (the API server leaves them out of list items).
struct ListSource {
  const char* path;
  const char* kind;
  const char* api_version;
  bool optional;  // a 404 means an empty list (an API group not served)
};

constexpr ListSource kLists[] = {
    {"/api/v1/namespaces", "Namespace", "v1", true},
    {"/api/v1/nodes", "Node", "v1", false},
    {"/api/v1/pods", "Pod", "v1", false},
    {"/apis/policy/v1/poddisruptionbudgets", "PodDisruptionBudget", "policy/v1", true},
    {"/apis/scheduling.k8s.io/v1/priorityclasses", "PriorityClass", "scheduling.k8s.io/v1",
     true},
};

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
bool MarkedUnschedulable(const json& pod) {
  if (!StringAt(pod, {"spec", "nodeName"}).empty()) return false;
  if (!StringAt(pod, {"status", "nominatedNodeName"}).empty()) return false;
  const std::string phase = StringAt(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed") return false;
  const json& conditions = At(pod, {"status", "conditions"});
  if (!conditions.is_array()) return false;
  for (const json& c : conditions) {
    if (StringAt(c, {"type"}) == "PodScheduled" && StringAt(c, {"status"}) == "False" &&
        StringAt(c, {"reason"}) == "Unschedulable") {
      return true;
    }
  }
  return false;
}

std::string PodPath(const std::string& ns, const std::string& name) {
  return absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name);
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

ApiCluster::ApiCluster(kube::Client* client, config::KubeSchedulerConfiguration config)
    : client_(client), config_(std::move(config)) {}

absl::Status ApiCluster::Refresh() {
  std::vector<std::pair<std::string, std::string>> files;
  absl::flat_hash_set<std::string> unschedulable;
  for (const ListSource& src : kLists) {
    absl::StatusOr<kube::Response> r = client_->Get(src.path);
    if (!r.ok() && src.optional && absl::IsNotFound(r.status())) continue;
    if (!r.ok()) return r.status();  // the message names the request
    absl::StatusOr<json> list = ParseJson(absl::StrCat("GET ", src.path), r->body);
    if (!list.ok()) return list.status();
    json& items = (*list)["items"];
    if (items.is_null()) items = json::array();
    if (!items.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("GET ", src.path, ": items is not a list"));
    }
    for (json& item : items) {
      if (!item.is_object()) continue;  // the decoder names it
      item["kind"] = src.kind;
      item["apiVersion"] = src.api_version;
      if (src.kind == std::string("Pod") && MarkedUnschedulable(item)) {
        unschedulable.insert(absl::StrCat(StringAt(item, {"metadata", "namespace"}), "/",
                                          StringAt(item, {"metadata", "name"})));
      }
    }
    (*list)["kind"] = "List";
    (*list)["apiVersion"] = "v1";
    files.emplace_back(absl::StrCat("GET ", src.path), list->dump());
  }
  absl::StatusOr<sim::Cluster> loaded = sim::LoadContents(files);
  if (!loaded.ok()) return loaded.status();
  auto cluster = std::make_unique<sim::Cluster>(*std::move(loaded));
  sim::SimOptions options;
  options.rescheduler = false;
  absl::StatusOr<std::unique_ptr<sim::Host>> host = sim::Host::Create(*cluster, config_, options);
  if (!host.ok()) return host.status();
  // The old planner and host refer to the old cluster: they go first.
  scheduler_planner_.reset();
  host_ = *std::move(host);
  cluster_ = std::move(cluster);
  scheduler_planner_ = std::make_unique<SchedulerPlanner>(&host_->scheduler(),
                                                          host_->pdb_lister(), host_->names());
  unschedulable_ = std::move(unschedulable);
  return absl::OkStatus();
}

absl::StatusOr<Finding> ApiCluster::ViewPlanner::Find(
    const model::Pod& pod, const std::string& taint_value,
    const std::function<bool(const model::Pod&)>& eligible,
    const absl::flat_hash_set<std::string>& skip_nodes) {
  if (cluster_->scheduler_planner_ == nullptr) {
    return absl::FailedPreconditionError("no view of the cluster yet");
  }
  return cluster_->scheduler_planner_->Find(pod, taint_value, eligible, skip_nodes);
}

std::vector<model::PodPtr> ApiCluster::UnschedulablePods() {
  std::vector<model::PodPtr> out;
  if (cluster_ == nullptr) return out;
  for (const model::PodPtr& p : cluster_->pending_pods) {
    if (unschedulable_.contains(p->Key())) out.push_back(p);
  }
  return out;
}

PodPhase ApiCluster::PhaseOf(const std::string& pod_key) {
  const std::vector<std::string> parts = absl::StrSplit(pod_key, absl::MaxSplits('/', 1));
  if (parts.size() != 2) return PodPhase::kGone;
  absl::StatusOr<kube::Response> r = client_->Get(PodPath(parts[0], parts[1]));
  if (!r.ok()) {
    // Anything but "not found" may pass: ask again on the next pass.
    return absl::IsNotFound(r.status()) ? PodPhase::kGone : PodPhase::kPending;
  }
  absl::StatusOr<json> pod = ParseJson(pod_key, r->body);
  if (!pod.ok()) return PodPhase::kPending;
  const std::string phase = StringAt(*pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed") return PodPhase::kGone;
  if (!StringAt(*pod, {"spec", "nodeName"}).empty()) return PodPhase::kBound;
  return PodPhase::kPending;
}

std::vector<model::NodePtr> ApiCluster::ListNodes() {
  return host_ == nullptr ? std::vector<model::NodePtr>() : host_->nodes();
}

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
