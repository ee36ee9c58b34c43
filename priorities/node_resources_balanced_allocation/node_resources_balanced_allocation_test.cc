#include "priorities/node_resources_balanced_allocation/node_resources_balanced_allocation.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::priorities {
namespace {

using testing::Cpu;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;
using testing::Res;

config::NodeResourcesBalancedAllocationArgs Resources(std::vector<std::string> names) {
  config::NodeResourcesBalancedAllocationArgs args;
  for (const std::string& n : names) {
    config::ResourceSpec* r = args.add_resources();
    r->set_name(n);
    r->set_weight(1);
  }
  return args;
}

TEST(NodeResourcesBalancedAllocationTest, Score) {
  model::Interner names;
  const model::Id gpu = names.Intern("example.com/gpu");
  const config::NodeResourcesBalancedAllocationArgs defaults;  // cpu, memory
  const auto three = Resources({"cpu", "memory", "example.com/gpu"});

  struct Case {
    const char* name;
    config::NodeResourcesBalancedAllocationArgs args;
    model::Node node;
    std::vector<model::Pod> existing;
    model::Pod pod;
    int64_t want;
  };
  const Case cases[] = {
      // fractions 3000/4000 = 0.75 and 5000/10000 = 0.5; std = |0.75-0.5|/2 = 0.125;
      // (1-0.125)*100 = 87.5 -> 87.
      {"two resources", defaults, MakeNode("n", Res().Cpu(4000).Mem(10000)), {},
       MakePod("p", Res().Cpu(3000).Mem(5000)), 87},
      // Actual requests, not non-zero ones: the best-effort existing pod adds
      // nothing. 2000/4000 = 0.5 and 5000/10000 = 0.5 -> 100.
      {"existing best-effort pods count as zero", defaults,
       MakeNode("n", Res().Cpu(4000).Mem(10000)), {MakePod("e", NoResources())},
       MakePod("p", Res().Cpu(2000).Mem(5000)), 100},
      // Existing 1000m/2500 plus pod 1000m/2500: 0.5 and 0.5 -> 100.
      {"existing requests count", defaults, MakeNode("n", Res().Cpu(4000).Mem(10000)),
       {MakePod("e", Res().Cpu(1000).Mem(2500))}, MakePod("p", Res().Cpu(1000).Mem(2500)), 100},
      // cpu only: 0.75 and memory 0/10000 = 0; std 0.375; 62.5 -> 62.
      {"pod without memory request", defaults, MakeNode("n", Res().Cpu(4000).Mem(10000)), {},
       MakePod("p", Cpu(3000)), 62},
      // 5000/4000 is capped at 1; memory 0.5; std 0.25 -> 75.
      {"fraction capped at 1", defaults, MakeNode("n", Res().Cpu(4000).Mem(10000)), {},
       MakePod("p", Res().Cpu(5000).Mem(5000)), 75},
      // Memory allocatable 0: one fraction left, std 0 -> 100.
      {"zero allocatable left out", defaults, MakeNode("n", Cpu(4000)), {},
       MakePod("p", Res().Cpu(1000).Mem(5000)), 100},
      // fractions 0.75, 0.5, (1+1)/4 = 0.5; mean 1.75/3 = 0.58333;
      // sum of squares 0.16667^2 + 2*0.08333^2 = 0.041667; /3 = 0.013889;
      // std = sqrt(0.013889) = 0.117851; (1-0.117851)*100 = 88.21 -> 88.
      {"three resources", three, MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu, 4)),
       {MakePod("e", Res().Scalar(gpu, 1))},
       MakePod("p", Res().Cpu(3000).Mem(5000).Scalar(gpu, 1)), 88},
      // Same node, pod without gpu: the gpu is left out, two fractions 0.75 and
      // 0.5 -> 87.
      {"unrequested extended resource left out", three,
       MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu, 4)),
       {MakePod("e", Res().Scalar(gpu, 1))}, MakePod("p", Res().Cpu(3000).Mem(5000)), 87},
      // fractions 0.25, 0.75, 1 (4/4): mean 2/3; squares 0.173611+0.006944+0.111111
      // = 0.291667; /3 = 0.097222; std 0.311805; 68.82 -> 68.
      {"three resources, spread", three,
       MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu, 4)),
       {MakePod("e", Res().Scalar(gpu, 2))},
       MakePod("p", Res().Cpu(1000).Mem(7500).Scalar(gpu, 2)), 68},
  };

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto plugin = NodeResourcesBalancedAllocation::Create(c.args, names);
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    framework::CycleState state;
    const framework::NodeInfo info = MakeNodeInfo(c.node, c.existing);
    const framework::NodeInfo* nodes[] = {&info};
    EXPECT_TRUE((*plugin)->PreScore(state, c.pod, nodes).ok());
    absl::StatusOr<int64_t> score = (*plugin)->Score(state, c.pod, info);
    ASSERT_TRUE(score.ok()) << score.status();
    EXPECT_EQ(*score, c.want);
  }
}

TEST(NodeResourcesBalancedAllocationTest, BestEffortPodIsSkipped) {
  model::Interner names;
  auto plugin = NodeResourcesBalancedAllocation::Create({}, names);
  ASSERT_TRUE(plugin.ok());
  framework::CycleState state;
  const framework::NodeInfo info = MakeNodeInfo(MakeNode("n", Res().Cpu(4000).Mem(10000)));
  const model::Pod pod = MakePod("p", NoResources());
  EXPECT_TRUE((*plugin)->PreScore(state, pod, {}).IsSkip());
  EXPECT_EQ(*(*plugin)->Score(state, pod, info), 0);
  // A request for any configured resource is enough not to skip.
  EXPECT_TRUE((*plugin)->PreScore(state, MakePod("q", Cpu(1)), {}).ok());
}

TEST(NodeResourcesBalancedAllocationTest, BalancedResourceScore) {
  const int64_t req[] = {1, 3};
  const int64_t alloc[] = {4, 4};
  EXPECT_EQ(BalancedResourceScore(req, alloc), 75);  // std (0.75-0.25)/2 = 0.25
  const int64_t none[] = {0, 0};
  EXPECT_EQ(BalancedResourceScore(none, none), 100);  // nothing to compare: std 0
}

TEST(NodeResourcesBalancedAllocationTest, CreateValidates) {
  model::Interner names;
  auto bad = NodeResourcesBalancedAllocation::Create(Resources({"cpu", "cpu"}), names);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "resources[1].name: Duplicate value: \"cpu\"");
  auto ok = NodeResourcesBalancedAllocation::Create({}, names);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->Name(), "NodeResourcesBalancedAllocation");
}

}  // namespace
}  // namespace kestrel::priorities
