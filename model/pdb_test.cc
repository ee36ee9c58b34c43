// CompilePodDisruptionBudget and PodDisruptionBudget::Selects against
// upstream's filterPodsWithPDBViolation (pkg/scheduler/framework/plugins/
// defaultpreemption/default_preemption.go): namespace must match, a nil or
// empty selector and a pod without labels match nothing.

#include "model/pdb.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "api/policy.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::model {
namespace {

using PdbProto = ::k8s::io::api::policy::v1::PodDisruptionBudget;

PdbProto DecodePdb(const std::string& yaml) {
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects(
      "test.yaml", absl::StrCat("apiVersion: policy/v1\nkind: PodDisruptionBudget\n", yaml));
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok() || objects->size() != 1) {
    ADD_FAILURE() << "want one PodDisruptionBudget in:\n" << yaml;
    return PdbProto();
  }
  return static_cast<const PdbProto&>(*(*objects)[0].message);
}

Pod PodWithLabels(Interner& names, const std::string& ns,
                  const std::vector<std::pair<std::string, std::string>>& labels) {
  Pod p;
  p.ns = ns;
  p.name = "p";
  p.ns_id = names.Intern(ns);
  std::vector<Label> compiled;
  for (const auto& [k, v] : labels) compiled.push_back({names.Intern(k), names.Intern(v), {}});
  p.labels = Labels(std::move(compiled));
  return p;
}

TEST(CompilePodDisruptionBudgetTest, Fields) {
  Interner names;
  absl::StatusOr<PdbPtr> pdb = CompilePodDisruptionBudget(
      DecodePdb("metadata: {name: db, namespace: prod}\n"
                "spec: {selector: {matchLabels: {app: db}}}\n"
                "status:\n"
                "  disruptionsAllowed: 2\n"
                "  disruptedPods: {db-1: \"2024-01-01T00:00:00Z\", db-0: \"2024-01-01T00:00:00Z\"}\n"),
      names);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  EXPECT_EQ((*pdb)->Key(), "prod/db");
  EXPECT_EQ((*pdb)->ns_id, names.Intern("prod"));
  EXPECT_EQ((*pdb)->disruptions_allowed, 2);
  EXPECT_THAT((*pdb)->disrupted_pods, ::testing::ElementsAre("db-0", "db-1"));
  EXPECT_TRUE((*pdb)->AlreadyDisrupted("db-1"));
  EXPECT_FALSE((*pdb)->AlreadyDisrupted("db-2"));
}

TEST(CompilePodDisruptionBudgetTest, DefaultNamespace) {
  Interner names;
  absl::StatusOr<PdbPtr> pdb = CompilePodDisruptionBudget(DecodePdb("metadata: {name: db}\n"), names);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  EXPECT_EQ((*pdb)->Key(), "default/db");
  EXPECT_EQ((*pdb)->disruptions_allowed, 0);
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string want;
};

class CompileErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CompileErrorTest, NamesObjectAndField) {
  Interner names;
  absl::StatusOr<PdbPtr> pdb = CompilePodDisruptionBudget(DecodePdb(GetParam().yaml), names);
  ASSERT_FALSE(pdb.ok());
  EXPECT_EQ(pdb.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(pdb.status().message()), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompileErrorTest,
    ::testing::Values(
        ErrorCase{"NoName", "metadata: {namespace: prod}\n",
                  "PodDisruptionBudget prod/: metadata.name: Required value"},
        ErrorCase{"NegativeAllowed",
                  "metadata: {name: db, namespace: prod}\nstatus: {disruptionsAllowed: -1}\n",
                  "PodDisruptionBudget prod/db: status.disruptionsAllowed: Invalid value: -1: "
                  "must be greater than or equal to 0"},
        ErrorCase{"BadOperator",
                  "metadata: {name: db, namespace: prod}\n"
                  "spec: {selector: {matchExpressions: [{key: app, operator: Maybe}]}}\n",
                  "PodDisruptionBudget prod/db: spec.selector.matchExpressions[0].operator: "
                  "Unsupported value: \"Maybe\": supported values: \"DoesNotExist\", "
                  "\"Exists\", \"In\", \"NotIn\""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

struct SelectsCase {
  std::string name;
  std::string spec;  // YAML flow mapping for spec
  std::string pod_ns;
  std::vector<std::pair<std::string, std::string>> pod_labels;
  bool want;
};

class SelectsTest : public ::testing::TestWithParam<SelectsCase> {};

TEST_P(SelectsTest, Selects) {
  const SelectsCase& c = GetParam();
  Interner names;
  absl::StatusOr<PdbPtr> pdb = CompilePodDisruptionBudget(
      DecodePdb(absl::StrCat("metadata: {name: db, namespace: prod}\nspec: ", c.spec, "\n")),
      names);
  ASSERT_TRUE(pdb.ok()) << pdb.status();
  EXPECT_EQ((*pdb)->Selects(PodWithLabels(names, c.pod_ns, c.pod_labels)), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SelectsTest,
    ::testing::Values(
        SelectsCase{"MatchLabels", "{selector: {matchLabels: {app: db}}}", "prod",
                    {{"app", "db"}, {"tier", "x"}}, true},
        SelectsCase{"OtherValue", "{selector: {matchLabels: {app: db}}}", "prod",
                    {{"app", "web"}}, false},
        SelectsCase{"OtherNamespace", "{selector: {matchLabels: {app: db}}}", "dev",
                    {{"app", "db"}}, false},
        SelectsCase{"Expression",
                    "{selector: {matchExpressions: [{key: app, operator: In, values: [db, "
                    "cache]}]}}",
                    "prod", {{"app", "cache"}}, true},
        SelectsCase{"NilSelector", "{}", "prod", {{"app", "db"}}, false},
        SelectsCase{"EmptySelector", "{selector: {}}", "prod", {{"app", "db"}}, false},
        SelectsCase{"DoesNotExistButNoLabels",
                    "{selector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}",
                    "prod", {}, false},
        SelectsCase{"DoesNotExist",
                    "{selector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}",
                    "prod", {{"tier", "x"}}, true}),
    [](const ::testing::TestParamInfo<SelectsCase>& info) { return info.param.name; });

}  // namespace
}  // namespace kestrel::model
