#include "predicates/taint_toleration/taint_toleration.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using model::TaintEffect;
using model::TolerationOp;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;

class TaintTolerationFilterTest : public ::testing::Test {
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

TEST_F(TaintTolerationFilterTest, Filter) {
  constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
  constexpr TaintEffect kPrefer = TaintEffect::kPreferNoSchedule;
  constexpr TaintEffect kNoExecute = TaintEffect::kNoExecute;
  constexpr TaintEffect kAny = TaintEffect::kNone;
  constexpr TolerationOp kEqual = TolerationOp::kEqual;
  constexpr TolerationOp kExists = TolerationOp::kExists;
  struct Case {
    const char* name;
    std::vector<model::Toleration> tolerations;
    std::vector<model::Taint> taints;
    bool fits;
  };
  const Case cases[] = {
      {"no tolerations, NoSchedule taint", {}, {T("dedicated", "user1", kNoSchedule)}, false},
      {"no tolerations, NoExecute taint", {}, {T("dedicated", "user1", kNoExecute)}, false},
      {"no tolerations, no taints", {}, {}, true},
      {"toleration matches key, value and effect",
       {Tol("dedicated", kEqual, "user1", kNoSchedule)},
       {T("dedicated", "user1", kNoSchedule)},
       true},
      {"toleration for another value",
       {Tol("dedicated", kEqual, "user2", kNoSchedule)},
       {T("dedicated", "user1", kNoSchedule)},
       false},
      {"Exists tolerates any value of the key",
       {Tol("foo", kExists, "", kNoSchedule)},
       {T("foo", "bar", kNoSchedule)},
       true},
      {"every taint tolerated by one toleration or another",
       {Tol("dedicated", kEqual, "user2", kNoSchedule), Tol("foo", kExists, "", kNoSchedule)},
       {T("dedicated", "user2", kNoSchedule), T("foo", "bar", kNoSchedule)},
       true},
      {"one of two taints untolerated",
       {Tol("foo", kExists, "", kNoSchedule)},
       {T("foo", "bar", kNoSchedule), T("dedicated", "user2", kNoSchedule)},
       false},
      {"matching key and value but another non-empty effect",
       {Tol("foo", kEqual, "bar", kPrefer)},
       {T("foo", "bar", kNoSchedule)},
       false},
      {"empty effect tolerates every effect",
       {Tol("foo", kEqual, "bar", kAny)},
       {T("foo", "bar", kNoSchedule), T("foo", "bar", kNoExecute)},
       true},
      {"NoSchedule toleration does not tolerate NoExecute",
       {Tol("foo", kEqual, "bar", kNoSchedule)},
       {T("foo", "bar", kNoExecute)},
       false},
      {"PreferNoSchedule taints never filter",
       {Tol("dedicated", kEqual, "user2", kNoSchedule)},
       {T("dedicated", "user1", kPrefer)},
       true},
      {"PreferNoSchedule taint without tolerations", {}, {T("dedicated", "user1", kPrefer)}, true},
      {"empty key with Exists tolerates everything",
       {Tol("", kExists, "", kAny)},
       {T("a", "1", kNoSchedule), T("b", "", kNoExecute)},
       true},
      {"empty taint value matches Equal with empty value",
       {Tol("node-role.kubernetes.io/control-plane", kEqual, "", kNoSchedule)},
       {T("node-role.kubernetes.io/control-plane", "", kNoSchedule)},
       true},
      {"Equal with empty value does not match a set value",
       {Tol("foo", kEqual, "", kNoSchedule)},
       {T("foo", "bar", kNoSchedule)},
       false},
  };

  TaintTolerationFilter plugin;
  framework::CycleState state;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Pod pod = MakePod("p", NoResources());
    pod.tolerations = c.tolerations;
    model::Node node = MakeNode("n", NoResources());
    node.taints = c.taints;
    const framework::NodeInfo info = MakeNodeInfo(node);
    framework::Status s = plugin.Filter(state, pod, info);
    if (c.fits) {
      EXPECT_TRUE(s.ok()) << s.Message();
    } else {
      EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
      const model::Taint* first = FindUntoleratedTaint(c.taints, c.tolerations);
      ASSERT_NE(first, nullptr);
      EXPECT_EQ(s.Message(), TaintTolerationFilter::ErrReason(*first));
    }
  }
}

TEST_F(TaintTolerationFilterTest, ReasonNamesTheFirstUntoleratedTaint) {
  TaintTolerationFilter plugin;
  framework::CycleState state;
  model::Pod pod = MakePod("p", NoResources());
  model::Node node = MakeNode("n", NoResources());
  node.taints = {T("soft", "x", TaintEffect::kPreferNoSchedule),
                 T("node.kubernetes.io/memory-pressure", "", TaintEffect::kNoSchedule),
                 T("dedicated", "db", TaintEffect::kNoSchedule)};
  EXPECT_EQ(plugin.Filter(state, pod, MakeNodeInfo(node)).Message(),
            "node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }");
  pod.tolerations = {Tol("node.kubernetes.io/memory-pressure", TolerationOp::kExists, "",
                         TaintEffect::kNoSchedule)};
  EXPECT_EQ(plugin.Filter(state, pod, MakeNodeInfo(node)).Message(),
            "node(s) had untolerated taint {dedicated: db}");
}

TEST_F(TaintTolerationFilterTest, FindUntoleratedTaintReturnsTheFirstInNodeOrder) {
  const std::vector<model::Taint> taints = {
      T("soft", "x", TaintEffect::kPreferNoSchedule), T("ok", "y", TaintEffect::kNoSchedule),
      T("first", "z", TaintEffect::kNoExecute), T("second", "w", TaintEffect::kNoSchedule)};
  const std::vector<model::Toleration> tolerations = {
      Tol("ok", TolerationOp::kExists, "", TaintEffect::kNone)};
  const model::Taint* t = FindUntoleratedTaint(taints, tolerations);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->key, "first");
  EXPECT_EQ(FindUntoleratedTaint(taints, {Tol("", TolerationOp::kExists, "", TaintEffect::kNone)}),
            nullptr);
}

TEST_F(TaintTolerationFilterTest, NodeWithoutNodeObjectIsAnError) {
  TaintTolerationFilter plugin;
  framework::CycleState state;
  framework::NodeInfo info;
  EXPECT_EQ(plugin.Filter(state, MakePod("p", NoResources()), info).code(), Code::kError);
}

// FilterRows must clear exactly the rows Filter rejects, leave rows another
// plugin already cleared alone, and touch only [begin, end).
TEST_F(TaintTolerationFilterTest, FilterRowsAgreesWithFilter) {
  std::vector<model::Node> nodes = {
      MakeNode("clean", NoResources()), MakeNode("hard", NoResources()),
      MakeNode("soft", NoResources()), MakeNode("tolerated", NoResources()),
      MakeNode("hard-again", NoResources())};
  nodes[1].taints = {T("gpu", "true", TaintEffect::kNoSchedule)};
  nodes[2].taints = {T("gpu", "true", TaintEffect::kPreferNoSchedule)};
  nodes[3].taints = {T("dedicated", "a", TaintEffect::kNoExecute)};
  nodes[4].taints = {T("gpu", "true", TaintEffect::kNoExecute)};
  std::vector<framework::NodeInfo> infos;
  for (const model::Node& n : nodes) infos.push_back(MakeNodeInfo(n));
  std::vector<const framework::NodeInfo*> ptrs;
  for (const framework::NodeInfo& i : infos) ptrs.push_back(&i);
  framework::NodeTable table;
  table.Build(ptrs);

  model::Pod pod = MakePod("p", NoResources());
  pod.tolerations = {Tol("dedicated", TolerationOp::kEqual, "a", TaintEffect::kNone)};
  TaintTolerationFilter plugin;
  framework::CycleState state;
  ASSERT_TRUE(plugin.FiltersRows(state, pod));

  std::vector<uint8_t> passed(ptrs.size(), 1);
  plugin.FilterRows(state, pod, table, 0, ptrs.size(), passed.data());
  for (size_t r = 0; r < ptrs.size(); ++r) {
    SCOPED_TRACE(nodes[r].name);
    EXPECT_EQ(passed[r] != 0, plugin.Filter(state, pod, *ptrs[r]).ok());
  }
  EXPECT_EQ(passed, (std::vector<uint8_t>{1, 0, 1, 1, 0}));

  // A sub-range, with row 3 already rejected by another plugin.
  std::vector<uint8_t> partial = {1, 1, 1, 0, 1};
  plugin.FilterRows(state, pod, table, 2, 4, partial.data());
  EXPECT_EQ(partial, (std::vector<uint8_t>{1, 1, 1, 0, 1}));
}

}  // namespace
}  // namespace kestrel::predicates
