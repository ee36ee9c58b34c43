// `kestrel scheduler` end to end, in process: a SchedulerHost against the
// in-repo API server over HTTP (kube/testing), as a cluster would run it.
// Each test waits for what the server shows (bindings, conditions, events)
// with a generous deadline: a hang guard, not a timing claim.

#include "host/scheduler_host.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"

namespace kestrel::host {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

Json NodeJson(const std::string& name, const std::string& cpu, const std::string& memory = "8Gi") {
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"status",
           {{"capacity", {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}}},
            {"allocatable", {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}}},
            {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

Json PodJson(const std::string& name, const std::string& cpu, int priority = 0,
             const std::string& scheduler = "default-scheduler") {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"namespace", "default"}, {"name", name}}},
          {"spec",
           {{"schedulerName", scheduler},
            {"priority", priority},
            {"containers",
             Json::array({{{"name", "c"},
                           {"image", "registry.k8s.io/pause:3.9"},
                           {"resources", {{"requests", {{"cpu", cpu}}}}}}})}}},
          {"status", {{"phase", "Pending"}}}};
}

class SchedulerHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::testing::FakeApiServerOptions server_options;
    server_options.bookmark_interval = absl::Seconds(1);
    auto server = kube::testing::FakeApiServer::Start(server_options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  void TearDown() override {
    if (host_ != nullptr) host_->Stop();
  }

  // Starts a host with `config` (upstream's default when not given).
  void StartHost(std::optional<config::KubeSchedulerConfiguration> config = std::nullopt,
                 bool with_rescheduler = false) {
    kube::Config kube_config;
    kube_config.server = server_->url();
    kube::ClientOptions client_options;
    client_options.qps = -1;
    client_options.initial_backoff = absl::Milliseconds(10);
    client_options.max_backoff = absl::Milliseconds(100);
    auto client = kube::Client::Create(kube_config, client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    SchedulerHostOptions options;
    options.config = config.has_value() ? *config : scheduler::DefaultConfig();
    options.config.set_podinitialbackoffseconds(1);
    options.config.set_podmaxbackoffseconds(1);
    options.leader_election.leader_elect = false;
    options.serve = false;
    options.threads = 2;
    options.hostname = "test-host";
    options.reflector.backoff.initial = absl::Milliseconds(10);
    options.reflector.backoff.cap = absl::Milliseconds(100);
    options.rescheduler = with_rescheduler;
    options.rescheduler_options.housekeeping_interval = absl::Milliseconds(100);
    options.rescheduler_options.initial_delay = absl::ZeroDuration();
    host_ = std::make_unique<SchedulerHost>(std::shared_ptr<kube::Client>(*std::move(client)),
                                            std::move(options));
    ASSERT_TRUE(host_->Start().ok());
  }

  Json Pod(const std::string& name) {
    absl::StatusOr<Json> pod = server_->Get("Pod", "default", name);
    return pod.ok() ? *pod : Json();
  }

  std::string NodeOf(const std::string& name) {
    const Json pod = Pod(name);
    if (!pod.is_object()) return "";
    return pod["spec"].value("nodeName", "");
  }

  // Waits until `done` holds; false after 30 s.
  static bool Eventually(const std::function<bool()>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }

  // The events about pod `name` with `reason`.
  std::vector<Json> EventsFor(const std::string& name, const std::string& reason) {
    std::vector<Json> out;
    for (const Json& e : server_->Events()) {
      if (e["involvedObject"].value("name", "") == name && e.value("reason", "") == reason) {
        out.push_back(e);
      }
    }
    return out;
  }

  // The pod's PodScheduled condition, or null.
  Json ScheduledCondition(const std::string& name) {
    const Json pod = Pod(name);
    if (!pod.is_object()) return Json();
    for (const Json& c : pod["status"].value("conditions", Json::array())) {
      if (c.value("type", "") == "PodScheduled") return c;
    }
    return Json();
  }

  std::unique_ptr<kube::testing::FakeApiServer> server_;
  std::unique_ptr<SchedulerHost> host_;
};

TEST_F(SchedulerHostTest, BindsEveryPodOnceWithAScheduledEvent) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(server_->Create(NodeJson(absl::StrCat("node-", i), "4").dump()).ok());
  }
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(server_->Create(PodJson(absl::StrCat("p", i), "100m").dump()).ok());
  }
  StartHost();
  // Pods created after the start are scheduled too.
  for (int i = 40; i < 60; ++i) {
    ASSERT_TRUE(server_->Create(PodJson(absl::StrCat("p", i), "100m").dump()).ok());
  }
  ASSERT_TRUE(Eventually([&] {
    for (int i = 0; i < 60; ++i) {
      if (NodeOf(absl::StrCat("p", i)).empty()) return false;
    }
    return true;
  }));
  ASSERT_TRUE(Eventually([&] {
    for (int i = 0; i < 60; ++i) {
      if (EventsFor(absl::StrCat("p", i), "Scheduled").size() != 1) return false;
    }
    return true;
  }));
  std::map<std::string, int> per_node;
  for (int i = 0; i < 60; ++i) {
    const std::string name = absl::StrCat("p", i);
    const std::string node = NodeOf(name);
    ++per_node[node];
    const std::vector<Json> events = EventsFor(name, "Scheduled");
    ASSERT_EQ(events.size(), 1u) << name;
    EXPECT_EQ(events[0].value("message", ""),
              absl::StrCat("Successfully assigned default/", name, " to ", node));
    EXPECT_EQ(events[0].value("type", ""), "Normal");
    EXPECT_EQ(events[0].value("reportingComponent", ""), "default-scheduler");
    EXPECT_EQ(events[0].value("reportingInstance", ""), "default-scheduler-test-host");
  }
  // Every node scored, spread by NodeResourcesFit's LeastAllocated.
  EXPECT_EQ(per_node.size(), 4u);
  for (const auto& [node, n] : per_node) EXPECT_EQ(n, 15) << node;
}

TEST_F(SchedulerHostTest, UnschedulablePodGetsConditionAndEventThenBindsWhenANodeIsAdded) {
  ASSERT_TRUE(server_->Create(NodeJson("small", "1").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("big", "3").dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return ScheduledCondition("big").is_object(); }));
  const Json condition = ScheduledCondition("big");
  EXPECT_EQ(condition.value("status", ""), "False");
  EXPECT_EQ(condition.value("reason", ""), "Unschedulable");
  // As upstream's: the pod asks for more than the node's allocatable
  // (NodeResourcesFit's unresolvable case), and FitError.Error() appends
  // the PostFilter message with its own period.
  const std::string message =
      "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 "
      "Preemption is not helpful for scheduling..";
  EXPECT_EQ(condition.value("message", ""), message);
  ASSERT_TRUE(Eventually([&] { return !EventsFor("big", "FailedScheduling").empty(); }));
  const Json event = EventsFor("big", "FailedScheduling")[0];
  EXPECT_EQ(event.value("type", ""), "Warning");
  EXPECT_EQ(event.value("message", ""), message);
  EXPECT_EQ(NodeOf("big"), "");

  // A node that fits: NodeResourcesFit registered NodeAdd, so the pod
  // leaves unschedulablePods on this event, not on the 5-minute timer.
  ASSERT_TRUE(server_->Create(NodeJson("large", "4").dump()).ok());
  ASSERT_TRUE(Eventually([&] { return NodeOf("big") == "large"; }));
  ASSERT_TRUE(Eventually([&] { return EventsFor("big", "Scheduled").size() == 1; }));
}

TEST_F(SchedulerHostTest, PreemptionMarksDeletesAndNominatesThenBinds) {
  ASSERT_TRUE(server_->Create(NodeJson("only", "2").dump()).ok());
  Json victim = PodJson("low", "2", /*priority=*/1);
  ASSERT_TRUE(server_->Create(victim.dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return NodeOf("low") == "only"; }));
  // The victim runs; the kubelet would say so.
  Json running = Pod("low");
  running["status"]["phase"] = "Running";
  ASSERT_TRUE(server_->Update(running).ok());

  ASSERT_TRUE(server_->Create(PodJson("high", "2", /*priority=*/1000).dump()).ok());
  // The victim: DisruptionTarget, then a graceful delete (deletionTimestamp).
  ASSERT_TRUE(Eventually([&] {
    const Json pod = Pod("low");
    return pod.is_object() && pod["metadata"].contains("deletionTimestamp");
  }));
  bool disruption = false;
  const Json low = Pod("low");
  for (const Json& c : low["status"]["conditions"]) {
    if (c.value("type", "") == "DisruptionTarget") {
      disruption = true;
      EXPECT_EQ(c.value("reason", ""), "PreemptionByScheduler");
      EXPECT_EQ(c.value("message", ""),
                "default-scheduler: preempting to accommodate a higher priority pod");
    }
  }
  EXPECT_TRUE(disruption) << low.dump();
  ASSERT_TRUE(Eventually([&] { return EventsFor("low", "Preempted").size() == 1; }));
  EXPECT_EQ(EventsFor("low", "Preempted")[0].value("message", ""),
            absl::StrCat("Preempted by pod ", Pod("high")["metadata"].value("uid", ""),
                         " on node only"));
  // The preemptor is nominated and waits: the victim still holds the node
  // while it terminates.
  ASSERT_TRUE(Eventually([&] {
    return Pod("high")["status"].value("nominatedNodeName", "") == "only";
  }));
  EXPECT_EQ(NodeOf("high"), "");
  // The kubelet finishes; the deletion moves the preemptor, which binds.
  ASSERT_TRUE(server_->FinishDeletion("default", "low").ok());
  ASSERT_TRUE(Eventually([&] { return NodeOf("high") == "only"; }));
}

TEST_F(SchedulerHostTest, PodsOfAnotherSchedulerAreLeftAloneAndTwoProfilesBindTheirOwn) {
  config::KubeSchedulerConfiguration config = scheduler::DefaultConfig();
  config.clear_profiles();
  config.add_profiles()->set_schedulername("default-scheduler");
  config.add_profiles()->set_schedulername("kestrel-second");
  ASSERT_TRUE(server_->Create(NodeJson("n", "4").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("mine", "100m").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("second", "100m", 0, "kestrel-second").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("theirs", "100m", 0, "someone-else").dump()).ok());
  StartHost(config);
  ASSERT_TRUE(Eventually([&] { return NodeOf("mine") == "n" && NodeOf("second") == "n"; }));
  ASSERT_TRUE(Eventually([&] { return EventsFor("second", "Scheduled").size() == 1; }));
  EXPECT_EQ(EventsFor("second", "Scheduled")[0].value("reportingComponent", ""), "kestrel-second");
  // Give the other scheduler's pod every chance to be touched wrongly.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(NodeOf("theirs"), "");
  EXPECT_FALSE(ScheduledCondition("theirs").is_object());
  EXPECT_TRUE(EventsFor("theirs", "FailedScheduling").empty());
}

TEST_F(SchedulerHostTest, PodWithAPersistentVolumeClaimIsNotBoundAndSaysWhy) {
  ASSERT_TRUE(server_->Create(NodeJson("n", "4").dump()).ok());
  Json pod = PodJson("db", "100m");
  pod["spec"]["volumes"] = Json::array(
      {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "db-data"}}}},
       {{"name", "tmp"}, {"emptyDir", Json::object()}}});
  ASSERT_TRUE(server_->Create(pod.dump()).ok());
  Json ephemeral = PodJson("web", "100m");
  ephemeral["spec"]["volumes"] = Json::array({{{"name", "tmp"}, {"emptyDir", Json::object()}}});
  ASSERT_TRUE(server_->Create(ephemeral.dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return NodeOf("web") == "n"; }));
  ASSERT_TRUE(Eventually([&] { return ScheduledCondition("db").is_object(); }));
  const Json condition = ScheduledCondition("db");
  EXPECT_EQ(condition.value("reason", ""), "Unschedulable");
  EXPECT_THAT(condition.value("message", ""),
              HasSubstr("pod references PersistentVolumeClaim \"db-data\""));
  EXPECT_THAT(condition.value("message", ""), HasSubstr("no VolumeBinding plugin"));
  ASSERT_TRUE(Eventually([&] { return !EventsFor("db", "FailedScheduling").empty(); }));
  EXPECT_EQ(NodeOf("db"), "");
}

// spec.schedulingGates (the SchedulingGates PreEnqueue plugin): the pod is
// not tried while a gate is left, so no binding, no FailedScheduling event,
// and the API server's SchedulingGated condition stays; the update that
// removes the last gate lets it bind.
TEST_F(SchedulerHostTest, GatedPodWaitsForItsGatesThenBinds) {
  ASSERT_TRUE(server_->Create(NodeJson("n", "4").dump()).ok());
  Json gated = PodJson("gated", "100m");
  gated["spec"]["schedulingGates"] =
      Json::array({{{"name", "example.com/quota"}}, {{"name", "example.com/review"}}});
  // Through the API, whose create sets the SchedulingGated condition.
  kube::Config kube_config;
  kube_config.server = server_->url();
  auto client = kube::Client::Create(kube_config);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Post("/api/v1/namespaces/default/pods", gated.dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("free", "100m").dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return NodeOf("free") == "n"; }));
  // Both pods arrived in the same list: "free" bound, "gated" was held.
  ASSERT_TRUE(Eventually([&] { return host_->queue_stats().gated == 1; }));
  EXPECT_EQ(NodeOf("gated"), "");
  EXPECT_TRUE(EventsFor("gated", "FailedScheduling").empty());
  Json condition = ScheduledCondition("gated");
  EXPECT_EQ(condition.value("reason", ""), "SchedulingGated");
  EXPECT_EQ(condition.value("message", ""),
            "Scheduling is blocked due to non-empty scheduling gates");

  // One gate lifted: still held.
  Json pod = Pod("gated");
  pod["spec"]["schedulingGates"] = Json::array({{{"name", "example.com/review"}}});
  ASSERT_TRUE(server_->Update(pod).ok());
  // The last one: scheduled.
  pod = Pod("gated");
  ASSERT_EQ(pod["spec"]["schedulingGates"].size(), 1u);
  pod["spec"].erase("schedulingGates");
  ASSERT_TRUE(server_->Update(pod).ok());
  ASSERT_TRUE(Eventually([&] { return NodeOf("gated") == "n"; }));
  ASSERT_TRUE(Eventually([&] { return EventsFor("gated", "Scheduled").size() == 1; }));
  EXPECT_TRUE(EventsFor("gated", "FailedScheduling").empty());
}

TEST_F(SchedulerHostTest, DeletedPendingPodLeavesTheQueue) {
  ASSERT_TRUE(server_->Create(NodeJson("n", "1").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("big", "3").dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return ScheduledCondition("big").is_object(); }));
  // The event follows the condition's patch on the writer: counted below
  // only once it is there.
  ASSERT_TRUE(Eventually([&] { return !EventsFor("big", "FailedScheduling").empty(); }));
  kube::Config kube_config;
  kube_config.server = server_->url();
  auto client = kube::Client::Create(kube_config);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Delete("/api/v1/namespaces/default/pods/big").ok());
  // A node that would fit comes; nothing is bound (the pod is gone) and no
  // new event is written for it.
  const size_t events = EventsFor("big", "FailedScheduling").size();
  ASSERT_TRUE(server_->Create(NodeJson("large", "4").dump()).ok());
  ASSERT_TRUE(server_->Create(PodJson("after", "100m").dump()).ok());
  ASSERT_TRUE(Eventually([&] { return !NodeOf("after").empty(); }));
  EXPECT_EQ(EventsFor("big", "FailedScheduling").size(), events);
  EXPECT_TRUE(EventsFor("big", "Scheduled").empty());
}

// A pending pod whose affinity term selects pods by namespace labels is
// moved back when a matching pod is bound in a namespace with those labels
// (upstream's AssignedPodAdd with the namespace's labels), not after the
// 5-minute flush.
TEST_F(SchedulerHostTest, BoundPodInALabelledNamespaceMovesAPodWaitingForIt) {
  ASSERT_TRUE(server_->Create(NodeJson("n", "4").dump()).ok());
  Json team = {{"kind", "Namespace"},
               {"apiVersion", "v1"},
               {"metadata", {{"name", "team-a"}, {"labels", {{"team", "a"}}}}}};
  ASSERT_TRUE(server_->Create(team.dump()).ok());
  Json follower = PodJson("follower", "100m");
  follower["spec"]["affinity"] = {
      {"podAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         Json::array({{{"labelSelector", {{"matchLabels", {{"app", "leader"}}}}},
                       {"namespaceSelector", {{"matchLabels", {{"team", "a"}}}}},
                       {"topologyKey", "kubernetes.io/hostname"}}})}}}};
  ASSERT_TRUE(server_->Create(follower.dump()).ok());
  StartHost();
  ASSERT_TRUE(Eventually([&] { return ScheduledCondition("follower").is_object(); }));
  EXPECT_EQ(NodeOf("follower"), "");
  Json leader = PodJson("leader", "100m", 0, "someone-else");
  leader["metadata"]["namespace"] = "team-a";
  leader["metadata"]["labels"] = {{"app", "leader"}};
  leader["spec"]["nodeName"] = "n";
  leader["status"]["phase"] = "Running";
  ASSERT_TRUE(server_->Create(leader.dump()).ok());
  ASSERT_TRUE(Eventually([&] { return NodeOf("follower") == "n"; }));
}

// `kestrel scheduler --rescheduler`: the 1.4 rescheduler on the scheduler's
// informers. A critical add-on pod (kube-system, the critical-pod
// annotation) at priority 0 cannot preempt; the rescheduler taints a node,
// evicts what is in the way, and the scheduler binds the pod there.
TEST_F(SchedulerHostTest, InProcessReschedulerMakesRoomForACriticalPod) {
  ASSERT_TRUE(server_->Create(NodeJson("only", "2").dump()).ok());
  Json ns = {{"kind", "Namespace"}, {"apiVersion", "v1"}, {"metadata", {{"name", "kube-system"}}}};
  ASSERT_TRUE(server_->Create(ns.dump()).ok());
  Json filler = PodJson("filler", "2");
  filler["spec"]["nodeName"] = "only";
  filler["status"]["phase"] = "Running";
  ASSERT_TRUE(server_->Create(filler.dump()).ok());
  Json critical = PodJson("dns", "1");
  critical["metadata"]["namespace"] = "kube-system";
  critical["metadata"]["annotations"] = {{"scheduler.alpha.kubernetes.io/critical-pod", ""}};
  // As 1.4's critical add-ons do: the node the rescheduler clears is
  // tainted CriticalAddonsOnly, which only they tolerate.
  critical["spec"]["tolerations"] = Json::array({{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}}});
  ASSERT_TRUE(server_->Create(critical.dump()).ok());
  StartHost(std::nullopt, /*with_rescheduler=*/true);
  // The rescheduler evicts the filler (a graceful delete); the kubelet
  // finishes it.
  ASSERT_TRUE(Eventually([&] {
    const Json pod = Pod("filler");
    return pod.is_object() && pod["metadata"].contains("deletionTimestamp");
  })) << [&] {
    std::string out;
    for (const Json& e : server_->Events()) out += e.dump() + "\n";
    absl::StatusOr<Json> dns = server_->Get("Pod", "kube-system", "dns");
    return out + (dns.ok() ? dns->dump() : "");
  }();
  ASSERT_TRUE(server_->FinishDeletion("default", "filler").ok());
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<Json> pod = server_->Get("Pod", "kube-system", "dns");
    return pod.ok() && (*pod)["spec"].value("nodeName", "") == "only";
  }));
}

}  // namespace
}  // namespace kestrel::host
