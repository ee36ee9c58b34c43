// DefaultPod: each rule of SetDefaults_Pod, ContainerPort, SetDefaults_PodSpec
// and DefaultTolerationSeconds that a scheduler reads, on pods written as
// YAML; and that applying it again changes nothing.

#include "api/defaults.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
using ::google::protobuf::util::MessageDifferencer;

// What DefaultTolerationSeconds appends to a pod that tolerates neither taint.
constexpr char kDefaultTolerations[] =
    "tolerations:\n"
    "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute,"
    " tolerationSeconds: 300}\n"
    "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute,"
    " tolerationSeconds: 300}\n";

// A pod whose spec is `spec` (block style, two-space indented entries).
std::string PodYaml(const std::string& spec, const std::string& annotations = "") {
  return absl::StrCat("metadata:\n  name: p\n  namespace: default\n",
                      annotations.empty() ? "" : absl::StrCat("  annotations: ", annotations, "\n"),
                      "spec:\n", spec);
}

// `spec` with the schedulerName and tolerations every pod below gets.
std::string Defaulted(const std::string& spec) {
  return absl::StrCat(spec, "  schedulerName: default-scheduler\n  ", kDefaultTolerations);
}

struct Case {
  std::string name;
  std::string input;  // pod YAML
  std::string want;   // pod YAML
  bool alpha_annotations = true;
};

v1::Pod Decode(const std::string& yaml, const std::string& what) {
  v1::Pod pod;
  absl::Status s = DecodeInto(yaml, &pod, what);
  EXPECT_TRUE(s.ok()) << s;
  return pod;
}

TEST(DefaultPodTest, Rules) {
  const std::string kAlphaName = "{scheduler.alpha.kubernetes.io/name: my-scheduler}";
  const std::string kAlphaTolerations =
      "{scheduler.alpha.kubernetes.io/tolerations: '[{\"key\": \"dedicated\", \"operator\": "
      "\"Exists\"}]'}";
  const std::vector<Case> cases = {
      {"limits only: requests from limits",
       PodYaml("  containers:\n  - {name: c, resources: {limits: {cpu: 800m, memory: 1Gi}}}\n"),
       PodYaml(Defaulted("  containers:\n  - {name: c, resources: {limits: {cpu: 800m, memory: "
                         "1Gi}, requests: {cpu: 800m, memory: 1Gi}}}\n"))},
      {"limits with partial requests: the request set is kept",
       PodYaml("  containers:\n  - {name: c, resources: {limits: {cpu: 200m, memory: 1Gi}, "
               "requests: {cpu: 100m}}}\n"),
       PodYaml(Defaulted("  containers:\n  - {name: c, resources: {limits: {cpu: 200m, memory: "
                         "1Gi}, requests: {cpu: 100m, memory: 1Gi}}}\n"))},
      {"extended resources and a second container",
       PodYaml("  containers:\n  - {name: a, resources: {requests: {cpu: 100m}}}\n"
               "  - {name: b, resources: {limits: {example.com/gpu: \"1\"}}}\n"),
       PodYaml(Defaulted("  containers:\n  - {name: a, resources: {requests: {cpu: 100m}}}\n"
                         "  - {name: b, resources: {limits: {example.com/gpu: \"1\"}, requests: "
                         "{example.com/gpu: \"1\"}}}\n"))},
      {"init containers and sidecars",
       PodYaml("  initContainers:\n  - {name: i, resources: {limits: {cpu: \"2\"}}}\n"
               "  - {name: s, restartPolicy: Always, resources: {limits: {memory: 64Mi}}}\n"
               "  containers:\n  - {name: c}\n"),
       PodYaml(Defaulted("  initContainers:\n  - {name: i, resources: {limits: {cpu: \"2\"}, "
                         "requests: {cpu: \"2\"}}}\n"
                         "  - {name: s, restartPolicy: Always, resources: {limits: {memory: "
                         "64Mi}, requests: {memory: 64Mi}}}\n"
                         "  containers:\n  - {name: c}\n"))},
      {"port protocol defaults to TCP, in init containers too",
       PodYaml("  initContainers:\n  - {name: i, ports: [{containerPort: 70}]}\n"
               "  containers:\n  - {name: c, ports: [{containerPort: 80}, {containerPort: 53, "
               "protocol: UDP}]}\n"),
       PodYaml(Defaulted("  initContainers:\n  - {name: i, ports: [{containerPort: 70, protocol: "
                         "TCP}]}\n"
                         "  containers:\n  - {name: c, ports: [{containerPort: 80, protocol: TCP}, "
                         "{containerPort: 53, protocol: UDP}]}\n"))},
      {"host network: container ports are host ports",
       PodYaml("  hostNetwork: true\n"
               "  initContainers:\n  - {name: i, ports: [{containerPort: 70, protocol: TCP}]}\n"
               "  containers:\n  - {name: c, ports: [{containerPort: 80, protocol: TCP}, "
               "{containerPort: 81, hostPort: 9090, protocol: TCP}]}\n"),
       PodYaml(Defaulted("  hostNetwork: true\n"
                         "  initContainers:\n  - {name: i, ports: [{containerPort: 70, hostPort: "
                         "70, protocol: TCP}]}\n"
                         "  containers:\n  - {name: c, ports: [{containerPort: 80, hostPort: 80, "
                         "protocol: TCP}, {containerPort: 81, hostPort: 9090, protocol: TCP}]}\n"))},
      {"schedulerName set is kept",
       PodYaml("  schedulerName: my-scheduler\n  containers:\n  - {name: c}\n"),
       PodYaml(absl::StrCat("  schedulerName: my-scheduler\n  containers:\n  - {name: c}\n  ",
                            kDefaultTolerations))},
      {"alpha scheduler name annotation stands for schedulerName",
       PodYaml("  containers:\n  - {name: c}\n", kAlphaName),
       PodYaml(absl::StrCat("  containers:\n  - {name: c}\n  ", kDefaultTolerations), kAlphaName)},
      {"alpha scheduler name annotation, annotations off",
       PodYaml("  containers:\n  - {name: c}\n", kAlphaName),
       PodYaml(Defaulted("  containers:\n  - {name: c}\n"), kAlphaName), false},
      {"not-ready tolerated already: only unreachable is added",
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 60}\n"),
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 60}\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  schedulerName: default-scheduler\n")},
      {"unreachable tolerated for every effect: only not-ready is added",
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists}\n"),
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists}\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  schedulerName: default-scheduler\n")},
      {"empty key with NoExecute tolerates both",
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {operator: Exists, effect: NoExecute}\n"),
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {operator: Exists, effect: NoExecute}\n"
               "  schedulerName: default-scheduler\n")},
      {"NoSchedule tolerations do not count",
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {operator: Exists, effect: NoSchedule}\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}\n"),
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n"
               "  - {operator: Exists, effect: NoSchedule}\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  schedulerName: default-scheduler\n")},
      {"alpha tolerations annotation stands for spec.tolerations",
       PodYaml("  containers:\n  - {name: c}\n", kAlphaTolerations),
       PodYaml("  containers:\n  - {name: c}\n  schedulerName: default-scheduler\n",
               kAlphaTolerations)},
      {"alpha tolerations annotation, annotations off",
       PodYaml("  containers:\n  - {name: c}\n", kAlphaTolerations),
       PodYaml(Defaulted("  containers:\n  - {name: c}\n"), kAlphaTolerations), false},
      {"alpha tolerations annotation beside spec.tolerations: the field wins",
       PodYaml("  containers:\n  - {name: c}\n  tolerations:\n  - {key: a, operator: Exists}\n",
               kAlphaTolerations),
       PodYaml(absl::StrCat("  containers:\n  - {name: c}\n  tolerations:\n"
                            "  - {key: a, operator: Exists}\n"
                            "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: "
                            "NoExecute, tolerationSeconds: 300}\n"
                            "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: "
                            "NoExecute, tolerationSeconds: 300}\n"
                            "  schedulerName: default-scheduler\n"),
               kAlphaTolerations)},
      // As `kubectl get pod -o yaml` shows a pod the API server created.
      {"already defaulted: unchanged",
       PodYaml("  containers:\n  - name: c\n    ports: [{containerPort: 80, protocol: TCP}]\n"
               "    resources: {limits: {cpu: 500m}, requests: {cpu: 500m}}\n"
               "  schedulerName: default-scheduler\n  tolerations:\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"),
       PodYaml("  containers:\n  - name: c\n    ports: [{containerPort: 80, protocol: TCP}]\n"
               "    resources: {limits: {cpu: 500m}, requests: {cpu: 500m}}\n"
               "  schedulerName: default-scheduler\n  tolerations:\n"
               "  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n"
               "  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
               "tolerationSeconds: 300}\n")},
  };
  for (const Case& c : cases) {
    v1::Pod pod = Decode(c.input, c.name + " (input)");
    const v1::Pod want = Decode(c.want, c.name + " (want)");
    DefaultingOptions options;
    options.alpha_annotations = c.alpha_annotations;
    DefaultPod(&pod, options);
    EXPECT_TRUE(MessageDifferencer::Equals(pod, want))
        << c.name << "\ngot:\n" << pod.DebugString() << "want:\n" << want.DebugString();
    // Idempotent: a pod read back from an API server is defaulted already.
    DefaultPod(&pod, options);
    EXPECT_TRUE(MessageDifferencer::Equals(pod, want))
        << c.name << " (again)\ngot:\n" << pod.DebugString() << "want:\n" << want.DebugString();
  }
}

}  // namespace
}  // namespace kestrel::api
