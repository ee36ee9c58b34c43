#include "sim/cluster.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "load/loader.h"
#include "model/compile.h"
#include "model/pdb.h"
#include "model/priority.h"

namespace kestrel::sim {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
namespace schedv1 = ::k8s::io::api::scheduling::v1;

// What loading keeps besides the cluster itself.
struct LoadState {
  absl::flat_hash_set<std::string> node_names, namespace_names, pod_keys, pdb_keys;
  std::vector<std::string> bound_origins;  // parallel to bound_pods, for warnings
  // What each pod's spec asks of priority admission, parallel to
  // bound_pods and pending_pods (the protobufs are dropped).
  std::vector<model::PriorityRequest> bound_requests, pending_requests;
  // Pods of one template are compiled once.
  std::unique_ptr<model::PodCompiler> pods;
};

// Compiles one decoded object into `cluster`. A pod is first defaulted as
// the API server would have defaulted and admitted it.
absl::Status AddObject(const std::string& file, api::Object& obj,
                       const model::CompileOptions& options, Cluster* cluster,
                       LoadState* state) {
  absl::flat_hash_set<std::string>* node_names = &state->node_names;
  absl::flat_hash_set<std::string>* namespace_names = &state->namespace_names;
  absl::flat_hash_set<std::string>* pod_keys = &state->pod_keys;
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
    absl::StatusOr<model::PodPtr> pod = load::CompilePodObject(api_pod, *state->pods, options);
    if (!pod.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", pod.status().message()));
    }
    if (!pod_keys->insert((*pod)->Key()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          obj.origin, ": metadata.name: Duplicate value: \"", (*pod)->Key(), "\""));
    }
    model::PriorityRequest request = model::PriorityRequest::FromSpec(api_pod.spec());
    if ((*pod)->node_name.empty()) {
      cluster->pending_pods.push_back(*std::move(pod));
      state->pending_requests.push_back(std::move(request));
    } else {
      cluster->bound_pods.push_back(*std::move(pod));
      state->bound_origins.push_back(obj.origin);
      state->bound_requests.push_back(std::move(request));
    }
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

}  // namespace

absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files,
    const model::CompileOptions& options) {
  Cluster cluster;
  LoadState state;
  state.pods = std::make_unique<model::PodCompiler>(*cluster.names, options);
  for (const auto& [name, content] : files) {
    // Each object is compiled as soon as it is decoded, and its protobuf
    // dropped: a large snapshot never holds its whole API form in memory.
    absl::Status s = api::DecodeEach(name, content, [&](api::Object obj) {
      return AddObject(name, obj, options, &cluster, &state);
    });
    if (!s.ok()) return s;
  }
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
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = api::ReadFile(path);
    if (!content.ok()) return content.status();
    files.emplace_back(path, *std::move(content));
  }
  return LoadContents(files, options);
}

}  // namespace kestrel::sim
