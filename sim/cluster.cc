#include "sim/cluster.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/apps.pb.h"
#include "api/batch.pb.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "load/loader.h"
#include "load/workloads.h"
#include "model/compile.h"
#include "model/pdb.h"
#include "model/priority.h"

namespace kestrel::sim {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
namespace schedv1 = ::k8s::io::api::scheduling::v1;
namespace apps = ::k8s::io::api::apps::v1;
namespace batch = ::k8s::io::api::batch::v1;

bool IsWorkloadKind(absl::string_view kind) {
  return kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" ||
         kind == "DaemonSet" || kind == "Job" || kind == "CronJob";
}

// A workload as read, expanded once every file is read.
struct ReadWorkload {
  std::string kind;
  std::string origin;  // "file: Deployment default/web"
  std::unique_ptr<google::protobuf::Message> message;
  size_t position = 0;  // how many pending pods came before it
};

// The pods of the files that have a controller, by "Kind/namespace/name"
// of that controller.
struct Controlled {
  int32_t pods = 0;
  std::vector<std::string> nodes;  // of the bound ones
};

// What loading keeps besides the cluster itself.
struct LoadState {
  absl::flat_hash_set<std::string> node_names, namespace_names, pod_keys, pdb_keys;
  std::vector<std::string> bound_origins;  // parallel to bound_pods, for warnings
  // What each pod's spec asks of priority admission, parallel to
  // bound_pods and pending_pods (the protobufs are dropped).
  std::vector<model::PriorityRequest> bound_requests, pending_requests;
  // Pods of one template are compiled once.
  std::unique_ptr<model::PodCompiler> pods;
  std::vector<ReadWorkload> workloads;
  absl::flat_hash_set<std::string> workload_keys;  // "Kind/namespace/name"
  absl::flat_hash_map<std::string, Controlled> controlled;
  // "namespace/deployment" -> names of its ReplicaSets: from the
  // ReplicaSets of the files and from their pods' pod-template-hash.
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> deployment_replicasets;
  // Kinds skipped as not read, with counts.
  std::map<std::string, int> skipped;
  size_t objects = 0;
};

std::string NamespaceOr(const std::string& ns) { return ns.empty() ? "default" : ns; }

// Records the pod's controller (if any) for "already present" counts.
void RecordController(const v1::Pod& pod, LoadState* state) {
  const auto& meta = pod.metadata();
  for (const auto& ref : meta.ownerreferences()) {
    if (!ref.controller()) continue;
    const std::string ns = NamespaceOr(meta.namespace_());
    Controlled& c = state->controlled[absl::StrCat(ref.kind(), "/", ns, "/", ref.name())];
    ++c.pods;
    if (!pod.spec().nodename().empty()) c.nodes.push_back(pod.spec().nodename());
    // Upstream names a Deployment's ReplicaSets <deployment>-<hash>, and
    // their pods carry the hash: that is enough to know the Deployment
    // when the dump has no ReplicaSets.
    auto hash = meta.labels().find(load::kPodTemplateHashLabel);
    if (ref.kind() == "ReplicaSet" && hash != meta.labels().end() &&
        absl::EndsWith(ref.name(), absl::StrCat("-", hash->second)) &&
        ref.name().size() > hash->second.size() + 1) {
      const std::string deployment =
          ref.name().substr(0, ref.name().size() - hash->second.size() - 1);
      state->deployment_replicasets[absl::StrCat(ns, "/", deployment)].insert(ref.name());
    }
    return;
  }
}

// The pod path every pod takes, from a file or expanded from a workload:
// defaulted and admitted as the API server would (CompilePodObject), its
// name claimed, its priority request kept.
struct LoadedPod {
  model::PodPtr pod;
  model::PriorityRequest request;
};
absl::StatusOr<LoadedPod> LoadPod(const std::string& file, const std::string& origin,
                                  v1::Pod& api_pod, const model::CompileOptions& options,
                                  Cluster* cluster, LoadState* state) {
  absl::StatusOr<model::PodPtr> pod = load::CompilePodObject(api_pod, *state->pods, options);
  if (!pod.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", pod.status().message()));
  }
  if (!state->pod_keys.insert((*pod)->Key()).second) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": metadata.name: Duplicate value: \"", (*pod)->Key(), "\""));
  }
  return LoadedPod{*std::move(pod), model::PriorityRequest::FromSpec(api_pod.spec())};
}

// Compiles one decoded object into `cluster`. A pod is first defaulted as
// the API server would have defaulted and admitted it.
absl::Status AddObject(const std::string& file, api::Object& obj,
                       const model::CompileOptions& options, Cluster* cluster,
                       LoadState* state) {
  absl::flat_hash_set<std::string>* node_names = &state->node_names;
  absl::flat_hash_set<std::string>* namespace_names = &state->namespace_names;
  if (obj.kind == "Node") {
    const auto& api_node = static_cast<const v1::Node&>(*obj.message);
    absl::StatusOr<model::NodePtr> node = load::CompileNodeObject(api_node, *cluster->names, options);
    if (!node.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", node.status().message()));
    }
    if (!node_names->insert((*node)->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": metadata.name: Duplicate value: \"", (*node)->name, "\""));
    }
    cluster->nodes.push_back(*std::move(node));
  } else if (obj.kind == "Pod") {
    auto& api_pod = static_cast<v1::Pod&>(*obj.message);
    if (load::Finished(api_pod)) return absl::OkStatus();
    absl::StatusOr<LoadedPod> loaded = LoadPod(file, obj.origin, api_pod, options, cluster, state);
    if (!loaded.ok()) return loaded.status();
    RecordController(api_pod, state);
    if (loaded->pod->node_name.empty()) {
      cluster->pending_pods.push_back(std::move(loaded->pod));
      state->pending_requests.push_back(std::move(loaded->request));
    } else {
      cluster->bound_pods.push_back(std::move(loaded->pod));
      state->bound_origins.push_back(obj.origin);
      state->bound_requests.push_back(std::move(loaded->request));
    }
  } else if (IsWorkloadKind(obj.kind)) {
    // The API server refuses a second object of the same kind and name.
    const auto& meta = *static_cast<const ::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta*>(
        &obj.message->GetReflection()->GetMessage(
            *obj.message, obj.message->GetDescriptor()->FindFieldByName("metadata")));
    const std::string key = absl::StrCat(NamespaceOr(meta.namespace_()), "/", meta.name());
    if (!state->workload_keys.insert(absl::StrCat(obj.kind, "/", key)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": metadata.name: Duplicate value: \"", key, "\""));
    }
    if (obj.kind == "ReplicaSet") {
      // A Deployment's ReplicaSet: its pods are the Deployment's.
      const auto& rs = static_cast<const apps::ReplicaSet&>(*obj.message);
      for (const auto& ref : rs.metadata().ownerreferences()) {
        if (ref.controller() && ref.kind() == "Deployment") {
          state->deployment_replicasets[absl::StrCat(NamespaceOr(rs.metadata().namespace_()),
                                                     "/", ref.name())]
              .insert(rs.metadata().name());
        }
      }
    }
    state->workloads.push_back(
        {obj.kind, obj.origin, std::move(obj.message), cluster->pending_pods.size()});
  } else if (obj.kind == "Namespace") {
    const auto& ns = static_cast<const v1::Namespace&>(*obj.message);
    const std::string& name = ns.metadata().name();
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(obj.origin, ": metadata.name: Required value"));
    }
    if (!namespace_names->insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": metadata.name: Duplicate value: \"", name, "\""));
    }
    absl::StatusOr<load::CompiledNamespace> compiled =
        load::CompileNamespaceObject(ns, *cluster->names);
    if (!compiled.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", compiled.status().message()));
    }
    cluster->namespaces.emplace_back(compiled->id, std::move(compiled->labels));
  } else if (obj.kind == "PriorityClass") {
    absl::StatusOr<model::PriorityClass> pc =
        model::CompilePriorityClass(static_cast<const schedv1::PriorityClass&>(*obj.message));
    if (!pc.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", pc.status().message()));
    }
    // Duplicates and a second globalDefault are refused here.
    absl::Status s = cluster->priority_classes.Add(*std::move(pc));
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(file, ": ", s.message()));
  } else if (obj.kind == "PodDisruptionBudget") {
    absl::StatusOr<model::PdbPtr> pdb = model::CompilePodDisruptionBudget(
        static_cast<const ::k8s::io::api::policy::v1::PodDisruptionBudget&>(*obj.message),
        *cluster->names);
    if (!pdb.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", pdb.status().message()));
    }
    if (!state->pdb_keys.insert((*pdb)->Key()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          obj.origin, ": metadata.name: Duplicate value: \"", (*pdb)->Key(), "\""));
    }
    cluster->pdbs.push_back(*std::move(pdb));
  }
  // Other kinds are read by the features that need them.
  return absl::OkStatus();
}


// A template's pod that does not compile is the workload's error, at
// spec.template (upstream validates the template with the workload):
// "f.yaml: Deployment default/web: spec.template.spec.containers: ...".
absl::Status TemplateError(const std::string& origin, const std::string& pod_key,
                           const absl::Status& s) {
  std::string message(s.message());
  const size_t at = message.find(absl::StrCat("Pod ", pod_key, ": "));
  if (at != std::string::npos) message = message.substr(at + pod_key.size() + 6);
  const bool field = absl::StartsWith(message, "spec.") || absl::StartsWith(message, "metadata.");
  return absl::InvalidArgumentError(
      absl::StrCat(origin, ": spec.template", field ? "." : ": ", message));
}

// Expands the workloads of `state` into `cluster` (see LoadFiles).
class Expander {
 public:
  Expander(const LoadOptions& options, Cluster* cluster, LoadState* state)
      : options_(options), cluster_(cluster), state_(state), matched_(options.scale.size()) {}

  absl::Status Run();

 private:
  // The pods of one workload, as API objects, and what became of it.
  absl::StatusOr<std::vector<v1::Pod>> Expand(const ReadWorkload& w, WorkloadExpansion* out);
  absl::StatusOr<std::vector<v1::Pod>> Deployment(const ReadWorkload& w, WorkloadExpansion* out);
  absl::StatusOr<std::vector<v1::Pod>> StatefulSet(const ReadWorkload& w, WorkloadExpansion* out);
  absl::StatusOr<std::vector<v1::Pod>> DaemonSet(const ReadWorkload& w, WorkloadExpansion* out);

  // The --scale replicas for the workload, if one names it.
  std::optional<int32_t> ScaleFor(const WorkloadExpansion& w);
  // Pods of the files whose controller is kind/ns/name.
  const Controlled* ControlledBy(absl::string_view kind, const std::string& ns,
                                 const std::string& name) const;
  load::ClaimName Claim(const std::string& ns) {
    return [this, ns](const std::string& name) {
      const std::string key = absl::StrCat(ns, "/", name);
      return !state_->pod_keys.contains(key) && claimed_.insert(key).second;
    };
  }
  void Progress(size_t done) {
    if (options_.progress) options_.progress("expanding", done, state_->workloads.size());
  }

  const LoadOptions& options_;
  Cluster* cluster_;
  LoadState* state_;
  std::vector<bool> matched_;  // parallel to options_.scale
  absl::flat_hash_set<std::string> claimed_;
};

std::optional<int32_t> Expander::ScaleFor(const WorkloadExpansion& w) {
  std::optional<int32_t> out;
  for (size_t i = 0; i < options_.scale.size(); ++i) {
    const ScaleRequest& r = options_.scale[i];
    if (r.kind != w.kind || r.name != w.name || (!r.ns.empty() && r.ns != w.ns)) continue;
    matched_[i] = true;
    out = r.replicas;
  }
  return out;
}

const Controlled* Expander::ControlledBy(absl::string_view kind, const std::string& ns,
                                         const std::string& name) const {
  auto it = state_->controlled.find(absl::StrCat(kind, "/", ns, "/", name));
  return it == state_->controlled.end() ? nullptr : &it->second;
}

absl::StatusOr<std::vector<v1::Pod>> Expander::Deployment(const ReadWorkload& w,
                                                          WorkloadExpansion* out) {
  const auto& d = static_cast<const apps::Deployment&>(*w.message);
  auto scaled = ScaleFor(*out);
  out->wanted = scaled.value_or(d.spec().has_replicas() ? d.spec().replicas() : 1);
  auto rs_names = state_->deployment_replicasets.find(absl::StrCat(out->ns, "/", out->name));
  if (rs_names != state_->deployment_replicasets.end()) {
    for (const std::string& rs : rs_names->second) {
      if (const Controlled* c = ControlledBy("ReplicaSet", out->ns, rs)) out->present += c->pods;
    }
  }
  if (d.spec().paused() && rs_names == state_->deployment_replicasets.end()) {
    // sync.go: a paused Deployment only scales the ReplicaSets it has.
    out->note = "paused: the Deployment controller creates no ReplicaSet for it";
    return std::vector<v1::Pod>{};
  }
  apps::ReplicaSet rs = load::NewReplicaSet(d);
  return load::ReplicaSetPods(rs, std::max(0, out->wanted - out->present), Claim(out->ns));
}

absl::StatusOr<std::vector<v1::Pod>> Expander::StatefulSet(const ReadWorkload& w,
                                                           WorkloadExpansion* out) {
  const auto& set = static_cast<const apps::StatefulSet&>(*w.message);
  auto scaled = ScaleFor(*out);
  out->wanted = scaled.value_or(set.spec().has_replicas() ? set.spec().replicas() : 1);
  if (const Controlled* c = ControlledBy("StatefulSet", out->ns, out->name)) {
    out->present = c->pods;
  }
  const bool parallel = set.spec().podmanagementpolicy() == "Parallel";
  if (parallel) {
    out->note =
        "podManagementPolicy Parallel: its pods are created at once (scheduled in order all the "
        "same)";
  }
  // The ordinals whose pod is missing, in order (stateful_set_control.go
  // creates exactly those, by name).
  const int32_t first = load::StatefulSetFirstOrdinal(set);
  std::vector<int32_t> missing;
  std::string previous;
  for (int32_t ordinal = first; ordinal < first + out->wanted; ++ordinal) {
    const std::string key = absl::StrCat(out->ns, "/", out->name, "-", ordinal);
    if (!state_->pod_keys.contains(key)) {
      missing.push_back(ordinal);
      // OrderedReady: the controller creates pod N only once pod N-1 is
      // Running and Ready, which in the simulator means placed.
      if (!parallel && !previous.empty()) cluster_->waits_for[key] = previous;
    }
    previous = key;
  }
  return load::StatefulSetPods(set, missing);
}

absl::StatusOr<std::vector<v1::Pod>> Expander::DaemonSet(const ReadWorkload& w,
                                                         WorkloadExpansion* out) {
  const auto& ds = static_cast<const apps::DaemonSet&>(*w.message);
  v1::Pod new_pod = load::DaemonSetNewPod(ds);
  absl::StatusOr<model::PodPtr> compiled =
      load::CompilePodObject(new_pod, *cluster_->names, options_.compile);
  if (!compiled.ok()) {
    return TemplateError(w.origin, absl::StrCat(out->ns, "/", new_pod.metadata().name()),
                         compiled.status());
  }
  absl::flat_hash_set<std::string> has_pod;
  if (const Controlled* c = ControlledBy("DaemonSet", out->ns, out->name)) {
    out->present = c->pods;
    has_pod.insert(c->nodes.begin(), c->nodes.end());
  }
  std::vector<std::string> targets;
  int32_t targeted = 0;
  for (const model::NodePtr& node : cluster_->nodes) {
    if (!load::DaemonSetShouldRun(ds, **compiled, *node)) continue;
    ++targeted;
    if (!has_pod.contains(node->name)) targets.push_back(node->name);
  }
  out->wanted = targeted;
  out->note = absl::StrCat("targets ", targeted, " of ", cluster_->nodes.size(), " nodes");
  return load::DaemonSetPods(ds, targets, Claim(out->ns));
}

absl::StatusOr<std::vector<v1::Pod>> Expander::Expand(const ReadWorkload& w,
                                                      WorkloadExpansion* out) {
  if (w.kind == "CronJob") {
    out->note = "not expanded; its Jobs are created on a schedule";
    return std::vector<v1::Pod>{};
  }
  if (absl::Status s = load::ValidateWorkload(*w.message, w.origin, *cluster_->names); !s.ok()) {
    return s;
  }
  if (w.kind == "Deployment") return Deployment(w, out);
  if (w.kind == "StatefulSet") return StatefulSet(w, out);
  if (w.kind == "DaemonSet") return DaemonSet(w, out);
  if (w.kind == "ReplicaSet") {
    const auto& rs = static_cast<const apps::ReplicaSet&>(*w.message);
    for (const auto& ref : rs.metadata().ownerreferences()) {
      if (ref.controller() && ref.kind() == "Deployment") {
        for (const ReadWorkload& other : state_->workloads) {
          if (other.kind != "Deployment") continue;
          const auto& meta = static_cast<const apps::Deployment&>(*other.message).metadata();
          if (meta.name() == ref.name() && NamespaceOr(meta.namespace_()) == out->ns) {
            out->note = absl::StrCat("part of deployment/", ref.name(), "; not expanded on its own");
            return std::vector<v1::Pod>{};
          }
        }
      }
    }
    auto scaled = ScaleFor(*out);
    out->wanted = scaled.value_or(rs.spec().has_replicas() ? rs.spec().replicas() : 1);
    if (const Controlled* c = ControlledBy("ReplicaSet", out->ns, out->name)) out->present = c->pods;
    return load::ReplicaSetPods(rs, std::max(0, out->wanted - out->present), Claim(out->ns));
  }
  // Job.
  batch::Job job = static_cast<const batch::Job&>(*w.message);
  if (auto scaled = ScaleFor(*out)) job.mutable_spec()->set_parallelism(*scaled);
  out->wanted = load::JobPodCount(job.spec());
  if (job.spec().suspend()) out->note = "suspended";
  if (const Controlled* c = ControlledBy("Job", out->ns, out->name)) out->present = c->pods;
  return load::JobPods(job, std::max(0, out->wanted - out->present), Claim(out->ns));
}

absl::Status Expander::Run() {
  // Each workload's pods, compiled, with their priority requests.
  std::vector<std::vector<LoadedPod>> expanded(state_->workloads.size());
  for (size_t i = 0; i < state_->workloads.size(); ++i) {
    Progress(i);
    const ReadWorkload& w = state_->workloads[i];
    const auto& meta =
        *static_cast<const ::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta*>(
            &w.message->GetReflection()->GetMessage(
                *w.message, w.message->GetDescriptor()->FindFieldByName("metadata")));
    WorkloadExpansion out;
    out.kind = w.kind;
    out.ns = NamespaceOr(meta.namespace_());
    out.name = meta.name();
    absl::StatusOr<std::vector<v1::Pod>> pods = Expand(w, &out);
    if (!pods.ok()) return pods.status();
    const std::string file = w.origin.substr(0, w.origin.find(": "));
    for (v1::Pod& pod : *pods) {
      const std::string key = absl::StrCat(pod.metadata().namespace_(), "/", pod.metadata().name());
      absl::StatusOr<LoadedPod> loaded =
          LoadPod(file, w.origin, pod, options_.compile, cluster_, state_);
      if (!loaded.ok()) return TemplateError(w.origin, key, loaded.status());
      expanded[i].push_back(*std::move(loaded));
    }
    out.created = static_cast<int32_t>(pods->size());
    cluster_->workloads.push_back(std::move(out));
  }
  Progress(state_->workloads.size());
  for (size_t i = 0; i < options_.scale.size(); ++i) {
    if (matched_[i]) continue;
    const ScaleRequest& r = options_.scale[i];
    return absl::InvalidArgumentError(
        absl::StrCat("flag --scale: \"", r.text, "\": no ", r.kind, " \"", r.name, "\"",
                     r.ns.empty() ? "" : absl::StrCat(" in namespace \"", r.ns, "\""),
                     " in the input files"));
  }
  // Each workload's pods take its place among the pending pods.
  std::vector<model::PodPtr> pending;
  std::vector<model::PriorityRequest> requests;
  size_t next = 0;
  auto splice_until = [&](size_t position) {
    for (; next < state_->workloads.size() && state_->workloads[next].position <= position;
         ++next) {
      for (LoadedPod& p : expanded[next]) {
        pending.push_back(std::move(p.pod));
        requests.push_back(std::move(p.request));
      }
    }
  };
  for (size_t i = 0; i < cluster_->pending_pods.size(); ++i) {
    splice_until(i);
    pending.push_back(std::move(cluster_->pending_pods[i]));
    requests.push_back(std::move(state_->pending_requests[i]));
  }
  splice_until(cluster_->pending_pods.size());
  cluster_->pending_pods = std::move(pending);
  state_->pending_requests = std::move(requests);
  return absl::OkStatus();
}

// "skipped 3 objects of kinds we do not simulate: ConfigMap (2), Service (1)"
std::string SkippedLine(const std::map<std::string, int>& skipped) {
  int total = 0;
  std::vector<std::string> parts;
  for (const auto& [kind, n] : skipped) {
    total += n;
    parts.push_back(absl::StrCat(kind, " (", n, ")"));
  }
  return absl::StrCat("skipped ", total, total == 1 ? " object" : " objects",
                      " of kinds we do not simulate: ", absl::StrJoin(parts, ", "));
}

// DecodeAndCompile()
//
// api::DecodeEach of one file, with `compile` called on each object in file
// order, as if from DecodeEach's sink. A large file is decoded on a thread
// of its own while the caller's compiles, the objects handed over in
// batches through a bounded queue and handed back to be freed where they
// were made (glibc's allocator is slow to free across threads). The first
// error in file order wins, as on one thread: a compile error stops the
// decoder; a decode error is returned once the objects before it are
// compiled.
constexpr size_t kPipelineMinBytes = 1 << 20;
constexpr size_t kPipelineBatch = 256;
constexpr size_t kPipelineMaxBatches = 8;

absl::Status DecodeAndCompile(const std::string& name, const std::string& content,
                              bool pipeline,
                              const std::function<absl::Status(api::Object&)>& compile,
                              std::map<std::string, int>* skipped) {
  auto skip = [&](const std::string& kind) { ++(*skipped)[kind]; };
  if (!pipeline || content.size() < kPipelineMinBytes ||
      std::thread::hardware_concurrency() < 2) {
    return api::DecodeEach(name, content, [&](api::Object o) { return compile(o); }, skip);
  }
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::vector<api::Object>> full, done;
  bool decoded = false;  // the decoder is done (decode_status says how)
  bool stopped = false;  // the compiler failed: the decoder stops
  absl::Status decode_status;
  std::map<std::string, int> decoder_skipped;
  std::thread decoder([&] {
    std::vector<api::Object> batch;
    std::deque<std::vector<api::Object>> to_free;
    auto hand_over = [&]() -> bool {
      {
        std::unique_lock<std::mutex> l(mu);
        changed.wait(l, [&] { return stopped || full.size() < kPipelineMaxBatches; });
        if (stopped) return false;
        full.push_back(std::move(batch));
        to_free.swap(done);
        changed.notify_all();
      }
      to_free.clear();  // compiled: freed here, where they were made
      batch.clear();
      batch.reserve(kPipelineBatch);
      return true;
    };
    absl::Status s = api::DecodeEach(
        name, content,
        [&](api::Object o) {
          batch.push_back(std::move(o));
          if (batch.size() < kPipelineBatch || hand_over()) return absl::OkStatus();
          return absl::CancelledError("stopped");
        },
        [&](const std::string& kind) { ++decoder_skipped[kind]; });
    if (!batch.empty()) hand_over();  // what came before an error too
    std::lock_guard<std::mutex> l(mu);
    decode_status = std::move(s);
    decoded = true;
    changed.notify_all();
  });
  absl::Status status;
  while (status.ok()) {
    std::vector<api::Object> batch;
    {
      std::unique_lock<std::mutex> l(mu);
      changed.wait(l, [&] { return decoded || !full.empty(); });
      if (full.empty()) break;  // decoded, and every batch compiled
      batch = std::move(full.front());
      full.pop_front();
    }
    for (api::Object& o : batch) {
      status = compile(o);
      if (!status.ok()) break;
    }
    std::lock_guard<std::mutex> l(mu);
    done.push_back(std::move(batch));
    changed.notify_all();
  }
  {
    std::lock_guard<std::mutex> l(mu);
    if (!status.ok()) stopped = true;
    changed.notify_all();
  }
  decoder.join();
  for (const auto& [kind, n] : decoder_skipped) (*skipped)[kind] += n;
  if (!status.ok()) return status;
  return decode_status;
}

}  // namespace

std::string WorkloadExpansion::Ref() const {
  return absl::StrCat(absl::AsciiStrToLower(kind), "/", ns == "default" ? "" : ns + "/", name);
}

std::string WorkloadExpansion::Summary() const {
  auto pods = [](int32_t n) { return absl::StrCat(n, n == 1 ? " pod" : " pods"); };
  if (created == 0 && present == 0 && !note.empty()) return absl::StrCat(Ref(), ": ", note);
  std::string out = absl::StrCat(Ref(), ": ");
  if (present > 0) {
    absl::StrAppend(&out, pods(present), " already in the cluster; ",
                    created == 0 ? "not expanded" : absl::StrCat(created, " created"));
  } else {
    absl::StrAppend(&out, pods(created), " created");
  }
  if (!note.empty()) absl::StrAppend(&out, " (", note, ")");
  return out;
}

absl::StatusOr<ScaleRequest> ParseScale(absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("flag --scale: \"", text, "\": ", why));
  };
  const size_t eq = text.rfind('=');
  if (eq == absl::string_view::npos) return bad("want KIND/NAME=N, e.g. deployment/web=5");
  ScaleRequest r;
  r.text = std::string(text);
  int64_t n;
  if (!absl::SimpleAtoi(text.substr(eq + 1), &n) || n < 0 || n > (1 << 30)) {
    return bad("N must be a whole number >= 0");
  }
  r.replicas = static_cast<int32_t>(n);
  std::vector<std::string> parts = absl::StrSplit(text.substr(0, eq), '/');
  if (parts.size() < 2 || parts.size() > 3) {
    return bad("want KIND/NAME=N or KIND/NAMESPACE/NAME=N");
  }
  const std::string kind = absl::AsciiStrToLower(parts[0]);
  if (kind == "deployment" || kind == "deployments" || kind == "deploy") {
    r.kind = "Deployment";
  } else if (kind == "replicaset" || kind == "replicasets" || kind == "rs") {
    r.kind = "ReplicaSet";
  } else if (kind == "statefulset" || kind == "statefulsets" || kind == "sts") {
    r.kind = "StatefulSet";
  } else if (kind == "job" || kind == "jobs") {
    r.kind = "Job";
  } else {
    return bad("KIND must be deployment, replicaset, statefulset or job");
  }
  r.ns = parts.size() == 3 ? parts[1] : "";
  r.name = parts.back();
  if (r.name.empty() || (parts.size() == 3 && r.ns.empty())) return bad("empty name");
  return r;
}

absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files,
    const model::CompileOptions& options) {
  LoadOptions load;
  load.compile = options;
  return LoadContents(files, load);
}

absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files, const LoadOptions& options) {
  Cluster cluster;
  LoadState state;
  state.pods = std::make_unique<model::PodCompiler>(*cluster.names, options.compile);
  for (const auto& [name, content] : files) {
    // Each object is compiled as soon as it is decoded, and its protobuf
    // dropped: a large snapshot never holds its whole API form in memory
    // (workloads are kept until every file is read).
    absl::Status s = DecodeAndCompile(
        name, content, options.pipeline,
        [&](api::Object& obj) {
          if (options.progress && ++state.objects % 256 == 0) {
            options.progress("loading", state.objects, 0);
          }
          return AddObject(name, obj, options.compile, &cluster, &state);
        },
        &state.skipped);
    if (!s.ok()) return s;
  }
  if (!state.skipped.empty()) cluster.warnings.push_back(SkippedLine(state.skipped));
  if (absl::Status s = Expander(options, &cluster, &state).Run(); !s.ok()) return s;
  // A bound pod whose node is not in the files (deleted while its pods
  // terminate, or listed a moment apart) stays: the cache keeps it aside,
  // on no node. One warning per such node.
  struct UnknownNode {
    size_t pods = 0;
    size_t first = 0;  // index in bound_pods
  };
  std::vector<std::string> unknown_nodes;  // in order of first mention
  absl::flat_hash_map<std::string, UnknownNode> unknown;
  for (size_t i = 0; i < cluster.bound_pods.size(); ++i) {
    const std::string& node = cluster.bound_pods[i]->node_name;
    if (state.node_names.contains(node)) continue;
    auto [it, inserted] = unknown.try_emplace(node, UnknownNode{0, i});
    if (inserted) unknown_nodes.push_back(node);
    ++it->second.pods;
  }
  for (const std::string& node : unknown_nodes) {
    const UnknownNode& u = unknown.at(node);
    const std::string& origin = state.bound_origins[u.first];
    const size_t count = u.pods;
    cluster.warnings.push_back(
        count == 1
            ? absl::StrCat(origin, ": spec.nodeName: node \"", node,
                           "\" is not in the cluster; the pod counts on no node")
            : absl::StrCat(count, " pods are bound to node \"", node,
                           "\", which is not in the cluster; they count on no node (first: ",
                           origin, ")"));
  }
  // PriorityClasses may follow the pods that name them: resolve at the end.
  for (size_t i = 0; i < cluster.bound_pods.size(); ++i) {
    cluster.bound_pods[i] = load::ResolvePriority(cluster.priority_classes, state.bound_requests[i],
                                            load::Admission::kAdmitted, std::move(cluster.bound_pods[i]));
  }
  for (size_t i = 0; i < cluster.pending_pods.size(); ++i) {
    cluster.pending_pods[i] =
        load::ResolvePriority(cluster.priority_classes, state.pending_requests[i],
                              load::Admission::kAdmit, std::move(cluster.pending_pods[i]));
  }
  return cluster;
}

absl::StatusOr<Cluster> LoadFiles(const std::vector<std::string>& paths,
                                  const model::CompileOptions& options) {
  LoadOptions load;
  load.compile = options;
  return LoadFiles(paths, load);
}

absl::StatusOr<Cluster> LoadFiles(const std::vector<std::string>& paths,
                                  const LoadOptions& options) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = api::ReadFile(path);
    if (!content.ok()) return content.status();
    files.emplace_back(path, *std::move(content));
  }
  return LoadContents(files, options);
}

}  // namespace kestrel::sim
