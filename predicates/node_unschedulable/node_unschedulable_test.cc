#include "predicates/node_unschedulable/node_unschedulable.h"

#include <vector>

#include "gtest/gtest.h"
#include "model/interner.h"
#include "predicates/testing/builders.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using model::TaintEffect;
using model::Toleration;
using model::TolerationOp;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;

TEST(NodeUnschedulableTest, Filter) {
  model::Interner names;
  const model::Id other_key = names.Intern("other");  // ids differ from the taint's
  const model::Id key = names.Intern(NodeUnschedulable::kTaintKey);
  const model::Id some_value = names.Intern("x");

  struct Case {
    const char* name;
    bool unschedulable;
    std::vector<Toleration> tolerations;
    Code want;
  };
  const Case cases[] = {
      {"schedulable node", false, {}, Code::kSuccess},
      {"unschedulable node, no tolerations", true, {}, Code::kUnschedulableAndUnresolvable},
      {"tolerates with Exists and NoSchedule", true,
       {{key, TolerationOp::kExists, model::kNoId, TaintEffect::kNoSchedule}},
       Code::kSuccess},
      {"tolerates with Exists and any effect", true,
       {{key, TolerationOp::kExists, model::kNoId, TaintEffect::kNone}},
       Code::kSuccess},
      {"tolerates everything (empty key, Exists)", true,
       {{model::kNoId, TolerationOp::kExists, model::kNoId, TaintEffect::kNone}},
       Code::kSuccess},
      {"tolerates with Equal and empty value", true,
       {{key, TolerationOp::kEqual, model::kNoId, TaintEffect::kNoSchedule}},
       Code::kSuccess},
      {"Equal with a value does not match the empty taint value", true,
       {{key, TolerationOp::kEqual, some_value, TaintEffect::kNoSchedule}},
       Code::kUnschedulableAndUnresolvable},
      {"wrong effect", true,
       {{key, TolerationOp::kExists, model::kNoId, TaintEffect::kNoExecute}},
       Code::kUnschedulableAndUnresolvable},
      {"wrong key", true,
       {{other_key, TolerationOp::kExists, model::kNoId, TaintEffect::kNoSchedule}},
       Code::kUnschedulableAndUnresolvable},
      {"tolerations on a schedulable node", false,
       {{other_key, TolerationOp::kExists, model::kNoId, TaintEffect::kNoSchedule}},
       Code::kSuccess},
  };

  NodeUnschedulable plugin(key);
  framework::CycleState state;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Node node = MakeNode("n", NoResources());
    node.unschedulable = c.unschedulable;
    model::Pod pod = MakePod("p", NoResources());
    pod.tolerations = c.tolerations;
    framework::Status s = plugin.Filter(state, pod, MakeNodeInfo(node));
    EXPECT_EQ(s.code(), c.want);
    if (c.want != Code::kSuccess) {
      EXPECT_EQ(s.reasons(), std::vector<std::string>{"node(s) were unschedulable"});
    }
  }
}

TEST(NodeUnschedulableTest, MissingNode) {
  NodeUnschedulable plugin(0);
  framework::CycleState state;
  framework::NodeInfo info;
  framework::Status s = plugin.Filter(state, MakePod("p", NoResources()), info);
  EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(s.Message(), "node not found");
}

TEST(NodeUnschedulableTest, Name) { EXPECT_EQ(NodeUnschedulable(0).Name(), "NodeUnschedulable"); }

}  // namespace
}  // namespace kestrel::predicates
