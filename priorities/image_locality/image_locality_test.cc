#include "priorities/image_locality/image_locality.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"
#include "scheduler/cache/cache.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::priorities {
namespace {

using testing::MakeNode;
using testing::MakePod;
using testing::NoResources;

constexpr int64_t kMB = 1024 * 1024;

struct Image {
  std::vector<std::string> names;
  int64_t mb;
};

model::NodePtr ImageNode(const std::string& name, const std::vector<Image>& images) {
  model::Node node = MakeNode(name, NoResources());
  for (const Image& i : images) node.images.push_back({i.names, i.mb * kMB});
  return std::make_shared<const model::Node>(node);
}

// Upstream TestImageLocalityPriority's nodes.
const std::vector<Image> kNode403002000 = {
    {{"gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"}, 40},
    {{"gcr.io/300:latest", "gcr.io/300:v1"}, 300},
    {{"gcr.io/2000:latest"}, 2000}};
const std::vector<Image> kNode25010 = {{{"gcr.io/250:latest"}, 250},
                                       {{"gcr.io/10:latest", "gcr.io/10:v1"}, 10}};
const std::vector<Image> kNode60040900 = {
    {{"gcr.io/600:latest"}, 600}, {{"gcr.io/40:latest"}, 40}, {{"gcr.io/900:latest"}, 900}};
const std::vector<Image> kNode300600900 = {
    {{"gcr.io/300:latest"}, 300}, {{"gcr.io/600:latest"}, 600}, {{"gcr.io/900:latest"}, 900}};
const std::vector<Image> kNode400030 = {{{"gcr.io/4000:latest"}, 4000}, {{"gcr.io/30:latest"}, 30}};
const std::vector<Image> kNode203040 = {
    {{"gcr.io/20:latest"}, 20}, {{"gcr.io/30:latest"}, 30}, {{"gcr.io/40:latest"}, 40}};
const std::vector<Image> kNoImages = {};

// The images a test pod runs, by pod name: the seam model::Pod lacks.
std::map<std::string, std::vector<std::string>>& TestImages() {
  static auto* images = new std::map<std::string, std::vector<std::string>>();
  return *images;
}

absl::Span<const std::string> TestPodImages(const model::Pod& pod) {
  auto it = TestImages().find(pod.name);
  if (it == TestImages().end()) return {};
  return it->second;
}

struct ScoreCase {
  const char* name;
  std::vector<std::string> images;  // init containers first, as PodImages()
  std::vector<std::vector<Image>> nodes;
  std::vector<int64_t> want;
};

// Upstream TestImageLocalityPriority, with the nodes in a real snapshot.
TEST(ImageLocalityTest, Score) {
  const ScoreCase cases[] = {
      // 100 * (250M/2 - 23M) / (1000M * 2 - 23M) = 5
      {"two images spread on two nodes, prefer the larger image one",
       {"gcr.io/40", "gcr.io/250"},
       {kNode403002000, kNode25010},
       {0, 5}},
      // 100 * ((40M + 300M)/2 - 23M) / (1000M * 2 - 23M) = 7
      {"two images on one node, prefer this node",
       {"gcr.io/40", "gcr.io/300"},
       {kNode403002000, kNode25010},
       {7, 0}},
      // 4000M/2 >= 1000M * 2: the maximum.
      {"if exceed limit, use limit",
       {"gcr.io/10", "gcr.io/4000"},
       {kNode400030, kNode25010},
       {100, 0}},
      // 100 * (4000M/3 - 23M) / (1000M * 2 - 23M) = 66
      {"if exceed limit, use limit (with node which has no images present)",
       {"gcr.io/10", "gcr.io/4000"},
       {kNode400030, kNode25010, kNoImages},
       {66, 0, 0}},
      // node1: 100 * (600M*2/3 + 900M*2/3 - 23M) / (1000M*3 - 23M) = 32
      // node2: 100 * (300M/3 + 600M*2/3 + 900M*2/3 - 23M) / (1000M*3 - 23M) = 36
      {"pod with multiple large images, node2 is preferred",
       {"gcr.io/300", "gcr.io/600", "gcr.io/900"},
       {kNode60040900, kNode300600900, kNoImages},
       {32, 36, 0}},
      // 100 * (30M + 40M/2 - 23M) / (1000M * 2 - 23M) = 1
      {"pod with multiple small images",
       {"gcr.io/30", "gcr.io/40"},
       {kNode203040, kNode400030},
       {1, 0}},
      // 100 * (300M/2 - 23M) / (1000M * 2 - 23M) = 6
      {"include InitContainers: two images spread on two nodes, prefer the larger image one",
       {"gcr.io/300", "gcr.io/30"},
       {kNode403002000, kNode203040},
       {6, 0}},
      // Each container counts, even with the same image:
      // 100 * (2 * 2000M/2 - 23M) / (1000M * 2 - 23M) = 100
      {"two containers of one image both count",
       {"gcr.io/2000", "gcr.io/2000"},
       {kNode403002000, kNoImages},
       {100, 0}},
      // Tags and digests are matched as written.
      {"a tag the node does not list", {"gcr.io/300:v2"}, {kNode403002000}, {0}},
      // 100 * (300M - 23M) / (1000M - 23M) = 28
      {"a tag the node lists", {"gcr.io/300:v1"}, {kNode403002000}, {28}},
      {"a pod without images", {}, {kNode403002000, kNode25010}, {0, 0}},
  };

  for (const ScoreCase& c : cases) {
    SCOPED_TRACE(c.name);
    TestImages()["p"] = c.images;
    cache::Cache cache;
    for (size_t i = 0; i < c.nodes.size(); ++i) {
      ASSERT_TRUE(cache.AddNode(ImageNode("node" + std::to_string(i + 1), c.nodes[i])).ok());
    }
    cache::Snapshot snapshot;
    cache.UpdateSnapshot(&snapshot);
    framework::CycleState state;
    state.snapshot = &snapshot;

    ImageLocality plugin(TestPodImages);
    const model::Pod pod = MakePod("p", NoResources());
    framework::NodeInfoList nodes = snapshot.nodes();
    ASSERT_TRUE(plugin.PreScore(state, pod, nodes).ok());
    std::vector<int64_t> got;
    for (const framework::NodeInfo* info : nodes) {
      absl::StatusOr<int64_t> s = plugin.Score(state, pod, *info);
      ASSERT_TRUE(s.ok()) << s.status();
      got.push_back(*s);
    }
    EXPECT_EQ(got, c.want);

    ASSERT_TRUE(plugin.ScoresRows(state, pod));
    std::vector<uint32_t> rows;
    for (uint32_t r = 0; r < nodes.size(); ++r) rows.push_back(r);
    std::vector<int64_t> by_rows(rows.size(), -1);
    plugin.ScoreRows(state, pod, snapshot.table(), rows, by_rows.data());
    EXPECT_EQ(by_rows, c.want);
    EXPECT_FALSE(plugin.NormalizesScores());
  }
}

// Spread divides by all the snapshot's nodes, not the feasible ones.
TEST(ImageLocalityTest, SpreadCountsEveryNodeOfTheSnapshot) {
  TestImages()["p"] = {"gcr.io/250"};
  cache::Cache cache;
  ASSERT_TRUE(cache.AddNode(ImageNode("node1", kNode25010)).ok());
  ASSERT_TRUE(cache.AddNode(ImageNode("node2", kNoImages)).ok());
  ASSERT_TRUE(cache.AddNode(ImageNode("node3", kNoImages)).ok());
  cache::Snapshot snapshot;
  cache.UpdateSnapshot(&snapshot);
  const framework::NodeInfo* node1 = snapshot.Get("node1");
  ASSERT_NE(node1, nullptr);
  ImageLocality plugin(TestPodImages);
  const model::Pod pod = MakePod("p", NoResources());

  // Only node1 is feasible: 250M * 1/3 = 83M -> 100 * (83M - 23M) / (1000M - 23M) = 6.
  framework::CycleState with_snapshot;
  with_snapshot.snapshot = &snapshot;
  ASSERT_TRUE(plugin.PreScore(with_snapshot, pod, {node1}).ok());
  EXPECT_EQ(*plugin.Score(with_snapshot, pod, *node1), 6);

  // Without a snapshot the feasible nodes are all there is: 250M * 1/1.
  framework::CycleState without;
  ASSERT_TRUE(plugin.PreScore(without, pod, {node1}).ok());
  EXPECT_EQ(*plugin.Score(without, pod, *node1), 23);
}

TEST(ImageLocalityTest, UntilPodsCarryImagesEveryNodeScoresZero) {
  ImageLocality plugin;
  const framework::NodeInfo info(ImageNode("n", kNode403002000));
  framework::CycleState state;
  const model::Pod pod = MakePod("p", NoResources());
  EXPECT_TRUE(PodImages(pod).empty());
  ASSERT_TRUE(plugin.PreScore(state, pod, {&info}).ok());
  EXPECT_EQ(*plugin.Score(state, pod, info), 0);
}

TEST(ImageLocalityTest, ScoreWithoutPreScoreIsAnError) {
  ImageLocality plugin(TestPodImages);
  const framework::NodeInfo info(ImageNode("n", kNoImages));
  framework::CycleState state;
  const model::Pod pod = MakePod("p", NoResources());
  EXPECT_FALSE(plugin.ScoresRows(state, pod));
  absl::StatusOr<int64_t> s = plugin.Score(state, pod, info);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "reading \"PreScoreImageLocality\" from cycleState: not found");
}

TEST(ImageLocalityTest, SummarizeImage) {
  const framework::NodeInfo a(ImageNode("a", kNode403002000));
  const framework::NodeInfo b(ImageNode("b", kNode60040900));
  const framework::NodeInfo c(ImageNode("c", kNoImages));
  // Listed twice under one image on node a: still one node.
  ImageSummary s = SummarizeImage({&a, &b, &c}, "gcr.io/40:v1");
  EXPECT_EQ(s.num_nodes, 1);
  EXPECT_EQ(s.size_bytes, 40 * kMB);
  s = SummarizeImage({&a, &b, &c}, "gcr.io/40:latest");
  EXPECT_EQ(s.num_nodes, 2);
  s = SummarizeImage({&a, &b, &c}, "gcr.io/40");
  EXPECT_EQ(s.num_nodes, 0);
  EXPECT_EQ(s.size_bytes, 0);
}

TEST(ImageLocalityTest, NormalizedImageName) {
  struct Case {
    const char* in;
    const char* out;
  };
  const std::string digest =
      "root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2";
  const Case cases[] = {
      {"root", "root:latest"},  {"gcr.io:5000/root", "gcr.io:5000/root:latest"},
      {"root:tag", "root:tag"}, {digest.c_str(), digest.c_str()},
      {"", ":latest"},
  };
  for (const Case& c : cases) EXPECT_EQ(NormalizedImageName(c.in), c.out) << c.in;
}

TEST(ImageLocalityTest, CalculatePriority) {
  EXPECT_EQ(CalculatePriority(0, 1), 0);
  EXPECT_EQ(CalculatePriority(23 * kMB, 1), 0);
  EXPECT_EQ(CalculatePriority(1000 * kMB, 1), 100);
  EXPECT_EQ(CalculatePriority(5000 * kMB, 2), 100);
  // 100 * (500M - 23M) / (1000M - 23M) = 48
  EXPECT_EQ(CalculatePriority(500 * kMB, 1), 48);
  // No containers: the clamp to the minimum leaves 0.
  EXPECT_EQ(CalculatePriority(0, 0), 0);
}

TEST(ImageLocalityTest, ScaledImageScoreTruncates) {
  EXPECT_EQ(ScaledImageScore({10, 1}, 3), 3);
  EXPECT_EQ(ScaledImageScore({300 * kMB, 2}, 3), 200 * kMB);
  EXPECT_EQ(ScaledImageScore({7, 3}, 3), 7);
}

}  // namespace
}  // namespace kestrel::priorities
