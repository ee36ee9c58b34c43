// CompilePod / CompileNode against upstream semantics:
//   - requests: k8s.io/component-helpers resource.PodRequests (sum of app
//     containers and sidecars, max'ed with each init container, plus
//     overhead), rounded once per pod as Quantity arithmetic does;
//   - non-zero requests: the same with pkg/scheduler/util defaults (100m cpu,
//     200Mi memory) for containers where the key is absent;
//   - validation messages: pkg/apis/core/validation field paths and wording.
// Pods and nodes are written as YAML and decoded with api::DecodeObjects, as
// the simulator reads them.

#include "model/compile.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::model {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

// Decodes one object of `kind` from `yaml`.
template <typename T>
T Decode(const std::string& yaml, const std::string& kind) {
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects("test.yaml", yaml);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok() || objects->size() != 1 || (*objects)[0].kind != kind) {
    ADD_FAILURE() << "want one " << kind << " in:\n" << yaml;
    return T();
  }
  return static_cast<const T&>(*(*objects)[0].message);
}

// A Pod "ns/p" with `spec` (YAML, indented by two spaces) as its spec.
v1::Pod PodWithSpec(const std::string& spec) {
  return Decode<v1::Pod>(
      absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n", spec),
      "Pod");
}

v1::Node NodeFromYaml(const std::string& yaml) {
  return Decode<v1::Node>(absl::StrCat("apiVersion: v1\nkind: Node\n", yaml), "Node");
}

// ---------------------------------------------------------------------------
// Requests.

struct RequestsCase {
  std::string name;
  std::string spec;
  int64_t milli_cpu;
  int64_t memory;
  int64_t non_zero_milli_cpu;
  int64_t non_zero_memory;
  int64_t ephemeral_storage = 0;
  // Some container names no cpu request, so the 100m default applies.
  bool cpu_defaulted = false;
};

void PrintTo(const RequestsCase& c, std::ostream* os) { *os << c.name; }

class RequestsTest : public ::testing::TestWithParam<RequestsCase> {};

TEST_P(RequestsTest, MatchesUpstreamPodRequests) {
  const RequestsCase& c = GetParam();
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(c.spec), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->requests.milli_cpu, c.milli_cpu);
  EXPECT_EQ((*pod)->requests.memory, c.memory);
  EXPECT_EQ((*pod)->requests.ephemeral_storage, c.ephemeral_storage);
  EXPECT_EQ((*pod)->non_zero_memory, c.non_zero_memory);
}

TEST_P(RequestsTest, NonZeroCpu) {
  const RequestsCase& c = GetParam();
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(c.spec), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->non_zero_milli_cpu, c.non_zero_milli_cpu);
}

INSTANTIATE_TEST_SUITE_P(
    Compile, RequestsTest,
    ::testing::Values(
        RequestsCase{"OneContainer", R"(
  containers:
  - {name: a, resources: {requests: {cpu: 100m, memory: 128Mi}}})",
                     100, 128 * kMi, 100, 128 * kMi},
        RequestsCase{"ContainersAreSummed", R"(
  containers:
  - {name: a, resources: {requests: {cpu: 250m, memory: 1Gi}}}
  - {name: b, resources: {requests: {cpu: "0.5", memory: 1.5Gi}}})",
                     750, kGi + 3 * kGi / 2, 750, kGi + 3 * kGi / 2},
        // No requests: zero, and the non-zero defaults for scoring.
        RequestsCase{"NoRequests", R"(
  containers:
  - {name: a})",
                     0, 0, 100, 200 * kMi, 0, true},
        // An explicit "0" is a request: the defaults apply to absent keys only.
        RequestsCase{"ExplicitZeroStaysZero", R"(
  containers:
  - {name: a, resources: {requests: {cpu: "0", memory: "0"}}})",
                     0, 0, 0, 0},
        RequestsCase{"OnlyCpuSet", R"(
  containers:
  - {name: a, resources: {requests: {cpu: 200m}}})",
                     200, 0, 200, 200 * kMi},
        // Defaults are per container: one empty container adds 100m / 200Mi.
        RequestsCase{"DefaultsPerContainer", R"(
  containers:
  - {name: a, resources: {requests: {cpu: "1", memory: 1Gi}}}
  - {name: b})",
                     1000, kGi, 1100, kGi + 200 * kMi, 0, true},
        // Each init container alone against the sum of app containers.
        RequestsCase{"InitContainersMaxed", R"(
  initContainers:
  - {name: i1, resources: {requests: {cpu: "2", memory: 512Mi}}}
  - {name: i2, resources: {requests: {cpu: 500m, memory: 3Gi}}}
  containers:
  - {name: a, resources: {requests: {cpu: "1", memory: 1Gi}}})",
                     2000, 3 * kGi, 2000, 3 * kGi},
        RequestsCase{"InitSmallerThanSum", R"(
  initContainers:
  - {name: i1, resources: {requests: {cpu: "1"}}}
  containers:
  - {name: a, resources: {requests: {cpu: 800m}}}
  - {name: b, resources: {requests: {cpu: 800m}}})",
                     1600, 0, 1600, 400 * kMi},
        // Non-zero defaults apply to init containers too: an init container
        // with no memory request counts as 200Mi, but max'ed, not summed.
        RequestsCase{"InitContainerNonZero", R"(
  initContainers:
  - {name: i1, resources: {requests: {cpu: "3"}}}
  containers:
  - {name: a, resources: {requests: {memory: 1Gi}}})",
                     3000, kGi, 3000, kGi, 0, true},
        // A sidecar (restartPolicy: Always) runs beside the app containers
        // and beside every init container that follows it.
        //   sum   = app + sidecar                = 1500m, 768Mi
        //   init  = max(sidecar, i2 + sidecar)   = 1500m, 1280Mi
        RequestsCase{"SidecarAddsToSumAndLaterInits", R"(
  initContainers:
  - {name: side, restartPolicy: Always, resources: {requests: {cpu: 500m, memory: 256Mi}}}
  - {name: i2, resources: {requests: {cpu: "1", memory: 1Gi}}}
  containers:
  - {name: a, resources: {requests: {cpu: "1", memory: 512Mi}}})",
                     1500, 1280 * kMi, 1500, 1280 * kMi},
        // An init container before the sidecar does not run beside it:
        // max(2000, 500 + 1000) = 2000, not 2500.
        RequestsCase{"SidecarNotAddedToEarlierInits", R"(
  initContainers:
  - {name: i1, resources: {requests: {cpu: "2", memory: 1Mi}}}
  - {name: side, restartPolicy: Always, resources: {requests: {cpu: 500m, memory: 1Mi}}}
  containers:
  - {name: a, resources: {requests: {cpu: "1", memory: 1Mi}}})",
                     2000, 2 * kMi, 2000, 2 * kMi},
        RequestsCase{"OverheadAdded", R"(
  overhead: {cpu: 250m, memory: 120Mi}
  containers:
  - {name: a, resources: {requests: {cpu: "1", memory: 1Gi}}})",
                     1250, kGi + 120 * kMi, 1250, kGi + 120 * kMi},
        // Overhead is added after the defaults, to both forms.
        RequestsCase{"OverheadWithDefaults", R"(
  overhead: {cpu: 250m, memory: 120Mi}
  containers:
  - {name: a})",
                     250, 120 * kMi, 350, 320 * kMi, 0, true},
        // Quantities round up to whole units once per pod: 0.1 byte -> 1.
        RequestsCase{"MilliMemoryRoundsUp", R"(
  containers:
  - {name: a, resources: {requests: {cpu: "0.0001", memory: 100m}}})",
                     1, 1, 1, 1},
        // ... once per pod, not per container: 0.5 + 0.5 byte = 1 byte, not 2.
        RequestsCase{"RoundedAfterSum", R"(
  containers:
  - {name: a, resources: {requests: {memory: 500m}}}
  - {name: b, resources: {requests: {memory: 500m}}})",
                     0, 1, 200, 1, 0, true},
        RequestsCase{"EphemeralStorage", R"(
  containers:
  - {name: a, resources: {requests: {ephemeral-storage: 2Gi}}}
  initContainers:
  - {name: i, resources: {requests: {ephemeral-storage: 3Gi}}})",
                     0, 0, 100, 200 * kMi, 3 * kGi, true}),
    [](const ::testing::TestParamInfo<RequestsCase>& info) { return info.param.name; });

// Upstream sums the containers' Quantities exactly and converts to
// millicores once (resource.PodRequests, then Resource.Add: MilliValue()),
// so 0.4m + 0.4m = 0.8m -> 1m, not 1m + 1m.
TEST(RequestsTest, SubMilliCpuRoundedOncePerPod) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  containers:
  - {name: a, resources: {requests: {cpu: "0.0004"}}}
  - {name: b, resources: {requests: {cpu: "0.0004"}}})"),
                                          names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->requests.milli_cpu, 1);
}

TEST(RequestsTest, ExtendedResourcesAndHugepagesAreScalars) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  initContainers:
  - {name: i, resources: {requests: {example.com/gpu: "4"}, limits: {example.com/gpu: "4"}}}
  containers:
  - name: a
    resources:
      requests: {example.com/gpu: "2", hugepages-2Mi: 4Mi, cpu: "1"}
      limits: {example.com/gpu: "2", hugepages-2Mi: 4Mi}
  - name: b
    resources:
      requests: {example.com/gpu: "1", fpga.kubernetes.io/slots: 500m}
      limits: {example.com/gpu: "1"})"),
                                          names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const Resources& r = (*pod)->requests;
  const Id gpu = names.Find("example.com/gpu");
  const Id hugepages = names.Find("hugepages-2Mi");
  const Id fpga = names.Find("fpga.kubernetes.io/slots");
  ASSERT_NE(gpu, kNoId);
  ASSERT_NE(hugepages, kNoId);
  ASSERT_NE(fpga, kNoId);
  EXPECT_EQ(r.Scalar(gpu), 4);  // max(init 4, sum 2 + 1)
  EXPECT_EQ(r.Scalar(hugepages), 4 * kMi);
  // 0.5 rounds up to a whole unit (a prefixed native resource may be
  // fractional; an extended one may not).
  EXPECT_EQ(r.Scalar(fpga), 1);
  EXPECT_EQ(r.milli_cpu, 1000);
  EXPECT_EQ(r.memory, 0);
  EXPECT_EQ(r.scalar.size(), 3u);
}

// ---------------------------------------------------------------------------
// Metadata and defaults.

TEST(CompilePodTest, Defaults) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(
      Decode<v1::Pod>("apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n"
                      "  containers: [{name: a}]\n",
                      "Pod"),
      names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->ns, "default");
  EXPECT_EQ((*pod)->Key(), "default/solo");
  EXPECT_EQ((*pod)->scheduler_name, "default-scheduler");
  EXPECT_EQ((*pod)->node_name, "");
  EXPECT_EQ((*pod)->preemption_policy, PreemptionPolicy::kPreemptLowerPriority);
  EXPECT_FALSE((*pod)->required_node_affinity.has_value());
  EXPECT_TRUE((*pod)->node_selector.empty());
}

// Drain flags pods with node-local data: only emptyDir volumes are kept.
TEST(CompilePodTest, EmptyDirVolumes) {
  Interner names;
  absl::StatusOr<PodPtr> pod =
      CompilePod(PodWithSpec("  containers: [{name: a}]\n"
                             "  volumes:\n"
                             "  - {name: scratch, emptyDir: {}}\n"
                             "  - {name: conf, secret: {secretName: s}}\n"
                             "  - {name: cache, emptyDir: {medium: Memory}}\n"),
                 names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->empty_dir_volumes, (std::vector<std::string>{"scratch", "cache"}));
}

TEST(CompilePodTest, MissingNameIsAnError) {
  Interner names;
  v1::Pod api = PodWithSpec("  containers: [{name: a}]\n");
  api.mutable_metadata()->clear_name();
  absl::StatusOr<PodPtr> pod = CompilePod(api, names);
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pod.status().message(), HasSubstr("Pod ns/: metadata.name: Required value"));
}

TEST(CompilePodTest, BadQuantityNamesTheField) {
  // The decoder validates quantities too; fill the proto directly to reach
  // the compiler's own check.
  Interner names;
  v1::Pod api = PodWithSpec("  containers: [{name: a}, {name: b}]\n");
  (*api.mutable_spec()->mutable_containers(1)->mutable_resources()->mutable_requests())["cpu"]
      .set_string("1.5.5");
  absl::StatusOr<PodPtr> pod = CompilePod(api, names);
  ASSERT_FALSE(pod.ok());
  EXPECT_THAT(pod.status().message(),
              HasSubstr("Pod ns/p: spec.containers[1].resources.requests[cpu]: Invalid value: "
                        "\"1.5.5\": quantities must match the regular expression"));
}

TEST(CompilePodTest, BadPreemptionPolicy) {
  Interner names;
  absl::StatusOr<PodPtr> pod =
      CompilePod(PodWithSpec("  preemptionPolicy: Sometimes\n  containers: [{name: a}]\n"), names);
  ASSERT_FALSE(pod.ok());
  EXPECT_THAT(pod.status().message(),
              HasSubstr("Pod ns/p: spec.preemptionPolicy: Unsupported value: \"Sometimes\""));
}

// ---------------------------------------------------------------------------
// Host ports.

TEST(CompilePodTest, HostPorts) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  containers:
  - name: a
    ports:
    - {containerPort: 80}
    - {containerPort: 8080, hostPort: 8080}
    - {containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 10.0.0.1}
    - {containerPort: 90, hostPort: 0}
  - name: b
    ports:
    - {containerPort: 9000, hostPort: 9000, protocol: SCTP})"),
                                          names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const std::vector<HostPort>& ports = (*pod)->host_ports;
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_EQ(ports[0].port, 8080);
  EXPECT_EQ(ports[0].protocol, Protocol::kTCP);
  EXPECT_EQ(ports[0].host_ip, "0.0.0.0");
  EXPECT_EQ(ports[1].port, 5353);
  EXPECT_EQ(ports[1].protocol, Protocol::kUDP);
  EXPECT_EQ(ports[1].host_ip, "10.0.0.1");
  EXPECT_EQ(ports[2].port, 9000);
  EXPECT_EQ(ports[2].protocol, Protocol::kSCTP);
  EXPECT_EQ(ports[2].host_ip, "0.0.0.0");
}

TEST(CompilePodTest, BadHostPortProtocol) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  containers:
  - name: a
    ports: [{containerPort: 1, hostPort: 1}, {containerPort: 2, hostPort: 2, protocol: HTTP}])"),
                                          names);
  ASSERT_FALSE(pod.ok());
  EXPECT_THAT(pod.status().message(),
              HasSubstr("Pod ns/p: spec.containers[0].ports[1].protocol: "
                        "Unsupported value: \"HTTP\""));
}

// ---------------------------------------------------------------------------
// Tolerations.

Taint MakeTaint(Interner& names, const std::string& key, const std::string& value,
                TaintEffect effect) {
  Taint t;
  t.key = key;
  t.value = value;
  t.key_id = names.Intern(key);
  if (!value.empty()) t.value_id = names.Intern(value);
  t.effect = effect;
  return t;
}

TEST(CompilePodTest, Tolerations) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  containers: [{name: a}]
  tolerations:
  - {operator: Exists}
  - {key: dedicated, value: gpu}
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
  - {key: flag, effect: PreferNoSchedule})"),
                                          names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const std::vector<Toleration>& t = (*pod)->tolerations;
  ASSERT_EQ(t.size(), 5u);

  EXPECT_EQ(t[0].key, kNoId);
  EXPECT_EQ(t[0].op, TolerationOp::kExists);
  EXPECT_EQ(t[0].effect, TaintEffect::kNone);

  EXPECT_EQ(t[1].op, TolerationOp::kEqual);  // the default operator
  EXPECT_EQ(t[1].key, names.Find("dedicated"));
  EXPECT_EQ(t[1].value, names.Find("gpu"));
  EXPECT_EQ(t[1].effect, TaintEffect::kNone);
  EXPECT_EQ(t[2].effect, TaintEffect::kNoSchedule);
  EXPECT_EQ(t[3].effect, TaintEffect::kNoExecute);
  EXPECT_EQ(t[4].effect, TaintEffect::kPreferNoSchedule);
  EXPECT_EQ(t[4].value, kNoId);

  const Taint gpu = MakeTaint(names, "dedicated", "gpu", TaintEffect::kNoSchedule);
  const Taint cpu = MakeTaint(names, "dedicated", "cpu", TaintEffect::kNoSchedule);
  const Taint not_ready_exec =
      MakeTaint(names, "node.kubernetes.io/not-ready", "", TaintEffect::kNoExecute);
  const Taint not_ready_sched =
      MakeTaint(names, "node.kubernetes.io/not-ready", "", TaintEffect::kNoSchedule);
  const Taint flag = MakeTaint(names, "flag", "", TaintEffect::kPreferNoSchedule);
  const Taint flag_on = MakeTaint(names, "flag", "on", TaintEffect::kPreferNoSchedule);

  // Exists with an empty key tolerates everything.
  for (const Taint* taint : {&gpu, &cpu, &not_ready_exec, &flag_on}) {
    EXPECT_TRUE(t[0].Tolerates(*taint)) << taint->key << "=" << taint->value;
  }
  EXPECT_TRUE(t[1].Tolerates(gpu));
  EXPECT_FALSE(t[1].Tolerates(cpu));
  EXPECT_TRUE(t[2].Tolerates(gpu));
  EXPECT_FALSE(t[2].Tolerates(MakeTaint(names, "dedicated", "gpu", TaintEffect::kNoExecute)));
  EXPECT_TRUE(t[3].Tolerates(not_ready_exec));
  EXPECT_FALSE(t[3].Tolerates(not_ready_sched));
  // Equal with no value matches a taint with no value only.
  EXPECT_TRUE(t[4].Tolerates(flag));
  EXPECT_FALSE(t[4].Tolerates(flag_on));
}

struct ErrorCase {
  std::string name;
  std::string spec;
  std::string want;
};

class PodErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(PodErrorTest, NamesObjectAndField) {
  const ErrorCase& c = GetParam();
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(c.spec), names);
  ASSERT_FALSE(pod.ok());
  EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(pod.status().message(), HasSubstr(c.want));
}

constexpr char kAffinityPath[] =
    "Pod ns/p: spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
    "nodeSelectorTerms";

INSTANTIATE_TEST_SUITE_P(
    Compile, PodErrorTest,
    ::testing::Values(
        ErrorCase{"TolerationOperator", R"(
  containers: [{name: a}]
  tolerations:
  - {key: a, operator: Exists}
  - {key: b, operator: Maybe})",
                  "Pod ns/p: spec.tolerations[1].operator: Unsupported value: \"Maybe\": "
                  "supported values: \"Equal\", \"Exists\""},
        ErrorCase{"TolerationEffect", R"(
  containers: [{name: a}]
  tolerations:
  - {key: a, operator: Exists, effect: Sometimes})",
                  "Pod ns/p: spec.tolerations[0].effect: Unsupported value: \"Sometimes\": "
                  "supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""},
        ErrorCase{"TolerationEmptyKeyNeedsExists", R"(
  containers: [{name: a}]
  tolerations:
  - {value: x})",
                  "Pod ns/p: spec.tolerations[0].operator: Invalid value: \"\": operator must "
                  "be Exists when `key` is empty, which means \"match all values and all keys\""},
        ErrorCase{"TolerationExistsWithValue", R"(
  containers: [{name: a}]
  tolerations:
  - {key: a, operator: Exists, value: x})",
                  "Pod ns/p: spec.tolerations[0].operator: Invalid value: \"x\": value must be "
                  "empty when `operator` is 'Exists'"},
        ErrorCase{"AffinityOperator", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In, values: [a]}]
        - matchExpressions: [{key: zone, operator: Exists}, {key: zone, operator: Near}])",
                  absl::StrCat(kAffinityPath,
                               "[1].matchExpressions[1].operator: Invalid value: \"Near\": not a "
                               "valid selector operator")},
        // The API server requires a term; no terms would match no node.
        ErrorCase{"AffinityNoTerms", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []})",
                  absl::StrCat(kAffinityPath,
                               ": Required value: must have at least one node selector term")},
        ErrorCase{"AffinityKey", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: "a/b/c", operator: Exists}])",
                  absl::StrCat(kAffinityPath,
                               "[0].matchExpressions[0].key: Invalid value: \"a/b/c\": a "
                               "qualified name must consist of")},
        ErrorCase{"AffinityLtTwoValues", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: gen, operator: Lt, values: ["1", "2"]}])",
                  absl::StrCat(kAffinityPath,
                               "[0].matchExpressions[0].values: Required value: must be specified "
                               "single value when `operator` is 'Lt' or 'Gt'")},
        ErrorCase{"AffinityInWithoutValues", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In}])",
                  absl::StrCat(kAffinityPath, "[0].matchExpressions[0].values: Required value")},
        ErrorCase{"AffinityExistsWithValues", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: DoesNotExist, values: [a]}])",
                  absl::StrCat(kAffinityPath, "[0].matchExpressions[0].values: Forbidden")},
        ErrorCase{"MatchFieldsKey", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: metadata.namespace, operator: In, values: [x]}])",
                  absl::StrCat(kAffinityPath,
                               "[0].matchFields[0].key: Invalid value: \"metadata.namespace\": "
                               "not a valid field selector key")},
        ErrorCase{"MatchFieldsOperator", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: metadata.name, operator: Exists}])",
                  absl::StrCat(kAffinityPath,
                               "[0].matchFields[0].operator: Invalid value: \"Exists\": not a "
                               "valid selector operator")},
        ErrorCase{"MatchFieldsTwoValues", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: metadata.name, operator: In, values: [n1, n2]}])",
                  absl::StrCat(kAffinityPath, "[0].matchFields[0].values: Required value")},
        ErrorCase{"MatchFieldsNodeName", R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields: [{key: metadata.name, operator: NotIn, values: [Node_1]}])",
                  absl::StrCat(kAffinityPath,
                               "[0].matchFields[0].values[0]: Invalid value: \"Node_1\": a "
                               "lowercase RFC 1123 subdomain")}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// What the API server refuses is an input error naming the object and the
// field, with upstream's message (api/object_validation_test.cc has every
// rule; these are the ones issue 12 names, through CompilePod).
INSTANTIATE_TEST_SUITE_P(
    Validation, PodErrorTest,
    ::testing::Values(
        ErrorCase{"NegativeCpu", "  containers: [{name: a, resources: {requests: {cpu: \"-1\"}}}]\n",
                  "Pod ns/p: spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": "
                  "must be greater than or equal to 0"},
        ErrorCase{"NegativeMemoryLimit",
                  "  containers: [{name: a, resources: {limits: {memory: -1Gi}}}]\n",
                  "Pod ns/p: spec.containers[0].resources.limits[memory]: Invalid value: "
                  "\"-1Gi\": must be greater than or equal to 0"},
        ErrorCase{"RequestAboveLimit",
                  "  containers: [{name: a, resources: {requests: {cpu: \"2\"}, limits: {cpu: "
                  "1500m}}}]\n",
                  "Pod ns/p: spec.containers[0].resources.requests: Invalid value: \"2\": must "
                  "be less than or equal to cpu limit of 1500m"},
        ErrorCase{"ExtendedResourceWithoutLimit",
                  "  containers: [{name: a, resources: {requests: {example.com/gpu: \"1\"}}}]\n",
                  "Pod ns/p: spec.containers[0].resources.limits: Required value: Limit must be "
                  "set for non overcommitable resources"},
        ErrorCase{"LabelValue", "  containers: [{name: a}]\n  nodeSelector: {zone: \"a b\"}\n",
                  "Pod ns/p: spec.nodeSelector: Invalid value: \"a b\": a valid label must be an "
                  "empty string"},
        ErrorCase{"HostPortRange",
                  "  containers: [{name: a, ports: [{containerPort: 80, hostPort: 65536}]}]\n",
                  "Pod ns/p: spec.containers[0].ports[0].hostPort: Invalid value: 65536: must be "
                  "between 1 and 65535, inclusive"},
        // Several problems: upstream's aggregate, in its order.
        ErrorCase{"SeveralProblems",
                  "  nodeName: Node_1\n  containers: [{name: a, resources: {requests: {cpu: "
                  "\"-1\"}}}]\n",
                  "Pod ns/p: [spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": "
                  "must be greater than or equal to 0, spec.nodeName: Invalid value: "
                  "\"Node_1\": a lowercase RFC 1123 subdomain"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(CompilePodTest, MetadataIsValidated) {
  struct Case {
    const char* metadata;
    const char* want;
  };
  const Case cases[] = {
      {"{name: Bad_Name!, namespace: ns}",
       "Pod ns/Bad_Name!: metadata.name: Invalid value: \"Bad_Name!\": a lowercase RFC 1123 "
       "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
       "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"{name: p, namespace: Team_A}",
       "Pod Team_A/p: metadata.namespace: Invalid value: \"Team_A\": a lowercase RFC 1123 label"},
      {"{name: p, labels: {\"app name\": web}}",
       "Pod default/p: metadata.labels: Invalid value: \"app name\": name part must consist of"},
      {"{name: p, labels: {app: \"-web\"}}",
       "Pod default/p: metadata.labels: Invalid value: \"-web\": a valid label must be an empty "
       "string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.metadata);
    Interner names;
    absl::StatusOr<PodPtr> pod = CompilePod(
        Decode<v1::Pod>(absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: ", c.metadata,
                                     "\nspec: {containers: [{name: a}]}\n"),
                        "Pod"),
        names);
    ASSERT_FALSE(pod.ok());
    EXPECT_EQ(pod.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pod.status().message(), HasSubstr(c.want));
  }
}

// A term the scheduler cannot parse keeps upstream's errors, with the paths
// upstream's parser gives them: "nodeSelectorTerms[i]..." for required
// terms, "[i]..." for preferred ones (NewPreferredSchedulingTerms).
TEST(CompileNodeAffinityTest, UnparsedTermsKeepUpstreamErrors) {
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(PodWithSpec(R"(
  containers: [{name: a}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: zone, operator: In, values: [a]}]
        - matchExpressions: [{key: gen, operator: Gt, values: [three]}]
          matchFields: [{key: metadata.name, operator: In, values: [n1]}]
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 1, preference: {matchExpressions: [{key: zone, operator: Exists}]}}
      - weight: 2
        preference:
          matchExpressions: [{key: zone, operator: NotIn, values: ["invalid value: ___@#$%^"]}])"),
                                          names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const Pod& p = **pod;
  ASSERT_TRUE(p.required_node_affinity.has_value());
  const std::vector<NodeSelectorTerm>& terms = p.required_node_affinity->terms;
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_TRUE(terms[0].parse_errors.empty());
  EXPECT_EQ(terms[1].parse_errors,
            std::vector<std::string>{
                "nodeSelectorTerms[1].matchExpressions[0].values[0]: Invalid value: \"three\": "
                "for 'Gt', 'Lt' operators, the value must be an integer"});
  // The node name still pins the term (upstream's PreFilter reads it from
  // the API object); the expressions are not compiled.
  EXPECT_TRUE(terms[1].expressions.empty());
  ASSERT_EQ(terms[1].fields.size(), 1u);
  EXPECT_FALSE(terms[1].Matches(Labels({{names.Intern("gen"), names.Intern("5"), 5}}),
                                names.Intern("n1")));

  ASSERT_EQ(p.preferred_node_affinity.size(), 2u);
  EXPECT_TRUE(p.preferred_node_affinity[0].term.parse_errors.empty());
  EXPECT_EQ(p.preferred_node_affinity[1].term.parse_errors,
            std::vector<std::string>{
                "[1].matchExpressions[0].values[0][zone]: Invalid value: \"invalid value: "
                "___@#$%^\": a valid label must be an empty string or consist of alphanumeric "
                "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"});
  EXPECT_FALSE(p.preferred_node_affinity[1].term.Matches(
      Labels({{names.Intern("zone"), names.Intern("b"), {}}}), names.Intern("n1")));
}

// ---------------------------------------------------------------------------
// nodeSelector and required node affinity, evaluated against compiled nodes.

struct NodeFixture {
  std::string name;
  std::string labels;  // YAML flow map
};

struct AffinityCase {
  std::string name;
  std::string spec;
  std::vector<std::string> want_matching;  // node names, in fixture order
};

const std::vector<NodeFixture>& Nodes() {
  static const auto* nodes = new std::vector<NodeFixture>{
      {"n-a4", "{zone: a, gen: \"4\", disk: ssd}"},
      {"n-b3", "{zone: b, gen: \"3\"}"},
      {"n-c2", "{zone: c, gen: \"2\", disk: ssd}"},
      {"n-x", "{gen: x}"},
      {"n-none", "{}"},
  };
  return *nodes;
}

std::vector<std::string> Matching(const Pod& pod, Interner& names) {
  std::vector<std::string> out;
  for (const NodeFixture& f : Nodes()) {
    absl::StatusOr<NodePtr> node = CompileNode(
        NodeFromYaml(absl::StrCat("metadata: {name: ", f.name, ", labels: ", f.labels, "}\n")),
        names);
    EXPECT_TRUE(node.ok()) << node.status();
    if (!node.ok()) continue;
    bool match = true;
    for (const Requirement& r : pod.node_selector) match = match && r.Matches((*node)->labels);
    if (pod.required_node_affinity.has_value()) {
      match = match && pod.required_node_affinity->Matches((*node)->labels, (*node)->name_id);
    }
    if (match) out.push_back(f.name);
  }
  return out;
}

class AffinityTest : public ::testing::TestWithParam<AffinityCase> {};

TEST_P(AffinityTest, SelectsUpstreamNodes) {
  const AffinityCase& c = GetParam();
  Interner names;
  absl::StatusOr<PodPtr> pod =
      CompilePod(PodWithSpec(absl::StrCat("  containers: [{name: a}]\n", c.spec)), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(Matching(**pod, names), c.want_matching);
}

std::string Required(const std::string& terms) {
  return absl::StrCat(
      "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
      "        nodeSelectorTerms:\n",
      terms);
}

INSTANTIATE_TEST_SUITE_P(
    Compile, AffinityTest,
    ::testing::Values(
        AffinityCase{"NoConstraint", "", {"n-a4", "n-b3", "n-c2", "n-x", "n-none"}},
        AffinityCase{"NodeSelector", "  nodeSelector: {disk: ssd}\n", {"n-a4", "n-c2"}},
        AffinityCase{"NodeSelectorAllKeys", "  nodeSelector: {disk: ssd, zone: c}\n", {"n-c2"}},
        AffinityCase{"In",
                     Required("        - matchExpressions: [{key: zone, operator: In, values: [a, b]}]\n"),
                     {"n-a4", "n-b3"}},
        // NotIn and DoesNotExist match nodes without the label.
        AffinityCase{"NotIn",
                     Required("        - matchExpressions: [{key: zone, operator: NotIn, values: [a]}]\n"),
                     {"n-b3", "n-c2", "n-x", "n-none"}},
        AffinityCase{"Exists",
                     Required("        - matchExpressions: [{key: disk, operator: Exists}]\n"),
                     {"n-a4", "n-c2"}},
        AffinityCase{"DoesNotExist",
                     Required("        - matchExpressions: [{key: zone, operator: DoesNotExist}]\n"),
                     {"n-x", "n-none"}},
        // Gt/Lt compare integers; a non-integer or missing label never matches.
        AffinityCase{"Gt",
                     Required("        - matchExpressions: [{key: gen, operator: Gt, values: [\"3\"]}]\n"),
                     {"n-a4"}},
        AffinityCase{"Lt",
                     Required("        - matchExpressions: [{key: gen, operator: Lt, values: [\"3\"]}]\n"),
                     {"n-c2"}},
        // Requirements of one term are ANDed.
        AffinityCase{"TermAnd",
                     Required("        - matchExpressions:\n"
                              "          - {key: disk, operator: Exists}\n"
                              "          - {key: gen, operator: Lt, values: [\"4\"]}\n"),
                     {"n-c2"}},
        // Terms are ORed.
        AffinityCase{"TermsOr",
                     Required("        - matchExpressions: [{key: zone, operator: In, values: [b]}]\n"
                              "        - matchFields: [{key: metadata.name, operator: In, values: [n-x]}]\n"),
                     {"n-b3", "n-x"}},
        AffinityCase{"MatchFieldsIn",
                     Required("        - matchFields: [{key: metadata.name, operator: In, values: [n-c2]}]\n"),
                     {"n-c2"}},
        AffinityCase{"MatchFieldsNotIn",
                     Required("        - matchFields: [{key: metadata.name, operator: NotIn, values: [n-c2]}]\n"),
                     {"n-a4", "n-b3", "n-x", "n-none"}},
        // Both nodeSelector and affinity must hold.
        AffinityCase{"SelectorAndAffinity",
                     absl::StrCat("  nodeSelector: {disk: ssd}\n",
                                  Required("        - matchExpressions: [{key: gen, operator: Gt, values: [\"2\"]}]\n")),
                     {"n-a4"}},
        // A term with no requirements matches no node; no terms, none either.
        // A term with no requirements matches no node (an empty list of
        // terms is refused by the API server; see AffinityNoTerms).
        AffinityCase{"EmptyTermMatchesNothing", Required("        - {}\n"), {}},
        AffinityCase{"EmptyTermBesideAnother",
                     Required("        - {}\n"
                              "        - matchExpressions: [{key: zone, operator: In, values: [c]}]\n"),
                     {"n-c2"}},
        // A term the scheduler cannot parse matches no node (upstream's
        // LazyErrorNodeSelector); the pod is valid, and its other terms
        // still match. One case per operator that can carry such a value
        // past the API server.
        AffinityCase{"InWithValueThatIsNoLabelValue",
                     Required("        - matchExpressions: [{key: zone, operator: In, values: [a, \"invalid value: ___@#$%^\"]}]\n"),
                     {}},
        AffinityCase{"NotInWithValueThatIsNoLabelValue",
                     Required("        - matchExpressions: [{key: zone, operator: NotIn, values: [\"invalid value: ___@#$%^\"]}]\n"),
                     {}},
        AffinityCase{"GtNotAnInteger",
                     Required("        - matchExpressions: [{key: gen, operator: Gt, values: [three]}]\n"),
                     {}},
        // "-1" is an integer but no label value.
        AffinityCase{"GtNegativeInteger",
                     Required("        - matchExpressions: [{key: gen, operator: Gt, values: [\"-1\"]}]\n"),
                     {}},
        // Go's strconv.ParseInt takes no spaces.
        AffinityCase{"LtWithASpace",
                     Required("        - matchExpressions: [{key: gen, operator: Lt, values: [\" 9\"]}]\n"),
                     {}},
        AffinityCase{"BadTermBesideAGoodOne",
                     Required("        - matchExpressions: [{key: zone, operator: NotIn, values: [\"bad value!\"]}]\n"
                              "        - matchExpressions: [{key: zone, operator: In, values: [c]}]\n"),
                     {"n-c2"}}),
    [](const ::testing::TestParamInfo<AffinityCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Nodes.

TEST(CompileNodeTest, Allocatable) {
  Interner names;
  absl::StatusOr<NodePtr> node = CompileNode(NodeFromYaml(R"(
metadata: {name: n1, labels: {zone: a}}
spec: {unschedulable: true}
status:
  allocatable:
    cpu: 3500m
    memory: 1.5Gi
    ephemeral-storage: 100Gi
    pods: "17"
    example.com/gpu: "2"
    hugepages-1Gi: 2Gi
    unknown-native: "5"
  capacity:
    cpu: "64"
)"),
                                             names);
  ASSERT_TRUE(node.ok()) << node.status();
  const Node& n = **node;
  EXPECT_EQ(n.name, "n1");
  EXPECT_EQ(n.name_id, names.Find("n1"));
  EXPECT_TRUE(n.unschedulable);
  EXPECT_EQ(n.labels.Get(names.Find("zone")), names.Find("a"));
  EXPECT_EQ(n.allocatable.milli_cpu, 3500);  // allocatable, not capacity
  EXPECT_EQ(n.allocatable.memory, 3 * kGi / 2);
  EXPECT_EQ(n.allocatable.ephemeral_storage, 100 * kGi);
  EXPECT_EQ(n.allocatable.allowed_pods, 17);
  EXPECT_EQ(n.allocatable.Scalar(names.Find("example.com/gpu")), 2);
  EXPECT_EQ(n.allocatable.Scalar(names.Find("hugepages-1Gi")), 2 * kGi);
  // Only extended resources and hugepages are scalars.
  EXPECT_EQ(n.allocatable.scalar.size(), 2u);
}

TEST(CompileNodeTest, FractionalCpuAndNoPods) {
  Interner names;
  absl::StatusOr<NodePtr> node = CompileNode(
      NodeFromYaml("metadata: {name: n2}\nstatus: {allocatable: {cpu: \"0.5\", memory: 100m}}\n"),
      names);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_FALSE((*node)->unschedulable);
  EXPECT_EQ((*node)->allocatable.milli_cpu, 500);
  EXPECT_EQ((*node)->allocatable.memory, 1);  // rounded up
  EXPECT_EQ((*node)->allocatable.allowed_pods, 0);
}

TEST(CompileNodeTest, Taints) {
  Interner names;
  absl::StatusOr<NodePtr> node = CompileNode(NodeFromYaml(R"(
metadata: {name: n1}
spec:
  taints:
  - {key: dedicated, value: gpu, effect: NoSchedule}
  - {key: flaky, effect: PreferNoSchedule}
  - {key: node.kubernetes.io/unreachable, effect: NoExecute, timeAdded: "2024-01-02T03:04:05Z"}
)"),
                                             names);
  ASSERT_TRUE(node.ok()) << node.status();
  const std::vector<Taint>& t = (*node)->taints;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].key, "dedicated");
  EXPECT_EQ(t[0].key_id, names.Find("dedicated"));
  EXPECT_EQ(t[0].value_id, names.Find("gpu"));
  EXPECT_EQ(t[0].effect, TaintEffect::kNoSchedule);
  EXPECT_EQ(t[1].value, "");
  EXPECT_EQ(t[1].value_id, kNoId);
  EXPECT_EQ(t[1].effect, TaintEffect::kPreferNoSchedule);
  EXPECT_EQ(t[2].effect, TaintEffect::kNoExecute);
  EXPECT_EQ(t[0].time_added, absl::InfinitePast());
  EXPECT_EQ(t[2].time_added, absl::FromUnixSeconds(1704164645));
}

class NodeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(NodeErrorTest, NamesObjectAndField) {
  const ErrorCase& c = GetParam();
  Interner names;
  absl::StatusOr<NodePtr> node = CompileNode(NodeFromYaml(c.spec), names);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(node.status().message(), HasSubstr(c.want));
}

INSTANTIATE_TEST_SUITE_P(
    Compile, NodeErrorTest,
    ::testing::Values(
        ErrorCase{"TaintEffect",
                  "metadata: {name: n1}\nspec:\n  taints:\n"
                  "  - {key: a, effect: NoSchedule}\n  - {key: b, effect: Never}\n",
                  "Node n1: spec.taints[1].effect: Unsupported value: \"Never\": supported "
                  "values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""},
        // Unlike a toleration's, a taint's effect is required.
        ErrorCase{"TaintEffectRequired", "metadata: {name: n1}\nspec: {taints: [{key: a}]}\n",
                  "Node n1: spec.taints[0].effect: Required value"},
        ErrorCase{"TaintKeyRequired",
                  "metadata: {name: n1}\nspec: {taints: [{effect: NoSchedule}]}\n",
                  "Node n1: [spec.taints[0].key: Invalid value: \"\": name part must be "
                  "non-empty, spec.taints[0].key: Invalid value: \"\": name part must consist "
                  "of"},
        ErrorCase{"TaintValue",
                  "metadata: {name: n1}\nspec: {taints: [{key: k, value: \"a b\", effect: "
                  "NoSchedule}]}\n",
                  "Node n1: spec.taints[0].value: Invalid value: \"a b\": a valid label must "
                  "be"},
        ErrorCase{"DuplicateTaint",
                  "metadata: {name: n1}\nspec: {taints: [{key: k, effect: NoSchedule}, {key: k, "
                  "value: v, effect: NoSchedule}]}\n",
                  "Node n1: spec.taints[1]: Duplicate value: core.Taint{Key:\"k\", "
                  "Value:\"v\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints "
                  "must be unique by key and effect pair"},
        ErrorCase{"Name", "metadata: {name: Bad_Name!}\n",
                  "Node Bad_Name!: metadata.name: Invalid value: \"Bad_Name!\": a lowercase "
                  "RFC 1123 subdomain"},
        ErrorCase{"Label", "metadata: {name: n1, labels: {zone: \"a b\"}}\n",
                  "Node n1: metadata.labels: Invalid value: \"a b\": a valid label must be"},
        ErrorCase{"NegativeAllocatable",
                  "metadata: {name: n1}\nstatus: {allocatable: {cpu: \"-2\"}}\n",
                  "Node n1: status.allocatable.cpu: Invalid value: \"-2\": must be greater "
                  "than or equal to 0"},
        ErrorCase{"MissingName", "metadata: {labels: {a: b}}\n", "metadata.name: Required value"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(CompileNodeTest, BadAllocatableNamesTheField) {
  Interner names;
  v1::Node api = NodeFromYaml("metadata: {name: n1}\n");
  (*api.mutable_status()->mutable_allocatable())["memory"].set_string("lots");
  absl::StatusOr<NodePtr> node = CompileNode(api, names);
  ASSERT_FALSE(node.ok());
  EXPECT_THAT(node.status().message(),
              HasSubstr("Node n1: status.allocatable.memory: Invalid value: \"lots\": "
                        "quantities must match"));
}

// CompileNodeSelector is the entry point for selectors outside a pod. A
// term that does not parse is kept, with upstream's errors, and matches no
// node.
TEST(CompileNodeSelectorTest, UnparsedTermKeepsItsErrors) {
  Interner names;
  v1::NodeSelector sel;
  auto* e = sel.add_nodeselectorterms()->add_matchexpressions();
  e->set_key("zone");
  e->set_operator_("Approximately");
  absl::StatusOr<NodeSelector> out = CompileNodeSelector(sel, names, "args.selector");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->terms.size(), 1u);
  EXPECT_EQ(out->terms[0].parse_errors,
            std::vector<std::string>{
                "nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "
                "\"Approximately\": supported values: \"In\", \"NotIn\", \"Exists\", "
                "\"DoesNotExist\", \"Gt\", \"Lt\""});
  EXPECT_FALSE(out->Matches(Labels({{names.Intern("zone"), names.Intern("a"), {}}}),
                            names.Intern("n1")));
}


// ---------------------------------------------------------------------------
// Inter-pod affinity, spreading, preferred node affinity, legacy annotations.

v1::Pod PodFromYaml(const std::string& yaml) {
  return Decode<v1::Pod>(absl::StrCat("apiVersion: v1\nkind: Pod\n", yaml), "Pod");
}

TEST(CompileAffinityTest, TermsNamespacesAndSelectors) {
  Interner names;
  auto pod = CompilePod(PodFromYaml(R"(
metadata: {name: p, namespace: ns, labels: {app: web, version: v2}}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: db}}
        topologyKey: zone
      - labelSelector: {matchLabels: {app: db}}
        namespaces: [b, a, b]
        topologyKey: zone
      - labelSelector: {matchLabels: {app: db}}
        namespaceSelector: {}
        matchLabelKeys: [version, missing]
        mismatchLabelKeys: [app]
        topologyKey: zone
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 7
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const Pod& p = **pod;
  EXPECT_TRUE(p.has_pod_affinity);
  ASSERT_EQ(p.required_affinity.size(), 3u);
  // Neither namespaces nor a selector: the pod's own namespace.
  EXPECT_EQ(p.required_affinity[0].namespaces, std::vector<Id>{names.Find("ns")});
  EXPECT_TRUE(p.required_affinity[0].namespace_selector.matches_nothing);
  std::vector<Id> ab = {names.Find("b"), names.Find("a")};
  std::sort(ab.begin(), ab.end());
  EXPECT_EQ(p.required_affinity[1].namespaces, ab);
  // An empty namespaceSelector: every namespace, no list.
  EXPECT_TRUE(p.required_affinity[2].namespaces.empty());
  EXPECT_TRUE(p.required_affinity[2].namespace_selector.empty());
  // matchLabelKeys adds version In [v2] (missing keys are ignored) and
  // mismatchLabelKeys adds app NotIn [web].
  const LabelSelector& sel = p.required_affinity[2].selector;
  ASSERT_EQ(sel.requirements.size(), 3u);
  Labels v2({{names.Intern("app"), names.Intern("db"), {}},
             {names.Intern("version"), names.Intern("v2"), {}}});
  Labels v1({{names.Intern("app"), names.Intern("db"), {}},
             {names.Intern("version"), names.Intern("v1"), {}}});
  EXPECT_TRUE(sel.Matches(v2));
  EXPECT_FALSE(sel.Matches(v1));
  // A nil labelSelector matches nothing.
  ASSERT_EQ(p.preferred_anti_affinity.size(), 1u);
  EXPECT_EQ(p.preferred_anti_affinity[0].weight, 7);
  EXPECT_TRUE(p.preferred_anti_affinity[0].term.selector.matches_nothing);
  EXPECT_EQ(p.preferred_anti_affinity[0].term.topology_key,
            names.Find("kubernetes.io/hostname"));
}

TEST(CompileAffinityTest, AffinityTermMatchesNamespaces) {
  Interner names;
  AffinityTerm t;
  t.selector = LabelSelector::Everything();
  t.namespaces = {names.Intern("a")};
  t.namespace_selector = LabelSelector::Nothing();
  const Id a = names.Find("a"), b = names.Intern("b");
  Labels none;
  EXPECT_TRUE(t.Matches(a, none, nullptr));
  EXPECT_FALSE(t.Matches(b, none, &none));
  // A namespaceSelector: labels of a known namespace; an unknown namespace
  // matches only the empty (all-namespaces) selector.
  t.namespace_selector = LabelSelector::Everything();
  EXPECT_TRUE(t.Matches(b, none, nullptr));
  Requirement team{names.Intern("team"), SelectorOp::kDoesNotExist, {}, 0};
  t.namespace_selector.requirements.push_back(team);
  EXPECT_TRUE(t.Matches(b, none, &none));
  EXPECT_FALSE(t.Matches(b, none, nullptr));
}

TEST(CompileSpreadTest, ConstraintsWithDefaults) {
  Interner names;
  auto pod = CompilePod(PodFromYaml(R"(
metadata: {name: p, namespace: ns, labels: {app: web, hash: h1}}
spec:
  topologySpreadConstraints:
  - maxSkew: 2
    topologyKey: zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: web}}
    matchLabelKeys: [hash]
    minDomains: 3
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    nodeAffinityPolicy: Ignore
    nodeTaintsPolicy: Honor
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const auto& c = (*pod)->spread_constraints;
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].max_skew, 2);
  EXPECT_EQ(c[0].min_domains, 3);
  EXPECT_EQ(c[0].when_unsatisfiable, UnsatisfiableAction::kDoNotSchedule);
  EXPECT_EQ(c[0].node_affinity_policy, InclusionPolicy::kHonor);
  EXPECT_EQ(c[0].node_taints_policy, InclusionPolicy::kIgnore);
  EXPECT_EQ(c[0].selector.requirements.size(), 2u);  // app In [web], hash In [h1]
  EXPECT_EQ(c[1].min_domains, 1);
  EXPECT_EQ(c[1].when_unsatisfiable, UnsatisfiableAction::kScheduleAnyway);
  EXPECT_EQ(c[1].node_affinity_policy, InclusionPolicy::kIgnore);
  EXPECT_EQ(c[1].node_taints_policy, InclusionPolicy::kHonor);
  EXPECT_TRUE(c[1].selector.matches_nothing);  // nil selector
}

TEST(CompileNodeAffinityTest, PreferredTerms) {
  Interner names;
  auto pod = CompilePod(PodWithSpec(R"(  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 3
        preference:
          matchExpressions: [{key: zone, operator: In, values: [z1]}]
      - weight: 100
        preference:
          matchFields: [{key: metadata.name, operator: NotIn, values: [n1]}]
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const auto& terms = (*pod)->preferred_node_affinity;
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].weight, 3);
  Labels z1({{names.Intern("zone"), names.Intern("z1"), {}}});
  EXPECT_TRUE(terms[0].term.Matches(z1, names.Intern("n2")));
  EXPECT_FALSE(terms[1].term.Matches(z1, names.Intern("n1")));
  EXPECT_FALSE((*pod)->has_pod_affinity);
}

INSTANTIATE_TEST_SUITE_P(
    Affinity, PodErrorTest,
    ::testing::Values(
        ErrorCase{"PodAffinityTopologyKeyRequired",
                  "  affinity:\n    podAffinity:\n"
                  "      requiredDuringSchedulingIgnoredDuringExecution:\n"
                  "      - labelSelector: {}\n",
                  "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuring"
                  "Execution[0].topologyKey: Required value: can not be empty"},
        ErrorCase{"PodAntiAffinityWeight",
                  "  affinity:\n    podAntiAffinity:\n"
                  "      preferredDuringSchedulingIgnoredDuringExecution:\n"
                  "      - weight: 0\n        podAffinityTerm: {topologyKey: zone}\n",
                  "Pod ns/p: spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnored"
                  "DuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"},
        ErrorCase{"PodAffinityOperator",
                  "  affinity:\n    podAffinity:\n"
                  "      requiredDuringSchedulingIgnoredDuringExecution:\n"
                  "      - topologyKey: zone\n        labelSelector:\n"
                  "          matchExpressions: [{key: a, operator: Gt, values: ['1']}]\n",
                  "Pod ns/p: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuring"
                  "Execution[0].labelSelector.matchExpressions[0].operator: Invalid value: "
                  "\"Gt\": not a valid selector operator"},
        ErrorCase{"NamespaceSelectorOperator",
                  "  affinity:\n    podAffinity:\n"
                  "      requiredDuringSchedulingIgnoredDuringExecution:\n"
                  "      - topologyKey: zone\n        namespaceSelector:\n"
                  "          matchExpressions: [{key: a, operator: In}]\n",
                  "namespaceSelector.matchExpressions[0].values: Required value"},
        ErrorCase{"NodeAffinityPreferredWeight",
                  "  affinity:\n    nodeAffinity:\n"
                  "      preferredDuringSchedulingIgnoredDuringExecution:\n"
                  "      - weight: 101\n        preference: {}\n",
                  "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
                  ".weight: Invalid value: 101: must be in the range 1-100"},
        ErrorCase{"SpreadMaxSkew",
                  "  topologySpreadConstraints:\n"
                  "  - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n",
                  "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be "
                  "greater than zero"},
        ErrorCase{"SpreadWhenUnsatisfiable",
                  "  topologySpreadConstraints:\n"
                  "  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Maybe}\n",
                  "spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "
                  "\"Maybe\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""},
        ErrorCase{"SpreadTopologyKey",
                  "  topologySpreadConstraints:\n"
                  "  - {maxSkew: 1, whenUnsatisfiable: DoNotSchedule}\n",
                  "spec.topologySpreadConstraints[0].topologyKey: Required value"},
        ErrorCase{"SpreadMinDomainsWithScheduleAnyway",
                  "  topologySpreadConstraints:\n"
                  "  - {maxSkew: 1, topologyKey: z, whenUnsatisfiable: ScheduleAnyway, "
                  "minDomains: 2}\n",
                  "spec.topologySpreadConstraints[0].minDomains: Invalid value: 2: can only use "
                  "minDomains if whenUnsatisfiable=DoNotSchedule"},
        ErrorCase{"SpreadPolicy",
                  "  topologySpreadConstraints:\n"
                  "  - {maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, "
                  "nodeTaintsPolicy: Always}\n",
                  "spec.topologySpreadConstraints[0].nodeTaintsPolicy: Unsupported value: "
                  "\"Always\": supported values: \"Honor\", \"Ignore\""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(CompilePodTest, ImagesAndSidecarHostPorts) {
  Interner names;
  auto pod = CompilePod(PodWithSpec(R"(  initContainers:
  - {name: init, image: busybox}
  - name: proxy
    image: envoy:1.2
    restartPolicy: Always
    ports: [{containerPort: 15001, hostPort: 15001}]
  containers:
  - {name: a, image: nginx, ports: [{containerPort: 80, hostPort: 8080, protocol: UDP}]}
  - {name: b, image: nginx}
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->images,
            (std::vector<std::string>{"busybox", "envoy:1.2", "nginx", "nginx"}));
  ASSERT_EQ((*pod)->host_ports.size(), 2u);
  EXPECT_EQ((*pod)->host_ports[0].port, 15001);  // the sidecar's
  EXPECT_EQ((*pod)->host_ports[1].port, 8080);
  EXPECT_EQ((*pod)->host_ports[1].protocol, Protocol::kUDP);
}

// Kubernetes 1.4 manifests carry affinity and tolerations as JSON annotations.
TEST(CompileLegacyAnnotationsTest, PodAnnotationsWhenFieldsAreEmpty) {
  Interner names;
  auto pod = CompilePod(PodFromYaml(R"(
metadata:
  name: p
  namespace: kube-system
  annotations:
    scheduler.alpha.kubernetes.io/affinity: >
      {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
        [{"labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
          "topologyKey": "kubernetes.io/hostname"}]},
       "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
        {"nodeSelectorTerms": [{"matchExpressions":
          [{"key": "beta.kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}}
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "CriticalAddonsOnly", "operator": "Exists"}]'
    scheduler.alpha.kubernetes.io/name: my-scheduler
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  const Pod& p = **pod;
  EXPECT_TRUE(p.invalid_reason.empty()) << p.invalid_reason;
  ASSERT_EQ(p.required_anti_affinity.size(), 1u);
  EXPECT_EQ(p.required_anti_affinity[0].topology_key, names.Find("kubernetes.io/hostname"));
  EXPECT_EQ(p.required_anti_affinity[0].namespaces, std::vector<Id>{names.Find("kube-system")});
  ASSERT_TRUE(p.required_node_affinity.has_value());
  ASSERT_EQ(p.tolerations.size(), 1u);
  EXPECT_EQ(p.tolerations[0].key, names.Find("CriticalAddonsOnly"));
  EXPECT_EQ(p.tolerations[0].op, TolerationOp::kExists);
  EXPECT_EQ(p.scheduler_name, "my-scheduler");

  // Turned off: the annotations are just annotations.
  CompileOptions off;
  off.alpha_annotations = false;
  auto plain = CompilePod(PodFromYaml(R"(
metadata:
  name: p
  annotations:
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "a", "operator": "Exists"}]'
    scheduler.alpha.kubernetes.io/affinity: 'not json'
)"), names, off);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->tolerations.empty());
  EXPECT_TRUE((*plain)->invalid_reason.empty());
  EXPECT_EQ((*plain)->scheduler_name, "default-scheduler");
}

TEST(CompileLegacyAnnotationsTest, FieldsWinOverAnnotations) {
  Interner names;
  auto pod = CompilePod(PodFromYaml(R"(
metadata:
  name: p
  annotations:
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "a", "operator": "Exists"}]'
    scheduler.alpha.kubernetes.io/affinity: 'broken'
spec:
  tolerations: [{key: b, operator: Exists}]
  affinity: {}
)"), names);
  ASSERT_TRUE(pod.ok());
  ASSERT_EQ((*pod)->tolerations.size(), 1u);
  EXPECT_EQ((*pod)->tolerations[0].key, names.Find("b"));
  EXPECT_TRUE((*pod)->invalid_reason.empty());
}

TEST(CompileLegacyAnnotationsTest, MalformedAnnotationMakesThePodUnschedulable) {
  Interner names;
  for (const char* annotations :
       {"scheduler.alpha.kubernetes.io/affinity: '{\"podAffinity\": ['",
        "scheduler.alpha.kubernetes.io/affinity: '{\"podAffinity\": {\"requiredDuringScheduling"
        "IgnoredDuringExecution\": [{\"topologyKey\": \"\"}]}}'",
        "scheduler.alpha.kubernetes.io/tolerations: '[{\"key\": \"a\", \"operator\": \"Maybe\"}]'",
        "scheduler.alpha.kubernetes.io/tolerations: '{\"key\": 1'"}) {
    SCOPED_TRACE(annotations);
    auto pod = CompilePod(
        PodFromYaml(absl::StrCat("metadata:\n  name: p\n  annotations:\n    ", annotations, "\n")),
        names);
    ASSERT_TRUE(pod.ok()) << pod.status();
    EXPECT_THAT((*pod)->invalid_reason, HasSubstr("invalid legacy annotation: "));
    EXPECT_THAT((*pod)->invalid_reason, HasSubstr("metadata.annotations[scheduler.alpha"));
  }
}

// The annotation's affinity is validated as Kubernetes 1.4's API server
// did, and parsed lazily as today's scheduler does: a Gt on a word makes the
// term match no node, not the pod unschedulable for a bad annotation.
TEST(CompileLegacyAnnotationsTest, AffinityAnnotationTermsParseLazily) {
  Interner names;
  auto pod = CompilePod(PodFromYaml(R"(
metadata:
  name: p
  annotations:
    scheduler.alpha.kubernetes.io/affinity: >
      {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
        {"nodeSelectorTerms": [{"matchExpressions":
          [{"key": "gen", "operator": "Gt", "values": ["three"]}]}]}}}
)"), names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_TRUE((*pod)->invalid_reason.empty()) << (*pod)->invalid_reason;
  ASSERT_TRUE((*pod)->required_node_affinity.has_value());
  ASSERT_EQ((*pod)->required_node_affinity->terms.size(), 1u);
  EXPECT_EQ((*pod)->required_node_affinity->terms[0].parse_errors.size(), 1u);

  auto refused = CompilePod(PodFromYaml(R"(
metadata:
  name: p
  annotations:
    scheduler.alpha.kubernetes.io/tolerations: '[{"key": "a", "operator": "Maybe"}]'
)"), names);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)->invalid_reason,
            "invalid legacy annotation: Pod default/p: "
            "metadata.annotations[scheduler.alpha.kubernetes.io/tolerations][0].operator: "
            "Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"");
}

TEST(CompileLegacyAnnotationsTest, NodeTaintsAnnotation) {
  Interner names;
  auto node = CompileNode(NodeFromYaml(R"(
metadata:
  name: n1
  annotations:
    scheduler.alpha.kubernetes.io/taints: '[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]'
)"), names);
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_EQ((*node)->taints.size(), 1u);
  EXPECT_EQ((*node)->taints[0].key, "dedicated");
  EXPECT_EQ((*node)->taints[0].value, "db");

  auto bad = CompileNode(NodeFromYaml(R"(
metadata:
  name: n1
  annotations:
    scheduler.alpha.kubernetes.io/taints: '[{"key": "x", "effect": "Sometimes"}]'
)"), names);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("Node n1: metadata.annotations[scheduler.alpha.kubernetes.io/taints][0]"
                        ".effect: Unsupported value: \"Sometimes\""));
}

}  // namespace
}  // namespace kestrel::model
