// ValidatePod / ValidateNode against pkg/apis/core/validation: one case per
// rule, each with the exact field errors the API server reports (paths and
// messages), and the objects it accepts that must not be refused.

#include "api/object_validation.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// Upstream's messages (k8s.io/apimachinery/pkg/util/validation).
const std::string kSubdomain =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kDnsLabel =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kLabelValue =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const std::string kNamePart =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

template <typename T>
T Decode(const std::string& yaml) {
  absl::StatusOr<std::vector<Object>> objects = DecodeObjects("test.yaml", yaml);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok() || objects->size() != 1) {
    ADD_FAILURE() << "want one object in:\n" << yaml;
    return T();
  }
  return static_cast<const T&>(*(*objects)[0].message);
}

// A pod "ns/p" with one container "app" and `spec` (YAML, two-space indent)
// added to its spec.
v1::Pod PodWithSpec(const std::string& spec) {
  return Decode<v1::Pod>(absl::StrCat(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n", spec));
}

struct Case {
  std::string name;
  std::string spec;  // PodWithSpec's argument
  std::vector<std::string> want;
};

void CheckPods(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(ValidatePod(PodWithSpec(c.spec)), ElementsAreArray(c.want));
  }
}

TEST(ValidatePodTest, AcceptsWhatTheApiServerAccepts) {
  // Every field the scheduler reads, set as the API server accepts it,
  // including values it lets through: label values in node affinity (the
  // scheduler's lazy parse errors), Gt on a non-integer, an empty protocol
  // (defaulted to TCP), extended resources equal in requests and limits.
  const v1::Pod pod = Decode<v1::Pod>(R"yaml(
apiVersion: v1
kind: Pod
metadata:
  name: web-1.example
  namespace: team-a
  labels: {app: web, example.com/tier: "", version: v1.2_3}
spec:
  nodeName: node-1.zone-a
  priorityClassName: high-priority
  preemptionPolicy: Never
  nodeSelector: {kubernetes.io/os: linux}
  overhead: {cpu: 100m, memory: 1Mi}
  initContainers:
  - name: init
    restartPolicy: Always
    ports: [{containerPort: 80, hostPort: 8080}]
    resources:
      requests: {cpu: 1500m, hugepages-2Mi: 4Mi}
      limits: {cpu: "2", hugepages-2Mi: 4Mi}
  containers:
  - name: app
    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, hostPort: 53, protocol: UDP}]
    resources:
      requests: {cpu: "1", memory: 1Gi, ephemeral-storage: 1Gi, example.com/gpu: "2"}
      limits: {cpu: "1", memory: 2Gi, example.com/gpu: "2", kubernetes.io/thing: 500m}
  - name: sidecar
    ports: [{containerPort: 80, hostPort: 8080, protocol: TCP, hostIP: 10.0.0.1}]
  tolerations:
  - {operator: Exists}
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: zone, operator: NotIn, values: ["invalid value: ___@#$%^"]}
          - {key: cores, operator: Gt, values: [three]}
          matchFields:
          - {key: metadata.name, operator: In, values: [node-1]}
        - {}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        preference:
          matchExpressions: [{key: zone, operator: In, values: ["-a"]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        namespaces: [team-b]
        labelSelector:
          matchLabels: {app: web}
          matchExpressions: [{key: tier, operator: In, values: ["bad value!"]}]
        namespaceSelector: {}
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 1
        podAffinityTerm: {topologyKey: zone}
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 2,
     nodeAffinityPolicy: Honor, nodeTaintsPolicy: Ignore, labelSelector: {matchLabels: {app: web}}}
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}
)yaml");
  EXPECT_THAT(ValidatePod(pod), IsEmpty());
}

TEST(ValidatePodTest, Metadata) {
  struct MetaCase {
    std::string name;
    std::string metadata;
    std::vector<std::string> want;
  };
  const std::vector<MetaCase> cases = {
      {"name not a DNS subdomain", "{name: Bad_Name!, namespace: ns}",
       {"metadata.name: Invalid value: \"Bad_Name!\": " + kSubdomain}},
      {"name too long", absl::StrCat("{name: ", std::string(254, 'a'), "}"),
       {absl::StrCat("metadata.name: Invalid value: \"", std::string(254, 'a'),
                     "\": must be no more than 253 characters")}},
      {"no name", "{namespace: ns}",
       {"metadata.name: Required value: name or generateName is required"}},
      {"namespace not a DNS label", "{name: p, namespace: Team_A}",
       {"metadata.namespace: Invalid value: \"Team_A\": " + kDnsLabel}},
      {"namespace with dots", "{name: p, namespace: team.a}",
       {"metadata.namespace: Invalid value: \"team.a\": must not contain dots"}},
      // Keys in order, each problem at the map's path.
      {"labels", "{name: p, labels: {app: \"bad value!\", \"bad key!\": x, ok: \"\"}}",
       {"metadata.labels: Invalid value: \"bad value!\": " + kLabelValue,
        "metadata.labels: Invalid value: \"bad key!\": " + kNamePart}},
      {"label key with an empty prefix", "{name: p, labels: {/app: x}}",
       {"metadata.labels: Invalid value: \"/app\": prefix part must be non-empty"}},
  };
  for (const MetaCase& c : cases) {
    SCOPED_TRACE(c.name);
    const v1::Pod pod = Decode<v1::Pod>(
        absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: ", c.metadata, "\nspec: {}\n"));
    EXPECT_THAT(ValidatePod(pod), ElementsAreArray(c.want));
  }
}

TEST(ValidatePodTest, Resources) {
  const std::string c0 = "spec.containers[0].resources";
  CheckPods({
      {"negative request", R"(
  containers: [{name: a, resources: {requests: {cpu: "-1"}}}])",
       {c0 + ".requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"}},
      // The request is still checked against the limit.
      {"negative limit", R"(
  containers: [{name: a, resources: {limits: {memory: -1Gi}, requests: {memory: 1Mi}}}])",
       {c0 + ".limits[memory]: Invalid value: \"-1Gi\": must be greater than or equal to 0",
        c0 + ".requests: Invalid value: \"1Mi\": must be less than or equal to memory limit of "
             "-1Gi"}},
      {"request above limit", R"(
  containers: [{name: a, resources: {limits: {cpu: "1", memory: 1Gi}, requests: {cpu: "2", memory: 1536Mi}}}])",
       {c0 + ".requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        c0 + ".requests: Invalid value: \"1536Mi\": must be less than or equal to memory limit "
             "of 1Gi"}},
      {"request equal to the limit, written differently", R"(
  containers: [{name: a, resources: {limits: {cpu: "1"}, requests: {cpu: 1000m}}}])",
       {}},
      {"extended resource without a limit", R"(
  containers: [{name: a, resources: {requests: {example.com/gpu: "1"}}}])",
       {c0 + ".limits: Required value: Limit must be set for non overcommitable resources"}},
      {"extended resource below its limit", R"(
  containers: [{name: a, resources: {requests: {example.com/gpu: "1"}, limits: {example.com/gpu: "2"}}}])",
       {c0 + ".requests: Invalid value: \"1\": must be equal to example.com/gpu limit of 2"}},
      // A fractional quantity prints bare: upstream passes the Quantity.
      {"fractional extended resource", R"(
  containers: [{name: a, resources: {requests: {example.com/gpu: 500m}, limits: {example.com/gpu: 500m}}}])",
       {c0 + ".limits[example.com/gpu]: Invalid value: 500m: must be an integer",
        c0 + ".requests[example.com/gpu]: Invalid value: 500m: must be an integer"}},
      {"unknown unprefixed resource", R"(
  containers: [{name: a, resources: {limits: {gpu: "1"}}}])",
       {c0 + ".limits[gpu]: Invalid value: gpu: must be a standard resource type or fully "
             "qualified",
        c0 + ".limits[gpu]: Invalid value: gpu: must be a standard resource for containers"}},
      {"standard resource not for containers", R"(
  containers: [{name: a, resources: {limits: {pods: "1"}}}])",
       {c0 + ".limits[pods]: Invalid value: pods: must be a standard resource for containers"}},
      {"resource name not a qualified name", R"(
  containers: [{name: a, resources: {limits: {example.com/gpu!: "1"}}}])",
       {c0 + ".limits[example.com/gpu!]: Invalid value: example.com/gpu!: " + kNamePart,
        c0 + ".limits[example.com/gpu!]: Invalid value: example.com/gpu!: doesn't follow "
             "extended resource name standard"}},
      {"extended resource name with a quota prefix", R"(
  containers: [{name: a, resources: {limits: {requests.example.com/gpu: "1"}}}])",
       {c0 + ".limits[requests.example.com/gpu]: Invalid value: requests.example.com/gpu: "
             "doesn't follow extended resource name standard"}},
      {"hugepages without cpu or memory", R"(
  containers: [{name: a, resources: {limits: {hugepages-2Mi: 2Mi}, requests: {hugepages-2Mi: 2Mi}}}])",
       {c0 + ": Forbidden: HugePages require cpu or memory"}},
      {"init containers too", R"(
  initContainers: [{name: i, resources: {requests: {cpu: "-500m"}}}])",
       {"spec.initContainers[0].resources.requests[cpu]: Invalid value: \"-500m\": must be "
        "greater than or equal to 0"}},
      // validateOverhead checks the overhead as a container's limits.
      {"overhead", R"(
  overhead: {cpu: "-1", gpu: "1"})",
       {"spec.overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
        "spec.overhead.limits[gpu]: Invalid value: gpu: must be a standard resource type or "
        "fully qualified",
        "spec.overhead.limits[gpu]: Invalid value: gpu: must be a standard resource for "
        "containers"}},
  });
}

TEST(ValidatePodTest, PortsAndRestartPolicy) {
  CheckPods({
      {"host port out of range", R"(
  containers: [{name: a, ports: [{containerPort: 80, hostPort: 70000}, {containerPort: 81, hostPort: -1}]}])",
       {"spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        "spec.containers[0].ports[1].hostPort: Invalid value: -1: must be between 1 and 65535, "
        "inclusive"}},
      {"protocol", R"(
  containers: [{name: a, ports: [{containerPort: 80, protocol: HTTP}]}])",
       {"spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
        "\"SCTP\", \"TCP\", \"UDP\""}},
      // The protocol defaults to TCP before the check.
      {"host port used twice in the pod", R"(
  containers:
  - {name: a, ports: [{containerPort: 80, hostPort: 8080}]}
  - {name: b, ports: [{containerPort: 80, hostPort: 8080, protocol: UDP}, {containerPort: 81, hostPort: 8080, protocol: TCP}]})",
       {"spec.containers[1].ports[1].hostPort: Duplicate value: \"TCP//8080\""}},
      // Init containers run one by one: only a clash within one container
      // counts, reported (as upstream) under index 0.
      {"init container host ports", R"(
  initContainers:
  - {name: i, ports: [{containerPort: 80, hostPort: 8080}]}
  - {name: j, ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 81, hostPort: 8080}]}
  containers:
  - {name: a, ports: [{containerPort: 80, hostPort: 8080}]})",
       {"spec.initContainers[0].ports[1].hostPort: Duplicate value: \"TCP//8080\""}},
      {"restartPolicy", R"(
  initContainers: [{name: i, restartPolicy: Never}]
  containers: [{name: a, restartPolicy: Always}])",
       {"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        "spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: "
        "\"Always\""}},
  });
}

TEST(ValidatePodTest, NodeSelectorAndNodeAffinity) {
  const std::string req =
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
  const std::string term = req + ".nodeSelectorTerms[0]";
  const std::string pref = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";
  auto required = [](const std::string& requirement, const std::string& kind = "matchExpressions") {
    return absl::StrCat(R"(
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - )",
                        kind, ": [", requirement, "]");
  };
  CheckPods({
      {"nodeSelector", R"(
  nodeSelector: {zone: "a b", "a/b/c": x})",
       {"spec.nodeSelector: Invalid value: \"a/b/c\": a qualified name must consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and "
        "'/' (e.g. 'example.com/MyName')",
        "spec.nodeSelector: Invalid value: \"a b\": " + kLabelValue}},
      {"no terms", R"(
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []})",
       {req + ".nodeSelectorTerms: Required value: must have at least one node selector term"}},
      {"In without values", required("{key: zone, operator: In}"),
       {term + ".matchExpressions[0].values: Required value: must be specified when `operator` "
               "is 'In' or 'NotIn'"}},
      {"NotIn without values", required("{key: zone, operator: NotIn, values: []}"),
       {term + ".matchExpressions[0].values: Required value: must be specified when `operator` "
               "is 'In' or 'NotIn'"}},
      {"Exists with values", required("{key: zone, operator: Exists, values: [a]}"),
       {term + ".matchExpressions[0].values: Forbidden: may not be specified when `operator` is "
               "'Exists' or 'DoesNotExist'"}},
      {"DoesNotExist with values", required("{key: zone, operator: DoesNotExist, values: [a]}"),
       {term + ".matchExpressions[0].values: Forbidden: may not be specified when `operator` is "
               "'Exists' or 'DoesNotExist'"}},
      {"Gt with two values", required("{key: cores, operator: Gt, values: [\"1\", \"2\"]}"),
       {term + ".matchExpressions[0].values: Required value: must be specified single value when "
               "`operator` is 'Lt' or 'Gt'"}},
      {"Lt without a value", required("{key: cores, operator: Lt}"),
       {term + ".matchExpressions[0].values: Required value: must be specified single value when "
               "`operator` is 'Lt' or 'Gt'"}},
      {"unknown operator", required("{key: zone, operator: Near, values: [a]}"),
       {term + ".matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector "
               "operator"}},
      {"key not a qualified name", required("{key: \"-zone\", operator: Exists}"),
       {term + ".matchExpressions[0].key: Invalid value: \"-zone\": " + kNamePart}},
      // Values that are no label values, and Gt/Lt values that are no
      // integers, are the scheduler's lazy parse errors, not refusals.
      {"values are not refused",
       required("{key: zone, operator: In, values: [\"bad value!\"]}, {key: n, operator: Lt, "
                "values: [\"-5\"]}, {key: n, operator: Gt, values: [x]}"),
       {}},
      {"matchFields on another field",
       required("{key: metadata.uid, operator: In, values: [a]}", "matchFields"),
       {term + ".matchFields[0].key: Invalid value: \"metadata.uid\": not a valid field selector "
               "key"}},
      {"matchFields operator", required("{key: metadata.name, operator: Exists}", "matchFields"),
       {term + ".matchFields[0].operator: Invalid value: \"Exists\": not a valid selector "
               "operator"}},
      {"matchFields with two names",
       required("{key: metadata.name, operator: NotIn, values: [a, b]}", "matchFields"),
       {term + ".matchFields[0].values: Required value: must be only one value when `operator` "
               "is 'In' or 'NotIn' for node field selector"}},
      {"matchFields with a bad node name",
       required("{key: metadata.name, operator: In, values: [Node_1]}", "matchFields"),
       {term + ".matchFields[0].values[0]: Invalid value: \"Node_1\": " + kSubdomain}},
      {"preferred weights and terms", R"(
  affinity:
    nodeAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 0, preference: {matchExpressions: [{key: zone, operator: Near}]}}
      - {weight: 101, preference: {}}
      - {weight: 5, preference: {matchExpressions: [{key: zone, operator: In, values: ["bad!"]}]}})",
       {pref + "[0].weight: Invalid value: 0: must be in the range 1-100",
        pref + "[0].preference.matchExpressions[0].operator: Invalid value: \"Near\": not a "
               "valid selector operator",
        pref + "[1].weight: Invalid value: 101: must be in the range 1-100"}},
  });
}

TEST(ValidatePodTest, PodAffinity) {
  const std::string anti = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]";
  const std::string pref = "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]";
  CheckPods({
      // Upstream reports the empty key as required and as no qualified name.
      {"empty topologyKey", R"(
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {}}])",
       {anti + ".topologyKey: Required value: can not be empty",
        anti + ".topologyKey: Invalid value: \"\": name part must be non-empty",
        anti + ".topologyKey: Invalid value: \"\": " + kNamePart}},
      {"topologyKey not a qualified name", R"(
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: "zone!"}])",
       {anti + ".topologyKey: Invalid value: \"zone!\": " + kNamePart}},
      // The namespace error names "namespace", as upstream's does.
      {"selectors and namespaces", R"(
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: zone
        namespaces: [Team_B]
        labelSelector:
          matchLabels: {app: "bad value!"}
          matchExpressions: [{key: app, operator: Near, values: [web]}, {key: app, operator: In}]
        namespaceSelector:
          matchExpressions: [{key: team, operator: Exists, values: [a]}])",
       {anti + ".labelSelector.matchLabels: Invalid value: \"bad value!\": " + kLabelValue,
        anti + ".labelSelector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid "
               "selector operator",
        anti + ".labelSelector.matchExpressions[1].values: Required value: must be specified "
               "when `operator` is 'In' or 'NotIn'",
        anti + ".namespaceSelector.matchExpressions[0].values: Forbidden: may not be specified "
               "when `operator` is 'Exists' or 'DoesNotExist'",
        anti + ".namespace: Invalid value: \"Team_B\": " + kDnsLabel}},
      {"preferred weight", R"(
  affinity:
    podAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - {weight: 0, podAffinityTerm: {topologyKey: zone}})",
       {pref + ".weight: Invalid value: 0: must be in the range 1-100"}},
  });
}

TEST(ValidatePodTest, Tolerations) {
  const std::string t0 = "spec.tolerations[0]";
  CheckPods({
      {"key not a qualified name", "  tolerations: [{key: \"a b\", operator: Exists}]",
       {t0 + ".key: Invalid value: \"a b\": " + kNamePart}},
      {"empty key needs Exists", "  tolerations: [{operator: Equal, value: x}]",
       {t0 + ".operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, "
             "which means \"match all values and all keys\""}},
      {"empty key, no operator", "  tolerations: [{effect: NoSchedule}]",
       {t0 + ".operator: Invalid value: \"\": operator must be Exists when `key` is empty, which "
             "means \"match all values and all keys\""}},
      {"tolerationSeconds needs NoExecute",
       "  tolerations: [{key: k, operator: Exists, effect: NoSchedule, tolerationSeconds: 5}]",
       {t0 + ".effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
             "`tolerationSeconds` is set"}},
      // Upstream reports the value under "operator".
      {"Equal with a bad value", "  tolerations: [{key: k, value: \"bad value!\"}]",
       {t0 + ".operator: Invalid value: \"bad value!\": " + kLabelValue}},
      {"Exists with a value", "  tolerations: [{key: k, operator: Exists, value: v}]",
       {t0 + ".operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"}},
      {"unknown operator", "  tolerations: [{key: k, operator: Maybe}]",
       {t0 + ".operator: Unsupported value: \"Maybe\": supported values: \"Equal\", "
             "\"Exists\""}},
      {"unknown effect", "  tolerations: [{key: k, operator: Exists, effect: Never}]",
       {t0 + ".effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", "
             "\"PreferNoSchedule\", \"NoExecute\""}},
  });
}

TEST(ValidatePodTest, TopologySpreadConstraints) {
  const std::string c0 = "spec.topologySpreadConstraints[0]";
  CheckPods({
      {"maxSkew, topologyKey, whenUnsatisfiable", R"(
  topologySpreadConstraints: [{maxSkew: 0}])",
       {c0 + ".maxSkew: Invalid value: 0: must be greater than zero",
        c0 + ".topologyKey: Required value: can not be empty",
        c0 + ".whenUnsatisfiable: Unsupported value: \"\": supported values: \"DoNotSchedule\", "
             "\"ScheduleAnyway\""}},
      {"unknown whenUnsatisfiable", R"(
  topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Sometimes}])",
       {c0 + ".whenUnsatisfiable: Unsupported value: \"Sometimes\": supported values: "
             "\"DoNotSchedule\", \"ScheduleAnyway\""}},
      {"the same key and action twice", R"(
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
  - {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule})",
       {c0 + ".{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, DoNotSchedule}\""}},
      {"minDomains", R"(
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 0}
  - {maxSkew: 1, topologyKey: host, whenUnsatisfiable: ScheduleAnyway, minDomains: 2})",
       {c0 + ".minDomains: Invalid value: 0: must be greater than zero",
        "spec.topologySpreadConstraints[1].minDomains: Invalid value: 2: can only use "
        "minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"}},
      {"inclusion policies and selector", R"(
  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: zone
    whenUnsatisfiable: DoNotSchedule
    nodeAffinityPolicy: Always
    nodeTaintsPolicy: Never
    labelSelector: {matchExpressions: [{key: app, operator: Near}]})",
       {c0 + ".nodeAffinityPolicy: Unsupported value: \"Always\": supported values: \"Honor\", "
             "\"Ignore\"",
        c0 + ".nodeTaintsPolicy: Unsupported value: \"Never\": supported values: \"Honor\", "
             "\"Ignore\"",
        c0 + ".labelSelector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid "
             "selector operator"}},
  });
}

TEST(ValidatePodTest, NamesAndPolicies) {
  CheckPods({
      {"nodeName", "  nodeName: Node_1",
       {"spec.nodeName: Invalid value: \"Node_1\": " + kSubdomain}},
      {"priorityClassName", "  priorityClassName: High",
       {"spec.priorityClassName: Invalid value: \"High\": " + kSubdomain}},
      {"preemptionPolicy", "  preemptionPolicy: Sometimes",
       {"spec.preemptionPolicy: Unsupported value: \"Sometimes\": supported values: "
        "\"PreemptLowerPriority\", \"Never\""}},
      {"empty preemptionPolicy", "  preemptionPolicy: \"\"",
       {"spec.preemptionPolicy: Required value"}},
  });
}

TEST(ValidateNodeTest, Cases) {
  struct NodeCase {
    std::string name;
    std::string yaml;  // after "kind: Node"
    std::vector<std::string> want;
  };
  const std::vector<NodeCase> cases = {
      {"valid", R"(
metadata: {name: node-1.zone-a, labels: {kubernetes.io/hostname: node-1}}
spec:
  taints:
  - {key: dedicated, value: gpu, effect: NoSchedule}
  - {key: dedicated, value: gpu, effect: NoExecute}
  - {key: example.com/empty, effect: PreferNoSchedule}
status:
  allocatable: {cpu: 3500m, memory: 8Gi, pods: "110", example.com/gpu: "2", hugepages-2Mi: "0"}
)",
       {}},
      {"name", "metadata: {name: Bad_Name!}\n",
       {"metadata.name: Invalid value: \"Bad_Name!\": " + kSubdomain}},
      {"no name", "metadata: {labels: {a: b}}\n",
       {"metadata.name: Required value: name or generateName is required"}},
      {"labels", "metadata: {name: n, labels: {zone: \"-a\"}}\n",
       {"metadata.labels: Invalid value: \"-a\": " + kLabelValue}},
      {"taint effect", "metadata: {name: n}\nspec: {taints: [{key: k, effect: Never}]}\n",
       {"spec.taints[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", "
        "\"PreferNoSchedule\", \"NoExecute\""}},
      {"taint without effect", "metadata: {name: n}\nspec: {taints: [{key: k}]}\n",
       {"spec.taints[0].effect: Required value"}},
      {"taint key and value", "metadata: {name: n}\nspec: {taints: [{value: \"a b\", effect: NoSchedule}]}\n",
       {"spec.taints[0].key: Invalid value: \"\": name part must be non-empty",
        "spec.taints[0].key: Invalid value: \"\": " + kNamePart,
        "spec.taints[0].value: Invalid value: \"a b\": " + kLabelValue}},
      {"duplicate taint",
       "metadata: {name: n}\nspec: {taints: [{key: k, value: a, effect: NoSchedule}, {key: k, "
       "value: b, effect: NoSchedule}]}\n",
       {"spec.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"b\", "
        "Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and "
        "effect pair"}},
      {"allocatable",
       "metadata: {name: n}\nstatus: {allocatable: {cpu: \"-1\", pods: 1500m, example.com/gpu: "
       "500m, memory: 1.5}}\n",
       {"status.allocatable.cpu: Invalid value: \"-1\": must be greater than or equal to 0",
        "status.allocatable.example.com/gpu: Invalid value: 500m: must be an integer",
        "status.allocatable.pods: Invalid value: 1500m: must be an integer"}},
  };
  for (const NodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    const v1::Node node = Decode<v1::Node>(absl::StrCat("apiVersion: v1\nkind: Node\n", c.yaml));
    EXPECT_THAT(ValidateNode(node), ElementsAreArray(c.want));
  }
}

// The scheduler's own parse of a node selector term: what
// labels.NewRequirement and the field selector refuse, with upstream's
// paths (a label value's path ends in the key).
TEST(NodeSelectorTermParseErrorsTest, Cases) {
  struct TermCase {
    std::string name;
    std::string term;
    std::vector<std::string> want;
  };
  const std::vector<TermCase> cases = {
      // "-5" parses as an integer, but is no label value.
      {"Gt on a negative number", "{matchExpressions: [{key: zone, operator: In, values: [a, \"\"]}, {key: n, "
                "operator: Gt, values: [\"-5\"]}]}",
       {"[0].matchExpressions[1].values[0][n]: Invalid value: \"-5\": " + kLabelValue}},
      {"In a value that is no label value",
       "{matchExpressions: [{key: zone, operator: NotIn, values: [ok, \"invalid value: "
       "___@#$%^\"]}]}",
       {"[0].matchExpressions[0].values[1][zone]: Invalid value: \"invalid value: ___@#$%^\": " +
        kLabelValue}},
      {"Gt not an integer", "{matchExpressions: [{key: n, operator: Gt, values: [three]}]}",
       {"[0].matchExpressions[0].values[0]: Invalid value: \"three\": for 'Gt', 'Lt' operators, "
        "the value must be an integer"}},
      {"Lt with a space", "{matchExpressions: [{key: n, operator: Lt, values: [\" 5\"]}]}",
       {"[0].matchExpressions[0].values[0]: Invalid value: \" 5\": for 'Gt', 'Lt' operators, the "
        "value must be an integer",
        "[0].matchExpressions[0].values[0][n]: Invalid value: \" 5\": " + kLabelValue}},
      {"unknown operator", "{matchExpressions: [{key: \"bad key!\", operator: Near}]}",
       {"[0].matchExpressions[0].operator: Unsupported value: \"Near\": supported values: "
        "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\""}},
      {"fields", "{matchFields: [{key: metadata.name, operator: Exists}, {key: metadata.name, "
                 "operator: In, values: [a, b]}]}",
       {"[0].matchFields[0].operator: Unsupported value: \"Exists\": supported values: \"In\", "
        "\"NotIn\"",
        "[0].matchFields[1].values: Invalid value: []string{\"a\", \"b\"}: must have one "
        "element"}},
      {"empty", "{}", {}},
  };
  for (const TermCase& c : cases) {
    SCOPED_TRACE(c.name);
    v1::NodeSelectorTerm term;
    ASSERT_TRUE(DecodeInto(c.term, &term, "term.yaml").ok());
    std::vector<std::string> errs;
    NodeSelectorTermParseErrors(term, "[0]", errs);
    EXPECT_THAT(errs, ElementsAreArray(c.want));
  }
}

}  // namespace
}  // namespace kestrel::api
