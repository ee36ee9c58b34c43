// PickOneNodeForPreemption, NumCandidatesToFind, CompilePreemptionArgs and
// PodEligibleToPreemptOthers, from the ideas of upstream's
// TestPickOneNodeForPreemption, TestCalculateNumCandidates,
// TestValidateDefaultPreemptionArgs and TestPodEligibleToPreemptOthers.

#include "scheduler/preemption/candidates.h"

#include <optional>
#include <string>
#include <vector>

#include "api/config/config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler/preemption/test_pods.h"

namespace kestrel::preemption {
namespace {

using ::kestrel::preemption::testing::At;
using ::kestrel::preemption::testing::MakeNodeInfo;
using ::kestrel::preemption::testing::MakePod;
using ::kestrel::preemption::testing::PodSpec;

const absl::Time kNow = At(1000);

struct CandidateSpec {
  std::string node;
  std::vector<PodSpec> victims;  // most important first
  int64_t violations = 0;
};

struct PickCase {
  std::string name;
  std::vector<CandidateSpec> candidates;
  std::string want;  // empty: nullptr
};

class PickOneNodeTest : public ::testing::TestWithParam<PickCase> {};

TEST_P(PickOneNodeTest, Picks) {
  model::Interner names;
  std::vector<Candidate> candidates;
  for (const CandidateSpec& s : GetParam().candidates) {
    Candidate c{s.node, {}};
    for (const PodSpec& v : s.victims) c.victims.pods.push_back(MakePod(names, v));
    c.victims.num_pdb_violations = s.violations;
    candidates.push_back(std::move(c));
  }
  const Candidate* got = PickOneNodeForPreemption(candidates, kNow);
  EXPECT_EQ(got == nullptr ? "" : got->node_name, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PickOneNodeTest,
    ::testing::Values(
        PickCase{"Empty", {}, ""},
        PickCase{"One", {{"n1", {{"a", 5}}}}, "n1"},
        PickCase{"FewestPdbViolations",
                 {{"n1", {{"a", 1}}, 1}, {"n2", {{"b", 100}, {"c", 50}}, 0}},
                 "n2"},
        PickCase{"LowestHighestPriority",
                 {{"n1", {{"a", 10}}}, {"n2", {{"b", 5}, {"c", 5}, {"d", 5}}}},
                 "n2"},
        // Shifted by 2^31, two pods of 5 sum lower than three of 5, 1, 1.
        PickCase{"LowestShiftedSum",
                 {{"n1", {{"a", 5}, {"b", 1}, {"c", 1}}}, {"n2", {{"d", 5}, {"e", 5}}}},
                 "n2"},
        PickCase{"NegativePrioritiesFewerPods",
                 {{"n1", {{"a", -5}, {"b", -5}, {"c", -5}}}, {"n2", {{"d", -5}}}},
                 "n2"},
        // Equal shifted sums (3947483648 + 2 * 2^31), fewer victims wins.
        PickCase{"FewestVictims",
                 {{"n1", {{"a", 2000000000}, {"b", -100000000}, {"c", -100000000}}},
                  {"n2", {{"d", 2000000000}, {"e", 1947483648}}}},
                 "n2"},
        PickCase{"LatestStartOfHighestPriorityVictims",
                 {{"n1", {{"a", 5, 0, At(100)}, {"b", 1, 0, At(900)}}},
                  {"n2", {{"c", 5, 0, At(200)}, {"d", 1, 0, At(0)}}}},
                 "n2"},
        PickCase{"EarliestAmongHighestPriority",
                 {{"n1", {{"a", 5, 0, At(300)}, {"b", 5, 0, At(50)}}},
                  {"n2", {{"c", 5, 0, At(200)}, {"d", 5, 0, At(100)}}}},
                 "n2"},
        PickCase{"NotStartedIsNow",
                 {{"n1", {{"a", 5, 0, At(900)}}}, {"n2", {{"b", 5}}}},
                 "n2"},
        PickCase{"TieTakesFirst",
                 {{"n1", {{"a", 5, 0, At(100)}}}, {"n2", {{"b", 5, 0, At(100)}}}},
                 "n1"}),
    [](const ::testing::TestParamInfo<PickCase>& info) { return info.param.name; });

TEST(GetEarliestPodStartTimeTest, HighestPriorityOnly) {
  model::Interner names;
  Victims v;
  v.pods = {MakePod(names, {"a", 1, 0, At(10)}), MakePod(names, {"b", 7, 0, At(300)}),
            MakePod(names, {"c", 7, 0, At(200)}), MakePod(names, {"d", 3, 0, At(0)})};
  EXPECT_EQ(GetEarliestPodStartTime(v, kNow), At(200));
  EXPECT_EQ(GetEarliestPodStartTime(Victims{}, kNow), absl::InfinitePast());
}

struct NumCase {
  int32_t nodes, percentage, absolute, want;
};

class NumCandidatesTest : public ::testing::TestWithParam<NumCase> {};

TEST_P(NumCandidatesTest, Calculates) {
  const NumCase& c = GetParam();
  EXPECT_EQ(NumCandidatesToFind(c.nodes, {c.percentage, c.absolute}), c.want);
}

INSTANTIATE_TEST_SUITE_P(Cases, NumCandidatesTest,
                         ::testing::Values(NumCase{10, 10, 100, 10},      // capped at nodes
                                           NumCase{1000, 10, 100, 100},   // absolute floor
                                           NumCase{5000, 10, 100, 500},   // percentage
                                           NumCase{100, 0, 50, 50},       // percentage off
                                           NumCase{200, 50, 0, 100},      // absolute off
                                           NumCase{0, 10, 100, 0},        // no nodes
                                           NumCase{15, 10, 1, 1}));       // rounds down

struct ArgsCase {
  std::string name;
  std::optional<int32_t> percentage, absolute;
  std::string want_error;  // empty: valid
  PreemptionArgs want = {};
};

class CompilePreemptionArgsTest : public ::testing::TestWithParam<ArgsCase> {};

TEST_P(CompilePreemptionArgsTest, Validates) {
  const ArgsCase& c = GetParam();
  config::DefaultPreemptionArgs proto;
  if (c.percentage) proto.set_mincandidatenodespercentage(*c.percentage);
  if (c.absolute) proto.set_mincandidatenodesabsolute(*c.absolute);
  absl::StatusOr<PreemptionArgs> got = CompilePreemptionArgs(proto);
  if (!c.want_error.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(std::string(got.status().message()), c.want_error);
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->min_candidate_nodes_percentage, c.want.min_candidate_nodes_percentage);
  EXPECT_EQ(got->min_candidate_nodes_absolute, c.want.min_candidate_nodes_absolute);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CompilePreemptionArgsTest,
    ::testing::Values(
        ArgsCase{"Defaults", std::nullopt, std::nullopt, "", {10, 100}},
        ArgsCase{"Set", 50, 0, "", {50, 0}},
        ArgsCase{"PercentageZeroAllowed", 0, 7, "", {0, 7}},
        ArgsCase{"NegativePercentage", -1, std::nullopt,
                 "minCandidateNodesPercentage: Invalid value: -1: not in valid range [0, 100]"},
        ArgsCase{"PercentageOver100", 101, std::nullopt,
                 "minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]"},
        ArgsCase{"NegativeAbsolute", std::nullopt, -1,
                 "minCandidateNodesAbsolute: Invalid value: -1: not in valid range [0, inf)"},
        ArgsCase{"BothZero", 0, 0,
                 "[minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same "
                 "time as minCandidateNodesAbsolute, minCandidateNodesAbsolute: Invalid value: "
                 "0: cannot be zero at the same time as minCandidateNodesPercentage]"},
        ArgsCase{"BothOutOfRange", 200, -2,
                 "[minCandidateNodesPercentage: Invalid value: 200: not in valid range [0, "
                 "100], minCandidateNodesAbsolute: Invalid value: -2: not in valid range [0, "
                 "inf)]"}),
    [](const ::testing::TestParamInfo<ArgsCase>& info) { return info.param.name; });

TEST(PodEligibleToPreemptOthersTest, Rules) {
  model::Interner names;
  model::Pod pod = *MakePod(names, {"p", 10, 1000});
  const framework::NodeInfo quiet = MakeNodeInfo(4000, {MakePod(names, {"a", 1, 1000})});
  auto terminating = std::make_shared<model::Pod>(*MakePod(names, {"victim", 1, 1000}));
  terminating->terminating = true;
  const framework::NodeInfo draining = MakeNodeInfo(4000, {terminating});
  auto high = std::make_shared<model::Pod>(*MakePod(names, {"high", 20, 1000}));
  high->terminating = true;
  const framework::NodeInfo draining_high = MakeNodeInfo(4000, {high});

  // Not nominated anywhere.
  EXPECT_TRUE(PodEligibleToPreemptOthers(pod, nullptr, framework::Code::kUnschedulable).ok());

  pod.nominated_node_name = "n1";
  EXPECT_TRUE(PodEligibleToPreemptOthers(pod, &quiet, framework::Code::kUnschedulable).ok());
  framework::Status s = PodEligibleToPreemptOthers(pod, &draining, framework::Code::kUnschedulable);
  EXPECT_EQ(s.code(), framework::Code::kUnschedulable);
  EXPECT_EQ(s.Message(), "not eligible due to a terminating pod on the nominated node.");
  // The nominated node can no longer take the pod: preempt elsewhere.
  EXPECT_TRUE(PodEligibleToPreemptOthers(pod, &draining,
                                         framework::Code::kUnschedulableAndUnresolvable)
                  .ok());
  // A terminating pod the preemptor could not have preempted does not count.
  EXPECT_TRUE(
      PodEligibleToPreemptOthers(pod, &draining_high, framework::Code::kUnschedulable).ok());

  pod.preemption_policy = model::PreemptionPolicy::kNever;
  s = PodEligibleToPreemptOthers(pod, nullptr, framework::Code::kUnschedulable);
  EXPECT_EQ(s.code(), framework::Code::kUnschedulable);
  EXPECT_EQ(s.Message(), "not eligible due to preemptionPolicy=Never.");
}

}  // namespace
}  // namespace kestrel::preemption
