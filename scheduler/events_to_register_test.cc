// Each in-tree plugin's EventsToRegister against upstream's (release 1.31,
// SchedulerQueueingHints off), and the default profile's cluster event map.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/interner.h"
#include "scheduler/framework/events.h"
#include "scheduler/framework/framework.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

namespace kestrel::scheduler {
namespace {

using framework::ClusterEvent;
using framework::EventResource;
using namespace framework;  // NOLINT: the ActionType constants

constexpr EventResource kPod = EventResource::kPod;
constexpr EventResource kNode = EventResource::kNode;

std::string Describe(const std::vector<ClusterEvent>& events) {
  std::string out;
  for (const ClusterEvent& e : events) {
    out += std::string(EventResourceName(e.resource)) + "/" + std::to_string(e.action_type) + " ";
  }
  return out;
}

class EventsToRegisterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_.interner = &names_;
    auto profiles = BuildProfiles(DefaultConfig(), registry_, handle_);
    ASSERT_TRUE(profiles.ok()) << profiles.status();
    profiles_ = *std::move(profiles);
  }

  const framework::Framework& fw() const { return *profiles_[0]; }

  model::Interner names_;
  framework::Registry registry_ = InTreeRegistry();
  framework::Handle handle_;
  std::vector<std::unique_ptr<framework::Framework>> profiles_;
};

TEST_F(EventsToRegisterTest, EachPluginRegistersUpstreamsEvents) {
  const ActionType node_default = kAdd | kUpdateNodeTaint | kUpdateNodeLabel;
  struct Case {
    const char* plugin;
    std::vector<ClusterEvent> want;
  };
  const Case cases[] = {
      // nodeunschedulable, nodename, tainttoleration, nodeaffinity: Node only.
      {"NodeUnschedulable", {{kNode, node_default, {}}}},
      {"NodeName", {{kNode, node_default, {}}}},
      {"TaintToleration", {{kNode, node_default, {}}}},
      {"NodeAffinity", {{kNode, node_default, {}}}},
      // nodeports: a deleted pod frees its ports.
      {"NodePorts", {{kPod, kDelete, {}}, {kNode, node_default, {}}}},
      // noderesources.Fit: a deleted pod frees resources; allocatable changes.
      {"NodeResourcesFit",
       {{kPod, kDelete, {}}, {kNode, node_default | kUpdateNodeAllocatable, {}}}},
      {"InterPodAffinity",
       {{kPod, kAdd | kUpdatePodLabel | kDelete, {}}, {kNode, node_default, {}}}},
      {"PodTopologySpread",
       {{kPod, kAdd | kUpdatePodLabel | kDelete, {}}, {kNode, node_default | kDelete, {}}}},
      // A PostFilter rejects no pod.
      {"DefaultPreemption", {}},
  };
  for (const Case& c : cases) {
    auto* ext = dynamic_cast<EnqueueExtensions*>(fw().plugin(c.plugin));
    ASSERT_NE(ext, nullptr) << c.plugin << " has no EnqueueExtensions";
    const std::vector<ClusterEvent> got = ext->EventsToRegister();
    EXPECT_EQ(got, c.want) << c.plugin << ": got " << Describe(got) << ", want "
                           << Describe(c.want);
  }
}

TEST_F(EventsToRegisterTest, PluginsWithoutExtensionsRegisterTheWildcard) {
  // Score-only plugins, the queue sort and the binder have no
  // EventsToRegister upstream either: they get the wildcard.
  for (const char* plugin : {"PrioritySort", "NodeResourcesBalancedAllocation", "ImageLocality",
                             "DefaultBinder"}) {
    EXPECT_EQ(dynamic_cast<EnqueueExtensions*>(fw().plugin(plugin)), nullptr) << plugin;
  }
  const ClusterEventMap& map = fw().cluster_event_map();
  auto wildcard = map.find(ClusterEvent{EventResource::kWildCard, kAll, {}});
  ASSERT_NE(wildcard, map.end());
  EXPECT_EQ(wildcard->second,
            (std::set<std::string>{"DefaultBinder", "ImageLocality",
                                   "NodeResourcesBalancedAllocation", "PrioritySort"}));
}

TEST_F(EventsToRegisterTest, DefaultProfileEventMap) {
  const ActionType node_default = kAdd | kUpdateNodeTaint | kUpdateNodeLabel;
  const ClusterEventMap want = {
      {{kPod, kDelete, {}}, {"NodePorts", "NodeResourcesFit"}},
      {{kPod, kAdd | kUpdatePodLabel | kDelete, {}}, {"InterPodAffinity", "PodTopologySpread"}},
      {{kNode, node_default, {}},
       {"InterPodAffinity", "NodeAffinity", "NodeName", "NodePorts", "NodeUnschedulable",
        "TaintToleration"}},
      {{kNode, node_default | kUpdateNodeAllocatable, {}}, {"NodeResourcesFit"}},
      {{kNode, node_default | kDelete, {}}, {"PodTopologySpread"}},
      {{EventResource::kWildCard, kAll, {}},
       {"DefaultBinder", "ImageLocality", "NodeResourcesBalancedAllocation", "PrioritySort"}},
  };
  EXPECT_EQ(fw().cluster_event_map(), want);
}

}  // namespace
}  // namespace kestrel::scheduler
