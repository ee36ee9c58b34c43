#include "priorities/node_affinity/node_affinity.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"

namespace kestrel::priorities {
namespace {

using framework::Code;

template <typename T>
T Decode(const std::string& yaml) {
  absl::StatusOr<std::vector<api::Object>> objects = api::DecodeObjects("test.yaml", yaml);
  EXPECT_TRUE(objects.ok()) << objects.status();
  if (!objects.ok() || objects->size() != 1) return T();
  return static_cast<const T&>(*(*objects)[0].message);
}

// Upstream TestNodeAffinityPriority's affinities, as the pod's
// preferredDuringSchedulingIgnoredDuringExecution (flow YAML lists).
constexpr char kAffinity1[] =
    "[{weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}]";
constexpr char kAffinity2[] =
    "[{weight: 2, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}},"
    " {weight: 4, preference: {matchExpressions: [{key: key, operator: In, values: [value]}]}},"
    " {weight: 5, preference: {matchExpressions: [{key: foo, operator: In, values: [bar]},"
    " {key: key, operator: In, values: [value]}, {key: az, operator: In, values: [az1]}]}}]";
// Upstream's labels.
constexpr char kLabel1[] = "{foo: bar}";
constexpr char kLabel2[] = "{key: value}";
constexpr char kLabel3[] = "{az: az1}";
constexpr char kLabel4[] = "{abc: az11, def: az22}";
constexpr char kLabel5[] = "{foo: bar, key: value, az: az1}";

class NodeAffinityScoreTest : public ::testing::Test {
 protected:
  // A pod with `preferred` (a flow YAML list) as its preferred node
  // affinity; none when empty.
  model::PodPtr Pod(const std::string& preferred) {
    std::string yaml =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n"
        "  containers: [{name: c, image: busybox}]\n";
    if (!preferred.empty()) {
      absl::StrAppend(&yaml,
                      "  affinity:\n    nodeAffinity:\n"
                      "      preferredDuringSchedulingIgnoredDuringExecution: ",
                      preferred, "\n");
    }
    auto pod = model::CompilePod(Decode<model::v1::Pod>(yaml), names_);
    EXPECT_TRUE(pod.ok()) << pod.status();
    return pod.ok() ? *pod : std::make_shared<model::Pod>();
  }
  framework::NodeInfo Node(const std::string& name, const std::string& labels) {
    auto node = model::CompileNode(
        Decode<model::v1::Node>(absl::StrCat("apiVersion: v1\nkind: Node\nmetadata: {name: ", name,
                                             ", labels: ", labels, "}\n")),
        names_);
    EXPECT_TRUE(node.ok()) << node.status();
    return framework::NodeInfo(node.ok() ? *node : std::make_shared<model::Node>());
  }
  std::unique_ptr<NodeAffinity> Plugin(const std::string& args_yaml) {
    config::NodeAffinityArgs args;
    EXPECT_TRUE(api::DecodeInto(args_yaml, &args, "args").ok());
    auto plugin = NodeAffinity::Create(args, names_);
    EXPECT_TRUE(plugin.ok()) << plugin.status();
    return plugin.ok() ? *std::move(plugin) : nullptr;
  }

  model::Interner names_;
};

struct ScoreCase {
  const char* name;
  const char* preferred;                                   // the pod's, flow YAML; "" for none
  std::vector<std::pair<const char*, const char*>> nodes;  // name, labels
  const char* args;
  bool pre_score_skips;
  std::vector<int64_t> raw;
  std::vector<int64_t> normalized;
};

// Upstream TestNodeAffinityPriority, plus a few more.
TEST_F(NodeAffinityScoreTest, Score) {
  const std::string added_affinity1 = absl::StrCat(
      "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: ", kAffinity1, "}");
  const std::string added_key_value =
      "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 3, "
      "preference: {matchExpressions: [{key: key, operator: In, values: [value]}]}}]}";
  const ScoreCase cases[] = {
      {"no node affinity: Skip, and every node scores 0",
       "",
       {{"node1", kLabel1}, {"node2", kLabel2}, {"node3", kLabel3}},
       "{}",
       true,
       {0, 0, 0},
       {0, 0, 0}},
      {"no node matches the preferred terms",
       kAffinity1,
       {{"node1", kLabel4}, {"node2", kLabel2}, {"node3", kLabel3}},
       "{}",
       false,
       {0, 0, 0},
       {0, 0, 0}},
      {"only node1 matches",
       kAffinity1,
       {{"node1", kLabel1}, {"node2", kLabel2}, {"node3", kLabel3}},
       "{}",
       false,
       {2, 0, 0},
       {100, 0, 0}},
      {"all nodes match with different priorities",
       kAffinity2,
       {{"node1", kLabel1}, {"node5", kLabel5}, {"node2", kLabel2}},
       "{}",
       false,
       {2, 11, 4},
       {18, 100, 36}},
      {"added affinity",
       "",
       {{"node1", kLabel1}, {"node2", kLabel2}},
       added_affinity1.c_str(),
       false,
       {2, 0},
       {100, 0}},
      {"added affinity and the pod's own",
       kAffinity1,
       {{"node1", kLabel1}, {"node2", kLabel2}, {"node3", kLabel5}},
       added_key_value.c_str(),
       false,
       {2, 3, 5},
       {40, 60, 100}},
      {"matchFields on the node name",
       "[{weight: 7, preference: {matchFields: [{key: metadata.name, operator: In, values: "
       "[node2]}]}}, {weight: 3, preference: {matchFields: [{key: metadata.name, operator: "
       "NotIn, values: [node2]}]}}]",
       {{"node1", kLabel1}, {"node2", kLabel1}},
       "{}",
       false,
       {3, 7},
       {42, 100}},
  };

  for (const ScoreCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<NodeAffinity> plugin = Plugin(c.args);
    ASSERT_NE(plugin, nullptr);
    model::PodPtr pod = Pod(c.preferred);
    std::vector<framework::NodeInfo> infos;
    for (const auto& [name, labels] : c.nodes) infos.push_back(Node(name, labels));
    std::vector<const framework::NodeInfo*> ptrs;
    for (const framework::NodeInfo& i : infos) ptrs.push_back(&i);

    framework::CycleState state;
    framework::Status pre = plugin->PreScore(state, *pod, ptrs);
    EXPECT_EQ(pre.code(), c.pre_score_skips ? Code::kSkip : Code::kSuccess);

    // Score needs no PreScore state.
    std::vector<framework::NodeScore> scores;
    for (const framework::NodeInfo* info : ptrs) {
      absl::StatusOr<int64_t> s = plugin->Score(framework::CycleState(), *pod, *info);
      ASSERT_TRUE(s.ok()) << s.status();
      scores.push_back({info, *s});
    }
    std::vector<int64_t> raw;
    for (const framework::NodeScore& s : scores) raw.push_back(s.score);
    EXPECT_EQ(raw, c.raw);

    framework::NodeTable table;
    table.Build(ptrs);
    std::vector<uint32_t> rows;
    for (uint32_t r = 0; r < ptrs.size(); ++r) rows.push_back(r);
    ASSERT_TRUE(plugin->ScoresRows(state, *pod));
    std::vector<int64_t> by_rows(rows.size());
    plugin->ScoreRows(state, *pod, table, rows, by_rows.data());
    EXPECT_EQ(by_rows, c.raw);

    ASSERT_TRUE(plugin->NormalizesScores());
    ASSERT_TRUE(plugin->NormalizeScore(state, *pod, absl::MakeSpan(scores)).ok());
    std::vector<int64_t> normalized;
    for (const framework::NodeScore& s : scores) normalized.push_back(s.score);
    EXPECT_EQ(normalized, c.normalized);
  }
}

// A preferred term the scheduler cannot parse fails PreScore with
// upstream's error (getPodPreferredNodeAffinity ->
// NewPreferredSchedulingTerms), before the Skip check; the framework then
// reports `running PreScore plugin "NodeAffinity": <this>`. One case per
// operator that lets such a value through the API server.
TEST_F(NodeAffinityScoreTest, PreScoreFailsOnATermThatDoesNotParse) {
  const std::string label_value =
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
      "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
      "'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  struct Case {
    const char* name;
    const char* preferred;
    std::string want;
  };
  const Case cases[] = {
      {"In",
       "[{weight: 1, preference: {matchExpressions: [{key: foo, operator: In, values: "
       "[\"invalid value: ___@#$%^\"]}]}}]",
       "[0].matchExpressions[0].values[0][foo]: Invalid value: \"invalid value: ___@#$%^\": " +
           label_value},
      {"NotIn, second term",
       "[{weight: 1, preference: {matchExpressions: [{key: foo, operator: Exists}]}}, {weight: "
       "2, preference: {matchExpressions: [{key: foo, operator: NotIn, values: [\"bar!\"]}]}}]",
       "[1].matchExpressions[0].values[0][foo]: Invalid value: \"bar!\": " + label_value},
      {"Gt on a word",
       "[{weight: 1, preference: {matchExpressions: [{key: gen, operator: Gt, values: [x]}]}}]",
       "[0].matchExpressions[0].values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the "
       "value must be an integer"},
      {"Lt on a negative number, and another term: every error",
       "[{weight: 1, preference: {matchExpressions: [{key: gen, operator: Lt, values: "
       "[\"-1\"]}]}}, {weight: 1, preference: {matchExpressions: [{key: a, operator: In, values: "
       "[\"a b\"]}]}}]",
       "[[0].matchExpressions[0].values[0][gen]: Invalid value: \"-1\": " + label_value +
           ", [1].matchExpressions[0].values[0][a]: Invalid value: \"a b\": " + label_value +
           "]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<NodeAffinity> plugin = Plugin("{}");
    framework::CycleState state;
    framework::Status s = plugin->PreScore(state, *Pod(c.preferred), {});
    EXPECT_EQ(s.code(), Code::kError);
    EXPECT_EQ(s.Message(), c.want);
  }
}

TEST_F(NodeAffinityScoreTest, WeightZeroAddedTermsAreDropped) {
  std::unique_ptr<NodeAffinity> plugin = Plugin(
      "addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, "
      "preference: {matchExpressions: [{key: foo, operator: Exists}]}}]}");
  framework::CycleState state;
  // Upstream keeps an empty term list here and scores 0 everywhere; Skip
  // leaves the same 0.
  EXPECT_TRUE(plugin->PreScore(state, *Pod(""), {}).IsSkip());
  EXPECT_EQ(*plugin->Score(state, *Pod(""), Node("n", kLabel1)), 0);
}

TEST_F(NodeAffinityScoreTest, RegisteredPluginFiltersWithAddedAffinity) {
  std::unique_ptr<NodeAffinity> plugin = Plugin(R"(
addedAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
    - matchExpressions: [{key: foo, operator: In, values: [bar]}]
)");
  EXPECT_EQ(plugin->Name(), "NodeAffinity");
  framework::CycleState state;
  model::PodPtr pod = Pod("");
  EXPECT_TRUE(plugin->PreFilter(state, *pod, {}).ok());
  EXPECT_TRUE(plugin->Filter(state, *pod, Node("a", kLabel1)).ok());
  framework::Status s = plugin->Filter(state, *pod, Node("b", kLabel2));
  EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(s.Message(), "node(s) didn't match scheduler-enforced node affinity");
}

TEST_F(NodeAffinityScoreTest, CreateRejectsInvalidArgs) {
  config::NodeAffinityArgs args;
  ASSERT_TRUE(api::DecodeInto("addedAffinity: {preferredDuringSchedulingIgnoredDuringExecution: "
                              "[{weight: 1, preference: {matchExpressions: [{key: a, operator: "
                              "Gt, values: [x]}]}}]}",
                              &args, "args")
                  .ok());
  auto plugin = NodeAffinity::Create(args, names_);
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().message(),
            "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].matchExpressions[0]"
            ".values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an "
            "integer");
}

}  // namespace
}  // namespace kestrel::priorities
