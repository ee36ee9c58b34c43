// ExplainSummary: Summarize() of a hand-made explanation, and
// SummarizePod() (node-table rows, the scheduler's scoring) against
// Summarize(ExplainPod()) (every plugin per node) on every pending pod of
// testdata/, at every point of a simulation.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "sim/simulator.h"

namespace kestrel::sim {
namespace {

TEST(ExplainSummaryTest, SummarizeKeepsCountsAndTopNodes) {
  Explanation e;
  e.pod = "default/p";
  e.score_plugins = {"A", "B"};
  auto node = [](std::string name, std::string fit, std::string taint, int64_t a,
                 std::optional<int64_t> b) {
    NodeExplanation n;
    n.node = std::move(name);
    n.filters = {{"Fit", fit}, {"Taint", taint}, {"Spread", kSkipped}};
    n.feasible = fit == kPassed && taint == kPassed;
    if (n.feasible) {
      n.scores.emplace_back("A", a);
      if (b.has_value()) {
        n.scores.emplace_back("B", *b);
      } else {
        n.skipped_scores.push_back("B");
      }
      n.total = a + b.value_or(0);
    }
    return n;
  };
  e.nodes = {node("n1", "Insufficient cpu", kPassed, 0, 0),
             node("n2", kPassed, kPassed, 10, 5),
             node("n3", "Insufficient cpu", "untolerated taint", 0, 0),
             node("n4", kPassed, kPassed, 20, std::nullopt),
             node("n5", kPassed, kPassed, 15, 0),
             node("n6", "Insufficient memory", kPassed, 0, 0)};
  const ExplainSummary r = Summarize(e, 2);
  ASSERT_EQ(r.filters.size(), 3u);
  EXPECT_EQ(r.filters[0].plugin, "Fit");
  EXPECT_EQ(r.filters[0].rejected, 3);
  EXPECT_THAT(r.filters[0].reasons,
              ::testing::ElementsAre(::testing::Pair("Insufficient cpu", 2),
                                     ::testing::Pair("Insufficient memory", 1)));
  EXPECT_EQ(r.filters[1].rejected, 1);
  EXPECT_FALSE(r.filters[1].skipped);
  EXPECT_TRUE(r.filters[2].skipped);
  EXPECT_EQ(r.filters[2].rejected, 0);
  EXPECT_EQ(r.feasible, 3);
  ASSERT_EQ(r.top.size(), 2u);
  EXPECT_EQ(r.top[0].node, "n4");
  EXPECT_EQ(r.top[0].total, 20);
  EXPECT_THAT(r.top[0].scores, ::testing::ElementsAre(std::optional<int64_t>(20), std::nullopt));
  EXPECT_EQ(r.top[1].node, "n2");  // 15 ties with n5: cluster order first
  EXPECT_EQ(r.top[1].total, 15);
}

// Compares the two ways before each pod's first attempt.
class Compare : public Observer {
 public:
  void BeforeFirstAttempt(Host& host, size_t, const model::PodPtr& pod) override {
    SCOPED_TRACE(pod->Key());
    absl::StatusOr<Explanation> full = ExplainPod(host, *pod);
    absl::StatusOr<ExplainSummary> fast = SummarizePod(host, *pod, 3);
    ASSERT_EQ(full.ok(), fast.ok());
    if (!full.ok()) return;
    const ExplainSummary want = Summarize(*full, 3);
    EXPECT_TRUE(*fast == want) << "filters " << fast->filters.size() << " vs "
                               << want.filters.size() << ", feasible " << fast->feasible
                               << " vs " << want.feasible << ", top " << fast->top.size()
                               << " vs " << want.top.size();
    ++compared;
    with_rejections += !want.filters.empty() && want.feasible < static_cast<int>(host.nodes().size());
    with_scores += !want.top.empty();
    with_pre_filter += want.pre_filter_rejection.has_value();
  }
  int compared = 0, with_rejections = 0, with_scores = 0, with_pre_filter = 0;
};

TEST(ExplainSummaryTest, SummarizePodAgreesWithExplainPod) {
  Compare compare;
  for (const char* path : {"testdata/small/cluster.yaml", "testdata/plugins/cluster.yaml",
                           "testdata/preemption/high-priority/cluster.yaml",
                           "testdata/critical/kube-dns/cluster.yaml",
                           "testdata/critical/legacy-1.4/cluster.yaml",
                           "testdata/affinity-parse-errors/cluster.yaml"}) {
    SCOPED_TRACE(path);
    absl::StatusOr<Cluster> cluster = LoadFiles({path});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    SimOptions options;
    options.threads = 1;
    options.observer = &compare;
    ASSERT_TRUE(Simulate(*cluster, scheduler::DefaultConfig(), options).ok());
  }
  EXPECT_GT(compare.compared, 20);
  EXPECT_GT(compare.with_rejections, 0);
  EXPECT_GT(compare.with_scores, 0);
  EXPECT_GT(compare.with_pre_filter, 0);
}

}  // namespace
}  // namespace kestrel::sim
