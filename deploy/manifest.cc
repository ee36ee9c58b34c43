#include "deploy/manifest.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/decode.h"

namespace kestrel::deploy {
namespace {

std::string ScalarOr(const YAML::Node& node, std::string fallback = "") {
  return node && node.IsScalar() ? node.Scalar() : fallback;
}

absl::Status Error(absl::string_view where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// The container's command and args as strings.
absl::StatusOr<std::vector<std::string>> CommandLine(const YAML::Node& container,
                                                     absl::string_view where) {
  std::vector<std::string> out;
  for (const char* field : {"command", "args"}) {
    const YAML::Node list = container[field];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) {
      return Error(where, absl::StrCat("spec.template.spec.containers[0].", field,
                                       ": must be a list of strings"));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].IsScalar()) {
        return Error(where, absl::StrCat("spec.template.spec.containers[0].", field, "[", i,
                                         "]: must be a string"));
      }
      out.push_back(list[i].Scalar());
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Manifest> ParseManifest(absl::string_view file_name, absl::string_view content) {
  Manifest m;
  m.path = std::string(file_name);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(content));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  int index = 0;
  for (const YAML::Node& node : docs) {
    ++index;
    if (!node || node.IsNull()) continue;
    const std::string where = absl::StrCat(file_name, ": document ", index);
    if (!node.IsMap()) return Error(where, "not an object");
    Document d;
    d.index = index;
    d.node = node;
    d.api_version = ScalarOr(node["apiVersion"]);
    d.kind = ScalarOr(node["kind"]);
    const YAML::Node metadata = node["metadata"];
    if (metadata && metadata.IsMap()) {
      d.name = ScalarOr(metadata["name"]);
      d.namespace_ = ScalarOr(metadata["namespace"]);
    }
    if (d.api_version.empty()) return Error(where, "apiVersion: Required value");
    if (d.kind.empty()) return Error(where, "kind: Required value");
    if (d.name.empty()) {
      return Error(absl::StrCat(where, " (", d.kind, ")"), "metadata.name: Required value");
    }
    m.documents.push_back(std::move(d));
  }

  const Document* deployment = nullptr;
  for (const Document& d : m.documents) {
    if (d.kind != "Deployment") continue;
    if (deployment != nullptr) {
      return Error(file_name, absl::StrCat("Deployment \"", d.name, "\" (document ", d.index,
                                           "): want one Deployment, found a second"));
    }
    deployment = &d;
  }
  if (deployment == nullptr) return Error(file_name, "no Deployment");
  const std::string where = absl::StrCat(file_name, ": Deployment \"", deployment->namespace_,
                                         "/", deployment->name, "\"");
  m.deployment = deployment->node;
  m.deployment_namespace = deployment->namespace_;
  const YAML::Node pod = deployment->node["spec"]["template"]["spec"];
  if (!pod || !pod.IsMap()) return Error(where, "spec.template.spec: Required value");
  m.service_account = ScalarOr(pod["serviceAccountName"]);
  if (m.service_account.empty()) {
    return Error(where, "spec.template.spec.serviceAccountName: Required value");
  }
  const YAML::Node containers = pod["containers"];
  if (!containers || !containers.IsSequence() || containers.size() != 1) {
    return Error(where, "spec.template.spec.containers: want exactly one container");
  }
  m.container = containers[0];
  absl::StatusOr<std::vector<std::string>> command = CommandLine(m.container, where);
  if (!command.ok()) return command.status();
  m.command = *std::move(command);

  for (const std::string& arg : m.command) {
    absl::string_view v = arg;
    if (absl::ConsumePrefix(&v, "--config=")) m.config_path = std::string(v);
  }
  if (m.config_path.empty()) return Error(where, "the container has no --config= flag");
  const size_t slash = m.config_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : m.config_path.substr(0, slash);
  const std::string key = m.config_path.substr(slash == std::string::npos ? 0 : slash + 1);

  // The volume mounted at the flag's directory, and the ConfigMap behind it.
  std::string volume;
  const YAML::Node mounts = m.container["volumeMounts"];
  for (size_t i = 0; mounts && mounts.IsSequence() && i < mounts.size(); ++i) {
    if (ScalarOr(mounts[i]["mountPath"]) == dir) volume = ScalarOr(mounts[i]["name"]);
  }
  if (volume.empty()) {
    return Error(where, absl::StrCat("--config=", m.config_path, ": no volumeMount at ", dir));
  }
  const YAML::Node volumes = pod["volumes"];
  for (size_t i = 0; volumes && volumes.IsSequence() && i < volumes.size(); ++i) {
    if (ScalarOr(volumes[i]["name"]) == volume) {
      m.config_map = ScalarOr(volumes[i]["configMap"]["name"]);
    }
  }
  if (m.config_map.empty()) {
    return Error(where, absl::StrCat("volume \"", volume, "\": not a configMap volume"));
  }
  for (const Document& d : m.documents) {
    if (d.kind != "ConfigMap" || d.name != m.config_map ||
        d.namespace_ != m.deployment_namespace) {
      continue;
    }
    const YAML::Node value = d.node["data"][key];
    if (!value || !value.IsScalar()) {
      return Error(file_name, absl::StrCat("ConfigMap \"", d.namespace_, "/", d.name,
                                           "\": data.", key, ": Required value"));
    }
    m.config_yaml = value.Scalar();
  }
  if (m.config_yaml.empty()) {
    return Error(where, absl::StrCat("--config=", m.config_path, ": no ConfigMap \"",
                                     m.deployment_namespace, "/", m.config_map, "\" with key ",
                                     key, " in the file"));
  }

  // upstream's v1 defaults for the lease.
  m.lease_name = "kube-scheduler";
  m.lease_namespace = "kube-system";
  try {
    const YAML::Node config = YAML::Load(m.config_yaml);
    const YAML::Node le = config["leaderElection"];
    if (le && le.IsMap()) {
      m.lease_name = ScalarOr(le["resourceName"], m.lease_name);
      m.lease_namespace = ScalarOr(le["resourceNamespace"], m.lease_namespace);
    }
  } catch (const YAML::Exception& e) {
    return Error(absl::StrCat(file_name, ": ConfigMap \"", m.deployment_namespace, "/",
                              m.config_map, "\": data.", key),
                 e.msg);
  }
  return m;
}

absl::StatusOr<Manifest> ReadManifest(const std::string& path) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) return content.status();
  return ParseManifest(path, *content);
}

bool HasFlag(const Manifest& manifest, absl::string_view flag) {
  for (const std::string& arg : manifest.command) {
    if (arg == flag || arg == absl::StrCat(flag, "=true")) return true;
  }
  return false;
}

}  // namespace kestrel::deploy
