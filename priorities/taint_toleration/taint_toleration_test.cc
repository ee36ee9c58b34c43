#include "priorities/taint_toleration/taint_toleration.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::priorities {
namespace {

using model::TaintEffect;
using model::TolerationOp;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;

class TaintTolerationScoreTest : public ::testing::Test {
 protected:
  model::Taint T(const std::string& key, const std::string& value, TaintEffect effect) {
    return testing::MakeTaint(names_, key, value, effect);
  }
  model::Toleration Tol(const std::string& key, TolerationOp op, const std::string& value,
                        TaintEffect effect) {
    return testing::MakeToleration(names_, key, op, value, effect);
  }

  model::Interner names_;
};

// Upstream TestTaintTolerationScore, plus the reversal edge cases. Each case
// runs PreScore, Score on every node, ScoreRows on every row, NormalizeScore.
TEST_F(TaintTolerationScoreTest, Score) {
  constexpr TaintEffect kPrefer = TaintEffect::kPreferNoSchedule;
  constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
  constexpr TolerationOp kEqual = TolerationOp::kEqual;
  struct Case {
    const char* name;
    std::vector<model::Toleration> tolerations;
    std::vector<std::vector<model::Taint>> node_taints;
    std::vector<int64_t> raw;
    std::vector<int64_t> normalized;
  };
  const Case cases[] = {
      {"tolerated taint scores higher than an intolerable one",
       {Tol("foo", kEqual, "bar", kPrefer)},
       {{T("foo", "bar", kPrefer)}, {T("foo", "blah", kPrefer)}},
       {0, 1},
       {100, 0}},
      {"all taints tolerated: same score however many taints",
       {Tol("cpu-type", kEqual, "arm64", kPrefer), Tol("disk-type", kEqual, "ssd", kPrefer)},
       {{},
        {T("cpu-type", "arm64", kPrefer)},
        {T("cpu-type", "arm64", kPrefer), T("disk-type", "ssd", kPrefer)}},
       {0, 0, 0},
       {100, 100, 100}},
      {"the more intolerable taints, the lower the score",
       {Tol("foo", kEqual, "bar", kPrefer)},
       {{},
        {T("cpu-type", "arm64", kPrefer)},
        {T("cpu-type", "arm64", kPrefer), T("disk-type", "ssd", kPrefer)}},
       {0, 1, 2},
       {100, 50, 0}},
      {"only PreferNoSchedule taints and their tolerations count",
       {Tol("cpu-type", kEqual, "arm64", kNoSchedule),
        Tol("disk-type", kEqual, "ssd", kNoSchedule)},
       {{},
        {T("cpu-type", "arm64", kNoSchedule)},
        {T("cpu-type", "arm64", kPrefer), T("disk-type", "ssd", kPrefer)}},
       {0, 0, 2},
       {100, 100, 0}},
      {"no tolerations: the untainted node wins",
       {},
       {{}, {T("cpu-type", "arm64", kPrefer)}},
       {0, 1},
       {100, 0}},
      {"a toleration with empty effect tolerates PreferNoSchedule",
       {Tol("foo", TolerationOp::kExists, "", TaintEffect::kNone)},
       {{T("foo", "a", kPrefer)}, {T("bar", "b", kPrefer)}},
       {0, 1},
       {100, 0}},
      {"integer division before reversal: 100 - 100*1/3",
       {},
       {{T("a", "", kPrefer)}, {T("a", "", kPrefer), T("b", "", kPrefer), T("c", "", kPrefer)}, {}},
       {1, 3, 0},
       {67, 0, 100}},
      {"every node equally intolerable scores 0",
       {},
       {{T("a", "", kPrefer)}, {T("b", "", kPrefer)}},
       {1, 1},
       {0, 0}},
  };

  TaintToleration plugin;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Pod pod = MakePod("p", NoResources());
    pod.tolerations = c.tolerations;
    std::vector<framework::NodeInfo> infos;
    for (size_t i = 0; i < c.node_taints.size(); ++i) {
      model::Node node = MakeNode("n" + std::to_string(i), NoResources());
      node.taints = c.node_taints[i];
      infos.push_back(MakeNodeInfo(node));
    }
    std::vector<const framework::NodeInfo*> ptrs;
    for (const framework::NodeInfo& i : infos) ptrs.push_back(&i);
    framework::CycleState state;
    ASSERT_TRUE(plugin.PreScore(state, pod, ptrs).ok());

    std::vector<framework::NodeScore> scores;
    for (const framework::NodeInfo* info : ptrs) {
      absl::StatusOr<int64_t> s = plugin.Score(state, pod, *info);
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
    ASSERT_TRUE(plugin.ScoresRows(state, pod));
    std::vector<int64_t> by_rows(rows.size());
    plugin.ScoreRows(state, pod, table, rows, by_rows.data());
    EXPECT_EQ(by_rows, c.raw);

    ASSERT_TRUE(plugin.NormalizesScores());
    ASSERT_TRUE(plugin.NormalizeScore(state, pod, absl::MakeSpan(scores)).ok());
    std::vector<int64_t> normalized;
    for (const framework::NodeScore& s : scores) normalized.push_back(s.score);
    EXPECT_EQ(normalized, c.normalized);
  }
}

TEST_F(TaintTolerationScoreTest, RegisteredPluginFiltersToo) {
  TaintToleration plugin;
  EXPECT_EQ(plugin.Name(), "TaintToleration");
  model::Node node = MakeNode("n", NoResources());
  node.taints = {T("dedicated", "user1", TaintEffect::kNoSchedule)};
  framework::CycleState state;
  framework::Status s = plugin.Filter(state, MakePod("p", NoResources()), MakeNodeInfo(node));
  EXPECT_EQ(s.code(), framework::Code::kUnschedulableAndUnresolvable);
}

TEST_F(TaintTolerationScoreTest, ScoreWithoutNodeIsAnError) {
  TaintToleration plugin;
  framework::CycleState state;
  framework::NodeInfo info;
  EXPECT_FALSE(plugin.Score(state, MakePod("p", NoResources()), info).ok());
}

}  // namespace
}  // namespace kestrel::priorities
