// The Framework's run loops, with small fake plugins: order, stopping at the
// first rejection, Skip at PreFilter/PreScore, errors wrapped with the plugin
// name, and Bind falling through Skip.

#include "scheduler/framework/framework.h"

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/framework/nominator.h"

namespace kestrel::framework {
namespace {

// Records calls into a shared log and answers as told.
class FakePlugin final : public PreFilterPlugin,
                         public FilterPlugin,
                         public PostFilterPlugin,
                         public PreScorePlugin,
                         public ScorePlugin,
                         public BindPlugin,
                         public QueueSortPlugin {
 public:
  FakePlugin(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  absl::string_view Name() const override { return name_; }

  Status PreFilter(CycleState& state, const model::Pod&, NodeInfoList) override {
    log_->push_back(name_ + ".PreFilter");
    if (pre_filter_nodes.has_value()) state.pre_filter_nodes = pre_filter_nodes;
    return pre_filter;
  }
  Status Filter(const CycleState&, const model::Pod&, const NodeInfo& node) const override {
    log_->push_back(name_ + ".Filter");
    if (node.pods().size() > max_pods) return Status::Unschedulable("crowded");
    return filter;
  }
  bool HasExtensions() const override { return true; }
  Status AddPod(CycleState&, const model::Pod&, const model::PodPtr& p,
                const NodeInfo&) const override {
    log_->push_back(name_ + ".AddPod(" + p->name + ")");
    return add_pod;
  }
  Status RemovePod(CycleState&, const model::Pod&, const model::Pod& p,
                   const NodeInfo&) const override {
    log_->push_back(name_ + ".RemovePod(" + p.name + ")");
    return Status();
  }
  Status PostFilter(CycleState&, const model::Pod&, const NodeToStatus&,
                    PostFilterResult* result) override {
    log_->push_back(name_ + ".PostFilter");
    *result = post_filter_result;
    return post_filter;
  }
  Status PreScore(CycleState&, const model::Pod&, NodeInfoList) override {
    log_->push_back(name_ + ".PreScore");
    return pre_score;
  }
  absl::StatusOr<int64_t> Score(const CycleState&, const model::Pod&,
                                const NodeInfo&) const override {
    return 1;
  }
  Status Bind(CycleState&, const model::Pod&, const std::string&) override {
    log_->push_back(name_ + ".Bind");
    return bind;
  }
  bool Less(const QueuedPodInfo&, const QueuedPodInfo&) const override { return false; }

  Status pre_filter, filter, pre_score, bind, add_pod;
  std::optional<std::vector<std::string>> pre_filter_nodes;  // a PreFilterResult
  Status post_filter = Status::Unschedulable("no room");
  PostFilterResult post_filter_result;
  size_t max_pods = SIZE_MAX;  // Filter rejects a node holding more pods

 private:
  std::string name_;
  std::vector<std::string>* log_;
};

class FrameworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"A", "B", "C"}) {
      registry_
          .Register<config::NoArgs>(name,
                                    [this, name](const config::NoArgs&, const Handle&)
                                        -> absl::StatusOr<std::unique_ptr<Plugin>> {
                                      auto p = std::make_unique<FakePlugin>(name, &log_);
                                      fakes_[name] = p.get();
                                      return std::unique_ptr<Plugin>(std::move(p));
                                    })
          .IgnoreError();
    }
    config::PluginSet* mp = profile_.mutable_plugins()->mutable_multipoint();
    for (const char* name : {"A", "B", "C"}) mp->add_enabled()->set_name(name);
    // One queue sort only: disable B and C there.
    auto* qs = profile_.mutable_plugins()->mutable_queuesort();
    qs->add_disabled()->set_name("B");
    qs->add_disabled()->set_name("C");
  }

  std::unique_ptr<Framework> Build() {
    Handle handle;
    handle.nominator = &nominator_;
    auto fw = Framework::Create(profile_, registry_, handle);
    EXPECT_TRUE(fw.ok()) << fw.status();
    return fw.ok() ? *std::move(fw) : nullptr;
  }

  std::vector<std::string> log_;
  std::map<std::string, FakePlugin*> fakes_;
  Registry registry_;
  config::KubeSchedulerProfile profile_;
  Nominator nominator_;
  model::Pod pod_;
  NodeInfo node_;
};

model::PodPtr NamedPod(const std::string& name, int32_t priority) {
  auto p = std::make_shared<model::Pod>();
  p->ns = "default";
  p->name = name;
  p->priority = priority;
  return p;
}

TEST(NominatorTest, AddReplacesDeleteForgets) {
  Nominator n;
  EXPECT_TRUE(n.empty());
  n.Add(NamedPod("a", 1), "n1");
  n.Add(NamedPod("b", 1), "n1");
  ASSERT_EQ(n.PodsOn("n1").size(), 2u);
  EXPECT_EQ(n.NodeOf("default/a"), "n1");
  // A new nomination of the same pod replaces the old one.
  n.Add(NamedPod("a", 1), "n2");
  EXPECT_EQ(n.NodeOf("default/a"), "n2");
  ASSERT_EQ(n.PodsOn("n1").size(), 1u);
  EXPECT_EQ(n.PodsOn("n1")[0]->name, "b");
  EXPECT_EQ(n.size(), 2u);
  EXPECT_EQ(n.Get("default/a")->name, "a");
  EXPECT_EQ(n.Get("default/zz"), nullptr);
  n.Delete(*NamedPod("b", 1));
  EXPECT_TRUE(n.PodsOn("n1").empty());
  EXPECT_EQ(n.by_node().count("n1"), 0u);
  // An empty node name only deletes.
  n.Add(NamedPod("a", 1), "");
  EXPECT_TRUE(n.empty());
  EXPECT_EQ(n.NodeOf("default/a"), "");
  n.Delete(*NamedPod("never-nominated", 1));  // no-op
}

TEST_F(FrameworkTest, HandleCarriesTheFramework) {
  auto fw = Build();
  EXPECT_EQ(fw->handle().framework, fw.get());
  EXPECT_EQ(fw->handle().nominator, &nominator_);
}

TEST_F(FrameworkTest, PreFilterExtensionsRunInOrderSkippingSkippedPlugins) {
  auto fw = Build();
  fakes_["B"]->pre_filter = Status::Skip();
  CycleState state;
  ASSERT_TRUE(fw->RunPreFilterPlugins(state, pod_, {}).ok());
  log_.clear();
  model::PodPtr other = NamedPod("x", 0);
  EXPECT_TRUE(fw->RunPreFilterExtensionAddPod(state, pod_, other, node_).ok());
  EXPECT_TRUE(fw->RunPreFilterExtensionRemovePod(state, pod_, *other, node_).ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"A.AddPod(x)", "C.AddPod(x)", "A.RemovePod(x)",
                                            "C.RemovePod(x)"}));
  fakes_["C"]->add_pod = Status::Unschedulable("boom");
  Status s = fw->RunPreFilterExtensionAddPod(state, pod_, other, node_);
  EXPECT_EQ(s.code(), Code::kError);
  EXPECT_EQ(s.Message(), "running AddPod on PreFilter plugin \"C\": boom");
}

PostFilterResult Nominating(const std::string& node) {
  PostFilterResult r;
  r.mode = NominatingMode::kOverride;
  r.nominated_node_name = node;
  return r;
}

// Upstream RunPostFilterPlugins: the first success ends the run with its
// result; after rejections the last result that is not a no-op stands (an
// override with an empty name clears a nomination); an error drops it.
TEST_F(FrameworkTest, PostFilterResultIsTheSuccessOrTheLastOverride) {
  auto fw = Build();
  CycleState state;
  PostFilterResult out;

  fakes_["A"]->post_filter_result = Nominating("");
  fakes_["B"]->post_filter = Status();
  fakes_["B"]->post_filter_result = Nominating("n2");
  EXPECT_TRUE(fw->RunPostFilterPlugins(state, pod_, {}, &out).ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"A.PostFilter", "B.PostFilter"}));
  EXPECT_EQ(out.mode, NominatingMode::kOverride);
  EXPECT_EQ(out.nominated_node_name, "n2");

  // All reject: A's override survives C's no-op.
  fakes_["A"]->post_filter_result = Nominating("");
  fakes_["B"]->post_filter = Status::Unschedulable("no room");
  fakes_["B"]->post_filter_result = PostFilterResult();
  out = Nominating("stale");
  Status s = fw->RunPostFilterPlugins(state, pod_, {}, &out);
  EXPECT_EQ(s.code(), Code::kUnschedulable);
  EXPECT_EQ(out.mode, NominatingMode::kOverride);
  EXPECT_EQ(out.nominated_node_name, "");

  // Unresolvable ends the run with its own result.
  fakes_["B"]->post_filter = Status::Unresolvable("never");
  log_.clear();
  s = fw->RunPostFilterPlugins(state, pod_, {}, &out);
  EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(log_, (std::vector<std::string>{"A.PostFilter", "B.PostFilter"}));
  EXPECT_EQ(out.mode, NominatingMode::kNoop);

  // An error keeps the nomination as it was.
  fakes_["B"]->post_filter = Status::Error("boom");
  out = Nominating("x");
  s = fw->RunPostFilterPlugins(state, pod_, {}, &out);
  EXPECT_EQ(s.code(), Code::kError);
  EXPECT_EQ(out.mode, NominatingMode::kNoop);
}

// Upstream RunFilterPluginsWithNominatedPods: pods of priority >= the
// incoming pod's, nominated to the node, count in a first pass on a copy;
// the node as it is must pass too.
TEST_F(FrameworkTest, NominatedPodsOfEqualOrHigherPriorityCount) {
  auto node = std::make_shared<model::Node>();
  node->name = "n1";
  node_.SetNode(node);
  pod_.ns = "default";
  pod_.name = "incoming";
  pod_.priority = 10;
  struct Case {
    const char* name;
    int32_t nominated_priority;
    const char* nominated_name;
    std::vector<std::string> log;
    Code code;
  };
  const std::vector<Case> cases = {
      {"higher priority: two passes, the first with it", 20, "other",
       {"A.AddPod(other)", "B.AddPod(other)", "C.AddPod(other)", "A.Filter", "A.Filter",
        "B.Filter", "C.Filter"},
       Code::kUnschedulable},
      {"equal priority counts too", 10, "other",
       {"A.AddPod(other)", "B.AddPod(other)", "C.AddPod(other)", "A.Filter", "A.Filter",
        "B.Filter", "C.Filter"},
       Code::kUnschedulable},
      {"lower priority is ignored", 9, "other", {"A.Filter", "B.Filter", "C.Filter"},
       Code::kSuccess},
      {"the pod itself is ignored", 20, "incoming", {"A.Filter", "B.Filter", "C.Filter"},
       Code::kSuccess},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    nominator_ = Nominator();
    auto fw = Build();
    // A rejects a node holding any pod: the nominated one makes it crowded.
    fakes_["A"]->max_pods = 0;
    nominator_.Add(NamedPod(c.nominated_name, c.nominated_priority), "n1");
    log_.clear();
    CycleState state;
    Status s = fw->RunFilterPluginsWithNominatedPods(state, pod_, node_);
    EXPECT_EQ(s.code(), c.code);
    if (c.code == Code::kUnschedulable) {
      EXPECT_EQ(s.Message(), "crowded");
      EXPECT_EQ(s.plugin(), "A");
      // Stopped in the first pass.
      EXPECT_EQ(log_, std::vector<std::string>(c.log.begin(), c.log.begin() + 4));
    } else {
      EXPECT_EQ(log_, c.log);
    }
    // Passing both ways: both passes run.
    fakes_["A"]->max_pods = SIZE_MAX;
    log_.clear();
    EXPECT_TRUE(fw->RunFilterPluginsWithNominatedPods(state, pod_, node_).ok());
    EXPECT_EQ(log_.size(), c.log.size() == 3 ? 3u : 9u);
  }
}

TEST_F(FrameworkTest, DuplicateRegistrationIsRejected) {
  EXPECT_FALSE(registry_
                   .Register<config::NoArgs>("A",
                                             [](const config::NoArgs&, const Handle&)
                                                 -> absl::StatusOr<std::unique_ptr<Plugin>> {
                                               return nullptr;
                                             })
                   .ok());
}

TEST_F(FrameworkTest, FilterStopsAtFirstRejectionInOrder) {
  auto fw = Build();
  fakes_["B"]->filter = Status::Unschedulable("no");
  CycleState state;
  Status s = fw->RunFilterPlugins(state, pod_, node_);
  EXPECT_EQ(s.code(), Code::kUnschedulable);
  EXPECT_EQ(s.plugin(), "B");
  EXPECT_EQ(log_, (std::vector<std::string>{"A.Filter", "B.Filter"}));
}

TEST_F(FrameworkTest, FilterErrorIsWrapped) {
  auto fw = Build();
  fakes_["A"]->filter = Status::Error("boom");
  CycleState state;
  Status s = fw->RunFilterPlugins(state, pod_, node_);
  EXPECT_EQ(s.code(), Code::kError);
  EXPECT_EQ(s.Message(), "running \"A\" filter plugin: boom");
}

TEST_F(FrameworkTest, PreFilterSkipSkipsThatFilter) {
  auto fw = Build();
  fakes_["A"]->pre_filter = Status::Skip();
  CycleState state;
  ASSERT_TRUE(fw->RunPreFilterPlugins(state, pod_, {}).ok());
  log_.clear();
  EXPECT_TRUE(fw->RunFilterPlugins(state, pod_, node_).ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"B.Filter", "C.Filter"}));
  EXPECT_TRUE(fw->ShouldSkipFilter(state, "A"));
  EXPECT_FALSE(fw->ShouldSkipFilter(state, "B"));
  // The exclude mask skips by position as well.
  log_.clear();
  EXPECT_TRUE(fw->RunFilterPlugins(state, pod_, node_, /*exclude=*/0b100).ok());
  EXPECT_EQ(log_, (std::vector<std::string>{"B.Filter"}));
}

TEST_F(FrameworkTest, PreFilterRejectionStopsAndNamesPlugin) {
  auto fw = Build();
  fakes_["B"]->pre_filter = Status::Unresolvable("nope");
  CycleState state;
  Status s = fw->RunPreFilterPlugins(state, pod_, {});
  EXPECT_EQ(s.code(), Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(s.plugin(), "B");
  EXPECT_EQ(log_, (std::vector<std::string>{"A.PreFilter", "B.PreFilter"}));
}

TEST_F(FrameworkTest, PreFilterUnschedulableStillRunsTheRest) {
  // Upstream issue 119770: preemption needs every PreFilter's state.
  auto fw = Build();
  fakes_["A"]->pre_filter = Status::Unschedulable("first");
  fakes_["B"]->pre_filter = Status::Unschedulable("second");
  CycleState state;
  Status s = fw->RunPreFilterPlugins(state, pod_, {});
  EXPECT_EQ(s.code(), Code::kUnschedulable);
  EXPECT_EQ(s.Message(), "second");
  EXPECT_EQ(s.plugin(), "B");
  EXPECT_EQ(log_, (std::vector<std::string>{"A.PreFilter", "B.PreFilter", "C.PreFilter"}));
}

TEST_F(FrameworkTest, PreFilterResultsIntersect) {
  struct Case {
    std::string name;
    std::optional<std::vector<std::string>> a, b, c;
    bool skip_b = false;
    Code code = Code::kSuccess;
    std::string message;
    std::optional<std::vector<std::string>> nodes;
    std::vector<absl::string_view> plugins;
  };
  using Names = std::vector<std::string>;
  const std::vector<Case> cases = {
      {"none narrows", {}, {}, {}, false, Code::kSuccess, "", std::nullopt, {}},
      {"one narrows, sorted and unique", Names{"n2", "n1", "n2"}, {}, {}, false, Code::kSuccess,
       "", Names{"n1", "n2"}, {"A"}},
      {"two intersect", Names{"n1", "n2"}, Names{"n2", "n3"}, {}, false, Code::kSuccess, "",
       Names{"n2"}, {"A", "B"}},
      {"a skipped plugin's result is ignored", Names{"n1"}, Names{"n2"}, {}, true,
       Code::kSuccess, "", Names{"n1"}, {"A"}},
      {"one plugin, no node", {}, Names{}, {}, false, Code::kUnschedulableAndUnresolvable,
       "node(s) didn't satisfy plugin B", Names{}, {"B"}},
      {"several, no node in common", Names{"n1"}, {}, Names{"n2"}, false,
       Code::kUnschedulableAndUnresolvable,
       "node(s) didn't satisfy plugin(s) [A C] simultaneously", Names{}, {"A", "C"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto fw = Build();
    fakes_["A"]->pre_filter_nodes = c.a;
    fakes_["B"]->pre_filter_nodes = c.b;
    fakes_["C"]->pre_filter_nodes = c.c;
    if (c.skip_b) fakes_["B"]->pre_filter = Status::Skip();
    CycleState state;
    Status s = fw->RunPreFilterPlugins(state, pod_, {});
    EXPECT_EQ(s.code(), c.code);
    EXPECT_EQ(s.Message(), c.message);
    // The framework's own rejection names no plugin, as upstream's.
    EXPECT_EQ(s.plugin(), "");
    EXPECT_EQ(state.pre_filter_nodes, c.nodes);
    EXPECT_EQ(state.pre_filter_plugins, c.plugins);
  }
}

TEST_F(FrameworkTest, PreScoreSkipMarksScore) {
  auto fw = Build();
  fakes_["C"]->pre_score = Status::Skip();
  CycleState state;
  ASSERT_TRUE(fw->RunPreScorePlugins(state, pod_, {}).ok());
  EXPECT_TRUE(fw->ShouldSkipScore(state, "C"));
  EXPECT_EQ(state.skip_score_mask, 0b100u);
}

TEST_F(FrameworkTest, BindFallsThroughSkip) {
  auto fw = Build();
  fakes_["A"]->bind = Status::Skip();
  CycleState state;
  Status s = fw->RunBindPlugins(state, pod_, "n1");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.plugin(), "B");
  EXPECT_EQ(log_, (std::vector<std::string>{"A.Bind", "B.Bind"}));
}

TEST_F(FrameworkTest, WeightsDefaultToOne) {
  auto fw = Build();
  ASSERT_EQ(fw->score_plugins().size(), 3u);
  for (const auto& w : fw->score_plugins()) EXPECT_EQ(w.weight, 1);
}

TEST_F(FrameworkTest, DisabledAtOnePointOnly) {
  profile_.mutable_plugins()->mutable_filter()->add_disabled()->set_name("A");
  auto fw = Build();
  ASSERT_EQ(fw->filter_plugins().size(), 2u);
  EXPECT_EQ(fw->filter_plugins()[0]->Name(), "B");
  EXPECT_EQ(fw->pre_filter_plugins().size(), 3u);
}

TEST_F(FrameworkTest, DoubleMultiPointRegistrationIsAnError) {
  profile_.mutable_plugins()->mutable_multipoint()->add_enabled()->set_name("A");
  auto fw = Framework::Create(profile_, registry_, Handle{});
  ASSERT_FALSE(fw.ok());
  EXPECT_NE(fw.status().message().find("already registered"), std::string::npos)
      << fw.status();
}

}  // namespace
}  // namespace kestrel::framework
