// The Framework's run loops, with small fake plugins: order, stopping at the
// first rejection, Skip at PreFilter/PreScore, errors wrapped with the plugin
// name, and Bind falling through Skip.

#include "scheduler/framework/framework.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kestrel::framework {
namespace {

// Records calls into a shared log and answers as told.
class FakePlugin final : public PreFilterPlugin,
                         public FilterPlugin,
                         public PreScorePlugin,
                         public ScorePlugin,
                         public BindPlugin,
                         public QueueSortPlugin {
 public:
  FakePlugin(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  absl::string_view Name() const override { return name_; }

  Status PreFilter(CycleState&, const model::Pod&, NodeInfoList) override {
    log_->push_back(name_ + ".PreFilter");
    return pre_filter;
  }
  Status Filter(const CycleState&, const model::Pod&, const NodeInfo&) const override {
    log_->push_back(name_ + ".Filter");
    return filter;
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

  Status pre_filter, filter, pre_score, bind;

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
    auto fw = Framework::Create(profile_, registry_, Handle{});
    EXPECT_TRUE(fw.ok()) << fw.status();
    return fw.ok() ? *std::move(fw) : nullptr;
  }

  std::vector<std::string> log_;
  std::map<std::string, FakePlugin*> fakes_;
  Registry registry_;
  config::KubeSchedulerProfile profile_;
  model::Pod pod_;
  NodeInfo node_;
};

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
