// `kestrel apiserver`'s logic (kube/testing/standalone.h): the listen
// address, reading objects from files, the kubeconfig, and a server started
// with files and finishing pods' deletions as a kubelet would.

#include "kube/testing/standalone.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/client.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string WriteTemp(const std::string& name, const std::string& content) {
  const std::string path = absl::StrCat(TempDir(), "/", name);
  std::ofstream(path) << content;
  return path;
}

struct ListenCase {
  std::string listen;
  int port;  // -1: refused
  std::string message;
};

TEST(ParseListenTest, LoopbackOnly) {
  const std::string loopback_only =
      "the in-memory API server listens on 127.0.0.1 only (it has no authentication); want "
      "127.0.0.1:PORT";
  const std::string bad_port = "want 127.0.0.1:PORT, PORT a number from 0 (any free port) to 65535";
  const std::vector<ListenCase> cases = {
      {"127.0.0.1:8080", 8080, ""},
      {"localhost:6443", 6443, ""},
      {"127.0.0.1:0", 0, ""},
      {"0.0.0.0:8080", -1, loopback_only},
      {"10.1.2.3:8080", -1, loopback_only},
      {":8080", -1, loopback_only},
      {"[::1]:8080", -1, loopback_only},
      {"127.0.0.1", -1, "want 127.0.0.1:PORT"},
      {"", -1, "want 127.0.0.1:PORT"},
      {"127.0.0.1:", -1, bad_port},
      {"127.0.0.1:http", -1, bad_port},
      {"127.0.0.1:65536", -1, bad_port},
      {"127.0.0.1:-1", -1, bad_port},
  };
  for (const ListenCase& c : cases) {
    absl::StatusOr<int> port = ParseListen(c.listen);
    if (c.port >= 0) {
      ASSERT_TRUE(port.ok()) << c.listen << ": " << port.status();
      EXPECT_EQ(*port, c.port) << c.listen;
      continue;
    }
    ASSERT_FALSE(port.ok()) << c.listen;
    EXPECT_EQ(port.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(port.status().message(),
              absl::StrCat("flag --listen: \"", c.listen, "\": ", c.message));
  }
}

constexpr char kStream[] = R"(# nodes and pods, with what the file leaves out
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {rack: 7, ssd: true, zone: "1"}
status:
  capacity: {cpu: 4, memory: 8Gi}
  allocatable: {cpu: 3.5, memory: 7Gi}
  nodeInfo: {kubeletVersion: v1.30.2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
---
apiVersion: apps/v1
kind: DeploymentList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  annotations: {replicas: 3}
spec:
  nodeSelector: {gpu: false}
  containers:
  - name: web
    image: nginx
    command: [nginx, -g, "daemon off;"]
    resources:
      requests: {cpu: 1, memory: 512Mi}
      limits: {cpu: 2}
---
)";

constexpr char kList[] = R"({
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "PodList", "items": [
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db-0", "namespace": "shop"},
       "spec": {"nodeName": "n1", "containers": [{"name": "db", "image": "postgres"}]},
       "status": {"phase": "Running", "podIP": "10.0.0.9"}}
    ]},
    {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
     "metadata": {"name": "db", "namespace": "shop"},
     "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "db"}}}}
  ]
})";

TEST(ReadObjectsTest, KeepsEveryFieldInFileOrderAndSkipsOtherKinds) {
  const std::string stream = WriteTemp("stream.yaml", kStream);
  const std::string list = WriteTemp("list.json", kList);
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<LoadedObject>> objects = ReadObjects({stream, list}, &warnings);
  ASSERT_TRUE(objects.ok()) << objects.status();
  std::vector<std::string> origins;
  for (const LoadedObject& o : *objects) origins.push_back(o.origin);
  EXPECT_EQ(origins, (std::vector<std::string>{
                         stream + ": Node n1",
                         stream + ": Pod shop/web-1",
                         list + ": Namespace shop",
                         list + ": Pod shop/db-0",
                         list + ": PodDisruptionBudget shop/db",
                     }));
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                stream + ": Service shop/web: v1 Service is not served by the in-memory API "
                         "server; skipped",
                stream + ": Deployment shop/web: apps/v1 Deployment is not served by the "
                         "in-memory API server; skipped",
            }));
  ASSERT_EQ(objects->size(), 5u);
  const json& node = (*objects)[0].object;
  // Label and quantity values are strings, as the API server keeps them.
  EXPECT_EQ(node["metadata"]["labels"], json({{"rack", "7"}, {"ssd", "true"}, {"zone", "1"}}));
  EXPECT_EQ(node["status"]["capacity"], json({{"cpu", "4"}, {"memory", "8Gi"}}));
  EXPECT_EQ(node["status"]["allocatable"]["cpu"], "3.5");
  EXPECT_EQ(node["status"]["nodeInfo"]["kubeletVersion"], "v1.30.2");
  const json& pod = (*objects)[1].object;
  EXPECT_EQ(pod["metadata"]["annotations"], json({{"replicas", "3"}}));
  EXPECT_EQ(pod["spec"]["nodeSelector"], json({{"gpu", "false"}}));
  const json& container = pod["spec"]["containers"][0];
  EXPECT_EQ(container["resources"]["requests"], json({{"cpu", "1"}, {"memory", "512Mi"}}));
  EXPECT_EQ(container["resources"]["limits"], json({{"cpu", "2"}}));
  // Fields the scheduler never reads come along too.
  EXPECT_EQ(container["command"], json({"nginx", "-g", "daemon off;"}));
  // A pod without a phase is Pending; a namespace without one Active.
  EXPECT_EQ(pod["status"], json({{"phase", "Pending"}}));
  EXPECT_EQ((*objects)[2].object["status"], json({{"phase", "Active"}}));
  // What a file says stays.
  EXPECT_EQ((*objects)[3].object["status"], json({{"phase", "Running"}, {"podIP", "10.0.0.9"}}));
  EXPECT_EQ((*objects)[4].object["spec"]["minAvailable"], 1);
}

TEST(ReadObjectsTest, ScalarsFollowYamlsCoreSchema) {
  const std::string path = WriteTemp("scalars.yaml", R"(
kind: Lease
apiVersion: coordination.k8s.io/v1
metadata: {name: l, namespace: kube-system}
spec:
  holderIdentity: "42"
  leaseDurationSeconds: 15
  leaseTransitions: ~
  renewTime: 2024-01-01T00:00:00.000000Z
)");
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<LoadedObject>> objects = ReadObjects({path}, &warnings);
  ASSERT_TRUE(objects.ok()) << objects.status();
  ASSERT_EQ(objects->size(), 1u);
  EXPECT_EQ((*objects)[0].object["spec"], json({{"holderIdentity", "42"},
                                                {"leaseDurationSeconds", 15},
                                                {"leaseTransitions", nullptr},
                                                {"renewTime", "2024-01-01T00:00:00.000000Z"}}));
  EXPECT_TRUE(warnings.empty());
}

struct BadInputCase {
  std::string name;
  std::string content;  // "": the file is missing
  absl::StatusCode code;
  std::string prefix;  // of the message, after the path
};

TEST(ReadObjectsTest, BadInputNamesTheFileObjectAndField) {
  const std::vector<BadInputCase> cases = {
      {"bad_quantity.yaml",
       "kind: Pod\napiVersion: v1\nmetadata: {name: p, namespace: default}\nspec:\n"
       "  containers:\n  - name: c\n    resources: {requests: {cpu: 1.5.5}}\n",
       absl::StatusCode::kInvalidArgument,
       ": Pod default/p: spec.containers[0].resources.requests.cpu: quantities must match the "
       "regular expression"},
      {"wrong_type.yaml",
       "kind: Node\napiVersion: v1\nmetadata: {name: n}\nspec: {unschedulable: 3}\n",
       absl::StatusCode::kInvalidArgument, ": Node n: spec.unschedulable: "},
      {"syntax.yaml", "kind: Node\nmetadata: {name: [\n", absl::StatusCode::kInvalidArgument,
       ":3:1: end of sequence flow not found"},
      {"missing.yaml", "", absl::StatusCode::kNotFound, ": no such file"},
  };
  for (const BadInputCase& c : cases) {
    const std::string path =
        c.content.empty() ? absl::StrCat(TempDir(), "/", c.name) : WriteTemp(c.name, c.content);
    std::vector<std::string> warnings;
    absl::StatusOr<std::vector<LoadedObject>> objects = ReadObjects({path}, &warnings);
    ASSERT_FALSE(objects.ok()) << c.name;
    EXPECT_EQ(objects.status().code(), c.code) << c.name << ": " << objects.status();
    EXPECT_TRUE(absl::StartsWith(objects.status().message(), path + c.prefix)) << objects.status();
  }
}

TEST(ReadObjectsTest, TheSmallClusterReadsTheSameAsYamlAndAsAList) {
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<LoadedObject>> yaml =
      ReadObjects({"testdata/small/cluster.yaml"}, &warnings);
  absl::StatusOr<std::vector<LoadedObject>> list =
      ReadObjects({"testdata/small/cluster.json"}, &warnings);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(yaml->size(), 17u);
  ASSERT_EQ(list->size(), yaml->size());
  for (size_t i = 0; i < yaml->size(); ++i) {
    EXPECT_EQ((*yaml)[i].object["kind"], (*list)[i].object["kind"]) << i;
    EXPECT_EQ((*yaml)[i].object["metadata"]["name"], (*list)[i].object["metadata"]["name"]) << i;
  }
}

TEST(KubeconfigTest, PointsKubectlAndKestrelAtTheServer) {
  const std::string text = Kubeconfig("http://127.0.0.1:8080");
  EXPECT_TRUE(absl::StrContains(text, "current-context: kestrel\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "    server: http://127.0.0.1:8080\n")) << text;
  const std::string path = WriteTemp("kubeconfig", text);
  absl::StatusOr<kube::Config> config = kube::LoadKubeconfig(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "http://127.0.0.1:8080");
  EXPECT_EQ(config->bearer_token, "");
}

std::unique_ptr<Standalone> StartOrDie(const StandaloneOptions& options, std::string* out,
                                       std::string* err) {
  std::ostringstream o, e;
  absl::StatusOr<std::unique_ptr<Standalone>> s = Standalone::Start(options, o, e);
  *out = o.str();
  *err = e.str();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(StandaloneTest, ServesTheLoadedObjectsAndWritesTheKubeconfig) {
  StandaloneOptions options;
  options.listen = "127.0.0.1:0";
  options.load = {WriteTemp("s1.yaml", kStream), WriteTemp("s2.json", kList)};
  options.kubeconfig_out = absl::StrCat(TempDir(), "/out.kubeconfig");
  std::remove(options.kubeconfig_out.c_str());
  std::string out, err;
  std::unique_ptr<Standalone> s = StartOrDie(options, &out, &err);
  ASSERT_NE(s, nullptr);
  const std::string url = s->server().url();
  EXPECT_EQ(out, absl::StrCat("kestrel apiserver: serving ", url,
                              " (in memory, loopback only)\n"
                              "kestrel apiserver: loaded 5 objects: 1 Node, 2 Pod, 1 Namespace, "
                              "1 PodDisruptionBudget\n"
                              "kestrel apiserver: kubeconfig written to ",
                              options.kubeconfig_out,
                              "; try\n"
                              "  kubectl --kubeconfig=",
                              options.kubeconfig_out,
                              " get nodes\n"
                              "kestrel apiserver: stop with Ctrl-C (SIGINT) or SIGTERM\n"));
  EXPECT_TRUE(absl::StrContains(err, "Service shop/web")) << err;

  absl::StatusOr<kube::Config> config = kube::LoadKubeconfig(options.kubeconfig_out);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, url);

  // Over HTTP, as any client sees them.
  httplib::Client client(url);
  httplib::Result pods = client.Get("/api/v1/namespaces/shop/pods");
  ASSERT_TRUE(pods);
  std::vector<std::string> names;
  const json pod_list = json::parse(pods->body);
  for (const json& p : pod_list["items"]) names.push_back(p["metadata"]["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"db-0", "web-1"}));
  // A new cluster's namespaces, and those the objects live in.
  httplib::Result namespaces = client.Get("/api/v1/namespaces");
  ASSERT_TRUE(namespaces);
  names.clear();
  const json namespace_list = json::parse(namespaces->body);
  for (const json& n : namespace_list["items"]) names.push_back(n["metadata"]["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"default", "kube-node-lease", "kube-public",
                                             "kube-system", "shop"}));
  absl::StatusOr<json> node = s->server().Get("Node", "", "n1");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)["status"]["allocatable"]["cpu"], "3.5");
}

TEST(StandaloneTest, WithoutAKubeconfigItSaysHowToReachTheServer) {
  StandaloneOptions options;
  options.listen = "localhost:0";
  std::string out, err;
  std::unique_ptr<Standalone> s = StartOrDie(options, &out, &err);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat("no --kubeconfig-out; try\n  kubectl --server=",
                                                  s->server().url(), " get nodes\n")))
      << out;
  EXPECT_EQ(err, "");
}

TEST(StandaloneTest, TickFinishesGracefulDeletions) {
  StandaloneOptions options;
  options.listen = "127.0.0.1:0";
  std::string out, err;
  std::unique_ptr<Standalone> s = StartOrDie(options, &out, &err);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->server()
                  .Create(R"({"kind":"Pod","metadata":{"name":"p","namespace":"default"},)"
                          R"("spec":{"nodeName":"n1"},"status":{"phase":"Running"}})")
                  .ok());
  httplib::Client client(s->server().url());
  httplib::Result deleted = client.Delete("/api/v1/namespaces/default/pods/p");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  // Bound and running: it stays, terminating, until the kubelet's part.
  ASSERT_TRUE(s->server().Get("Pod", "default", "p").ok());
  EXPECT_EQ(s->Tick(), 1);
  EXPECT_EQ(s->server().Get("Pod", "default", "p").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s->Tick(), 0);
  // A deletion after a quiet tick is still seen.
  EXPECT_EQ(s->Tick(), 0);
  ASSERT_TRUE(s->server()
                  .Create(R"({"kind":"Pod","metadata":{"name":"q","namespace":"default"},)"
                          R"("spec":{"nodeName":"n1"},"status":{"phase":"Running"}})")
                  .ok());
  deleted = client.Delete("/api/v1/namespaces/default/pods/q");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(s->Tick(), 1);
}

struct StartErrorCase {
  std::string name;
  StandaloneOptions options;
  absl::StatusCode code;
  std::string message;
};

TEST(StandaloneTest, RefusesBadOptionsAndInput) {
  const std::string dup1 =
      WriteTemp("dup1.yaml", "kind: Node\napiVersion: v1\nmetadata: {name: n1}\n");
  const std::string dup2 =
      WriteTemp("dup2.yaml", "kind: Node\napiVersion: v1\nmetadata: {name: n1}\n");
  const std::string old_pdb = WriteTemp(
      "old_pdb.yaml",
      "kind: PodDisruptionBudget\napiVersion: policy/v1beta1\nmetadata: {name: b, namespace: d}\n");
  const std::vector<StartErrorCase> cases = {
      {"everywhere",
       {"0.0.0.0:8080", {}, ""},
       absl::StatusCode::kInvalidArgument,
       "flag --listen: \"0.0.0.0:8080\": the in-memory API server listens on 127.0.0.1 only (it "
       "has no authentication); want 127.0.0.1:PORT"},
      {"twice",
       {"127.0.0.1:0", {dup1, dup2}, ""},
       absl::StatusCode::kAlreadyExists,
       dup2 + ": Node n1: nodes \"n1\" already exists"},
      {"another version",
       {"127.0.0.1:0", {old_pdb}, ""},
       absl::StatusCode::kInvalidArgument,
       old_pdb + ": PodDisruptionBudget d/b: Create: the API version of the object "
                 "(\"policy/v1beta1\") does not match the expected API version (policy/v1)"},
      {"kubeconfig in a missing folder",
       {"127.0.0.1:0", {}, "/nonexistent-folder/kubeconfig"},
       absl::StatusCode::kInvalidArgument,
       "flag --kubeconfig-out: cannot write /nonexistent-folder/kubeconfig: No such file or "
       "directory"},
  };
  for (const StartErrorCase& c : cases) {
    std::ostringstream out, err;
    absl::StatusOr<std::unique_ptr<Standalone>> s = Standalone::Start(c.options, out, err);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), c.code) << c.name << ": " << s.status();
    EXPECT_EQ(s.status().message(), c.message) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::kube::testing
