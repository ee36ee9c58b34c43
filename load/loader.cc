#include "load/loader.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "api/defaults.h"

namespace kestrel::load {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;
namespace schedv1 = ::k8s::io::api::scheduling::v1;

std::string KeyOf(const std::string& ns, const std::string& name) {
  return absl::StrCat(ns, "/", name);
}

// The namespace a pod or budget lives in: "default" when unset, as the API
// server would have put it.
std::string NamespaceOf(const std::string& ns) { return ns.empty() ? "default" : ns; }

}  // namespace

bool Finished(const v1::Pod& pod) {
  const std::string& phase = pod.status().phase();
  return phase == "Succeeded" || phase == "Failed";
}

absl::StatusOr<model::PodPtr> CompilePodObject(v1::Pod& pod, model::Interner& names,
                                               const model::CompileOptions& options) {
  api::DefaultingOptions defaulting;
  defaulting.alpha_annotations = options.alpha_annotations;
  api::DefaultPod(&pod, defaulting);
  return model::CompilePod(pod, names, options);
}

absl::StatusOr<model::PodPtr> CompilePodObject(v1::Pod& pod, model::PodCompiler& compiler,
                                               const model::CompileOptions& options) {
  api::DefaultingOptions defaulting;
  defaulting.alpha_annotations = options.alpha_annotations;
  api::DefaultPod(&pod, defaulting);
  return compiler.Compile(pod);
}

absl::StatusOr<model::NodePtr> CompileNodeObject(const v1::Node& node, model::Interner& names,
                                                 const model::CompileOptions& options) {
  return model::CompileNode(node, names, options);
}

absl::StatusOr<CompiledNamespace> CompileNamespaceObject(const v1::Namespace& ns,
                                                         model::Interner& names) {
  CompiledNamespace out;
  out.name = ns.metadata().name();
  if (out.name.empty()) {
    return absl::InvalidArgumentError("Namespace: metadata.name: Required value");
  }
  std::vector<model::Label> labels;
  for (const auto& [k, v] : ns.metadata().labels()) {
    labels.push_back({names.Intern(k), names.Intern(v), std::nullopt});
  }
  out.id = names.Intern(out.name);
  out.labels = model::Labels(std::move(labels));
  return out;
}

model::PodPtr ResolvePriority(const model::PriorityClasses& classes,
                              const model::PriorityRequest& request, Admission admission,
                              model::PodPtr pod) {
  const bool admitted = admission == Admission::kAdmitted;
  model::ResolvedPriority resolved;
  if (request.class_name.empty()) {
    if (request.priority.has_value()) return pod;
    // Never fails without a class name, priority or policy.
    resolved = *classes.Resolve(model::PriorityRequest{});
    if (request.preemption_policy.has_value()) {
      resolved.preemption_policy = *request.preemption_policy;
    }
  } else {
    absl::StatusOr<model::ResolvedPriority> r = classes.Resolve(request);
    if (!r.ok()) {
      if (admitted || !pod->invalid_reason.empty()) return pod;
      auto invalid = std::make_shared<model::Pod>(*pod);
      invalid->invalid_reason = std::string(r.status().message());
      return invalid;
    }
    resolved = *std::move(r);
    if (admitted) {
      // Admitted long ago: what the spec says stands.
      if (request.priority.has_value()) resolved.priority = *request.priority;
      if (request.preemption_policy.has_value()) {
        resolved.preemption_policy = *request.preemption_policy;
      }
    }
  }
  if (resolved.priority == pod->priority &&
      resolved.preemption_policy == pod->preemption_policy &&
      resolved.class_name == pod->priority_class_name) {
    return pod;
  }
  auto out = std::make_shared<model::Pod>(*pod);
  out->priority = resolved.priority;
  out->preemption_policy = resolved.preemption_policy;
  out->priority_class_name = std::move(resolved.class_name);
  return out;
}

Loader::Loader(cache::Cache* cache, model::Interner* names, LoaderOptions options)
    : cache_(cache), names_(names), options_(std::move(options)) {}

absl::Status Loader::Add(const google::protobuf::Message& object) {
  if (const auto* pod = dynamic_cast<const v1::Pod*>(&object)) return UpsertPod(*pod);
  if (const auto* node = dynamic_cast<const v1::Node*>(&object)) return UpsertNode(*node);
  if (const auto* ns = dynamic_cast<const v1::Namespace*>(&object)) return UpsertNamespace(*ns);
  if (const auto* pdb = dynamic_cast<const policyv1::PodDisruptionBudget*>(&object)) {
    return UpsertPdb(*pdb);
  }
  if (const auto* pc = dynamic_cast<const schedv1::PriorityClass*>(&object)) {
    return UpsertPriorityClass(*pc);
  }
  return absl::OkStatus();  // other kinds are read by the features that need them
}

absl::Status Loader::Update(const google::protobuf::Message& old_object,
                            const google::protobuf::Message& new_object) {
  // Keys never change in an update, and every Upsert replaces what is held
  // under the key: the old object is not needed.
  (void)old_object;
  return Add(new_object);
}

absl::Status Loader::Delete(const google::protobuf::Message& object) {
  if (const auto* pod = dynamic_cast<const v1::Pod*>(&object)) {
    return RemovePod(KeyOf(NamespaceOf(pod->metadata().namespace_()), pod->metadata().name()));
  }
  if (const auto* node = dynamic_cast<const v1::Node*>(&object)) {
    auto it = nodes_.find(node->metadata().name());
    if (it == nodes_.end()) return absl::OkStatus();
    nodes_.erase(it);
    return cache_->RemoveNode(node->metadata().name());
  }
  if (const auto* ns = dynamic_cast<const v1::Namespace*>(&object)) {
    auto it = namespaces_.find(ns->metadata().name());
    if (it == namespaces_.end()) return absl::OkStatus();
    cache_->RemoveNamespace(it->second);
    namespaces_.erase(it);
    return absl::OkStatus();
  }
  if (const auto* pdb = dynamic_cast<const policyv1::PodDisruptionBudget*>(&object)) {
    pdbs_.erase(KeyOf(NamespaceOf(pdb->metadata().namespace_()), pdb->metadata().name()));
    return absl::OkStatus();
  }
  if (const auto* pc = dynamic_cast<const schedv1::PriorityClass*>(&object)) {
    return RemovePriorityClass(pc->metadata().name());
  }
  return absl::OkStatus();
}

absl::Status Loader::UpsertPod(const v1::Pod& api_pod) {
  const std::string key =
      KeyOf(NamespaceOf(api_pod.metadata().namespace_()), api_pod.metadata().name());
  // kube-scheduler's informers filter finished pods out: to the cache, a
  // pod that finishes is deleted.
  if (Finished(api_pod)) return RemovePod(key);
  v1::Pod defaulted = api_pod;
  absl::StatusOr<model::PodPtr> compiled =
      CompilePodObject(defaulted, *names_, options_.compile);
  if (!compiled.ok()) return compiled.status();
  model::PodPtr pod =
      ResolvePriority(classes_, model::PriorityRequest::FromSpec(defaulted.spec()),
                      Admission::kAdmitted, *std::move(compiled));
  if (pod->node_name.empty()) {
    // Unbound now: a pod is never unbound once bound, but a relist may
    // replace a state the loader never saw; drop any bound copy.
    if (bound_.count(key) > 0) {
      if (absl::Status s = RemovePod(key); !s.ok()) return s;
    }
    pending_[key] = std::move(pod);
    return absl::OkStatus();
  }
  pending_.erase(key);
  auto it = bound_.find(key);
  if (it != bound_.end() && it->second->node_name == pod->node_name) {
    absl::Status s = cache_->UpdatePod(*it->second, pod);
    if (!s.ok()) return s;
    it->second = std::move(pod);
    return absl::OkStatus();
  }
  // Bound for the first time, or moved (a node name never changes on a real
  // server, but a missed delete and re-create can look so): remove, add.
  if (it != bound_.end()) {
    if (absl::Status s = RemovePod(key); !s.ok()) return s;
  }
  if (absl::Status s = cache_->AddPod(pod); !s.ok()) return s;
  bound_[key] = std::move(pod);
  return absl::OkStatus();
}

absl::Status Loader::RemovePod(const std::string& key) {
  pending_.erase(key);
  auto it = bound_.find(key);
  if (it == bound_.end()) return absl::OkStatus();
  model::PodPtr pod = std::move(it->second);
  bound_.erase(it);
  return cache_->RemovePod(*pod);
}

absl::Status Loader::UpsertNode(const v1::Node& api_node) {
  absl::StatusOr<model::NodePtr> node = CompileNodeObject(api_node, *names_, options_.compile);
  if (!node.ok()) return node.status();
  auto it = nodes_.find((*node)->name);
  if (it == nodes_.end()) {
    if (absl::Status s = cache_->AddNode(*node); !s.ok()) return s;
    nodes_.emplace((*node)->name, *std::move(node));
    return absl::OkStatus();
  }
  if (absl::Status s = cache_->UpdateNode(*node); !s.ok()) return s;
  it->second = *std::move(node);
  return absl::OkStatus();
}

absl::Status Loader::UpsertNamespace(const v1::Namespace& api_ns) {
  absl::StatusOr<CompiledNamespace> ns = CompileNamespaceObject(api_ns, *names_);
  if (!ns.ok()) return ns.status();
  cache_->SetNamespace(ns->id, std::move(ns->labels));
  namespaces_[ns->name] = ns->id;
  return absl::OkStatus();
}

absl::Status Loader::UpsertPdb(const policyv1::PodDisruptionBudget& api_pdb) {
  absl::StatusOr<model::PdbPtr> pdb = model::CompilePodDisruptionBudget(api_pdb, *names_);
  if (!pdb.ok()) return pdb.status();
  pdbs_[(*pdb)->Key()] = *std::move(pdb);
  return absl::OkStatus();
}

absl::Status Loader::UpsertPriorityClass(const schedv1::PriorityClass& api_pc) {
  absl::StatusOr<model::PriorityClass> pc = model::CompilePriorityClass(api_pc);
  if (!pc.ok()) return pc.status();
  const std::string name = pc->name;
  auto previous = classes_by_name_.find(name);
  std::optional<model::PriorityClass> old;
  if (previous != classes_by_name_.end()) old = previous->second;
  classes_by_name_[name] = *std::move(pc);
  absl::Status s = RebuildClasses();
  if (!s.ok()) {
    // A second globalDefault, or a built-in with another value: refused,
    // the classes stay as they were.
    if (old.has_value()) {
      classes_by_name_[name] = *std::move(old);
    } else {
      classes_by_name_.erase(name);
    }
    (void)RebuildClasses();
  }
  return s;
}

absl::Status Loader::RemovePriorityClass(const std::string& name) {
  if (classes_by_name_.erase(name) == 0) return absl::OkStatus();
  return RebuildClasses();
}

absl::Status Loader::RebuildClasses() {
  model::PriorityClasses classes;
  for (const auto& [name, pc] : classes_by_name_) {
    if (absl::Status s = classes.Add(pc); !s.ok()) return s;
  }
  classes_ = std::move(classes);
  return absl::OkStatus();
}

std::vector<model::NodePtr> Loader::Nodes() const {
  std::vector<model::NodePtr> out;
  out.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) out.push_back(node);
  return out;
}

model::NodePtr Loader::GetNode(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second;
}

std::vector<model::PodPtr> Loader::PendingPods() const {
  std::vector<model::PodPtr> out;
  out.reserve(pending_.size());
  for (const auto& [key, pod] : pending_) out.push_back(pod);
  return out;
}

model::PodPtr Loader::GetPendingPod(const std::string& key) const {
  auto it = pending_.find(key);
  return it == pending_.end() ? nullptr : it->second;
}

std::vector<model::PdbPtr> Loader::Pdbs() const {
  std::vector<model::PdbPtr> out;
  out.reserve(pdbs_.size());
  for (const auto& [key, pdb] : pdbs_) out.push_back(pdb);
  return out;
}

}  // namespace kestrel::load
