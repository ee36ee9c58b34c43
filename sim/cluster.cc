#include "sim/cluster.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "model/compile.h"

namespace kestrel::sim {
namespace {

namespace v1 = ::k8s::io::api::core::v1;

// Compiles one decoded object into `cluster`.
absl::Status AddObject(const std::string& file, const api::Object& obj,
                       const model::CompileOptions& options, Cluster* cluster,
                       absl::flat_hash_set<std::string>* node_names,
                       absl::flat_hash_set<std::string>* namespace_names,
                       absl::flat_hash_set<std::string>* pod_keys,
                       std::vector<std::string>* bound_origins) {
  if (obj.kind == "Node") {
    const auto& api_node = static_cast<const v1::Node&>(*obj.message);
    absl::StatusOr<model::NodePtr> node = model::CompileNode(api_node, *cluster->names, options);
    if (!node.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", node.status().message()));
    }
    if (!node_names->insert((*node)->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": metadata.name: Duplicate value: \"", (*node)->name, "\""));
    }
    cluster->nodes.push_back(*std::move(node));
  } else if (obj.kind == "Pod") {
    const auto& api_pod = static_cast<const v1::Pod&>(*obj.message);
    const std::string& phase = api_pod.status().phase();
    if (phase == "Succeeded" || phase == "Failed") return absl::OkStatus();
    absl::StatusOr<model::PodPtr> pod = model::CompilePod(api_pod, *cluster->names, options);
    if (!pod.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ": ", pod.status().message()));
    }
    if (!pod_keys->insert((*pod)->Key()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          obj.origin, ": metadata.name: Duplicate value: \"", (*pod)->Key(), "\""));
    }
    if ((*pod)->node_name.empty()) {
      cluster->pending_pods.push_back(*std::move(pod));
    } else {
      cluster->bound_pods.push_back(*std::move(pod));
      bound_origins->push_back(obj.origin);
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
    std::vector<model::Label> labels;
    for (const auto& [k, v] : ns.metadata().labels()) {
      labels.push_back({cluster->names->Intern(k), cluster->names->Intern(v), std::nullopt});
    }
    cluster->namespaces.emplace_back(cluster->names->Intern(name),
                                     model::Labels(std::move(labels)));
  }
  // Other kinds (PriorityClass, PodDisruptionBudget, ...) are read by the
  // features that need them.
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Cluster> LoadContents(
    const std::vector<std::pair<std::string, std::string>>& files,
    const model::CompileOptions& options) {
  Cluster cluster;
  absl::flat_hash_set<std::string> node_names, pod_keys, namespace_names;
  std::vector<std::string> bound_origins;
  for (const auto& [name, content] : files) {
    // Each object is compiled as soon as it is decoded, and its protobuf
    // dropped: a large snapshot never holds its whole API form in memory.
    absl::Status s = api::DecodeEach(name, content, [&](api::Object obj) {
      return AddObject(name, obj, options, &cluster, &node_names, &namespace_names, &pod_keys,
                       &bound_origins);
    });
    if (!s.ok()) return s;
  }
  // A bound pod must name a node that exists: the scheduler would account
  // its requests nowhere otherwise.
  for (size_t i = 0; i < cluster.bound_pods.size(); ++i) {
    const model::Pod& pod = *cluster.bound_pods[i];
    if (!node_names.contains(pod.node_name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          bound_origins[i], ": spec.nodeName: node \"", pod.node_name, "\" not found"));
    }
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
