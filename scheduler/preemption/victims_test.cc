// SelectVictimsOnNode and FilterPodsWithPdbViolation, from the ideas of
// upstream's default_preemption_test.go (TestSelectNodesForPreemption,
// TestPickOneNodeForPreemption's victim sets, filterPodsWithPDBViolation).
// The filter is a cpu fit: the preemptor fits when its request plus the
// node's requested cpu stays within allocatable.

#include "scheduler/preemption/victims.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/pdb.h"
#include "scheduler/preemption/test_pods.h"

namespace kestrel::preemption {
namespace {

using ::kestrel::preemption::testing::At;
using ::kestrel::preemption::testing::MakeNodeInfo;
using ::kestrel::preemption::testing::MakePod;
using ::kestrel::preemption::testing::Names;
using ::kestrel::preemption::testing::PodSpec;
using ::testing::ElementsAreArray;

const absl::Time kNow = At(1000);

struct PdbSpec {
  std::string app;  // selector: app=<app>; empty: the empty selector
  int32_t allowed = 0;
  std::vector<std::string> disrupted;
  std::string ns = "default";
};

model::PdbPtr MakePdb(model::Interner& names, const PdbSpec& s) {
  auto pdb = std::make_shared<model::PodDisruptionBudget>();
  pdb->ns = s.ns;
  pdb->name = "pdb-" + s.app;
  pdb->ns_id = names.Intern(s.ns);
  pdb->selector = model::LabelSelector::Everything();
  if (!s.app.empty()) {
    model::Requirement r;
    r.key = names.Intern("app");
    r.op = model::SelectorOp::kIn;
    r.values = {names.Intern(s.app)};
    pdb->selector.requirements.push_back(r);
  }
  pdb->disruptions_allowed = s.allowed;
  pdb->disrupted_pods = s.disrupted;
  return pdb;
}

framework::Status CpuFit(const model::Pod& preemptor, const framework::NodeInfo& node) {
  if (node.requested().milli_cpu + preemptor.requests.milli_cpu > node.allocatable().milli_cpu) {
    return framework::Status::Unschedulable("Insufficient cpu");
  }
  return framework::Status();
}

struct VictimsCase {
  std::string name;
  int64_t node_cpu;
  PodSpec preemptor;
  std::vector<PodSpec> pods;
  std::vector<PdbSpec> pdbs;
  framework::Code want_code;
  std::string want_message;  // for a failure
  std::vector<std::string> want_victims;
  int64_t want_violations = 0;
};

class SelectVictimsTest : public ::testing::TestWithParam<VictimsCase> {};

TEST_P(SelectVictimsTest, Selects) {
  const VictimsCase& c = GetParam();
  model::Interner names;
  std::vector<model::PodPtr> pods;
  for (const PodSpec& s : c.pods) pods.push_back(MakePod(names, s));
  std::vector<model::PdbPtr> pdbs;
  for (const PdbSpec& s : c.pdbs) pdbs.push_back(MakePdb(names, s));
  const model::PodPtr preemptor = MakePod(names, c.preemptor);
  const framework::NodeInfo node = MakeNodeInfo(c.node_cpu, pods);

  VictimHooks hooks;
  hooks.filter = [&](const framework::NodeInfo& n) { return CpuFit(*preemptor, n); };
  VictimSelection got = SelectVictimsOnNode(*preemptor, node, pdbs, hooks, kNow);

  EXPECT_EQ(got.status.code(), c.want_code) << got.status.Message();
  if (c.want_code != framework::Code::kSuccess) {
    EXPECT_EQ(got.status.Message(), c.want_message);
  }
  EXPECT_THAT(Names(got.victims.pods), ElementsAreArray(c.want_victims));
  EXPECT_EQ(got.victims.num_pdb_violations, c.want_violations);
  // The node handed in is left as it was.
  EXPECT_EQ(Names(node.pods()), Names(pods));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SelectVictimsTest,
    ::testing::Values(
        VictimsCase{"NoLowerPriorityPods",
                    4000,
                    {"p", 10, 2000},
                    {{"a", 10, 3000}, {"b", 20, 1000}},
                    {},
                    framework::Code::kUnschedulableAndUnresolvable,
                    "No preemption victims found for incoming pod",
                    {}},
        VictimsCase{"DoesNotFitWithAllGone",
                    4000,
                    {"p", 10, 2000},
                    {{"a", 1, 1000}, {"b", 20, 3000}},
                    {},
                    framework::Code::kUnschedulable,
                    "Insufficient cpu",
                    {}},
        VictimsCase{"ReprievesMostImportantFirst",
                    4000,
                    {"p", 10, 2000},
                    {{"a", 1, 1000}, {"b", 2, 1000}, {"c", 3, 2000}},
                    {},
                    framework::Code::kSuccess,
                    "",
                    {"b", "a"}},
        VictimsCase{"HigherAndEqualPriorityStay",
                    5000,
                    {"p", 10, 2000},
                    {{"a", 10, 1000},
                     {"b", 11, 1000},
                     {"c", 9, 1000, At(100)},
                     {"d", 9, 1000, At(200)}},
                    {},
                    framework::Code::kSuccess,
                    "",
                    {"d"}},
        VictimsCase{"EarlierStartReprievedFirst",
                    4000,
                    {"p", 10, 2000},
                    {{"new", 5, 2000, At(200)}, {"old", 5, 2000, At(100)}},
                    {},
                    framework::Code::kSuccess,
                    "",
                    {"new"}},
        VictimsCase{"NotStartedCountsAsNow",
                    4000,
                    {"p", 10, 2000},
                    {{"pending", 5, 2000}, {"running", 5, 2000, At(100)}},
                    {},
                    framework::Code::kSuccess,
                    "",
                    {"pending"}},
        VictimsCase{"PdbViolatingReprievedBeforeHigherPriority",
                    4000,
                    {"p", 10, 2000},
                    {{"guarded", 1, 2000, At(0), {{"app", "db"}}}, {"free", 5, 2000}},
                    {{"db", 0}},
                    framework::Code::kSuccess,
                    "",
                    {"free"}},
        VictimsCase{"PdbWithBudgetLeftIsNotViolated",
                    4000,
                    {"p", 10, 2000},
                    {{"guarded", 1, 2000, At(0), {{"app", "db"}}}, {"free", 5, 2000}},
                    {{"db", 1}},
                    framework::Code::kSuccess,
                    "",
                    {"guarded"}},
        VictimsCase{"ViolationsCounted",
                    4000,
                    {"p", 10, 4000},
                    {{"a", 1, 2000, At(0), {{"app", "db"}}}, {"b", 2, 2000, At(0), {{"app", "db"}}}},
                    {{"db", 1}},
                    framework::Code::kSuccess,
                    "",
                    {"b", "a"},
                    1},
        VictimsCase{"DisruptedPodsNotCounted",
                    4000,
                    {"p", 10, 4000},
                    {{"a", 1, 2000, At(0), {{"app", "db"}}}, {"b", 2, 2000, At(0), {{"app", "db"}}}},
                    {{"db", 0, {"a", "b"}}},
                    framework::Code::kSuccess,
                    "",
                    {"b", "a"},
                    0},
        VictimsCase{"PdbInOtherNamespaceIgnored",
                    4000,
                    {"p", 10, 2000},
                    {{"guarded", 1, 2000, At(0), {{"app", "db"}}}, {"free", 5, 2000}},
                    {{"db", 0, {}, "other"}},
                    framework::Code::kSuccess,
                    "",
                    {"guarded"}},
        VictimsCase{"VictimsMergedByImportance",
                    6000,
                    {"p", 10, 6000},
                    {{"low", 1, 2000, At(0), {{"app", "db"}}}, {"mid", 3, 2000}, {"high", 5, 2000}},
                    {{"db", 0}},
                    framework::Code::kSuccess,
                    "",
                    {"high", "mid", "low"},
                    1}),
    [](const ::testing::TestParamInfo<VictimsCase>& info) { return info.param.name; });

TEST(SelectVictimsOnNodeTest, CallsExtensionsOnTheCopy) {
  model::Interner names;
  const model::PodPtr preemptor = MakePod(names, {"p", 10, 2000});
  const framework::NodeInfo node =
      MakeNodeInfo(4000, {MakePod(names, {"a", 1, 2000}), MakePod(names, {"b", 2, 2000})});
  std::vector<std::string> calls;
  VictimHooks hooks;
  hooks.remove_pod = [&](const model::PodPtr& p, const framework::NodeInfo& n) {
    calls.push_back("remove " + p->name + " " + std::to_string(n.pods().size()));
    return framework::Status();
  };
  hooks.add_pod = [&](const model::PodPtr& p, const framework::NodeInfo& n) {
    calls.push_back("add " + p->name + " " + std::to_string(n.pods().size()));
    return framework::Status();
  };
  hooks.filter = [&](const framework::NodeInfo& n) { return CpuFit(*preemptor, n); };
  VictimSelection got = SelectVictimsOnNode(*preemptor, node, {}, hooks, kNow);
  ASSERT_TRUE(got.status.ok()) << got.status.Message();
  EXPECT_THAT(Names(got.victims.pods), ElementsAreArray({"a"}));
  // Removed in node order, "b" reprieved (fits), "a" put back and taken out.
  EXPECT_THAT(calls, ElementsAreArray({"remove a 1", "remove b 0", "add b 1", "add a 2",
                                       "remove a 1"}));
}

TEST(SelectVictimsOnNodeTest, ExtensionFailureIsAnError) {
  model::Interner names;
  const model::PodPtr preemptor = MakePod(names, {"p", 10, 2000});
  const framework::NodeInfo node = MakeNodeInfo(4000, {MakePod(names, {"a", 1, 2000})});
  VictimHooks hooks;
  hooks.remove_pod = [](const model::PodPtr&, const framework::NodeInfo&) {
    return framework::Status::Unschedulable("state lost");
  };
  hooks.filter = [](const framework::NodeInfo&) { return framework::Status(); };
  VictimSelection got = SelectVictimsOnNode(*preemptor, node, {}, hooks, kNow);
  EXPECT_EQ(got.status.code(), framework::Code::kError);
  EXPECT_EQ(got.status.Message(), "state lost");
  EXPECT_TRUE(got.victims.pods.empty());
}

TEST(SelectVictimsOnNodeTest, EligibleNarrowsVictims) {
  model::Interner names;
  const model::PodPtr preemptor = MakePod(names, {"p", 10, 2000});
  const framework::NodeInfo node =
      MakeNodeInfo(4000, {MakePod(names, {"daemon", 1, 2000}), MakePod(names, {"b", 2, 2000})});
  VictimHooks hooks;
  hooks.eligible = [](const model::Pod& p) { return p.name != "daemon"; };
  hooks.filter = [&](const framework::NodeInfo& n) { return CpuFit(*preemptor, n); };
  VictimSelection got = SelectVictimsOnNode(*preemptor, node, {}, hooks, kNow);
  ASSERT_TRUE(got.status.ok()) << got.status.Message();
  EXPECT_THAT(Names(got.victims.pods), ElementsAreArray({"b"}));
}

struct SplitCase {
  std::string name;
  std::vector<PodSpec> pods;
  std::vector<PdbSpec> pdbs;
  std::vector<std::string> want_violating;
  std::vector<std::string> want_non_violating;
};

class FilterPodsWithPdbViolationTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(FilterPodsWithPdbViolationTest, Splits) {
  const SplitCase& c = GetParam();
  model::Interner names;
  std::vector<model::PodPtr> pods;
  for (const PodSpec& s : c.pods) pods.push_back(MakePod(names, s));
  std::vector<model::PdbPtr> pdbs;
  for (const PdbSpec& s : c.pdbs) pdbs.push_back(MakePdb(names, s));
  PdbSplit got = FilterPodsWithPdbViolation(pods, pdbs);
  EXPECT_THAT(Names(got.violating), ElementsAreArray(c.want_violating));
  EXPECT_THAT(Names(got.non_violating), ElementsAreArray(c.want_non_violating));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FilterPodsWithPdbViolationTest,
    ::testing::Values(
        SplitCase{"NoPdbs", {{"a"}, {"b"}}, {}, {}, {"a", "b"}},
        SplitCase{"BudgetSpentInOrder",
                  {{"a", 0, 0, At(0), {{"app", "db"}}},
                   {"b", 0, 0, At(0), {{"app", "db"}}},
                   {"c", 0, 0, At(0), {{"app", "db"}}}},
                  {{"db", 1}},
                  {"b", "c"},
                  {"a"}},
        SplitCase{"EmptySelectorMatchesNothing",
                  {{"a", 0, 0, At(0), {{"app", "db"}}}},
                  {{"", 0}},
                  {},
                  {"a"}},
        SplitCase{"PodWithoutLabelsMatchesNothing", {{"a"}}, {{"db", 0}}, {}, {"a"}},
        SplitCase{"AnyViolatedBudgetViolates",
                  {{"a", 0, 0, At(0), {{"app", "db"}}}},
                  {{"db", 5}, {"db", 0}},
                  {"a"},
                  {}}),
    [](const ::testing::TestParamInfo<SplitCase>& info) { return info.param.name; });

TEST(MoreImportantPodTest, PriorityThenStartTime) {
  model::Interner names;
  const model::PodPtr high = MakePod(names, {"high", 5, 0, At(500)});
  const model::PodPtr low_old = MakePod(names, {"low-old", 1, 0, At(100)});
  const model::PodPtr low_new = MakePod(names, {"low-new", 1, 0, At(200)});
  const model::PodPtr low_pending = MakePod(names, {"low-pending", 1, 0});
  EXPECT_TRUE(MoreImportantPod(*high, *low_old, kNow));
  EXPECT_FALSE(MoreImportantPod(*low_old, *high, kNow));
  EXPECT_TRUE(MoreImportantPod(*low_old, *low_new, kNow));
  EXPECT_FALSE(MoreImportantPod(*low_new, *low_old, kNow));
  EXPECT_TRUE(MoreImportantPod(*low_new, *low_pending, kNow));
  EXPECT_FALSE(MoreImportantPod(*low_old, *low_old, kNow));
}

}  // namespace
}  // namespace kestrel::preemption
