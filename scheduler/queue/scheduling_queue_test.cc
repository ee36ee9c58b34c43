// The scheduling queue against upstream's PriorityQueue behaviour (1.31,
// SchedulerQueueingHints off), on a fake clock: pop order, backoff per
// attempt, which events move an unschedulable pod, the move-request race,
// the unschedulable timeout, updates and deletes in each part, one entry per
// pod, Close, the counters, and concurrent use.

#include "scheduler/queue/scheduling_queue.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "scheduler/queue/fake_clock.h"
#include "scheduler/queue/priority_sort.h"
#include "scheduler/queue/scheduling_gates.h"

namespace kestrel::queue {
namespace {

using framework::ClusterEvent;
using framework::EventResource;

constexpr char kProfile[] = "default-scheduler";

model::PodPtr MakePod(const std::string& name, int32_t priority = 0,
                      const std::string& ns = "default") {
  auto pod = std::make_shared<model::Pod>();
  pod->ns = ns;
  pod->name = name;
  pod->uid = ns + "-" + name + "-uid";
  pod->priority = priority;
  pod->scheduler_name = kProfile;
  return pod;
}

// A copy of `pod` changed by `change`.
template <typename F>
model::PodPtr Changed(const model::PodPtr& pod, F change) {
  auto copy = std::make_shared<model::Pod>(*pod);
  change(*copy);
  return copy;
}

// The registrations of a few plugins, as their EventsToRegister give them
// (the plugins' own lists are checked in //scheduler:events_to_register_test).
framework::ClusterEventMap TestEventMap() {
  using namespace framework;  // NOLINT: the event constants
  return {
      {{EventResource::kPod, kDelete, {}}, {"NodeResourcesFit"}},
      {{EventResource::kNode, kAdd | kUpdateNodeAllocatable | kUpdateNodeTaint | kUpdateNodeLabel,
        {}},
       {"NodeResourcesFit"}},
      {{EventResource::kNode, kAdd | kUpdateNodeTaint | kUpdateNodeLabel, {}},
       {"TaintToleration"}},
      {{EventResource::kPod, kAdd | kUpdatePodLabel | kDelete, {}},
       {"InterPodAffinity", "PodTopologySpread"}},
      {{EventResource::kNode, kAdd | kUpdateNodeLabel | kUpdateNodeTaint, {}},
       {"InterPodAffinity"}},
  };
}

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() { Reset(); }

  void Reset(framework::ClusterEventMap map = TestEventMap()) {
    SchedulingQueue::Options options;
    options.clock = &clock_;
    options.cluster_event_maps[kProfile] = std::move(map);
    queue_ = std::make_unique<SchedulingQueue>(&sort_, std::move(options));
  }

  // Adds `pod`, pops it (attempt 1) and hands it back as rejected by
  // `plugins` in the cycle it was popped in.
  absl::Status FailOnce(const model::PodPtr& pod, absl::flat_hash_set<std::string> plugins) {
    queue_->Add(pod);
    std::optional<framework::QueuedPodInfo> info = queue_->TryPop();
    if (!info.has_value()) return absl::InternalError("nothing to pop");
    info->unschedulable_plugins = std::move(plugins);
    return queue_->AddUnschedulableIfNotPresent(*std::move(info), queue_->SchedulingCycle());
  }

  std::vector<std::string> PopAll() {
    std::vector<std::string> names;
    while (std::optional<framework::QueuedPodInfo> info = queue_->TryPop()) {
      names.push_back(info->pod->name);
    }
    return names;
  }

  int64_t Incoming(const std::string& queue, const std::string& event) {
    QueueStats stats = queue_->Stats();
    auto it = stats.incoming.find({queue, event});
    return it == stats.incoming.end() ? 0 : it->second;
  }

  FakeClock clock_;
  PrioritySort sort_;
  std::unique_ptr<SchedulingQueue> queue_;
};

TEST_F(QueueTest, PopsByPriorityThenArrival) {
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, int32_t>> added;  // in arrival order
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"higher priority first", {{"low", 1}, {"high", 100}, {"mid", 50}}, {"high", "mid", "low"}},
      {"equal priority: arrival order", {{"a", 5}, {"b", 5}, {"c", 5}}, {"a", "b", "c"}},
      {"negative priority last", {{"neg", -10}, {"zero", 0}}, {"zero", "neg"}},
      {"mixed", {{"a", 1}, {"b", 2}, {"c", 1}, {"d", 2}}, {"b", "d", "a", "c"}},
  };
  for (const Case& c : cases) {
    Reset();
    for (const auto& [name, priority] : c.added) queue_->Add(MakePod(name, priority));
    EXPECT_EQ(PopAll(), c.want) << c.name;
  }
}

TEST_F(QueueTest, PopCountsAttemptsAndCycles) {
  queue_->Add(MakePod("p"));
  std::optional<framework::QueuedPodInfo> info = queue_->TryPop();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->attempts, 1);
  EXPECT_EQ(queue_->SchedulingCycle(), 1);
  info->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(*info, 1).ok());
  queue_->Activate({info->pod});
  info = queue_->TryPop();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->attempts, 2);
  EXPECT_TRUE(info->unschedulable_plugins.empty()) << "Pop clears the last rejections";
  EXPECT_EQ(queue_->SchedulingCycle(), 2);
  EXPECT_FALSE(queue_->TryPop().has_value());
}

TEST_F(QueueTest, BackoffDoublesPerAttemptUpToTheMaximum) {
  const std::pair<int, absl::Duration> cases[] = {
      {1, absl::Seconds(1)}, {2, absl::Seconds(2)},  {3, absl::Seconds(4)},
      {4, absl::Seconds(8)}, {5, absl::Seconds(10)}, {6, absl::Seconds(10)},
      {100, absl::Seconds(10)},
  };
  for (const auto& [attempts, want] : cases) {
    EXPECT_EQ(queue_->BackoffDuration(attempts), want) << attempts << " attempts";

    // And the backoffQ holds such a pod exactly that long.
    Reset();
    framework::QueuedPodInfo info;
    info.pod = MakePod("p");
    info.attempts = attempts;
    // No rejecting plugin (an error): straight to backoffQ.
    ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(info, 0).ok());
    ASSERT_EQ(queue_->Locate("default/p"), SubQueue::kBackoff);
    clock_.Advance(want - absl::Nanoseconds(1));
    queue_->FlushBackoffQCompleted();
    EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kBackoff) << attempts << " attempts";
    clock_.Advance(absl::Nanoseconds(1));
    queue_->FlushBackoffQCompleted();
    EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kActive) << attempts << " attempts";
    EXPECT_EQ(Incoming("active", "BackoffComplete"), 1);
  }
}

TEST_F(QueueTest, BackoffQueueFlushesInExpiryOrder) {
  for (const auto& [name, attempts] : std::vector<std::pair<std::string, int>>{
           {"four-seconds", 3}, {"one-second", 1}, {"two-seconds", 2}}) {
    framework::QueuedPodInfo info;
    info.pod = MakePod(name);
    info.attempts = attempts;
    ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(info, 0).ok());
  }
  std::vector<std::string> order;
  for (int s = 1; s <= 4; ++s) {
    clock_.Advance(absl::Seconds(1));
    queue_->FlushBackoffQCompleted();
    for (const std::string& name : PopAll()) order.push_back(name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"one-second", "two-seconds", "four-seconds"}));
}

TEST_F(QueueTest, UnschedulablePodMovesOnlyOnAnEventItsRejectorsRegistered) {
  struct Case {
    const char* name;
    absl::flat_hash_set<std::string> rejected_by;
    ClusterEvent event;
    absl::Duration wait;  // before the event; the backoff after attempt 1 is 1s
    SubQueue want;
  };
  const Case cases[] = {
      {"fit, node added", {"NodeResourcesFit"}, framework::kNodeAdd, absl::Seconds(2),
       SubQueue::kActive},
      {"fit, allocatable changed", {"NodeResourcesFit"}, framework::kNodeAllocatableChange,
       absl::Seconds(2), SubQueue::kActive},
      {"fit, assigned pod deleted", {"NodeResourcesFit"}, framework::kAssignedPodDelete,
       absl::Seconds(2), SubQueue::kActive},
      {"fit, node condition changed", {"NodeResourcesFit"}, framework::kNodeConditionChange,
       absl::Seconds(2), SubQueue::kUnschedulable},
      {"taints, assigned pod deleted", {"TaintToleration"}, framework::kAssignedPodDelete,
       absl::Seconds(2), SubQueue::kUnschedulable},
      {"taints, allocatable changed", {"TaintToleration"}, framework::kNodeAllocatableChange,
       absl::Seconds(2), SubQueue::kUnschedulable},
      {"taints, taint changed", {"TaintToleration"}, framework::kNodeTaintChange,
       absl::Seconds(2), SubQueue::kActive},
      {"one of two rejectors registered it", {"TaintToleration", "NodeResourcesFit"},
       framework::kAssignedPodDelete, absl::Seconds(2), SubQueue::kActive},
      {"still backing off: to backoffQ", {"NodeResourcesFit"}, framework::kNodeAdd,
       absl::Milliseconds(500), SubQueue::kBackoff},
      {"a plugin that registered nothing", {"NodeName"}, framework::kNodeAdd, absl::Seconds(2),
       SubQueue::kUnschedulable},
      {"the wildcard moves every pod", {"NodeName"}, framework::kWildCardEvent, absl::Seconds(2),
       SubQueue::kActive},
  };
  for (const Case& c : cases) {
    Reset();
    ASSERT_TRUE(FailOnce(MakePod("p"), c.rejected_by).ok()) << c.name;
    ASSERT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable) << c.name;
    clock_.Advance(c.wait);
    queue_->MoveAllToActiveOrBackoffQueue(c.event);
    EXPECT_EQ(queue_->Locate("default/p"), c.want) << c.name;
    if (c.want != SubQueue::kUnschedulable) {
      const char* queue = c.want == SubQueue::kActive ? "active" : "backoff";
      EXPECT_EQ(Incoming(queue, std::string(c.event.label)), 1) << c.name;
    }
  }
}

TEST_F(QueueTest, PreCheckFiltersTheMovedPods) {
  ASSERT_TRUE(FailOnce(MakePod("keep"), {"NodeResourcesFit"}).ok());
  ASSERT_TRUE(FailOnce(MakePod("move"), {"NodeResourcesFit"}).ok());
  clock_.Advance(absl::Seconds(2));
  queue_->MoveAllToActiveOrBackoffQueue(framework::kNodeAdd,
                                        [](const model::Pod& p) { return p.name == "move"; });
  EXPECT_EQ(queue_->Locate("default/move"), SubQueue::kActive);
  EXPECT_EQ(queue_->Locate("default/keep"), SubQueue::kUnschedulable);
}

TEST_F(QueueTest, PodOfAProfileWithoutRegistrationsMovesOnAnyEventOfInterest) {
  model::PodPtr pod = Changed(MakePod("p"), [](model::Pod& p) { p.scheduler_name = "other"; });
  ASSERT_TRUE(FailOnce(pod, {"TaintToleration"}).ok());
  clock_.Advance(absl::Seconds(2));
  queue_->MoveAllToActiveOrBackoffQueue(framework::kAssignedPodDelete);
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kActive);
}

TEST_F(QueueTest, FailedPodGoesToBackoffWhenAMoveRequestCameDuringItsCycle) {
  struct Case {
    const char* name;
    bool move_before_pop;
    std::optional<ClusterEvent> move_during_cycle;
    absl::flat_hash_set<std::string> rejected_by;
    SubQueue want;
  };
  const Case cases[] = {
      {"no move request", false, std::nullopt, {"NodeResourcesFit"}, SubQueue::kUnschedulable},
      {"move request during the cycle", false, framework::kNodeAdd, {"NodeResourcesFit"},
       SubQueue::kBackoff},
      // Any event some plugin registered is a move request, whoever rejected
      // the pod: the pod was not in unschedulablePods to be checked.
      {"move request for another plugin's event", false, framework::kAssignedPodDelete,
       {"TaintToleration"}, SubQueue::kBackoff},
      {"an event no plugin registered is no move request", false,
       framework::kNodeConditionChange, {"NodeResourcesFit"}, SubQueue::kUnschedulable},
      {"move request before the cycle", true, std::nullopt, {"NodeResourcesFit"},
       SubQueue::kUnschedulable},
      {"an error (no rejecting plugin) backs off", false, std::nullopt, {}, SubQueue::kBackoff},
  };
  for (const Case& c : cases) {
    Reset();
    queue_->Add(MakePod("p"));
    if (c.move_before_pop) queue_->MoveAllToActiveOrBackoffQueue(framework::kNodeAdd);
    std::optional<framework::QueuedPodInfo> info = queue_->TryPop();
    ASSERT_TRUE(info.has_value()) << c.name;
    const int64_t cycle = queue_->SchedulingCycle();
    if (c.move_during_cycle.has_value()) {
      queue_->MoveAllToActiveOrBackoffQueue(*c.move_during_cycle);
    }
    info->unschedulable_plugins = c.rejected_by;
    ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(*info, cycle).ok()) << c.name;
    EXPECT_EQ(queue_->Locate("default/p"), c.want) << c.name;
    const char* queue = c.want == SubQueue::kBackoff ? "backoff" : "unschedulable";
    EXPECT_EQ(Incoming(queue, "ScheduleAttemptFailure"), 1) << c.name;
  }
}

TEST_F(QueueTest, UnschedulablePodsLeaveAfterFiveMinutes) {
  ASSERT_TRUE(FailOnce(MakePod("p"), {"TaintToleration"}).ok());
  clock_.Advance(absl::Minutes(5));
  queue_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable) << "5m is not longer than 5m";
  clock_.Advance(absl::Nanoseconds(1));
  queue_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kActive);
  EXPECT_EQ(Incoming("active", "UnschedulableTimeout"), 1);
}

TEST_F(QueueTest, UnschedulableTimeoutCountsFromTheLastFailure) {
  // The failure refreshes the timestamp: a pod queued long ago but failed
  // just now stays.
  queue_->Add(MakePod("p"));
  clock_.Advance(absl::Minutes(10));
  std::optional<framework::QueuedPodInfo> info = queue_->TryPop();
  ASSERT_TRUE(info.has_value());
  info->unschedulable_plugins = {"TaintToleration"};
  ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(*info, 1).ok());
  clock_.Advance(absl::Minutes(1));
  queue_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable);
}

// Puts "default/p" into `where`.
void PutIn(SubQueue where, SchedulingQueue& queue, const model::PodPtr& pod) {
  queue.Add(pod);
  if (where == SubQueue::kActive) return;
  std::optional<framework::QueuedPodInfo> info = queue.TryPop();
  if (where == SubQueue::kUnschedulable) info->unschedulable_plugins = {"TaintToleration"};
  queue.AddUnschedulableIfNotPresent(*info, queue.SchedulingCycle()).IgnoreError();
}

TEST_F(QueueTest, UpdateReplacesThePodInEachPart) {
  struct Case {
    const char* name;
    SubQueue from;
    bool spec_change;  // else only the status (nominatedNodeName) changes
    absl::Duration wait;
    SubQueue want;
  };
  const Case cases[] = {
      {"active: in place", SubQueue::kActive, true, absl::ZeroDuration(), SubQueue::kActive},
      {"backoff: in place", SubQueue::kBackoff, true, absl::ZeroDuration(), SubQueue::kBackoff},
      {"unschedulable, status only: stays", SubQueue::kUnschedulable, false, absl::Seconds(2),
       SubQueue::kUnschedulable},
      {"unschedulable, spec changed: to activeQ", SubQueue::kUnschedulable, true,
       absl::Seconds(2), SubQueue::kActive},
      {"unschedulable, spec changed while backing off: to backoffQ", SubQueue::kUnschedulable,
       true, absl::ZeroDuration(), SubQueue::kBackoff},
      {"in no part: added to activeQ", SubQueue::kNone, true, absl::ZeroDuration(),
       SubQueue::kActive},
  };
  for (const Case& c : cases) {
    Reset();
    model::PodPtr old_pod = MakePod("p");
    if (c.from != SubQueue::kNone) PutIn(c.from, *queue_, old_pod);
    ASSERT_EQ(queue_->Locate("default/p"), c.from) << c.name;
    clock_.Advance(c.wait);
    model::PodPtr new_pod = Changed(old_pod, [&](model::Pod& p) {
      if (c.spec_change) {
        p.critical_annotation = true;
      } else {
        p.nominated_node_name = "node-1";
      }
    });
    queue_->Update(old_pod, new_pod);
    EXPECT_EQ(queue_->Locate("default/p"), c.want) << c.name;
    std::optional<framework::QueuedPodInfo> info = queue_->Get("default/p");
    ASSERT_TRUE(info.has_value()) << c.name;
    EXPECT_EQ(info->pod, new_pod) << c.name << ": the new version is kept";
    EXPECT_EQ(queue_->PendingPods().size(), 1u) << c.name;
  }
}

TEST_F(QueueTest, UpdateInActiveQueueReordersIt) {
  model::PodPtr a = MakePod("a", 1);
  queue_->Add(a);
  queue_->Add(MakePod("b", 5));
  queue_->Update(a, Changed(a, [](model::Pod& p) { p.priority = 10; }));
  EXPECT_EQ(PopAll(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(QueueTest, DeleteRemovesThePodFromEachPart) {
  for (SubQueue from : {SubQueue::kActive, SubQueue::kBackoff, SubQueue::kUnschedulable}) {
    Reset();
    model::PodPtr pod = MakePod("p");
    PutIn(from, *queue_, pod);
    ASSERT_EQ(queue_->Locate("default/p"), from);
    queue_->Delete(*pod);
    EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kNone) << static_cast<int>(from);
    EXPECT_TRUE(queue_->PendingPods().empty()) << static_cast<int>(from);
    QueueStats stats = queue_->Stats();
    EXPECT_EQ(stats.active + stats.backoff + stats.unschedulable, 0) << static_cast<int>(from);
  }
}

TEST_F(QueueTest, APodIsNeverQueuedTwice) {
  model::PodPtr pod = MakePod("p");
  queue_->Add(pod);
  queue_->Add(pod);
  queue_->Update(nullptr, pod);
  EXPECT_EQ(queue_->PendingPods().size(), 1u);

  // Handing back a pod that is queued already is refused, naming where.
  framework::QueuedPodInfo info;
  info.pod = pod;
  absl::Status s = queue_->AddUnschedulableIfNotPresent(info, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "Pod default/p is already present in the active queue");

  // Re-added while unschedulable: only in activeQ.
  Reset();
  PutIn(SubQueue::kUnschedulable, *queue_, pod);
  s = queue_->AddUnschedulableIfNotPresent(info, 0);
  EXPECT_EQ(s.message(), "Pod default/p is already present in unschedulable queue");
  queue_->Add(pod);
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kActive);
  QueueStats stats = queue_->Stats();
  EXPECT_EQ(stats.active, 1);
  EXPECT_EQ(stats.unschedulable, 0);

  Reset();
  PutIn(SubQueue::kBackoff, *queue_, pod);
  s = queue_->AddUnschedulableIfNotPresent(info, 0);
  EXPECT_EQ(s.message(), "Pod default/p is already present in the backoff queue");

  // Same name in another namespace is another pod.
  queue_->Add(MakePod("p", 0, "other"));
  EXPECT_EQ(queue_->PendingPods().size(), 2u);
}

TEST_F(QueueTest, ActivateMovesUnschedulableAndBackoffPodsOnly) {
  model::PodPtr u = MakePod("u"), b = MakePod("b"), a = MakePod("a"), none = MakePod("none");
  PutIn(SubQueue::kUnschedulable, *queue_, u);
  PutIn(SubQueue::kBackoff, *queue_, b);
  queue_->Add(a);
  queue_->Activate({u, b, a, none});
  EXPECT_EQ(queue_->Locate("default/u"), SubQueue::kActive);
  EXPECT_EQ(queue_->Locate("default/b"), SubQueue::kActive);
  EXPECT_EQ(queue_->Locate("default/none"), SubQueue::kNone);
  EXPECT_EQ(Incoming("active", "ForceActivate"), 2);
}

TEST_F(QueueTest, AssignedPodAddedMovesPodsItMayHelp) {
  // Label key 1 = value 2: the bound pod's labels.
  model::LabelSelector selects;
  selects.matches_nothing = false;
  selects.requirements.push_back({1, model::SelectorOp::kIn, {2}, 0});
  model::AffinityTerm term;
  term.namespaces = {7};
  term.selector = selects;
  model::PodPtr bound = Changed(MakePod("bound"), [](model::Pod& p) {
    p.ns_id = 7;
    p.labels = model::Labels({{1, 2, std::nullopt}});
    p.node_name = "node-1";
  });

  struct Case {
    const char* name;
    model::PodPtr waiting;
    absl::flat_hash_set<std::string> rejected_by;
    SubQueue want;
  };
  auto with_affinity = [&](model::AffinityTerm t) {
    return Changed(MakePod("w"), [&](model::Pod& p) { p.required_affinity = {t}; });
  };
  model::AffinityTerm other_ns = term;
  other_ns.namespaces = {8};
  const Case cases[] = {
      {"affinity term matches", with_affinity(term), {"InterPodAffinity"}, SubQueue::kActive},
      {"affinity term in another namespace", with_affinity(other_ns), {"InterPodAffinity"},
       SubQueue::kUnschedulable},
      {"no affinity, not spread", MakePod("w"), {"InterPodAffinity"}, SubQueue::kUnschedulable},
      {"spread-rejected, same namespace", MakePod("w"), {"PodTopologySpread"},
       SubQueue::kActive},
      {"spread-rejected, other namespace", MakePod("w", 0, "elsewhere"), {"PodTopologySpread"},
       SubQueue::kUnschedulable},
      // NodeResourcesFit registered no Pod/Add.
      {"matching term but rejected by fit", with_affinity(term), {"NodeResourcesFit"},
       SubQueue::kUnschedulable},
  };
  for (const Case& c : cases) {
    Reset();
    ASSERT_TRUE(FailOnce(c.waiting, c.rejected_by).ok()) << c.name;
    clock_.Advance(absl::Seconds(2));
    queue_->AssignedPodAdded(*bound, nullptr);
    EXPECT_EQ(queue_->Locate(c.waiting->Key()), c.want) << c.name;
    if (c.want == SubQueue::kActive) {
      EXPECT_EQ(Incoming("active", "AssignedPodAdd"), 1) << c.name;
    }
  }
}

TEST_F(QueueTest, AssignedPodScaledDownConsidersEveryPod) {
  model::PodPtr bound = Changed(MakePod("bound"), [](model::Pod& p) { p.node_name = "n"; });
  ASSERT_TRUE(FailOnce(MakePod("w"), {"NodeResourcesFit"}).ok());
  clock_.Advance(absl::Seconds(2));
  queue_->AssignedPodUpdated(*bound, framework::kPodLabelChange, nullptr);
  EXPECT_EQ(queue_->Locate("default/w"), SubQueue::kUnschedulable) << "no cross-topology term";
  // Scale-down is registered by no plugin here (InPlacePodVerticalScaling
  // off), so the map needs Fit's Pod/Update to see a move.
  framework::ClusterEventMap map = TestEventMap();
  map[{EventResource::kPod, framework::kUpdate, {}}].insert("NodeResourcesFit");
  Reset(map);
  ASSERT_TRUE(FailOnce(MakePod("w"), {"NodeResourcesFit"}).ok());
  clock_.Advance(absl::Seconds(2));
  queue_->AssignedPodUpdated(*bound, framework::kPodRequestScaledDown, nullptr);
  EXPECT_EQ(queue_->Locate("default/w"), SubQueue::kActive);
  EXPECT_EQ(Incoming("active", "AssignedPodUpdate"), 1);
}

TEST_F(QueueTest, StatsAndPendingPods) {
  PutIn(SubQueue::kBackoff, *queue_, MakePod("backoff"));
  PutIn(SubQueue::kUnschedulable, *queue_, MakePod("unsched"));
  queue_->Add(MakePod("active-1", 1));
  queue_->Add(MakePod("active-2", 2));
  std::string summary;
  std::vector<std::string> names;
  for (const model::PodPtr& p : queue_->PendingPods(&summary)) names.push_back(p->name);
  EXPECT_EQ(names, (std::vector<std::string>{"active-2", "active-1", "backoff", "unsched"}));
  EXPECT_EQ(summary, "activeQ:2; backoffQ:1; unschedulablePods:1");
  QueueStats stats = queue_->Stats();
  EXPECT_EQ(stats.active, 2);
  EXPECT_EQ(stats.backoff, 1);
  EXPECT_EQ(stats.unschedulable, 1);
  EXPECT_EQ(stats.gated, 0);
  EXPECT_EQ(Incoming("active", "PodAdd"), 4);
  EXPECT_EQ(Incoming("backoff", "ScheduleAttemptFailure"), 1);
  EXPECT_EQ(Incoming("unschedulable", "ScheduleAttemptFailure"), 1);
}

// Scheduling gates (the SchedulingGates PreEnqueue plugin), as upstream's
// moveToActiveQ runs PreEnqueue: a gated pod waits among the unschedulable
// pods, no cluster event or leftover flush lets it out, and the update that
// removes its last gate sends it to the active queue.
TEST_F(QueueTest, GatedPodWaitsUntilAnUpdateRemovesItsGates) {
  SchedulingGates gates;
  SchedulingQueue::Options options;
  options.clock = &clock_;
  options.cluster_event_maps[kProfile] = TestEventMap();
  options.pre_enqueue = [&gates](const model::Pod& pod) {
    framework::Status s = gates.PreEnqueue(pod);
    return s.ok() ? s : std::move(s).WithPlugin(gates.Name());
  };
  queue_ = std::make_unique<SchedulingQueue>(&sort_, std::move(options));

  const model::PodPtr gated = Changed(MakePod("p"), [](model::Pod& p) {
    p.scheduling_gates = {"example.com/quota", "example.com/review"};
  });
  queue_->Add(gated);
  queue_->Add(MakePod("free"));
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable);
  EXPECT_EQ(queue_->Stats().gated, 1);
  EXPECT_EQ(queue_->Stats().unschedulable, 0);
  EXPECT_EQ(Incoming("active", "PodAdd"), 1) << "a gated pod is not counted as incoming";
  std::optional<framework::QueuedPodInfo> popped = queue_->TryPop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->pod->name, "free");
  EXPECT_FALSE(queue_->TryPop().has_value());

  // Nothing in the cluster lifts a gate: no event moves it, and the
  // leftover flush asks PreEnqueue again and keeps it.
  queue_->MoveAllToActiveOrBackoffQueue(framework::kNodeAdd);
  queue_->MoveAllToActiveOrBackoffQueue(framework::kAssignedPodDelete);
  clock_.Advance(absl::Minutes(6));
  queue_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable);
  EXPECT_EQ(queue_->Stats().gated, 1);

  // One gate removed: still gated. The last one: active, and it pops.
  const model::PodPtr one_left =
      Changed(gated, [](model::Pod& p) { p.scheduling_gates = {"example.com/review"}; });
  queue_->Update(gated, one_left);
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kUnschedulable);
  const model::PodPtr open = Changed(one_left, [](model::Pod& p) { p.scheduling_gates.clear(); });
  queue_->Update(one_left, open);
  EXPECT_EQ(queue_->Locate("default/p"), SubQueue::kActive);
  EXPECT_EQ(queue_->Stats().gated, 0);
  popped = queue_->TryPop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->pod->name, "p");
  EXPECT_TRUE(popped->pod->scheduling_gates.empty());
}

TEST(SchedulingGatesTest, MessageListsTheGatesAsUpstream) {
  SchedulingGates gates;
  model::Pod pod;
  EXPECT_TRUE(gates.PreEnqueue(pod).ok());
  pod.scheduling_gates = {"a", "b"};
  const framework::Status s = gates.PreEnqueue(pod);
  EXPECT_EQ(s.code(), framework::Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(s.Message(), "waiting for scheduling gates: [a b]");
  EXPECT_TRUE(gates.EventsToRegister().empty());
}

TEST(IsPodUpdatedTest, StatusFieldsDoNotCount) {
  model::PodPtr pod = MakePod("p");
  struct Case {
    const char* name;
    std::function<void(model::Pod&)> change;
    bool want;
  };
  const Case cases[] = {
      {"nothing", [](model::Pod&) {}, false},
      {"nominated node (status)", [](model::Pod& p) { p.nominated_node_name = "n"; }, false},
      {"start time (status)", [](model::Pod& p) { p.start_time = absl::FromUnixSeconds(5); },
       false},
      {"labels", [](model::Pod& p) { p.labels = model::Labels({{1, 2, std::nullopt}}); }, true},
      {"tolerations", [](model::Pod& p) { p.tolerations.push_back({}); }, true},
      {"node selector",
       [](model::Pod& p) { p.node_selector.push_back({3, model::SelectorOp::kExists, {}, 0}); },
       true},
      {"required node affinity", [](model::Pod& p) { p.required_node_affinity.emplace(); }, true},
      {"requests", [](model::Pod& p) { p.requests.milli_cpu = 5; }, true},
      {"deletion timestamp", [](model::Pod& p) { p.terminating = true; }, true},
      {"spread constraint", [](model::Pod& p) { p.spread_constraints.emplace_back(); }, true},
      {"affinity term selector",
       [](model::Pod& p) {
         p.required_affinity.emplace_back();
         p.required_affinity.back().topology_key = 4;
       },
       true},
  };
  for (const Case& c : cases) {
    model::PodPtr changed = Changed(pod, c.change);
    EXPECT_EQ(IsPodUpdated(pod.get(), *changed), c.want) << c.name;
  }
  EXPECT_TRUE(IsPodUpdated(nullptr, *pod)) << "unknown old version";
}

TEST_F(QueueTest, PopBlocksUntilAddAndCloseUnblocks) {
  std::optional<framework::QueuedPodInfo> got;
  std::thread popper([&] { got = queue_->Pop(); });
  queue_->Add(MakePod("p"));
  popper.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->pod->name, "p");

  std::atomic<bool> returned{false};
  std::optional<framework::QueuedPodInfo> after_close = framework::QueuedPodInfo{};
  std::thread waiter([&] {
    after_close = queue_->Pop();
    returned = true;
  });
  queue_->Close();
  waiter.join();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(after_close.has_value());
}

TEST_F(QueueTest, ClosedQueueStillHandsOutWhatIsActive) {
  queue_->Add(MakePod("p"));
  queue_->Close();
  std::optional<framework::QueuedPodInfo> info = queue_->Pop();
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(queue_->Pop().has_value());
}

TEST_F(QueueTest, RunFlushesTheBackoffQueue) {
  framework::QueuedPodInfo info;
  info.pod = MakePod("p");
  info.attempts = 1;
  ASSERT_TRUE(queue_->AddUnschedulableIfNotPresent(info, 0).ok());
  clock_.Advance(absl::Seconds(1));
  queue_->Run();
  // Blocks until the flusher's first pass (one second of wall time).
  std::optional<framework::QueuedPodInfo> popped = queue_->Pop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->pod->name, "p");
  queue_->Close();
}

// Several threads add while others pop, fail and re-add: every pod is
// scheduled exactly once, and no pod is ever queued twice. Tagged for the
// ThreadSanitizer step of ./test.sh.
TEST_F(QueueTest, ConcurrentAddPopAndFailures) {
  constexpr int kProducers = 3;
  constexpr int kPodsEach = 200;
  constexpr int kConsumers = 2;
  std::atomic<int> scheduled{0};
  std::vector<std::vector<std::string>> seen(kConsumers);
  std::vector<std::thread> threads;
  for (int t = 0; t < kProducers; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPodsEach; ++i) {
        queue_->Add(MakePod(absl::StrCat("p", t, "-", i), i % 7));
      }
    });
  }
  for (int t = 0; t < kConsumers; ++t) {
    threads.emplace_back([&, t] {
      while (std::optional<framework::QueuedPodInfo> info = queue_->Pop()) {
        const int64_t cycle = queue_->SchedulingCycle();
        if (info->attempts == 1 && info->pod->name.back() == '3') {
          // Fail once; an event moves it back below.
          info->unschedulable_plugins = {"NodeResourcesFit"};
          queue_->AddUnschedulableIfNotPresent(*std::move(info), cycle).IgnoreError();
          continue;
        }
        seen[t].push_back(info->pod->name);
        if (++scheduled == kProducers * kPodsEach) queue_->Close();
      }
    });
  }
  // Move the failed pods back until all are scheduled.
  std::thread mover([&] {
    while (scheduled < kProducers * kPodsEach) {
      clock_.Advance(absl::Seconds(1));
      queue_->MoveAllToActiveOrBackoffQueue(framework::kNodeAdd);
      queue_->FlushBackoffQCompleted();
      std::this_thread::yield();
    }
  });
  for (std::thread& t : threads) t.join();
  mover.join();
  std::set<std::string> all;
  size_t total = 0;
  for (const auto& v : seen) {
    total += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(total, static_cast<size_t>(kProducers * kPodsEach));
  EXPECT_EQ(all.size(), static_cast<size_t>(kProducers * kPodsEach));
  EXPECT_TRUE(queue_->PendingPods().empty());
}

}  // namespace
}  // namespace kestrel::queue
