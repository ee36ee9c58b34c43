#include "predicates/node_name/node_name.h"

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;

TEST(NodeNameTest, Filter) {
  struct Case {
    const char* name;
    std::string pod_node_name;
    Code want;
  };
  const Case cases[] = {
      {"no node name", "", Code::kSuccess},
      {"same node name", "foo", Code::kSuccess},
      {"different node name", "bar", Code::kUnschedulableAndUnresolvable},
  };
  NodeName plugin;
  framework::CycleState state;
  framework::NodeInfo info = MakeNodeInfo(MakeNode("foo", NoResources()));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Pod pod = MakePod("p", NoResources());
    pod.node_name = c.pod_node_name;
    framework::Status s = plugin.Filter(state, pod, info);
    EXPECT_EQ(s.code(), c.want);
    if (c.want != Code::kSuccess) {
      EXPECT_EQ(s.reasons(),
                std::vector<std::string>{"node(s) didn't match the requested node name"});
    }
  }
}

TEST(NodeNameTest, MissingNodeIsAnError) {
  NodeName plugin;
  framework::CycleState state;
  framework::NodeInfo info;  // pods only, no node
  framework::Status s = plugin.Filter(state, MakePod("p", NoResources()), info);
  EXPECT_EQ(s.code(), Code::kError);
  EXPECT_EQ(s.Message(), "node not found");
}

TEST(NodeNameTest, Name) { EXPECT_EQ(NodeName().Name(), "NodeName"); }

}  // namespace
}  // namespace kestrel::predicates
