// Unit tests for the critical-addon rescheduler (rescheduler/rescheduler.h):
// PodId() and Evictable(); Start() adopting the CriticalAddonsOnly taints
// that still serve a pending critical pod and releasing the others;
// and RunOnce() against an in-memory ClusterClient (nodes with taints, pods
// with phases, scripted eviction answers, a settable clock, recorded events)
// and a scripted Planner (records the taint value, skip_nodes and what the
// `eligible` function says about probe pods): clearing a node for a critical
// pod, kFits / kNoNode / planner errors, in-flight pods and skipped nodes,
// refused (429), missing and failing evictions, release when bound or gone,
// the pod_scheduled_timeout, tainting / releasing failures and the return
// value.

#include "rescheduler/rescheduler.h"

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/objects.h"
#include "model/priority.h"

namespace kestrel::rescheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kDns[] = "kube-system/kube-dns";
constexpr char kDnsId[] = "kube-system_kube-dns";

std::shared_ptr<model::Pod> MakePod(const std::string& ns, const std::string& name) {
  auto pod = std::make_shared<model::Pod>();
  pod->ns = ns;
  pod->name = name;
  return pod;
}

// A 1.4-style critical add-on: the annotation in kube-system.
std::shared_ptr<model::Pod> CriticalPod(const std::string& name) {
  auto pod = MakePod("kube-system", name);
  pod->critical_annotation = true;
  return pod;
}

model::OwnerRef Owner(const std::string& kind, const std::string& name) {
  model::OwnerRef o;
  o.kind = kind;
  o.name = name;
  o.controller = true;
  return o;
}

// "Type|Reason|Object|Message": easy to compare and to read in a failure.
std::string EventString(const Event& e) {
  return absl::StrCat(e.type, "|", e.reason, "|", e.object, "|", e.message);
}

std::string DeletedEvent(const std::string& victim_key, const std::string& critical_id) {
  return absl::StrCat("Normal|", kReasonDeleted, "|Pod ", victim_key,
                      "|Deleted by rescheduler in order to schedule critical pod ", critical_id,
                      ".");
}

class FakeClient : public ClusterClient {
 public:
  FakeClient() : now_(absl::FromUnixSeconds(1700000000)) {}

  // Nodes are copy-on-write, as the simulator's are: ListNodes() hands out
  // snapshots that later taint changes do not touch.
  void AddNode(const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& taints = {}) {
    auto node = std::make_shared<model::Node>();
    node->name = name;
    for (const auto& [key, value] : taints) {
      model::Taint t;
      t.key = key;
      t.value = value;
      node->taints.push_back(t);
    }
    nodes_.push_back(std::move(node));
  }

  // "key=value" for each taint on `node`, in order.
  std::vector<std::string> TaintsOn(const std::string& node) const {
    std::vector<std::string> out;
    const model::NodePtr* n = FindNode(node);
    if (n == nullptr) return out;
    for (const model::Taint& t : (*n)->taints) out.push_back(absl::StrCat(t.key, "=", t.value));
    return out;
  }

  // A pod the cluster knows; `unschedulable`: listed by UnschedulablePods()
  // while pending.
  void AddPod(model::PodPtr pod, bool unschedulable) {
    const std::string key = pod->Key();
    if (!pods_.contains(key)) order_.push_back(key);
    pods_[key] = PodState{std::move(pod), PodPhase::kPending, unschedulable};
  }
  void SetPhase(const std::string& key, PodPhase phase) { pods_.at(key).phase = phase; }
  void SetUnschedulable(const std::string& key, bool u) { pods_.at(key).unschedulable = u; }
  void SetEvictAnswer(const std::string& key, absl::Status s) { evict_answer_[key] = s; }
  void FailAddTaint(absl::Status s) { add_taint_error_ = std::move(s); }
  void FailRemoveTaint(absl::Status s) { remove_taint_error_ = std::move(s); }

  void Advance(absl::Duration d) { now_ += d; }
  absl::Time start() const { return absl::FromUnixSeconds(1700000000); }

  // ClusterClient.
  absl::Time Now() override { return now_; }

  std::vector<model::PodPtr> UnschedulablePods() override {
    std::vector<model::PodPtr> out;
    for (const std::string& key : order_) {
      const PodState& s = pods_.at(key);
      if (s.phase == PodPhase::kPending && s.unschedulable) out.push_back(s.pod);
    }
    return out;
  }

  PodPhase PhaseOf(const std::string& pod_key) override {
    auto it = pods_.find(pod_key);
    return it == pods_.end() ? PodPhase::kGone : it->second.phase;
  }

  model::PodPtr PendingPod(const std::string& pod_key) override {
    auto it = pods_.find(pod_key);
    return it == pods_.end() || it->second.phase != PodPhase::kPending ? nullptr : it->second.pod;
  }

  std::vector<model::NodePtr> ListNodes() override { return nodes_; }

  absl::Status AddTaint(const std::string& node, const std::string& value) override {
    add_taint_calls.push_back(absl::StrCat(node, ":", value));
    if (!add_taint_error_.ok()) return add_taint_error_;
    model::NodePtr* n = FindNode(node);
    if (n == nullptr) return absl::NotFoundError(absl::StrCat("nodes \"", node, "\" not found"));
    auto copy = std::make_shared<model::Node>(**n);
    model::Taint t;
    t.key = kTaintKey;
    t.value = value;
    t.time_added = now_;
    copy->taints.push_back(t);
    *n = std::move(copy);
    return absl::OkStatus();
  }

  absl::Status RemoveTaint(const std::string& node, const std::string& value) override {
    remove_taint_calls.push_back(absl::StrCat(node, ":", value));
    if (!remove_taint_error_.ok()) return remove_taint_error_;
    model::NodePtr* n = FindNode(node);
    if (n == nullptr) return absl::NotFoundError(absl::StrCat("nodes \"", node, "\" not found"));
    auto copy = std::make_shared<model::Node>(**n);
    std::vector<model::Taint> kept;
    for (const model::Taint& t : copy->taints) {
      if (t.key != kTaintKey || t.value != value) kept.push_back(t);
    }
    copy->taints = std::move(kept);
    *n = std::move(copy);
    return absl::OkStatus();
  }

  absl::Status Evict(const model::Pod& pod) override {
    const std::string key = pod.Key();
    evict_calls.push_back(key);
    auto it = evict_answer_.find(key);
    absl::Status s = it == evict_answer_.end() ? absl::OkStatus() : it->second;
    if (s.ok()) {
      auto p = pods_.find(key);
      if (p != pods_.end()) p->second.phase = PodPhase::kGone;
    }
    return s;
  }

  void Record(const Event& event) override { events.push_back(event); }

  std::vector<std::string> EventStrings() const {
    std::vector<std::string> out;
    for (const Event& e : events) out.push_back(EventString(e));
    return out;
  }
  void ClearLogs() {
    events.clear();
    add_taint_calls.clear();
    remove_taint_calls.clear();
    evict_calls.clear();
  }

  std::vector<Event> events;
  std::vector<std::string> add_taint_calls;     // "node:value"
  std::vector<std::string> remove_taint_calls;  // "node:value"
  std::vector<std::string> evict_calls;         // pod keys

 private:
  struct PodState {
    model::PodPtr pod;
    PodPhase phase = PodPhase::kPending;
    bool unschedulable = false;
  };

  model::NodePtr* FindNode(const std::string& name) {
    for (model::NodePtr& n : nodes_) {
      if (n->name == name) return &n;
    }
    return nullptr;
  }
  const model::NodePtr* FindNode(const std::string& name) const {
    for (const model::NodePtr& n : nodes_) {
      if (n->name == name) return &n;
    }
    return nullptr;
  }

  absl::Time now_;
  std::vector<model::NodePtr> nodes_;
  std::vector<std::string> order_;
  absl::flat_hash_map<std::string, PodState> pods_;
  absl::flat_hash_map<std::string, absl::Status> evict_answer_;
  absl::Status add_taint_error_;
  absl::Status remove_taint_error_;
};

class FakePlanner : public Planner {
 public:
  struct Call {
    std::string pod_key;
    std::string taint_value;
    std::set<std::string> skip_nodes;
    std::vector<bool> eligible;  // `eligible` on each of probes, in order
  };

  // Answers for `pod_key`, one per call; the last one repeats. Unscripted
  // pods get kFits.
  void Script(const std::string& pod_key, std::vector<absl::StatusOr<Finding>> answers) {
    scripts_[pod_key] = std::deque<absl::StatusOr<Finding>>(answers.begin(), answers.end());
  }

  absl::StatusOr<Finding> Find(const model::Pod& pod, const std::string& taint_value,
                               const std::function<bool(const model::Pod&)>& eligible,
                               const absl::flat_hash_set<std::string>& skip_nodes) override {
    Call c;
    c.pod_key = pod.Key();
    c.taint_value = taint_value;
    c.skip_nodes = std::set<std::string>(skip_nodes.begin(), skip_nodes.end());
    for (const model::PodPtr& p : probes) c.eligible.push_back(eligible(*p));
    calls.push_back(std::move(c));

    auto it = scripts_.find(pod.Key());
    if (it == scripts_.end() || it->second.empty()) {
      Finding f;
      f.kind = Finding::Kind::kFits;
      return f;
    }
    absl::StatusOr<Finding> out = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return out;
  }

  std::vector<std::string> CalledFor() const {
    std::vector<std::string> out;
    for (const Call& c : calls) out.push_back(c.pod_key);
    return out;
  }

  std::vector<model::PodPtr> probes;
  std::vector<Call> calls;

 private:
  absl::flat_hash_map<std::string, std::deque<absl::StatusOr<Finding>>> scripts_;
};

Finding Clear(const std::string& node, std::vector<model::PodPtr> victims) {
  Finding f;
  f.kind = Finding::Kind::kClear;
  f.node = node;
  f.victims = std::move(victims);
  return f;
}

Finding Fits(const std::string& node) {
  Finding f;
  f.kind = Finding::Kind::kFits;
  f.node = node;
  return f;
}

Finding NoNode(const std::string& why) {
  Finding f;
  f.kind = Finding::Kind::kNoNode;
  f.why = why;
  return f;
}

// ---------------------------------------------------------------------------
// PodId() and Evictable().

TEST(PodIdTest, NamespaceUnderscoreName) {
  EXPECT_EQ(PodId(*MakePod("kube-system", "kube-dns")), "kube-system_kube-dns");
  EXPECT_EQ(PodId(*MakePod("default", "web-1")), "default_web-1");
}

TEST(EvictableTest, Table) {
  struct Case {
    std::string name;
    std::function<void(model::Pod&)> setup;
    std::string system_namespace;
    bool want;
  };
  const std::vector<Case> cases = {
      {"plain pod", [](model::Pod&) {}, "kube-system", true},
      {"priority just below critical",
       [](model::Pod& p) { p.priority = model::kSystemCriticalPriority - 1; }, "kube-system",
       true},
      {"critical by priority 2000000000", [](model::Pod& p) { p.priority = 2000000000; },
       "kube-system", false},
      {"critical by priority 2000001000", [](model::Pod& p) { p.priority = 2000001000; },
       "kube-system", false},
      {"critical annotation in kube-system",
       [](model::Pod& p) {
         p.ns = "kube-system";
         p.critical_annotation = true;
       },
       "kube-system", false},
      {"critical annotation outside the system namespace",
       [](model::Pod& p) { p.critical_annotation = true; }, "kube-system", true},
      {"critical annotation in a custom system namespace",
       [](model::Pod& p) {
         p.ns = "addons";
         p.critical_annotation = true;
       },
       "addons", false},
      {"kube-system annotation when the system namespace is another",
       [](model::Pod& p) {
         p.ns = "kube-system";
         p.critical_annotation = true;
       },
       "addons", true},
      {"mirror pod", [](model::Pod& p) { p.mirror = true; }, "kube-system", false},
      {"DaemonSet-owned", [](model::Pod& p) { p.owners = {Owner("DaemonSet", "fluentd")}; },
       "kube-system", false},
      {"ReplicaSet-owned", [](model::Pod& p) { p.owners = {Owner("ReplicaSet", "web-abc")}; },
       "kube-system", true},
      {"DaemonSet as second owner",
       [](model::Pod& p) { p.owners = {Owner("ReplicaSet", "x"), Owner("DaemonSet", "y")}; },
       "kube-system", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto pod = MakePod("default", "p");
    c.setup(*pod);
    EXPECT_EQ(Evictable(*pod, c.system_namespace), c.want);
  }
}

// ---------------------------------------------------------------------------
// Start().

TEST(StartTest, RemovesEveryCriticalAddonsOnlyTaintAndNothingElse) {
  FakeClient client;
  client.AddNode("n1", {{kTaintKey, "a_x"}, {"dedicated", "gpu"}});
  client.AddNode("n2", {{kTaintKey, "b_y"}, {kTaintKey, "c_z"}});
  client.AddNode("n3", {{"dedicated", "infra"}});
  client.AddNode("n4");
  FakePlanner planner;
  Rescheduler r(&client, &planner, Options{});

  ASSERT_TRUE(r.Start().ok());

  EXPECT_THAT(client.remove_taint_calls, UnorderedElementsAre("n1:a_x", "n2:b_y", "n2:c_z"));
  EXPECT_THAT(client.TaintsOn("n1"), ElementsAre("dedicated=gpu"));
  EXPECT_THAT(client.TaintsOn("n2"), IsEmpty());
  EXPECT_THAT(client.TaintsOn("n3"), ElementsAre("dedicated=infra"));
  EXPECT_THAT(client.TaintsOn("n4"), IsEmpty());
  EXPECT_THAT(client.add_taint_calls, IsEmpty());
  EXPECT_THAT(client.events, IsEmpty());
  EXPECT_FALSE(r.busy());
  EXPECT_THAT(planner.calls, IsEmpty());
}

// A restart (a new Rescheduler on the same cluster) while the critical
// pod is still pending: the taint stays, and the pod stays in flight until
// the timeout its taint started; nothing is planned for it again.
TEST(StartTest, AdoptsTheTaintOfAPodStillPending) {
  FakeClient client;
  client.AddNode("n1");
  auto dns = CriticalPod("kube-dns");
  client.AddPod(dns, /*unschedulable=*/true);
  FakePlanner planner;
  planner.Script(kDns, {Clear("n1", {})});
  Options options;
  Rescheduler first(&client, &planner, options);
  ASSERT_TRUE(first.RunOnce());
  ASSERT_THAT(client.TaintsOn("n1"), ElementsAre("CriticalAddonsOnly=kube-system_kube-dns"));
  client.Advance(options.pod_scheduled_timeout - absl::Seconds(1));

  Rescheduler restarted(&client, &planner, options);
  ASSERT_TRUE(restarted.Start().ok());
  EXPECT_TRUE(restarted.busy());
  EXPECT_THAT(client.TaintsOn("n1"), ElementsAre("CriticalAddonsOnly=kube-system_kube-dns"));
  EXPECT_THAT(client.remove_taint_calls, IsEmpty());
  EXPECT_FALSE(restarted.RunOnce());
  EXPECT_EQ(planner.calls.size(), 1u);  // the first run's only

  // The timeout counts from the taint's timeAdded, not from the restart.
  client.Advance(absl::Seconds(1));
  client.SetUnschedulable(kDns, false);  // not planned again here
  EXPECT_TRUE(restarted.RunOnce());
  EXPECT_THAT(client.EventStrings(), ElementsAre(StartsWith("Warning|PodScheduledTimeout|")));
  EXPECT_FALSE(restarted.busy());
  EXPECT_THAT(client.remove_taint_calls, ElementsAre("n1:kube-system_kube-dns"));
}

// Which taints a starting rescheduler adopts and which it releases.
struct AdoptCase {
  std::string name;
  PodPhase phase;        // of kube-system/kube-dns
  bool critical;         // whether kube-dns is critical
  absl::Duration age;    // of the taint (timeAdded = now - age); negative: no timeAdded
  bool adopted;
};

class AdoptTest : public ::testing::TestWithParam<AdoptCase> {};

TEST_P(AdoptTest, AdoptsOnlyTaintsThatServeAPendingCriticalPod) {
  const AdoptCase& c = GetParam();
  FakeClient client;
  auto dns = c.critical ? CriticalPod("kube-dns") : MakePod("kube-system", "kube-dns");
  client.AddPod(dns, /*unschedulable=*/false);
  client.SetPhase(kDns, c.phase);
  client.AddNode("n1", {{kTaintKey, kDnsId}});
  // A second node tainted for the same pod is never held.
  client.AddNode("n2", {{kTaintKey, kDnsId}});
  if (c.age >= absl::ZeroDuration()) {
    for (const model::NodePtr& n : client.ListNodes()) {
      const_cast<model::Taint&>(n->taints[0]).time_added = client.Now() - c.age;
    }
  }
  FakePlanner planner;
  Rescheduler r(&client, &planner, Options{});

  ASSERT_TRUE(r.Start().ok());

  EXPECT_EQ(r.busy(), c.adopted);
  if (c.adopted) {
    EXPECT_THAT(client.TaintsOn("n1"), ElementsAre("CriticalAddonsOnly=kube-system_kube-dns"));
    EXPECT_THAT(client.remove_taint_calls, ElementsAre("n2:kube-system_kube-dns"));
  } else {
    EXPECT_THAT(client.remove_taint_calls,
                UnorderedElementsAre("n1:kube-system_kube-dns", "n2:kube-system_kube-dns"));
  }
  EXPECT_THAT(client.events, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Taints, AdoptTest,
    ::testing::Values(
        AdoptCase{"PendingCriticalFresh", PodPhase::kPending, true, absl::Minutes(1), true},
        AdoptCase{"PendingCriticalNoTimeAdded", PodPhase::kPending, true, absl::Seconds(-1),
                  true},
        AdoptCase{"TimedOut", PodPhase::kPending, true, absl::Minutes(10), false},
        AdoptCase{"Bound", PodPhase::kBound, true, absl::Minutes(1), false},
        AdoptCase{"Gone", PodPhase::kGone, true, absl::Minutes(1), false},
        AdoptCase{"NotCritical", PodPhase::kPending, false, absl::Minutes(1), false}),
    [](const ::testing::TestParamInfo<AdoptCase>& info) { return info.param.name; });

TEST(PodKeyOfTaintValueTest, SplitsAtTheFirstUnderscore) {
  EXPECT_EQ(PodKeyOfTaintValue("kube-system_kube-dns"), "kube-system/kube-dns");
  EXPECT_EQ(PodKeyOfTaintValue("ns_a_b"), "ns/a_b");
  EXPECT_EQ(PodKeyOfTaintValue("nounderscore"), "");
  EXPECT_EQ(PodKeyOfTaintValue("_x"), "");
  EXPECT_EQ(PodKeyOfTaintValue("x_"), "");
}

TEST(StartTest, FailedReleaseIsAWarningOnTheNode) {
  FakeClient client;
  client.AddNode("n1", {{kTaintKey, "a_x"}});
  client.FailRemoveTaint(absl::UnavailableError("apiserver down"));
  FakePlanner planner;
  Rescheduler r(&client, &planner, Options{});

  EXPECT_TRUE(r.Start().ok());

  EXPECT_THAT(client.EventStrings(),
              ElementsAre("Warning|FailedReleasingTaint|Node n1|releasing taint "
                          "CriticalAddonsOnly=a_x:NoSchedule: apiserver down"));
}

// ---------------------------------------------------------------------------
// RunOnce().

class RunOnceTest : public ::testing::Test {
 protected:
  RunOnceTest() {
    client_.AddNode("n1", {{"dedicated", "infra"}});
    client_.AddNode("n2");
    client_.AddNode("n3");
    dns_ = CriticalPod("kube-dns");
    web1_ = MakePod("default", "web-1");
    web2_ = MakePod("default", "web-2");
    web1_->owners = {Owner("ReplicaSet", "web-abc")};
    web2_->owners = {Owner("ReplicaSet", "web-abc")};
    client_.AddPod(web1_, /*unschedulable=*/false);
    client_.AddPod(web2_, /*unschedulable=*/false);
  }

  Rescheduler Make(Options options = Options{}) {
    return Rescheduler(&client_, &planner_, std::move(options));
  }

  FakeClient client_;
  FakePlanner planner_;
  std::shared_ptr<model::Pod> dns_, web1_, web2_;
};

TEST_F(RunOnceTest, ClearsANodeForAnUnschedulableCriticalPod) {
  client_.AddPod(dns_, /*unschedulable=*/true);
  planner_.Script(kDns, {Clear("n1", {web1_, web2_})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());

  ASSERT_EQ(planner_.calls.size(), 1u);
  EXPECT_EQ(planner_.calls[0].pod_key, kDns);
  EXPECT_EQ(planner_.calls[0].taint_value, kDnsId);
  EXPECT_THAT(planner_.calls[0].skip_nodes, IsEmpty());
  EXPECT_THAT(client_.add_taint_calls, ElementsAre("n1:kube-system_kube-dns"));
  EXPECT_THAT(client_.TaintsOn("n1"),
              ElementsAre("dedicated=infra", "CriticalAddonsOnly=kube-system_kube-dns"));
  EXPECT_THAT(client_.TaintsOn("n2"), IsEmpty());
  EXPECT_THAT(client_.remove_taint_calls, IsEmpty());
  EXPECT_THAT(client_.evict_calls, ElementsAre("default/web-1", "default/web-2"));
  EXPECT_THAT(client_.EventStrings(),
              ElementsAre(DeletedEvent("default/web-1", kDnsId),
                          DeletedEvent("default/web-2", kDnsId)));
  // Spelled out once, field by field.
  ASSERT_EQ(client_.events.size(), 2u);
  EXPECT_EQ(client_.events[0].object, "Pod default/web-1");
  EXPECT_EQ(client_.events[0].type, "Normal");
  EXPECT_EQ(client_.events[0].reason, "DeletedByRescheduler");
  EXPECT_EQ(client_.events[0].message,
            "Deleted by rescheduler in order to schedule critical pod kube-system_kube-dns.");
  EXPECT_TRUE(r.busy());
  EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-1", "default/web-2"));
  EXPECT_THAT(r.EvictedFor("kube-system/other"), IsEmpty());
}

TEST_F(RunOnceTest, CriticalByPriorityIsCleared) {
  auto critical = MakePod("default", "gold");
  critical->priority = model::kSystemCriticalPriority;
  client_.AddPod(critical, /*unschedulable=*/true);
  planner_.Script("default/gold", {Clear("n2", {web1_})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());

  EXPECT_THAT(client_.add_taint_calls, ElementsAre("n2:default_gold"));
  EXPECT_THAT(client_.EventStrings(), ElementsAre(DeletedEvent("default/web-1", "default_gold")));
  EXPECT_THAT(r.EvictedFor("default/gold"), ElementsAre("default/web-1"));
}

TEST_F(RunOnceTest, NonCriticalUnschedulablePodsAreIgnored) {
  auto plain = MakePod("default", "plain");
  auto annotated_elsewhere = MakePod("default", "annotated");
  annotated_elsewhere->critical_annotation = true;
  auto high = MakePod("kube-system", "high");
  high->priority = model::kSystemCriticalPriority - 1;
  client_.AddPod(plain, true);
  client_.AddPod(annotated_elsewhere, true);
  client_.AddPod(high, true);
  planner_.Script("default/plain", {Clear("n1", {web1_})});
  planner_.Script("default/annotated", {Clear("n1", {web1_})});
  planner_.Script("kube-system/high", {Clear("n1", {web1_})});
  Rescheduler r = Make();

  EXPECT_FALSE(r.RunOnce());

  EXPECT_THAT(planner_.calls, IsEmpty());
  EXPECT_THAT(client_.add_taint_calls, IsEmpty());
  EXPECT_THAT(client_.evict_calls, IsEmpty());
  EXPECT_THAT(client_.events, IsEmpty());
  EXPECT_FALSE(r.busy());
}

TEST_F(RunOnceTest, CriticalPodThatIsNotUnschedulableIsIgnored) {
  client_.AddPod(dns_, /*unschedulable=*/false);
  planner_.Script(kDns, {Clear("n1", {web1_})});
  Rescheduler r = Make();

  EXPECT_FALSE(r.RunOnce());
  EXPECT_THAT(planner_.calls, IsEmpty());
}

TEST_F(RunOnceTest, FindingsThatClearNothing) {
  struct Case {
    std::string name;
    absl::StatusOr<Finding> answer;
    std::vector<std::string> want_events;
  };
  const std::vector<Case> cases = {
      {"kFits", Fits("n2"), {}},
      {"kNoNode",
       NoNode("no node has enough evictable pods"),
       {"Warning|PodDoestFitAnyNode|Pod kube-system/kube-dns|Critical pod kube-system_kube-dns "
        "doesn't fit on any node: no node has enough evictable pods."}},
      {"planner error",
       absl::InternalError("filter plugin exploded"),
       {"Warning|FailedPlanning|Pod kube-system/kube-dns|filter plugin exploded"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClient client;
    client.AddNode("n1");
    client.AddPod(dns_, /*unschedulable=*/true);
    FakePlanner planner;
    planner.Script(kDns, {c.answer});
    Rescheduler r(&client, &planner, Options{});

    EXPECT_FALSE(r.RunOnce());

    EXPECT_THAT(planner.CalledFor(), ElementsAre(kDns));
    EXPECT_THAT(client.EventStrings(), ::testing::ElementsAreArray(c.want_events));
    EXPECT_THAT(client.add_taint_calls, IsEmpty());
    EXPECT_THAT(client.evict_calls, IsEmpty());
    EXPECT_FALSE(r.busy());
    EXPECT_THAT(r.EvictedFor(kDns), IsEmpty());

    // Not in flight: the next pass asks again.
    EXPECT_FALSE(r.RunOnce());
    EXPECT_THAT(planner.CalledFor(), ElementsAre(kDns, kDns));
  }
}

TEST_F(RunOnceTest, NoNodeMessageStartsWithThePodAndContainsTheWhy) {
  client_.AddPod(dns_, true);
  planner_.Script(kDns, {NoNode("clearing any of the 2 node(s) violates a PodDisruptionBudget")});
  Rescheduler r = Make();

  r.RunOnce();

  ASSERT_EQ(client_.events.size(), 1u);
  EXPECT_EQ(client_.events[0].type, "Warning");
  EXPECT_EQ(client_.events[0].reason, "PodDoestFitAnyNode");
  EXPECT_EQ(client_.events[0].object, "Pod kube-system/kube-dns");
  EXPECT_THAT(client_.events[0].message,
              StartsWith("Critical pod kube-system_kube-dns doesn't fit on any node: "));
  EXPECT_THAT(client_.events[0].message,
              HasSubstr("clearing any of the 2 node(s) violates a PodDisruptionBudget"));
}

TEST_F(RunOnceTest, PlannerErrorThenTheNextPodIsStillProcessed) {
  auto proxy = CriticalPod("kube-proxy");
  client_.AddPod(dns_, true);
  client_.AddPod(proxy, true);
  planner_.Script(kDns, {absl::InternalError("snapshot out of date")});
  planner_.Script("kube-system/kube-proxy", {Clear("n2", {web2_})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());

  EXPECT_THAT(planner_.CalledFor(), ElementsAre(kDns, "kube-system/kube-proxy"));
  EXPECT_THAT(client_.EventStrings(),
              ElementsAre("Warning|FailedPlanning|Pod kube-system/kube-dns|snapshot out of date",
                          DeletedEvent("default/web-2", "kube-system_kube-proxy")));
  EXPECT_THAT(client_.add_taint_calls, ElementsAre("n2:kube-system_kube-proxy"));
  EXPECT_TRUE(r.busy());
  EXPECT_THAT(r.EvictedFor(kDns), IsEmpty());
  EXPECT_THAT(r.EvictedFor("kube-system/kube-proxy"), ElementsAre("default/web-2"));
}

TEST_F(RunOnceTest, SecondCriticalPodInTheSamePassSkipsTheFirstsNode) {
  auto proxy = CriticalPod("kube-proxy");
  client_.AddPod(dns_, true);
  client_.AddPod(proxy, true);
  planner_.Script(kDns, {Clear("n1", {web1_})});
  planner_.Script("kube-system/kube-proxy", {Clear("n2", {web2_})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());

  ASSERT_EQ(planner_.calls.size(), 2u);
  EXPECT_THAT(planner_.calls[0].skip_nodes, IsEmpty());
  EXPECT_EQ(planner_.calls[1].pod_key, "kube-system/kube-proxy");
  EXPECT_EQ(planner_.calls[1].taint_value, "kube-system_kube-proxy");
  EXPECT_THAT(planner_.calls[1].skip_nodes, ElementsAre("n1"));
  EXPECT_THAT(client_.add_taint_calls,
              ElementsAre("n1:kube-system_kube-dns", "n2:kube-system_kube-proxy"));
}

TEST_F(RunOnceTest, PodInFlightIsNotPlannedAgainAndItsNodeIsSkipped) {
  client_.AddPod(dns_, true);
  planner_.Script(kDns, {Clear("n1", {web1_})});
  Rescheduler r = Make();
  ASSERT_TRUE(r.RunOnce());
  ASSERT_THAT(planner_.CalledFor(), ElementsAre(kDns));

  // Still pending and unschedulable: not planned again.
  client_.Advance(absl::Seconds(10));
  client_.ClearLogs();
  EXPECT_FALSE(r.RunOnce());
  EXPECT_THAT(planner_.CalledFor(), ElementsAre(kDns));
  EXPECT_THAT(client_.add_taint_calls, IsEmpty());
  EXPECT_THAT(client_.remove_taint_calls, IsEmpty());
  EXPECT_THAT(client_.evict_calls, IsEmpty());
  EXPECT_THAT(client_.TaintsOn("n1"),
              ElementsAre("dedicated=infra", "CriticalAddonsOnly=kube-system_kube-dns"));

  // Another critical pod turns up: planned with n1 skipped.
  auto proxy = CriticalPod("kube-proxy");
  client_.AddPod(proxy, true);
  planner_.Script("kube-system/kube-proxy", {Clear("n3", {web2_})});
  client_.Advance(absl::Seconds(10));
  EXPECT_TRUE(r.RunOnce());
  EXPECT_THAT(planner_.CalledFor(), ElementsAre(kDns, "kube-system/kube-proxy"));
  EXPECT_THAT(planner_.calls[1].skip_nodes, ElementsAre("n1"));
  EXPECT_THAT(client_.add_taint_calls, ElementsAre("n3:kube-system_kube-proxy"));

  // And a third skips both.
  auto metrics = CriticalPod("metrics-server");
  client_.AddPod(metrics, true);
  client_.Advance(absl::Seconds(10));
  r.RunOnce();
  ASSERT_EQ(planner_.calls.size(), 3u);
  EXPECT_EQ(planner_.calls[2].pod_key, "kube-system/metrics-server");
  EXPECT_THAT(planner_.calls[2].skip_nodes, ElementsAre("n1", "n3"));
}

TEST_F(RunOnceTest, EvictionAnswersOnTheFirstPassAndTheNext) {
  struct Case {
    std::string name;
    absl::Status answer;
    std::vector<std::string> want_events;   // first pass, after the taint
    bool retried;                           // Evict called again next pass
    std::vector<std::string> want_evicted;  // EvictedFor after the first pass
  };
  const std::vector<Case> cases = {
      {"OK", absl::OkStatus(), {DeletedEvent("default/web-1", kDnsId)}, false, {"default/web-1"}},
      {"429 (PodDisruptionBudget)",
       absl::ResourceExhaustedError("Cannot evict pod as it would violate the pod's disruption "
                                    "budget."),
       {},
       true,
       {}},
      {"NotFound", absl::NotFoundError("pods \"web-1\" not found"), {}, false, {}},
      {"other error",
       absl::UnavailableError("connection refused"),
       {"Warning|FailedEviction|Pod default/web-1|connection refused"},
       true,
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClient client;
    client.AddNode("n1");
    client.AddPod(dns_, true);
    client.AddPod(web1_, false);
    client.SetEvictAnswer("default/web-1", c.answer);
    FakePlanner planner;
    planner.Script(kDns, {Clear("n1", {web1_})});
    Rescheduler r(&client, &planner, Options{});

    EXPECT_TRUE(r.RunOnce());  // the taint, at least
    EXPECT_THAT(client.evict_calls, ElementsAre("default/web-1"));
    EXPECT_THAT(client.EventStrings(), ::testing::ElementsAreArray(c.want_events));
    EXPECT_THAT(r.EvictedFor(kDns), ::testing::ElementsAreArray(c.want_evicted));

    client.ClearLogs();
    client.Advance(absl::Seconds(10));
    EXPECT_FALSE(r.RunOnce());  // refused again, or nothing left to do
    if (c.retried) {
      EXPECT_THAT(client.evict_calls, ElementsAre("default/web-1"));
    } else {
      EXPECT_THAT(client.evict_calls, IsEmpty());
    }
    EXPECT_THAT(planner.calls.size(), 1u);
    EXPECT_TRUE(r.busy());
  }
}

TEST_F(RunOnceTest, RefusedEvictionIsRetriedUntilItSucceeds) {
  client_.AddPod(dns_, true);
  client_.SetEvictAnswer("default/web-1", absl::ResourceExhaustedError("429"));
  planner_.Script(kDns, {Clear("n1", {web1_, web2_})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());
  EXPECT_THAT(client_.evict_calls, ElementsAre("default/web-1", "default/web-2"));
  EXPECT_THAT(client_.EventStrings(), ElementsAre(DeletedEvent("default/web-2", kDnsId)));
  EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-2"));

  // Still refused: no event, nothing changed; web-2 is not evicted twice.
  client_.ClearLogs();
  client_.Advance(absl::Seconds(10));
  EXPECT_FALSE(r.RunOnce());
  EXPECT_THAT(client_.evict_calls, ElementsAre("default/web-1"));
  EXPECT_THAT(client_.events, IsEmpty());
  EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-2"));

  // The budget allows it now.
  client_.SetEvictAnswer("default/web-1", absl::OkStatus());
  client_.ClearLogs();
  client_.Advance(absl::Seconds(10));
  EXPECT_TRUE(r.RunOnce());
  EXPECT_THAT(client_.evict_calls, ElementsAre("default/web-1"));
  EXPECT_THAT(client_.EventStrings(), ElementsAre(DeletedEvent("default/web-1", kDnsId)));
  EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-2", "default/web-1"));
  EXPECT_TRUE(r.busy());

  // Nothing pending any more.
  client_.ClearLogs();
  client_.Advance(absl::Seconds(10));
  EXPECT_FALSE(r.RunOnce());
  EXPECT_THAT(client_.evict_calls, IsEmpty());
  EXPECT_THAT(client_.events, IsEmpty());
}

TEST_F(RunOnceTest, BoundOrGoneReleasesTheTaint) {
  struct Case {
    std::string name;
    PodPhase phase;
  };
  for (const Case& c :
       {Case{"bound", PodPhase::kBound}, Case{"gone", PodPhase::kGone}}) {
    SCOPED_TRACE(c.name);
    FakeClient client;
    client.AddNode("n1", {{"dedicated", "infra"}});
    client.AddNode("n2");
    client.AddPod(dns_, true);
    client.AddPod(web1_, false);
    client.AddPod(web2_, false);
    // web-2 stays refused: once the pod is done, it is no longer tried.
    client.SetEvictAnswer("default/web-2", absl::ResourceExhaustedError("429"));
    FakePlanner planner;
    planner.Script(kDns, {Clear("n1", {web1_, web2_})});
    Rescheduler r(&client, &planner, Options{});
    ASSERT_TRUE(r.RunOnce());
    ASSERT_TRUE(r.busy());

    client.SetPhase(kDns, c.phase);
    client.ClearLogs();
    client.Advance(absl::Seconds(10));
    EXPECT_TRUE(r.RunOnce());

    EXPECT_FALSE(r.busy());
    EXPECT_THAT(client.remove_taint_calls, ElementsAre("n1:kube-system_kube-dns"));
    EXPECT_THAT(client.TaintsOn("n1"), ElementsAre("dedicated=infra"));
    EXPECT_THAT(client.evict_calls, IsEmpty());
    EXPECT_THAT(client.events, IsEmpty());
    EXPECT_THAT(planner.calls.size(), 1u);
    // The history stays.
    EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-1"));

    // And nothing more to do.
    client.ClearLogs();
    EXPECT_FALSE(r.RunOnce());
    EXPECT_THAT(client.remove_taint_calls, IsEmpty());
  }
}

TEST_F(RunOnceTest, TimeoutWarnsAndReleasesTheTaint) {
  Options options;
  options.pod_scheduled_timeout = absl::Minutes(3);
  client_.AddPod(dns_, true);
  // After the timeout the pod may be planned again; here it fits as things
  // are, so nothing is cleared for it a second time.
  planner_.Script(kDns, {Clear("n1", {web1_}), Fits("n2")});
  Rescheduler r = Make(options);
  ASSERT_TRUE(r.RunOnce());
  ASSERT_TRUE(r.busy());

  // One second short of start + timeout: still waiting.
  client_.ClearLogs();
  client_.Advance(absl::Minutes(3) - absl::Seconds(1));
  EXPECT_FALSE(r.RunOnce());
  EXPECT_TRUE(r.busy());
  EXPECT_THAT(client_.events, IsEmpty());
  EXPECT_THAT(client_.remove_taint_calls, IsEmpty());
  EXPECT_THAT(planner_.calls.size(), 1u);

  // Exactly start + timeout.
  client_.Advance(absl::Seconds(1));
  ASSERT_EQ(client_.Now(), client_.start() + absl::Minutes(3));
  EXPECT_TRUE(r.RunOnce());
  EXPECT_FALSE(r.busy());
  EXPECT_THAT(client_.EventStrings(),
              ElementsAre("Warning|PodScheduledTimeout|Pod kube-system/kube-dns|Timeout while "
                          "waiting for pod kube-system_kube-dns to be scheduled after 3m."));
  EXPECT_THAT(client_.remove_taint_calls, ElementsAre("n1:kube-system_kube-dns"));
  EXPECT_THAT(client_.TaintsOn("n1"), ElementsAre("dedicated=infra"));
  EXPECT_THAT(client_.add_taint_calls, IsEmpty());
  EXPECT_THAT(r.EvictedFor(kDns), ElementsAre("default/web-1"));
}

TEST_F(RunOnceTest, TimeoutDropsPendingEvictions) {
  client_.AddPod(dns_, true);
  client_.SetEvictAnswer("default/web-1", absl::ResourceExhaustedError("429"));
  planner_.Script(kDns, {Clear("n1", {web1_}), NoNode("still nothing")});
  Rescheduler r = Make();
  ASSERT_TRUE(r.RunOnce());

  client_.ClearLogs();
  client_.Advance(Options{}.pod_scheduled_timeout);
  EXPECT_TRUE(r.RunOnce());

  EXPECT_THAT(client_.evict_calls, IsEmpty());
  ASSERT_EQ(client_.events.size(), 2u);
  EXPECT_EQ(client_.events[0].reason, "PodScheduledTimeout");
  EXPECT_EQ(client_.events[0].message,
            "Timeout while waiting for pod kube-system_kube-dns to be scheduled after 10m.");
  // No longer in flight, so the same pass plans it again (1.4 retried too).
  EXPECT_EQ(client_.events[1].reason, "PodDoestFitAnyNode");
  EXPECT_THAT(planner_.CalledFor(), ElementsAre(kDns, kDns));
  EXPECT_FALSE(r.busy());
}

TEST_F(RunOnceTest, BoundBeforeTheTimeoutIsNoTimeout) {
  client_.AddPod(dns_, true);
  planner_.Script(kDns, {Clear("n1", {})});
  Rescheduler r = Make();
  ASSERT_TRUE(r.RunOnce());

  client_.SetPhase(kDns, PodPhase::kBound);
  client_.Advance(absl::Hours(1));
  client_.ClearLogs();
  EXPECT_TRUE(r.RunOnce());
  EXPECT_THAT(client_.events, IsEmpty());
  EXPECT_THAT(client_.remove_taint_calls, ElementsAre("n1:kube-system_kube-dns"));
}

TEST_F(RunOnceTest, ReturnsFalseWhenNothingChanged) {
  Rescheduler r = Make();
  EXPECT_FALSE(r.RunOnce());  // nothing unschedulable at all

  client_.AddPod(dns_, true);
  planner_.Script(kDns, {Clear("n1", {})});
  EXPECT_TRUE(r.RunOnce());  // the taint
  EXPECT_THAT(client_.evict_calls, IsEmpty());
  client_.ClearLogs();
  client_.Advance(absl::Seconds(10));
  EXPECT_FALSE(r.RunOnce());  // waiting for the pod to be bound
  EXPECT_FALSE(r.RunOnce());
  EXPECT_THAT(client_.add_taint_calls, IsEmpty());
  EXPECT_THAT(client_.remove_taint_calls, IsEmpty());
  EXPECT_THAT(client_.events, IsEmpty());
}

TEST_F(RunOnceTest, ReleasesStaleTaintsButKeepsThoseInFlight) {
  client_.AddNode("stale", {{kTaintKey, "kube-system_old"}, {"other", "x"}});
  client_.AddPod(dns_, true);
  planner_.Script(kDns, {Clear("n1", {})});
  Rescheduler r = Make();

  EXPECT_TRUE(r.RunOnce());

  EXPECT_THAT(client_.remove_taint_calls, ElementsAre("stale:kube-system_old"));
  EXPECT_THAT(client_.TaintsOn("stale"), ElementsAre("other=x"));
  EXPECT_THAT(client_.TaintsOn("n1"),
              ElementsAre("dedicated=infra", "CriticalAddonsOnly=kube-system_kube-dns"));

  // A stale taint alone is a change.
  client_.ClearLogs();
  client_.AddNode("stale2", {{kTaintKey, "kube-system_older"}});
  EXPECT_TRUE(r.RunOnce());
  EXPECT_THAT(client_.remove_taint_calls, ElementsAre("stale2:kube-system_older"));
}

TEST_F(RunOnceTest, FailedTaintingIsAWarningAndNothingIsEvicted) {
  client_.AddPod(dns_, true);
  planner_.Script(kDns, {Clear("gone-node", {web1_})});
  Rescheduler r = Make();

  EXPECT_FALSE(r.RunOnce());

  EXPECT_THAT(client_.add_taint_calls, ElementsAre("gone-node:kube-system_kube-dns"));
  EXPECT_THAT(client_.EventStrings(),
              ElementsAre("Warning|FailedTainting|Pod kube-system/kube-dns|tainting node "
                          "gone-node: nodes \"gone-node\" not found"));
  EXPECT_THAT(client_.evict_calls, IsEmpty());
  EXPECT_FALSE(r.busy());
  EXPECT_THAT(r.EvictedFor(kDns), IsEmpty());
}

TEST_F(RunOnceTest, EligibleRejectsCriticalMirrorAndDaemonSetPods) {
  auto plain = MakePod("default", "plain");
  auto by_priority = MakePod("default", "gold");
  by_priority->priority = model::kSystemCriticalPriority;
  auto annotated = CriticalPod("addon");
  auto annotated_elsewhere = MakePod("default", "annotated");
  annotated_elsewhere->critical_annotation = true;
  auto mirror = MakePod("kube-system", "etcd-n1");
  mirror->mirror = true;
  auto ds = MakePod("kube-system", "fluentd-1");
  ds->owners = {Owner("DaemonSet", "fluentd")};
  auto rs = MakePod("default", "web-x");
  rs->owners = {Owner("ReplicaSet", "web-abc")};
  planner_.probes = {plain, by_priority, annotated, annotated_elsewhere, mirror, ds, rs};
  client_.AddPod(dns_, true);
  Rescheduler r = Make();

  r.RunOnce();

  ASSERT_EQ(planner_.calls.size(), 1u);
  EXPECT_THAT(planner_.calls[0].eligible,
              ElementsAre(true, false, false, true, false, false, true));
}

TEST_F(RunOnceTest, EligibleAndCriticalityFollowTheSystemNamespaceOption) {
  Options options;
  options.system_namespace = "addons";
  auto addon = MakePod("addons", "dns");
  addon->critical_annotation = true;
  auto kube_system_annotated = CriticalPod("legacy");  // not critical under "addons"
  client_.AddPod(addon, true);
  client_.AddPod(kube_system_annotated, true);
  planner_.probes = {addon, kube_system_annotated};
  Rescheduler r = Make(options);

  r.RunOnce();

  EXPECT_THAT(planner_.CalledFor(), ElementsAre("addons/dns"));
  ASSERT_EQ(planner_.calls.size(), 1u);
  EXPECT_EQ(planner_.calls[0].taint_value, "addons_dns");
  EXPECT_THAT(planner_.calls[0].eligible, ElementsAre(false, true));
}

}  // namespace
}  // namespace kestrel::rescheduler
