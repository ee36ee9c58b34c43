#include "predicates/node_affinity/node_affinity.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"

namespace kestrel::predicates {
namespace {

using framework::Code;

// Decodes the one object (a Pod or a Node) in `yaml`.
template <typename T>
T Decode(const std::string& yaml) {
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects("test.yaml", yaml);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok() || objects->size() != 1) return T();
  return static_cast<const T&>(*(*objects)[0].message);
}

class NodeAffinityFilterTest : public ::testing::Test {
 protected:
  // A pod whose spec holds `spec` (YAML lines indented by two spaces).
  model::PodPtr Pod(const std::string& spec) {
    auto pod = model::CompilePod(
        Decode<model::v1::Pod>(absl::StrCat(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n"
            "  containers: [{name: c, image: busybox}]\n",
            spec)),
        names_);
    EXPECT_TRUE(pod.ok()) << pod.status();
    return pod.ok() ? *pod : std::make_shared<model::Pod>();
  }
  // A node `name` with `labels` (a YAML flow map).
  model::NodePtr Node(const std::string& name, const std::string& labels) {
    auto node = model::CompileNode(
        Decode<model::v1::Node>(absl::StrCat("apiVersion: v1\nkind: Node\nmetadata: {name: ", name,
                                             ", labels: ", labels, "}\n")),
        names_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? *node : std::make_shared<model::Node>();
  }
  std::unique_ptr<NodeAffinityFilter> Plugin(const std::string& args_yaml) {
    config::NodeAffinityArgs args;
    EXPECT_TRUE(api::DecodeInto(args_yaml, &args, "args").ok());
    auto plugin = NodeAffinityFilter::Create(args, names_);
    EXPECT_TRUE(plugin.ok()) << plugin.status();
    return plugin.ok() ? *std::move(plugin) : nullptr;
  }

  model::Interner names_;
};

constexpr char kAddedZoneBar[] = R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: In, values: [bar]}]
)";
constexpr char kAddedNode2[] = R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchFields: [{key: metadata.name, operator: In, values: [node2]}]
)";

// Affinity YAML for a pod: required node affinity with `terms` (flow list).
std::string Required(const std::string& terms) {
  return absl::StrCat(
      "  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
      "        nodeSelectorTerms: ",
      terms, "\n");
}

struct FilterCase {
  const char* name;
  std::string pod_spec;
  const char* node_name;
  const char* labels;
  const char* args;
  Code pre_filter;  // kSkip, kSuccess or the rejection code
  const char* pre_filter_reason;
  const char* filter_reason;  // nullptr: fits
};

// Upstream TestNodeAffinity, case by case, plus a few more.
TEST_F(NodeAffinityFilterTest, Filter) {
  const char* kPod = NodeAffinityFilter::kErrReasonPod;
  const char* kEnforced = NodeAffinityFilter::kErrReasonEnforced;
  const FilterCase cases[] = {
      {"missing labels", "  nodeSelector: {foo: bar}\n", "node1", "{}", "{}", Code::kSuccess,
       nullptr, kPod},
      {"same labels", "  nodeSelector: {foo: bar}\n", "node1", "{foo: bar}", "{}", Code::kSuccess,
       nullptr, nullptr},
      {"node labels are superset", "  nodeSelector: {foo: bar}\n", "node1", "{foo: bar, baz: blah}",
       "{}", Code::kSuccess, nullptr, nullptr},
      {"node labels are subset", "  nodeSelector: {foo: bar, baz: blah}\n", "node1", "{foo: bar}",
       "{}", Code::kSuccess, nullptr, kPod},
      {"In matches",
       Required("[{matchExpressions: [{key: foo, operator: In, values: [bar, "
                "value2]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"Gt matches",
       Required("[{matchExpressions: [{key: kernel-version, operator: Gt, values: "
                "[\"0204\"]}]}]"),
       "node1", "{kernel-version: \"0206\"}", "{}", Code::kSuccess, nullptr, nullptr},
      {"Lt does not match a non-numeric label",
       Required("[{matchExpressions: [{key: kernel-version, operator: Lt, values: [\"0204\"]}]}]"),
       "node1", "{kernel-version: v2}", "{}", Code::kSuccess, nullptr, kPod},
      {"NotIn matches",
       Required("[{matchExpressions: [{key: mem-type, operator: NotIn, values: "
                "[DDR, DDR2]}]}]"),
       "node1", "{mem-type: DDR3}", "{}", Code::kSuccess, nullptr, nullptr},
      {"NotIn matches a node without the label",
       Required("[{matchExpressions: [{key: mem-type, operator: NotIn, values: [DDR]}]}]"), "node1",
       "{}", "{}", Code::kSuccess, nullptr, nullptr},
      {"Exists matches", Required("[{matchExpressions: [{key: GPU, operator: Exists}]}]"), "node1",
       "{GPU: NVIDIA-GRID-K1}", "{}", Code::kSuccess, nullptr, nullptr},
      {"DoesNotExist rejects a node with the label",
       Required("[{matchExpressions: [{key: GPU, operator: DoesNotExist}]}]"), "node1",
       "{GPU: NVIDIA-GRID-K1}", "{}", Code::kSuccess, nullptr, kPod},
      {"affinity that doesn't match the node's labels",
       Required("[{matchExpressions: [{key: foo, operator: In, values: [value1, value2]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      {"a term with empty matchExpressions matches no node", Required("[{matchExpressions: []}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      // Upstream also has "an empty []NodeSelectorTerm matches no node"; the
      // API server refuses such a pod, and so does CompilePod.
      {"no affinity", "", "node1", "{foo: bar}", "{}", Code::kSkip, nullptr, nullptr},
      {"affinity without required node affinity", "  affinity:\n    nodeAffinity: {}\n", "node1",
       "{foo: bar}", "{}", Code::kSkip, nullptr, nullptr},
      {"expressions ANDed, matching",
       Required("[{matchExpressions: [{key: GPU, operator: Exists}, {key: GPU, operator: NotIn, "
                "values: [AMD, INTER]}]}]"),
       "node1", "{GPU: NVIDIA-GRID-K1}", "{}", Code::kSuccess, nullptr, nullptr},
      {"expressions ANDed, not matching",
       Required("[{matchExpressions: [{key: GPU, operator: Exists}, {key: GPU, operator: In, "
                "values: [AMD, INTER]}]}]"),
       "node1", "{GPU: NVIDIA-GRID-K1}", "{}", Code::kSuccess, nullptr, kPod},
      {"terms ORed",
       Required("[{matchExpressions: [{key: foo, operator: In, values: [bar, "
                "value2]}]}, {matchExpressions: [{key: diffkey, operator: In, "
                "values: [wrong, value2]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"affinity and nodeSelector both satisfied",
       "  nodeSelector: {foo: bar}\n" +
           Required("[{matchExpressions: [{key: foo, operator: Exists}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"affinity satisfied, nodeSelector not",
       "  nodeSelector: {foo: bar}\n" +
           Required("[{matchExpressions: [{key: foo, operator: Exists}]}]"),
       "node1", "{foo: barrrrrr}", "{}", Code::kSuccess, nullptr, kPod},
      {"matchFields In matches the node",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}]"), "node1",
       "{}", "{}", Code::kSuccess, nullptr, nullptr},
      {"matchFields In another node",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}]"), "node2",
       "{}", "{}", Code::kSuccess, nullptr, kPod},
      {"matchFields NotIn the node",
       Required("[{matchFields: [{key: metadata.name, operator: NotIn, values: [node1]}]}]"),
       "node1", "{}", "{}", Code::kSuccess, nullptr, kPod},
      {"two terms: matchFields does not match, matchExpressions does",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}, {key: "
                "metadata.name, operator: In, values: [node2]}]}, {matchExpressions: [{key: foo, "
                "operator: In, values: [bar]}]}]"),
       "node2", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"one term: matchFields does not match, matchExpressions does",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}], "
                "matchExpressions: [{key: foo, operator: In, values: [bar]}]}]"),
       "node2", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      {"one term: both match",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}], "
                "matchExpressions: [{key: foo, operator: In, values: [bar]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"two terms: neither matches",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}, "
                "{matchExpressions: [{key: foo, operator: In, values: [not-match-to-bar]}]}]"),
       "node2", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      {"two terms of node name affinity",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}, "
                "{matchFields: [{key: metadata.name, operator: In, values: [node2]}]}]"),
       "node2", "{}", "{}", Code::kSuccess, nullptr, nullptr},
      {"two conflicting matchFields requirements",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}, {key: "
                "metadata.name, operator: In, values: [node2]}]}]"),
       "node2", "{foo: bar}", "{}", Code::kUnschedulableAndUnresolvable,
       NodeAffinityFilter::kErrReasonConflict, kPod},
      {"matches added affinity and the pod's node affinity",
       Required("[{matchExpressions: [{key: zone, operator: In, values: [foo]}]}]"), "node2",
       "{zone: foo}", kAddedNode2, Code::kSuccess, nullptr, nullptr},
      {"matches added affinity but not the pod's node affinity",
       Required("[{matchExpressions: [{key: zone, operator: In, values: [bar]}]}]"), "node2",
       "{zone: foo}", kAddedNode2, Code::kSuccess, nullptr, kPod},
      {"doesn't match added affinity", "", "node2", "{zone: foo}", kAddedZoneBar, Code::kSuccess,
       nullptr, kEnforced},
      {"added affinity is checked first", "  nodeSelector: {foo: bar}\n", "node2", "{zone: foo}",
       kAddedZoneBar, Code::kSuccess, nullptr, kEnforced},
      {"matches added affinity, no constraints of its own", "", "node2", "{zone: bar}",
       kAddedZoneBar, Code::kSuccess, nullptr, nullptr},
      // A term the scheduler cannot parse matches no node: upstream's
      // "Pod with an invalid value in Affinity term won't be scheduled onto
      // the node", for each operator that lets such a value through the API
      // server. Exists and DoesNotExist carry no values; their keys, and
      // matchFields, are validated by the API server (input errors).
      {"NotIn with a value that is no label value",
       Required("[{matchExpressions: [{key: foo, operator: NotIn, values: [\"invalid value: "
                "___@#$%^\"]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      {"In with a value that is no label value",
       Required("[{matchExpressions: [{key: foo, operator: In, values: [bar, \"bar!\"]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
      {"Gt on a word",
       Required("[{matchExpressions: [{key: gen, operator: Gt, values: [three]}]}]"), "node1",
       "{gen: \"4\"}", "{}", Code::kSuccess, nullptr, kPod},
      {"Gt on an integer that is no label value",
       Required("[{matchExpressions: [{key: gen, operator: Gt, values: [\"-1\"]}]}]"), "node1",
       "{gen: \"4\"}", "{}", Code::kSuccess, nullptr, kPod},
      {"Lt on a number with a sign",
       Required("[{matchExpressions: [{key: gen, operator: Lt, values: [\"+9\"]}]}]"), "node1",
       "{gen: \"4\"}", "{}", Code::kSuccess, nullptr, kPod},
      {"a bad term beside a matching one",
       Required("[{matchExpressions: [{key: foo, operator: In, values: [\"bar!\"]}]}, "
                "{matchExpressions: [{key: foo, operator: Exists}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, nullptr},
      {"a bad term matches none of its node names",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}], "
                "matchExpressions: [{key: foo, operator: In, values: [\"bar!\"]}]}, "
                "{matchFields: [{key: metadata.name, operator: In, values: [node2]}]}]"),
       "node1", "{foo: bar}", "{}", Code::kSuccess, nullptr, kPod},
  };

  for (const FilterCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<NodeAffinityFilter> plugin = Plugin(c.args);
    ASSERT_NE(plugin, nullptr);
    model::PodPtr pod = Pod(c.pod_spec);
    const framework::NodeInfo info(Node(c.node_name, c.labels));
    framework::CycleState state;

    framework::Status pre = plugin->PreFilter(state, *pod, {&info});
    EXPECT_EQ(pre.code(), c.pre_filter);
    if (c.pre_filter_reason != nullptr) {
      EXPECT_EQ(pre.Message(), c.pre_filter_reason);
    }

    // Filter does not depend on PreFilter having run.
    framework::Status s = plugin->Filter(framework::CycleState(), *pod, info);
    if (c.filter_reason == nullptr) {
      EXPECT_TRUE(s.ok()) << s.Message();
    } else {
      EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
      EXPECT_EQ(s.Message(), c.filter_reason);
    }

    framework::NodeTable table;
    table.Build({&info});
    ASSERT_TRUE(plugin->FiltersRows(state, *pod));
    uint8_t passed = 1;
    plugin->FilterRows(state, *pod, table, 0, 1, &passed);
    EXPECT_EQ(passed != 0, s.ok());
  }
}

TEST_F(NodeAffinityFilterTest, FilterRowsOverManyNodes) {
  std::unique_ptr<NodeAffinityFilter> plugin = Plugin(kAddedZoneBar);
  model::PodPtr pod = Pod("  nodeSelector: {disk: ssd}\n");
  std::vector<framework::NodeInfo> infos;
  infos.emplace_back(Node("a", "{zone: bar, disk: ssd}"));
  infos.emplace_back(Node("b", "{zone: foo, disk: ssd}"));
  infos.emplace_back(Node("c", "{zone: bar, disk: hdd}"));
  infos.emplace_back(Node("d", "{zone: bar, disk: ssd}"));
  std::vector<const framework::NodeInfo*> ptrs;
  for (const framework::NodeInfo& i : infos) ptrs.push_back(&i);
  framework::NodeTable table;
  table.Build(ptrs);
  framework::CycleState state;

  std::vector<uint8_t> passed(4, 1);
  passed[3] = 0;  // rejected by another plugin: stays rejected
  plugin->FilterRows(state, *pod, table, 0, 4, passed.data());
  EXPECT_EQ(passed, (std::vector<uint8_t>{1, 0, 0, 0}));
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(passed[r] != 0, plugin->Filter(state, *pod, *ptrs[r]).ok()) << r;
  }
}

TEST_F(NodeAffinityFilterTest, PinnedNodeNames) {
  const model::Id node1 = names_.Intern("node1");
  const model::Id node2 = names_.Intern("node2");
  const model::Id node3 = names_.Intern("node3");
  struct Case {
    const char* name;
    std::string spec;
    std::optional<std::vector<model::Id>> want;
  };
  std::vector<model::Id> one_two = {node1, node2};
  std::sort(one_two.begin(), one_two.end());
  const Case cases[] = {
      {"no affinity", "", std::nullopt},
      {"a term without node names allows every node",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}, "
                "{matchExpressions: [{key: foo, operator: Exists}]}]"),
       std::nullopt},
      {"NotIn pins nothing",
       Required("[{matchFields: [{key: metadata.name, operator: NotIn, values: [node1]}]}]"),
       std::nullopt},
      {"union over terms",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}, "
                "{matchFields: [{key: metadata.name, operator: In, values: [node2]}]}]"),
       one_two},
      {"intersection within a term",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node3]}, {key: "
                "metadata.name, operator: In, values: [node3]}]}]"),
       std::vector<model::Id>{node3}},
      {"empty intersection",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: "
                "[node1]}, {key: metadata.name, operator: In, values: "
                "[node2]}]}]"),
       std::vector<model::Id>{}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PinnedNodeNames(*Pod(c.spec)), c.want);
  }
  // No terms (the API server refuses such a pod): nothing pinned.
  model::Pod no_terms;
  no_terms.required_node_affinity = model::NodeSelector{};
  EXPECT_EQ(PinnedNodeNames(no_terms), std::nullopt);
}

TEST_F(NodeAffinityFilterTest, PreFilterReturnsPinnedNamesAsPreFilterResult) {
  std::unique_ptr<NodeAffinityFilter> plugin = Plugin("{}");
  struct Case {
    const char* name;
    std::string spec;
    framework::Code code;
    std::optional<std::vector<std::string>> nodes;
  };
  const Case cases[] = {
      {"no affinity: skipped, every node", "", framework::Code::kSkip, std::nullopt},
      {"label terms only: every node",
       Required("[{matchExpressions: [{key: foo, operator: Exists}]}]"), framework::Code::kSuccess,
       std::nullopt},
      {"pinned, as a DaemonSet pod",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: [node2]}]}, "
                "{matchFields: [{key: metadata.name, operator: In, values: [node1]}]}]"),
       framework::Code::kSuccess, std::vector<std::string>{"node2", "node1"}},
      {"conflicting names: rejected, no result",
       Required("[{matchFields: [{key: metadata.name, operator: In, values: "
                "[node1]}, {key: metadata.name, operator: In, values: [node2]}]}]"),
       framework::Code::kUnschedulableAndUnresolvable, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    framework::CycleState state;
    framework::Status s = plugin->PreFilter(state, *Pod(c.spec), {});
    EXPECT_EQ(s.code(), c.code);
    // The names in PinnedNodeNames' (id) order; the framework sorts them.
    std::optional<std::vector<std::string>> got = state.pre_filter_nodes;
    std::optional<std::vector<std::string>> want = c.nodes;
    if (got.has_value()) std::sort(got->begin(), got->end());
    if (want.has_value()) std::sort(want->begin(), want->end());
    EXPECT_EQ(got, want);
  }
}

TEST_F(NodeAffinityFilterTest, CreateRejectsInvalidArgs) {
  config::NodeAffinityArgs args;
  ASSERT_TRUE(api::DecodeInto(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: zone, operator: In}]
)",
                              &args, "args")
                  .ok());
  auto plugin = NodeAffinityFilter::Create(args, names_);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
            ".matchExpressions[0].values: Invalid value: []string(nil): for 'in', 'notin' "
            "operators, values set can't be empty");
}

TEST_F(NodeAffinityFilterTest, NodeWithoutNodeObjectIsAnError) {
  std::unique_ptr<NodeAffinityFilter> plugin = Plugin("{}");
  framework::NodeInfo info;
  EXPECT_EQ(plugin->Filter(framework::CycleState(), *Pod(""), info).code(), Code::kError);
}

}  // namespace
}  // namespace kestrel::predicates
