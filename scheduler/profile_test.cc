#include "scheduler/profile.h"

#include "gtest/gtest.h"
#include "model/interner.h"
#include "predicates/testing/builders.h"
#include "scheduler/plugins.h"

namespace kestrel::scheduler {
namespace {

std::vector<std::string> Names(const std::vector<framework::FilterPlugin*>& v) {
  std::vector<std::string> out;
  for (auto* p : v) out.emplace_back(p->Name());
  return out;
}

std::vector<std::pair<std::string, int64_t>> Scores(const framework::Framework& fw) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& s : fw.score_plugins()) out.emplace_back(s.plugin->Name(), s.weight);
  return out;
}

class ProfileTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::vector<std::unique_ptr<framework::Framework>>> Build(
      const std::string& yaml) {
    auto cfg = ParseConfig("sched.yaml", yaml);
    if (!cfg.ok()) return cfg.status();
    handle_.interner = &names_;
    return BuildProfiles(*cfg, registry_, handle_);
  }

  model::Interner names_;
  framework::Registry registry_ = InTreeRegistry();
  framework::Handle handle_;
};

constexpr char kHeader[] =
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

TEST_F(ProfileTest, DefaultProfileHasUpstreamOrderAndWeights) {
  auto profiles = Build(kHeader);
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  ASSERT_EQ(profiles->size(), 1u);
  const framework::Framework& fw = *(*profiles)[0];
  EXPECT_EQ(fw.scheduler_name(), "default-scheduler");
  EXPECT_EQ(Names(fw.filter_plugins()),
            (std::vector<std::string>{"NodeUnschedulable", "NodeName", "TaintToleration",
                                      "NodeAffinity", "NodePorts", "NodeResourcesFit",
                                      "PodTopologySpread", "InterPodAffinity"}));
  EXPECT_EQ(Scores(fw), (std::vector<std::pair<std::string, int64_t>>{
                            {"TaintToleration", 3},
                            {"NodeAffinity", 2},
                            {"NodeResourcesFit", 1},
                            {"PodTopologySpread", 2},
                            {"InterPodAffinity", 2},
                            {"NodeResourcesBalancedAllocation", 1},
                            {"ImageLocality", 1}}));
  EXPECT_EQ(fw.queue_sort()->Name(), "PrioritySort");
  ASSERT_EQ(fw.bind_plugins().size(), 1u);
}

TEST_F(ProfileTest, DisableAtOneExtensionPoint) {
  auto profiles = Build(std::string(kHeader) + R"(
profiles:
- schedulerName: a
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
    filter:
      disabled:
      - name: NodeName
)");
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  const framework::Framework& fw = *(*profiles)[0];
  EXPECT_EQ(Names(fw.filter_plugins()),
            (std::vector<std::string>{"NodeUnschedulable", "TaintToleration", "NodeAffinity",
                                      "NodePorts", "NodeResourcesFit", "PodTopologySpread",
                                      "InterPodAffinity"}));
  EXPECT_EQ(Scores(fw), (std::vector<std::pair<std::string, int64_t>>{{"TaintToleration", 3},
                                                                      {"NodeAffinity", 2},
                                                                      {"NodeResourcesFit", 1},
                                                                      {"PodTopologySpread", 2},
                                                                      {"InterPodAffinity", 2},
                                                                      {"ImageLocality", 1}}));
}

TEST_F(ProfileTest, StarDisablesAllDefaultsAtAPoint) {
  auto profiles = Build(std::string(kHeader) + R"(
profiles:
- plugins:
    score:
      disabled:
      - name: "*"
      enabled:
      - name: NodeResourcesBalancedAllocation
        weight: 7
)");
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  EXPECT_EQ(Scores(*(*profiles)[0]),
            (std::vector<std::pair<std::string, int64_t>>{{"NodeResourcesBalancedAllocation", 7}}));
}

TEST_F(ProfileTest, MultiPointOverrideKeepsPositionAndWeight) {
  auto profiles = Build(std::string(kHeader) + R"(
profiles:
- plugins:
    multiPoint:
      enabled:
      - name: NodeResourcesFit
        weight: 5
)");
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  EXPECT_EQ(Scores(*(*profiles)[0]), (std::vector<std::pair<std::string, int64_t>>{
                                          {"TaintToleration", 3},
                                          {"NodeAffinity", 2},
                                          {"NodeResourcesFit", 5},
                                          {"PodTopologySpread", 2},
                                          {"InterPodAffinity", 2},
                                          {"NodeResourcesBalancedAllocation", 1},
                                          {"ImageLocality", 1}}));
}

TEST_F(ProfileTest, ScorePointWeightWinsOverMultiPoint) {
  auto profiles = Build(std::string(kHeader) + R"(
profiles:
- plugins:
    score:
      enabled:
      - name: NodeResourcesBalancedAllocation
        weight: 9
)");
  ASSERT_TRUE(profiles.ok()) << profiles.status();
  // Explicitly enabled at the point: it comes first (upstream's override
  // order), with its own weight.
  EXPECT_EQ(Scores(*(*profiles)[0]), (std::vector<std::pair<std::string, int64_t>>{
                                          {"NodeResourcesBalancedAllocation", 9},
                                          {"TaintToleration", 3},
                                          {"NodeAffinity", 2},
                                          {"NodeResourcesFit", 1},
                                          {"PodTopologySpread", 2},
                                          {"InterPodAffinity", 2},
                                          {"ImageLocality", 1}}));
}

// The NodeResourcesFit score of `pod` on a node with 4 CPUs and 10 GiB whose
// existing pod requests half of each, under the first profile of `profiles`.
int64_t FitScore(const std::vector<std::unique_ptr<framework::Framework>>& profiles) {
  using testing::MakeNode;
  using testing::MakeNodeInfo;
  using testing::MakePod;
  using testing::Res;
  for (const auto& s : profiles[0]->score_plugins()) {
    if (s.plugin->Name() != "NodeResourcesFit") continue;
    const model::Node node = MakeNode("n", Res().Cpu(4000).Mem(10 * testing::kGi));
    const framework::NodeInfo info =
        MakeNodeInfo(node, {MakePod("existing", Res().Cpu(2000).Mem(5 * testing::kGi))});
    const model::Pod pod = MakePod("p", Res().Cpu(1000).Mem(testing::kGi));
    const framework::NodeInfo* nodes[] = {&info};
    framework::CycleState state;
    auto* pre = dynamic_cast<framework::PreScorePlugin*>(s.plugin);
    if (pre == nullptr || !pre->PreScore(state, pod, nodes).ok()) return -1;
    absl::StatusOr<int64_t> score = s.plugin->Score(state, pod, info);
    return score.ok() ? *score : -1;
  }
  return -1;
}

TEST_F(ProfileTest, PluginArgsAreTyped) {
  // The args reach the plugin: with 3000m of 4000m cpu and 6 of 10 GiB
  // requested after the pod, LeastAllocated scores (25 + 40) / 2 = 32 and
  // MostAllocated (75 + 60) / 2 = 67 (upstream's integer formulas).
  auto least = Build(kHeader);
  ASSERT_TRUE(least.ok()) << least.status();
  EXPECT_EQ(FitScore(*least), 32);
  auto most = Build(std::string(kHeader) + R"(
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 1
        - name: memory
          weight: 1
)");
  ASSERT_TRUE(most.ok()) << most.status();
  EXPECT_EQ(FitScore(*most), 67);
  // Unknown strategies are refused with upstream's validation message.
  auto bad = Build(std::string(kHeader) + R"(
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: Sideways
)");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "scoringStrategy.type: Unsupported value: \"Sideways\": supported values: "
                "\"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""),
            std::string::npos)
      << bad.status();
}

TEST_F(ProfileTest, Errors) {
  struct Case {
    const char* name;
    std::string yaml;
    const char* want_substring;
  };
  const Case cases[] = {
      {"wrong kind", "apiVersion: v1\nkind: Pod\n", "KubeSchedulerConfiguration"},
      {"unknown plugin", std::string(kHeader) +
                             "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: Nope\n",
       "\"Nope\" does not exist"},
      {"plugin at wrong point", std::string(kHeader) +
                                    "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: "
                                    "PrioritySort\n",
       "does not extend FilterPlugin"},
      {"duplicate scheduler name", std::string(kHeader) +
                                       "profiles:\n- schedulerName: x\n- schedulerName: x\n",
       "Duplicate value"},
      {"weight out of range", std::string(kHeader) +
                                  "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: "
                                  "NodeResourcesFit\n        weight: 101\n",
       "out of range"},
      {"no queue sort", std::string(kHeader) +
                            "profiles:\n- plugins:\n    multiPoint:\n      disabled:\n      - name: "
                            "PrioritySort\n",
       "only one queue sort plugin"},
      {"percentage", std::string(kHeader) + "percentageOfNodesToScore: 101\n",
       "percentageOfNodesToScore"},
      {"syntax", std::string(kHeader) + "profiles: [\n", "sched.yaml:"},
      {"negative burst", std::string(kHeader) + "clientConnection: {burst: -1}\n",
       "sched.yaml: clientConnection.burst: Invalid value: -1: must be non-negative"},
  };
  for (const Case& c : cases) {
    auto r = Build(c.yaml);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_NE(r.status().message().find(c.want_substring), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace kestrel::scheduler
