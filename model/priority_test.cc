// PriorityClass validation, the Priority admission plugin's resolution and
// critical-pod detection, against upstream:
//   - plugin/pkg/admission/priority/admission.go (admitPod, establishPriority,
//     getDefaultPriority, validatePriorityClass): messages word for word;
//   - pkg/apis/scheduling/validation/validation.go (ValidatePriorityClass),
//     pkg/apis/scheduling/helpers.go (IsKnownSystemPriorityClass),
//     pkg/apis/scheduling/v1/defaults.go (preemptionPolicy defaults to
//     PreemptLowerPriority);
//   - pkg/kubelet/types/pod_update.go (IsCriticalPodBasedOnPriority) and the
//     1.4 rescheduler's isCriticalPod (annotation present, any value).

#include "model/priority.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/scheduling.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/compile.h"

namespace kestrel::model {
namespace {

using ::testing::HasSubstr;
namespace schedv1 = ::k8s::io::api::scheduling::v1;

schedv1::PriorityClass ClassFromYaml(const std::string& yaml) {
  schedv1::PriorityClass pc;
  absl::Status s = api::DecodeInto(yaml, &pc, "test.yaml");
  EXPECT_TRUE(s.ok()) << s;
  return pc;
}

v1::PodSpec SpecFromYaml(const std::string& yaml) {
  v1::PodSpec spec;
  absl::Status s = api::DecodeInto(yaml, &spec, "test.yaml");
  EXPECT_TRUE(s.ok()) << s;
  return spec;
}

PriorityClass Class(std::string name, int32_t value, bool global_default = false,
                    PreemptionPolicy policy = PreemptionPolicy::kPreemptLowerPriority) {
  return {std::move(name), value, global_default, policy};
}

// ---------------------------------------------------------------------------
// CompilePriorityClass: validation.

struct ValidationCase {
  std::string name;
  std::string yaml;
  std::string error;  // empty: valid
};

TEST(CompilePriorityClassTest, Validation) {
  const std::vector<ValidationCase> cases = {
      {"user class", "metadata: {name: gold}\nvalue: 1000\n", ""},
      {"highest user value", "metadata: {name: gold}\nvalue: 1000000000\n", ""},
      {"negative value", "metadata: {name: low}\nvalue: -5\n", ""},
      {"dotted name", "metadata: {name: team.gold}\nvalue: 1\n", ""},
      {"system class as a snapshot lists it",
       "metadata: {name: system-node-critical}\nvalue: 2000001000\n", ""},
      {"user value too high", "metadata: {name: gold}\nvalue: 1000000001\n",
       "PriorityClass gold: value: Forbidden: maximum allowed value of a user defined priority "
       "is 1000000000"},
      {"missing name", "value: 1\n",
       "PriorityClass : metadata.name: Required value: name or generateName is required"},
      {"name not a DNS subdomain", "metadata: {name: Gold_1}\nvalue: 1\n",
       "PriorityClass Gold_1: metadata.name: Invalid value: \"Gold_1\": a lowercase RFC 1123 "
       "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
       "start and end with an alphanumeric character (e.g. 'example.com', regex used for "
       "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"unknown system name", "metadata: {name: system-mine}\nvalue: 1\n",
       "PriorityClass system-mine: metadata.name: Forbidden: priority class names with "
       "'system-' prefix are reserved for system use only. error: system-mine is not a known "
       "system priority class"},
      {"system class with another value",
       "metadata: {name: system-cluster-critical}\nvalue: 5\n",
       "PriorityClass system-cluster-critical: metadata.name: Forbidden: priority class names "
       "with 'system-' prefix are reserved for system use only. error: value of "
       "system-cluster-critical PriorityClass must be 2000000000"},
      {"system class as default",
       "metadata: {name: system-cluster-critical}\nvalue: 2000000000\nglobalDefault: true\n",
       "PriorityClass system-cluster-critical: metadata.name: Forbidden: priority class names "
       "with 'system-' prefix are reserved for system use only. error: globalDefault of "
       "system-cluster-critical PriorityClass must be false"},
      {"bad preemption policy",
       "metadata: {name: gold}\nvalue: 1\npreemptionPolicy: Sometimes\n",
       "PriorityClass gold: preemptionPolicy: Unsupported value: \"Sometimes\": supported "
       "values: \"Never\", \"PreemptLowerPriority\""},
      {"two problems aggregate",
       "metadata: {name: gold}\nvalue: 2000000000\npreemptionPolicy: Sometimes\n",
       "PriorityClass gold: [value: Forbidden: maximum allowed value of a user defined priority "
       "is 1000000000, preemptionPolicy: Unsupported value: \"Sometimes\": supported values: "
       "\"Never\", \"PreemptLowerPriority\"]"},
  };
  for (const ValidationCase& c : cases) {
    absl::StatusOr<PriorityClass> pc = CompilePriorityClass(ClassFromYaml(c.yaml));
    if (c.error.empty()) {
      EXPECT_TRUE(pc.ok()) << c.name << ": " << pc.status();
    } else {
      EXPECT_EQ(pc.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
      EXPECT_EQ(pc.status().message(), c.error) << c.name;
    }
  }
}

TEST(CompilePriorityClassTest, Fields) {
  absl::StatusOr<PriorityClass> pc = CompilePriorityClass(ClassFromYaml(
      "metadata: {name: batch}\nvalue: -10\nglobalDefault: true\npreemptionPolicy: Never\n"));
  ASSERT_TRUE(pc.ok()) << pc.status();
  EXPECT_EQ(pc->name, "batch");
  EXPECT_EQ(pc->value, -10);
  EXPECT_TRUE(pc->global_default);
  EXPECT_EQ(pc->preemption_policy, PreemptionPolicy::kNever);

  // Unset: upstream's default, PreemptLowerPriority.
  pc = CompilePriorityClass(ClassFromYaml("metadata: {name: gold}\nvalue: 7\n"));
  ASSERT_TRUE(pc.ok()) << pc.status();
  EXPECT_FALSE(pc->global_default);
  EXPECT_EQ(pc->preemption_policy, PreemptionPolicy::kPreemptLowerPriority);
}

// ---------------------------------------------------------------------------
// The registry.

TEST(PriorityClassesTest, BuiltIns) {
  PriorityClasses classes;
  ASSERT_NE(classes.Find("system-cluster-critical"), nullptr);
  EXPECT_EQ(classes.Find("system-cluster-critical")->value, 2000000000);
  ASSERT_NE(classes.Find("system-node-critical"), nullptr);
  EXPECT_EQ(classes.Find("system-node-critical")->value, 2000001000);
  EXPECT_EQ(classes.Find("gold"), nullptr);
  EXPECT_EQ(classes.GlobalDefault(), nullptr);
}

struct AddCase {
  std::string name;
  std::vector<PriorityClass> adds;
  std::string error;  // of the last Add; the others succeed
};

TEST(PriorityClassesTest, Add) {
  const std::vector<AddCase> cases = {
      {"user classes", {Class("gold", 100), Class("silver", 50, true)}, ""},
      {"a built-in once, as a snapshot lists it", {Class("system-cluster-critical", 2000000000)},
       ""},
      {"a built-in twice",
       {Class("system-node-critical", 2000001000), Class("system-node-critical", 2000001000)},
       "PriorityClass system-node-critical: metadata.name: Duplicate value: "
       "\"system-node-critical\""},
      {"a duplicate", {Class("gold", 100), Class("gold", 100)},
       "PriorityClass gold: metadata.name: Duplicate value: \"gold\""},
      {"a second global default names both", {Class("a", 1, true), Class("b", 2, true)},
       "PriorityClass b: globalDefault: Forbidden: PriorityClass a is already marked as "
       "default. Only one default can exist"},
      {"validated again", {Class("system-x", 1)},
       "PriorityClass system-x: metadata.name: Forbidden: priority class names with 'system-' "
       "prefix are reserved for system use only. error: system-x is not a known system "
       "priority class"},
  };
  for (const AddCase& c : cases) {
    PriorityClasses classes;
    absl::Status s;
    for (size_t i = 0; i < c.adds.size(); ++i) {
      s = classes.Add(c.adds[i]);
      if (i + 1 < c.adds.size()) {
        ASSERT_TRUE(s.ok()) << c.name << ": " << s;
      }
    }
    if (c.error.empty()) {
      EXPECT_TRUE(s.ok()) << c.name << ": " << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name;
      EXPECT_EQ(s.message(), c.error) << c.name;
    }
  }
}

TEST(PriorityClassesTest, GlobalDefaultIsFound) {
  PriorityClasses classes;
  ASSERT_TRUE(classes.Add(Class("gold", 100)).ok());
  ASSERT_TRUE(classes.Add(Class("silver", 50, true)).ok());
  ASSERT_NE(classes.GlobalDefault(), nullptr);
  EXPECT_EQ(classes.GlobalDefault()->name, "silver");
}

// ---------------------------------------------------------------------------
// Resolve: upstream admitPod on create.

struct ResolveCase {
  std::string name;
  std::vector<PriorityClass> classes;
  std::string spec;  // PodSpec YAML
  // Want, when `error` is empty.
  std::string class_name;
  int32_t priority = 0;
  PreemptionPolicy policy = PreemptionPolicy::kPreemptLowerPriority;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string error;
};

TEST(PriorityClassesTest, Resolve) {
  const PriorityClass gold = Class("gold", 1000);
  const PriorityClass never = Class("never", 500, false, PreemptionPolicy::kNever);
  const PriorityClass batch = Class("batch", -10, true, PreemptionPolicy::kNever);
  const std::vector<ResolveCase> cases = {
      {"no class, no default: 0", {gold}, "{}", "", 0},
      {"no class: the global default", {gold, batch}, "{}", "batch", -10,
       PreemptionPolicy::kNever},
      {"named class", {gold, batch}, "{priorityClassName: gold}", "gold", 1000},
      {"class policy applies", {never}, "{priorityClassName: never}", "never", 500,
       PreemptionPolicy::kNever},
      {"built-in cluster critical", {}, "{priorityClassName: system-cluster-critical}",
       "system-cluster-critical", 2000000000},
      {"built-in node critical", {}, "{priorityClassName: system-node-critical}",
       "system-node-critical", 2000001000},
      {"explicit priority that agrees", {gold}, "{priorityClassName: gold, priority: 1000}",
       "gold", 1000},
      {"explicit policy that agrees", {never},
       "{priorityClassName: never, preemptionPolicy: Never}", "never", 500,
       PreemptionPolicy::kNever},
      {"explicit 0 with no class and no default", {}, "{priority: 0}", "", 0},
      {"unknown class", {gold}, "{priorityClassName: platinum}", "", 0,
       PreemptionPolicy::kPreemptLowerPriority, absl::StatusCode::kNotFound,
       "no PriorityClass with name platinum was found"},
      {"explicit priority that disagrees with the class", {gold},
       "{priorityClassName: gold, priority: 7}", "", 0, PreemptionPolicy::kPreemptLowerPriority,
       absl::StatusCode::kFailedPrecondition,
       "the integer value of priority (7) must not be provided in pod spec; priority admission "
       "controller computed 1000 from the given PriorityClass name"},
      {"explicit priority that disagrees with the default", {batch}, "{priority: 10}", "", 0,
       PreemptionPolicy::kPreemptLowerPriority, absl::StatusCode::kFailedPrecondition,
       "the integer value of priority (10) must not be provided in pod spec; priority "
       "admission controller computed -10 from the given PriorityClass name"},
      {"explicit policy that disagrees with the class", {gold},
       "{priorityClassName: gold, preemptionPolicy: Never}", "", 0,
       PreemptionPolicy::kPreemptLowerPriority, absl::StatusCode::kFailedPrecondition,
       "the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority "
       "admission controller computed PreemptLowerPriority from the given PriorityClass name"},
      {"explicit policy that disagrees with no default", {}, "{preemptionPolicy: Never}", "", 0,
       PreemptionPolicy::kPreemptLowerPriority, absl::StatusCode::kFailedPrecondition,
       "the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority "
       "admission controller computed PreemptLowerPriority from the given PriorityClass name"},
  };
  for (const ResolveCase& c : cases) {
    PriorityClasses classes;
    for (const PriorityClass& pc : c.classes) ASSERT_TRUE(classes.Add(pc).ok()) << c.name;
    absl::StatusOr<ResolvedPriority> r = classes.Resolve(SpecFromYaml(c.spec));
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
      EXPECT_EQ(r->class_name, c.class_name) << c.name;
      EXPECT_EQ(r->priority, c.priority) << c.name;
      EXPECT_EQ(r->preemption_policy, c.policy) << c.name;
    } else {
      EXPECT_EQ(r.status().code(), c.code) << c.name;
      EXPECT_EQ(r.status().message(), c.error) << c.name;
    }
  }
}

TEST(PriorityRequestTest, FromSpecKeepsWhatIsSet) {
  PriorityRequest r = PriorityRequest::FromSpec(SpecFromYaml("{}"));
  EXPECT_EQ(r.class_name, "");
  EXPECT_EQ(r.priority, std::nullopt);
  EXPECT_EQ(r.preemption_policy, std::nullopt);
  r = PriorityRequest::FromSpec(
      SpecFromYaml("{priorityClassName: gold, priority: 0, preemptionPolicy: Never}"));
  EXPECT_EQ(r.class_name, "gold");
  EXPECT_EQ(r.priority, 0);
  EXPECT_EQ(r.preemption_policy, PreemptionPolicy::kNever);
}

// ---------------------------------------------------------------------------
// IsCritical, on compiled pods.

struct CriticalCase {
  std::string name;
  std::string pod_yaml;
  bool alpha_annotations = true;
  std::string system_namespace = kDefaultSystemNamespace;
  bool want = false;
};

TEST(IsCriticalTest, Table) {
  const std::string annotated =
      "metadata:\n  name: dns\n  namespace: kube-system\n  annotations:\n"
      "    scheduler.alpha.kubernetes.io/critical-pod: \"\"\n";
  const std::vector<CriticalCase> cases = {
      {"plain pod", "metadata: {name: p, namespace: kube-system}\n"},
      {"cluster critical priority", "metadata: {name: p}\nspec: {priority: 2000000000}\n", true,
       kDefaultSystemNamespace, true},
      {"node critical priority", "metadata: {name: p}\nspec: {priority: 2000001000}\n", true,
       kDefaultSystemNamespace, true},
      {"just below", "metadata: {name: p, namespace: kube-system}\nspec: {priority: 1999999999}\n"},
      {"annotation in kube-system", annotated, true, kDefaultSystemNamespace, true},
      {"annotation with any value",
       "metadata:\n  name: dns\n  namespace: kube-system\n  annotations:\n"
       "    scheduler.alpha.kubernetes.io/critical-pod: \"true\"\n",
       true, kDefaultSystemNamespace, true},
      {"annotation elsewhere",
       "metadata:\n  name: dns\n  namespace: default\n  annotations:\n"
       "    scheduler.alpha.kubernetes.io/critical-pod: \"\"\n"},
      {"annotation, another system namespace", annotated, true, "addons", false},
      {"annotation in a configured system namespace",
       "metadata:\n  name: dns\n  namespace: addons\n  annotations:\n"
       "    scheduler.alpha.kubernetes.io/critical-pod: \"\"\n",
       true, "addons", true},
      {"annotation with alpha annotations off", annotated, false, kDefaultSystemNamespace,
       false},
  };
  for (const CriticalCase& c : cases) {
    v1::Pod api;
    absl::Status s = api::DecodeInto(c.pod_yaml, &api, "test.yaml");
    ASSERT_TRUE(s.ok()) << c.name << ": " << s;
    Interner names;
    CompileOptions options;
    options.alpha_annotations = c.alpha_annotations;
    absl::StatusOr<PodPtr> pod = CompilePod(api, names, options);
    ASSERT_TRUE(pod.ok()) << c.name << ": " << pod.status();
    EXPECT_EQ(IsCritical(**pod, c.system_namespace), c.want) << c.name;
  }
}

TEST(CompilePodTest, KeepsPriorityClassName) {
  v1::Pod api;
  ASSERT_TRUE(
      api::DecodeInto("metadata: {name: p}\nspec: {priorityClassName: gold}\n", &api, "t").ok());
  Interner names;
  absl::StatusOr<PodPtr> pod = CompilePod(api, names);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ((*pod)->priority_class_name, "gold");
  EXPECT_FALSE((*pod)->critical_annotation);
}

}  // namespace
}  // namespace kestrel::model
