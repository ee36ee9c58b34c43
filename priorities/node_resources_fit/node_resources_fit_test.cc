#include "priorities/node_resources_fit/node_resources_fit.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::priorities {
namespace {

using testing::Cpu;
using testing::kGi;
using testing::kMi;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;
using testing::Res;

config::NodeResourcesFitArgs Strategy(const std::string& type,
                                      std::vector<std::pair<std::string, int64_t>> resources,
                                      std::vector<std::pair<int, int>> shape = {}) {
  config::NodeResourcesFitArgs args;
  config::ScoringStrategy* s = args.mutable_scoringstrategy();
  s->set_type(type);
  for (const auto& [name, weight] : resources) {
    config::ResourceSpec* r = s->add_resources();
    r->set_name(name);
    r->set_weight(weight);
  }
  if (!shape.empty()) {
    for (const auto& [u, score] : shape) {
      config::UtilizationShapePoint* p = s->mutable_requestedtocapacityratio()->add_shape();
      p->set_utilization(u);
      p->set_score(score);
    }
  }
  return args;
}

struct Case {
  const char* name;
  config::NodeResourcesFitArgs args;
  model::Node node;
  std::vector<model::Pod> existing;
  model::Pod pod;
  int64_t want;
};

class NodeResourcesFitScoreTest : public ::testing::Test {
 protected:
  void Run(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.name);
      auto plugin = NodeResourcesFit::Create(c.args, names_);
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

  model::Interner names_;
  const model::Id gpu_ = names_.Intern("example.com/gpu");
};

TEST_F(NodeResourcesFitScoreTest, LeastAllocated) {
  const config::NodeResourcesFitArgs defaults;  // LeastAllocated, cpu:1, memory:1
  Run({
      // cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50;
      // (25+50)/2 = 37 (integer division).
      {"defaults", defaults, MakeNode("n", Res().Cpu(4000).Mem(10000)), {},
       MakePod("p", Res().Cpu(3000).Mem(5000)), 37},
      // cpu 3000*100/6000 = 50, memory 50 -> 50.
      {"bigger node", defaults, MakeNode("n", Res().Cpu(6000).Mem(10000)), {},
       MakePod("p", Res().Cpu(3000).Mem(5000)), 50},
      // Non-zero defaults: requested cpu 100, memory 200Mi on 4000m / 1Gi.
      // cpu 3900*100/4000 = 97, memory 824*100/1024 = 80; (97+80)/2 = 88.
      {"zero-request pod scores with non-zero defaults", defaults,
       MakeNode("n", Res().Cpu(4000).Mem(kGi)), {}, MakePod("p", NoResources()), 88},
      // Existing pod cpu 2000 and no memory request (non-zero 200Mi).
      // cpu (4000-3000)*100/4000 = 25; memory (1024-456)Mi*100/1024Mi = 55; 80/2 = 40.
      {"existing pod's non-zero memory counts", defaults,
       MakeNode("n", Res().Cpu(4000).Mem(kGi)), {MakePod("e", Cpu(2000))},
       MakePod("p", Res().Cpu(1000).Mem(256 * kMi)), 40},
      // Same with cpu weight 3: (25*3 + 55*1)/4 = 130/4 = 32.
      {"weights", Strategy("LeastAllocated", {{"cpu", 3}, {"memory", 1}}),
       MakeNode("n", Res().Cpu(4000).Mem(kGi)), {MakePod("e", Cpu(2000))},
       MakePod("p", Res().Cpu(1000).Mem(256 * kMi)), 32},
      // cpu requested 2000 > 1000 -> 0; memory 768*100/1024 = 75; 75/2 = 37.
      {"requested over capacity scores 0", defaults,
       MakeNode("n", Res().Cpu(1000).Mem(kGi)), {},
       MakePod("p", Res().Cpu(2000).Mem(256 * kMi)), 37},
      // Memory allocatable 0 is left out: cpu 3000*100/4000 = 75 alone.
      {"zero allocatable resource left out", defaults, MakeNode("n", Cpu(4000)), {},
       MakePod("p", Res().Cpu(1000).Mem(kGi)), 75},
      {"node with nothing allocatable", defaults, MakeNode("n", NoResources()), {},
       MakePod("p", Cpu(1000)), 0},
      // gpu weight 2, node 4 gpus, 1 used, pod asks 1: (4-2)*100/4 = 50.
      // The existing pod requests no cpu or memory, so it counts 100m and
      // 200Mi: cpu (4000-3100)*100/4000 = 22, memory 200Mi+5000 > 10000 -> 0.
      // (22 + 0 + 50*2)/4 = 122/4 = 30.
      {"extended resource", Strategy("LeastAllocated", {{"cpu", 1}, {"memory", 1},
                                                        {"example.com/gpu", 2}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu_, 4)),
       {MakePod("e", Res().Cpu(0).Mem(0).Scalar(gpu_, 1))},
       MakePod("p", Res().Cpu(3000).Mem(5000).Scalar(gpu_, 1)), 30},
      // As above, but a pod not requesting the gpu leaves it out: (22+0)/2 = 11.
      {"unrequested extended resource left out",
       Strategy("LeastAllocated", {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 2}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu_, 4)),
       {MakePod("e", Res().Scalar(gpu_, 1))}, MakePod("p", Res().Cpu(3000).Mem(5000)), 11},
  });
}

TEST_F(NodeResourcesFitScoreTest, MostAllocated) {
  const auto most = Strategy("MostAllocated", {});  // resources default to cpu, memory
  Run({
      // cpu 3000*100/4000 = 75, memory 5000*100/10000 = 50; 125/2 = 62.
      {"basic", most, MakeNode("n", Res().Cpu(4000).Mem(10000)), {},
       MakePod("p", Res().Cpu(3000).Mem(5000)), 62},
      // cpu 2000 > 1000 is clamped: 100; memory 50; 150/2 = 75.
      {"requested over capacity clamps", most, MakeNode("n", Res().Cpu(1000).Mem(10000)), {},
       MakePod("p", Res().Cpu(2000).Mem(5000)), 75},
      // cpu 100*100/4000 = 2, memory 200Mi*100/1Gi = 19; 21/2 = 10.
      {"zero-request pod", most, MakeNode("n", Res().Cpu(4000).Mem(kGi)), {},
       MakePod("p", NoResources()), 10},
      // cpu weight 2: existing 1000 + pod 1000 = 2000 -> 50; memory 5000 -> 50.
      {"weights", Strategy("MostAllocated", {{"cpu", 2}, {"memory", 1}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000)), {MakePod("e", Res().Cpu(1000).Mem(2500))},
       MakePod("p", Res().Cpu(1000).Mem(2500)), 50},
  });
}

TEST_F(NodeResourcesFitScoreTest, RequestedToCapacityRatio) {
  Run({
      // Shape (0,0) (100,10) -> scores x10: (0,0) (100,100).
      // cpu 3000*100/4000 = 75 -> 75; memory 50 -> 50; round(125/2) = round(62.5) = 63.
      {"bin packing shape rounds half away from zero",
       Strategy("RequestedToCapacityRatio", {{"cpu", 1}, {"memory", 1}}, {{0, 0}, {100, 10}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000)), {}, MakePod("p", Res().Cpu(3000).Mem(5000)),
       63},
      // Shape (0,10) (100,0): cpu 100 + (0-100)*75/100 = 25; memory 50; round(37.5) = 38.
      {"spreading shape",
       Strategy("RequestedToCapacityRatio", {{"cpu", 1}, {"memory", 1}}, {{0, 10}, {100, 0}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000)), {}, MakePod("p", Res().Cpu(3000).Mem(5000)),
       38},
      // cpu fully used scores 0 and is dropped from the weights: memory 50 alone.
      {"zero resource scores are left out",
       Strategy("RequestedToCapacityRatio", {{"cpu", 1}, {"memory", 1}}, {{0, 10}, {100, 0}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000)), {}, MakePod("p", Res().Cpu(4000).Mem(5000)),
       50},
      // Over capacity counts as utilization 100: (100,10) -> 100 for cpu;
      // memory 5000 -> 50; weights 3 and 1: round((300+50)/4) = round(87.5) = 88.
      {"over capacity is utilization 100",
       Strategy("RequestedToCapacityRatio", {{"cpu", 3}, {"memory", 1}}, {{0, 0}, {100, 10}}),
       MakeNode("n", Res().Cpu(1000).Mem(10000)), {}, MakePod("p", Res().Cpu(2000).Mem(5000)),
       88},
      // gpu: 2 of 4 -> utilization 50 -> 50; cpu 75, memory 50, weights 1,1,2:
      // round((75 + 50 + 100)/4) = round(56.25) = 56.
      {"extended resource",
       Strategy("RequestedToCapacityRatio",
                {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 2}}, {{0, 0}, {100, 10}}),
       MakeNode("n", Res().Cpu(4000).Mem(10000).Scalar(gpu_, 4)), {},
       MakePod("p", Res().Cpu(3000).Mem(5000).Scalar(gpu_, 2)), 56},
  });
}

TEST(BrokenLinearTest, Shape) {
  // Shape (10,2) (50,8) (80,3), scores x10.
  const std::vector<NodeResourcesFit::ShapePoint> shape = {{10, 20}, {50, 80}, {80, 30}};
  EXPECT_EQ(BrokenLinear(shape, 0), 20);    // below the first point
  EXPECT_EQ(BrokenLinear(shape, 10), 20);
  EXPECT_EQ(BrokenLinear(shape, 30), 50);   // 20 + 60*20/40
  EXPECT_EQ(BrokenLinear(shape, 50), 80);
  EXPECT_EQ(BrokenLinear(shape, 60), 64);   // 80 + (-50*10)/30 = 80 - 16 (truncation)
  EXPECT_EQ(BrokenLinear(shape, 80), 30);
  EXPECT_EQ(BrokenLinear(shape, 100), 30);  // above the last point
}

TEST(NodeResourcesFitCreateTest, RejectsBadArgs) {
  model::Interner names;
  auto bad = NodeResourcesFit::Create(Strategy("Bogus", {}), names);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "scoringStrategy.type: Unsupported value: \"Bogus\": supported values: "
            "\"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\"");
}

TEST(NodeResourcesFitCreateTest, FilterAndNames) {
  model::Interner names;
  auto fit = NodeResourcesFit::Create(config::NodeResourcesFitArgs(), names);
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ((*fit)->Name(), "NodeResourcesFit");
  EXPECT_EQ(NodeResourcesFit::kName, std::string("NodeResourcesFit"));
  // The registered plugin filters too.
  framework::CycleState state;
  const framework::NodeInfo info = MakeNodeInfo(MakeNode("n", Res().Cpu(1000).Pods(10)));
  const framework::FilterPlugin& filter = **fit;
  EXPECT_EQ(filter.Filter(state, MakePod("p", Cpu(2000)), info).reasons(),
            std::vector<std::string>{"Insufficient cpu"});
}

TEST(NodeResourcesFitCreateTest, MissingNodeIsAnError) {
  model::Interner names;
  auto fit = NodeResourcesFit::Create(config::NodeResourcesFitArgs(), names);
  ASSERT_TRUE(fit.ok());
  framework::CycleState state;
  EXPECT_FALSE((*fit)->Score(state, MakePod("p", Cpu(1)), framework::NodeInfo()).ok());
}

}  // namespace
}  // namespace kestrel::priorities
