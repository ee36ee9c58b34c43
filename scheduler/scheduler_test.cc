#include "scheduler/scheduler.h"

#include <functional>
#include <memory>

#include "gtest/gtest.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"

namespace kestrel::scheduler {
namespace {

model::NodePtr Node(const std::string& name, int64_t milli_cpu, int64_t memory,
                    int64_t pods = 110, bool unschedulable = false) {
  auto n = std::make_shared<model::Node>();
  n->name = name;
  n->allocatable.milli_cpu = milli_cpu;
  n->allocatable.memory = memory;
  n->allocatable.allowed_pods = pods;
  n->unschedulable = unschedulable;
  return n;
}

model::PodPtr Pod(const std::string& name, int64_t milli_cpu, int64_t memory) {
  auto p = std::make_shared<model::Pod>();
  p->ns = "default";
  p->name = name;
  p->scheduler_name = "default-scheduler";
  p->requests.milli_cpu = milli_cpu;
  p->requests.memory = memory;
  p->non_zero_milli_cpu = milli_cpu;
  p->non_zero_memory = memory;
  return p;
}

constexpr int64_t kGi = int64_t{1} << 30;

// The FitError histogram as one line.
std::string Histogram(const ScheduleResult& r) {
  std::string out;
  for (const ReasonCount& c : r.fit_reasons) {
    out += c.plugin + ":" + c.reason + ":" + std::to_string(c.nodes) + ";";
  }
  return out;
}

class SchedulerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Scheduler> Make(uint64_t seed = 1, int threads = 1) {
    framework::Handle handle;
    handle.interner = &names_;
    auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
    EXPECT_TRUE(profiles.ok()) << profiles.status();
    return std::make_unique<Scheduler>(&cache_, *std::move(profiles),
                                       Scheduler::Options{seed, threads, 0});
  }

  model::Interner names_;
  cache::Cache cache_;
};

TEST_F(SchedulerTest, PicksLeastAllocatedNodeAndAssumesPod) {
  ASSERT_TRUE(cache_.AddNode(Node("busy", 4000, 32 * kGi)).ok());
  ASSERT_TRUE(cache_.AddNode(Node("idle", 4000, 32 * kGi)).ok());
  auto existing = Pod("existing", 3000, 8 * kGi);
  auto bound = std::make_shared<model::Pod>(*existing);
  bound->node_name = "busy";
  ASSERT_TRUE(cache_.AddPod(bound).ok());

  auto s = Make();
  ScheduleResult r = s->ScheduleOne(Pod("p", 500, kGi));
  EXPECT_EQ(r.node, "idle");
  EXPECT_EQ(r.feasible_nodes, 2);
  auto assumed = cache_.GetPod("default/p");
  ASSERT_NE(assumed, nullptr);
  EXPECT_TRUE(cache_.IsAssumed(*assumed));
  EXPECT_EQ(assumed->node_name, "idle");
}

TEST_F(SchedulerTest, AssumedPodsCountForTheNextCycle) {
  ASSERT_TRUE(cache_.AddNode(Node("n1", 1000, 8 * kGi)).ok());
  auto s = Make();
  EXPECT_EQ(s->ScheduleOne(Pod("a", 600, kGi)).node, "n1");
  ScheduleResult r = s->ScheduleOne(Pod("b", 600, kGi));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kUnschedulable);
  // Both pods have priority 0: DefaultPreemption finds nothing to evict.
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod..");
}

TEST_F(SchedulerTest, FitErrorHistogram) {
  ASSERT_TRUE(cache_.AddNode(Node("small", 100, 8 * kGi)).ok());
  ASSERT_TRUE(cache_.AddNode(Node("cordoned", 8000, 8 * kGi, 110, true)).ok());
  ASSERT_TRUE(cache_.AddNode(Node("full", 8000, 8 * kGi, 0)).ok());
  auto s = Make();
  ScheduleResult r = s->ScheduleOne(Pod("p", 500, kGi));
  // "small" cannot hold the pod even empty and "cordoned" is unschedulable:
  // both UnschedulableAndUnresolvable, where preemption is not helpful;
  // "full" holds no pod that could be evicted.
  EXPECT_EQ(r.message,
            "0/3 nodes are available: 1 Insufficient cpu, 1 Too many pods, 1 node(s) were "
            "unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found "
            "for incoming pod, 2 Preemption is not helpful for scheduling..");
}

TEST_F(SchedulerTest, NoNodes) {
  auto s = Make();
  ScheduleResult r = s->ScheduleOne(Pod("p", 1, 1));
  EXPECT_EQ(r.message, "no nodes available to schedule pods");
}

TEST_F(SchedulerTest, UnknownSchedulerName) {
  ASSERT_TRUE(cache_.AddNode(Node("n1", 1000, kGi)).ok());
  auto s = Make();
  auto pod = std::make_shared<model::Pod>(*Pod("p", 1, 1));
  pod->scheduler_name = "other";
  ScheduleResult r = s->ScheduleOne(pod);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kUnschedulableAndUnresolvable);
}

// Terms the scheduler cannot parse, as CompilePod leaves them
// (model::NodeSelectorTerm::parse_errors): a required one matches no node;
// a preferred one fails the cycle at PreScore, as upstream's NodeAffinity
// does, once there are two feasible nodes to score.
TEST_F(SchedulerTest, RequiredTermThatDoesNotParseMatchesNoNode) {
  ASSERT_TRUE(cache_.AddNode(Node("n1", 4000, 8 * kGi)).ok());
  ASSERT_TRUE(cache_.AddNode(Node("n2", 4000, 8 * kGi)).ok());
  auto s = Make();
  auto pod = std::make_shared<model::Pod>(*Pod("p", 100, kGi));
  model::NodeSelectorTerm term;
  term.expressions.push_back(model::Requirement{names_.Intern("zone"), model::SelectorOp::kDoesNotExist});
  term.parse_errors = {"nodeSelectorTerms[0].matchExpressions[1].values[0]: Invalid value: \"x\": "
                       "for 'Gt', 'Lt' operators, the value must be an integer"};
  pod->required_node_affinity = model::NodeSelector{{term}};
  ScheduleResult r = s->ScheduleOne(pod);
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kUnschedulable);  // a FitError
  const std::string want = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.";
  EXPECT_EQ(r.message.substr(0, want.size()), want) << r.message;
}

// Pods of one template that fit nowhere keep their rows' statuses between
// cycles (the kept verdicts): each message must still be what the full path
// gives on the cluster as it is then, as nodes change under them.
TEST_F(SchedulerTest, RepeatedUnschedulablePodsSeeNodeChanges) {
  // Each scheduler on a cache of its own (a snapshot follows one cache
  // incrementally), both given the same changes.
  cache::Cache reference_cache;
  auto both = [&](const std::function<absl::Status(cache::Cache&)>& change) {
    ASSERT_TRUE(change(cache_).ok());
    ASSERT_TRUE(change(reference_cache).ok());
  };
  for (int i = 0; i < 6; ++i) {
    both([&](cache::Cache& c) { return c.AddNode(Node("n" + std::to_string(i), 2000, 8 * kGi)); });
  }
  auto fast = Make();
  framework::Handle handle;
  handle.interner = &names_;
  auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
  ASSERT_TRUE(profiles.ok());
  Scheduler::Options reference_options{1, 1, 0};
  reference_options.incremental = false;
  Scheduler reference(&reference_cache, *std::move(profiles), reference_options);
  // 3 cpu: more than any node has, until n5 grows.
  auto update = [&](model::NodePtr node) {
    both([&](cache::Cache& c) { return c.UpdateNode(node); });
  };
  const std::vector<std::function<void()>> changes = {
      [] {},
      [&] { update(Node("n2", 2000, 8 * kGi, 110, true)); },
      [&] { update(Node("n4", 2500, 8 * kGi)); },
      [&] { update(Node("n2", 2000, 8 * kGi)); },
      [&] { update(Node("n0", 1000, 8 * kGi, 0)); },
      [&] { update(Node("n5", 4000, 8 * kGi)); },
  };
  int unschedulable = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    changes[i]();
    ScheduleResult want = reference.ScheduleOne(Pod("big-" + std::to_string(i), 3000, kGi));
    ScheduleResult got = fast->ScheduleOne(Pod("big-" + std::to_string(i), 3000, kGi));
    EXPECT_EQ(got.node, want.node) << i;
    EXPECT_EQ(got.message, want.message) << i;
    EXPECT_EQ(got.unschedulable_plugins, want.unschedulable_plugins) << i;
    EXPECT_EQ(Histogram(got), Histogram(want)) << i;
    if (got.node.empty()) ++unschedulable;
    // A pod of another template between, placed: its row changes under
    // the big pods' kept verdicts.
    const std::string small = "small-" + std::to_string(i);
    want = reference.ScheduleOne(Pod(small, 500, kGi));
    got = fast->ScheduleOne(Pod(small, 500, kGi));
    ASSERT_EQ(got.node, want.node) << i;
    ASSERT_FALSE(got.node.empty());
    both([&](cache::Cache& c) {
      auto bound = std::make_shared<model::Pod>(*Pod(small, 500, kGi));
      bound->node_name = got.node;
      return &c == &cache_ ? c.AddPod(c.GetPod("default/" + small)) : c.AddPod(bound);
    });
  }
  EXPECT_EQ(unschedulable, 5);
  // The kept verdicts were used: only the changed rows were filtered again,
  // and the diagnoses after the first came from the kept statuses.
  EXPECT_GE(fast->stats().filter_incremental, 4);
  EXPECT_EQ(fast->stats().diagnosis_kept, 4);
}

TEST_F(SchedulerTest, PreferredTermThatDoesNotParseFailsPreScore) {
  const std::string parse_error =
      "[0].matchExpressions[0].values[0][zone]: Invalid value: \"a b\": a valid label must be "
      "an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
      "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
      "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  auto pod = [&](const std::string& name) {
    auto p = std::make_shared<model::Pod>(*Pod(name, 100, kGi));
    model::PreferredSchedulingTerm t;
    t.weight = 1;
    t.term.parse_errors = {parse_error};
    p->preferred_node_affinity.push_back(t);
    return p;
  };
  ASSERT_TRUE(cache_.AddNode(Node("n1", 4000, 8 * kGi)).ok());
  auto s = Make();
  // One feasible node: upstream takes it without scoring.
  EXPECT_EQ(s->ScheduleOne(pod("one")).node, "n1");

  ASSERT_TRUE(cache_.AddNode(Node("n2", 4000, 8 * kGi)).ok());
  ScheduleResult r = s->ScheduleOne(pod("two"));
  EXPECT_EQ(r.node, "");
  EXPECT_EQ(r.code, framework::Code::kError);
  EXPECT_EQ(r.message, "running PreScore plugin \"NodeAffinity\": " + parse_error);
  EXPECT_EQ(cache_.GetPod("default/two"), nullptr);  // nothing assumed
}

// Placements of a long run, for comparing configurations.
std::vector<std::string> PlaceAll(uint64_t seed, int threads) {
  model::Interner names;
  cache::Cache cache;
  for (int i = 0; i < 300; ++i) {
    EXPECT_TRUE(cache.AddNode(Node("n" + std::to_string(i), 4000, 32 * kGi)).ok());
  }
  framework::Handle handle;
  handle.interner = &names;
  auto profiles = BuildProfiles(DefaultConfig(), InTreeRegistry(), handle);
  Scheduler s(&cache, *std::move(profiles), Scheduler::Options{seed, threads, 0});
  std::vector<std::string> out;
  for (int i = 0; i < 400; ++i) {
    out.push_back(s.ScheduleOne(Pod("p" + std::to_string(i), 100 + (i % 7) * 50, kGi)).node);
  }
  return out;
}

TEST(SchedulerDeterminismTest, SameSeedSamePlacementsWhateverTheThreads) {
  const std::vector<std::string> one = PlaceAll(7, 1);
  EXPECT_EQ(PlaceAll(7, 2), one);
  EXPECT_EQ(PlaceAll(7, 4), one);
  // Ties are broken at random: another seed changes some choice.
  EXPECT_NE(PlaceAll(8, 1), one);
}

}  // namespace
}  // namespace kestrel::scheduler
