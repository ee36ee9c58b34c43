// File: manifest.h
//
// Reads one of deploy/'s manifest files (a multi-document YAML stream) into
// what the deploy tests check: every document with its apiVersion, kind and
// name, the Deployment that runs `kestrel scheduler` (its ServiceAccount and
// command line), and the scheduler configuration file it is given: the
// ConfigMap key mounted where its --config= flag points.
//
// Example:
//   ASSIGN_OR_RETURN(Manifest m, ReadManifest("deploy/kestrel-scheduler.yaml"));
//   m.service_account;  // "kestrel-scheduler"
//   m.config_yaml;      // the KubeSchedulerConfiguration text
//   HasFlag(m, "--rescheduler");

#ifndef KESTREL_DEPLOY_MANIFEST_H_
#define KESTREL_DEPLOY_MANIFEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::deploy {

struct Document {
  int index = 0;  // 1-based, in the stream
  std::string api_version;
  std::string kind;
  std::string name;
  std::string namespace_;
  YAML::Node node;
};

struct Manifest {
  std::string path;
  std::vector<Document> documents;
  // The one Deployment, and its one container.
  YAML::Node deployment;
  YAML::Node container;
  std::string deployment_namespace;
  std::string service_account;
  std::vector<std::string> command;  // command, then args
  // The --config= flag, the ConfigMap mounted at its directory, and the
  // file's text (the ConfigMap's key of the flag's base name).
  std::string config_path;
  std::string config_map;
  std::string config_yaml;
  // The config's leaderElection.resourceName and resourceNamespace, with
  // upstream's defaults (kube-scheduler, kube-system).
  std::string lease_name;
  std::string lease_namespace;
};

// ParseManifest()
//
// InvalidArgument naming `file_name` (and the document, the object and the
// field) for YAML that does not parse, a document without apiVersion, kind
// or metadata.name, not exactly one Deployment with one container, or a
// --config= flag whose file no ConfigMap in the stream provides.
absl::StatusOr<Manifest> ParseManifest(absl::string_view file_name, absl::string_view content);
absl::StatusOr<Manifest> ReadManifest(const std::string& path);

// Whether the container's command line has `flag` bare or as `flag=true`.
bool HasFlag(const Manifest& manifest, absl::string_view flag);

}  // namespace kestrel::deploy

#endif  // KESTREL_DEPLOY_MANIFEST_H_
