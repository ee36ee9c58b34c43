#include "predicates/node_affinity/args.h"

#include <string>
#include <utility>
#include <vector>

#include "api/decode.h"
#include "gtest/gtest.h"

namespace kestrel::predicates {
namespace {

config::NodeAffinityArgs ArgsFromYaml(const std::string& yaml) {
  config::NodeAffinityArgs args;
  absl::Status s = api::DecodeInto(yaml, &args, "args.yaml");
  EXPECT_TRUE(s.ok()) << s;
  return args;
}

constexpr char kQualifiedNameRegexError[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

struct ValidateCase {
  const char* name;
  const char* yaml;
  std::string want_error;  // empty: valid
};

TEST(ValidateNodeAffinityArgsTest, Cases) {
  const std::string req =
      "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]";
  const std::string pref = "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]";
  const ValidateCase cases[] = {
      {"empty", "{}", ""},
      {"valid added affinity", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: label-1, operator: In, values: [label-1-val]}]
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 1
    preference:
      matchFields: [{key: metadata.name, operator: In, values: [node-1]}]
)",
       ""},
      // Upstream's "invalid added affinity": both errors, with the preferred
      // path lacking ".preference" as upstream prints it.
      {"invalid added affinity", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: invalid/label/key, operator: In, values: [label-1-val]}]
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 1
    preference:
      matchFields: [{key: metadata.name, operator: In, values: [node-1, node-2]}]
)",
       "[" + req + ".matchExpressions[0].key: Invalid value: \"invalid/label/key\": " +
           "a qualified name " + kQualifiedNameRegexError +
           " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName'), " + pref +
           ".matchFields[0].values: Invalid value: []string{\"node-1\", \"node-2\"}: " +
           "must have one element]"},
      {"unsupported operator", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: Near, values: [a]}]
)",
       req + ".matchExpressions[0].operator: Unsupported value: \"Near\": supported values: " +
           "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\""},
      {"In without values", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: In}]
)",
       req + ".matchExpressions[0].values: Invalid value: []string(nil): " +
           "for 'in', 'notin' operators, values set can't be empty"},
      {"Exists with values", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: Exists, values: [a]}]
)",
       req + ".matchExpressions[0].values: Invalid value: []string{\"a\"}: " +
           "values set must be empty for exists and does not exist"},
      {"Gt with two values, one not an integer", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: cores, operator: Gt, values: ["4", four]}]
)",
       "[" + req + ".matchExpressions[0].values: Invalid value: []string{\"4\", \"four\"}: " +
           "for 'Gt', 'Lt' operators, exactly one value is required, " + req +
           ".matchExpressions[0].values[1]: Invalid value: \"four\": " +
           "for 'Gt', 'Lt' operators, the value must be an integer]"},
      {"Gt with an integer", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: cores, operator: Gt, values: ["4"]}]
)",
       ""},
      // A negative number parses, but is no label value.
      {"Lt with a negative integer", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: cores, operator: Lt, values: ["-4"]}]
)",
       req + ".matchExpressions[0].values[0][cores]: Invalid value: \"-4\": " +
           "a valid label must be an empty string or consist of alphanumeric characters, " +
           "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. " +
           "'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
           "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {"invalid label value names the key", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: NotIn, values: [ok, "bad value!"]}]
)",
       req + ".matchExpressions[0].values[1][zone]: Invalid value: \"bad value!\": " +
           "a valid label must be an empty string or consist of alphanumeric characters, " +
           "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. " +
           "'MyValue',  or 'my_value',  or '12345', regex used for validation is " +
           "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
      {"empty key: both name part errors", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: "", operator: Exists}]
)",
       req + ".matchExpressions[0].key: Invalid value: \"\": name part must be non-empty; " +
           "name part " + kQualifiedNameRegexError},
      {"empty prefix", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: /zone, operator: Exists}]
)",
       req + ".matchExpressions[0].key: Invalid value: \"/zone\": prefix part must be non-empty"},
      {"prefix not a DNS subdomain", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: Example.com/zone, operator: Exists}]
)",
       req + ".matchExpressions[0].key: Invalid value: \"Example.com/zone\": prefix part a " +
           "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, " +
           "'-' or '.', and must start and end with an alphanumeric character (e.g. " +
           "'example.com', regex used for validation is " +
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"prefixed key is fine", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a, ""]}]
)",
       ""},
      {"matchFields operator", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - {}
    - matchFields: [{key: metadata.name, operator: Exists}]
)",
       "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[1]"
       ".matchFields[0].operator: Unsupported value: \"Exists\": supported values: "
       "\"In\", \"NotIn\""},
      {"matchFields on another key is accepted, as upstream", R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchFields: [{key: spec.unschedulable, operator: NotIn, values: ["true"]}]
)",
       ""},
      {"weight 0 and empty preferred terms are not validated", R"(
addedAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 0
    preference:
      matchExpressions: [{key: zone, operator: Near}]
  - weight: 5
    preference: {}
)",
       ""},
      {"errors of several terms, in order", R"(
addedAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 2
    preference:
      matchExpressions: [{key: zone, operator: In}]
      matchFields: [{key: metadata.name, operator: In}]
)",
       "[" + pref + ".matchExpressions[0].values: Invalid value: []string(nil): " +
           "for 'in', 'notin' operators, values set can't be empty, " + pref +
           ".matchFields[0].values: Invalid value: []string(nil): must have one element]"},
  };
  for (const ValidateCase& c : cases) {
    SCOPED_TRACE(c.name);
    const config::NodeAffinityArgs args = ArgsFromYaml(c.yaml);
    absl::Status s = ValidateNodeAffinityArgs(args);
    if (c.want_error.empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), c.want_error);
    }
    // Compiling validates first.
    model::Interner names;
    EXPECT_EQ(CompileAddedAffinity(args, names).status(), s);
  }
}

// A node with `labels`, as the compiler builds it.
model::Node MakeLabeledNode(model::Interner& names, const std::string& name,
                            const std::vector<std::pair<std::string, std::string>>& labels) {
  model::Node n;
  n.name = name;
  n.name_id = names.Intern(name);
  std::vector<model::Label> ls;
  for (const auto& [k, v] : labels) ls.push_back({names.Intern(k), names.Intern(v), {}});
  n.labels = model::Labels(std::move(ls));
  return n;
}

TEST(CompileAddedAffinityTest, NoAddedAffinity) {
  model::Interner names;
  absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(config::NodeAffinityArgs(), names);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_FALSE(added->required.has_value());
  EXPECT_TRUE(added->preferred.empty());
}

TEST(CompileAddedAffinityTest, RequiredAndPreferred) {
  model::Interner names;
  absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(ArgsFromYaml(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: In, values: [a, b]}]
    - matchFields: [{key: metadata.name, operator: In, values: [special]}]
  preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 0
    preference:
      matchExpressions: [{key: zone, operator: Exists}]
  - weight: 7
    preference: {}
  - weight: 3
    preference:
      matchExpressions: [{key: zone, operator: In, values: [b]}]
)"),
                                                             names);
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_TRUE(added->required.has_value());
  const model::NodeSelector& required = *added->required;
  const model::Node in_a = MakeLabeledNode(names, "n1", {{"zone", "a"}});
  const model::Node in_c = MakeLabeledNode(names, "n2", {{"zone", "c"}});
  const model::Node special = MakeLabeledNode(names, "special", {{"zone", "c"}});
  EXPECT_TRUE(required.Matches(in_a.labels, in_a.name_id));
  EXPECT_FALSE(required.Matches(in_c.labels, in_c.name_id));
  EXPECT_TRUE(required.Matches(special.labels, special.name_id));

  // Only the weight-3 term is kept.
  ASSERT_EQ(added->preferred.size(), 1u);
  EXPECT_EQ(added->preferred[0].weight, 3);
  const model::Node in_b = MakeLabeledNode(names, "n3", {{"zone", "b"}});
  EXPECT_TRUE(added->preferred[0].term.Matches(in_b.labels, in_b.name_id));
  EXPECT_FALSE(added->preferred[0].term.Matches(in_a.labels, in_a.name_id));
}

// Upstream matches matchFields on keys other than metadata.name against the
// empty string; the compiled selectors must agree.
TEST(CompileAddedAffinityTest, FieldsOtherThanTheNodeName) {
  struct Case {
    const char* name;
    const char* field;  // a matchFields requirement, flow YAML
    bool matches;
  };
  const Case cases[] = {
      {"In a value never holds", "{key: spec.foo, operator: In, values: [x]}", false},
      {"In the empty value always holds", "{key: spec.foo, operator: In, values: [\"\"]}", true},
      {"NotIn a value always holds", "{key: spec.foo, operator: NotIn, values: [x]}", true},
      {"NotIn the empty value never holds", "{key: spec.foo, operator: NotIn, values: [\"\"]}",
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Interner names;
    const std::string term = std::string("matchFields: [") + c.field + "]";
    absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(
        ArgsFromYaml(std::string("addedAffinity:\n"
                                 "  requiredDuringSchedulingIgnoredDuringExecution:\n"
                                 "    nodeSelectorTerms:\n    - {") +
                     term + "}\n  preferredDuringSchedulingIgnoredDuringExecution:\n" +
                     "  - {weight: 4, preference: {" + term + "}}\n"),
        names);
    ASSERT_TRUE(added.ok()) << added.status();
    const model::Node node = MakeLabeledNode(names, "n1", {{"zone", "a"}});
    ASSERT_TRUE(added->required.has_value());
    EXPECT_EQ(added->required->Matches(node.labels, node.name_id), c.matches);
    const bool preferred_matches =
        !added->preferred.empty() && added->preferred[0].term.Matches(node.labels, node.name_id);
    EXPECT_EQ(preferred_matches, c.matches);
  }
}

TEST(CompileAddedAffinityTest, ForeignFieldAndedWithLabels) {
  model::Interner names;
  absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(ArgsFromYaml(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: In, values: [a]}]
      matchFields: [{key: spec.foo, operator: NotIn, values: [x]}]
)"),
                                                             names);
  ASSERT_TRUE(added.ok()) << added.status();
  const model::Node in_a = MakeLabeledNode(names, "n1", {{"zone", "a"}});
  const model::Node in_b = MakeLabeledNode(names, "n2", {{"zone", "b"}});
  EXPECT_TRUE(added->required->Matches(in_a.labels, in_a.name_id));
  EXPECT_FALSE(added->required->Matches(in_b.labels, in_b.name_id));
}

}  // namespace
}  // namespace kestrel::predicates
