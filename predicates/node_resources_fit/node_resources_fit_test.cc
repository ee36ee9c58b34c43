#include "predicates/node_resources_fit/node_resources_fit.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using testing::Cpu;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::Mem;
using testing::NoResources;
using testing::Res;

class NodeResourcesFitFilterTest : public ::testing::Test {
 protected:
  model::Interner names_;
  const model::Id foo_ = names_.Intern("example.com/foo");
  const model::Id bar_ = names_.Intern("example.com/bar");
  const model::Id baz_ = names_.Intern("other.org/baz");
  const model::Id hugepages_ = names_.Intern("hugepages-2Mi");
};

struct Want {
  Code code;
  std::vector<std::string> reasons;
};

TEST_F(NodeResourcesFitFilterTest, Filter) {
  // Node: 10 cpu (milli), 20 memory, 5 ephemeral-storage, 32 pods,
  // 5 example.com/foo, 2 hugepages-2Mi. Existing pod uses 5 cpu, 19 memory,
  // 2 foo (and hugepages 1).
  const model::Node node = MakeNode(
      "n", Res().Cpu(10).Mem(20).Storage(5).Pods(32).Scalar(foo_, 5).Scalar(hugepages_, 2));
  const std::vector<model::Pod> existing = {
      MakePod("e", Res().Cpu(5).Mem(19).Scalar(foo_, 2).Scalar(hugepages_, 1))};

  struct Case {
    const char* name;
    Res request;
    Want want;
  };
  const Case cases[] = {
      {"no requests always fit", NoResources(), {Code::kSuccess, {}}},
      {"exactly the free capacity fits", Res().Cpu(5).Mem(1).Storage(5), {Code::kSuccess, {}}},
      {"one over free cpu", Cpu(6), {Code::kUnschedulable, {"Insufficient cpu"}}},
      {"one over free memory", Mem(2), {Code::kUnschedulable, {"Insufficient memory"}}},
      {"cpu and memory both short, in that order", Res().Cpu(6).Mem(2),
       {Code::kUnschedulable, {"Insufficient cpu", "Insufficient memory"}}},
      {"ephemeral storage", Res().Storage(6),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient ephemeral-storage"}}},
      {"more cpu than the node has at all is unresolvable", Cpu(11),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient cpu"}}},
      {"one unresolvable reason makes the whole status unresolvable", Res().Cpu(11).Mem(2),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient cpu", "Insufficient memory"}}},
      {"extended resource fits exactly", Res().Scalar(foo_, 3), {Code::kSuccess, {}}},
      {"extended resource short", Res().Scalar(foo_, 4),
       {Code::kUnschedulable, {"Insufficient example.com/foo"}}},
      {"extended resource the node lacks", Res().Scalar(bar_, 1),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient example.com/bar"}}},
      {"zero extended request is not checked", Res().Scalar(bar_, 0), {Code::kSuccess, {}}},
      {"hugepages short", Res().Scalar(hugepages_, 2),
       {Code::kUnschedulable, {"Insufficient hugepages-2Mi"}}},
  };

  NodeResourcesFitFilter plugin(config::NodeResourcesFitArgs(), names_);
  framework::CycleState state;
  const framework::NodeInfo info = MakeNodeInfo(node, existing);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Pod pod = MakePod("p", c.request);
    EXPECT_TRUE(plugin.PreFilter(state, pod, {}).ok());
    framework::Status s = plugin.Filter(state, pod, info);
    EXPECT_EQ(s.code(), c.want.code);
    EXPECT_EQ(s.reasons(), c.want.reasons);
  }
}

TEST_F(NodeResourcesFitFilterTest, TooManyPods) {
  // 1 allowed pod, 1 already there.
  const model::Node node = MakeNode("n", Res().Cpu(10).Mem(20).Pods(1));
  const framework::NodeInfo info = MakeNodeInfo(node, {MakePod("e", Cpu(5).Mem(10))});
  NodeResourcesFitFilter plugin(config::NodeResourcesFitArgs(), names_);
  framework::CycleState state;

  struct Case {
    const char* name;
    Res request;
    Want want;
  };
  const Case cases[] = {
      // The pod count is checked before the zero-request shortcut.
      {"zero request pod", NoResources(), {Code::kUnschedulable, {"Too many pods"}}},
      {"fitting request", Cpu(5), {Code::kUnschedulable, {"Too many pods"}}},
      {"too many pods and insufficient cpu", Cpu(6),
       {Code::kUnschedulable, {"Too many pods", "Insufficient cpu"}}},
      {"too many pods, memory larger than the node", Res().Cpu(6).Mem(21),
       {Code::kUnschedulableAndUnresolvable,
        {"Too many pods", "Insufficient cpu", "Insufficient memory"}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    framework::Status s = plugin.Filter(state, MakePod("p", c.request), info);
    EXPECT_EQ(s.code(), c.want.code);
    EXPECT_EQ(s.reasons(), c.want.reasons);
  }
}

TEST_F(NodeResourcesFitFilterTest, ZeroAllocatableNode) {
  // A node that reports nothing allocatable, not even pods.
  const framework::NodeInfo info = MakeNodeInfo(MakeNode("n", NoResources()));
  NodeResourcesFitFilter plugin(config::NodeResourcesFitArgs(), names_);
  framework::CycleState state;
  framework::Status s = plugin.Filter(state, MakePod("p", Cpu(1).Mem(1)), info);
  EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(s.reasons(), (std::vector<std::string>{"Too many pods", "Insufficient cpu",
                                                   "Insufficient memory"}));
  // Too many pods alone stays resolvable.
  s = plugin.Filter(state, MakePod("p", NoResources()), info);
  EXPECT_EQ(s.code(), Code::kUnschedulable);
  EXPECT_EQ(s.reasons(), std::vector<std::string>{"Too many pods"});
}

TEST_F(NodeResourcesFitFilterTest, InitContainerStyleRequests) {
  // Effective requests are max(init, sum(app)): the compiled pod carries them.
  // init 3 cpu, app 1+1 cpu -> 3 cpu requested on a node with 2 free.
  const framework::NodeInfo info =
      MakeNodeInfo(MakeNode("n", Res().Cpu(4).Mem(10).Pods(10)), {MakePod("e", Cpu(2))});
  NodeResourcesFitFilter plugin(config::NodeResourcesFitArgs(), names_);
  framework::CycleState state;
  EXPECT_EQ(plugin.Filter(state, MakePod("p", Cpu(3)), info).reasons(),
            std::vector<std::string>{"Insufficient cpu"});
  EXPECT_TRUE(plugin.Filter(state, MakePod("p", Cpu(2)), info).ok());
}

TEST_F(NodeResourcesFitFilterTest, IgnoredResources) {
  const model::Node node =
      MakeNode("n", Res().Cpu(10).Mem(10).Pods(10).Scalar(foo_, 1).Scalar(hugepages_, 1));
  const framework::NodeInfo info = MakeNodeInfo(node);

  struct Case {
    const char* name;
    std::vector<std::string> ignored;
    std::vector<std::string> groups;
    Res request;
    Want want;
  };
  const Case cases[] = {
      {"not ignored", {}, {}, Res().Scalar(foo_, 2).Scalar(bar_, 1),
       {Code::kUnschedulableAndUnresolvable,
        {"Insufficient example.com/foo", "Insufficient example.com/bar"}}},
      {"ignored by name", {"example.com/bar"}, {}, Res().Scalar(foo_, 2).Scalar(bar_, 1),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient example.com/foo"}}},
      {"ignored by group", {}, {"example.com"}, Res().Scalar(foo_, 2).Scalar(bar_, 1).Scalar(baz_, 1),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient other.org/baz"}}},
      {"group must match the whole prefix", {}, {"example"}, Res().Scalar(bar_, 1),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient example.com/bar"}}},
      {"hugepages are not extended resources: never ignored", {"hugepages-2Mi"}, {},
       Res().Scalar(hugepages_, 2),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient hugepages-2Mi"}}},
      {"ignoring does not excuse cpu", {"example.com/foo"}, {}, Res().Cpu(11).Scalar(foo_, 2),
       {Code::kUnschedulableAndUnresolvable, {"Insufficient cpu"}}},
  };
  framework::CycleState state;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    config::NodeResourcesFitArgs args;
    for (const std::string& r : c.ignored) args.add_ignoredresources(r);
    for (const std::string& g : c.groups) args.add_ignoredresourcegroups(g);
    NodeResourcesFitFilter plugin(args, names_);
    framework::Status s = plugin.Filter(state, MakePod("p", c.request), info);
    EXPECT_EQ(s.code(), c.want.code);
    EXPECT_EQ(s.reasons(), c.want.reasons);
  }
}

TEST(IsExtendedResourceNameTest, Names) {
  EXPECT_TRUE(IsExtendedResourceName("example.com/foo"));
  EXPECT_TRUE(IsExtendedResourceName("nvidia.com/gpu"));
  EXPECT_FALSE(IsExtendedResourceName("cpu"));
  EXPECT_FALSE(IsExtendedResourceName("hugepages-1Gi"));
  EXPECT_FALSE(IsExtendedResourceName("kubernetes.io/foo"));
  EXPECT_FALSE(IsExtendedResourceName("requests.example.com/foo"));
}

}  // namespace
}  // namespace kestrel::predicates
