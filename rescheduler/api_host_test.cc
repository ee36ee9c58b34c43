// The rescheduler against an API server (rescheduler/api_host.h), end to
// end over HTTP with the in-repo fake API server (kube/testing), since no
// real kube-apiserver can run here: the view built from the server's lists,
// the node chosen with the scheduler's profile and budgets, the taint
// patched with the node's resourceVersion (and again after a 409), victims
// evicted through the Eviction API (a 429 tried again next pass; an evicted
// pod stays, terminating, as the server deletes it gracefully), events
// posted, the taint released once the pod is bound, stale taints released
// at start and live ones adopted, one event per eviction whatever happens
// around it, optional lists that may be refused, and a view fed from a
// host's own informers.

#include "rescheduler/api_host.h"

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/client.h"
#include "kube/fake_clock.h"
#include "kube/http_list_watch.h"
#include "kube/informer.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"

namespace kestrel::rescheduler {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using nlohmann::json;

json Node(const std::string& name, const json& taints = json::array()) {
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"spec", {{"taints", taints}}},
          {"status",
           {{"allocatable", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}},
            {"capacity", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}}}}};
}

json RunningPod(const std::string& name, const std::string& node, const std::string& app) {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
          {"spec",
           {{"nodeName", node},
            {"containers",
             {{{"name", "c"}, {"image", "busybox"},
               {"resources", {{"requests", {{"cpu", "1500m"}}}}}}}}}},
          {"status", {{"phase", "Running"}}}};
}

// kube-dns as the addon manager creates it, left unschedulable by the
// scheduler: PodScheduled=False, reason Unschedulable.
json KubeDns(bool tolerates = true, bool marked = true) {
  json spec = {{"priorityClassName", "system-cluster-critical"},
               {"containers",
                {{{"name", "dns"}, {"image", "coredns"},
                  {"resources", {{"requests", {{"cpu", "1"}}}}}}}}};
  if (tolerates) {
    spec["tolerations"] = {{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}}};
  }
  json status = {{"phase", "Pending"}};
  if (marked) {
    status["conditions"] = {{{"type", "PodScheduled"},
                             {"status", "False"},
                             {"reason", "Unschedulable"},
                             {"message", "0/2 nodes are available: 2 Insufficient cpu."}}};
  }
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", "kube-dns"}, {"namespace", "kube-system"}}},
          {"spec", spec},
          {"status", status}};
}

json Budget(const std::string& name, const std::string& app, int allowed) {
  return {{"kind", "PodDisruptionBudget"},
          {"apiVersion", "policy/v1"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", app}}}}}}},
          {"status",
           {{"disruptionsAllowed", allowed},
            {"currentHealthy", 1},
            {"desiredHealthy", 1},
            {"expectedPods", 1}}}};
}

class ApiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = kube::testing::FakeApiServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    kube_config_.server = server_->url();
    kube::ClientOptions options;
    options.clock = &clock_;  // retries wait on it, not on the wall clock
    auto client = kube::Client::Create(kube_config_, options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    cluster_ = NewCluster();
    rescheduler_ = std::make_unique<Rescheduler>(cluster_.get(), cluster_->planner(), options_);
  }

  std::unique_ptr<ApiCluster> NewCluster() {
    ApiClusterOptions options;
    options.on_error = [this](const absl::Status& s) {
      std::lock_guard<std::mutex> lock(errors_mu_);
      errors_.push_back(std::string(s.message()));
    };
    options.clock = &clock_;
    return std::make_unique<ApiCluster>(client_, scheduler::DefaultConfig(), options);
  }

  // A new process: a fresh view (its informers list again) and a
  // rescheduler that remembers nothing.
  void Restart() {
    rescheduler_.reset();
    cluster_ = NewCluster();
    rescheduler_ = std::make_unique<Rescheduler>(cluster_.get(), cluster_->planner(), options_);
  }

  std::string NodeVersion(const std::string& node) {
    absl::StatusOr<json> n = server_->Get("Node", "", node);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? (*n)["metadata"].value("resourceVersion", "") : "";
  }

  int Count(const std::string& event_line) {
    int n = 0;
    for (const std::string& line : EventLines()) n += line == event_line ? 1 : 0;
    return n;
  }

  // Waits until the view's informer of `kind` has the server's latest
  // change (which must be of that kind), then refreshes the view.
  void SyncAndRefresh(const std::string& kind) {
    ASSERT_TRUE(cluster_->WaitForResourceVersion(kind, server_->resource_version(),
                                                 absl::Minutes(1)));
    ASSERT_TRUE(cluster_->Refresh().ok());
  }

  // The same, up to the current version of one pod.
  void SyncPodAndRefresh(const std::string& ns, const std::string& name) {
    SyncObjectAndRefresh("Pod", ns, name);
  }

  // The same, up to the current version of one object of `kind`.
  void SyncObjectAndRefresh(const std::string& kind, const std::string& ns,
                            const std::string& name) {
    absl::StatusOr<json> object = server_->Get(kind, ns, name);
    ASSERT_TRUE(object.ok()) << object.status();
    const int64_t version =
        std::stoll((*object)["metadata"]["resourceVersion"].get<std::string>());
    ASSERT_TRUE(cluster_->WaitForResourceVersion(kind, version, absl::Minutes(1)));
    ASSERT_TRUE(cluster_->Refresh().ok());
  }

  std::vector<std::string> Errors() {
    std::lock_guard<std::mutex> lock(errors_mu_);
    return errors_;
  }

  std::vector<std::string> NodeNames() {
    std::vector<std::string> out;
    for (const model::NodePtr& n : cluster_->ListNodes()) out.push_back(n->name);
    return out;
  }

  // Two full nodes: web on n1 (under `web_budget` disruptions allowed, no
  // budget when negative), batch on n2; kube-dns pending.
  void LoadFullCluster(int web_budget, const json& dns = KubeDns()) {
    for (const json& o : {Node("n1"), Node("n2"), RunningPod("web", "n1", "web"),
                          RunningPod("batch", "n2", "batch"), dns}) {
      ASSERT_TRUE(server_->Create(o.dump()).ok()) << o.dump();
    }
    // A real server lists the built-in classes too.
    for (const auto& [name, value] : {std::pair<const char*, int64_t>{"system-cluster-critical",
                                                                      2000000000},
                                      {"system-node-critical", 2000001000}}) {
      const json pc = {{"kind", "PriorityClass"},
                       {"apiVersion", "scheduling.k8s.io/v1"},
                       {"metadata", {{"name", name}}},
                       {"value", value},
                       {"description", "built-in"}};
      ASSERT_TRUE(server_->Create(pc.dump()).ok());
    }
    if (web_budget >= 0) {
      ASSERT_TRUE(server_->Create(Budget("web", "web", web_budget).dump()).ok());
    }
  }

  absl::Status Run(int passes) {
    return RunPasses(*cluster_, *rescheduler_, options_, passes,
                     [this](absl::Duration d) { sleeps_.push_back(d); });
  }

  std::vector<std::string> TaintsOn(const std::string& node) {
    std::vector<std::string> out;
    absl::StatusOr<json> n = server_->Get("Node", "", node);
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || !(*n)["spec"].contains("taints")) return out;
    for (const json& t : (*n)["spec"]["taints"]) {
      out.push_back(absl::StrCat(t.value("key", ""), "=", t.value("value", ""), ":",
                                 t.value("effect", "")));
    }
    return out;
  }

  // Evicted: the API server deletes a running pod gracefully, so it stays,
  // with a deletionTimestamp, until its kubelet (nobody, here) finishes.
  bool Evicted(const std::string& ns, const std::string& name) {
    absl::StatusOr<json> pod = server_->Get("Pod", ns, name);
    return pod.ok() && (*pod)["metadata"].contains("deletionTimestamp");
  }

  // There and not being deleted.
  bool Untouched(const std::string& ns, const std::string& name) {
    return server_->Get("Pod", ns, name).ok() && !Evicted(ns, name);
  }

  // "Kind ns/name Type Reason" of every event the server got.
  std::vector<std::string> EventLines() {
    std::vector<std::string> out;
    for (const json& e : server_->Events()) {
      const json& o = e["involvedObject"];
      out.push_back(absl::StrCat(o.value("kind", ""), " ",
                                 o.contains("namespace") ? o.value("namespace", "") + "/" : "",
                                 o.value("name", ""), " ", e.value("type", ""), " ",
                                 e.value("reason", "")));
    }
    return out;
  }

  Options options_;
  std::unique_ptr<kube::testing::FakeApiServer> server_;
  kube::AutoAdvanceClock clock_;
  kube::Config kube_config_;
  std::mutex errors_mu_;
  std::vector<std::string> errors_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<ApiCluster> cluster_;
  std::unique_ptr<Rescheduler> rescheduler_;
  std::vector<absl::Duration> sleeps_;
};

constexpr char kDnsTaint[] = "CriticalAddonsOnly=kube-system_kube-dns:NoSchedule";

TEST_F(ApiHostTest, ClearsTheNodeTheBudgetAllowsThenReleasesItOnceBound) {
  // web's budget allows no disruption: n2 (batch) is the node to clear.
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(sleeps_, ElementsAre(options_.initial_delay));
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_THAT(TaintsOn("n1"), IsEmpty());
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_TRUE(Untouched("default", "web"));
  EXPECT_THAT(EventLines(), ElementsAre("Pod default/batch Normal DeletedByRescheduler"));
  const json event = server_->Events()[0];
  EXPECT_EQ(event["message"],
            "Deleted by rescheduler in order to schedule critical pod kube-system_kube-dns.");
  EXPECT_EQ(event["source"]["component"], "rescheduler");
  EXPECT_EQ(event["metadata"]["namespace"], "default");

  // Not bound yet: the taint stays.
  ASSERT_TRUE(cluster_->Refresh().ok());
  rescheduler_->RunOnce();
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_TRUE(rescheduler_->busy());

  // The scheduler binds kube-dns to n2: the next pass removes the taint.
  absl::StatusOr<json> dns = server_->Get("Pod", "kube-system", "kube-dns");
  ASSERT_TRUE(dns.ok());
  (*dns)["spec"]["nodeName"] = "n2";
  (*dns)["status"] = {{"phase", "Running"}};
  ASSERT_TRUE(server_->Update(*dns).ok());
  ASSERT_NO_FATAL_FAILURE(SyncPodAndRefresh("kube-system", "kube-dns"));
  // The view must have seen the taint to release it: the node's event can
  // come after the pod's on a loaded machine.
  ASSERT_NO_FATAL_FAILURE(SyncObjectAndRefresh("Node", "", "n2"));
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_TRUE(rescheduler_->RunOnce());
  EXPECT_THAT(TaintsOn("n2"), IsEmpty());
  EXPECT_FALSE(rescheduler_->busy());
  EXPECT_THAT(rescheduler_->EvictedFor("kube-system/kube-dns"), ElementsAre("default/batch"));
}

TEST_F(ApiHostTest, RefusedEvictionIsTriedAgainOnTheNextPass) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  // The budget changed after the plan: the server answers 429 once.
  server_->FailNext("POST", "/api/v1/namespaces/default/pods/batch/eviction", 429);
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_TRUE(Untouched("default", "batch"));
  ASSERT_TRUE(cluster_->Refresh().ok());
  rescheduler_->RunOnce();
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_THAT(EventLines(), Contains("Pod default/batch Normal DeletedByRescheduler"));
}

TEST_F(ApiHostTest, TaintIsPatchedAgainAfterAConflict) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  server_->FailNext("PATCH", "/api/v1/nodes/n2", 409, 2);
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_TRUE(Evicted("default", "batch"));
}

TEST_F(ApiHostTest, StaleTaintsGoAtStartOthersStay) {
  const json taints = {{{"key", "CriticalAddonsOnly"}, {"value", "old_pod"}, {"effect", "NoSchedule"}},
                       {{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}};
  ASSERT_TRUE(server_->Create(Node("n1", taints).dump()).ok());
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(TaintsOn("n1"), ElementsAre("dedicated=gpu:NoSchedule"));
}

TEST_F(ApiHostTest, PodsTheSchedulerHasNotGivenUpOnAreLeftAlone) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/-1, KubeDns(true, /*marked=*/false)));
  ASSERT_TRUE(Run(2).ok());
  EXPECT_THAT(TaintsOn("n1"), IsEmpty());
  EXPECT_THAT(TaintsOn("n2"), IsEmpty());
  EXPECT_TRUE(Untouched("default", "web"));
  EXPECT_TRUE(Untouched("default", "batch"));
  EXPECT_THAT(EventLines(), IsEmpty());
  EXPECT_THAT(sleeps_, ElementsAre(options_.initial_delay, options_.housekeeping_interval));
}

TEST_F(ApiHostTest, NoNodeIsAWarningOnThePod) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/-1, KubeDns(/*tolerates=*/false)));
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(EventLines(), ElementsAre("Pod kube-system/kube-dns Warning PodDoestFitAnyNode"));
  EXPECT_THAT(server_->Events()[0]["message"].get<std::string>(),
              HasSubstr("does not tolerate the taint CriticalAddonsOnly"));
  EXPECT_TRUE(Untouched("default", "web"));
  EXPECT_TRUE(Untouched("default", "batch"));
}

// A node deleted while its pods terminate: the server still lists them,
// bound to it. They count on no node and the pass goes on as usual.
TEST_F(ApiHostTest, PodsOfADeletedNodeCountNowhere) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(server_->Create(RunningPod("leftover", "deleted-node", "web").dump()).ok());
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_TRUE(Untouched("default", "leftover"));
}

TEST_F(ApiHostTest, RefreshErrorsNameTheRequest) {
  // The informers' first lists fail: the first Refresh says why. (A 403:
  // the client tries a 500 again, up to 10 times, before an informer sees it.)
  server_->FailNext("GET", "/api/v1/pods", 403);
  absl::Status s = cluster_->Refresh();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("GET /api/v1/pods"));
  // A failed first Refresh stops RunPasses before anything is done (a
  // fresh view: the first one's informers went on and have synced).
  rescheduler_.reset();
  cluster_ = NewCluster();
  rescheduler_ = std::make_unique<Rescheduler>(cluster_.get(), cluster_->planner(), options_);
  server_->FailNext("GET", "/api/v1/nodes", 403);
  EXPECT_EQ(Run(1).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(sleeps_, IsEmpty());
}

// An object the view cannot load is reported, naming it, and skipped: the
// rest of the cluster is loaded.
TEST_F(ApiHostTest, BadObjectsFromTheServerAreReportedAndSkipped) {
  json bad = Node("n1");
  bad["spec"]["taints"] = {{{"key", "k"}, {"effect", "Sometimes"}}};
  ASSERT_TRUE(server_->Create(bad.dump()).ok());
  ASSERT_TRUE(server_->Create(Node("n2").dump()).ok());
  ASSERT_TRUE(cluster_->Refresh().ok());
  EXPECT_THAT(NodeNames(), ElementsAre("n2"));
  const std::vector<std::string> errors = Errors();
  ASSERT_THAT(errors, ::testing::SizeIs(1));
  EXPECT_THAT(errors[0], HasSubstr("n1"));
  EXPECT_THAT(errors[0], HasSubstr("spec.taints[0].effect"));
}

// After the first lists, passes read what the watches brought: a node added
// and a pod deleted on the server are in the next pass's view, and no LIST
// is made again.
TEST_F(ApiHostTest, ChangesAfterStartAreSeenWithoutListing) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(cluster_->Refresh().ok());
  EXPECT_THAT(NodeNames(), ElementsAre("n1", "n2"));
  const int node_lists = server_->gets("/api/v1/nodes");
  const int pod_lists = server_->gets("/api/v1/pods");
  EXPECT_EQ(node_lists, 1);
  EXPECT_EQ(pod_lists, 1);

  ASSERT_TRUE(server_->Create(Node("n3").dump()).ok());
  ASSERT_NO_FATAL_FAILURE(SyncAndRefresh("Node"));
  EXPECT_THAT(NodeNames(), ElementsAre("n1", "n2", "n3"));
  // n3 is empty: kube-dns fits there, nothing to clear.
  ASSERT_TRUE(Run(1).ok());
  EXPECT_THAT(TaintsOn("n2"), IsEmpty());
  EXPECT_TRUE(Untouched("default", "batch"));

  // A pod deleted on the server (its kubelet finishes): the view has it no more.
  ASSERT_TRUE(server_->Create(RunningPod("gone", "n3", "gone").dump()).ok());
  ASSERT_NO_FATAL_FAILURE(SyncAndRefresh("Pod"));
  EXPECT_EQ(cluster_->PhaseOf("default/gone"), PodPhase::kBound);
  absl::StatusOr<kube::Response> del = client_->Delete("/api/v1/namespaces/default/pods/gone");
  ASSERT_TRUE(del.ok()) << del.status();
  server_->FinishDeletions();
  ASSERT_NO_FATAL_FAILURE(SyncAndRefresh("Pod"));
  EXPECT_EQ(cluster_->PhaseOf("default/gone"), PodPhase::kGone);

  EXPECT_EQ(server_->gets("/api/v1/nodes"), node_lists);
  EXPECT_EQ(server_->gets("/api/v1/pods"), pod_lists);
  EXPECT_EQ(server_->gets("/api/v1/namespaces"), 1);
  EXPECT_EQ(server_->gets("/apis/policy/v1/poddisruptionbudgets"), 1);
  EXPECT_EQ(server_->gets("/apis/scheduling.k8s.io/v1/priorityclasses"), 0);
}

// An evicted pod stays, terminating, until its kubelet finishes: it still
// counts on its node, and a later pass never evicts it again.
TEST_F(ApiHostTest, TerminatingVictimIsNotEvictedTwice) {
  options_.pod_scheduled_timeout = absl::ZeroDuration();  // plan again on the next pass
  rescheduler_ = std::make_unique<Rescheduler>(cluster_.get(), cluster_->planner(), options_);
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(Run(1).ok());
  EXPECT_TRUE(Evicted("default", "batch"));
  ASSERT_NO_FATAL_FAILURE(SyncPodAndRefresh("default", "batch"));
  rescheduler_->RunOnce();
  EXPECT_TRUE(Evicted("default", "batch"));
  int deleted = 0;
  for (const std::string& line : EventLines()) {
    if (line == "Pod default/batch Normal DeletedByRescheduler") ++deleted;
  }
  EXPECT_EQ(deleted, 1);
  EXPECT_THAT(EventLines(), Contains("Pod kube-system/kube-dns Warning PodDoestFitAnyNode"));
}

// Issue 17 (c): a rescheduler restarted while the critical pod is still
// pending keeps the taint of the node cleared for it (no write to the node
// at all, so the node is never open in between), and releases it once the
// timeout, counted from the taint's timeAdded, has passed.
TEST_F(ApiHostTest, RestartAdoptsTheTaintOfAPendingCriticalPod) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(Run(1).ok());
  ASSERT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  absl::StatusOr<json> n2 = server_->Get("Node", "", "n2");
  ASSERT_TRUE(n2.ok());
  // The fake clock's day (1700000000 is 2023-11-14T22:13:20Z).
  EXPECT_THAT((*n2)["spec"]["taints"][0].value("timeAdded", ""),
              ::testing::StartsWith("2023-11-14T"));
  const std::string version = NodeVersion("n2");

  Restart();
  ASSERT_TRUE(Run(2).ok());
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_EQ(NodeVersion("n2"), version);
  EXPECT_TRUE(rescheduler_->busy());
  EXPECT_TRUE(Untouched("default", "web"));
  EXPECT_THAT(EventLines(), ElementsAre("Pod default/batch Normal DeletedByRescheduler"));

  // Restarted again after the timeout: the taint is stale and goes.
  clock_.Advance(options_.pod_scheduled_timeout);
  Restart();
  ASSERT_TRUE(cluster_->Refresh().ok());
  ASSERT_TRUE(rescheduler_->Start().ok());
  EXPECT_THAT(TaintsOn("n2"), IsEmpty());
  EXPECT_FALSE(rescheduler_->busy());
}

// Issue 17 (d): one DeletedByRescheduler event per evicted pod, whatever
// happens around the eviction.
TEST_F(ApiHostTest, EventPostAnsweredWith5xxIsSentAgainOnce) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  server_->FailNext("POST", "/api/v1/namespaces/default/events", 500);
  ASSERT_TRUE(Run(1).ok());
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_THAT(EventLines(), ElementsAre("Pod default/batch Normal DeletedByRescheduler"));
}

TEST_F(ApiHostTest, EvictionIsAnnouncedOnceAcrossPassesRestartsAndALaggingView) {
  options_.pod_scheduled_timeout = absl::ZeroDuration();  // plan again on every pass
  rescheduler_ = std::make_unique<Rescheduler>(cluster_.get(), cluster_->planner(), options_);
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  ASSERT_TRUE(Run(1).ok());
  ASSERT_TRUE(Evicted("default", "batch"));
  // The next pass runs before the watch brings batch's deletionTimestamp
  // (no Refresh): the view still shows batch running on n2.
  rescheduler_->RunOnce();
  // Many passes while batch terminates, then a restart, then more.
  for (int i = 0; i < 3; ++i) {
    ASSERT_NO_FATAL_FAILURE(SyncPodAndRefresh("default", "batch"));
    rescheduler_->RunOnce();
  }
  Restart();
  ASSERT_TRUE(Run(3).ok());
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_TRUE(Untouched("default", "web"));
  EXPECT_EQ(Count("Pod default/batch Normal DeletedByRescheduler"), 1);

  // A restarted rescheduler that announces the same eviction again (it
  // cannot tell whether the first run's POST got through): the server
  // already has the event under its name.
  const json pod = *server_->Get("Pod", "default", "batch");
  Event again{"Pod default/batch", "Normal", kReasonDeleted, "Deleted by rescheduler ...",
              pod["metadata"]["uid"].get<std::string>()};
  cluster_->Record(again);
  EXPECT_EQ(Count("Pod default/batch Normal DeletedByRescheduler"), 1);
}

// Issue 17 (a): a 403 on an optional list (the role may not list it) is a
// warning, once, and the rescheduler goes on without it; on a required one
// it stops (RefreshErrorsNameTheRequest).
class RefusedListTest : public ApiHostTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RefusedListTest, OptionalListRefusedIsAWarning) {
  const std::string path = GetParam();
  server_->FailNext("GET", path, 403, /*times=*/1000);  // every try, for the whole test
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/-1));
  absl::Status s = Run(1);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(TaintsOn("n1").size() + TaintsOn("n2").size(), 1u);
  EXPECT_TRUE(Evicted("default", "web") || Evicted("default", "batch"));
  int warnings = 0;
  for (const std::string& e : Errors()) {
    if (absl::StrContains(e, "warning: ") && absl::StrContains(e, path)) ++warnings;
  }
  EXPECT_EQ(warnings, 1) << ::testing::PrintToString(Errors());
}

INSTANTIATE_TEST_SUITE_P(Optional, RefusedListTest,
                         ::testing::Values("/apis/policy/v1/poddisruptionbudgets",
                                           "/api/v1/namespaces"));

// kestrel scheduler --rescheduler: the view fed from informers the host
// owns and starts; it lists nothing itself, and the informers may outlive
// it.
TEST_F(ApiHostTest, AttachedInformersFeedTheView) {
  ASSERT_NO_FATAL_FAILURE(LoadFullCluster(/*web_budget=*/0));
  std::vector<std::unique_ptr<kube::Informer>> informers;
  for (const kube::Resource& r : {kube::NodesResource(), kube::PodsResource(),
                                  kube::NamespacesResource(),
                                  kube::PodDisruptionBudgetsResource()}) {
    informers.push_back(std::make_unique<kube::Informer>(
        std::make_unique<kube::HttpListerWatcher>(client_, r), kube::ReflectorOptions()));
  }
  Restart();
  EXPECT_EQ(cluster_->AttachInformers({}).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(cluster_
                  ->AttachInformers({informers[0].get(), informers[1].get(),
                                     informers[2].get(), informers[3].get()})
                  .ok());
  EXPECT_EQ(cluster_->AttachInformers({informers[0].get(), informers[1].get()}).code(),
            absl::StatusCode::kFailedPrecondition);
  for (auto& informer : informers) informer->Start();

  int waits = 0;
  absl::Status s = RunPassesUntilStopped(*cluster_, *rescheduler_, options_,
                                         [&waits](absl::Duration) { return ++waits < 3; });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(waits, 3);  // the initial delay, one pass, then stopped
  EXPECT_THAT(TaintsOn("n2"), ElementsAre(kDnsTaint));
  EXPECT_TRUE(Evicted("default", "batch"));
  EXPECT_TRUE(Untouched("default", "web"));  // its budget, from the attached informer
  EXPECT_EQ(server_->gets("/api/v1/nodes"), 1);
  EXPECT_EQ(server_->gets("/api/v1/pods"), 1);

  // The view goes first; the host's informers go on and see changes.
  rescheduler_.reset();
  cluster_.reset();
  ASSERT_TRUE(server_->Create(Node("n3").dump()).ok());
  for (int i = 0; i < 600 && informers[0]->store().Get("n3") == nullptr; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_NE(informers[0]->store().Get("n3"), nullptr);

  // Informers running already cannot take a view's handlers: the view
  // says so, and stays unusable.
  Restart();
  EXPECT_EQ(cluster_->AttachInformers({informers[0].get(), informers[1].get()}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(cluster_->Refresh().code(), absl::StatusCode::kFailedPrecondition);
  for (auto& informer : informers) informer->Stop();
}

}  // namespace
}  // namespace kestrel::rescheduler
