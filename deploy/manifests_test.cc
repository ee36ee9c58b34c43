// The manifests in deploy/ parse, and what they run is what the issue asks
// for: the scheduler configuration in each ConfigMap loads and validates
// through scheduler::LoadConfig (what `kestrel scheduler --config=` reads)
// and config::LeaderElectionFromConfig, the profile and Lease match the
// variant, and the Deployment has the probes, resources, priority and
// security settings of a control-plane component.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/config/leader_election.h"
#include "deploy/manifest.h"
#include "gtest/gtest.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

namespace kestrel::deploy {
namespace {

std::string Scalar(const YAML::Node& node) { return node && node.IsScalar() ? node.Scalar() : ""; }

// Every deploy/*.yaml in the runfiles, so a new manifest is checked too.
std::vector<std::string> ManifestFiles() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator("deploy")) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ManifestsTest, EveryDocumentHasApiVersionKindAndName) {
  const std::vector<std::string> files = ManifestFiles();
  EXPECT_EQ(files, (std::vector<std::string>{"deploy/kestrel-scheduler.yaml",
                                             "deploy/kestrel-second-scheduler.yaml"}));
  for (const std::string& file : files) {
    absl::StatusOr<Manifest> m = ReadManifest(file);
    ASSERT_TRUE(m.ok()) << m.status();
    std::vector<std::string> kinds;
    for (const Document& d : m->documents) kinds.push_back(d.kind);
    EXPECT_EQ(kinds, (std::vector<std::string>{"ServiceAccount", "ClusterRoleBinding",
                                               "ClusterRoleBinding", "ClusterRole",
                                               "ClusterRoleBinding", "ConfigMap", "Deployment"}))
        << file;
    for (const Document& d : m->documents) {
      const bool cluster_scoped = d.kind == "ClusterRole" || d.kind == "ClusterRoleBinding";
      EXPECT_EQ(d.namespace_, cluster_scoped ? "" : "kube-system")
          << file << ": document " << d.index << " (" << d.kind << " " << d.name << ")";
    }
  }
}

struct Variant {
  std::string path;
  std::string scheduler_name;
  std::string lease_name;
  bool rescheduler;
  bool control_plane;  // runs on control-plane nodes only
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.path; }

class VariantTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    absl::StatusOr<Manifest> m = ReadManifest(GetParam().path);
    ASSERT_TRUE(m.ok()) << m.status();
    m_ = *std::move(m);
  }
  Manifest m_;
};

// Writes the ConfigMap's file where LoadConfig can read it, under the name
// the Deployment gives it, and loads it as `kestrel scheduler` does.
TEST_P(VariantTest, ConfigLoadsAndValidatesAsKestrelLoadsIt) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::filesystem::path dir = std::filesystem::path(tmp) / GetParam().lease_name;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "config.yaml").string();
  {
    std::ofstream out(path);
    out << m_.config_yaml;
  }
  absl::StatusOr<config::KubeSchedulerConfiguration> cfg =
      scheduler::LoadConfig(path, scheduler::InTreeRegistry());
  ASSERT_TRUE(cfg.ok()) << GetParam().path << ": " << cfg.status();
  ASSERT_EQ(cfg->profiles_size(), 1);
  EXPECT_EQ(cfg->profiles(0).schedulername(), GetParam().scheduler_name);
  EXPECT_EQ(cfg->clientconnection().qps(), 50);
  EXPECT_EQ(cfg->clientconnection().burst(), 100);

  absl::StatusOr<config::LeaderElectionSettings> le =
      config::LeaderElectionFromConfig(*cfg, path);
  ASSERT_TRUE(le.ok()) << le.status();
  EXPECT_TRUE(le->leader_elect);
  EXPECT_EQ(le->resource_lock, "leases");
  EXPECT_EQ(le->resource_name, GetParam().lease_name);
  EXPECT_EQ(le->resource_namespace, "kube-system");
  EXPECT_EQ(m_.lease_name, GetParam().lease_name);
  EXPECT_EQ(m_.lease_namespace, "kube-system");
}

TEST_P(VariantTest, DeploymentRunsKestrelScheduler) {
  EXPECT_EQ(m_.service_account, "kestrel-scheduler");
  EXPECT_EQ(m_.deployment_namespace, "kube-system");
  std::vector<std::string> want = {"/usr/local/bin/kestrel", "scheduler",
                                   "--config=/etc/kestrel/config.yaml", "--leader-elect=true",
                                   "--v=2"};
  if (GetParam().rescheduler) want.push_back("--rescheduler");
  EXPECT_EQ(m_.command, want);
  EXPECT_EQ(HasFlag(m_, "--rescheduler"), GetParam().rescheduler);
  EXPECT_EQ(Scalar(m_.container["image"]), "kestrel:latest");

  const YAML::Node spec = m_.deployment["spec"];
  EXPECT_EQ(Scalar(spec["replicas"]), "2");
  const YAML::Node pod = spec["template"]["spec"];
  EXPECT_EQ(Scalar(pod["priorityClassName"]), "system-cluster-critical");
  EXPECT_EQ(Scalar(pod["securityContext"]["runAsNonRoot"]), "true");
  EXPECT_NE(Scalar(pod["securityContext"]["runAsUser"]), "0");
  EXPECT_EQ(Scalar(m_.container["securityContext"]["allowPrivilegeEscalation"]), "false");
  EXPECT_EQ(Scalar(m_.container["resources"]["requests"]["cpu"]), "100m");
  EXPECT_EQ(Scalar(m_.container["resources"]["requests"]["memory"]), "256Mi");

  for (const auto& [probe, path] : {std::pair<const char*, const char*>{"livenessProbe", "/livez"},
                                    {"readinessProbe", "/readyz"}}) {
    SCOPED_TRACE(probe);
    const YAML::Node get = m_.container[probe]["httpGet"];
    EXPECT_EQ(Scalar(get["path"]), path);
    EXPECT_EQ(Scalar(get["port"]), "10259");
    EXPECT_EQ(Scalar(get["scheme"]), "HTTPS");
  }
  EXPECT_EQ(Scalar(m_.container["ports"][0]["containerPort"]), "10259");

  // The pod template's labels are what the selector selects.
  EXPECT_EQ(Scalar(spec["selector"]["matchLabels"]["app.kubernetes.io/name"]),
            Scalar(spec["template"]["metadata"]["labels"]["app.kubernetes.io/name"]));
}

TEST_P(VariantTest, ControlPlaneNodesOnlyWhenReplacing) {
  const YAML::Node pod = m_.deployment["spec"]["template"]["spec"];
  const YAML::Node selector = pod["nodeSelector"];
  const YAML::Node tolerations = pod["tolerations"];
  if (!GetParam().control_plane) {
    EXPECT_FALSE(selector.IsDefined() && !selector.IsNull());
    EXPECT_FALSE(tolerations.IsDefined() && !tolerations.IsNull());
    return;
  }
  ASSERT_TRUE(selector.IsMap());
  EXPECT_EQ(selector.size(), 1u);
  EXPECT_TRUE(selector["node-role.kubernetes.io/control-plane"].IsDefined());
  bool tolerates = false;
  for (size_t i = 0; tolerations.IsSequence() && i < tolerations.size(); ++i) {
    if (Scalar(tolerations[i]["key"]) == "node-role.kubernetes.io/control-plane" &&
        Scalar(tolerations[i]["operator"]) == "Exists" &&
        Scalar(tolerations[i]["effect"]) == "NoSchedule") {
      tolerates = true;
    }
  }
  EXPECT_TRUE(tolerates) << "no toleration of the control-plane taint";
}

INSTANTIATE_TEST_SUITE_P(
    Deploy, VariantTest,
    ::testing::Values(Variant{"deploy/kestrel-scheduler.yaml", "default-scheduler",
                              "kube-scheduler", true, true},
                      Variant{"deploy/kestrel-second-scheduler.yaml", "kestrel", "kestrel",
                              false, false}),
    [](const ::testing::TestParamInfo<Variant>& info) {
      return info.param.control_plane ? std::string("Replacing") : std::string("Second");
    });

// ParseManifest's errors name the file, the document and the field.
TEST(ParseManifestTest, RejectsBrokenManifests) {
  const std::string deployment =
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: kube-system}\n"
      "spec:\n  template:\n    spec:\n      serviceAccountName: sa\n      containers:\n"
      "      - name: c\n        command: [kestrel, scheduler, --config=/etc/kestrel/config.yaml]\n"
      "        volumeMounts: [{name: config, mountPath: /etc/kestrel}]\n"
      "      volumes: [{name: config, configMap: {name: cm}}]\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a: [", "m.yaml:1:"},
      {"apiVersion: v1\nkind: ConfigMap\n",
       "m.yaml: document 1 (ConfigMap): metadata.name: Required value"},
      {"kind: ConfigMap\nmetadata: {name: x}\n", "m.yaml: document 1: apiVersion: Required value"},
      {"apiVersion: v1\nmetadata: {name: x}\n", "m.yaml: document 1: kind: Required value"},
      {"- a\n", "m.yaml: document 1: not an object"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "m.yaml: no Deployment"},
      {deployment + "---\n" + deployment,
       "m.yaml: Deployment \"d\" (document 2): want one Deployment, found a second"},
      {deployment,
       "m.yaml: Deployment \"kube-system/d\": --config=/etc/kestrel/config.yaml: no ConfigMap "
       "\"kube-system/cm\" with key config.yaml in the file"},
      {deployment + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: "
                    "kube-system}\ndata: {other.yaml: x}\n",
       "m.yaml: ConfigMap \"kube-system/cm\": data.config.yaml: Required value"},
  };
  for (const auto& [content, error] : cases) {
    SCOPED_TRACE(content);
    absl::StatusOr<Manifest> m = ParseManifest("m.yaml", content);
    ASSERT_FALSE(m.ok());
    EXPECT_TRUE(absl::StartsWith(m.status().message(), error)) << m.status();
  }
}

}  // namespace
}  // namespace kestrel::deploy
