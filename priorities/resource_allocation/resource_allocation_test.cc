#include "priorities/resource_allocation/resource_allocation.h"

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::priorities {
namespace {

using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;
using testing::Res;

TEST(ResourceAllocationTest, ResolveResource) {
  model::Interner names;
  EXPECT_EQ(ResolveResource("cpu", 1, names).kind, ScoredResource::Kind::kCpu);
  EXPECT_EQ(ResolveResource("memory", 1, names).kind, ScoredResource::Kind::kMemory);
  EXPECT_EQ(ResolveResource("ephemeral-storage", 1, names).kind,
            ScoredResource::Kind::kEphemeralStorage);
  ScoredResource gpu = ResolveResource("nvidia.com/gpu", 3, names);
  EXPECT_EQ(gpu.kind, ScoredResource::Kind::kScalar);
  EXPECT_EQ(gpu.id, names.Find("nvidia.com/gpu"));
  EXPECT_EQ(gpu.weight, 3);
}

TEST(ResourceAllocationTest, NonZeroVersusRequested) {
  model::Interner names;
  const ScoredResource cpu = ResolveResource("cpu", 1, names);
  const ScoredResource mem = ResolveResource("memory", 1, names);
  // Node 4000m / 8Gi with one best-effort pod (non-zero 100m / 200Mi).
  const framework::NodeInfo info = MakeNodeInfo(
      MakeNode("n", Res().Cpu(4000).Mem(8 * testing::kGi)), {MakePod("e", NoResources())});
  const model::Pod pod = MakePod("p", Res().Cpu(500));  // memory unset

  EXPECT_EQ(PodRequest(cpu, pod, RequestMode::kNonZero), 500);
  EXPECT_EQ(PodRequest(mem, pod, RequestMode::kNonZero), 200 * testing::kMi);
  EXPECT_EQ(PodRequest(mem, pod, RequestMode::kRequested), 0);

  AllocatableRequested c = CalculateAllocatableRequested(cpu, info, 500, RequestMode::kNonZero);
  EXPECT_EQ(c.allocatable, 4000);
  EXPECT_EQ(c.requested, 100 + 500);
  c = CalculateAllocatableRequested(cpu, info, 500, RequestMode::kRequested);
  EXPECT_EQ(c.requested, 0 + 500);
  AllocatableRequested m =
      CalculateAllocatableRequested(mem, info, 200 * testing::kMi, RequestMode::kNonZero);
  EXPECT_EQ(m.requested, 400 * testing::kMi);
}

TEST(ResourceAllocationTest, ScalarLeftOutWhenNotRequested) {
  model::Interner names;
  const ScoredResource gpu = ResolveResource("nvidia.com/gpu", 1, names);
  const framework::NodeInfo info =
      MakeNodeInfo(MakeNode("n", Res().Scalar(gpu.id, 8)),
                   {MakePod("e", Res().Scalar(gpu.id, 2))});
  AllocatableRequested g = CalculateAllocatableRequested(gpu, info, 0, RequestMode::kNonZero);
  EXPECT_EQ(g.allocatable, 0);
  EXPECT_EQ(g.requested, 0);
  g = CalculateAllocatableRequested(gpu, info, 1, RequestMode::kNonZero);
  EXPECT_EQ(g.allocatable, 8);
  EXPECT_EQ(g.requested, 3);
}

}  // namespace
}  // namespace kestrel::priorities
